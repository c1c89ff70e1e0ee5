"""The hard bounds the on-chain SVI registry enforces — the ONE place vyopt.calibration reads them.

SWITCH: when the registry contract lands, replace the literals in REGISTRY_BOUNDS by the registry's
constants (read from its source or from a deployed instance); nothing else in vyopt.calibration
hard-codes a bound.

    b >= 0, |rho| <= 0.999, sigma >= 1e-4, a + b sigma sqrt(1 - rho^2) >= 0 (minimum total variance),
    b (1 + |rho|) <= 2 (Lee's moment bound on the total-variance wings), |m| <= 5, -5 <= a <= 5,
    total variance non-decreasing across expiries (checked on a k grid, vyopt.calibration.arbitrage).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from reference.svi import SVI, min_total_variance


@dataclass(frozen=True)
class SviBounds:
    b_min: float = 0.0
    rho_abs_max: float = 0.999
    sigma_min: float = 1e-4
    sigma_max: float = math.inf  # the registry sets none (the calibration caps sigma itself, FIT_SIGMA_MAX)
    min_variance_min: float = 0.0  # a + b sigma sqrt(1 - rho^2) >= this
    wing_slope_max: float = 2.0  # b (1 + |rho|) <= this
    m_abs_max: float = 5.0
    a_min: float = -5.0
    a_max: float = 5.0
    calendar_non_decreasing: bool = True

    def as_dict(self) -> dict:
        return {k: (v if not (isinstance(v, float) and math.isinf(v)) else None) for k, v in asdict(self).items()}


REGISTRY_BOUNDS = SviBounds()

# Not a registry bound: the calibration's own box on sigma.  With b <= 2 and sigma <= 2.5 the term
# b sigma sqrt(1 - rho^2) stays <= 5, so the reparametrisation in vyopt.calibration.fit
# (a = vmin - b sigma sqrt(1 - rho^2), vmin in [0, a_max]) keeps a inside [a_min, a_max] by construction.
FIT_SIGMA_MAX = 2.5


def registry_violations(p: SVI, bounds: SviBounds = REGISTRY_BOUNDS) -> list[str]:
    """The registry bounds p breaks, as short reasons; [] when it would be accepted."""
    out = []
    vals = p.as_tuple()
    if not all(math.isfinite(v) for v in vals):
        return ["parameters must be finite"]
    if p.b < bounds.b_min:
        out.append("b below minimum")
    if abs(p.rho) > bounds.rho_abs_max:
        out.append("|rho| above maximum")
    if p.sigma < bounds.sigma_min:
        out.append("sigma below minimum")
    if p.sigma > bounds.sigma_max:
        out.append("sigma above maximum")
    if abs(p.m) > bounds.m_abs_max:
        out.append("|m| above maximum")
    if not bounds.a_min <= p.a <= bounds.a_max:
        out.append("a out of range")
    if p.b * (1.0 + abs(p.rho)) > bounds.wing_slope_max:
        out.append("wing slope b(1+|rho|) above maximum")
    if abs(p.rho) < 1 and min_total_variance(p) < bounds.min_variance_min:
        out.append("minimum total variance negative")
    return out
