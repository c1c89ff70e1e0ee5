"""The options market's rules as an independent model (float64, plain units): value, scenario margin, quote,
trade and withdrawal checks, liquidation outcome, settlement, bad debt and LP shares.

Written from the rules in the issue and the contract's documentation, never from the Vyper integer code:
prices come from reference.black_scholes (float64, scipy's ndtr), smiles from reference.svi, the scenario
rule from reference.scenario_margin (one loss per leg and scenario, summed, the worst taken), the partial
liquidation size by a numeric search on the margin function (not the contract's closed form).

Units: prices, values, margins in quote currency (floats, e.g. USD); sizes in contracts (floats, + long,
- short); times in unix seconds; vols annualised.  Helpers at the bottom convert from the contract's WAD
integers.

Rules (the market's, stated once here; the contract's docstring has the same list)
    T             = (expiry - now) / 365 days; r = 0, so forward = spot
    surface vol   sigma(K) = sqrt(w(ln(K / S)) / T), w the registry's SVI total variance of the expiry
                  (equivalently the total vol v = sigma sqrt(T) = sqrt(w))
    mark          Black-Scholes(S, K, sigma, T, r = 0); after expiry the intrinsic value, at the settlement
                  price once recorded, at the spot before
    scenario s    S' = S (1 + ds), sigma' = sigma (1 + dv) at the same strike (sticky strike), no time passes
    maintenance   max(0, max_s sum_legs q (p0 - p_s)) + min_margin * S * sum of short |q| (settled legs excluded)
    initial       maintenance * im_ratio
    value         cash + sum_legs q * mark
    liquidatable  value < maintenance
    trade         allowed iff value_after >= initial_after, or maintenance_after < maintenance_before and
                  value_after >= 0; the pool (the counterparty, position -size) by the same rule without the
                  value >= 0 clause
    quote         ask at sigma + spread, bid at max(sigma - spread, tiny), never better than mark; fee per
                  contract min(fee_rate * S, 12.5% of the side price); buy pays |size| ask + fee, sell
                  receives |size| bid - fee
    closing quote a closing trade while the oracle's price failed a check (unconfirmed jump, stale feed):
                  the quote at the oracle's price or at the last accepted price, whichever is worse for the
                  trader (the higher premium to buy, the lower to sell); risk-increasing trades are refused
    listing       at most 32 series listed and not retired; a series retires once its settlement price is
                  recorded and no account holds it (so the pool, holding only what accounts hold, never
                  holds more than 32 series)
    liquidation   full when value < dust, no short, or value <= penalty * maintenance; otherwise the smallest
                  close d of the chosen series with value - penalty (mm0 - mm(d)) >= im_ratio mm(d), at
                  most `size`; penalty = liquidation_penalty (mm0 - mm1), at most max(value, 0); the keeper
                  gets liquidator_share of it, the insurance fund the rest
    bad debt      an account without positions and negative cash: insurance pays first, the pool the rest
    settlement    payoff q * intrinsic(settlement price)
    LP            shares = amount * supply / nav (first deposit: amount, of which 1e-9 locked); redeem
                  shares * nav / supply, at most the pool's free margin (nav - initial) and its cash
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from reference import black_scholes as bs
from reference import scenario_margin as sm
from reference.svi import SVI, total_variance

WAD = 10**18
YEAR = 365 * 86400
FEE_CAP = 0.125
TOTAL_VOL_MIN = 1e-6   # the contract clamps the total vol sqrt(w) to [1e-6, 15]
TOTAL_VOL_MAX = 15.0


@dataclass(frozen=True)
class Series:
    strike: float
    expiry: int
    is_call: bool


@dataclass(frozen=True)
class Params:
    im_ratio: float
    min_margin: float
    liquidation_penalty: float
    liquidator_share: float
    dust_threshold: float
    fee_rate: float
    vol_spread: float

    @staticmethod
    def from_registry(values) -> "Params":
        """From the registry's 11 scalar parameters (WAD integers, id order; see contracts/risk/params.vy)."""
        v = [int(x) for x in values]
        return Params(*(v[i] / WAD for i in range(7)))


class RegistryGrid:
    """The registry's (spot shock, vol shock) pairs as the scenario_margin grid interface (cover 1)."""

    def __init__(self, pairs):
        self.pairs = [(float(a), float(b)) for a, b in pairs]

    def scenarios(self) -> np.ndarray:
        return np.array([(ds, 1.0 + dv, 1.0) for ds, dv in self.pairs], dtype=float)


@dataclass
class MarketState:
    spot: float
    now: int
    smiles: dict          # expiry -> SVI, each fitted for the horizon expiry - written[expiry]
    grid: RegistryGrid
    params: Params
    settlement: dict = field(default_factory=dict)   # expiry -> price
    written: dict = field(default_factory=dict)      # expiry -> when its smile was calibrated (unix seconds)
    pending: dict = field(default_factory=dict)      # expiry -> (SVI, eta) of a smile change queued in the registry

    def tau_years(self, s: Series) -> float:
        return max(s.expiry - self.now, 0) / YEAR

    def calibrated_years(self, s: Series) -> float:
        """The horizon the smile of s.expiry was fitted for (expiry - calibration time), years."""
        if s.expiry not in self.written:
            raise ValueError(f"market: no calibration time for expiry {s.expiry}")
        return (s.expiry - self.written[s.expiry]) / YEAR


# ----------------------------------------------------------------------------------------------------------
# Marks


def calibrated_vol(smile: SVI, spot: float, strike: float, t_cal: float) -> float:
    """The smile's implied vol at strike K: sqrt(w(ln(K/S)) / T) for the horizon T (years) it was fitted for."""
    w = float(total_variance(smile, math.log(strike / spot)))
    return math.sqrt(w / t_cal) if w > 0 else 0.0


def total_vol(smile: SVI, spot: float, strike: float, t_cal: float, tau: float) -> float:
    """Volatility still to come, sigma sqrt(tau), with sigma the calibrated vol (each strike keeps it between
    recalibrations, so marks decay with time), clamped as the contract clamps it."""
    v = calibrated_vol(smile, spot, strike, t_cal) * math.sqrt(tau)
    return min(max(v, TOTAL_VOL_MIN), TOTAL_VOL_MAX)


def surface_vol(m: MarketState, s: Series) -> float:
    """Annualised surface vol of a live series."""
    t = m.tau_years(s)
    return total_vol(m.smiles[s.expiry], m.spot, s.strike, m.calibrated_years(s), t) / math.sqrt(t)


def _intrinsic(price: float, s: Series) -> float:
    return max(price - s.strike, 0.0) if s.is_call else max(s.strike - price, 0.0)


def mark(m: MarketState, s: Series) -> float:
    """Mark price per contract."""
    if s.expiry <= m.now:
        return _intrinsic(m.settlement.get(s.expiry, m.spot), s)
    t = m.tau_years(s)
    return float(bs.price_f64(m.spot, s.strike, surface_vol(m, s), t, 0.0, s.is_call))


def account_value(m: MarketState, cash: float, positions: dict) -> float:
    return cash + sum(q * mark(m, s) for s, q in positions.items())


# ----------------------------------------------------------------------------------------------------------
# Scenario margin


def _legs(m: MarketState, positions: dict):
    """(scenario_margin.Leg, vol) pairs of the legs that carry risk (settled legs excluded)."""
    out = []
    for s, q in positions.items():
        if q == 0:
            continue
        if s.expiry <= m.now:
            if s.expiry in m.settlement:
                continue
            out.append((sm.Leg(s.is_call, s.strike, 0.0, q), 1.0))
        else:
            out.append((sm.Leg(s.is_call, s.strike, m.tau_years(s), q), surface_vol(m, s)))
    return out


def scenario_losses(m: MarketState, positions: dict) -> np.ndarray:
    """Portfolio loss per scenario (sum over legs of scenario_margin's per-leg loss, each at its own vol)."""
    total = np.zeros(len(m.grid.pairs))
    for leg, vol in _legs(m, positions):
        total = total + sm.scenario_losses([leg], m.spot, vol, m.grid)
    return total


def short_contracts(m: MarketState, positions: dict) -> float:
    return sum(-q for s, q in positions.items()
               if q < 0 and not (s.expiry <= m.now and s.expiry in m.settlement))


def maintenance(m: MarketState, positions: dict) -> float:
    losses = scenario_losses(m, positions)
    worst = max(0.0, float(np.max(losses))) if len(losses) else 0.0
    return worst + m.params.min_margin * m.spot * short_contracts(m, positions)


def initial(m: MarketState, positions: dict) -> float:
    return maintenance(m, positions) * m.params.im_ratio


def liquidatable(m: MarketState, cash: float, positions: dict) -> bool:
    return account_value(m, cash, positions) < maintenance(m, positions)


# ----------------------------------------------------------------------------------------------------------
# Quotes and trading rules


def queued_vol(m: MarketState, s: Series) -> float:
    """Annualised vol of s under the smile change queued for its expiry, if any (else the current surface vol):
    the queued smile is fitted for the horizon from its earliest execution max(eta, now) to expiry.  A queued
    change is public, so quotes spread from the worse of the two vols for the trader (ask: the higher, bid:
    the lower) and nobody trades ahead of it at the pool's expense."""
    if s.expiry not in m.pending:
        return surface_vol(m, s)
    smile, eta = m.pending[s.expiry]
    start = max(int(eta), m.now)
    if start >= s.expiry:
        return surface_vol(m, s)
    t = m.tau_years(s)
    return total_vol(smile, m.spot, s.strike, (s.expiry - start) / YEAR, t) / math.sqrt(t)


def quote(m: MarketState, s: Series, size: float) -> tuple[float, float, float]:
    """(premium paid (size > 0) or received (size < 0) with the fee, mark, side vol); while a smile change of
    the expiry is queued, the ask spreads from the higher and the bid from the lower of the current and the
    queued vol (queued_vol)."""
    if size == 0 or s.expiry <= m.now:
        raise ValueError("market: no quote")
    t = m.tau_years(s)
    sig = surface_vol(m, s)
    p_mark = mark(m, s)
    floor_sig = TOTAL_VOL_MIN / math.sqrt(t)
    sig_q = queued_vol(m, s)
    if size > 0:
        side_sig = min(max(sig, sig_q) + m.params.vol_spread, TOTAL_VOL_MAX / math.sqrt(t))
        side = max(float(bs.price_f64(m.spot, s.strike, side_sig, t, 0.0, s.is_call)), p_mark)
    else:
        side_sig = min(sig, sig_q) - m.params.vol_spread
        if side_sig * math.sqrt(t) <= TOTAL_VOL_MIN:
            side_sig = floor_sig
        side = min(float(bs.price_f64(m.spot, s.strike, side_sig, t, 0.0, s.is_call)), p_mark)
    fee_unit = min(m.params.fee_rate * m.spot, FEE_CAP * side)
    n = abs(size)
    if size > 0:
        return n * side + n * fee_unit, p_mark, side_sig
    gross = n * side
    return gross - min(n * fee_unit, gross), p_mark, side_sig


def closing_quote(m: MarketState, s: Series, size: float, last_accepted: float) -> tuple[float, float, float]:
    """The quote of a closing trade while the oracle's price m.spot failed a check: of the quotes at m.spot and
    at the last accepted price, the worse for the trader."""
    here = quote(m, s, size)
    there = quote(with_spot(m, last_accepted), s, size)
    if size > 0:
        return there if there[0] > here[0] else here
    return there if there[0] < here[0] else here


def trade_allowed(value_after: float, im_after: float, mm_before: float, mm_after: float,
                  account: bool = True) -> bool:
    """The margin rule of a trade (the account's side when account=True, the pool's otherwise)."""
    if value_after >= im_after:
        return True
    return mm_after < mm_before and (value_after >= 0 or not account)


def withdrawal_allowed(cash_after: float, value_after: float, im: float, has_positions: bool) -> bool:
    return cash_after >= 0 and (not has_positions or value_after >= im)


# ----------------------------------------------------------------------------------------------------------
# Liquidation


@dataclass(frozen=True)
class Liquidation:
    liquidatable: bool
    full: bool = False
    close: float = 0.0            # contracts closed in the chosen series (partial), magnitude
    mm_before: float = 0.0
    mm_after: float = 0.0
    penalty: float = 0.0
    reward: float = 0.0
    to_insurance: float = 0.0
    value_after: float = 0.0      # after the penalty
    reduces_margin: bool = True   # False: the contract refuses the partial close


def _with_position(positions: dict, s: Series, q: float) -> dict:
    out = dict(positions)
    out[s] = q
    return out


def needed_close(m: MarketState, cash: float, positions: dict, s: Series) -> float:
    """Smallest d in [0, |q|] after which value - penalty (mm0 - mm(d)) >= im_ratio mm(d), found numerically
    (mm(d) is convex in d: ternary search for its minimum, bisection on the left branch); math.inf when no d
    in [0, |q|] restores the initial margin."""
    p = m.params
    q = positions[s]
    sign = 1.0 if q > 0 else -1.0
    aq = abs(q)
    v = account_value(m, cash, positions)
    mm0 = maintenance(m, positions)
    target = (v - p.liquidation_penalty * mm0) / (p.im_ratio - p.liquidation_penalty)

    def mm(d):
        return maintenance(m, _with_position(positions, s, q - sign * d))

    lo, hi = 0.0, aq
    for _ in range(100):  # ternary search for the minimum of the convex mm(d)
        a, b = lo + (hi - lo) / 3, hi - (hi - lo) / 3
        if mm(a) <= mm(b):
            hi = b
        else:
            lo = a
    d_min = (lo + hi) / 2
    if mm(d_min) > target:
        return math.inf
    lo, hi = 0.0, d_min
    if mm(0.0) <= target:
        return 0.0
    for _ in range(100):  # bisection: mm decreases on [0, d_min]
        mid = (lo + hi) / 2
        if mm(mid) <= target:
            hi = mid
        else:
            lo = mid
    return hi


def liquidation(m: MarketState, cash: float, positions: dict, s: Series | None, size: float) -> Liquidation:
    """Outcome of liquidate(account, s, size) by a keeper."""
    p = m.params
    v = account_value(m, cash, positions)
    mm0 = maintenance(m, positions)
    if not v < mm0:
        return Liquidation(liquidatable=False, mm_before=mm0)
    target = (v - p.liquidation_penalty * mm0) / (p.im_ratio - p.liquidation_penalty)
    full = v < p.dust_threshold or short_contracts(m, positions) == 0 or target <= 0
    if full:
        mm1, close, reduces = 0.0, 0.0, True
    else:
        q = positions.get(s, 0.0)
        if q == 0:
            raise ValueError("market: no position in series")
        close = min(size, abs(q), needed_close(m, cash, positions, s))
        mm1 = maintenance(m, _with_position(positions, s, q - math.copysign(close, q)))
        reduces = mm1 < mm0
    penalty = min(p.liquidation_penalty * max(mm0 - mm1, 0.0), max(v, 0.0))
    reward = p.liquidator_share * penalty
    return Liquidation(True, full, close, mm0, mm1, penalty, reward, penalty - reward, v - penalty, reduces)


def bad_debt(deficit: float, insurance: float) -> tuple[float, float]:
    """(paid by the insurance fund, socialized to the pool) of a deficit."""
    covered = min(deficit, insurance)
    return covered, deficit - covered


# ----------------------------------------------------------------------------------------------------------
# Settlement and LP shares


def settlement_payoff(q: float, s: Series, price: float) -> float:
    """What a position receives (+) or pays (-) at settlement."""
    return q * _intrinsic(price, s)


def lp_shares(amount: float, supply: float, nav: float) -> float:
    return amount if supply == 0 else amount * supply / nav


def lp_redeem(shares: float, supply: float, nav: float) -> float:
    return shares * nav / supply


# ----------------------------------------------------------------------------------------------------------
# From the contract's integers


def series_from_wad(strike: int, expiry: int, is_call: bool) -> Series:
    return Series(int(strike) / WAD, int(expiry), bool(is_call))


def smile_from_wad(t) -> SVI:
    return SVI(*(int(x) / WAD for x in tuple(t)))


def state_from_wad(spot: int, now: int, smiles: dict, grid_pairs, params, settlement=None, *,
                   written: dict, pending=None) -> MarketState:
    """A MarketState from WAD integers: spot, {expiry: smile tuple}, [(spot_shock, vol_shock)], the registry's
    11 parameters, {expiry: settlement price}, {expiry: registry.smile_updated_at}, {expiry: (queued smile
    tuple, eta)}."""
    return MarketState(
        spot=int(spot) / WAD,
        now=int(now),
        smiles={int(e): smile_from_wad(t) for e, t in smiles.items()},
        grid=RegistryGrid([(int(a) / WAD, int(b) / WAD) for a, b in grid_pairs]),
        params=Params.from_registry(params),
        settlement={int(e): int(p) / WAD for e, p in (settlement or {}).items()},
        written={int(e): int(t) for e, t in written.items()},
        pending={int(e): (smile_from_wad(t), int(eta)) for e, (t, eta) in (pending or {}).items()},
    )


def with_spot(m: MarketState, spot: float) -> MarketState:
    return replace(m, spot=spot)
