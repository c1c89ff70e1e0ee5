"""Helpers of the maintenance tests: a calibration report in calibrate's format, a registry in titanoboa whose
listed expiries are the calibration's, and a boa 'transaction' wrapper that files each call's events
under a made-up tx hash (titanoboa has no transactions), so the log and the verifier see what they would
see on a node."""
from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field

import boa

from reference.svi import SVI
from vyopt import report, risk
from vyopt.maintenance.chain import record_for_event
from vyopt.maintenance.events import from_boa_logs

DAY = 86400
# A BTC-like term structure (total variance increasing with T at every k: calendar-free), SSVI slices.
SNAPSHOT_DAYS = (7, 14, 28, 56)
ATM_VOL = 0.6


def ssvi_slices(now: int, days=SNAPSHOT_DAYS, atm_vol=ATM_VOL) -> list[tuple[int, float, SVI]]:
    out = []
    for d in days:
        e = (now + d * DAY) // DAY * DAY + 8 * 3600
        t = (e - now) / (365 * DAY)
        out.append((e, t, risk.ssvi_smile(atm_vol * atm_vol * t, -0.3, 1.0)))
    return out


def scaled(p: SVI, c: float) -> SVI:
    """Total variance times c (a and b scaled): implied vols times sqrt(c) at every k."""
    return SVI(p.a * c, p.b * c, p.rho, p.m, p.sigma)


def write_calibration(folder, snapshot: int, slices, *, arbitrage_ok=True, underlying="BTC") -> "Path":
    """A calibration.json with the fields calibrate writes that propose reads (content hash included)."""
    from datetime import datetime, timezone
    from pathlib import Path

    iso = lambda t: datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"expiry": iso(e), "expiry_unix": int(e), "t_years": t, "rmse_vol_pts": 0.5, "share_inside_bid_ask": 0.95,
             "params": dict(zip(("a", "b", "rho", "m", "sigma"), p.as_tuple()))} for e, t, p in slices]
    body = {"tool": "calibrate", "input": {"file": "synthetic.csv", "underlying": underlying},
            "snapshot_time": iso(snapshot), "expiries": rows,
            "overall": {"meets_bar": True, "share_inside_bid_ask": 0.95, "rmse_vol_pts": 0.5},
            "arbitrage": {"ok": arbitrage_ok}, "params_file": "params.json", "params_hash": "sha256:none"}
    report.write_json(folder / "calibration.json", body)
    return folder / "calibration.json"


@dataclass
class BoaChain:
    """Calls on a boa registry filed as numbered 'transactions' with their change events and records."""

    registry: object
    network: str = "boa"
    chain_id: int = 31337
    events: list = field(default_factory=list)
    _n: itertools.count = field(default_factory=lambda: itertools.count(1))

    def send(self, fn, *args, sender):
        n = next(self._n)
        tx = "0x" + hashlib.sha256(f"tx{n}".encode()).hexdigest()
        ret = fn(*args, sender=sender)
        evs = from_boa_logs(self.registry.get_logs(), tx_hash=tx, block=n, block_time=boa.env.evm.patch.timestamp)
        self.events += evs
        return ret, evs

    def record(self, log, evs, *, who, why="test change", report_path=None):
        return [log.append(record_for_event(e, who=who, network=self.network, chain_id=self.chain_id,
                                            registry=self.registry.address, why=why, block_time=e.block_time,
                                            report_path=report_path)) for e in evs]
