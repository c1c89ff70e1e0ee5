"""Black-Scholes reference prices: published values, identities, expiry, bounds and deep-OTM accuracy."""
import mpmath
from hypothesis import given
from mpmath import mp, mpf

from bs_ref_strategies import positive_taus, real_args, wad_inputs
from reference import black_scholes as bs


def test_call_put__hull_example__match_published_two_decimals():
    # Hull, Options Futures and Other Derivatives, Black-Scholes-Merton chapter: S=42, K=40, r=10 %, sigma=20 %,
    # T=0.5: "c = 4.76, p = 0.81".
    c = bs.call_price(42, 40, mpf("0.2"), mpf("0.5"), mpf("0.1"))
    p = bs.put_price(42, 40, mpf("0.2"), mpf("0.5"), mpf("0.1"))
    assert abs(c - mpf("4.76")) < mpf("0.005")
    assert abs(p - mpf("0.81")) < mpf("0.005")


def test_call__hull_greeks_example__matches_published_price():
    # Hull, The Greek Letters chapter: S=49, K=50, r=5 %, sigma=20 %, T=20 weeks (0.3846): the option is worth 2.40.
    assert abs(bs.call_price(49, 50, mpf("0.2"), mpf("0.3846"), mpf("0.05")) - mpf("2.40")) < mpf("0.005")


def test_call__haug_example__matches_published_four_decimals():
    # Haug, The Complete Guide to Option Pricing Formulas, Black-Scholes example: S=60, X=65, T=0.25, r=8 %,
    # sigma=30 %: c = 2.1334.
    assert abs(bs.call_price(60, 65, mpf("0.3"), mpf("0.25"), mpf("0.08")) - mpf("2.1334")) < mpf("0.00005")


def test_call__at_the_money_forward_zero_rate__equals_closed_form_erf():
    # Worked by hand: r = 0, S = K: d1 = s/2, d2 = -s/2, C = S (N(s/2) - N(-s/2)) = S erf(s / (2 sqrt 2)).
    S, sigma, T = mpf(1234), mpf("0.37"), mpf("1.7")
    with mp.workdps(60):
        expected = S * mpmath.erf(sigma * mpmath.sqrt(T) / (2 * mpmath.sqrt(2)))
        assert abs(bs.call_price(S, S, sigma, T, 0) - expected) <= mpf(10) ** -45 * expected
        # and the put equals the call there (parity with S = K e^{-rT})
        assert abs(bs.put_price(S, S, sigma, T, 0) - expected) <= mpf(10) ** -45 * expected


@given(wad_inputs())
def test_parity__any_domain_input__call_minus_put_equals_forward_value(args):
    spot, strike, vol, tau, rate, _ = args
    S, K, sigma, T, r = real_args(spot, strike, vol, tau, rate)
    c, p = bs.call_price(S, K, sigma, T, r), bs.put_price(S, K, sigma, T, r)
    gap = bs.parity_gap(c, p, S, K, T, r)
    # Each price is accurate to >= 40 significant digits of its own size, the forward value to 50 digits:
    # the gap is bounded by 1e-38 of the sizes involved (100x margin).
    with mp.workdps(60):
        assert abs(gap) <= mpf(10) ** -38 * (abs(c) + abs(p) + S + K)


@given(wad_inputs())
def test_price_wad__at_expiry__is_exact_intrinsic(args):
    spot, strike, vol, _, rate, is_call = args
    expected = max(spot - strike, 0) if is_call else max(strike - spot, 0)
    assert bs.price_wad(spot, strike, vol, 0, rate, is_call) == expected


@given(wad_inputs(tau_strategy=positive_taus))
def test_price__any_domain_input__within_no_arbitrage_bounds(args):
    spot, strike, vol, tau, rate, is_call = args
    S, K, sigma, T, r = real_args(spot, strike, vol, tau, rate)
    v = bs.price(S, K, sigma, T, r, is_call)
    lower, upper = bs.no_arbitrage_bounds(S, K, T, r, is_call)
    assert v > 0
    # Strict inequalities hold mathematically; at 50 digits the time value of a deep ITM option can sit below
    # the last digit, so allow equality within 1e-45 of the bound.
    with mp.workdps(60):
        slack = mpf(10) ** -45 * upper
        assert lower - slack <= v <= upper + slack


def _check_against_200_digits(spot, strike, vol, tau, rate, is_call):
    S, K, sigma, T, r = real_args(spot, strike, vol, tau, rate)
    v = bs.price(S, K, sigma, T, r, is_call)
    with mp.workdps(200):
        S_, K_, sig_, T_, r_ = (mpf(x.numerator) / x.denominator for x in (S, K, sigma, T, r))
        s = sig_ * mpmath.sqrt(T_)
        d1 = (mpmath.log(S_ / K_) + (r_ + sig_**2 / 2) * T_) / s
        d2 = d1 - s
        Kd = K_ * mpmath.exp(-r_ * T_)
        ref = S_ * mpmath.ncdf(d1) - Kd * mpmath.ncdf(d2) if is_call else Kd * mpmath.ncdf(-d2) - S_ * mpmath.ncdf(-d1)
        assert abs(v - ref) <= mpf(10) ** -35 * ref


@given(wad_inputs(tau_strategy=positive_taus))
def test_price__any_domain_input__matches_200_digit_evaluation_to_1e35_relative(args):
    # The 50-digit model (erfc forms + precision escalation on cancellation) against the same formula run at
    # 200 digits with mpmath's ncdf: even prices of 1e-1000000 must agree to 35 significant digits, which
    # only holds if no digits are lost to 1 - N(x), to the S N(d1) - K' N(d2) cancellation, or to the
    # conditioning of N at large |d|.
    _check_against_200_digits(*args)


def test_price__far_otm_put_with_large_d_and_cancellation__matches_200_digits_regression():
    # Found by the deep profile: d ~ 3.5e4 and s ~ 6e-6, so the legs carry ~eps d^2 (9 digits) of error before
    # a 10-digit cancellation; the price had only 32 correct digits until the d^2 conditioning was counted in
    # the precision escalation.
    _check_against_200_digits(10**30, 8 * 10**29, 605_000_593_573_271, 3600, 170_362, False)


def test_put__deep_out_of_the_money_tiny_vol__keeps_relative_accuracy():
    # Pin of the worst corner: K/S = e^-8, vol 1e-4, one second, r = 0.  The value is ~1e-(10^17);
    # computed with 1 - N(x) it would be exactly 0.  Reference: -x^2/(2 s^2) dominated closed form evaluated
    # at 200 digits with mpmath's ncdf (as in the hypothesis test above).
    spot, strike = 10**30, 335462627902511838821455758
    v = bs.put_price_wad(spot, strike, bs.VOL_MIN, 1, 0)
    with mp.workdps(200):
        S, K = mpf(spot), mpf(strike)
        s = mpf(bs.VOL_MIN) / bs.WAD * mpmath.sqrt(mpf(1) / bs.YEAR_SECONDS)
        d1 = (mpmath.log(S / K) + s * s / 2) / s
        ref = K * mpmath.ncdf(-(d1 - s)) - S * mpmath.ncdf(-d1)
        assert 0 < ref < mpf(10) ** -(10**16)
        assert abs(v - ref) <= mpf(10) ** -35 * ref


def test_reference__any_call__leaves_global_mpmath_precision_unchanged():
    before = mp.prec
    bs.call_price(42, 40, "0.2", "0.5", "0.1")
    bs.greeks_wad(10**30, 335462627902511838821455758, bs.VOL_MIN, 1, 0, False)  # escalates precision inside
    bs.implied_vol_wad(10**17, 10**18, 10**18, 86_400, 0, True)
    try:
        bs.implied_vol_wad(0, 10**18, 10**18, 86_400, 0, True)
    except bs.BSDomainError:
        pass
    assert mp.prec == before
