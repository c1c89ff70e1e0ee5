"""Model monitor of a live deployment (`ape run monitor`): reads the chain, checks the contracts against the
reference model in production, and measures the drift of the deployed volatility surface against new chains.

Each update (run.Monitor.update):
    registry    parameters, smile ages (smile_updated_at), expired-but-listed expiries, queued changes, surface
                changes since the last update (checks.registry)
    oracle      peek() status, feed age against the heartbeat, feed price against the last accepted (checks.oracle)
    differential  a seeded sample of live series (market.mark, market.quote buy/sell 1) and of accounts plus the
                pool (market.account_state) re-priced by reference/market.py on the state of the same block
                (checks.differential; tolerance argued there)
    events      market and registry logs since the last update (ape; checks.events)
    drift       with a chain: residuals of the deployed surface at the chain's quotes, PSI against a fixed
                baseline, Page-Hinkley on the RMSE series, and a refit (drift.py; reference/drift.py)
Alerts carry a severity (info / warning / critical, rules in checks.py and drift.py); they go to stdout, a JSONL
file and the exit code (0 / 1 / 2; 3 = could not run), and every update to the SQLite history (history.py).

API
    Monitor, MonitorConfig, EXIT_CODES (run.py); History (history.py); DriftConfig (drift.py)
    chain: Deployment, deployment(market), from_protocol(p), ape_deployment(address) (chain.py)
"""
from vyopt.monitor.drift import DriftConfig
from vyopt.monitor.history import History
from vyopt.monitor.run import ERROR_EXIT, EXIT_CODES, SEVERITY, Monitor, MonitorConfig, json_line

__all__ = ["DriftConfig", "ERROR_EXIT", "EXIT_CODES", "History", "Monitor", "MonitorConfig", "SEVERITY", "json_line"]
