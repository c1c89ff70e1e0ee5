"""Arbitrage and registry-bound checks of smiles, and their enforcement by the fit."""
import numpy as np
import pytest

from reference.svi import SVI, butterfly_density, total_variance
from vyopt.calibration import (
    K_GRID, REGISTRY_BOUNDS, butterfly_report, calendar_report, fit_slice, fit_vols, registry_violations,
    surface_report,
)

# Axel Vogt's smile (Gatheral & Jacquier 2014, "Arbitrage-free SVI volatility surfaces", section 2.2):
# it satisfies every static condition yet g(k) < 0 around k ~ 0.9 (butterfly arbitrage), T = 1.
VOGT = SVI(a=-0.0410, b=0.1331, rho=0.3060, m=0.3586, sigma=0.4153)
CLEAN = SVI(a=0.04, b=0.10, rho=-0.3, m=0.0, sigma=0.2)
SHORT = SVI(a=0.04, b=0.20, rho=-0.5, m=0.0, sigma=0.2)  # T = 0.25
# higher at the money than SHORT (0.09 > 0.08) but flatter wings: below SHORT for |k| large
CROSSING = SVI(a=0.07, b=0.10, rho=-0.5, m=0.0, sigma=0.2)


def test_butterfly_report__vogt_smile__is_flagged_although_static_conditions_hold():
    assert registry_violations(VOGT) == []
    r = butterfly_report(VOGT)
    assert not r["ok"]
    assert r["min_g"] < -0.03  # Gatheral & Jacquier's figure 1 shows g dipping to about -0.03 to -0.04
    assert 0.6 < r["k_at_min_g"] < 1.3 and r["violating_points"] > 0


def test_butterfly_report__clean_smile__passes():
    r = butterfly_report(CLEAN)
    assert r["ok"] and r["min_g"] > 0 and r["violating_points"] == 0


def test_calendar_report__crossing_smiles__are_flagged_even_with_atm_variance_increasing():
    assert total_variance(CROSSING, 0.0) > total_variance(SHORT, 0.0)
    r = calendar_report([(0.5, CROSSING), (0.25, SHORT)])  # any order
    assert not r["ok"]
    assert r["violations"][0]["t1"] == 0.25 and r["violations"][0]["t2"] == 0.5
    assert r["pairs"][0]["min_w_increase"] < 0


def test_calendar_report__parallel_shift_up__passes():
    later = SVI(SHORT.a + 0.02, SHORT.b, SHORT.rho, SHORT.m, SHORT.sigma)
    r = calendar_report([(0.25, SHORT), (0.5, later)])
    assert r["ok"] and r["pairs"][0]["min_w_increase"] == pytest.approx(0.02, abs=1e-15)


@pytest.mark.parametrize("p,reason", [
    (SVI(0.04, -0.01, 0.0, 0.0, 0.2), "b below minimum"),
    (SVI(0.04, 0.10, 0.9995, 0.0, 0.2), "|rho| above maximum"),
    (SVI(0.04, 0.10, 0.0, 0.0, 5e-5), "sigma below minimum"),
    (SVI(0.04, 0.10, 0.0, 5.5, 0.2), "|m| above maximum"),
    (SVI(5.5, 0.10, 0.0, 0.0, 0.2), "a out of range"),
    (SVI(0.04, 1.60, 0.3, 0.0, 0.2), "wing slope b(1+|rho|) above maximum"),
    (SVI(-0.05, 0.10, 0.0, 0.0, 0.2), "minimum total variance negative"),
])
def test_registry_violations__each_broken_bound__is_named(p, reason):
    assert reason in registry_violations(p)


def test_registry_violations__bounds_at_their_limits__are_accepted():
    b = REGISTRY_BOUNDS
    rho = b.rho_abs_max
    bb = b.wing_slope_max / (1 + rho)
    sig = 1.0
    a = -bb * sig * np.sqrt(1 - rho * rho)  # minimum total variance exactly 0
    assert registry_violations(SVI(a, bb, -rho, b.m_abs_max, sig)) == []


def test_surface_report__flags_a_surface_with_one_bad_slice():
    bad = surface_report([(0.25, SHORT), (1.0, VOGT)])
    assert not bad["ok"]
    good = surface_report([(0.25, SHORT), (0.5, SVI(SHORT.a + 0.02, SHORT.b, SHORT.rho, SHORT.m, SHORT.sigma))])
    assert good["ok"]


def _quotes_from(p, t, k):
    vol = np.sqrt(total_variance(p, k) / t)
    return vol, np.full(k.shape, 0.005)  # half-spread 0.5 vol point


def test_fit_slice__quotes_from_an_arbitrageable_smile__give_a_butterfly_free_fit():
    k = np.linspace(-0.8, 1.6, 40)
    vol, h = _quotes_from(VOGT, 1.0, k)
    f = fit_slice(k, 1.0, vol, h)
    assert f.constrained  # the unconstrained optimum would copy Vogt's arbitrage
    assert np.min(butterfly_density(f.params, K_GRID)) >= 0.0
    assert registry_violations(f.params) == []
    # and still close to the quotes: the arbitrage costs a small fraction of a vol point on average
    err = fit_vols(f.params, k, 1.0) - vol
    assert np.sqrt(np.mean(err**2)) < 0.01


def test_fit_slice__quotes_that_cross_the_previous_expiry__give_a_calendar_free_fit():
    k = np.linspace(-0.6, 0.6, 25)
    vol, h = _quotes_from(CROSSING, 0.5, k)
    f = fit_slice(k, 0.5, vol, h, prev=SHORT)
    assert np.min(total_variance(f.params, K_GRID) - total_variance(SHORT, K_GRID)) >= 0.0
    assert butterfly_report(f.params)["ok"] and registry_violations(f.params) == []
