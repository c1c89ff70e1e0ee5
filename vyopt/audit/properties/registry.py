"""Properties of the risk registry (contracts/RiskRegistry.vy) for the auditor's suite: read-only, on the deployed
surface and parameters, against reference/svi.py and reference/risk_registry.py (never the Vyper code).

The surface a property checks is the one the registry holds at the audited block (its smiles are read through
smile(expiry); what is compared is what the contract computes from them, or what the specification says of
them).  Time is the audited block's timestamp (backend.timestamp(): the block.timestamp the calls see).

Bars, argued (the arguments of tests/risk/test_surface_eval.py, repeated in short):

  implied vol   |implied_vol_at - sqrt(w(k) / T)| <= 10 x (vol x dw / (2 w) + 1e-18), dw = 2e-18 + 4e-17 +
                8.8e-16 x (|a| + b (|rho x| + sqrt(x^2 + sigma^2))), x = k - m.  Contract: k = ln(K/F) within
                1 wei of the WAD log of the truncated ratio (ratio >= 0.05: <= 2e-17 in k), w(k) within 2 wei plus
                |w'| dk, the vol floored (relative error of w halved, plus 1 wei).  Reference: float64 w carries
                ~2.2e-16 of its largest term (the terms may cancel).  10x their sum, converted to vol.
  total var.    |total_variance_at - w(k)| <= 10 x (2e-18 + 8.8e-16 x the same terms): the contract within 2 wei,
                float64 within a few ulps of its largest term.
  hard bounds   exact: integers against the documented constants (reference.risk_registry.PARAMS, the smile
                bounds, the grid rules, MIN/MAX delays and grace), and the contract's own bound views equal to
                the documented ones.
  arbitrage     static SVI conditions decided as the registry's write check decides them (exact on the WAD
                integers: b >= 0, |rho| < 1, sigma > 0, Lee b (1 + |rho|) <= 2; minimum variance at 50 digits,
                1e-17 ambiguous); butterfly g(k) >= -tol and calendar w_next(k) >= w(k) - tol with the
                reference's tolerances (reference.risk_registry.butterfly_checks / smile_write_checks: 10x the
                float64-versus-fixed-point error of w, propagated through g).
"""
from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import strategies as st

from reference import risk_registry as rr
from reference import svi as svi_ref

from ..registry import differential
from ...market import pending_smiles

WAD = 10**18
YEAR = 365 * 86400
REGISTRY = "RiskRegistry"
ZERO = "0x0000000000000000000000000000000000000000"


# ------------------------------------------------------------------------------------------ reading the surface
def surface(ctx) -> dict:
    """{now, expiries (live, increasing), smiles {expiry: WAD tuple}, written {expiry: smile_updated_at},
    pending {expiry: (queued smile, eta)}} of the registry at the audited block (read once per run: a read-only
    property sees one block)."""
    if "surface" not in ctx.cache:
        reg = ctx.contract(REGISTRY)
        now = ctx.backend.timestamp()
        live = [int(e) for e in reg.expiries() if int(e) > now]
        ctx.cache["surface"] = {"now": now, "expiries": live, "smiles": {e: tuple(int(v) for v in reg.smile(e)) for e in live},
                                "written": {e: int(reg.smile_updated_at(e)) for e in live},
                                "pending": pending_smiles(reg, live)}
        if not live:
            ctx.note("the registry lists no live expiry at the audited block: the surface properties check nothing")
    return ctx.cache["surface"]


def _terms(p, k: float) -> float:
    x = k - p.m
    return abs(p.a) + p.b * (abs(p.rho * x) + math.hypot(x, p.sigma))


def vol_tolerance(p, k: float, vol: float, w: float) -> float:
    """Allowed |vol_contract - vol_reference| at one point (module doc)."""
    dw = 2e-18 + 4e-17 + 2.2e-16 * _terms(p, k) * 4
    return 10 * (vol * dw / (2 * w) + 1e-18)


def variance_tolerance(p, k: float) -> float:
    return 10 * (2e-18 + 2.2e-16 * _terms(p, k) * 4)


# ------------------------------------------------------------------------------------------ implied vol
@st.composite
def surface_points(draw):
    """An expiry (by index among the live ones), a strike/forward ratio 0.05 ... 20 (the registry's tested range:
    |k| <= 3), a forward log-uniform over the pricer's domain 1e-6 ... 1e12 (WAD 1e12 ... 1e30)."""
    return {"expiry_index": draw(st.integers(0, 11)), "ratio": draw(st.floats(0.05, 20.0)),
            "forward": min(max(int(10 ** draw(st.floats(12, 30))), 10**12), 10**30)}


def _atm_examples():
    return [{"expiry_index": i, "ratio": r, "forward": 40_000 * WAD} for i in range(6) for r in (1.0, 0.5, 2.0)]


@differential(
    id="registry.implied_vol_matches_svi", contracts=(REGISTRY,), strategy=surface_points, examples=_atm_examples,
    bar="10 x (float64 + fixed-point error of w, as vol)",
    words="implied_vol_at(expiry, strike, forward) equals sqrt(w(ln(K/F)) / T) of the reference SVI smile of that "
          "expiry (T to expiry at the audited block), and total_variance_at equals w(k), for every live expiry, "
          "K/F 0.05..20 and forwards 1e-6..1e12.")
def implied_vol_matches_svi(ctx, ex):
    s = surface(ctx)
    if not s["expiries"]:
        return
    reg = ctx.contract(REGISTRY)
    e = s["expiries"][ex["expiry_index"] % len(s["expiries"])]
    forward = ex["forward"]
    strike = max(int(forward * ex["ratio"]), 1)
    p = rr.smile_floats(s["smiles"][e])
    k = math.log(strike / forward)
    w = float(svi_ref.total_variance(p, k))
    tau = e - s["now"]
    want = math.sqrt(w / (tau / YEAR))
    got = reg.implied_vol_at(e, strike, forward) / WAD
    tol = vol_tolerance(p, k, want, w)
    ctx.metric("error / bar", abs(got - want) / tol)
    assert abs(got - want) <= tol, f"implied_vol_at({e}, {strike}, {forward}) = {got!r}, reference {want!r} (tol {tol:.3g})"
    k_wad = int(k * WAD)
    wv = float(svi_ref.total_variance(p, k_wad / WAD))
    got_w = reg.total_variance_at(e, k_wad) / WAD
    tol_w = variance_tolerance(p, k_wad / WAD)
    assert abs(got_w - wv) <= tol_w, f"total_variance_at({e}, {k_wad}) = {got_w!r}, reference {wv!r} (tol {tol_w:.3g})"


# ------------------------------------------------------------------------------------------ hard bounds
ITEMS = ([("param", i) for i in range(rr.N_PARAMS)] + [("smile", j) for j in range(rr.MAX_EXPIRIES)]
         + [("grid", 0), ("time lock", 0), ("roles", 0)])


def _items():
    return [{"item": kind, "index": i} for kind, i in ITEMS]


_BOUND_REASONS = ("risk: a out of bounds", "risk: rho out of bounds", "risk: m out of bounds", "risk: sigma out of bounds")


@differential(
    id="registry.parameters_within_hard_bounds", contracts=(REGISTRY,),
    strategy=lambda: st.sampled_from(_items()), examples=_items, bar="exact",
    words="every deployed parameter lies within its documented hard bounds and the contract enforces exactly "
          "the documented bounds: the 11 scalar parameters (param_bounds = the specification's lo, hi and step), "
          "each live smile's a, rho, m, sigma and its expiry horizon (<= 730 days, at most 12 expiries), the "
          "scenario grid (3..32 pairs, shocks in range, a down, an up and a vol-up move), the time lock "
          "(delay 1..30 days, surface delay 1 h..delay, grace 1 h..14 days, the smile step bounds) and the role "
          "holders (non-zero, distinct).")
def parameters_within_hard_bounds(ctx, ex):
    reg = ctx.contract(REGISTRY)
    kind, i = ex["item"], ex["index"]
    if kind == "param":
        spec = rr.PARAMS[i]
        value = reg.param(i)
        assert spec.lo <= value <= spec.hi, f"{spec.name} = {value} outside [{spec.lo}, {spec.hi}]"
        got = tuple(reg.param_bounds(i))
        assert got == (spec.lo, spec.hi, spec.step_abs, spec.step_rel), f"{spec.name}: the contract's bounds {got} are not the documented {spec}"
        assert reg.all_params()[i] == value, f"{spec.name}: all_params() and param() disagree"
    elif kind == "smile":
        s = surface(ctx)
        assert len(s["expiries"]) <= rr.MAX_EXPIRIES, f"{len(s['expiries'])} live expiries, at most {rr.MAX_EXPIRIES}"
        if not s["expiries"]:
            return
        e = s["expiries"][i % len(s["expiries"])]
        assert e - s["now"] <= rr.MAX_EXPIRY_HORIZON, f"expiry {e} is {e - s['now']} s away, beyond 730 days"
        for reason, slack, tol in rr.smile_param_checks(s["smiles"][e]):
            if reason in _BOUND_REASONS:
                assert slack >= 0, f"expiry {e}: {reason} ({s['smiles'][e]})"
    elif kind == "grid":
        grid = [tuple(int(v) for v in sc) for sc in reg.scenarios()]
        assert len(grid) <= rr.MAX_SCENARIOS, f"{len(grid)} scenarios, at most {rr.MAX_SCENARIOS}"
        assert reg.scenario_count() == len(grid)
        why = rr.grid_violation(grid)
        assert why is None, f"scenario grid {grid}: {why}"
    elif kind == "time lock":
        delay, fast, grace = reg.delay(), reg.surface_delay(), reg.grace_period()
        assert rr.MIN_DELAY <= delay <= rr.MAX_DELAY, f"delay {delay} s outside [{rr.MIN_DELAY}, {rr.MAX_DELAY}]"
        assert rr.MIN_SURFACE_DELAY <= fast <= delay, f"surface delay {fast} s outside [{rr.MIN_SURFACE_DELAY}, delay {delay}]"
        assert rr.MIN_GRACE <= grace <= rr.MAX_GRACE, f"grace {grace} s outside [{rr.MIN_GRACE}, {rr.MAX_GRACE}]"
        want = tuple(int(Fraction(str(x)) * WAD) for x in (*rr.FAST_STEP, *rr.SLOW_STEP))
        assert tuple(reg.surface_step_bounds()) == want, f"smile step bounds {tuple(reg.surface_step_bounds())}, documented {want}"
    else:  # roles
        holders = [reg.admin(), reg.risk_manager(), reg.guardian()]
        assert ZERO not in [h.lower() for h in holders], f"a role is held by the zero address: {holders}"
        assert len({h.lower() for h in holders}) == 3, f"role holders are not distinct: {holders}"


# ------------------------------------------------------------------------------------------ no arbitrage
_STATIC_REASONS = ("risk: sigma must be positive", "risk: |rho| must be below 1", "risk: lee moment bound",
                   "risk: negative minimum variance")


def butterfly_check(p, k: float) -> tuple[float, float, float]:
    """(w, g(k), tolerance of g) at one k: the per-point rule of reference.risk_registry.butterfly_checks (which
    evaluates it on the registry's K_GRID only).  g mixes (k w'/2w)^2 and w'^2/4w; the relative error of w is
    w_tol / w, the derivatives carry ~1e-15: 10x that, times the size of the terms."""
    w = float(svi_ref.total_variance(p, k))
    tw = rr.w_tol(p, k)
    if w <= tw:
        return w, -math.inf, 0.0
    g = float(svi_ref.butterfly_density(p, k))
    w1 = float(svi_ref.dw_dk(p, k))
    size = 1.0 + (k * w1 / (2 * w)) ** 2 + w1 * w1 / (4 * w)
    return w, g, 10 * (2 * tw / w + 2e-15) * size


def _grid_examples():
    return [{"k": k} for k in rr.K_GRID]


@differential(
    id="registry.surface_free_of_static_arbitrage", contracts=(REGISTRY,),
    strategy=lambda: st.fixed_dictionaries({"k": st.floats(-1.5, 1.5)}), examples=_grid_examples,
    bar="the registry's write-check tolerances (10x float64 vs fixed point)",
    words="the deployed surface is free of static arbitrage: every live smile meets the SVI conditions "
          "(b >= 0, |rho| < 1, sigma > 0, a + b sigma sqrt(1 - rho^2) >= 0, Lee's b (1 + |rho|) <= 2), Gatheral's "
          "butterfly density g(k) >= 0 with w(k) > 0, and total variance does not decrease from one expiry to the "
          "next — at the registry's 9 grid points k (what the contract checked when the smiles were written) and "
          "at random k in [-1.5, 1.5] between them (which the contract cannot check: a failure there is a "
          "finding about the calibrated surface).")
def surface_free_of_static_arbitrage(ctx, ex):
    s = surface(ctx)
    k = ex["k"]
    prev = None
    for e in s["expiries"]:
        raw = s["smiles"][e]
        assert raw[1] >= 0, f"expiry {e}: b = {raw[1]} < 0"
        for reason, slack, tol in rr.smile_param_checks(raw):
            if reason in _STATIC_REASONS:
                assert slack >= -tol, f"expiry {e}: {reason} ({raw})"
        p = rr.smile_floats(raw)
        w, g, tol = butterfly_check(p, k)
        assert w > rr.w_tol(p, k), f"expiry {e}: w({k}) = {w} is not positive"
        assert g >= -tol, f"expiry {e}: butterfly density g({k}) = {g} < 0 (tol {tol:.3g})"
        if prev is not None:
            pp = rr.smile_floats(s["smiles"][prev])
            wp = float(svi_ref.total_variance(pp, k))
            ctol = rr.w_tol(p, k) + rr.w_tol(pp, k)
            assert w >= wp - ctol, f"calendar arbitrage at k = {k}: w = {w} at {e} below {wp} at {prev}"
        prev = e
