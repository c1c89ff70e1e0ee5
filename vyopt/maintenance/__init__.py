"""Parameter changes through the registry's time-locked queue, with an auditable maintenance log.

    ape run propose --calibration reports/calibration/<chain>/calibration.json   queue the smiles (propose.py)
    ape run execute                                                              apply matured changes (execute.py)
    ape run maintenance-log verify                                               events <-> records (verify.py)
    ape run maintenance-log show | record --tx HASH                              read the log / backfill a record

Modules
    log        MaintenanceLog: append-only SQLite (triggers) with a sha256 hash chain; Record
    events     ChainEvent: the registry's change events in the log's value form (ape or titanoboa decoded)
    propose    load_calibration, read_state, plan (checked with reference/risk_registry.py), queue
    execute    scan (matured / waiting / lapsed), execute
    verify     match (pure), read_events, verify, write_report
    chain      ape adapters: registry ABI and address, receipts -> events -> records, backfill
"""
from vyopt.maintenance.events import ChainEvent
from vyopt.maintenance.log import DEFAULT_PATH, MaintenanceLog, Record

__all__ = ["DEFAULT_PATH", "ChainEvent", "MaintenanceLog", "Record"]
