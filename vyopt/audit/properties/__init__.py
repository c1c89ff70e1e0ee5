"""Property modules of the auditor's suite, one per contract: pricer.py (BlackScholes), registry.py (RiskRegistry),
oracle.py (PriceOracle), market.py (MarginEngine and OptionsMarket; _protocol.py is its reader of the deployed
protocol and of the reference state).  Every module here
is imported by registry.properties(); a module registers its properties with registry.differential /
registry.stateful.  Modules whose name starts with "_" are helpers and are not imported automatically."""
