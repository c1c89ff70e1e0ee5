# pragma version 0.4.3
# pragma evm-version cancun
"""
@title black_scholes
@notice European option prices and greeks in fixed point (stateless module: import, do not initialize).
@dev API (all internal pure)
     check_domain(spot, strike, vol, tau, rate)                 reverts "bs: <input> out of range"
     moneyness(spot, strike, tau, rate) -> (kr, x, sq)           strike/spot terms, tau > 0
     tails(x, v) -> (d1, d2, e, eg1, eg2)                        the Gaussian terms for total vol v
     normalised(kr, d1, d2, eg1, eg2) -> (c, p)                  C/S and P/S at 1e36, within no-arbitrage bounds
     prices(spot, strike, vol, tau, rate) -> (uint256, uint256)  (call, put) in WAD
     greeks(spot, strike, vol, tau, rate, is_call) -> (int256, uint256, uint256, int256, int256)
     The hot path passes a few words between small functions (no structs): in Vyper's legacy code
     generator every word of a callee's frame is memory the call pays to expand.

     Units: spot, strike, vol, rate in WAD; tau in seconds; a year is 365 days.
     Glossary (all at 1e36 scale, "X36", and normalised by the spot S):
       kr = K e^{-r tau} / S             v  = sigma sqrt(tau)            x = ln(S / (K e^{-r tau})) = -ln kr
       d1 = x / v + v / 2                d2 = d1 - v
       e  = exp(-d1^2 / 2) / 2           g1 = erfcx(|d1| / sqrt2)       g2 = erfcx(|d2| / sqrt2)
       eg1 = e g1, eg2 = e g2
     Derivation.  N(d) = exp(-d^2/2) erfcx(-d/sqrt2) / 2 for d <= 0, and S exp(-d1^2/2) = K e^{-r tau} exp(-d2^2/2),
     so both terms of C / S = N(d1) - kr N(d2) share the single exponential e:
       d1 <= 0        c = e (g1 - g2)                 (both N in the lower tail; g1 >= g2)
       d2 < 0 < d1    c = 1 - e (g1 + g2)             (no cancellation: a sum)
       d2 >= 0        p = e (g2 - g1),  c = p + 1 - kr  (both N(-d) in the lower tail)
     and p = c - 1 + kr (put-call parity) in the other two cases.  Errors of x act like a relative change of
     the strike (the three formulas are exact for the strike S e^{-x}), so they move the price by at most
     S |dx|.  `normalised` clamps to the no-arbitrage bounds (with kr exact to 1e-35); the external `price`
     path clamps a call to [0, S] and a put to >= 0, and stays within the bounds to the 1-wei truncation
     because kr comes from the [10/10] exp.
     Error budget (per unit of spot): erfcx 5e-18 absolute, exp 1e-34 relative, ln 3e-19 absolute,
     sqrt 6e-31 relative, final truncation 1 wei.  Measured against 50-digit mpmath: see reports/pricing/bench.md.
"""

from . import fixed_exp
from . import fixed_ln
from . import fixed_sqrt
from . import normal

WAD: constant(uint256) = 10**18
X36: constant(uint256) = 10**36
YEAR: constant(uint256) = 365 * 86400
INV_SQRT2_X36: constant(uint256) = 707106781186547524400844362104849039
INV_SQRT_2PI_X36: constant(uint256) = 398942280401432677939946059934381868

# Domain (inclusive).  Spot and strike 1e-6 ... 1e12; ln(K/S) within +-8; vol 0.0001 ... 20; tau <= 10 years;
# rate -0.5 ... 1.
MIN_PRICE: constant(uint256) = 10**12
MAX_PRICE: constant(uint256) = 10**30
E8_WAD: constant(uint256) = 2980957987041728274743
MIN_VOL: constant(uint256) = 10**14
MAX_VOL: constant(uint256) = 20 * 10**18
MAX_TAU: constant(uint256) = 10 * YEAR
MIN_RATE: constant(int256) = -5 * 10**17
MAX_RATE: constant(int256) = 10**18
# |d1| beyond 14 makes exp(-d1^2/2) < 1e-42: the time value is below 1e-42 S and e is taken as 0.
D_CUTOFF: constant(int256) = 14 * 10**36


@internal
@pure
def check_domain(spot: uint256, strike: uint256, vol: uint256, tau: uint256, rate: int256):
    """
    @notice Revert with the rule broken when an input is outside the pricing domain.
    @dev a - MIN <= MAX - MIN with wrap-around is one comparison for MIN <= a <= MAX.
    """
    assert unsafe_sub(spot, MIN_PRICE) <= MAX_PRICE - MIN_PRICE, "bs: spot out of range"
    assert unsafe_sub(strike, MIN_PRICE) <= MAX_PRICE - MIN_PRICE, "bs: strike out of range"
    # spot, strike <= 1e30 so both products are < 3e51: no overflow
    assert unsafe_mul(strike, WAD) <= unsafe_mul(spot, E8_WAD) and unsafe_mul(spot, WAD) <= unsafe_mul(strike, E8_WAD), "bs: moneyness out of range"
    assert unsafe_sub(vol, MIN_VOL) <= MAX_VOL - MIN_VOL, "bs: vol out of range"
    assert tau <= MAX_TAU, "bs: tau out of range"
    assert rate >= MIN_RATE and rate <= MAX_RATE, "bs: rate out of range"


@internal
@pure
def moneyness(spot: uint256, strike: uint256, tau: uint256, rate: int256) -> (uint256, int256, uint256):
    """
    @notice (kr, x, sq): K e^{-r tau} / S and x = ln(S / (K e^{-r tau})) at 1e36, sqrt(tau in years) at 1e34.
    """
    disc: uint256 = X36
    if rate != 0:
        # |rate| <= 1e18, tau <= 3.2e8: |rate * tau * 1e18| < 3.2e44, exact up to the truncation of / YEAR
        disc = fixed_exp.exp_x36(-unsafe_div(unsafe_mul(unsafe_mul(rate, convert(tau, int256)), 10**18), 31536000))
    # strike <= 1e30, disc <= e^5 * 1e36: product < 1.5e68; kr in [e^-18, e^13] * 1e36
    kr: uint256 = unsafe_div(unsafe_mul(strike, disc), spot)
    return kr, -fixed_ln.ln_x36(kr), fixed_sqrt.sqrt_years_x34(tau)


@internal
@pure
def tails(x: int256, v: uint256) -> (int256, int256, uint256, uint256, uint256):
    """
    @notice (d1, d2, e, eg1, eg2) at 1e36 for x = ln(S / (K e^{-r tau})) and total volatility v.
    @dev |x| <= 20e36 and v in [1e28, 7e37] keep every product below 1e76.  e = 0 when |d1| > 14.
    """
    vi: int256 = convert(v, int256)
    d1: int256 = unsafe_add(unsafe_div(unsafe_mul(x, 10**36), vi), vi >> 1)
    d2: int256 = unsafe_sub(d1, vi)
    a1: int256 = d1
    if d1 < 0:
        a1 = -d1
    if a1 > D_CUTOFF:
        return d1, d2, 0, 0, 0
    a2: int256 = d2
    if d2 < 0:
        a2 = -d2
    # a1 <= 14e36, a2 <= 78e36: squares and products < 1e76; e <= 0.5e36, erfcx <= 1e36
    e: uint256 = fixed_exp.exp_x36(-unsafe_div(unsafe_mul(a1, a1), 2 * 10**36)) >> 1
    g1: uint256 = normal.erfcx_x36(unsafe_div(unsafe_mul(convert(a1, uint256), INV_SQRT2_X36), X36))
    g2: uint256 = normal.erfcx_x36(unsafe_div(unsafe_mul(convert(a2, uint256), INV_SQRT2_X36), X36))
    return d1, d2, e, unsafe_div(unsafe_mul(e, g1), X36), unsafe_div(unsafe_mul(e, g2), X36)


@internal
@pure
def normalised(kr: uint256, d1: int256, d2: int256, eg1: uint256, eg2: uint256) -> (uint256, uint256):
    """
    @notice (C / S, P / S) at 1e36 from the Gaussian terms, clamped to the no-arbitrage bounds
            max(1 - kr, 0) <= c <= 1 and max(kr - 1, 0) <= p <= kr (clamping only removes error).
    """
    # all terms are < 5e41 in magnitude: int256 arithmetic cannot overflow
    k: int256 = convert(kr, int256)
    a: int256 = convert(eg1, int256)
    b: int256 = convert(eg2, int256)
    call: int256 = 0
    put: int256 = 0
    if d1 <= 0:
        call = unsafe_sub(a, b)
        put = unsafe_sub(unsafe_add(call, k), 10**36)
    elif d2 < 0:
        call = unsafe_sub(unsafe_sub(10**36, a), b)
        put = unsafe_sub(unsafe_sub(k, a), b)
    else:
        put = unsafe_sub(b, a)
        call = unsafe_sub(unsafe_add(put, 10**36), k)
    if call < 0:
        call = 0
    if put < 0:
        put = 0
    if k > 10**36:
        if call > 10**36:
            call = 10**36
        if put < unsafe_sub(k, 10**36):
            put = unsafe_sub(k, 10**36)
    else:
        if call < unsafe_sub(10**36, k):
            call = unsafe_sub(10**36, k)
        if call > 10**36:
            call = 10**36
    if put > k:
        put = k
    return convert(call, uint256), convert(put, uint256)


@internal
@pure
def price(spot: uint256, strike: uint256, vol: uint256, tau: uint256, rate: int256, is_call: bool) -> uint256:
    """
    @notice One option price in WAD (truncated), after the domain check; tau == 0 gives intrinsic value.
    @dev The gas-critical path, written as one function that calls only the kernels (ln, isqrt, exp, erfcx):
         every helper call in Vyper's legacy code generator costs a memory frame.  Same formulas as
         `tails` + `normalised` (see the module docstring), with two savings: x = ln(S/K) + r tau needs no
         exponential, and e^{-r tau} is computed only in the case that uses kr (a call with d2 >= 0, a put
         with d2 < 0).  tests/pricing checks this path against the reference and against `greeks`/`tails`.
    """
    self.check_domain(spot, strike, vol, tau, rate)
    if tau == 0:
        if is_call:
            if spot > strike:
                return unsafe_sub(spot, strike)
            return 0
        if strike > spot:
            return unsafe_sub(strike, spot)
        return 0
    # x = ln(S/K) + r tau at 1e36: spot <= 1e30 so spot * 1e36 < 2^256; |x| <= 18e36
    rt: int256 = 0
    if rate != 0:
        # |rate * tau * 1e18| < 3.2e44
        rt = unsafe_div(unsafe_mul(unsafe_mul(rate, convert(tau, int256)), 10**18), 31536000)
    x: int256 = unsafe_add(fixed_ln.ln_x36(unsafe_div(unsafe_mul(spot, X36), strike)), rt)
    # v = sigma sqrt(tau) at 1e36 in [1.7e28, 6.4e37]; tau * 1e68 < 3.2e76 (isqrt inline: a helper call costs ~55 gas)
    vi: int256 = convert(unsafe_div(unsafe_mul(vol, isqrt(unsafe_div(unsafe_mul(tau, 10**68), YEAR))), 10**16), int256)
    d1: int256 = unsafe_add(unsafe_div(unsafe_mul(x, 10**36), vi), vi >> 1)
    d2: int256 = unsafe_sub(d1, vi)
    a: int256 = 0
    b: int256 = 0
    if unsafe_add(d1, D_CUTOFF) >= 0 and d1 <= D_CUTOFF:
        a1: uint256 = 0
        if d1 < 0:
            a1 = convert(unsafe_sub(0, d1), uint256)
        else:
            a1 = convert(d1, uint256)
        a2: uint256 = 0
        if d2 < 0:
            a2 = convert(unsafe_sub(0, d2), uint256)
        else:
            a2 = convert(d2, uint256)
        # a1 <= 14e36, |d2| <= 78e36: squares and products < 1e76; e <= 0.5e36, erfcx <= 1e36
        e: uint256 = fixed_exp.exp_x36(-convert(unsafe_div(unsafe_mul(a1, a1), 2 * X36), int256)) >> 1
        a = convert(unsafe_div(unsafe_mul(e, normal.erfcx_x36(unsafe_div(unsafe_mul(a1, INV_SQRT2_X36), X36))), X36), int256)
        b = convert(unsafe_div(unsafe_mul(e, normal.erfcx_x36(unsafe_div(unsafe_mul(a2, INV_SQRT2_X36), X36))), X36), int256)
    # n = C/S or P/S at 1e36 (a = e g1, b = e g2; module docstring):
    #   d1 <= 0: c = a - b           d2 < 0 < d1: c = 1 - a - b, p = kr - a - b        d2 >= 0: p = b - a
    # and the other by parity c - p = 1 - kr.  Terms are < 5e41: int256 arithmetic cannot overflow.
    n: int256 = 0
    if d2 >= 0:
        n = unsafe_sub(b, a)
        if is_call:
            n = unsafe_sub(unsafe_add(n, 10**36), convert(self._kr(spot, strike, rt), int256))
    elif is_call:
        if d1 <= 0:
            n = unsafe_sub(a, b)
        else:
            n = unsafe_sub(unsafe_sub(10**36, a), b)
    else:
        n = unsafe_sub(unsafe_sub(convert(self._kr(spot, strike, rt), int256), a), b)
        if d1 <= 0:
            n = unsafe_sub(n, unsafe_sub(10**36, unsafe_add(a, a)))
    # the price is never negative and a call is never worth more than the spot: clamp rounding noise
    if n <= 0:
        return 0
    if is_call and n > 10**36:
        return spot
    # spot <= 1e30, n <= e^13 * 1e36: product < 5e71
    return unsafe_div(unsafe_mul(spot, convert(n, uint256)), X36)


@internal
@pure
def _kr(spot: uint256, strike: uint256, rt: int256) -> uint256:
    """
    @notice K e^{-r tau} / S at 1e36 for r tau = rt (1e36 scale).
    """
    if rt == 0:
        return unsafe_div(unsafe_mul(strike, X36), spot)
    # strike <= 1e30, e^{-r tau} <= e^5 * 1e36: product < 1.5e68
    return unsafe_div(unsafe_mul(strike, fixed_exp.exp_x36(-rt)), spot)


@internal
@pure
def prices(spot: uint256, strike: uint256, vol: uint256, tau: uint256, rate: int256) -> (uint256, uint256):
    """
    @notice Call and put prices in WAD (truncated) through `tails` and `normalised` (the path greeks and
            implied_vol share); the external price functions use the single-function `price`.
    """
    self.check_domain(spot, strike, vol, tau, rate)
    if tau == 0:
        if spot >= strike:
            return unsafe_sub(spot, strike), 0
        return 0, unsafe_sub(strike, spot)
    kr: uint256 = 0
    x: int256 = 0
    sq: uint256 = 0
    kr, x, sq = self.moneyness(spot, strike, tau, rate)
    d1: int256 = 0
    d2: int256 = 0
    e: uint256 = 0
    eg1: uint256 = 0
    eg2: uint256 = 0
    # vol <= 2e19, sq <= 3.2e34: v = sigma sqrt(tau) * 1e36 in [1.7e28, 6.4e37]
    d1, d2, e, eg1, eg2 = self.tails(x, unsafe_div(unsafe_mul(vol, sq), 10**16))
    nc: uint256 = 0
    np: uint256 = 0
    nc, np = self.normalised(kr, d1, d2, eg1, eg2)
    # spot <= 1e30, nc <= 1e36, np <= e^13 * 1e36: products < 5e71
    return unsafe_div(unsafe_mul(spot, nc), X36), unsafe_div(unsafe_mul(spot, np), X36)


@internal
@pure
def greeks(spot: uint256, strike: uint256, vol: uint256, tau: uint256, rate: int256, is_call: bool) -> (int256, uint256, uint256, int256, int256):
    """
    @notice delta, gamma, vega, theta, rho as plain derivatives, WAD (see BlackScholes.vy for units).
    """
    self.check_domain(spot, strike, vol, tau, rate)
    if tau == 0:
        # At expiry the greeks are the limits tau -> 0+: delta the step 1{S > K}, gamma, vega and rho 0,
        # theta -r K for an in-the-money call, +r K for an in-the-money put, 0 out of the money.  At S = K
        # the limits of gamma and theta are infinite: no number is returned.
        assert spot != strike, "bs: greeks undefined at the money at expiry"
        if spot > strike:
            if is_call:
                return 10**18, 0, 0, -unsafe_div(unsafe_mul(rate, convert(strike, int256)), 10**18), 0
            return 0, 0, 0, 0, 0
        if is_call:
            return 0, 0, 0, 0, 0
        return -10**18, 0, 0, unsafe_div(unsafe_mul(rate, convert(strike, int256)), 10**18), 0
    kr: uint256 = 0
    x: int256 = 0
    sq: uint256 = 0
    kr, x, sq = self.moneyness(spot, strike, tau, rate)
    v: uint256 = unsafe_div(unsafe_mul(vol, sq), 10**16)
    d1: int256 = 0
    d2: int256 = 0
    e: uint256 = 0
    eg1: uint256 = 0
    eg2: uint256 = 0
    d1, d2, e, eg1, eg2 = self.tails(x, v)
    one: int256 = 10**36
    k: int256 = convert(kr, int256)
    # N(d1) and K e^{-r tau} N(d2) / S at 1e36 (e = 0: N(d1), N(d2) are exactly 0 or 1 at this precision)
    nd1: int256 = convert(eg1, int256)
    if d1 > 0:
        nd1 = one - nd1
    knd2: int256 = convert(eg2, int256)
    if d2 > 0:
        knd2 = k - knd2
    # phi(d1) = 2 e / sqrt(2 pi)
    pdf: uint256 = unsafe_div(unsafe_mul(unsafe_add(e, e), INV_SQRT_2PI_X36), X36)
    s: int256 = convert(spot, int256)
    delta: int256 = nd1 // 10**18
    if not is_call:
        delta = (nd1 - one) // 10**18
    # gamma = phi / (S v): (phi / v) at 1e36 is < 2.3e43
    gamma: uint256 = unsafe_div(unsafe_div(unsafe_mul(pdf, X36), v), spot)
    # vega = S phi sqrt(tau): phi * sq < 1.3e70
    vega: uint256 = unsafe_div(unsafe_mul(spot, unsafe_div(unsafe_mul(pdf, sq), 10**34)), X36)
    # theta / S at 1e36 = -phi sigma / (2 sqrt(tau)) -+ r K e^{-r tau} N(+-d2) / S, then one multiplication by
    # S and ONE truncation (truncating each term separately cost up to 3 wei): pdf * vol * 1e16 < 8e70,
    # sq >= 1.7e30; rate * knd2 < 4.4e59; S * theta36 < 5e71
    decay: int256 = convert(unsafe_div(unsafe_mul(unsafe_mul(pdf, vol), 10**16), unsafe_mul(2, sq)), int256)
    # rho = tau K e^{-r tau} N(+-d2): multiply by tau at 1e36 before scaling by S, so the WAD truncation is
    # not amplified by tau (up to 10 years); knd2 * tau < 4.4e41 * 3.2e8, then * S / 1e36 after / YEAR
    t: int256 = convert(tau, int256)
    if is_call:
        th: int256 = unsafe_div(unsafe_mul(s, unsafe_sub(unsafe_sub(0, decay), unsafe_div(unsafe_mul(rate, knd2), 10**18))), one)
        return delta, gamma, vega, th, unsafe_div(unsafe_mul(s, unsafe_div(unsafe_mul(knd2, t), 31536000)), one)
    th_p: int256 = unsafe_div(unsafe_mul(s, unsafe_add(unsafe_sub(0, decay), unsafe_div(unsafe_mul(rate, k - knd2), 10**18))), one)
    return delta, gamma, vega, th_p, -unsafe_div(unsafe_mul(s, unsafe_div(unsafe_mul(k - knd2, t), 31536000)), one)
