"""Static-arbitrage checks of fitted smiles, on a fixed fine grid of log-moneyness.

    butterfly   Gatheral's density g(k) >= 0 and w(k) > 0 at every grid point (reference.svi.butterfly_density)
    calendar    w_{T2}(k) >= w_{T1}(k) at every grid point for consecutive expiries T1 < T2
                (total variance non-decreasing in expiry at fixed k = ln(K / F_T); reference.svi.calendar_violations)
    static      the registry's parameter bounds (bounds.registry_violations)

K_GRID: 2401 points on [-3, 3] (step 0.0025).  Every quote of the shared BTC chain lies inside
[-1.2, 1.0]; the grid reaches well into the wings the registry will extrapolate to.

The checks use zero tolerance: a smile passes only if the inequalities hold at every grid point in float64.
"""
from __future__ import annotations

import numpy as np

from reference.svi import SVI, butterfly_density, calendar_violations, total_variance
from vyopt.calibration.bounds import REGISTRY_BOUNDS, SviBounds, registry_violations

K_GRID = np.linspace(-3.0, 3.0, 2401)


def butterfly_report(p: SVI, k_grid=K_GRID) -> dict:
    """min g and min w over the grid, the k of the worst g, and whether the smile is butterfly-free."""
    kg = np.asarray(k_grid, dtype=float)
    w = total_variance(p, kg)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = butterfly_density(p, kg)
    g = np.where(np.isfinite(g), g, -np.inf)
    i = int(np.argmin(g))
    bad = (g < 0.0) | (w <= 0.0)
    return {
        "ok": bool(not bad.any()),
        "min_g": float(g[i]),
        "k_at_min_g": float(kg[i]),
        "min_w": float(w.min()),
        "violating_points": int(bad.sum()),
    }


def calendar_report(smiles: list[tuple[float, SVI]], k_grid=K_GRID) -> dict:
    """Consecutive-expiry calendar check; smiles are (T years, SVI) in any order."""
    kg = np.asarray(k_grid, dtype=float)
    viol = calendar_violations(smiles, kg, tol=0.0)
    ordered = sorted(smiles, key=lambda s: s[0])
    gaps = []
    for (t1, p1), (t2, p2) in zip(ordered, ordered[1:]):
        gaps.append({"t1": float(t1), "t2": float(t2),
                     "min_w_increase": float(np.min(total_variance(p2, kg) - total_variance(p1, kg)))})
    return {
        "ok": not viol,
        "violations": [{"t1": float(a), "t2": float(b), "k": float(c)} for a, b, c in viol],
        "pairs": gaps,
    }


def static_report(p: SVI, bounds: SviBounds = REGISTRY_BOUNDS) -> dict:
    v = registry_violations(p, bounds)
    return {"ok": not v, "violations": v}


def surface_report(smiles: list[tuple[float, SVI]], k_grid=K_GRID, bounds: SviBounds = REGISTRY_BOUNDS) -> dict:
    """All three checks for a surface; 'ok' only if every slice and every consecutive pair passes."""
    slices = []
    for t, p in sorted(smiles, key=lambda s: s[0]):
        slices.append({"t": float(t), "butterfly": butterfly_report(p, k_grid), "static": static_report(p, bounds)})
    cal = calendar_report(smiles, k_grid)
    ok = cal["ok"] and all(s["butterfly"]["ok"] and s["static"]["ok"] for s in slices)
    return {"ok": ok, "slices": slices, "calendar": cal}
