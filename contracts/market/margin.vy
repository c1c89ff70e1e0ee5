# pragma version 0.4.3
# pragma evm-version cancun
"""
@title margin
@notice Scenario valuation of option positions for the options market: the mark of a series from the
        registry's SVI smile, the unit loss of a series in every scenario of the registry's grid, the
        portfolio maintenance margin built from them, and the size a partial liquidation needs.
        Stateless: import, do not initialize.
@dev API (all internal pure)
     _prepare(scenarios) -> Grid                            ln(1 + spot shock) once per distinct spot shock, factors
     _base(spot, strike, smile, tau, t_cal) -> (x, kr, v)   ln(S/K), K/S (1e36), total vol sqrt(w(k) tau / t_cal) (1e36)
     _prices(spot, x, kr, v) -> (uint256, uint256)          Black-Scholes call and put per contract, WAD (r = 0)
     _price(spot, x, kr, v, is_call) -> uint256             one of them
     _call_raw(x, k, v) -> int256                           C/S (1e36) before the no-arbitrage clamp; the put's
                                                            raw value is c + k - 1 (one evaluation, both types)
     _clamp_call(cr, k) / _clamp_put(cr, k) -> uint256      the clamps of black_scholes.normalised
     _intrinsic_losses(spot, strike, is_call, g) -> int256[32]   unit losses of an expired, unsettled series
     _intrinsic(spot, strike, is_call) -> uint256           max(S - K, 0) or max(K - S, 0), WAD
     _annual_vol(v, sq) -> uint256                          v / sqrt(tau in years), WAD
     _spread_vol(v, spread, sq, up) -> uint256              v +- spread sqrt(tau), 1e36 (floored at V_MIN)
     _mul_floor(q, p) / _mul_ceil(q, p) -> int256           q p / 1e18 rounded toward -inf / +inf
     _maintenance(losses, n, short_notional_floor) -> uint256   max(0, max_s losses) + floor
     _close_size(...) -> uint256                            smallest close of one series that restores IM
     The scenario loop itself (one _call_raw per (strike, expiry, scenario), written inline) lives in
     MarginEngine._accumulate, where the grid and the loss columns stay in one frame.

     Model (documented for users, keepers and auditors).
       Rate r = 0 (crypto convention: forward = spot, undiscounted, as Deribit's Black-76 marks; the
       collateral earns nothing inside the market, so discounting would only add a rate parameter).
       Mark of a series: Black-Scholes at spot S, strike K and total volatility v = sqrt(w(k) tau / t_cal),
       k = ln(K / S), w the SVI total variance of the series' expiry in the registry, tau the time left
       and t_cal = expiry - registry.smile_updated_at(expiry) the horizon the smile was calibrated for:
       each strike keeps its calibrated implied vol sqrt(w / t_cal) between recalibrations, so marks
       decay with time (theta) and reach intrinsic value at expiry.  (The registry's implied_vol_at divides
       w by the time left instead, so its vol drifts up between recalibrations; the market does not use
       it.)  Evaluated with the registry's own svi._total_variance (no second copy of the smile rule) and
       one square root.
       Scenario s = (spot shock ds, vol shock dv): S' = S (1 + ds), v' = v (1 + dv), i.e. every implied
       vol multiplied by (1 + dv) at unchanged strike (sticky strike), time does not advance.  Model risk
       of sticky strike: with negative skew (rho < 0) a spot rise moves a fixed call strike toward lower
       moneyness, where the smile is higher, so sticky moneyness would raise that call's vol after the
       rise and sticky strike does not: sticky strike under-margins short calls and strangles.  The
       grid's vol-up scenarios (+25 % with every spot shock, +50 % with the crash) cover part of it;
       tests/market/test_margin_model.py measures the gap on the default surface (worst book, a 91-day
       short strangle, margined at 82.6 % of its sticky-moneyness margin; the test fails below 80 %).
       Sticky moneyness costs two more square roots per (series, scenario) (~1,300 gas, +40 %), which
       the gas bar cannot carry.
       Unit loss u_s = p0 - p_s per contract long (WAD); a position q (WAD contracts, signed) loses
       q u_s / 1e18, rounded up (ceil) in every term.  Maintenance = max(0, max_s sum of losses) plus
       min_margin * S * (short contracts), rounded up.  Expired series not yet settled are valued at
       intrinsic value and shocked through the spot only.
       Precision.  Prices come from black_scholes.tails/normalised at 1e36 (error below 1e-17 of the spot
       per contract, see reports/pricing/bench.md); ln(1 + ds) from fixed_ln (3e-19).  The ceil of
       every term makes the computed margin >= the exact margin of the computed prices.
       Ranges.  v is clamped to [V_MIN, V_MAX] (1e-6 ... 15 of total volatility) and the vol factor to
       [0.2, 4] (the registry's hard bounds), so v' stays inside the [1e28, 7e37] range tails needs;
       |x| <= 60e36 for any spot <= 1e36 and strike >= 1e12, far inside tails' overflow limit.
"""

from ..math import black_scholes as bs
from ..math import fixed_exp
from ..math import fixed_ln
from ..math import normal
from ..risk import svi

WAD: constant(uint256) = 10**18
IWAD: constant(int256) = 10**18
X36: constant(uint256) = 10**36
YEAR: constant(uint256) = 365 * 86400
MAX_SCENARIOS: constant(uint256) = 32
V_MIN: constant(uint256) = 10**30                  # total volatility 1e-6 (1e36 scale)
V_MAX: constant(uint256) = 15 * 10**36             # total volatility 15
W_CAP: constant(uint256) = 226 * 10**54             # total variance (1e54 scale) above V_MAX^2 = 225e72 / 1e18
KR_MAX: constant(uint256) = 10**59                 # K/S <= 1e23 (1e36 scale): kr * 1e18 / f_s < 2^256
SPOT_FACTOR_MIN: constant(uint256) = 5 * 10**16    # 1 + spot shock >= 0.05 (registry: >= 0.1)
SPOT_FACTOR_MAX: constant(uint256) = 4 * 10**18
VOL_FACTOR_MIN: constant(uint256) = 2 * 10**17     # 1 + vol shock >= 0.2 (registry bound)
VOL_FACTOR_MAX: constant(uint256) = 4 * 10**18

struct Scenario:
    spot_shock: int256   # WAD, S' = S (1 + spot_shock)
    vol_shock: int256    # WAD, v' = v (1 + vol_shock)

struct Grid:
    n: uint256                           # number of scenarios
    ln_s: int256[MAX_SCENARIOS]          # ln(1 + spot shock), 1e36
    f_s: uint256[MAX_SCENARIOS]          # 1 + spot shock, WAD
    f_v: uint256[MAX_SCENARIOS]          # 1 + vol shock, WAD


@internal
@pure
def _prepare(scenarios: DynArray[Scenario, MAX_SCENARIOS]) -> Grid:
    """
    @notice Hoist the per-scenario terms: ln(1 + ds) once per scenario, not per series.
    @param scenarios the registry's grid (WAD shocks)
    @return the prepared grid
    """
    g: Grid = empty(Grid)
    last_fs: uint256 = 0
    last_ln: int256 = 0
    i: uint256 = 0
    for s: Scenario in scenarios:
        assert s.spot_shock > -IWAD and s.vol_shock > -IWAD, "margin: scenario out of range"
        fs: uint256 = convert(IWAD + s.spot_shock, uint256)
        fv: uint256 = convert(IWAD + s.vol_shock, uint256)
        assert fs >= SPOT_FACTOR_MIN and fs <= SPOT_FACTOR_MAX, "margin: scenario out of range"
        assert fv >= VOL_FACTOR_MIN and fv <= VOL_FACTOR_MAX, "margin: scenario out of range"
        if fs != last_fs:
            # fs <= 4e18: fs * 1e18 <= 4e36.  A grid lists each spot shock with several vol shocks in a row:
            # one ln per distinct consecutive spot shock
            last_ln = fixed_ln.ln_x36(unsafe_mul(fs, WAD))
            last_fs = fs
        g.ln_s[i] = last_ln
        g.f_s[i] = fs
        g.f_v[i] = fv
        i += 1
    g.n = i
    return g


@internal
@pure
def _base(spot: uint256, strike: uint256, smile: svi.Smile, tau: uint256, t_cal: uint256) -> (int256, uint256, uint256):
    """
    @notice Moneyness and total volatility of a series.
    @param spot S, WAD, 0 < S <= 1e36
    @param strike K, WAD, 1e12 <= K <= 1e30 (listing bounds); K/S <= 1e23 (reverts otherwise)
    @param smile the SVI smile of the series' expiry (WAD), calibrated for t_cal
    @param tau seconds to expiry, 0 < tau < 2^64
    @param t_cal seconds from the smile's calibration to expiry (registry.smile_updated_at for the smile in
           force; a queued smile's from its earliest execution, so tau > t_cal there), > 0
    @return (x, kr, v): x = ln(S/K) at 1e36, kr = K/S at 1e36, v = sqrt(w(ln(K/S)) tau / t_cal) at 1e36,
            clamped to [V_MIN, V_MAX]
    """
    # S <= 1e36 so S * 1e36 <= 1e72; K >= 1e12 so the ratio >= 1 (ln defined); K * 1e36 <= 1e66
    x: int256 = fixed_ln.ln_x36(unsafe_div(unsafe_mul(spot, X36), strike))
    kr: uint256 = unsafe_div(unsafe_mul(strike, X36), spot)
    # the scenario strike ratio kr * 1e18 / f_s (MarginEngine._accumulate) must stay below 2^256
    assert kr <= KR_MAX, "engine: strike/spot out of range"
    # k = ln(K/S) in WAD (|x| <= 60e36 so |k| <= 6e19, inside svi's 1e21 bound)
    w: int256 = svi._total_variance(smile, -unsafe_div(x, 10**18))
    v: uint256 = V_MIN
    if w > 0:
        # The smile's total variance w was fitted for t_cal; the variance still to come is w tau / t_cal
        # (each strike keeps its calibrated implied vol sqrt(w / t_cal) as time passes: marks decay).
        # w < 1e21 (SVI hard bounds), so w 1e36 tau < 1e57 * 2^64 < 2^256; capped at W_CAP (a total vol
        # just above V_MAX, clamped below), so times 1e18 < 2^256.  Truncated: variance error < 1e-36.
        v = isqrt(min(convert(w, uint256) * X36 * tau // t_cal, W_CAP) * 10**18)
    return x, kr, min(max(v, V_MIN), V_MAX)


@internal
@pure
def _prices(spot: uint256, x: int256, kr: uint256, v: uint256) -> (uint256, uint256):
    """
    @notice Black-Scholes value of one call and one put contract of the same strike and expiry (r = 0),
            WAD, truncated (one evaluation serves both).
    @param spot S, WAD
    @param x ln(S/K), 1e36
    @param kr K/S, 1e36
    @param v total volatility, 1e36, in [1e28, 7e37]
    @return (call, put), WAD
    """
    k: int256 = convert(kr, int256)
    cr: int256 = self._call_raw(x, k, v)
    # c <= 1e36 and S <= 4e36: product < 2^256; p <= kr, so S p <= K * 1e36 <= 1e66
    return unsafe_div(unsafe_mul(spot, self._clamp_call(cr, k)), X36), unsafe_div(unsafe_mul(spot, self._clamp_put(cr, k)), X36)


@internal
@pure
def _price(spot: uint256, x: int256, kr: uint256, v: uint256, is_call: bool) -> uint256:
    """
    @notice Black-Scholes value of one contract (r = 0), WAD, truncated.
    @param spot S, WAD
    @param x ln(S/K), 1e36
    @param kr K/S, 1e36
    @param v total volatility, 1e36, in [1e28, 7e37]
    @param is_call call or put
    """
    c: uint256 = 0
    p: uint256 = 0
    c, p = self._prices(spot, x, kr, v)
    if is_call:
        return c
    return p


@internal
@pure
def _call_raw(x: int256, k: int256, v: uint256) -> int256:
    """
    @notice C / S at 1e36 (Black-Scholes, r = 0) before the no-arbitrage clamp, for x = ln(S/K), k = K/S
            (1e36) and total vol v (1e36, in [1e28, 7e37]).  The put's raw value is exactly c + k - 1 (the
            three formulas of black_scholes.normalised satisfy parity before clamping), so one evaluation
            serves a call and a put of the same strike; _clamp_call / _clamp_put finish each.
    @dev Bit-identical to black_scholes.tails followed by black_scholes.normalised (the same operations in
         the same order: one exp_x36 and two erfcx_x36; clamps below), in one frame returning one word:
         the helper frames and tuple returns of tails + normalised cost ~700 gas per call.  The engine's
         scenario loop carries the same lines inline (MarginEngine._accumulate); the exp and erfcx kernels
         were also tried inline there: no gain under the legacy code generator (a Horner step is ~23 gas
         either way; their call frames are a small part).
         Bounds: |x| <= 63e36, v >= 2e29: |x * 1e36| < 1e74; a1 <= 14e36, |d2| <= 78e36: squares and
         products < 1e76; e <= 0.5e36 and erfcx <= 1e36; k <= 2e67 (kr <= 1e66 over a spot factor >= 0.05):
         no overflow in int256.
    """
    vi: int256 = convert(v, int256)
    d1: int256 = unsafe_add(unsafe_div(unsafe_mul(x, 10**36), vi), vi >> 1)
    d2: int256 = unsafe_sub(d1, vi)
    a: int256 = 0
    b: int256 = 0
    a1: int256 = d1
    if d1 < 0:
        a1 = unsafe_sub(0, d1)
    if a1 <= bs.D_CUTOFF:
        a2: int256 = d2
        if d2 < 0:
            a2 = unsafe_sub(0, d2)
        e: uint256 = fixed_exp.exp_x36(unsafe_sub(0, unsafe_div(unsafe_mul(a1, a1), 2 * 10**36))) >> 1
        a = convert(unsafe_div(unsafe_mul(e, normal.erfcx_x36(unsafe_div(unsafe_mul(convert(a1, uint256), normal.INV_SQRT2_X36), X36))), X36), int256)
        b = convert(unsafe_div(unsafe_mul(e, normal.erfcx_x36(unsafe_div(unsafe_mul(convert(a2, uint256), normal.INV_SQRT2_X36), X36))), X36), int256)
    if d1 <= 0:
        return unsafe_sub(a, b)
    if d2 < 0:
        return unsafe_sub(unsafe_sub(10**36, a), b)
    return unsafe_sub(unsafe_add(unsafe_sub(b, a), 10**36), k)


@internal
@pure
def _clamp_call(cr: int256, k: int256) -> uint256:
    """
    @notice max(1 - k, 0) <= c <= 1 (1e36), as black_scholes.normalised clamps a call.
    """
    return convert(min(max(cr, max(unsafe_sub(10**36, k), 0)), 10**36), uint256)


@internal
@pure
def _clamp_put(cr: int256, k: int256) -> uint256:
    """
    @notice max(k - 1, 0) <= p <= k (1e36) for p = c + k - 1 (parity of the raw values), as
            black_scholes.normalised clamps a put.
    """
    return convert(min(max(unsafe_sub(unsafe_add(cr, k), 10**36), max(unsafe_sub(k, 10**36), 0)), k), uint256)


@internal
@pure
def _intrinsic(spot: uint256, strike: uint256, is_call: bool) -> uint256:
    """
    @notice Intrinsic value per contract, WAD.
    """
    if is_call:
        if spot > strike:
            return spot - strike
        return 0
    if strike > spot:
        return strike - spot
    return 0


@internal
@pure
def _intrinsic_losses(spot: uint256, strike: uint256, is_call: bool, g: Grid) -> int256[MAX_SCENARIOS]:
    """
    @notice Unit losses of an expired series awaiting its settlement price: intrinsic value now minus
            intrinsic value at the shocked spot.
    """
    out: int256[MAX_SCENARIOS] = empty(int256[MAX_SCENARIOS])
    p0: int256 = convert(self._intrinsic(spot, strike, is_call), int256)
    for j: uint256 in range(g.n, bound=MAX_SCENARIOS):
        out[j] = p0 - convert(self._intrinsic(spot * g.f_s[j] // WAD, strike, is_call), int256)
    return out


@internal
@pure
def _annual_vol(v: uint256, sq: uint256) -> uint256:
    """
    @notice Annualised volatility v / sqrt(tau / 365 days), WAD (rounded down).
    @param v total volatility, 1e36 (<= V_MAX)
    @param sq sqrt(tau / 365 days) at 1e34 (fixed_sqrt.sqrt_years_x34), > 0
    """
    # v * 1e16 <= 1.5e53
    return v * 10**16 // sq


@internal
@pure
def _spread_vol(v: uint256, spread: uint256, sq: uint256, up: bool) -> uint256:
    """
    @notice Total volatility of the ask (up) or bid side: v +- spread * sqrt(tau / 365 days), 1e36,
            floored at V_MIN and capped at V_MAX.
    @param v total volatility, 1e36
    @param spread absolute annualised vol spread, WAD (<= 0.25, registry bound)
    @param sq sqrt(tau / 365 days) at 1e34
    """
    # spread <= 2.5e17, sq <= 1e35 (10 years): product < 2^256; WAD * 1e34 / 1e16 = 1e36
    d: uint256 = spread * sq // 10**16
    if up:
        return min(v + d, V_MAX)
    if v > d + V_MIN:
        return v - d
    return V_MIN


@internal
@pure
def _mul_floor(q: int256, p: int256) -> int256:
    """
    @notice q p / 1e18 rounded toward -infinity (a value: the protocol's side of a rounding).
    """
    r: int256 = q * p
    d: int256 = r // IWAD
    if r < 0 and d * IWAD != r:
        return d - 1
    return d


@internal
@pure
def _mul_ceil(q: int256, p: int256) -> int256:
    """
    @notice q p / 1e18 rounded toward +infinity (a loss or a liability).
    """
    r: int256 = q * p
    d: int256 = r // IWAD
    if r > 0 and d * IWAD != r:
        return d + 1
    return d


@internal
@pure
def _maintenance(losses: int256[MAX_SCENARIOS], n: uint256, floor_: uint256) -> uint256:
    """
    @notice max(0, max_s losses[s]) + floor_ over the first n scenarios, WAD.
    """
    worst: int256 = 0
    for j: uint256 in range(n, bound=MAX_SCENARIOS):
        worst = max(worst, losses[j])
    return convert(worst, uint256) + floor_


@internal
@pure
def _close_size(losses: int256[MAX_SCENARIOS], unit: int256[MAX_SCENARIOS], n: uint256, floor_: uint256,
                floor_unit: uint256, long_side: bool, target: int256, size: uint256) -> uint256:
    """
    @notice Smallest close d (WAD contracts) of one series after which maintenance <= target, or
            max_value(uint256) when no d does.
    @dev Closing d of a long (short) position changes scenario s's loss by -d u_s (+d u_s) / 1e18 and the
         floor by -d floor_unit / 1e18 (shorts only); each constraint
             a_s + b_s d / 1e18 <= target,  a_s = L_s + floor_ (and 0 + floor_ for the zero scenario)
         is linear in d, so the smallest d is the largest per-constraint root, rounded up.
    @param losses the account's scenario losses now (WAD)
    @param unit the series' unit losses u_s per contract long (WAD)
    @param n number of scenarios
    @param floor_ the account's floor now (WAD); floor_unit the floor per contract of this series if short
    @param long_side True when the position being closed is long
    @param target maintenance to reach (WAD), > 0
    @param size the position's absolute size (WAD contracts): a result above it is returned as is
    """
    f: int256 = convert(floor_, int256)
    fu: int256 = convert(floor_unit, int256)
    need: uint256 = 0
    for i: uint256 in range(n + 1, bound=MAX_SCENARIOS + 1):
        a: int256 = f
        b: int256 = 0
        if i < n:
            a = losses[i] + f
            b = unit[i]
            if long_side:
                b = -b
        if not long_side:
            b -= fu
        if a <= target:
            continue
        if b >= 0:
            return max_value(uint256)
        # d >= (a - target) * 1e18 / (-b), rounded up; a - target <= 2^200 in any real state
        d: uint256 = (convert(a - target, uint256) * WAD + convert(-b, uint256) - 1) // convert(-b, uint256)
        need = max(need, d)
    return need
