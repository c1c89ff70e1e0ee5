# pragma version 0.4.3
# pragma evm-version cancun
"""
@title fixed_exp
@notice Exponential in fixed point (stateless module: import, do not initialize).
@dev API
     exp_x36(x: int256) -> uint256   internal pure   e^(x / 1e36) * 1e36
     exp_wad(x: int256) -> uint256   internal pure   e^(x / 1e18) * 1e18

     Method.  x = k ln2 + r with k = round(x / ln2), |r| <= ln2 / 2; e^r by the [10/10] Pade approximant
     N(r) / N(-r), N split into even and odd parts E(r^2) + r O(r^2) that share r^2; then a shift by k.
     The polynomials run in binary fixed point (Q120: value * 2^120) so each Horner step is one MUL and one
     SHR, nested in a single expression (no memory round trip).
     Pade [10/10] error on |r| <= 0.3466: 2.4e-35 relative (bound (10!)^2 / (20! 21!) r^21).  [7/7] (3e-23)
     was not enough: K e^{-r tau} at K = 1e35 wei carried 2.5e9 wei of error, enough to leave the exact
     no-arbitrage bounds (review finding F2).  Coefficients are the exact rationals
     (20-j)! 10! / (20! j! (10-j)!) rounded to 2^-120.  Result: relative error < 1e-34, then truncated to 1e-36.  Measured gas: see reports/pricing/bench.md.
     Domain: x <= 88e36 (else "exp: overflow"); below -84e36 the result is 0 (e^-84 < 1e-36).
"""

X36: constant(int256) = 10**36
Q120: constant(int256) = 2**120
LN2_X36: constant(int256) = 693147180559945309417232121458176568
HALF_LN2_X36: constant(int256) = 346573590279972654708616060729088284
LN2_U: constant(uint256) = 693147180559945309417232121458176568
HALF_LN2_U: constant(uint256) = 346573590279972654708616060729088284
PADE0: constant(uint256) = 1329227995784915872903807060280344576
PADE1: constant(uint256) = 664613997892457936451903530140172288
PADE2: constant(uint256) = 157408578448213721791240309770040805
PADE3: constant(uint256) = 23319789399735366191294860706672712
PADE4: constant(uint256) = 2400566555855111225574470955098662
PADE5: constant(uint256) = 180042491689133341918085321632400
PADE6: constant(uint256) = 10002360649396296773226962312911
PADE7: constant(uint256) = 408259618342705990743957645425
PADE8: constant(uint256) = 11776719759885749732998778233
PADE9: constant(uint256) = 218087402960847217277755152
PADE10: constant(uint256) = 1982612754189520157070501


@internal
@pure
def exp_x36(x: int256) -> uint256:
    """
    @notice e^(x / 1e36) at 1e36 scale.
    @param x exponent at 1e36 scale, at most 88e36
    @return e^x * 1e36, relative error < 1e-34, truncated; 0 below -84e36
    """
    assert x <= 88 * X36, "exp: overflow"
    if x < -84 * X36:
        return 0
    # k = x / ln2 rounded to nearest, |k| <= 127; |r| = |x - k ln2| <= ln2/2.  Work on magnitudes with a
    # sign flag (checked negations and conversions cost more than the arithmetic here).
    neg: bool = x < 0
    ax: uint256 = 0
    if neg:
        ax = convert(unsafe_sub(0, x), uint256)
    else:
        ax = convert(x, uint256)
    k: uint256 = unsafe_div(unsafe_add(ax, HALF_LN2_U), LN2_U)
    kl: uint256 = unsafe_mul(k, LN2_U)
    rneg: bool = neg
    ar: uint256 = 0
    if ax >= kl:
        ar = unsafe_sub(ax, kl)
    else:
        ar = unsafe_sub(kl, ax)
        rneg = not neg
    # |r| <= 0.35e36 -> Q120: < 5e71 before the division.  ar, r2 <= 0.35 * 2^120; partial sums
    # < 1.1 * 2^120, so every product in the nested Horner is < 2^241: unsafe_* cannot overflow
    ar = unsafe_div(unsafe_mul(ar, 2**120), 10**36)
    r2: uint256 = unsafe_mul(ar, ar) >> 120
    ev: uint256 = unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(PADE10, r2) >> 120, PADE8), r2) >> 120, PADE6), r2) >> 120, PADE4), r2) >> 120, PADE2), r2) >> 120, PADE0)
    od: uint256 = unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(PADE9, r2) >> 120, PADE7), r2) >> 120, PADE5), r2) >> 120, PADE3), r2) >> 120, PADE1), ar) >> 120
    # ev >= 2^120 > od (od <= 0.18 * 2^120): e^r = (ev + od)/(ev - od), in [0.70, 1.42]
    res: uint256 = 0
    if rneg:
        res = unsafe_div(unsafe_mul(unsafe_sub(ev, od), 10**36), unsafe_add(ev, od))
    else:
        res = unsafe_div(unsafe_mul(unsafe_add(ev, od), 10**36), unsafe_sub(ev, od))
    if neg:
        return res >> k
    # k <= 127 and res < 1.42e36 < 2^121: the shift stays below 2^248
    return res << k


@internal
@pure
def exp_wad(x: int256) -> uint256:
    """
    @notice e^(x / 1e18) at 1e18 scale (WAD), truncated.
    @param x exponent in WAD, at most 88e18
    @return e^x in WAD
    """
    assert x <= 88 * 10**18, "exp: overflow"
    if x < -84 * 10**18:
        # e^-84 < 1e-36: zero at this precision (and x * 1e18 could overflow int256 further down)
        return 0
    return self.exp_x36(x * 10**18) // 10**18
