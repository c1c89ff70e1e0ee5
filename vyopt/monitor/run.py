"""One monitor update and the loop around it (`ape run monitor --once | --interval S`).

An update reads the chain (registry, oracle, events), re-prices a sample of series and accounts with the
reference model (checks.py), optionally measures the drift of the deployed surface against a new chain
(drift.py), then reports:
    stdout    every alert (the command prints them)
    JSONL     appended: one line per alert {"kind": "alert", run_id, market, block, time, severity, code, message,
              data} and one per update {"kind": "update", ..., worst, counts, exit_code}
    SQLite    the run, its alerts and its drift numbers (history.py)
    exit code the worst severity of the update (loop: of every update): 0 none or info, 1 warning, 2 critical (the
              Nagios/Icinga plugin convention, so any scheduler understands it); the command exits 3 when it
              cannot run.

API
    SEVERITY, EXIT_CODES, MonitorConfig, Monitor(d, config=None, history=None, accounts=None, jsonl=None)
    Monitor.update(chain=None, now=None) -> dict        one update (chain: OptionChain or path, for drift)
    Monitor.set_baseline(chain) / reset_drift() / deployed_smiles(now)
    json_line(result) -> str                           an update as one line of JSON (what --json prints)
    Monitor.loop(interval, count=None, chain=None, sleep=time.sleep, on_result=None) -> int   worst exit code
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from reference import market as ref
from vyopt.monitor import chain as ch
from vyopt.monitor import checks
from vyopt.monitor import drift as dr
from vyopt.monitor.history import History
from vyopt.report import _plain

SEVERITY = {"info": 0, "warning": 1, "critical": 2}
EXIT_CODES = {None: 0, "info": 0, "warning": 1, "critical": 2}
ERROR_EXIT = 3


@dataclass(frozen=True)
class MonitorConfig:
    sample_series: int = 8
    sample_accounts: int = 8
    seed: int = 0
    smile_age_warning: int = 86400        # seconds
    smile_age_critical: int = 3 * 86400
    feed_age_warning: float = 0.8         # fraction of the heartbeat
    deviation_warning: float = 0.5        # fraction of the max deviation
    price_rel_tol: float = 1e-9           # x spot per contract (checks.py argues it)
    vol_rel_tol: float = 1e-9
    lookback_blocks: int = 10_000         # first event scan (ape)
    drift: dr.DriftConfig = field(default_factory=dr.DriftConfig)

    def as_dict(self) -> dict:
        return asdict(self)


def json_line(result: dict) -> str:
    """An update as one line of JSON (numpy values made plain, keys sorted)."""
    return json.dumps(_plain(result), sort_keys=True)


def worst_severity(alerts) -> str | None:
    return max((a["severity"] for a in alerts), key=SEVERITY.get, default=None)


class Monitor:
    """Monitor of one deployment.  accounts: addresses to sample for the margin check (boa: required to check
    accounts; ape: default = every account of the market's logs)."""

    def __init__(self, d, config: MonitorConfig | None = None, history: History | None = None, accounts=None,
                 jsonl=None):
        self.d = d if isinstance(d, ch.Deployment) else ch.from_protocol(d)
        self.cfg = config or MonitorConfig()
        self.history = history if history is not None else History(":memory:")
        self.accounts = None if accounts is None else [ch.addr(a) for a in accounts]
        self.jsonl = Path(jsonl) if jsonl is not None else None
        self.key = self.d.pool

    def deployed_smiles(self, now: int) -> dict:
        """{expiry: reference.svi.SVI} of the live deployed smiles."""
        reg = self.d.registry
        return {e: ref.smile_from_wad(tuple(ch.as_tuple(reg.smile(e)))) for e in (int(x) for x in reg.expiries())
                if e > now}

    def set_baseline(self, chain, now: int | None = None) -> dict:
        """Fix the PSI baseline from one chain (e.g. the one the deployed surface was calibrated on)."""
        now = self.d.now() if now is None else int(now)
        smiles = self.deployed_smiles(now)
        base = dr.baseline_from(dr.load_quotes(chain), smiles, now, list(smiles), self.cfg.drift)
        state = self.history.get(self.key, "drift") or {}
        state["baseline"] = base
        self.history.put(self.key, "drift", state)
        return base

    def reset_drift(self) -> None:
        """Forget the PSI baseline and the Page-Hinkley state."""
        self.history.put(self.key, "drift", None)

    def _accounts(self, block: int | None):
        """The accounts to sample: the given list, or (ape) every account of the market's logs, scanned
        incrementally (the list and the last scanned block live in the history)."""
        if self.accounts is not None:
            return self.accounts
        if self.d.backend != "ape":
            return []
        known = self.history.get(self.key, "accounts") or {"block": self.d.start_block - 1, "accounts": []}
        if block > known["block"]:
            new = ch.account_events(self.d, known["block"] + 1, block)
            known = {"block": block, "accounts": list(dict.fromkeys(known["accounts"] + new))}
            self.history.put(self.key, "accounts", known)
        return known["accounts"]

    def _read(self, now, accounts):
        table = ch.series_table(self.d)
        m = ch.reference_state(self.d, now=now, table=table)
        return table, m, checks.differential(self.d, m, table, accounts, self.cfg)

    def update(self, chain=None, now: int | None = None) -> dict:
        d, cfg, h, key = self.d, self.cfg, self.history, self.key
        block = d.block()
        now = d.now() if now is None else int(now)
        alerts = []
        obs = {}
        last = h.get(key, "registry")
        a, obs["registry"] = checks.registry(d, now, cfg, last)
        alerts += a
        a, obs["oracle"] = checks.oracle(d, now, cfg, obs["registry"]["params"])
        alerts += a
        accounts = self._accounts(block)
        for attempt in range(2):  # a block arriving mid-check (ape) changes the state: read again once
            table, m, (a, obs["differential"]) = self._read(now, accounts)
            if d.backend == "boa" or d.block() == block:
                break
            block, now = d.block(), d.now()
        else:
            a = [x for x in a if not x["code"].startswith("diff.")]
            a.append(checks.alert("info", "diff.skipped", "the chain moved during the check twice; skipped"))
        alerts += a
        if d.backend == "ape":
            start = h.get(key, "last_block")
            start = max(d.start_block, block - cfg.lookback_blocks) if start is None else start + 1
            a, obs["events"] = checks.events(d, start, block)
            alerts += a
            # when each scalar parameter was last written (genesis or executed change), kept across updates
            written = h.get(key, "params_written") or {}
            for w in obs["events"]["params_written"]:
                written[w["param"]] = {"time": d.block_time(w["block"]), "block": w["block"], "value": w["value"]}
            h.put(key, "params_written", written)
            obs["registry"]["param_age"] = {n: now - w["time"] for n, w in sorted(written.items())}
        drift_obs = None
        if chain is not None:
            smiles = self.deployed_smiles(now)
            quotes = dr.load_quotes(chain)
            a, drift_obs, state = dr.drift_step(h.get(key, "drift"), quotes, smiles, now, cfg.drift,
                                                deployed=list(smiles))
            alerts += a
            h.put(key, "drift", state)
        worst = worst_severity(alerts)
        result = {
            "tool": "monitor",
            "chain": {"backend": d.backend, "market": key, "block": block, "time": now, "spot": m.spot},
            "alerts": alerts,
            "counts": {s: sum(1 for x in alerts if x["severity"] == s) for s in SEVERITY},
            "worst": worst,
            "exit_code": EXIT_CODES[worst],
            "observations": obs,
            "drift": drift_obs,
        }
        result["run_id"] = h.add_run(result)
        h.put(key, "registry", {"surface": obs["registry"]["surface"], "smile_hashes": obs["registry"]["smile_hashes"],
                                "smile_updated_at": obs["registry"]["smile_updated_at"]})
        h.put(key, "last_block", block)
        if self.jsonl is not None:
            self.jsonl.parent.mkdir(parents=True, exist_ok=True)
            with self.jsonl.open("a") as f:
                for x in alerts:
                    f.write(json.dumps(_plain({"kind": "alert", "run_id": result["run_id"], "market": key,
                                               "block": block, "time": now, **x}), sort_keys=True) + "\n")
                f.write(json.dumps(_plain({"kind": "update", "run_id": result["run_id"], "market": key, "block": block,
                                           "time": now, "worst": worst, "counts": result["counts"],
                                           "exit_code": result["exit_code"]}), sort_keys=True) + "\n")
        return result

    def loop(self, interval: float, count: int | None = None, chain=None, sleep=time.sleep, on_result=None,
             on_error=None) -> int:
        """Updates every `interval` seconds (forever when count is None); the worst exit code seen.  An update that
        fails (node unreachable, ...) is reported to on_error(exception) and to the JSONL file, counts as
        ERROR_EXIT, and the loop goes on."""
        worst = 0
        i = 0
        while count is None or i < count:
            if i:
                sleep(interval)
            try:
                r = self.update(chain=chain)
            except Exception as e:  # noqa: BLE001 - a monitor that stops on a hiccup is blind until restarted
                worst = max(worst, ERROR_EXIT)
                if self.jsonl is not None:
                    self.jsonl.parent.mkdir(parents=True, exist_ok=True)
                    with self.jsonl.open("a") as f:
                        f.write(json.dumps({"kind": "error", "market": self.key, "error": f"{type(e).__name__}: {e}"[:500]},
                                           sort_keys=True) + "\n")
                if on_error is None:
                    raise
                on_error(e)
            else:
                worst = max(worst, r["exit_code"])
                if on_result is not None:
                    on_result(r)
            i += 1
        return worst
