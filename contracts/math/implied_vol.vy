# pragma version 0.4.3
# pragma evm-version cancun
"""
@title implied_vol
@notice Implied volatility of a European option (stateless module: import, do not initialize).
@dev API
     implied_vol(price, spot, strike, tau, rate, is_call) -> uint256   internal pure, WAD

     Method (after Jaeckel's "Let's Be Rational" in spirit: work on the out-of-the-money price, split at the
     inflection point, and transform the objective so Newton sees a near-linear function):
       1. Normalise: b* = out-of-the-money price / S (a call when K e^{-r tau} >= S, else a put, via parity),
          b_max = 1 (call) or K e^{-r tau} / S (put); x = ln(S / (K e^{-r tau})).  Solve b(v) = b* for the
          total volatility v = sigma sqrt(tau).  db/dv = phi(d1).
       2. b is convex in v below v_c = sqrt(2 |x|) and concave above.
          Lower branch (b* < b(v_c)): Newton on F = ln b(v) - ln b*, started at the asymptotic solution
          v0 = |x| / sqrt(-2 ln b*) (left of the root); ln b is concave, so the iterates rise monotonically.
          Upper branch: Newton on F = ln(b_max - b(v)) - ln(b_max - b*) (about -v^2/8 for large v), from v_c.
       3. Every iterate is kept inside a bracket [lo, hi] updated from the sign of b(v) - b*; a Newton step
          that leaves it continues from the bracket end it passed (once), else bisection; a Newton step
          below the tolerance ends the search even at a bracket end.  At most 24 iterations; converged when the step is below
          1e-13 v.  Not converged -> "bs: iv not resolvable".
     Reverts: "bs: iv needs tau > 0", "bs: price below intrinsic", "bs: price above upper bound",
     "bs: iv out of range" (solution outside vol 0.0001 ... 20), and the domain reasons of black_scholes.
"""

from . import black_scholes as bs
from . import fixed_ln

X36: constant(uint256) = 10**36
MAX_ITER: constant(uint256) = 24
INV_SQRT_2PI_X36: constant(uint256) = 398942280401432677939946059934381868
SQRT_2PI_X36: constant(uint256) = 2506628274631000502415765284811045253


@internal
@pure
def _otm(kr: uint256, x: int256, v: uint256, otm_call: bool) -> (uint256, uint256):
    """
    @notice (b, phi(d1)) at 1e36: the out-of-the-money price / S and its derivative in v.
    """
    d1: int256 = 0
    d2: int256 = 0
    e: uint256 = 0
    eg1: uint256 = 0
    eg2: uint256 = 0
    d1, d2, e, eg1, eg2 = bs.tails(x, v)
    nc: uint256 = 0
    np: uint256 = 0
    nc, np = bs.normalised(kr, d1, d2, eg1, eg2)
    pdf: uint256 = unsafe_div(unsafe_mul(unsafe_add(e, e), INV_SQRT_2PI_X36), X36)
    if otm_call:
        return nc, pdf
    return np, pdf


@internal
@pure
def implied_vol(price: uint256, spot: uint256, strike: uint256, tau: uint256, rate: int256, is_call: bool) -> uint256:
    """
    @notice Volatility (WAD) at which the Black-Scholes price equals `price` (WAD).
    """
    bs.check_domain(spot, strike, 10**18, tau, rate)
    assert tau > 0, "bs: iv needs tau > 0"
    kr: uint256 = 0
    x: int256 = 0
    sq: uint256 = 0
    kr, x, sq = bs.moneyness(spot, strike, tau, rate)
    # price < S e^13 <= 4.5e35, so price * 1e36 < 2^256
    assert price <= 5 * 10**35, "bs: price above upper bound"
    t: uint256 = price * X36 // spot
    lo_b: uint256 = 0
    hi_b: uint256 = X36
    if is_call:
        if kr < X36:
            lo_b = X36 - kr
    else:
        hi_b = kr
        if kr > X36:
            lo_b = kr - X36
    assert t > lo_b, "bs: price below intrinsic"
    assert t < hi_b, "bs: price above upper bound"
    # out-of-the-money target via put-call parity: c - p = 1 - kr
    otm_call: bool = kr >= X36
    target: uint256 = t
    bmax: uint256 = X36
    if otm_call and not is_call:
        target = t + X36 - kr
    elif not otm_call:
        bmax = kr
        if is_call:
            target = t + kr - X36
    assert target > 0 and target < bmax, "bs: iv not resolvable"

    vlo: uint256 = unsafe_div(unsafe_mul(bs.MIN_VOL, sq), 10**16)
    vhi: uint256 = unsafe_div(unsafe_mul(bs.MAX_VOL, sq), 10**16)
    b: uint256 = 0
    pdf: uint256 = 0
    # The range check compares with the pricer's own prices at vol 20 and 1e-4.  A target within the pricer's
    # resolution of one of them (1e-16 of spot, plus 2 wei of the price's own quantisation) is answered with
    # that end of the range instead of refused: the two cannot be told apart.
    res: uint256 = unsafe_add(10**20, unsafe_div(2 * X36, spot))
    b, pdf = self._otm(kr, x, vhi, otm_call)
    if target >= b:
        assert target - b <= res, "bs: iv out of range"
        return bs.MAX_VOL
    b, pdf = self._otm(kr, x, vlo, otm_call)
    if target <= b:
        assert b - target <= res, "bs: iv out of range"
        return bs.MIN_VOL

    ax: uint256 = convert(abs(x), uint256)
    vc: uint256 = isqrt(unsafe_mul(unsafe_add(ax, ax), X36))
    v: uint256 = max(min(vc, vhi), vlo)
    b, pdf = self._otm(kr, x, v, otm_call)
    lower: bool = target < b
    ltarget: int256 = 0
    if lower:
        ltarget = fixed_ln.ln_x36(target)
        # asymptotic start |x| / sqrt(-2 ln b*), below the root; -ln b* > 0 here since b* < 1
        v0: uint256 = unsafe_div(unsafe_mul(ax, X36), isqrt(unsafe_mul(convert(-2 * ltarget, uint256), X36)))
        v = max(min(v0, v), vlo)
    else:
        ltarget = fixed_ln.ln_x36(bmax - target)
        # near the money b ~ v / sqrt(2 pi) (Brenner-Subrahmanyam); never start below v_c
        v = max(min(max(unsafe_div(unsafe_mul(target, SQRT_2PI_X36), X36), v), vhi), vlo)
    lo: uint256 = vlo
    hi: uint256 = vhi
    for i: uint256 in range(MAX_ITER):
        b, pdf = self._otm(kr, x, v, otm_call)
        if b == target:
            return unsafe_div(unsafe_mul(v, 10**16), sq)
        if b < target:
            lo = max(lo, v)
        else:
            hi = min(hi, v)
        vn: uint256 = 0
        newton: bool = pdf > 0 and b > 0 and b < bmax
        if newton:
            # Newton step dv = -F / F'
            step: int256 = 0
            if lower:
                f: int256 = fixed_ln.ln_x36(b) - ltarget
                step = -(f * convert(b, int256) // convert(pdf, int256))
            else:
                gap: uint256 = bmax - b
                f: int256 = fixed_ln.ln_x36(gap) - ltarget
                step = f * convert(gap, int256) // convert(pdf, int256)
            nv: int256 = convert(v, int256) + step
            if abs(step) * 10**13 <= convert(v, int256):
                # the step is below the tolerance: converged (at a bracket end when the root sits there)
                return unsafe_div(unsafe_mul(convert(max(min(nv, convert(hi, int256)), convert(lo, int256)), uint256), 10**16), sq)
            if nv > convert(lo, int256) and nv < convert(hi, int256):
                vn = convert(nv, uint256)
            elif nv >= convert(hi, int256) and v != hi:
                # overshoot past the bracket: continue from its end (Newton on these concave objectives is
                # monotone from either side of the root), instead of halving toward a root near the end
                vn = hi
            elif nv <= convert(lo, int256) and v != lo:
                vn = lo
            else:
                newton = False
        if not newton:
            vn = unsafe_add(lo, hi) >> 1
        dv: uint256 = 0
        if vn > v:
            dv = vn - v
        else:
            dv = v - vn
        v = vn
        if dv * 10**13 <= v:
            return unsafe_div(unsafe_mul(v, 10**16), sq)
    raise "bs: iv not resolvable"
