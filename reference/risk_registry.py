"""Rules of the risk registry as an independent model: bounds, steps, delays, roles, SVI write checks.

Written from the specification (issue 4 and the parameter table), not from the Vyper integer code:
scalar rules are exact integer/rational arithmetic (the spec is stated on integers), smile rules are
float64 through reference.svi.  Because float64 and the contract's fixed point differ by ~1e-15
relative, every smile check reports a signed *slack* (>= 0: satisfied) and a tolerance; `classify`
returns the first clearly broken rule, "ok" when every rule clearly holds, and None when a rule is
within its tolerance of the boundary (either answer is then correct).

Spec summary (units: WAD = 1e18 integers for the contract, floats here for smiles; seconds for time)
  Scalar parameters: PARAMS (id, name, lo, hi, step_abs, step_rel).  A change needs lo <= new <= hi and
      |new - old| <= max(step_abs, old * step_rel / 1e18), old = the value when the change is queued and
      again when it executes.
  Delays: delay in [1 day, 30 days]; surface_delay in [1 hour, delay]; grace in [1 hour, 14 days].
      eta = queue time + delay; deadline = eta + grace.  A smile update whose implied vol moves by at most
      max(5% of the old vol, 0.01) at every grid k is "fast": eta = queue time + surface_delay, deadline =
      eta + surface_delay.  Otherwise the update must move by at most max(25%, 0.05).  The vols compared
      are those each calibration asserts: the new smile's with T = expiry - (earliest execution time), the
      current smile's with T = expiry - (time it was written).  New expiries are never fast.  Executable
      when eta <= now <= deadline; at execution the step is measured again with T = expiry - now.
  Smile of expiry E written at time t (t = eta at queue time, now at execution):
      E > t; E - t >= 1 hour; E - t <= 730 days; static SVI conditions and hard bounds; at every k of
      K_GRID: w(k) > 0 and Gatheral's g(k) >= 0; then for each k in order: 1% <= vol(k) <= 500% with
      T = (E - t)/365d, and w_prev(k) <= w(k) <= w_next(k) against the neighbouring listed expiries > t.
  Scenario grid: 3..32 pairs, spot in [-0.9, 3], vol in [-0.8, 3], min spot <= -0.05, max spot >= 0.05,
      max vol >= 0.1; per index |d spot| <= 0.05, |d vol| <= 0.25; at most 4 removed per change.
  Roles: admin queues role changes, risk manager queues the rest; anyone executes; cancel: admin any,
      guardian any but a guardian change, risk manager its own kinds.  Holders non-zero and distinct.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

import mpmath

from reference import svi as svi_ref
from reference.svi import SVI

WAD = 10**18
YEAR = 365 * 86400
DAY = 86400

# ---------------------------------------------------------------------------- scalar parameters


@dataclass(frozen=True)
class ParamSpec:
    id: int
    name: str
    unit: str
    lo: int
    hi: int
    step_abs: int
    step_rel: int  # WAD fraction of the old value


def _w(x: str) -> int:
    return int(Fraction(x) * WAD)


PARAMS = (
    ParamSpec(0, "im_ratio", "WAD ratio IM/MM", _w("1"), _w("3"), _w("0.1"), 0),
    ParamSpec(1, "min_margin", "WAD fraction of spot per short contract", _w("0.01"), _w("0.25"), _w("0.005"), _w("0.25")),
    ParamSpec(2, "liquidation_penalty", "WAD fraction of liquidated MM", _w("0.01"), _w("0.5"), _w("0.025"), 0),
    ParamSpec(3, "liquidator_share", "WAD fraction of the penalty", _w("0.1"), _w("1"), _w("0.1"), 0),
    ParamSpec(4, "dust_threshold", "WAD collateral units", 0, _w("100000"), _w("100"), _w("0.5")),
    ParamSpec(5, "fee_rate", "WAD fraction of spot per contract", 0, _w("0.005"), _w("0.0005"), 0),
    ParamSpec(6, "vol_spread", "WAD annualised vol", 0, _w("0.25"), _w("0.01"), 0),
    ParamSpec(7, "max_open_interest", "WAD contracts per series", 0, _w("1000000000"), _w("10"), _w("0.5")),
    ParamSpec(8, "oracle_heartbeat", "seconds", 60, 90_000, 600, _w("0.5")),
    ParamSpec(9, "oracle_max_deviation", "WAD fraction of last accepted price", _w("0.01"), _w("0.5"), _w("0.02"), 0),
    ParamSpec(10, "oracle_jump_cooldown", "seconds", 300, 86_400, 900, _w("0.5")),
)
N_PARAMS = len(PARAMS)

MIN_DELAY, MAX_DELAY = DAY, 30 * DAY
MIN_SURFACE_DELAY = 3600
MIN_GRACE, MAX_GRACE = 3600, 14 * DAY

# ---------------------------------------------------------------------------- smiles

K_GRID = (-1.5, -1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0, 1.5)
MAX_EXPIRIES = 12
MIN_TIME_TO_EXPIRY = 3600
MAX_EXPIRY_HORIZON = 730 * DAY
VOL_MIN, VOL_MAX = 0.01, 5.0
FAST_STEP = (0.05, 0.01)    # (relative, absolute vol)
SLOW_STEP = (0.25, 0.05)
A_BOUNDS = (_w("-2"), _w("8"))
RHO_MAX = _w("0.999")
M_BOUNDS = (_w("-2"), _w("2"))
SIGMA_BOUNDS = (_w("0.0001"), _w("4"))

# Tolerances of the float model against the contract's fixed point.  The contract evaluates w(k) within
# 2 wei (2e-18).  float64 evaluates w = a + b (rho x + R) within a few ulps of its largest term, i.e.
# ~2.2e-16 * (|a| + b (|rho x| + R)) (the terms may cancel).  w_tol is 10x the sum of both; a vol
# sqrt(w/T) then carries a relative error of w_tol / (2 w).
EXACT = math.inf         # slack of a check decided exactly (integers)


def w_tol(p: SVI, k: float) -> float:
    """Tolerance on w(k) between the float model and the contract (see above)."""
    x = k - p.m
    terms = abs(p.a) + p.b * (abs(p.rho * x) + math.hypot(x, p.sigma))
    return 10 * (2e-18 + 2.2e-16 * 4 * terms)


class Rejected(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def param_violation(param: int, old: int, new: int) -> str | None:
    """Reason a change of scalar parameter `param` from old to new is refused, else None."""
    if not 0 <= param < N_PARAMS:
        return "risk: unknown param"
    p = PARAMS[param]
    if not p.lo <= new <= p.hi:
        return "risk: param out of bounds"
    if abs(new - old) > max(Fraction(p.step_abs), Fraction(old * p.step_rel, WAD)):
        return "risk: param step too large"
    return None


def smile_floats(s_wad) -> SVI:
    a, b, rho, m, sigma = (int(v) for v in s_wad)
    return SVI(a / WAD, b / WAD, rho / WAD, m / WAD, sigma / WAD)


Check = tuple  # (reason, slack, tol): slack >= 0 satisfied; |slack| <= tol ambiguous


def _exact(reason: str, holds: bool) -> Check:
    return (reason, EXACT if holds else -EXACT, 0.0)


def smile_param_checks(s_wad) -> list[Check]:
    """Static SVI conditions and hard bounds of a WAD smile, in the contract's documented order."""
    a, b, rho, m, sigma = (int(v) for v in s_wad)
    checks = [
        _exact("risk: sigma must be positive", sigma > 0),
        _exact("risk: |rho| must be below 1", -WAD < rho < WAD),
        _exact("risk: a out of bounds", A_BOUNDS[0] <= a <= A_BOUNDS[1]),
        _exact("risk: rho out of bounds", abs(rho) <= RHO_MAX),
        _exact("risk: m out of bounds", M_BOUNDS[0] <= m <= M_BOUNDS[1]),
        _exact("risk: sigma out of bounds", SIGMA_BOUNDS[0] <= sigma <= SIGMA_BOUNDS[1]),
    ]
    if any(c[1] < 0 for c in checks):
        return checks
    # Lee (2004): b (1 + |rho|) <= 2, exact on the WAD integers
    checks.append(_exact("risk: lee moment bound", Fraction(b, WAD) * (1 + Fraction(abs(rho), WAD)) <= 2))
    if checks[-1][1] < 0:
        return checks
    # min_k w = a + b sigma sqrt(1 - rho^2), evaluated at 50 digits from the WAD integers.  The contract
    # rounds it down by at most ~10 wei (three truncations and a floored square root), so only a value
    # within 1e-17 of zero is ambiguous; with b = 0 or sigma = 0 it is exactly a.
    if b == 0 or sigma == 0:
        checks.append(_exact("risk: negative minimum variance", a >= 0))
    else:
        with mpmath.workdps(50):
            mv = (mpmath.mpf(a) + mpmath.mpf(b) * sigma / WAD * mpmath.sqrt(1 - (mpmath.mpf(rho) / WAD) ** 2)) / WAD
        checks.append(("risk: negative minimum variance", float(mv), 1e-17))
    return checks


def butterfly_checks(p: SVI) -> list[Check]:
    """w(k) > 0 and g(k) >= 0 at each point of K_GRID, one check per point, tolerance from its size."""
    out = []
    for k in K_GRID:
        w = float(svi_ref.total_variance(p, k))
        tw = w_tol(p, k)
        if w <= tw:
            out.append(("risk: butterfly bound", w, tw))
            continue
        g = float(svi_ref.butterfly_density(p, k))
        w1 = float(svi_ref.dw_dk(p, k))
        # g mixes terms of size (k w'/2w)^2 and w'^2/4w.  The relative error in w is <= w_tol/w; the
        # derivatives carry ~1e-15 relative; each enters those terms at most squared.  Tolerance: 10x
        # that error times the size of the terms (w_tol already holds a 10x margin on w).
        size = 1.0 + (k * w1 / (2 * w)) ** 2 + w1 * w1 / (4 * w)
        out.append(("risk: butterfly bound", g, 10 * (2 * tw / w + 2e-15) * size))
    return out


def implied_vol(p: SVI, k: float, tau: int) -> float:
    w = float(svi_ref.total_variance(p, k))
    return math.sqrt(w / (tau / YEAR)) if w > 0 else 0.0


def smile_write_checks(expiry: int, s_wad, at: int, listed: dict[int, tuple]) -> list[Check]:
    """Every rule of writing smile s_wad for `expiry` at time `at`, in order (see module doc).

    listed: expiry -> WAD smile of the currently listed expiries (the neighbours come from it).
    """
    checks = [_exact("risk: expiry passed", expiry > at)]
    if expiry <= at:
        return checks
    tau = expiry - at
    checks.append(_exact("risk: expiry too close", tau >= MIN_TIME_TO_EXPIRY))
    checks.append(_exact("risk: expiry too far", tau <= MAX_EXPIRY_HORIZON))
    checks += smile_param_checks(s_wad)
    if any(c[1] < 0 for c in checks):
        return checks
    p = smile_floats(s_wad)
    checks += butterfly_checks(p)
    live = sorted(e for e in listed if e > at and e != expiry)
    prev = max((e for e in live if e < expiry), default=None)
    nxt = min((e for e in live if e > expiry), default=None)
    pp = smile_floats(listed[prev]) if prev is not None else None
    pn = smile_floats(listed[nxt]) if nxt is not None else None
    for k in K_GRID:
        v = implied_vol(p, k, tau)
        w = float(svi_ref.total_variance(p, k))
        tw = w_tol(p, k)
        vol_tol = max(v, VOL_MIN) * tw / (2 * max(w, tw)) + 1e-17
        checks.append(("risk: vol out of bounds", min(v - VOL_MIN, VOL_MAX - v), vol_tol))
        slack, tol = math.inf, 0.0
        if pp is not None:
            slack, tol = w - float(svi_ref.total_variance(pp, k)), tw + w_tol(pp, k)
        if pn is not None:
            d = float(svi_ref.total_variance(pn, k)) - w
            if d < slack:
                slack, tol = d, tw + w_tol(pn, k)
        checks.append(("risk: calendar arbitrage", slack, tol))
    return checks


def vol_step_slack(old_wad, tau_old: int, new_wad, tau_new: int, step: tuple[float, float]) -> float:
    """min over K_GRID of max(rel * vol_old, abs) - |vol_new - vol_old| (>= 0: within the step); the old
    smile's vols at tau_old seconds, the new one's at tau_new."""
    po, pn = smile_floats(old_wad), smile_floats(new_wad)
    rel, ab = step
    out = math.inf
    for k in K_GRID:
        vo, vn = implied_vol(po, k, tau_old), implied_vol(pn, k, tau_new)
        out = min(out, max(rel * vo, ab) - abs(vn - vo))
    return out


def vol_step_check(old_wad, tau_old, new_wad, tau_new, step) -> Check:
    # vols up to ~15; their errors are vol * w_tol / (2w): for the smiles that reach this check (vols
    # >= 1%, so w is not tiny) that is below 1e-13; 1e-11 absolute leaves 100x margin
    return ("risk: vol step too large", vol_step_slack(old_wad, tau_old, new_wad, tau_new, step), 1e-11)


def classify(checks: list[Check]) -> str | None:
    """First clearly broken rule's reason; "ok" when all clearly hold; None when the verdict hinges on a
    value within tolerance of its boundary."""
    for reason, slack, tol in checks:
        if slack < -tol:
            return reason
        if slack <= tol and tol > 0:
            return None
    return "ok"


# ---------------------------------------------------------------------------- scenario grid

MAX_SCENARIOS, MIN_SCENARIOS = 32, 3
SPOT_BOUNDS = (_w("-0.9"), _w("3"))
VOL_SHOCK_BOUNDS = (_w("-0.8"), _w("3"))
MIN_DOWN, MIN_UP, MIN_VOL_UP = _w("-0.05"), _w("0.05"), _w("0.1")
SPOT_STEP, VOL_STEP, MAX_REMOVED = _w("0.05"), _w("0.25"), 4


def grid_violation(grid) -> str | None:
    if len(grid) < MIN_SCENARIOS:
        return "risk: too few scenarios"
    for s, v in grid:
        if not (SPOT_BOUNDS[0] <= s <= SPOT_BOUNDS[1] and VOL_SHOCK_BOUNDS[0] <= v <= VOL_SHOCK_BOUNDS[1]):
            return "risk: scenario out of bounds"
    if min(s for s, _ in grid) > MIN_DOWN:
        return "risk: grid lacks down move"
    if max(s for s, _ in grid) < MIN_UP:
        return "risk: grid lacks up move"
    if max(v for _, v in grid) < MIN_VOL_UP:
        return "risk: grid lacks vol-up move"
    return None


def grid_step_violation(old, new) -> str | None:
    if len(new) + MAX_REMOVED < len(old):
        return "risk: too many scenarios removed"
    for (so, vo), (sn, vn) in zip(old, new):
        if abs(sn - so) > SPOT_STEP or abs(vn - vo) > VOL_STEP:
            return "risk: scenario step too large"
    return None


# ---------------------------------------------------------------------------- the registry as a state machine

ROLE_ADMIN, ROLE_RISK_MANAGER, ROLE_GUARDIAN = 0, 1, 2
KIND_PARAM, KIND_SMILE, KIND_SCENARIOS, KIND_ROLE = 1, 2, 3, 4
QUEUED, EXECUTED, CANCELLED = 1, 2, 3
ZERO = "0x0000000000000000000000000000000000000000"


@dataclass
class Change:
    kind: int
    target: int
    payload: object
    eta: int
    deadline: int
    fast: bool
    reason_hash: bytes
    status: int = QUEUED


@dataclass
class Outcome:
    """Verdict of one call: reason "ok", a revert reason, or None (ambiguous: follow the contract).
    `apply(**facts)` commits the effect (facts the model could not decide, e.g. fast=..., come from the
    contract); it is a no-op for reverts."""
    reason: str | None
    apply: Callable = field(default=lambda **_: None)
    change_id: int | None = None


@dataclass
class RegistryModel:
    admin: str
    risk_manager: str
    guardian: str
    delay: int
    surface_delay: int
    grace: int
    params: list
    grid: list
    smiles: dict            # expiry -> WAD smile tuple
    written_at: dict        # expiry -> time the smile was written (seconds)
    pending_admin: str = ZERO
    paused: bool = False
    changes: dict = field(default_factory=dict)
    change_count: int = 0
    pending: dict = field(default_factory=dict)   # (kind, target) -> id

    # ---- helpers
    def holder(self, role: int) -> str:
        return (self.admin, self.risk_manager, self.guardian)[role]

    def live_pending(self, kind: int, target: int, now: int) -> int:
        cid = self.pending.get((kind, target), 0)
        if cid and self.changes[cid].status == QUEUED and now <= self.changes[cid].deadline:
            return cid
        return 0

    def new_holder_violation(self, role: int, account: str) -> str | None:
        if not 0 <= role <= 2:
            return "risk: unknown role"
        if account.lower() == ZERO:
            return "risk: zero address"
        others = []
        if role != ROLE_ADMIN:
            others += [self.admin, self.pending_admin]
        if role != ROLE_RISK_MANAGER:
            others.append(self.risk_manager)
        if role != ROLE_GUARDIAN:
            others.append(self.guardian)
        if account.lower() in {o.lower() for o in others}:
            return "risk: roles must be distinct"
        return None

    def _queue_violation(self, kind, target, reason_hash, now) -> str | None:
        if reason_hash == b"\x00" * 32:
            return "risk: reason hash required"
        if target >= 2**64:
            return "risk: target out of range"
        if self.live_pending(kind, target, now):
            return "risk: change already pending"
        return None

    def _enqueue(self, kind, target, payload, eta, deadline, fast, reason_hash) -> int:
        self.change_count += 1
        cid = self.change_count
        self.changes[cid] = Change(kind, target, payload, eta, deadline, fast, reason_hash)
        self.pending[(kind, target)] = cid
        return cid

    def prune(self, now: int) -> list[int]:
        gone = [e for e in self.smiles if e <= now]
        for e in gone:
            del self.smiles[e]
            del self.written_at[e]
        return sorted(gone)

    # ---- queue
    def queue_param(self, sender, param, value, reason_hash, now) -> Outcome:
        if sender != self.risk_manager:
            return Outcome("risk: caller is not the risk manager")
        if not 0 <= param < N_PARAMS:
            return Outcome("risk: unknown param")
        r = param_violation(param, self.params[param], value) or self._queue_violation(KIND_PARAM, param, reason_hash, now)
        if r:
            return Outcome(r)
        eta = now + self.delay
        cid = self.change_count + 1
        return Outcome("ok", lambda **_: self._enqueue(KIND_PARAM, param, value, eta, eta + self.grace, False, reason_hash), cid)

    def queue_role(self, sender, role, account, reason_hash, now) -> Outcome:
        if sender != self.admin:
            return Outcome("risk: caller is not the admin")
        r = self.new_holder_violation(role, account) or self._queue_violation(KIND_ROLE, role, reason_hash, now)
        if r:
            return Outcome(r)
        eta = now + self.delay
        cid = self.change_count + 1
        return Outcome("ok", lambda **_: self._enqueue(KIND_ROLE, role, account, eta, eta + self.grace, False, reason_hash), cid)

    def queue_scenarios(self, sender, grid, reason_hash, now) -> Outcome:
        if sender != self.risk_manager:
            return Outcome("risk: caller is not the risk manager")
        r = grid_violation(grid) or grid_step_violation(self.grid, grid) or self._queue_violation(KIND_SCENARIOS, 0, reason_hash, now)
        if r:
            return Outcome(r)
        eta = now + self.delay
        cid = self.change_count + 1
        return Outcome("ok", lambda **_: self._enqueue(KIND_SCENARIOS, 0, list(grid), eta, eta + self.grace, False, reason_hash), cid)

    def queue_smile(self, sender, expiry, s_wad, reason_hash, now) -> Outcome:
        if sender != self.risk_manager:
            return Outcome("risk: caller is not the risk manager")
        live = {e: s for e, s in self.smiles.items() if e > now}   # after the prune the call performs
        pre = classify(smile_param_checks(s_wad))
        if pre not in ("ok", None):
            return Outcome(pre)
        listed = expiry in live
        fast_eta = now + self.surface_delay
        fast_verdict = False
        tau_old = expiry - self.written_at[expiry] if listed else 0
        if listed:
            if expiry > fast_eta:
                v = classify([vol_step_check(live[expiry], tau_old, s_wad, expiry - fast_eta, FAST_STEP)])
                fast_verdict = None if v is None else (v == "ok")
        # fast_verdict None: the fast/slow choice itself is ambiguous; try both, accept either
        verdicts = []
        for fast in ([True, False] if fast_verdict is None else [fast_verdict]):
            eta = fast_eta if fast else now + self.delay
            checks = smile_write_checks(expiry, s_wad, eta, live)
            if listed and not fast and expiry > eta:   # (expiry <= eta already fails "expiry passed")
                checks.append(vol_step_check(live[expiry], tau_old, s_wad, expiry - eta, SLOW_STEP))
            v = classify(checks)
            if v == "ok" and not listed and sum(1 for e in live if e > eta) >= MAX_EXPIRIES:
                v = "risk: too many expiries"
            if v == "ok":
                v = self._queue_violation(KIND_SMILE, expiry, reason_hash, now) or "ok"
            verdicts.append(v)
        verdict = verdicts[0] if len(set(verdicts)) == 1 and pre == "ok" else None
        cid = self.change_count + 1

        def apply(fast: bool, **_):
            self.prune(now)
            eta = now + (self.surface_delay if fast else self.delay)
            deadline = eta + (self.surface_delay if fast else self.grace)
            self._enqueue(KIND_SMILE, expiry, tuple(s_wad), eta, deadline, fast, reason_hash)

        return Outcome(verdict, apply, cid)

    # ---- execute / cancel
    def _consume_violation(self, cid, now) -> str | None:
        c = self.changes.get(cid)
        if c is None:
            return "risk: unknown change"
        if c.status == EXECUTED:
            return "risk: change already executed"
        if c.status == CANCELLED:
            return "risk: change cancelled"
        if now < c.eta:
            return "risk: not yet executable"
        if now > c.deadline:
            return "risk: grace period over"
        return None

    def _finish(self, cid, status):
        c = self.changes[cid]
        c.status = status
        if self.pending.get((c.kind, c.target)) == cid:
            del self.pending[(c.kind, c.target)]

    def execute(self, cid, now) -> Outcome:
        r = self._consume_violation(cid, now)
        if r:
            return Outcome(r)
        c = self.changes[cid]
        if c.kind == KIND_PARAM:
            r = param_violation(c.target, self.params[c.target], c.payload)
            if r:
                return Outcome(r)

            def apply(**_):
                self.params[c.target] = c.payload
                self._finish(cid, EXECUTED)
            return Outcome("ok", apply, cid)
        if c.kind == KIND_SCENARIOS:
            r = grid_violation(c.payload) or grid_step_violation(self.grid, c.payload)
            if r:
                return Outcome(r)

            def apply(**_):
                self.grid = list(c.payload)
                self._finish(cid, EXECUTED)
            return Outcome("ok", apply, cid)
        if c.kind == KIND_ROLE:
            r = self.new_holder_violation(c.target, c.payload)
            if r:
                return Outcome(r)

            def apply(**_):
                if c.target == ROLE_ADMIN:
                    self.pending_admin = c.payload
                elif c.target == ROLE_RISK_MANAGER:
                    self.risk_manager = c.payload
                else:
                    self.guardian = c.payload
                self._finish(cid, EXECUTED)
            return Outcome("ok", apply, cid)
        # smile
        live = {e: s for e, s in self.smiles.items() if e > now}
        checks = smile_write_checks(c.target, c.payload, now, live)
        listed = c.target in live
        if listed:
            checks.append(vol_step_check(live[c.target], c.target - self.written_at[c.target], c.payload,
                                         c.target - now, FAST_STEP if c.fast else SLOW_STEP))
        verdict = classify(checks)
        if verdict == "ok" and not listed and len(live) >= MAX_EXPIRIES:
            verdict = "risk: too many expiries"

        def apply(**_):
            self.prune(now)
            self.smiles[c.target] = tuple(c.payload)
            self.written_at[c.target] = now
            self._finish(cid, EXECUTED)
        return Outcome(verdict, apply, cid)

    def may_cancel(self, sender, cid) -> bool:
        c = self.changes.get(cid)
        kind = c.kind if c else 0
        target = c.target if c else 0
        if sender == self.guardian:
            return not (kind == KIND_ROLE and target == ROLE_GUARDIAN)
        if sender == self.risk_manager:
            return kind != KIND_ROLE
        return sender == self.admin

    def cancel(self, sender, cid, now) -> Outcome:
        if not self.may_cancel(sender, cid):
            return Outcome("risk: caller may not cancel")
        c = self.changes.get(cid)
        if c is None:
            return Outcome("risk: unknown change")
        if c.status != QUEUED:
            return Outcome("risk: change not queued")
        return Outcome("ok", lambda **_: self._finish(cid, CANCELLED), cid)

    # ---- roles
    def accept_admin(self, sender) -> Outcome:
        if sender != self.pending_admin or sender == ZERO:
            return Outcome("risk: caller is not the pending admin")
        r = self.new_holder_violation(ROLE_ADMIN, sender)
        if r:
            return Outcome(r)

        def apply(**_):
            self.admin = sender
            self.pending_admin = ZERO
        return Outcome("ok", apply)

    def set_paused(self, sender, flag: bool) -> Outcome:
        if sender not in (self.guardian, self.admin):
            return Outcome("risk: caller may not pause")

        def apply(**_):
            self.paused = flag
        return Outcome("ok", apply)
