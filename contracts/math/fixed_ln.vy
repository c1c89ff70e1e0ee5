# pragma version 0.4.3
# pragma evm-version cancun
"""
@title fixed_ln
@notice Natural logarithm in fixed point (stateless module: import, do not initialize).
@dev API
     ln_x36(x: uint256) -> int256   internal pure   ln(x / 1e36) * 1e36
     ln_wad(x: uint256) -> int256   internal pure   ln(x / 1e18) * 1e18

     Method.  x = m * 2^k * 1e36 with m in [1/sqrt2, sqrt2): k from the bit length of x (binary search,
     8 steps), m by an exact shift.  Then ln m = 2 atanh(s) = 2 s P(y), s = (m - 1)/(m + 1), |s| <= 0.1716,
     y = s^2 / 0.03, P a degree-7 near-minimax polynomial for atanh(s)/s (coefficients derived and checked by
     vyopt/approx/coefficients.py).
     The polynomial runs in binary fixed point (Q120), nested, one MUL and one SHR a step.  Approximation error of 2 s P: 2.3e-19 absolute (measured at 50 digits);
     fixed-point rounding adds ~1e-35.  ln(2) is carried to 1e-36, so k ln 2 adds <= 1.3e-34.
     Rounding: every division truncates toward zero; the result is within 3e-19 of ln(x/1e36) for all x > 0.
"""

X36: constant(int256) = 10**36
Q120: constant(int256) = 2**120
LN2_X36: constant(int256) = 693147180559945309417232121458176568
SQRT_HALF_X36: constant(uint256) = 707106781186547524400844362104849039
# P in t = s^2 / 0.03 (Q120), t in [0, 0.99]
LN_P0: constant(uint256) = 1329227995784915857788656967646418186
LN_P1: constant(uint256) = 13292279957849881931397424039491462
LN_P2: constant(uint256) = 239261039231195261414884791083098
LN_P3: constant(uint256) = 5127022332616978400477961414563
LN_P4: constant(uint256) = 119630310184601057180942506391
LN_P5: constant(uint256) = 2936778597083196048960147354
LN_P6: constant(uint256) = 74120615950888672002308056
LN_P7: constant(uint256) = 2171670658377686162680142


@internal
@pure
def ln_x36(x: uint256) -> int256:
    """
    @notice ln(x / 1e36) at 1e36 scale.
    @param x a positive number at 1e36 scale (any uint256 > 0)
    @return ln(x / 1e36) * 1e36, absolute error below 3e-19 (in real units)
    """
    assert x != 0, "ln: x must be positive"
    # b = index of the top bit of x, by binary search (inlined: a helper call costs a memory frame)
    b: uint256 = 0
    r: uint256 = x
    if r >= 1 << 128:
        r = r >> 128
        b = 128
    if r >= 1 << 64:
        r = r >> 64
        b = unsafe_add(b, 64)
    if r >= 1 << 32:
        r = r >> 32
        b = unsafe_add(b, 32)
    if r >= 1 << 16:
        r = r >> 16
        b = unsafe_add(b, 16)
    if r >= 1 << 8:
        r = r >> 8
        b = unsafe_add(b, 8)
    if r >= 1 << 4:
        r = r >> 4
        b = unsafe_add(b, 4)
    if r >= 1 << 2:
        r = r >> 2
        b = unsafe_add(b, 2)
    if r >= 2:
        b = unsafe_add(b, 1)
    # 1e36 lies in [2^119, 2^120): shifting x so its top bit is bit 119 gives y = m * 1e36, m in [0.66, 1.33);
    # below 1/sqrt2 take one more bit, so m in [0.7071, 1.33) and k = b - 119 (or b - 120)
    y: uint256 = 0
    k: int256 = 0
    if b >= 119:
        y = x >> unsafe_sub(b, 119)
        k = convert(unsafe_sub(b, 119), int256)
    else:
        y = x << unsafe_sub(119, b)
        k = -convert(unsafe_sub(119, b), int256)
    if y < SQRT_HALF_X36:
        # y < 0.7072e36 < 2^119, so doubling stays below 2^120
        y = unsafe_add(y, y)
        k = unsafe_sub(k, 1)
    # |s| = |m - 1| / (m + 1) in Q120, at most 0.1716 * 2^120; products below are < 2^241
    neg: bool = y < 10**36
    a: uint256 = 0
    if neg:
        a = unsafe_div(unsafe_mul(unsafe_sub(10**36, y), 2**120), unsafe_add(y, 10**36))
    else:
        a = unsafe_div(unsafe_mul(unsafe_sub(y, 10**36), 2**120), unsafe_add(y, 10**36))
    t: uint256 = unsafe_div(unsafe_mul(unsafe_mul(a, a) >> 120, 100), 3)
    p: uint256 = unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(LN_P7, t) >> 120, LN_P6), t) >> 120, LN_P5), t) >> 120, LN_P4), t) >> 120, LN_P3), t) >> 120, LN_P2), t) >> 120, LN_P1), t) >> 120, LN_P0)
    # ln m = 2 s p: a * p < 2^240; from Q120 to 1e36.  |k| <= 137: k ln2 < 1e38
    lnm: uint256 = unsafe_mul(unsafe_mul(a, p) >> 119, 10**36) >> 120
    if neg:
        return unsafe_sub(unsafe_mul(k, LN2_X36), convert(lnm, int256))
    return unsafe_add(unsafe_mul(k, LN2_X36), convert(lnm, int256))


@internal
@pure
def ln_wad(x: uint256) -> int256:
    """
    @notice ln(x / 1e18) at 1e18 scale (WAD), truncated toward zero.
    @param x a positive WAD number, at most 2^256 / 1e18
    @return ln(x) in WAD, within 1 wei
    """
    assert x != 0, "ln: x must be positive"
    assert x <= max_value(uint256) // 10**18, "ln: x too large"
    return self.ln_x36(x * 10**18) // 10**18
