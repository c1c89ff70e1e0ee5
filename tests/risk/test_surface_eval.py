"""On-chain SVI evaluation (implied_vol_at, total_variance_at) against reference.svi."""
import math

import boa
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from reference import risk_registry as ref
from reference import svi as svi_ref
from vyopt import risk

from .helpers import now, smile_tuple, travel_to, wad
from .strategies import ssvi_smile

YEAR = 365 * 86400


def test_k_grid__view_matches_reference_grid(registry):
    assert [k / 1e18 for k in registry.k_grid()] == list(ref.K_GRID)


def _tolerance(p, k, vol, w):
    """Allowed |vol_contract - vol_reference| at one point.

    Contract: k = ln(K/F) is within 1 wei of the WAD log of the truncated ratio (ratio >= 0.05 here, so
    the truncation moves k by <= 2e-17); w(k) is within 2 wei plus |w'| dk <= 2 * 2e-17; the vol is
    sqrt(w / T) floored (relative error of w halves, plus 1e-18).  Reference: float64 w has a rounding
    error of ~1e-16 relative to its largest term (|a| and b (|rho x| + R) may cancel).  The tolerance is
    10x the sum of both, converted to vol: d vol = vol * dw / (2 w).
    """
    x = k - p.m
    terms = abs(p.a) + p.b * (abs(p.rho * x) + math.hypot(x, p.sigma))
    dw = 2e-18 + 4e-17 + 2.2e-16 * terms * 4
    return 10 * (vol * dw / (2 * w) + 1e-18)


@given(
    smile=ssvi_smile(t_years=0.25),
    ratios=st.lists(st.floats(0.05, 20.0), min_size=1, max_size=6),
    forward=st.integers(10**12, 10**30),
    elapsed=st.floats(0.0, 0.999),
)
def test_implied_vol_at__ssvi_smile__matches_reference(admin, risk_manager, guardian, smile, ratios, forward, elapsed):
    t0 = now()
    expiry = t0 + 91 * 86400
    assume(ref.classify(ref.smile_write_checks(expiry, smile, t0, {})) == "ok")
    reg = risk.deploy_registry(admin, risk_manager, guardian, expiries=[expiry], smiles=[smile])
    travel_to(t0 + int((expiry - t0) * elapsed))
    tau = expiry - now()
    p = ref.smile_floats(smile)
    for r in ratios:
        strike = int(forward * r)
        k = math.log(strike / forward)
        w = float(svi_ref.total_variance(p, k))
        expected = math.sqrt(w / (tau / YEAR))
        got = reg.implied_vol_at(expiry, strike, forward) / 1e18
        assert abs(got - expected) <= _tolerance(p, k, expected, w), (r, got, expected)


@given(smile=ssvi_smile(t_years=0.25), k=st.floats(-5.0, 5.0))
def test_total_variance_at__matches_reference(admin, risk_manager, guardian, smile, k):
    t0 = now()
    expiry = t0 + 91 * 86400
    assume(ref.classify(ref.smile_write_checks(expiry, smile, t0, {})) == "ok")
    reg = risk.deploy_registry(admin, risk_manager, guardian, expiries=[expiry], smiles=[smile])
    k_wad = int(k * 1e18)
    p = ref.smile_floats(smile)
    expected = float(svi_ref.total_variance(p, k_wad / 1e18))
    x = k_wad / 1e18 - p.m
    terms = abs(p.a) + p.b * (abs(p.rho * x) + math.hypot(x, p.sigma))
    # contract within 2 wei; float64 within ~1e-16 of its largest term: 10x margin
    assert abs(reg.total_variance_at(expiry, k_wad) / 1e18 - expected) <= 10 * (2e-18 + 2.2e-16 * terms * 4)


def test_implied_vol_at__atm_of_default_surface__is_the_ssvi_atm_vol(registry):
    """The default surface is SSVI with theta = 0.6^2 T: at the money (k = 0) w = theta, so the vol is
    0.6 when T is measured at deployment (no time has passed in this test).  The parameters were rounded
    to WAD (0.5e-18 each), which moves w(0) by a few 1e-18; with w(0) >= 0.0069 the vol moves by at most
    0.6 * 3e-18 / (2 * 0.0069) ~ 1.3e-16: 1000 wei allows that with margin."""
    for e in registry.expiries():
        v = registry.implied_vol_at(e, wad(40000), wad(40000))
        assert abs(v - wad("0.6")) <= 1000, v


def test_implied_vol_at__expiry_passed__fails(registry):
    e = registry.expiries()[0]
    travel_to(e)
    with boa.reverts("risk: expiry passed"):
        registry.implied_vol_at(e, wad(40000), wad(40000))


def test_implied_vol_at__unlisted_expiry__fails(registry):
    e = registry.expiries()[0] + 1
    with boa.reverts("risk: no surface for expiry"):
        registry.implied_vol_at(e, wad(40000), wad(40000))
    with boa.reverts("risk: no surface for expiry"):
        registry.smile(e)
    with boa.reverts("risk: no surface for expiry"):
        registry.total_variance_at(e, 0)
    assert not registry.is_listed(e)


@pytest.mark.parametrize("strike,forward,reason", [
    (0, wad(40000), "risk: price must be positive"),
    (wad(40000), 0, "risk: price must be positive"),
    (10**36 + 1, wad(40000), "risk: price out of range"),
    (wad(40000), 10**36 + 1, "risk: price out of range"),
    (1, 10**36, "risk: strike/forward out of range"),
])
def test_implied_vol_at__bad_prices__fail_with_reason(registry, strike, forward, reason):
    e = registry.expiries()[0]
    with boa.reverts(reason):
        registry.implied_vol_at(e, strike, forward)


def test_implied_vol_at__extreme_but_valid_prices__finite(registry):
    """The widest ratios the domain allows evaluate without overflow (deep wings: w grows linearly)."""
    e = registry.expiries()[-1]
    lo = registry.implied_vol_at(e, 10**18, 10**36)       # K/F = 1e-18
    hi = registry.implied_vol_at(e, 10**36, 1)            # K/F = 1e36
    p = risk.decode_smile(registry.smile(e))
    tau = (e - now()) / YEAR
    for ratio, got in ((1e-18, lo), (1e36, hi)):
        expected = math.sqrt(float(svi_ref.total_variance(p, math.log(ratio))) / tau)
        assert abs(got / 1e18 - expected) <= 1e-9 * expected


def test_smile_getter__roundtrips_the_packed_storage(registry):
    now_ = now()
    exps, smiles = risk.default_surface(now_)
    for e, s in zip(registry.expiries(), smiles):
        assert smile_tuple(registry.smile(e)) == s
