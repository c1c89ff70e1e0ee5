"""vyopt.audit: the auditor's suite (differential and invariant fuzzing of the deployed contracts against the
reference model, on titanoboa, a real node and a fork of it, with an archivable report).

Modules
    registry     Property (differential / stateful), the decorators, properties(), Context
    properties/  one module per contract: pricer.py (BlackScholes), registry.py (RiskRegistry), oracle.py
                 (PriceOracle), market.py (MarginEngine, OptionsMarket)
    backends     boa / node / fork back-ends behind one contract-call interface (Reverted(reason))
    artifacts    local compiles, Vyper's CBOR metadata, code_matches (deployed code == audited code)
    manifest     deployment manifests and verify_deployment (refuses a mismatch)
    suite        Setup, open_target, AuditSession (runs a property on a back-end, records it)
    runner       run_property: hypothesis engine, shrunk example capture, timings, metrics, gas
    reproducer   write_reproducer / replay (a failure as a ready-to-run pytest file)
    mutants      deliberately broken builds for the self-tests
    database     the example database: a directory, or Redis (hypothesis.extra.redis)
    profiles     ci / deep campaigns (processes, shards, rounds)
    report       report.md, report.json, PNGs, throughput
    command      run_audit(): what `ape run audit` does
    anvil        anvil processes on loopback (plain or --fork-url)
"""
