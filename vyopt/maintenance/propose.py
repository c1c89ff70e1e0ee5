"""`propose`: turn a calibration report into queued registry changes, each with its maintenance record.

Input: the calibrate tool's calibration.json (preferred: it names the input chain, the fit quality and the
arbitrage checks, and binds params.json by its hash) or params.json.  The file must carry a valid
content_hash (sha256 of its canonical JSON, written by vyopt.report.write_json): that hash is the change's
reason_hash, so the on-chain change points at exactly this report.  A file edited after calibrate wrote it
is refused.

What is proposed.  One queue_smile per calibrated expiry that the registry lists and whose parameters
differ from the chain's.  Each proposal is checked first against the registry's rules with the
independent model (reference/risk_registry.py), at the time the registry will check it:
    * fast path (eta = now + surface_delay) when the implied vol moves by at most max(5%, 1 vol point) at
      every grid k (calibrated vol against calibrated vol, as the contract measures it), else the slow path
      (eta = now + delay) with at most max(25%, 5 vol points);
    * hard bounds, static no-arbitrage, butterfly and calendar against the smiles listed *now*.
A slice is
    queue    all rules hold (or one sits within float tolerance of its bound: the registry decides, and the
             eth_call before sending reports its answer);
    skip     unchanged, already queued with the same payload, not listed (see --list-new), or expired;
    defer    it breaks the calendar only against a neighbour's *current* smile and would hold against the
             neighbour's calibrated one: queue it after that neighbour's change executes (rerun propose);
    refuse   anything else, with the rule and the numbers; a move beyond the slow step can instead be split
             (--split): the largest blend old + lambda (new - old) of the parameters that passes every rule is
             queued, and the rest follows by rerunning propose after it executes (each step waits its delay:
             the registry's one-live-change-per-target rule makes splitting no faster than the step bound).

Time.  A calibration belongs to its snapshot: the registry compares its vols at T = expiry - eta.  A
calibration older than max_age_days (default 2) is refused.  To rehearse with a historical chain (the
shared 2022 Deribit file) on a local node whose clock is today, `rebase_days` shifts every calibrated
expiry by a whole number of days (expiries stay at their time of day, e.g. 08:00 UTC) so each slice keeps
its time to expiry within half a day; the shift is written into every record.  A risk manager never
rebases real data: live calibrations are taken on the registry's listed expiries.

API
    load_calibration(path) -> Calibration
    read_state(registry, now) -> RegistryState            works on an ape or a titanoboa contract
    auto_rebase_days(snapshot, now) -> int
    plan(cal, state, *, rebase_days=0, list_new=False, split=False, max_age_days=2) -> Plan
    queue(registry, account, plan, cal, log, *, ...) -> list[dict]     ape: eth_call, send, record
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from reference import risk_registry as rr
from reference.svi import SVI
from vyopt import report
from vyopt.maintenance.events import key_label, smile_tuple, smile_value

DAY = 86400
KIND_SMILE = 2
STATUS_QUEUED = 1


class ProposalError(ValueError):
    """A calibration that must not be proposed (one-line reason for the user)."""


# ---------------------------------------------------------------------------------------- calibration


@dataclass
class Slice:
    expiry: int           # unix seconds, as calibrated
    t_years: float        # expiry - snapshot, years of 365 days
    svi: SVI
    rmse_vol_pts: float | None = None
    share_inside: float | None = None


@dataclass
class Calibration:
    path: Path
    kind: str             # "calibration" (calibration.json) | "params" (params.json)
    reason_hash: str      # 0x + hex of the file's content_hash
    file_sha256: str      # sha256 of the file's bytes (for `sha256sum` checks)
    snapshot: int         # unix seconds
    underlying: str
    slices: list[Slice]
    input_file: str | None = None
    arbitrage_ok: bool | None = None
    meets_bar: bool | None = None
    share_inside: float | None = None
    rmse_vol_pts: float | None = None


def _parse_time(s: str) -> int:
    return int(datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())


def _svi(p: dict) -> SVI:
    return SVI(float(p["a"]), float(p["b"]), float(p["rho"]), float(p["m"]), float(p["sigma"]))


def load_calibration(path) -> Calibration:
    """Read calibration.json or params.json written by calibrate; check its content hash (and, for
    calibration.json, that params.json beside it is the one it names)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ProposalError(f"cannot read the calibration {path}: {e}") from e
    stated = data.get("content_hash")
    if not isinstance(stated, str) or not stated.startswith("sha256:"):
        raise ProposalError(f"{path} has no content_hash: not a report written by `ape run calibrate`")
    body = {k: v for k, v in data.items() if k != "content_hash"}
    if report.content_hash(body) != stated:
        raise ProposalError(f"{path} was modified after calibrate wrote it (content hash mismatch): recalibrate")
    reason = "0x" + stated.split(":", 1)[1]
    file_hash = report.file_sha256(path)
    if data.get("tool") == "calibrate":
        slices = [Slice(int(r["expiry_unix"]), float(r["t_years"]), _svi(r["params"]), r.get("rmse_vol_pts"),
                        r.get("share_inside_bid_ask")) for r in data["expiries"]]
        p_file = path.parent / data.get("params_file", "params.json")
        if p_file.exists():
            pdata = json.loads(p_file.read_text())
            if pdata.get("content_hash") != data.get("params_hash"):
                raise ProposalError(f"{p_file} is not the parameter file of {path.name} (params_hash differs)")
        ov = data.get("overall", {})
        return Calibration(path=path, kind="calibration", reason_hash=reason, file_sha256=file_hash,
                           snapshot=_parse_time(data["snapshot_time"]), underlying=data["input"]["underlying"],
                           slices=slices, input_file=data["input"].get("file"),
                           arbitrage_ok=bool(data.get("arbitrage", {}).get("ok")), meets_bar=ov.get("meets_bar"),
                           share_inside=ov.get("share_inside_bid_ask"), rmse_vol_pts=ov.get("rmse_vol_pts"))
    if "slices" in data:
        slices = [Slice(int(s["expiry_unix"]), float(s["t_years"]), _svi(s)) for s in data["slices"]]
        return Calibration(path=path, kind="params", reason_hash=reason, file_sha256=file_hash,
                           snapshot=_parse_time(data["snapshot_time"]), underlying=data.get("underlying", "?"),
                           slices=slices)
    raise ProposalError(f"{path} is neither calibration.json nor params.json of `ape run calibrate`")


# ---------------------------------------------------------------------------------------- registry state


@dataclass
class RegistryState:
    now: int                          # chain time the queue transactions will see (unix seconds)
    delay: int
    surface_delay: int
    grace: int
    smiles: dict                      # expiry -> WAD tuple (listed, not yet expired)
    written_at: dict                  # expiry -> unix seconds
    pending: dict = field(default_factory=dict)   # expiry -> (change id, queued WAD tuple)


def read_state(registry, now: int) -> RegistryState:
    """Listed smiles, their age and the pending smile changes (ape or titanoboa contract: same calls)."""
    smiles, written, pending = {}, {}, {}
    for e in registry.expiries():
        e = int(e)
        if e <= now:
            continue
        smiles[e] = smile_tuple(smile_value(registry.smile(e)))
        written[e] = int(registry.smile_updated_at(e))
        cid = int(registry.pending_change(KIND_SMILE, e))
        if cid:
            pending[e] = (cid, smile_tuple(smile_value(registry.queued_smile(cid))))
    return RegistryState(now=int(now), delay=int(registry.delay()), surface_delay=int(registry.surface_delay()),
                         grace=int(registry.grace_period()), smiles=smiles, written_at=written, pending=pending)


def pending_for(registry, expiries, now: int) -> dict:
    """Pending smile changes for expiries that are not listed (new expiries queued earlier)."""
    out = {}
    for e in expiries:
        cid = int(registry.pending_change(KIND_SMILE, int(e)))
        if cid:
            out[int(e)] = (cid, smile_tuple(smile_value(registry.queued_smile(cid))))
    return out


def auto_rebase_days(snapshot: int, now: int) -> int:
    """Whole days that bring the snapshot nearest to `now` (times to expiry kept within half a day)."""
    return int(round((now - snapshot) / DAY))


# ---------------------------------------------------------------------------------------- planning


@dataclass
class Proposal:
    expiry: int                   # registry expiry (calibrated expiry + shift)
    calibrated_expiry: int
    status: str                   # queue | skip | defer | refuse
    reason: str
    path: str = "-"               # fast | slow | new | -
    eta: int | None = None
    old: tuple | None = None
    new: tuple | None = None
    max_move_pts: float | None = None     # largest |vol_new - vol_old| on the grid, vol points
    max_move_rel: float | None = None     # largest relative move on the grid
    step_fraction: float = 1.0            # < 1: a partial step of a split change
    change_id: int | None = None          # filled when queued
    tx_hash: str | None = None
    gas_used: int | None = None
    slice: Slice | None = None

    @property
    def label(self) -> str:
        return key_label("smile", str(self.expiry))


@dataclass
class Plan:
    now: int
    rebase_days: int
    proposals: list
    unlisted_not_calibrated: list        # listed expiries the calibration does not cover

    def by_status(self, status: str) -> list:
        return [p for p in self.proposals if p.status == status]


def vol_moves(old: tuple, tau_old: int, new: tuple, tau_new: int) -> tuple[float, float]:
    """(largest |vol move| in vol points, largest relative move) on the registry's k grid."""
    po, pn = rr.smile_floats(old), rr.smile_floats(new)
    pts, rel = 0.0, 0.0
    for k in rr.K_GRID:
        vo, vn = rr.implied_vol(po, k, tau_old), rr.implied_vol(pn, k, tau_new)
        pts = max(pts, abs(vn - vo) * 100)
        rel = max(rel, abs(vn - vo) / vo if vo > 0 else math.inf)
    return pts, rel


def _evaluate(expiry: int, new: tuple, state: RegistryState, listed: dict) -> tuple[str | None, str, int]:
    """The registry's verdict on queue_smile(expiry, new) now: (classify result, path, eta)."""
    now = state.now
    pre = rr.classify(rr.smile_param_checks(new))
    if pre not in ("ok", None):
        return pre, "-", now
    if expiry not in listed:
        eta = now + state.delay
        v = rr.classify(rr.smile_write_checks(expiry, new, eta, listed))
        if v == "ok" and sum(1 for e in listed if e > eta) >= rr.MAX_EXPIRIES:
            v = "risk: too many expiries"
        return v, "new", eta
    old, tau_old = listed[expiry], expiry - state.written_at[expiry]
    fast_eta = now + state.surface_delay
    fast = expiry > fast_eta and rr.classify(
        [rr.vol_step_check(old, tau_old, new, expiry - fast_eta, rr.FAST_STEP)]) == "ok"
    eta = fast_eta if fast else now + state.delay
    checks = rr.smile_write_checks(expiry, new, eta, listed)
    if not fast and expiry > eta:
        checks.append(rr.vol_step_check(old, tau_old, new, expiry - eta, rr.SLOW_STEP))
    v = rr.classify(checks)
    return v, ("fast" if fast else "slow"), eta


def _blend(old: tuple, new: tuple, lam: float) -> tuple:
    return tuple(int(o + round(lam * (n - o))) for o, n in zip(old, new))


def _largest_step(expiry: int, old: tuple, new: tuple, state: RegistryState,
                  listed: dict) -> tuple[float, tuple] | None:
    """Largest lambda in (0, 1) (bisection, 1/1024 resolution) whose blend passes every rule."""
    lo, best = 0.0, None
    hi = 1.0
    for _ in range(10):
        mid = (lo + hi) / 2
        cand = _blend(old, new, mid)
        if _evaluate(expiry, cand, state, listed)[0] == "ok":
            lo, best = mid, cand
        else:
            hi = mid
    return (lo, best) if best is not None else None


def plan(cal: Calibration, state: RegistryState, *, rebase_days: int = 0, list_new: bool = False,
         split: bool = False, max_age_days: float = 2.0) -> Plan:
    """Decide, slice by slice, what to queue (see the module docstring).  Pure: reads only `state`."""
    from vyopt.risk import encode_smile

    shift = int(rebase_days) * DAY
    age = (state.now - (cal.snapshot + shift)) / DAY
    if age > max_age_days:
        raise ProposalError(
            f"the calibration is {age:.1f} days old at chain time (snapshot "
            f"{datetime.fromtimestamp(cal.snapshot, tz=timezone.utc):%Y-%m-%d %H:%M} UTC"
            f"{f', rebased by {rebase_days} days' if rebase_days else ''}; limit {max_age_days:g} days): recalibrate "
            f"on a fresh chain (or, to rehearse with historical data on a local node, pass --rebase-days auto)")
    if age < -1.0:
        raise ProposalError(f"the calibration's snapshot is {-age:.1f} days in the future of the chain's clock")
    if cal.arbitrage_ok is False:
        raise ProposalError("the calibration report flags arbitrage (see its calibration.md): fix the fit before "
                            "proposing it")
    listed = dict(state.smiles)
    # the surface as it would be with every calibrated slice in place (to tell a calendar breach against a
    # neighbour's old smile, which resolves once that neighbour is updated, from one in the calibration)
    target = dict(listed)
    for s in cal.slices:
        e = s.expiry + shift
        if e in listed or list_new:
            target[e] = encode_smile(s.svi)
    target_state = RegistryState(state.now, state.delay, state.surface_delay, state.grace, target,
                                 {**state.written_at, **{e: state.now for e in target if e not in state.written_at}})
    props = []
    for s in sorted(cal.slices, key=lambda s: s.expiry):
        e = s.expiry + shift
        new = tuple(encode_smile(s.svi))
        p = Proposal(expiry=e, calibrated_expiry=s.expiry, status="queue", reason="", new=new, slice=s)
        props.append(p)
        if e <= state.now + rr.MIN_TIME_TO_EXPIRY:
            p.status, p.reason = "skip", "expired or within an hour of expiry"
            continue
        if e in state.pending:
            cid, payload = state.pending[e]
            if payload == new:
                p.status, p.reason, p.change_id = "skip", f"already queued as change #{cid}", cid
            else:
                p.status, p.reason = "refuse", (f"change #{cid} is pending for this expiry with other parameters: "
                                                f"wait for it or cancel it first")
            continue
        if e not in listed and not list_new:
            p.status, p.reason = "skip", "expiry not listed in the registry (--list-new lists it, normal delay)"
            continue
        p.old = listed.get(e)
        if p.old == new:
            p.status, p.reason = "skip", "unchanged"
            continue
        verdict, p.path, p.eta = _evaluate(e, new, state, listed)
        if p.old is not None and e > p.eta:  # the move the registry measures on the path it will take
            p.max_move_pts, p.max_move_rel = vol_moves(p.old, e - state.written_at[e], new, e - p.eta)
        if verdict == "ok":
            p.reason = "all rules hold"
        elif verdict is None:
            p.reason = "a rule holds only within float tolerance: the registry decides (eth_call before sending)"
        elif verdict == "risk: calendar arbitrage" and _evaluate(e, new, target_state, {**target})[0] == "ok":
            p.status = "defer"
            p.reason = ("calendar breach against a neighbour's current smile only: rerun propose after the "
                        "neighbour's change executes")
        elif verdict == "risk: vol step too large" and p.old is not None:
            slow_pts, slow_rel = vol_moves(p.old, e - state.written_at[e], new, e - (state.now + state.delay))
            limit = f"max({rr.SLOW_STEP[0]:.0%}, {rr.SLOW_STEP[1] * 100:g} vol pts) per change on the slow path"
            msg = f"implied vol moves by up to {slow_pts:.2f} vol pts ({slow_rel:.1%}); limit {limit}"
            if split:
                step = _largest_step(e, p.old, new, state, listed)
                if step is not None:
                    p.step_fraction, p.new = step
                    _, p.path, p.eta = _evaluate(e, p.new, state, listed)
                    p.reason = (f"{msg}: split, this step goes {p.step_fraction:.1%} of the way (parameter blend); "
                                f"rerun propose after it executes")
                    continue
            p.status, p.reason = "refuse", msg + (" (no admissible partial step)" if split else
                                                  ": rerun with --split to queue it in admissible steps")
        else:
            p.status, p.reason = "refuse", f"the registry would revert: {verdict}"
    calibrated = {s.expiry + shift for s in cal.slices}
    missing = sorted(e for e in listed if e not in calibrated)
    return Plan(now=state.now, rebase_days=int(rebase_days), proposals=props, unlisted_not_calibrated=missing)


# ---------------------------------------------------------------------------------------- sending (ape)


def default_why(cal: Calibration, p: Proposal, rebase_days: int) -> str:
    snap = datetime.fromtimestamp(cal.snapshot, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [f"SVI recalibration of {cal.underlying} expiry {p.label} to {cal.input_file or cal.path.name} "
             f"(snapshot {snap})"]
    s = p.slice
    if s is not None and s.rmse_vol_pts is not None:
        parts.append(f"slice RMSE {s.rmse_vol_pts:.3f} vol pts, {100 * (s.share_inside or 0):.1f}% of quotes "
                     f"inside bid-ask")
    if cal.share_inside is not None:
        parts.append(f"surface {100 * cal.share_inside:.1f}% inside bid-ask"
                     + ("" if cal.meets_bar else " (BELOW the 90% bar)"))
    if p.step_fraction < 1:
        parts.append(f"partial step {p.step_fraction:.1%} of the way")
    if rebase_days:
        parts.append(f"REHEARSAL: expiries rebased by {rebase_days} days to the chain's clock")
    return "; ".join(parts)


def static_check(fn, *args, sender) -> str | None:
    """eth_call the transaction: None if it would succeed, else the revert reason."""
    from ape.exceptions import ContractLogicError

    try:
        fn.call(*args, sender=sender)
        return None
    except ContractLogicError as err:
        return str(err.message if hasattr(err, "message") else err)


def queue(registry, account, pl: Plan, cal: Calibration, log, *, network: str, chain_id: int,
          who_name: str | None = None, why: str | None = None, dry_run: bool = False,
          echo=lambda s: None) -> list[dict]:
    """ape: for every proposal to queue, eth_call then send queue_smile; append one record per change event.
    Returns one dict per attempted proposal (status queued / would queue / reverted)."""
    from ape import chain

    from vyopt.maintenance.chain import display_path, events_of_receipt, record_for_event

    out = []
    for p in pl.by_status("queue"):
        args = (p.expiry, p.new, bytes.fromhex(cal.reason_hash[2:]))
        err = static_check(registry.queue_smile, *args, sender=account)
        if err is not None:
            p.status, p.reason = "refuse", f"eth_call reverts: {err}"
            out.append({"expiry": p.expiry, "status": "reverted", "reason": err})
            echo(f"  {p.label}: eth_call reverts: {err}")
            continue
        if dry_run:
            out.append({"expiry": p.expiry, "status": "would queue", "path": p.path})
            continue
        receipt = registry.queue_smile(*args, sender=account)
        block_time = int(chain.provider.get_block(receipt.block_number).timestamp)
        p.tx_hash, p.gas_used = receipt.txn_hash, int(receipt.gas_used)
        for e in events_of_receipt(registry, receipt):
            c = registry.change(e.change_id)
            rec = record_for_event(
                e, who=account.address, who_name=who_name, network=network, chain_id=chain_id,
                registry=registry.address, why=why or default_why(cal, p, pl.rebase_days), block_time=block_time,
                report_path=display_path(cal.path),
                details={"deadline": int(c.deadline), "gas_used": p.gas_used, "calibrated_expiry": p.calibrated_expiry,
                         "rebase_days": pl.rebase_days, "report_file_sha256": cal.file_sha256,
                         "step_fraction": p.step_fraction})
            try:
                log.append(rec)
            except Exception as exc:  # the change is on chain: say exactly how to repair the log
                raise RuntimeError(f"change #{e.change_id} was queued in tx {e.tx_hash} but its record could not be "
                                   f"written ({exc}): run `ape run maintenance-log record --tx {e.tx_hash} --report "
                                   f"{cal.path}` to add it") from exc
            p.change_id, p.path = e.change_id, ("fast" if e.fast else ("slow" if p.old is not None else "new"))
            p.eta = e.eta
        out.append({"expiry": p.expiry, "status": "queued", "change_id": p.change_id, "tx": p.tx_hash,
                    "gas_used": p.gas_used, "path": p.path, "eta": p.eta})
    return out


def plan_table(pl: Plan) -> tuple[list[str], list[list]]:
    f = report.fmt
    rows = []
    for p in pl.proposals:
        rows.append([p.label, p.status, p.path, f(p.max_move_pts, 2) if p.max_move_pts is not None else "-",
                     f"{100 * p.max_move_rel:.1f}%" if p.max_move_rel is not None else "-",
                     f"+{(p.eta - pl.now) / 3600:.1f} h" if p.eta is not None and p.status == "queue" else "-",
                     f(p.change_id), p.reason])
    return ["expiry", "status", "path", "max move (vol pts)", "max move (rel)", "eta", "change", "reason"], rows


def plan_json(pl: Plan, cal: Calibration) -> dict:
    return {
        "calibration": {"path": str(cal.path), "kind": cal.kind, "reason_hash": cal.reason_hash,
                        "file_sha256": cal.file_sha256, "snapshot": cal.snapshot, "underlying": cal.underlying},
        "now": pl.now,
        "rebase_days": pl.rebase_days,
        "listed_not_calibrated": pl.unlisted_not_calibrated,
        "proposals": [{"expiry": p.expiry, "expiry_label": p.label, "calibrated_expiry": p.calibrated_expiry,
                       "status": p.status, "path": p.path, "reason": p.reason, "eta": p.eta,
                       "old": list(p.old) if p.old else None, "new": list(p.new) if p.new else None,
                       "max_move_vol_pts": p.max_move_pts, "max_move_rel": p.max_move_rel,
                       "step_fraction": p.step_fraction, "change_id": p.change_id, "tx_hash": p.tx_hash,
                       "gas_used": p.gas_used} for p in pl.proposals],
    }
