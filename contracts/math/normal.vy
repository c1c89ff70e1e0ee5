# pragma version 0.4.3
# pragma evm-version cancun
"""
@title normal
@notice The standard normal distribution through the scaled complementary error function
        (stateless module: import, do not initialize).
@dev API
     erfcx_x36(z: uint256) -> uint256   internal pure   exp(z^2) erfc(z) * 1e36, z >= 0 at 1e36 scale
     cdf_x36(x: int256) -> uint256      internal pure   N(x) * 1e36
     pdf_x36(x: int256) -> uint256      internal pure   phi(x) * 1e36

     Why erfcx.  N(x) = exp(-x^2/2) erfcx(-x/sqrt2) / 2 for x <= 0 keeps full relative accuracy in the tail,
     and Black-Scholes needs only ONE exponential for both N(d1) and N(d2) because
     S exp(-d1^2/2) = K exp(-r tau) exp(-d2^2/2) (see black_scholes.vy).

     erfcx on [0, 4]: rational (8,8) in t = z/4, near-minimax in absolute error: 4.2e-18.
     erfcx on [4, inf): R(w) / (z sqrt(pi)) with w = 16/z^2, R rational (5,5): relative error 9.9e-18.
     All coefficients are positive, so Horner has no cancellation; derived and re-checked exactly by
     vyopt/approx/coefficients.py and tests/pricing/test_coefficients.py.  Fixed-point rounding adds ~1e-35.
     The rationals run in binary fixed point (Q120), nested Horner, one MUL and one SHR a step.
"""

from . import fixed_exp

X36: constant(uint256) = 10**36
SQRT_PI_X36: constant(uint256) = 1772453850905516027298167483341145183
INV_SQRT2_X36: constant(uint256) = 707106781186547524400844362104849039
INV_SQRT_2PI_X36: constant(uint256) = 398942280401432677939946059934381868
# (8,8) rational in t = z/4 on [0, 1], Q120
ERFCX_P0: constant(uint256) = 1329227995784915867319209518832418106
ERFCX_P1: constant(uint256) = 8497330614875223432370480233265650633
ERFCX_P2: constant(uint256) = 27397907105912461811877240365326271936
ERFCX_P3: constant(uint256) = 54402581186708730251132521379770023987
ERFCX_P4: constant(uint256) = 70764001512821663900152289408317873187
ERFCX_P5: constant(uint256) = 59836657019583805408851269465630850913
ERFCX_P6: constant(uint256) = 30443326881749935517251485876719982889
ERFCX_P7: constant(uint256) = 7222460085168160098405398236724828042
ERFCX_P8: constant(uint256) = 4617477760860019021730883047386
ERFCX_Q0: constant(uint256) = 1329227995784915872903807060280344576
ERFCX_Q1: constant(uint256) = 14496823329930499338141315806930605562
ERFCX_Q2: constant(uint256) = 71561912911586558052598666436800251124
ERFCX_Q3: constant(uint256) = 209443883616019101716112305063775287447
ERFCX_Q4: constant(uint256) = 398898311139339126462270254867635847452
ERFCX_Q5: constant(uint256) = 508430137067146456381239937416868725137
ERFCX_Q6: constant(uint256) = 425838218658479735095514229790603111529
ERFCX_Q7: constant(uint256) = 215835541741250903420465676898876185304
ERFCX_Q8: constant(uint256) = 51206278775630683694968217323061961414
# (5,5) rational in w = 16/z^2 on (0, 1], Q120
TAIL_P0: constant(uint256) = 1329227995784915860073764829539487200
TAIL_P1: constant(uint256) = 1802259817755058509313263519754347319
TAIL_P2: constant(uint256) = 778758291014899726167012936078765927
TAIL_P3: constant(uint256) = 124117093562118857922715888740916875
TAIL_P4: constant(uint256) = 6194031575869095562158206308046411
TAIL_P5: constant(uint256) = 43562866242723763841005205346551
TAIL_Q0: constant(uint256) = 1329227995784915872903807060280344576
TAIL_Q1: constant(uint256) = 1843798192623333141799934690026889977
TAIL_Q2: constant(uint256) = 832482761890680297184400402615511828
TAIL_Q3: constant(uint256) = 145338899637850123731813189121717168
TAIL_Q4: constant(uint256) = 9007878407171233061571051187607033
TAIL_Q5: constant(uint256) = 133146713527800879760329369839321


@internal
@pure
def erfcx_x36(z: uint256) -> uint256:
    """
    @notice Scaled complementary error function exp(z^2) erfc(z), z >= 0.
    @param z argument at 1e36 scale (any uint256; the pricer passes z <= 56)
    @return erfcx(z) * 1e36 in [0, 1e36]; absolute error < 5e-18 for z <= 4, relative < 1e-17 for 4 < z <= 1e9;
            beyond, the 1e-36 fixed-point floor of a = 4/z dominates (1.3e-12 relative at z = 1e60, 0 from 4e72)
    """
    if z <= 4 * X36:
        # t = z/4 in Q120 <= 2^120; partial sums < 2^131, so products < 2^251: unsafe_* cannot overflow
        t: uint256 = unsafe_div(unsafe_mul(z, 2**118), X36)
        p: uint256 = unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(ERFCX_P8, t) >> 120, ERFCX_P7), t) >> 120, ERFCX_P6), t) >> 120, ERFCX_P5), t) >> 120, ERFCX_P4), t) >> 120, ERFCX_P3), t) >> 120, ERFCX_P2), t) >> 120, ERFCX_P1), t) >> 120, ERFCX_P0)
        q: uint256 = unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(ERFCX_Q8, t) >> 120, ERFCX_Q7), t) >> 120, ERFCX_Q6), t) >> 120, ERFCX_Q5), t) >> 120, ERFCX_Q4), t) >> 120, ERFCX_Q3), t) >> 120, ERFCX_Q2), t) >> 120, ERFCX_Q1), t) >> 120, ERFCX_Q0)
        # p < 2^128: p * 1e36 < 2^248
        return unsafe_div(unsafe_mul(p, X36), q)
    # a = 4/z at 1e36 (< 1e36); w = 16/z^2 in Q120 (<= 2^120); partial sums < 2^122
    a: uint256 = unsafe_div(4 * X36 * X36, z)
    aq: uint256 = unsafe_div(unsafe_mul(a, 2**120), X36)
    w: uint256 = unsafe_mul(aq, aq) >> 120
    rp: uint256 = unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(TAIL_P5, w) >> 120, TAIL_P4), w) >> 120, TAIL_P3), w) >> 120, TAIL_P2), w) >> 120, TAIL_P1), w) >> 120, TAIL_P0)
    rq: uint256 = unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(unsafe_add(unsafe_mul(TAIL_Q5, w) >> 120, TAIL_Q4), w) >> 120, TAIL_Q3), w) >> 120, TAIL_Q2), w) >> 120, TAIL_Q1), w) >> 120, TAIL_Q0)
    # erfcx = (rp / rq) * (a / 4) / sqrt(pi); rp * a < 2^241
    return unsafe_div(unsafe_div(unsafe_mul(rp, a), rq) * X36, unsafe_mul(4, SQRT_PI_X36))


@internal
@pure
def pdf_x36(x: int256) -> uint256:
    """
    @notice Standard normal density phi(x) = exp(-x^2/2) / sqrt(2 pi).
    @param x at 1e36 scale, |x| < 2^255 (beyond 14 returns 0, as phi underflows; -2^255 reverts in abs)
    @return phi(x) * 1e36, relative error < 1e-21 plus truncation
    """
    ax: uint256 = convert(abs(x), uint256)
    if ax > 14 * X36:
        # phi(14) = 5.5e-44 < 1e-36
        return 0
    h: int256 = convert(unsafe_div(unsafe_mul(ax, ax), 2 * X36), int256)
    return unsafe_div(unsafe_mul(fixed_exp.exp_x36(-h), INV_SQRT_2PI_X36), X36)


@internal
@pure
def cdf_x36(x: int256) -> uint256:
    """
    @notice Standard normal distribution function N(x).
    @param x at 1e36 scale, |x| < 2^255 (-2^255 reverts in abs)
    @return N(x) * 1e36; absolute error < 3e-18.  In the lower tail the result is a fixed-point number with a
            1e-36 floor: relative error 7e-14 at x = -10, 3e-4 at -12, and 0 below about -12.96.
            (The pricer does not use cdf_x36: it carries e = exp(-d1^2/2)/2 and erfcx separately.)
    """
    ax: uint256 = convert(abs(x), uint256)
    if ax > 40 * X36:
        # N(-40) = 3.7e-350: exactly 0 or 1 at this precision
        if x < 0:
            return 0
        return X36
    h: int256 = convert(unsafe_div(unsafe_mul(ax, ax), 2 * X36), int256)
    e: uint256 = fixed_exp.exp_x36(-h)
    tail: uint256 = unsafe_div(unsafe_mul(e, self.erfcx_x36(unsafe_div(unsafe_mul(ax, INV_SQRT2_X36), X36))), 2 * X36)
    if x <= 0:
        return tail
    return X36 - tail
