"""Raw-SVI fit of one expiry, and of a whole surface expiry by expiry.

Method (deterministic, no random numbers):

* Objective.  For each quote i of the expiry, the residual is spread-normalised in vol:

      r_i = (sigma_fit(k_i) - sigma_mid_i) / h_i,     sigma_fit(k) = sqrt(w(k) / T_i),

  h_i the half bid-ask spread in vol (floored, see quotes.py).  |r_i| <= 1 is exactly "the fitted vol is
  inside the bid-ask".  Minimising sum rho(r_i^2) therefore weights each quote by the inverse square of its
  spread: tight, liquid quotes pin the smile, wide ones only bound it.  rho is scipy's soft-L1 loss with
  scale 1 (quadratic inside the spread, linear beyond it), so a stale quote far outside the others pulls
  the smile by a bounded amount instead of quadratically.

* Registry bounds by construction.  The optimiser works on theta = (vmin, beta, rho, m, sigma) in a box:

      vmin  in [0, a_max]        minimum total variance a + b sigma sqrt(1 - rho^2)
      beta  in [0, 1]            b = beta * wing_slope_max / (1 + |rho|)
      rho   in [-rho_abs_max, rho_abs_max],  m in [-m_abs_max, m_abs_max],  sigma in [sigma_min, 2.5]

  and a = vmin - b sigma sqrt(1 - rho^2).  Every point of the box satisfies every static registry bound
  of bounds.py (b sigma sqrt(1-rho^2) <= 2 * 2.5 = 5 keeps a >= -5), so stage 1 below needs no
  constraint handling.  (If the registry's a_min is switched to something the box does not imply, stage 2
  enforces a >= a_min as a constraint.)  The sigma cap 2.5 is the calibration's, not the registry's; on the
  shared BTC chain it binds for the two longest expiries, whose quoted smiles are almost parabolas (SVI
  then trades a, b and sigma off along a flat valley; the fit stays inside the bid-ask).

* Stage 1: multi-start box-constrained least squares (scipy.optimize.least_squares, TRF, soft-L1).  A
  fixed grid of 3 (rho) x 2 (m) x 2 (sigma) x 2 (beta) = 24 starts, vmin started at 0.95 x the smallest
  observed total variance; the lowest cost wins (ties: first start).  No random numbers are used.

* Stage 2, only when the stage-1 optimum breaks a no-arbitrage condition: SLSQP from the four best
  stage-1 points, minimising the same soft-L1 cost under the constraints g(k_j) >= 1e-6 (Gatheral's
  butterfly density) and w(k_j) >= w_prev(k_j) + 1e-7 (calendar, against the previous, shorter expiry's
  fitted smile) at every point k_j of the check grid (arbitrage.K_GRID).  The small floors keep the result
  strictly inside the arbitrage-free set, so the final zero-tolerance check passes (the cost is averaged
  over the quotes and the calendar slack scaled by the previous smile's mean variance, so SLSQP sees
  numbers of order one; if it still stops outside, it is retried once with floors 100 times larger).  A
  candidate is accepted only if it passes the zero-tolerance checks; if none does, the stage-1 fit is
  returned and the report shows the violation (it never happened in the tests).  Expiries are fitted
  from the shortest to the longest so that each sees its predecessor.  On the shared BTC chain only the
  longest expiry needs stage 2 (its unconstrained fit dips below the previous one far in the left wing).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares, minimize

from reference.svi import SVI, butterfly_density, total_variance
from vyopt.calibration.arbitrage import K_GRID
from vyopt.calibration.bounds import FIT_SIGMA_MAX, REGISTRY_BOUNDS, SviBounds

G_FLOOR = 1e-6
W_GAP = 1e-7


@dataclass(frozen=True)
class SliceFit:
    params: SVI
    cost: float
    nfev: int
    starts: int
    converged_starts: int  # stage-1 starts whose final cost is within 1e-9 (relative) of the best
    constrained: bool  # stage 2 (no-arbitrage constraints) was needed


def theta_to_svi(theta, bounds: SviBounds = REGISTRY_BOUNDS) -> SVI:
    vmin, beta, rho, m, sigma = (float(x) for x in theta)
    b = beta * bounds.wing_slope_max / (1.0 + abs(rho))
    a = vmin - b * sigma * np.sqrt(1.0 - rho * rho)
    return SVI(a=float(a), b=float(b), rho=rho, m=m, sigma=sigma)


def svi_to_theta(p: SVI, bounds: SviBounds = REGISTRY_BOUNDS) -> np.ndarray:
    vmin = p.a + p.b * p.sigma * np.sqrt(1.0 - p.rho * p.rho)
    beta = p.b * (1.0 + abs(p.rho)) / bounds.wing_slope_max
    return np.array([vmin, beta, p.rho, p.m, p.sigma])


def _box(bounds: SviBounds):
    lo = np.array([bounds.min_variance_min, 0.0, -bounds.rho_abs_max, -bounds.m_abs_max, bounds.sigma_min])
    hi = np.array([bounds.a_max, 1.0, bounds.rho_abs_max, bounds.m_abs_max, min(FIT_SIGMA_MAX, bounds.sigma_max)])
    return lo, hi


def _soft_l1(r):
    return float(np.sum(2.0 * (np.sqrt(1.0 + r * r) - 1.0)))


def fit_slice(
    k,
    t_years,
    vol_mid,
    half_spread,
    prev: SVI | None = None,
    *,
    bounds: SviBounds = REGISTRY_BOUNDS,
    k_grid=K_GRID,
) -> SliceFit:
    """Fit raw SVI to one expiry's quotes (module docstring); prev = the shorter expiry's smile or None."""
    k = np.asarray(k, dtype=float)
    t = np.broadcast_to(np.asarray(t_years, dtype=float), k.shape)
    vm = np.asarray(vol_mid, dtype=float)
    h = np.asarray(half_spread, dtype=float)
    kg = np.asarray(k_grid, dtype=float)
    w_prev = total_variance(prev, kg) if prev is not None else None
    lo, hi = _box(bounds)

    def resid(theta):
        p = theta_to_svi(theta, bounds)
        fit = np.sqrt(np.maximum(total_variance(p, k), 0.0) / t)
        return (fit - vm) / h

    def slack(theta):
        """Values that must be >= 0 for the smile to pass the final checks: g on the grid, w - w_prev on
        the grid, and a - a_min (the one registry bound the box does not imply if a_min is ever raised
        above -b sigma sqrt(1-rho^2); with the default bounds it never binds)."""
        p = theta_to_svi(theta, bounds)
        with np.errstate(divide="ignore", invalid="ignore"):
            g = butterfly_density(p, kg)
        g = np.where(np.isfinite(g), g, -1.0)
        parts = [g, [p.a - bounds.a_min]]
        if w_prev is not None:
            parts.append(total_variance(p, kg) - w_prev)
        return np.concatenate(parts)

    floors = np.concatenate([np.full(kg.size, G_FLOOR), [0.0], np.full(kg.size if prev is not None else 0, W_GAP)])
    # SLSQP works best with objective and constraints of order one: the cost is averaged over the quotes and
    # the calendar slack is measured in units of the previous smile's mean total variance
    scale = np.ones_like(floors)
    if prev is not None:
        scale[kg.size + 1:] = 1.0 / max(float(np.mean(w_prev)), 1e-12)

    def feasible(theta) -> bool:
        return bool(np.min(slack(theta)) >= 0.0)

    w_obs = vm * vm * t
    vmin0 = float(np.clip(0.95 * w_obs.min(), lo[0], hi[0]))
    m_atm = float(k[np.argmin(w_obs)])
    scale = float(max(np.ptp(k), 0.05))
    starts = []
    for rho0, m0, s0, beta0 in itertools.product((-0.5, 0.0, 0.5), (0.0, m_atm), (0.1 * scale, 0.5 * scale), (0.1, 0.4)):
        starts.append(np.clip([vmin0, beta0, rho0, np.clip(m0, -1, 1), s0], lo + 1e-12, hi - 1e-12))

    # stage 1: box-constrained robust least squares from every start
    results = []
    nfev = 0
    for x0 in starts:
        r = least_squares(resid, x0, bounds=(lo, hi), loss="soft_l1", f_scale=1.0, method="trf",
                          x_scale="jac", xtol=1e-10, ftol=1e-10, gtol=1e-10, max_nfev=1000)
        nfev += r.nfev
        results.append((r.cost, r.x))
    # stage 2: if the best point breaks the no-arbitrage conditions, polish the best few under them,
    # asking for the small floors so that the result is strictly feasible
    results.sort(key=lambda c: c[0])
    best_cost, best_x = results[0]
    constrained = False
    if not feasible(best_x):
        constrained = True
        cands = [(c, x) for c, x in results if feasible(x)][:1]
        n_q = float(k.size)
        for floor_factor in (1.0, 100.0):  # retry further inside the feasible set if SLSQP stops just outside
            for _, x0 in results[:4]:
                r = minimize(lambda th: _soft_l1(resid(th)) / n_q, x0, method="SLSQP", bounds=list(zip(lo, hi)),
                             constraints=[{"type": "ineq", "fun": lambda th: (slack(th) - floor_factor * floors) * scale}],
                             options={"maxiter": 500, "ftol": 1e-12})
                nfev += r.nfev
                if feasible(r.x):
                    cands.append((_soft_l1(resid(r.x)) / 2.0, r.x))
            if cands:
                break
        if cands:
            best_cost, best_x = min(cands, key=lambda c: c[0])
    costs = np.array([c for c, _ in results])
    conv = int(np.sum(costs <= costs[0] * (1 + 1e-9) + 1e-15))
    return SliceFit(params=theta_to_svi(best_x, bounds), cost=float(best_cost), nfev=nfev,
                    starts=len(starts), converged_starts=conv, constrained=constrained)


def fit_vols(p: SVI, k, t_years):
    """Fitted Black vol sqrt(w(k) / T) at the quotes."""
    return np.sqrt(np.maximum(total_variance(p, k), 0.0) / np.asarray(t_years, dtype=float))
