"""Implied vol of the reference: round trips (real units and WAD integers) and the iv domain rules."""
from fractions import Fraction

import mpmath
import pytest
from hypothesis import given
from mpmath import mp, mpf

from bs_ref_strategies import ceil_int, floor_int, positive_taus, real_args, wad_inputs
from reference import black_scholes as bs


def _mpf(x):
    return mpf(x.numerator) / x.denominator if isinstance(x, Fraction) else mpf(x)


def test_implied_vol__hull_price__recovers_twenty_percent():
    # Hull's S=42, K=40, r=10 %, T=0.5 call at sigma = 20 %: the price 4.7594... must give back 0.2.
    args = (42, 40, Fraction(1, 2), Fraction(1, 10))
    c = bs.call_price(42, 40, Fraction(1, 5), Fraction(1, 2), Fraction(1, 10))
    p = bs.put_price(42, 40, Fraction(1, 5), Fraction(1, 2), Fraction(1, 10))
    with mp.workdps(60):
        assert abs(bs.implied_vol(c, *args, True) - mpf(1) / 5) < mpf(10) ** -38
        assert abs(bs.implied_vol(p, *args, False) - mpf(1) / 5) < mpf(10) ** -38


@given(wad_inputs(tau_strategy=positive_taus))
def test_implied_vol__model_price__returns_the_vol_within_price_precision(args):
    spot, strike, vol, tau, rate, is_call = args
    S, K, sigma, T, r = real_args(spot, strike, vol, tau, rate)
    p = bs.price(S, K, sigma, T, r, is_call)
    vega = bs.greeks(S, K, sigma, T, r, is_call).vega
    with mp.workdps(60):
        # p is accurate to >= 40 digits of its own size (so to 1e-40 * p absolute) and the solver stops at
        # 1e-40 relative: |iv - sigma| <= 1e-38 p / vega + 1e-38 sigma (100x margin on both).
        tol = mpf(10) ** -38 * (p / vega if vega > 0 else mpmath.inf) + mpf(10) ** -38 * _mpf(sigma)
        lower, upper = bs.no_arbitrage_bounds(S, K, T, r, is_call)
    try:
        iv = bs.implied_vol(p, S, K, T, r, is_call)
    except bs.BSDomainError as e:
        with mp.workdps(60):
            if e.reason == bs.REASON_PRICE_LOW:  # time value below the 50th digit of the price
                assert p - lower <= mpf(10) ** -38 * p
            elif e.reason == bs.REASON_PRICE_HIGH:  # e.g. sigma = 20 over years: C = S (1 - 1e-200)
                assert upper - p <= mpf(10) ** -38 * p
            elif e.reason == bs.REASON_IV_RANGE:  # only at a range end, within the same precision
                assert min(abs(_mpf(sigma) - mpf(1) / 10**4), abs(_mpf(sigma) - 20)) <= tol
            else:
                raise
        return
    with mp.workdps(60):
        assert abs(iv - _mpf(sigma)) <= tol, (iv, sigma, tol)


@given(wad_inputs(tau_strategy=positive_taus))
def test_implied_vol_wad__floored_model_price__reprices_to_the_same_integer(args):
    spot, strike, vol, tau, rate, is_call = args
    exact = bs.price_wad(spot, strike, vol, tau, rate, is_call)
    price = floor_int(exact)
    reason = bs.iv_domain_error(price, spot, strike, tau, rate, is_call)
    if reason is not None:
        lower, upper = bs.no_arbitrage_bounds_wad(spot, strike, tau, rate, is_call)
        with mp.workdps(80):
            if reason == bs.REASON_PRICE_LOW:  # the time value is below one wei
                assert exact - lower < 1
            elif reason == bs.REASON_PRICE_HIGH:  # price within the 50-digit precision of S (or K e^{-rT})
                assert upper - exact <= mpf(10) ** -45 * upper
            else:  # flooring moved the price below model(1e-4): vol is within one wei of price above it
                assert reason == bs.REASON_IV_RANGE
                assert exact - bs.price_wad(spot, strike, bs.VOL_MIN, tau, rate, is_call) < 1
        return
    iv = bs.implied_vol_wad(price, spot, strike, tau, rate, is_call)
    assert bs.VOL_MIN <= iv <= bs.VOL_MAX
    S, K, _, T, r = real_args(spot, strike, vol, tau, rate)
    with mp.workdps(80):
        repriced = bs.price(S, K, iv / bs.WAD, T, r, is_call) * bs.WAD
        g = bs.greeks(S, K, iv / bs.WAD, T, r, is_call)
        # iv is exact to 1e-40 relative (solver) on an exact integer input: repricing misses the integer by at
        # most vega * sigma * 1e-40 (in WAD) plus the price's own 40-digit precision; 100x margin.
        tol = mpf(10) ** -38 * (g.vega * iv + repriced)
        assert abs(repriced - price) <= tol
        assert price <= exact  # and the recovered vol is not above the original one (price is monotone)
        assert iv <= vol * (1 + mpf(10) ** -38)


def test_implied_vol_wad__price_one_wei_below_spot_at_max_vol__is_valid_regression():
    # Found by the deep profile: spot 1e-5, strike 1e-6, vol 20, 2.24 years, r = 100 %.  The exact call value is
    # S - ~1e-38 wei, which at 50 digits (1e13 wei) prints as S exactly, so floor(price_wad) == S: flooring a
    # 50-digit value cannot be trusted within 1e-50 relative of an integer.  The spec answer for S - 1 wei is
    # still "valid" (S - 1 < model(20) < S), and the solver must find a vol below 20 that reprices it.
    spot, strike, tau, rate = 9_999_999_999_999, 1_000_000_000_000, 70_586_264, 10**18
    with mp.workdps(80):  # the precision limit itself: the 50-digit value is S to its last digit
        assert abs(bs.price_wad(spot, strike, bs.VOL_MAX, tau, rate, True) - spot) <= mpf(10) ** -35
    assert bs.iv_domain_error(spot, spot, strike, tau, rate, True) == bs.REASON_PRICE_HIGH
    assert bs.iv_domain_error(spot - 1, spot, strike, tau, rate, True) is None
    iv = bs.implied_vol_wad(spot - 1, spot, strike, tau, rate, True)
    assert bs.VOL_MIN < iv < bs.VOL_MAX
    S, K, _, T, r = real_args(spot, strike, bs.VOL_MAX, tau, rate)
    with mp.workdps(80):
        assert abs(bs.price(S, K, iv / bs.WAD, T, r, True) * bs.WAD - (spot - 1)) <= mpf(10) ** -30


@pytest.mark.parametrize(
    "spot, strike, vol, tau, rate, is_call, price, reason",
    [
        # Found by the deep profile: a call at vol 20 over 10 years is worth S - tiny, which floors to S itself;
        # S is exactly the upper bound and must be rejected (the bound used to be S/1e18 rounded, times 1e18,
        # a 1e-60-relative hair above S, and let it through to the solver).
        (136_459_878_490_979, 10**12, 20 * 10**18, 315_360_000, -5 * 10**17, True, 136_459_878_490_979, bs.REASON_PRICE_HIGH),
        # Found by the deep profile: an ITM put over one second with r = 0 is worth K - S + 1e-(huge), which
        # floors to K - S, exactly the lower bound: rejected, not passed on.
        (10**12, 1_082_085_829_573, 10**14, 1, 0, False, 82_085_829_573, bs.REASON_PRICE_LOW),
    ],
)
def test_iv_domain_error__price_exactly_at_a_rational_bound__rejected_regression(spot, strike, vol, tau, rate, is_call, price, reason):
    assert floor_int(bs.price_wad(spot, strike, vol, tau, rate, is_call)) == price
    assert bs.iv_domain_error(price, spot, strike, tau, rate, is_call) == reason
    with pytest.raises(bs.BSDomainError, match=reason):
        bs.implied_vol_wad(price, spot, strike, tau, rate, is_call)


# ------------------------------------------------------------------------------------------------------
# iv domain rules
# ------------------------------------------------------------------------------------------------------

ONE = 10**18
YEAR = bs.YEAR_SECONDS


def test_iv_domain_error__tau_zero__needs_positive_tau():
    assert bs.iv_domain_error(ONE // 10, ONE, ONE, 0, 0, True) == bs.REASON_IV_TAU
    with pytest.raises(bs.BSDomainError, match="bs: iv needs tau > 0"):
        bs.implied_vol_wad(ONE // 10, ONE, ONE, 0, 0, True)


@pytest.mark.parametrize(
    "args, reason",
    [
        ((ONE, 10**12 - 1, ONE, 0, 0, True), bs.REASON_SPOT),  # spot checked before tau == 0
        ((ONE, ONE, 10**30 + 1, YEAR, 0, True), bs.REASON_STRIKE),
        ((ONE, ONE, bs.E8 + 1, YEAR, 0, True), bs.REASON_MONEYNESS),
        ((ONE, ONE, ONE, bs.TAU_MAX + 1, 0, True), bs.REASON_TAU),
        ((ONE, ONE, ONE, 0, bs.RATE_MAX + 1, True), bs.REASON_RATE),  # rate checked before tau == 0
    ],
)
def test_iv_domain_error__input_out_of_domain__reports_domain_reason_first(args, reason):
    assert bs.iv_domain_error(*args) == reason


def test_iv_domain_error__zero_rate_call__bounds_are_strict_and_exact():
    # r = 0: the bounds are the integers max(S - K, 0) and S.  ITM call S = 120, K = 100, 1 year.
    spot, strike = 120 * ONE, 100 * ONE
    assert bs.iv_domain_error(20 * ONE, spot, strike, YEAR, 0, True) == bs.REASON_PRICE_LOW
    assert bs.iv_domain_error(spot, spot, strike, YEAR, 0, True) == bs.REASON_PRICE_HIGH
    # one wei inside either bound is a valid price: at T = 1y, sigma = 20 prices within 0.002 wei of S, and a
    # time value of one wei (1e-18 of a unit on a 100 strike) needs a small vol, but far above 1e-4
    assert bs.iv_domain_error(spot - 1, spot, strike, YEAR, 0, True) is None
    assert bs.iv_domain_error(20 * ONE + 1, spot, strike, YEAR, 0, True) is None
    assert bs.VOL_MIN < bs.implied_vol_wad(20 * ONE + 1, spot, strike, YEAR, 0, True) < ONE // 10


def test_iv_domain_error__zero_rate_put__bounds_are_strict_and_exact():
    spot, strike = 100 * ONE, 120 * ONE
    assert bs.iv_domain_error(20 * ONE, spot, strike, YEAR, 0, False) == bs.REASON_PRICE_LOW
    assert bs.iv_domain_error(strike, spot, strike, YEAR, 0, False) == bs.REASON_PRICE_HIGH
    assert bs.iv_domain_error(strike - 1, spot, strike, YEAR, 0, False) is None


def test_iv_domain_error__nonzero_rate__lower_bound_uses_discounted_strike():
    # r = 5 %, 1 year: K e^{-r} is irrational; floor(S - K e^{-r}) is below the bound, +1 wei above it.
    spot, strike, rate = 120 * ONE, 100 * ONE, 5 * 10**16
    lower, upper = bs.no_arbitrage_bounds_wad(spot, strike, YEAR, rate, True)
    floor_lower = floor_int(lower)
    assert bs.iv_domain_error(floor_lower, spot, strike, YEAR, rate, True) == bs.REASON_PRICE_LOW
    # just above the bound (time value < 1 wei) is a valid price
    assert bs.iv_domain_error(floor_lower + 1, spot, strike, YEAR, rate, True) is None
    # with r > 0 the bound S - K e^{-r} = 24.88e18 exceeds the undiscounted intrinsic S - K = 20e18
    assert 24 * ONE < lower < 25 * ONE
    assert bs.iv_domain_error(20 * ONE + ONE // 2, spot, strike, YEAR, rate, True) == bs.REASON_PRICE_LOW
    # put side: upper bound K e^{-r}
    _, put_upper = bs.no_arbitrage_bounds_wad(100 * ONE, strike, YEAR, rate, False)
    ceil_upper = ceil_int(put_upper)
    assert bs.iv_domain_error(ceil_upper, 100 * ONE, strike, YEAR, rate, False) == bs.REASON_PRICE_HIGH


@pytest.mark.parametrize("is_call", [True, False])
def test_iv_domain_error__price_at_vol_range_ends__inclusive_and_one_wei_beyond_rejected(is_call):
    # ATM, r = 0, one day: model(1e-4) ~ 2.1e12 wei and model(20) ~ 0.4e18, neither an integer, so the
    # integer prices just inside [model(1e-4), model(20)] are accepted and the next ones out are rejected.
    spot = strike = ONE
    tau = 86_400
    at_min = bs.price_wad(spot, strike, bs.VOL_MIN, tau, 0, is_call)
    at_max = bs.price_wad(spot, strike, bs.VOL_MAX, tau, 0, is_call)
    lo_in, lo_out = ceil_int(at_min), floor_int(at_min)
    hi_in, hi_out = floor_int(at_max), ceil_int(at_max)
    assert bs.iv_domain_error(lo_in, spot, strike, tau, 0, is_call) is None
    assert bs.iv_domain_error(lo_out, spot, strike, tau, 0, is_call) == bs.REASON_IV_RANGE
    assert bs.iv_domain_error(hi_in, spot, strike, tau, 0, is_call) is None
    assert bs.iv_domain_error(hi_out, spot, strike, tau, 0, is_call) == bs.REASON_IV_RANGE
    assert bs.VOL_MIN < bs.implied_vol_wad(lo_in, spot, strike, tau, 0, is_call) < bs.VOL_MIN * (1 + mpf(10) ** -12)
    assert bs.VOL_MAX * (1 - mpf(10) ** -12) < bs.implied_vol_wad(hi_in, spot, strike, tau, 0, is_call) < bs.VOL_MAX
    with pytest.raises(bs.BSDomainError, match="bs: iv out of range"):
        bs.implied_vol_wad(hi_out, spot, strike, tau, 0, is_call)
