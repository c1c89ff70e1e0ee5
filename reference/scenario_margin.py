"""Scenario (SPAN/Deribit-portfolio-margin style) margin of an options portfolio: the reference model.

Rule (the protocol's spec; the registry and the market are to adopt the same numbers from default_grid()
and MarginParams):

    maintenance(portfolio, S, vol) = max(0, max over scenarios s of c_s [V(S, vol) - V(S (1 + dS_s), vol * f_s)])
                                     + min_margin_fraction * S * sum over short legs of |size|
    initial = maintenance * initial_factor

    V(S, vol) = sum_legs size * Black76(F = S, K, T, vol, call/put)   (r = 0, so F = S; undiscounted)

Each scenario is an instantaneous move: spot shocked by dS_s (relative), every leg's vol multiplied by
f_s, its loss counted at the cover fraction c_s (1 for the core grid), time does not advance (no theta is
credited, which is conservative for short options).  Sizes are in
units of the underlying (+ long, - short); values and margins in the quote currency (USD).

Default grid (ScenarioGrid / default_grid()):
    core    spot shocks -16%, -12%, -8%, -4%, 0, +4%, +8%, +12%, +16%  x  vol factors 0.80, 1.00, 1.25   (27)
    tail    (-33%, vol x 1.5) and (+50%, vol x 1.5): crash and squeeze, each with a vol spike            (2)
            counted in full by default (tail_cover = 1, the rule as specified).  tail_cover < 1 counts only
            that fraction of a tail loss, as CME SPAN does with its two extreme-move scenarios (0.35): they
            then guard deep-OTM shorts whose core-grid loss is small without making every short pay for a
            50% move in full.  The backtest report shows what either choice means for margin levels.
    pairs() gives the 29 scenarios as (spot shock, relative vol shock = factor - 1) for the registry.
Defaults of the rule (MarginParams): min_margin_fraction = 0.01 (1% of spot per short contract),
initial_factor = 1.25.  These are the spec's proposals; the registry owns the values that go on chain.

Imports numpy and reference.black_scholes (its float64 model prices every leg: Black-Scholes with spot =
forward and r = 0 is Black-76, undiscounted).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from reference import black_scholes

VOL_FLOOR = 1e-4  # a shocked vol never goes below this (a 0.8 factor on a tiny proxy stays meaningful)


def _black76(forward, strike, t_years, vol, is_call):
    """Undiscounted Black-76 price: reference.black_scholes with spot = forward and r = 0; intrinsic at T <= 0."""
    t = np.asarray(t_years, dtype=float)
    v = np.maximum(np.asarray(vol, dtype=float), VOL_FLOOR)
    return black_scholes.price_f64(forward, strike, v, np.maximum(t, 0.0), 0.0, is_call)


@dataclass(frozen=True)
class Leg:
    """One option position.  strike / t_years may be arrays (one value per day) that broadcast with spot."""

    is_call: bool
    strike: object  # float or np.ndarray, quote currency
    t_years: object  # float or np.ndarray, years (365-day)
    size: float  # units of underlying, + long / - short


@dataclass(frozen=True)
class ScenarioGrid:
    spot_shocks: tuple = (-0.16, -0.12, -0.08, -0.04, 0.0, 0.04, 0.08, 0.12, 0.16)
    vol_factors: tuple = (0.80, 1.00, 1.25)
    tail: tuple = ((-0.33, 1.5), (0.50, 1.5))  # (spot shock, vol factor)
    tail_cover: float = 1.0  # fraction of a tail scenario's loss that counts (SPAN uses 0.35)

    def scenarios(self) -> np.ndarray:
        """(n, 3) array of (spot shock, vol factor, cover): the core grid spot-major, then the tail moves."""
        core = [(ds, f, 1.0) for ds in self.spot_shocks for f in self.vol_factors]
        tail = [(ds, f, self.tail_cover) for ds, f in self.tail]
        return np.array(core + tail, dtype=float)

    def pairs(self) -> list[tuple[float, float]]:
        """The scenarios as (relative spot shock, relative vol shock) pairs, vol shock = factor - 1."""
        return [(float(ds), float(f) - 1.0) for ds, f, _ in self.scenarios()]

    def as_dict(self) -> dict:
        return {"spot_shocks": list(self.spot_shocks), "vol_factors": list(self.vol_factors),
                "tail": [list(t) for t in self.tail], "tail_cover": self.tail_cover}


def default_grid() -> ScenarioGrid:
    """The protocol's default scenario grid (module docstring)."""
    return ScenarioGrid()


@dataclass(frozen=True)
class MarginParams:
    grid: ScenarioGrid = field(default_factory=default_grid)
    min_margin_fraction: float = 0.01
    initial_factor: float = 1.25

    def as_dict(self) -> dict:
        d = asdict(self)
        d["grid"] = self.grid.as_dict()
        return d


def portfolio_value(legs, spot, vol):
    """Sum of size x Black-76 price at forward = spot and the given vol (scalar or array per day)."""
    total = 0.0
    for leg in legs:
        total = total + leg.size * _black76(spot, leg.strike, leg.t_years, vol, leg.is_call)
    return total


def scenario_losses(legs, spot, vol, grid: ScenarioGrid | None = None) -> np.ndarray:
    """Counted loss c_s (V(now) - V(scenario s)) per scenario; shape (n_scenarios, *broadcast(spot, vol))."""
    grid = grid or default_grid()
    spot = np.asarray(spot, dtype=float)
    vol = np.asarray(vol, dtype=float)
    v0 = portfolio_value(legs, spot, vol)
    out = []
    for ds, fv, cover in grid.scenarios():
        out.append(cover * (v0 - portfolio_value(legs, spot * (1.0 + ds), np.maximum(vol * fv, VOL_FLOOR))))
    return np.array(out)


def short_size(legs) -> float:
    return float(sum(-leg.size for leg in legs if leg.size < 0))


def maintenance_margin(legs, spot, vol, params: MarginParams | None = None):
    """Worst scenario loss (floored at 0) plus min_margin_fraction x spot x total short size."""
    params = params or MarginParams()
    worst = np.max(scenario_losses(legs, spot, vol, params.grid), axis=0)
    return np.maximum(worst, 0.0) + params.min_margin_fraction * np.asarray(spot, dtype=float) * short_size(legs)


def initial_margin(legs, spot, vol, params: MarginParams | None = None):
    params = params or MarginParams()
    return maintenance_margin(legs, spot, vol, params) * params.initial_factor
