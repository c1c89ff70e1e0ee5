"""SVI fit: known smiles recovered from synthetic chains, registry bounds respected at the edges.

Tolerances.
* Noise-free chain (mid price = true price): the mid vols equal the true vols to the inversion's 1e-12, so
  the least-squares optimum is the true smile with zero residual; TRF stops at a relative step of 1e-10,
  so each parameter must come back within 1e-8 (observed ~2e-11).
* Noisy chain (mid moved by u x half-spread, u ~ U(-1/2, 1/2), seed 7): to first order the fitted
  parameters are the truth plus (J'J)^-1 J' e, J the Jacobian of the spread-normalised residuals at the
  truth and e the normalised noise (variance 1/12).  The standard error of each parameter is therefore
  sqrt(diag((J'J)^-1) / 12), computed below from reference.svi by central differences — independently of
  the fitting code.  We require every parameter within 5 standard errors (|z| > 5 has probability ~6e-7
  per parameter under the Gaussian approximation; over 20 seeds the largest |z| observed was 2.8).
* The true vol of every quote lies inside its bid-ask by construction, so a fit can put every vol inside
  too; we require it does (the bar for real data is 90%).
"""
import numpy as np
import pytest

from reference.svi import SVI, total_variance
from vyopt.calibration import REGISTRY_BOUNDS, fit_slice, fit_surface, fit_vols, prepare_quotes, registry_violations

from .calib_helpers import TRUE_SMILES, half_spread_vol, synthetic_chain

PARAMS = ("a", "b", "rho", "m", "sigma")


def standard_errors(p: SVI, k, t):
    theta = np.array(p.as_tuple())
    h = half_spread_vol(k)
    cols = []
    for j in range(5):
        e = np.zeros(5)
        e[j] = 1e-6
        up = np.sqrt(total_variance(SVI(*(theta + e)), k) / t)
        dn = np.sqrt(total_variance(SVI(*(theta - e)), k) / t)
        cols.append((up - dn) / 2e-6 / h)
    jac = np.array(cols).T
    return np.sqrt(np.diag(np.linalg.inv(jac.T @ jac)) / 12.0)


@pytest.fixture(scope="module")
def noisy_fit():
    q, _ = prepare_quotes(synthetic_chain(noise=1.0, seed=7))
    return q, fit_surface(q)


def test_fit_surface__noise_free_chain__recovers_the_parameters_to_1e8():
    q, rep = prepare_quotes(synthetic_chain(noise=0.0))
    assert rep.kept == 75  # 25 OTM quotes per expiry
    fits = fit_surface(q)
    assert len(fits) == len(TRUE_SMILES)
    for (t, true), s in zip(TRUE_SMILES, fits):
        got = s["fit"].params
        for name, g, w in zip(PARAMS, got.as_tuple(), true.as_tuple()):
            assert abs(g - w) <= 1e-8, (t, name, g, w)


@pytest.mark.parametrize("slice_index", range(len(TRUE_SMILES)))
def test_fit_surface__bid_ask_noise__parameters_within_five_standard_errors(noisy_fit, slice_index):
    q, fits = noisy_fit
    t, true = TRUE_SMILES[slice_index]
    s = fits[slice_index]
    i = s["index"]
    se = standard_errors(true, q.k[i], t)
    z = (np.array(s["fit"].params.as_tuple()) - np.array(true.as_tuple())) / se
    assert np.all(np.abs(z) <= 5.0), dict(zip(PARAMS, z))


def test_fit_surface__bid_ask_noise__every_fitted_vol_inside_the_bid_ask(noisy_fit):
    q, fits = noisy_fit
    for s in fits:
        i = s["index"]
        fv = fit_vols(s["fit"].params, q.k[i], q.t_years[i])
        assert np.all((fv >= q.vol_bid[i]) & (fv <= q.vol_ask[i]))
        assert registry_violations(s["fit"].params) == []


def test_fit_slice__data_beyond_the_rho_bound__stops_exactly_at_the_bound():
    # a smile with rho = -1 (a pure left wing) cannot be stored; the fit must land on rho = -0.999
    k = np.linspace(-0.5, 0.5, 21)
    true = SVI(a=0.02, b=0.15, rho=-1.0, m=0.1, sigma=0.1)
    vol = np.sqrt(total_variance(true, k) / 0.25)
    f = fit_slice(k, 0.25, vol, np.full(k.shape, 0.005))
    assert f.params.rho == pytest.approx(-REGISTRY_BOUNDS.rho_abs_max, abs=1e-12)
    assert f.params.rho >= -REGISTRY_BOUNDS.rho_abs_max
    assert registry_violations(f.params) == []


def test_fit_slice__data_steeper_than_the_lee_bound__stays_within_it():
    # total-variance wing slope 3 > 2: the fit must cap b (1 + |rho|) at 2
    k = np.linspace(-1.0, 1.0, 21)
    w = 0.05 + 3.0 * np.abs(k)  # a V-shaped smile steeper than any storable SVI
    f = fit_slice(k, 1.0, np.sqrt(w), np.full(k.shape, 0.01))
    assert f.params.b * (1 + abs(f.params.rho)) <= REGISTRY_BOUNDS.wing_slope_max
    assert registry_violations(f.params) == []
