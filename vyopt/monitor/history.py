"""The monitor's history: one SQLite file (default reports/monitor/history.sqlite), append-only for runs, alerts
and drift observations; a small key/value table per market for the detector state (drift baseline, Page-Hinkley
state, last scanned block, last seen surface) so that `--once` runs from cron continue where the last one stopped.

Tables
    runs    (id, market, backend, block, chain_time, wall_time, exit_code, worst, summary JSON)
    alerts  (run_id, severity, code, message, data JSON)
    drift   (run_id, market, n, rmse_vol_pts, share_inside, psi, bins, ph, ph_alarm, refit_rmse_vol_pts)
    state   (market, key, value JSON)  primary key (market, key)

API
    History(path)    .add_run(result) -> run_id   .get(market, key, default)  .put(market, key, value)
                     .runs(market) -> list[dict]  .alerts(run_id=None) -> list[dict]  .drift(market) -> list[dict]
                     .close()
"""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from vyopt.report import _plain

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, market TEXT NOT NULL, backend TEXT, block INTEGER, chain_time INTEGER,
    wall_time TEXT, exit_code INTEGER, worst TEXT, summary TEXT);
CREATE TABLE IF NOT EXISTS alerts (
    run_id INTEGER NOT NULL REFERENCES runs(id), severity TEXT NOT NULL, code TEXT NOT NULL, message TEXT, data TEXT);
CREATE TABLE IF NOT EXISTS drift (
    run_id INTEGER NOT NULL REFERENCES runs(id), market TEXT NOT NULL, n INTEGER, rmse_vol_pts REAL,
    share_inside REAL, psi REAL, bins INTEGER, ph REAL, ph_alarm INTEGER, refit_rmse_vol_pts REAL);
CREATE TABLE IF NOT EXISTS state (market TEXT NOT NULL, key TEXT NOT NULL, value TEXT, PRIMARY KEY (market, key));
"""


def _dumps(x) -> str:
    return json.dumps(_plain(x), sort_keys=True)


class History:
    def __init__(self, path=":memory:"):
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = str(path)
        self.db = sqlite3.connect(self.path)
        self.db.executescript(SCHEMA)
        self.db.commit()

    def close(self):
        self.db.close()

    def get(self, market: str, key: str, default=None):
        row = self.db.execute("SELECT value FROM state WHERE market = ? AND key = ?", (market, key)).fetchone()
        return default if row is None else json.loads(row[0])

    def put(self, market: str, key: str, value) -> None:
        self.db.execute("INSERT OR REPLACE INTO state (market, key, value) VALUES (?, ?, ?)", (market, key, _dumps(value)))
        self.db.commit()

    def add_run(self, result: dict) -> int:
        c = result["chain"]
        cur = self.db.execute(
            "INSERT INTO runs (market, backend, block, chain_time, wall_time, exit_code, worst, summary) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (c["market"], c["backend"], c["block"], c["time"], datetime.now(timezone.utc).isoformat(timespec="seconds"),
             result["exit_code"], result["worst"], _dumps({k: v for k, v in result.items() if k != "alerts"})))
        run_id = cur.lastrowid
        self.db.executemany("INSERT INTO alerts (run_id, severity, code, message, data) VALUES (?, ?, ?, ?, ?)",
                            [(run_id, a["severity"], a["code"], a["message"], _dumps(a.get("data", {})))
                             for a in result["alerts"]])
        dr = result.get("drift")
        if dr and dr.get("n"):
            self.db.execute(
                "INSERT INTO drift (run_id, market, n, rmse_vol_pts, share_inside, psi, bins, ph, ph_alarm, "
                "refit_rmse_vol_pts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, c["market"], dr["n"], dr["rmse_vol_pts"], dr["share_inside"], dr.get("psi"), dr.get("bins"),
                 dr.get("ph"), int(bool(dr.get("ph_alarm"))), (dr.get("refit") or {}).get("rmse_vol_pts")))
        self.db.commit()
        return run_id

    def runs(self, market: str | None = None) -> list[dict]:
        q = "SELECT id, market, backend, block, chain_time, exit_code, worst FROM runs"
        rows = self.db.execute(q + (" WHERE market = ?" if market else "") + " ORDER BY id",
                               (market,) if market else ()).fetchall()
        keys = ("id", "market", "backend", "block", "chain_time", "exit_code", "worst")
        return [dict(zip(keys, r)) for r in rows]

    def alerts(self, run_id: int | None = None) -> list[dict]:
        q = "SELECT run_id, severity, code, message, data FROM alerts"
        rows = self.db.execute(q + (" WHERE run_id = ?" if run_id is not None else "") + " ORDER BY rowid",
                               (run_id,) if run_id is not None else ()).fetchall()
        return [{"run_id": r[0], "severity": r[1], "code": r[2], "message": r[3], "data": json.loads(r[4])} for r in rows]

    def drift(self, market: str) -> list[dict]:
        rows = self.db.execute("SELECT run_id, n, rmse_vol_pts, share_inside, psi, bins, ph, ph_alarm FROM drift "
                               "WHERE market = ? ORDER BY run_id", (market,)).fetchall()
        keys = ("run_id", "n", "rmse_vol_pts", "share_inside", "psi", "bins", "ph", "ph_alarm")
        return [dict(zip(keys, r)) for r in rows]
