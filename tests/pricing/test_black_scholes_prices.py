"""call_price / put_price against the 50-digit reference, and the model's structural properties.

Tolerance (argued, not tuned): the contract's error budget per unit of spot is erfcx 5e-18 + ln 3e-19
+ exp 1e-22 + fixed-point rounding ~1e-35, i.e. < 1e-16 * spot, plus the final truncation to an integer
(< 1 wei).  The issue's bar is 1e-14 * spot; we assert that bar plus 1 wei of truncation, and separately
record the measured maximum in the benchmark report.
"""
from hypothesis import given, strategies as st
from mpmath import mp

from reference import black_scholes as ref

from .strategies import WAD, YEAR, bs_inputs

BAR = mp.mpf("1e-14")


def _err_ok(got, want, spot):
    with mp.workdps(60):
        return abs(mp.mpf(got) - want) <= BAR * spot + 1


@given(bs_inputs())
def test_call_and_put__over_the_domain__within_1e14_spot_of_reference(pricer, args):
    spot = args[0]
    c = pricer.call_price(*args)
    p = pricer.put_price(*args)
    assert _err_ok(c, ref.call_price_wad(*args), spot), (c, ref.call_price_wad(*args))
    assert _err_ok(p, ref.put_price_wad(*args), spot), (p, ref.put_price_wad(*args))


@given(bs_inputs())
def test_prices__any_input__satisfy_put_call_parity_within_truncation(pricer, args):
    spot, strike, vol, tau, rate = args
    c = pricer.call_price(*args)
    p = pricer.put_price(*args)
    with mp.workdps(60):
        kd = mp.mpf(strike) * mp.exp(-mp.mpf(rate) / WAD * tau / YEAR)
        gap = mp.mpf(c) - p - (spot - kd)
    # each price carries <= 1e-14 spot + 1 wei of error
    assert abs(gap) <= 2 * (BAR * spot + 1)


@given(bs_inputs())
def test_prices__any_input__stay_inside_no_arbitrage_bounds(pricer, args):
    spot, strike, vol, tau, rate = args
    c = pricer.call_price(*args)
    p = pricer.put_price(*args)
    with mp.workdps(60):
        kd = mp.mpf(strike) * mp.exp(-mp.mpf(rate) / WAD * tau / YEAR)
        # max(S - K e^{-r tau}, 0) <= C <= S and max(K e^{-r tau} - S, 0) <= P <= K e^{-r tau}, to truncation
        assert c <= spot
        assert c >= max(spot - kd, 0) - 1
        assert p <= kd
        assert p >= max(kd - spot, 0) - 1


@given(bs_inputs(), st.integers(1, 10**6))
def test_call__more_spot_or_vol_less_strike__never_cheaper(pricer, args, bump_ppm):
    spot, strike, vol, tau, rate = args
    c = pricer.call_price(*args)
    up = lambda x, lim: min(x + x * bump_ppm // 10**6, lim)
    slack = 2 * (spot // 10**14 + 1)  # two independent evaluations, each within the bar (integer arithmetic)
    s2 = up(spot, 10**30)
    if strike * WAD <= s2 * 2980957987041728274743 and s2 * WAD <= strike * 2980957987041728274743:
        assert pricer.call_price(s2, strike, vol, tau, rate) + slack >= c
    assert pricer.call_price(spot, strike, up(vol, 20 * WAD), tau, rate) + slack >= c
    k2 = up(strike, 10**30)
    if k2 * WAD <= spot * 2980957987041728274743:
        assert pricer.call_price(spot, k2, vol, tau, rate) <= c + slack


@given(bs_inputs(min_tau=0))
def test_prices__tau_zero__are_exact_intrinsic_value(pricer, args):
    spot, strike, vol, _, rate = args
    assert pricer.call_price(spot, strike, vol, 0, rate) == max(spot - strike, 0)
    assert pricer.put_price(spot, strike, vol, 0, rate) == max(strike - spot, 0)


def test_hull_textbook_example__matches_published_values(pricer):
    # Hull, Options Futures and Other Derivatives, example 15.6: S=42, K=40, r=10%, sigma=20%, T=0.5 -> 4.76 / 0.81
    args = (42 * WAD, 40 * WAD, WAD // 5, YEAR // 2, WAD // 10)
    assert round(pricer.call_price(*args) / WAD, 2) == 4.76
    assert round(pricer.put_price(*args) / WAD, 2) == 0.81
