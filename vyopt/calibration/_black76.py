"""Black-76 on the forward with r = 0 — a thin adapter over reference.black_scholes (float64 model).

With r = 0 the forward F plays the role of the spot, and Black-Scholes on (S = F, r = 0) *is* Black-76,
undiscounted.  Every Black price, vega and implied vol in vyopt.calibration goes through this module, so
there is exactly one pricing model (reference.black_scholes) and one place that adapts its argument order.

Accuracy of the inversion (reference.black_scholes.implied_vol_f64: 64 bisections on ln sigma over
[1e-4, 20], out-of-the-money prices compared in log space), measured in tests/calibration/test_black76.py
over |k| <= 2, sigma in [0.05, 3], T in [1 day, 2 years]:
    vol -> price -> vol   relative error <= 1e-12 wherever the normalised vega dc/ds >= 1e-12
    price -> vol -> price relative error <= 1e-12 for every price >= 1e-12 F (calls and puts, ITM too)
Quotes are far inside both domains (Deribit's smallest price, one tick, is 5e-4 F).  Below 1e-12 F the
float64 price itself (a difference of two legs) carries more than 1e-12 relative error.
"""
from __future__ import annotations

import numpy as np

from reference import black_scholes as _bs


def price(forward, strike, t_years, vol, is_call):
    """Undiscounted Black-76 price (unit of the forward); intrinsic at T = 0.  Vectorised."""
    return _bs.price_f64(forward, strike, vol, t_years, 0.0, is_call)


def vega(forward, strike, t_years, vol):
    """dPrice/dvol per 1.0 of vol, undiscounted.  Vectorised."""
    return _bs.greeks_f64(forward, strike, vol, t_years, 0.0, True).vega


def implied_vol(price_, forward, strike, t_years, is_call):
    """Black-76 implied vol of an undiscounted price; NaN where no vol in [1e-4, 20] reprices it
    (at or below intrinsic, at or above F for a call / K for a put, or T <= 0).  Vectorised."""
    p = np.asarray(price_, dtype=float)
    t = np.asarray(t_years, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _bs.implied_vol_f64(p, forward, strike, np.where(t > 0, t, 0.0), 0.0, is_call)
