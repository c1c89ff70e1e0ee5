"""Raw SVI total-variance smiles (Gatheral 2004; Gatheral & Jacquier 2014), float64.

A smile for one expiry is five numbers (a, b, rho, m, sigma):

    w(k) = a + b * (rho * (k - m) + sqrt((k - m)**2 + sigma**2)),   k = ln(K / F)

w is the total implied variance sigma_BS(k)**2 * T, T in years.  This module is the
independent reference for everything the contracts and the calibration tools do with a
smile: evaluate it, its first two derivatives, Gatheral's butterfly density g(k), the
static parameter conditions, and the calendar condition across expiries.

Units: plain floats (not WAD).  T in years (365-day year).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

YEAR_SECONDS = 365 * 24 * 3600


@dataclass(frozen=True)
class SVI:
    a: float
    b: float
    rho: float
    m: float
    sigma: float

    def as_tuple(self) -> tuple[float, float, float, float, float]:
        return (self.a, self.b, self.rho, self.m, self.sigma)


def total_variance(p: SVI, k):
    """w(k), total implied variance at log-moneyness k = ln(K/F)."""
    x = np.asarray(k, dtype=float) - p.m
    return p.a + p.b * (p.rho * x + np.sqrt(x * x + p.sigma * p.sigma))


def dw_dk(p: SVI, k):
    x = np.asarray(k, dtype=float) - p.m
    return p.b * (p.rho + x / np.sqrt(x * x + p.sigma * p.sigma))


def d2w_dk2(p: SVI, k):
    x = np.asarray(k, dtype=float) - p.m
    r = np.sqrt(x * x + p.sigma * p.sigma)
    return p.b * p.sigma * p.sigma / (r * r * r)


def implied_vol(p: SVI, k, t_years: float):
    """Black-Scholes implied volatility sqrt(w(k) / T)."""
    if t_years <= 0:
        raise ValueError("svi: expiry must be in the future")
    return np.sqrt(total_variance(p, k) / t_years)


def butterfly_density(p: SVI, k):
    """Gatheral's g(k); the smile is free of butterfly arbitrage iff g(k) >= 0 and w > 0.

    g(k) = (1 - k w' / (2 w))**2 - (w'**2 / 4) * (1 / w + 1 / 4) + w'' / 2
    """
    k = np.asarray(k, dtype=float)
    w = total_variance(p, k)
    w1 = dw_dk(p, k)
    w2 = d2w_dk2(p, k)
    return (1.0 - k * w1 / (2.0 * w)) ** 2 - (w1 * w1 / 4.0) * (1.0 / w + 0.25) + w2 / 2.0


def min_total_variance(p: SVI) -> float:
    """Minimum of w over all k: a + b * sigma * sqrt(1 - rho**2) (attained at k = m - rho sigma / sqrt(1-rho^2))."""
    return p.a + p.b * p.sigma * np.sqrt(1.0 - p.rho * p.rho)


def static_violations(p: SVI) -> list[str]:
    """The cheap parameter conditions the registry checks on every write; [] when all hold."""
    out = []
    if not p.b >= 0:
        out.append("b must be non-negative")
    if not abs(p.rho) < 1:
        out.append("|rho| must be below 1")
    if not p.sigma > 0:
        out.append("sigma must be positive")
    if not out and min_total_variance(p) < 0:
        out.append("minimum total variance must be non-negative")
    if not out and p.b * (1.0 + abs(p.rho)) > 2.0:
        out.append("Lee moment bound b(1+|rho|) <= 2")
    return out


def butterfly_violations(p: SVI, k_grid=None, tol: float = 0.0) -> np.ndarray:
    """k points of the grid where g(k) < -tol (empty array when the smile is butterfly-free there)."""
    if k_grid is None:
        k_grid = np.linspace(-3.0, 3.0, 1201)
    k_grid = np.asarray(k_grid, dtype=float)
    g = butterfly_density(p, k_grid)
    return k_grid[g < -tol]


def calendar_violations(smiles: list[tuple[float, SVI]], k_grid, tol: float = 0.0) -> list[tuple[float, float, float]]:
    """Pairs of consecutive expiries (T1 < T2) where w_T2(k) < w_T1(k) - tol on the grid.

    Returns (T1, T2, k) for the worst point of each offending pair.
    """
    k_grid = np.asarray(k_grid, dtype=float)
    ordered = sorted(smiles, key=lambda s: s[0])
    out = []
    for (t1, p1), (t2, p2) in zip(ordered, ordered[1:]):
        diff = total_variance(p2, k_grid) - total_variance(p1, k_grid)
        i = int(np.argmin(diff))
        if diff[i] < -tol:
            out.append((t1, t2, float(k_grid[i])))
    return out
