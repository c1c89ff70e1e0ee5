# pragma version 0.4.3
# pragma evm-version cancun
"""
@title margin
@notice Scenario valuation of option positions for the options market: the mark of a series from the
        registry's SVI smile, the unit loss of a series in every scenario of the registry's grid, the
        portfolio maintenance margin built from them, and the size a partial liquidation needs.
        Stateless: import, do not initialize.
@dev API (all internal pure)
     _prepare(scenarios) -> Grid                            ln(1 + spot shock) once per scenario, factors
     _base(spot, strike, smile) -> (x, kr, v)               ln(S/K), K/S (1e36) and total vol sqrt(w(k)) (1e36)
     _price(spot, x, kr, v, is_call) -> uint256             Black-Scholes value per contract, WAD (r = 0)
     _add_losses(spot, x, kr, v, is_call, p0, g, qa, qb, la, lb) -> (int256[32], int256[32])
                                                            la + qa u, lb + qb u with u_s = p0 - p_s per
                                                            contract (WAD), one tails + normalised per scenario
     _unit_losses(spot, x, kr, v, is_call, p0, g) -> DynArray[int256, 32]   u itself
     _intrinsic_losses(spot, strike, is_call, g) -> DynArray[int256, 32]   same for an expired series
     _intrinsic(spot, strike, is_call) -> uint256           max(S - K, 0) or max(K - S, 0), WAD
     _annual_vol(v, sq) -> uint256                          v / sqrt(tau in years), WAD
     _spread_vol(v, spread, sq, up) -> uint256              v +- spread sqrt(tau), 1e36 (floored at V_MIN)
     _mul_floor(q, p) / _mul_ceil(q, p) -> int256           q p / 1e18 rounded toward -inf / +inf
     _maintenance(losses, short_notional_floor) -> uint256  max(0, max_s losses) + floor
     _close_size(...) -> uint256                            smallest close of one series that restores IM

     Model (documented for users, keepers and auditors).
       Rate r = 0 (crypto convention: forward = spot, undiscounted, as Deribit's Black-76 marks; the
       collateral earns nothing inside the market, so discounting would only add a rate parameter).
       Mark of a series: Black-Scholes at spot S, strike K and total volatility v = sqrt(w(k)),
       k = ln(K / S), w the SVI total variance of the series' expiry in the registry.  This is exactly
       the registry's implied_vol_at(expiry, K, S) * sqrt(T): sigma sqrt(T) = sqrt(w / T) sqrt(T) = sqrt(w),
       evaluated with the registry's own svi._total_variance (no second copy of the smile rule) and
       without the two square roots that sigma and sqrt(T) would cost.
       Scenario s = (spot shock ds, vol shock dv): S' = S (1 + ds), v' = v (1 + dv), i.e. every implied
       vol multiplied by (1 + dv) at unchanged strike (sticky strike), time does not advance.  Model risk
       of sticky strike: with negative skew (rho < 0) a spot drop moves the money toward lower strikes
       whose smile vol is higher; sticky moneyness would raise the vol of a fixed strike after a drop,
       sticky strike does not.  The grid's vol-up scenarios (+25 % with every spot shock, +50 % with
       the crash) are what covers that effect; measured against sticky moneyness in
       reference/market.py (tests/market/test_margin_model.py reports the gap).  Sticky moneyness costs
       two more square roots per (series, scenario) (~1,300 gas, +40 %), which the gas bar cannot carry.
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
from ..math import fixed_ln
from ..risk import svi

WAD: constant(uint256) = 10**18
IWAD: constant(int256) = 10**18
X36: constant(uint256) = 10**36
YEAR: constant(uint256) = 365 * 86400
MAX_SCENARIOS: constant(uint256) = 32
V_MIN: constant(uint256) = 10**30                  # total volatility 1e-6 (1e36 scale)
V_MAX: constant(uint256) = 15 * 10**36             # total volatility 15
SPOT_FACTOR_MIN: constant(uint256) = 5 * 10**16    # 1 + spot shock >= 0.05 (registry: >= 0.1)
SPOT_FACTOR_MAX: constant(uint256) = 4 * 10**18
VOL_FACTOR_MIN: constant(uint256) = 2 * 10**17     # 1 + vol shock >= 0.2 (registry bound)
VOL_FACTOR_MAX: constant(uint256) = 4 * 10**18

struct Scenario:
    spot_shock: int256   # WAD, S' = S (1 + spot_shock)
    vol_shock: int256    # WAD, v' = v (1 + vol_shock)

struct Grid:
    ln_s: DynArray[int256, MAX_SCENARIOS]   # ln(1 + spot shock), 1e36
    f_s: DynArray[uint256, MAX_SCENARIOS]   # 1 + spot shock, WAD
    f_v: DynArray[uint256, MAX_SCENARIOS]   # 1 + vol shock, WAD


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
        g.ln_s.append(last_ln)
        g.f_s.append(fs)
        g.f_v.append(fv)
    return g


@internal
@pure
def _base(spot: uint256, strike: uint256, smile: svi.Smile) -> (int256, uint256, uint256):
    """
    @notice Moneyness and total volatility of a series.
    @param spot S, WAD, 0 < S <= 1e36
    @param strike K, WAD, 1e12 <= K <= 1e30 (listing bounds)
    @param smile the SVI smile of the series' expiry (WAD)
    @return (x, kr, v): x = ln(S/K) at 1e36, kr = K/S at 1e36, v = sqrt(w(ln(K/S))) at 1e36, clamped
            to [V_MIN, V_MAX]
    """
    # S <= 1e36 so S * 1e36 <= 1e72; K >= 1e12 so the ratio >= 1 (ln defined); K * 1e36 <= 1e66
    x: int256 = fixed_ln.ln_x36(unsafe_div(unsafe_mul(spot, X36), strike))
    kr: uint256 = unsafe_div(unsafe_mul(strike, X36), spot)
    # k = ln(K/S) in WAD (|x| <= 60e36 so |k| <= 6e19, inside svi's 1e21 bound)
    w: int256 = svi._total_variance(smile, -unsafe_div(x, 10**18))
    v: uint256 = V_MIN
    if w > 0:
        # sqrt(w / 1e18) * 1e36 = isqrt(w * 1e54); w is bounded by the SVI hard bounds (< 1e21), so < 1e75
        v = isqrt(convert(w, uint256) * 10**54)
    return x, kr, min(max(v, V_MIN), V_MAX)


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
    d1: int256 = 0
    d2: int256 = 0
    e: uint256 = 0
    eg1: uint256 = 0
    eg2: uint256 = 0
    d1, d2, e, eg1, eg2 = bs.tails(x, v)
    c: uint256 = 0
    p: uint256 = 0
    c, p = bs.normalised(kr, d1, d2, eg1, eg2)
    if is_call:
        # c <= 1e36 and S <= 4e36: product < 2^256
        return unsafe_div(unsafe_mul(spot, c), X36)
    # p <= kr, so S p <= K * 1e36 <= 1e66
    return unsafe_div(unsafe_mul(spot, p), X36)


@internal
@pure
def _add_losses(spot: uint256, x: int256, kr: uint256, v: uint256, is_call: bool, p0: uint256, g: Grid,
                qa: int256, qb: int256, la: int256[MAX_SCENARIOS], lb: int256[MAX_SCENARIOS]) -> (int256[MAX_SCENARIOS], int256[MAX_SCENARIOS]):
    """
    @notice Add qa u_s and qb u_s to two scenario-loss accumulators, u_s = p0 - p(S (1 + ds), v (1 + dv))
            the loss of one long contract in scenario s (WAD).  With qa = 1, qb = 0 and zero accumulators
            the first result is the unit-loss vector itself.
    @dev one tails + normalised per scenario, written inline (a helper frame per scenario costs ~230 gas,
         a second pass over the unit vector ~300): x' = x + ln(1 + ds), K/S' = kr / (1 + ds),
         v' = v (1 + dv), p_s = S' n_s with n_s = C/S' or P/S'.
         Bounds: |q| <= 1e27 (the market's open-interest hard cap), |u| <= 4e36, sums over <= 49 legs
         < 2e65: the unsafe products and sums cannot overflow.
    """
    oa: int256[MAX_SCENARIOS] = la
    ob: int256[MAX_SCENARIOS] = lb
    p0i: int256 = convert(p0, int256)
    n: uint256 = len(g.f_s)
    for i: uint256 in range(n, bound=MAX_SCENARIOS):
        fs: uint256 = g.f_s[i]
        d1: int256 = 0
        d2: int256 = 0
        e: uint256 = 0
        eg1: uint256 = 0
        eg2: uint256 = 0
        # v <= V_MAX = 1.5e37 and fv <= 4e18: v' <= 6e37 < 7e37 (tails' range), v' >= 2e29; |x'| <= 63e36
        d1, d2, e, eg1, eg2 = bs.tails(unsafe_add(x, g.ln_s[i]), unsafe_div(unsafe_mul(v, g.f_v[i]), WAD))
        c: uint256 = 0
        p: uint256 = 0
        # kr <= 1e66 (see _base) and fs >= 5e16: kr * 1e18 < 2^256
        c, p = bs.normalised(unsafe_div(unsafe_mul(kr, WAD), fs), d1, d2, eg1, eg2)
        if not is_call:
            c = p
        # S' = S fs / 1e18 <= 4e36; S' c <= 4e72 (c <= 1e36); S' p <= K 1e36 <= 1e66 (p <= kr'): fits int256
        u: int256 = unsafe_sub(p0i, convert(unsafe_div(unsafe_mul(unsafe_div(unsafe_mul(spot, fs), WAD), c), X36), int256))
        oa[i] = unsafe_add(oa[i], unsafe_mul(qa, u))
        if qb != 0:
            ob[i] = unsafe_add(ob[i], unsafe_mul(qb, u))
    return oa, ob


@internal
@pure
def _unit_losses(spot: uint256, x: int256, kr: uint256, v: uint256, is_call: bool, p0: uint256, g: Grid) -> DynArray[int256, MAX_SCENARIOS]:
    """
    @notice Loss of one long contract in every scenario, u_s = p0 - p_s, WAD (see _add_losses).
    """
    z: int256[MAX_SCENARIOS] = empty(int256[MAX_SCENARIOS])
    u: int256[MAX_SCENARIOS] = empty(int256[MAX_SCENARIOS])
    u, z = self._add_losses(spot, x, kr, v, is_call, p0, g, 1, 0, z, z)
    out: DynArray[int256, MAX_SCENARIOS] = []
    for i: uint256 in range(len(g.f_s), bound=MAX_SCENARIOS):
        out.append(u[i])
    return out


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
def _intrinsic_losses(spot: uint256, strike: uint256, is_call: bool, g: Grid) -> DynArray[int256, MAX_SCENARIOS]:
    """
    @notice Unit losses of an expired series awaiting its settlement price: intrinsic value now minus
            intrinsic value at the shocked spot.
    """
    out: DynArray[int256, MAX_SCENARIOS] = []
    p0: int256 = convert(self._intrinsic(spot, strike, is_call), int256)
    for fs: uint256 in g.f_s:
        out.append(p0 - convert(self._intrinsic(spot * fs // WAD, strike, is_call), int256))
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
def _maintenance(losses: DynArray[int256, MAX_SCENARIOS], floor_: uint256) -> uint256:
    """
    @notice max(0, max_s losses[s]) + floor_, WAD.
    """
    worst: int256 = 0
    for l: int256 in losses:
        worst = max(worst, l)
    return convert(worst, uint256) + floor_


@internal
@pure
def _close_size(losses: DynArray[int256, MAX_SCENARIOS], unit: DynArray[int256, MAX_SCENARIOS], floor_: uint256,
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
    @param floor_ the account's floor now (WAD); floor_unit the floor per contract of this series if short
    @param long_side True when the position being closed is long
    @param target maintenance to reach (WAD), > 0
    @param size the position's absolute size (WAD contracts): a result above it is returned as is
    """
    f: int256 = convert(floor_, int256)
    fu: int256 = convert(floor_unit, int256)
    need: uint256 = 0
    n: uint256 = len(losses)
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
