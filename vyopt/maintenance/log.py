"""The maintenance log: an append-only, hash-chained SQLite record of every registry change we make.

One row per on-chain action (queue, execute, cancel) of the risk registry: who did it, when, on which
network and registry, which change (id, kind, key), the value before and after, why (text), the report
that justifies it (path and hash = the change's reason_hash) and where it landed (tx hash, block).

Append-only, two layers:
  * SQLite triggers abort every UPDATE or DELETE on the table, and an INSERT whose id is not the next id or
    whose prev_hash is not the hash of the last row.  This stops mistakes and careless tools; it does not
    stop someone who edits the file with the triggers dropped.
  * Tamper evidence: each row carries record_hash = sha256(canonical JSON of the row, prev_hash included),
    and prev_hash = the previous row's record_hash (the first row's is 64 zeros).  `verify_chain()`
    recomputes every hash: an edited, removed or reordered row breaks the chain.  Removing the *last*
    rows, or rewriting the whole chain, leaves a consistent chain: that is what the comparison with the
    on-chain events (vyopt.maintenance.verify) catches, because every change event must have its record;
    publishing `head()` (e.g. in a signed message) closes the rest.

API
    Record                                      one row (dataclass; values are JSON-able Python objects)
    MaintenanceLog(path)                        opens/creates the log (schema + triggers)
    MaintenanceLog(path, readonly=True)         opens an existing log without writing (verify, show)
      .append(record) -> Record                 stores it; fills id, prev_hash, record_hash
      .records(chain_id=None, registry=None) -> list[Record]   in id order
      .find(chain_id, registry, change_id, action) -> list[Record]
      .verify_chain() -> list[dict]             problems found (empty: intact)
      .head() -> (count, last record_hash)
    record_hash(row: dict) -> str               the hash of a stored row (column texts)
    DEFAULT_PATH                                reports/maintenance/log.sqlite
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

DEFAULT_PATH = Path("reports") / "maintenance" / "log.sqlite"
GENESIS_PREV = "0" * 64
SCHEMA_VERSION = 1
ACTIONS = ("queue", "execute", "cancel")
KINDS = ("param", "smile", "scenarios", "role")

# Stored columns in hash order (id first).  JSON columns hold canonical JSON text.
COLUMNS = (
    "id", "time_utc", "who_address", "who_name", "action", "network", "chain_id", "registry", "change_id",
    "kind", "key", "from_value", "to_value", "why", "report_path", "report_sha256", "tx_hash", "block",
    "block_time", "details", "prev_hash",
)
JSON_COLUMNS = ("from_value", "to_value", "details")

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY,
    time_utc TEXT NOT NULL,                 -- when the record was written (wall clock, UTC, ISO 8601)
    who_address TEXT NOT NULL,              -- the account that sent the transaction
    who_name TEXT,                          -- optional person / desk behind it
    action TEXT NOT NULL CHECK (action IN ('queue', 'execute', 'cancel')),
    network TEXT NOT NULL,                  -- ape network choice, e.g. ethereum:local:foundry
    chain_id INTEGER NOT NULL,
    registry TEXT NOT NULL,                 -- RiskRegistry address (lower case)
    change_id INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('param', 'smile', 'scenarios', 'role')),
    key TEXT NOT NULL,                      -- param name, expiry (unix seconds), 'grid' or role name
    from_value TEXT NOT NULL,               -- JSON, contract units (WAD integers)
    to_value TEXT NOT NULL,                 -- JSON, contract units
    why TEXT NOT NULL,
    report_path TEXT,                       -- the report behind the change, as given by the user
    report_sha256 TEXT NOT NULL,            -- 0x + 64 hex: the change's reason_hash
    tx_hash TEXT NOT NULL,                  -- 0x + 64 hex (lower case)
    block INTEGER NOT NULL,
    block_time INTEGER NOT NULL,            -- the block's timestamp (chain time, unix seconds)
    details TEXT NOT NULL,                  -- JSON: eta, fast, deadline, gas used, ...
    prev_hash TEXT NOT NULL,
    record_hash TEXT NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS records_change ON records (chain_id, registry, change_id, action);
CREATE TRIGGER IF NOT EXISTS records_no_update BEFORE UPDATE ON records
BEGIN SELECT RAISE(ABORT, 'maintenance log is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS records_no_delete BEFORE DELETE ON records
BEGIN SELECT RAISE(ABORT, 'maintenance log is append-only: DELETE refused'); END;
CREATE TRIGGER IF NOT EXISTS records_next_id BEFORE INSERT ON records
WHEN NEW.id IS NOT (SELECT COALESCE(MAX(id), 0) + 1 FROM records)
BEGIN SELECT RAISE(ABORT, 'maintenance log: a record must take the next id'); END;
CREATE TRIGGER IF NOT EXISTS records_chain BEFORE INSERT ON records
WHEN NEW.prev_hash IS NOT COALESCE((SELECT record_hash FROM records ORDER BY id DESC LIMIT 1), '{GENESIS_PREV}')
BEGIN SELECT RAISE(ABORT, 'maintenance log: prev_hash must be the hash of the last record'); END;
CREATE TRIGGER IF NOT EXISTS meta_no_update BEFORE UPDATE ON meta
BEGIN SELECT RAISE(ABORT, 'maintenance log is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS meta_no_delete BEFORE DELETE ON meta
BEGIN SELECT RAISE(ABORT, 'maintenance log is append-only: DELETE refused'); END;
"""


def canonical(obj) -> str:
    """Compact, key-sorted JSON (integers stay exact)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Record:
    """One maintenance record.  from_value / to_value / details are JSON-able objects (contract units)."""

    action: str
    network: str
    chain_id: int
    registry: str
    change_id: int
    kind: str
    key: str
    from_value: object
    to_value: object
    why: str
    report_sha256: str
    tx_hash: str
    block: int
    block_time: int
    who_address: str
    who_name: str | None = None
    report_path: str | None = None
    details: dict = field(default_factory=dict)
    time_utc: str | None = None     # filled on append when None
    id: int | None = None           # filled on append
    prev_hash: str | None = None    # filled on append
    record_hash: str | None = None  # filled on append

    def row(self) -> dict:
        """The stored column values (JSON columns as canonical text), record_hash excluded."""
        d = asdict(self)
        out = {}
        for c in COLUMNS:
            v = d[c]
            out[c] = canonical(v) if c in JSON_COLUMNS else v
        return out

    @classmethod
    def from_row(cls, row: dict) -> "Record":
        d = dict(row)
        for c in JSON_COLUMNS:
            d[c] = json.loads(d[c])
        return cls(**d)


def record_hash(row: dict) -> str:
    """sha256 hex of the canonical JSON of a stored row's columns (prev_hash included, record_hash not)."""
    body = {c: row[c] for c in COLUMNS}
    return hashlib.sha256(canonical(body).encode()).hexdigest()


def _normalize(rec: Record) -> None:
    if rec.action not in ACTIONS:
        raise ValueError(f"maintenance log: unknown action {rec.action!r}")
    if rec.kind not in KINDS:
        raise ValueError(f"maintenance log: unknown kind {rec.kind!r}")
    for name in ("report_sha256", "tx_hash"):
        v = str(getattr(rec, name)).lower()
        if not (v.startswith("0x") and len(v) == 66 and all(ch in "0123456789abcdef" for ch in v[2:])):
            raise ValueError(f"maintenance log: {name} must be 0x + 64 hex digits, got {v!r}")
        setattr(rec, name, v)
    rec.registry = str(rec.registry).lower()
    rec.who_address = str(rec.who_address)
    rec.chain_id, rec.change_id, rec.block, rec.block_time = (
        int(rec.chain_id), int(rec.change_id), int(rec.block), int(rec.block_time))
    rec.key = str(rec.key)
    if not rec.why or not rec.why.strip():
        raise ValueError("maintenance log: every record needs a reason (why)")


class MaintenanceLog:
    """An append-only maintenance log in an SQLite file (created with its parent folder when missing)."""

    def __init__(self, path=DEFAULT_PATH, *, readonly: bool = False):
        """readonly: open an existing log without writing anything (verify, show): the file under
        examination is not touched, not even to re-create a dropped trigger."""
        self.path = Path(path)
        self.readonly = readonly
        if readonly:
            if not self.path.exists():
                raise FileNotFoundError(f"no maintenance log at {self.path}")
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(_SCHEMA)
            con.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def _connect(self) -> sqlite3.Connection:
        if self.readonly:
            con = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        else:
            con = sqlite3.connect(self.path, timeout=30)
        con.row_factory = sqlite3.Row
        return con

    def append(self, rec: Record) -> Record:
        """Append a record (in one IMMEDIATE transaction, so concurrent writers serialize); return it with
        id, time_utc, prev_hash and record_hash filled in."""
        _normalize(rec)
        if rec.time_utc is None:
            rec.time_utc = utc_now()
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            last = con.execute("SELECT id, record_hash FROM records ORDER BY id DESC LIMIT 1").fetchone()
            rec.id = (last["id"] if last else 0) + 1
            rec.prev_hash = last["record_hash"] if last else GENESIS_PREV
            row = rec.row()
            rec.record_hash = record_hash(row)
            cols = (*COLUMNS, "record_hash")
            con.execute(f"INSERT INTO records ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                        [*(row[c] for c in COLUMNS), rec.record_hash])
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()
        return rec

    def _rows(self, where: str = "", args=()) -> list[dict]:
        with self._connect() as con:
            return [dict(r) for r in con.execute(f"SELECT * FROM records {where} ORDER BY id", args)]

    def records(self, chain_id: int | None = None, registry: str | None = None) -> list[Record]:
        conds, args = [], []
        if chain_id is not None:
            conds.append("chain_id = ?")
            args.append(int(chain_id))
        if registry is not None:
            conds.append("registry = ?")
            args.append(str(registry).lower())
        where = ("WHERE " + " AND ".join(conds)) if conds else ""
        return [Record.from_row(r) for r in self._rows(where, args)]

    def find(self, chain_id: int, registry: str, change_id: int, action: str) -> list[Record]:
        return [Record.from_row(r) for r in self._rows(
            "WHERE chain_id = ? AND registry = ? AND change_id = ? AND action = ?",
            (int(chain_id), str(registry).lower(), int(change_id), action))]

    def head(self) -> tuple[int, str]:
        rows = self._rows()
        return (len(rows), rows[-1]["record_hash"] if rows else GENESIS_PREV)

    def verify_chain(self) -> list[dict]:
        """Recompute the hash chain; one problem dict per broken link (empty list: intact)."""
        problems = []
        prev_hash, prev_id = GENESIS_PREV, 0
        for row in self._rows():
            rid = row["id"]
            if rid != prev_id + 1:
                problems.append({"problem": "missing records", "id": rid,
                                 "detail": f"ids jump from {prev_id} to {rid}"})
            if row["prev_hash"] != prev_hash:
                problems.append({"problem": "broken link", "id": rid,
                                 "detail": f"prev_hash {row['prev_hash'][:16]}… is not the hash of record "
                                           f"{prev_id} ({prev_hash[:16]}…)"})
            h = record_hash(row)
            if h != row["record_hash"]:
                problems.append({"problem": "record altered", "id": rid,
                                 "detail": f"stored hash {row['record_hash'][:16]}… != recomputed {h[:16]}…"})
            prev_hash, prev_id = row["record_hash"], rid
        return problems
