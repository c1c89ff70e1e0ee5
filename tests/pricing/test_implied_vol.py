"""implied_vol(): round trips, accuracy where the price determines the vol, and revert reasons.

Accuracy bar (issue): relative error <= 1e-8 wherever vega * vol >= 1e-5 * spot.  The true implied vol of
the integer price is the reference's 50-digit inversion of that same integer, so output truncation of the
price does not enter.
"""
import boa
from hypothesis import assume, given, strategies as st
from mpmath import mp

from reference import black_scholes as ref

from .strategies import WAD, YEAR, bs_inputs


@given(bs_inputs(), st.booleans())
def test_implied_vol__price_of_a_vol__recovers_the_vol_where_vega_is_material(pricer, args, is_call):
    spot, strike, vol, tau, rate = args
    price = pricer.call_price(*args) if is_call else pricer.put_price(*args)
    greeks = ref.greeks_wad(*args, is_call)
    with mp.workdps(60):
        material = greeks.vega * vol / WAD >= mp.mpf("1e-5") * spot
    assume(material and ref.iv_domain_error(price, spot, strike, tau, rate, is_call) is None)
    got = pricer.implied_vol(price, spot, strike, tau, rate, is_call)
    want = ref.implied_vol_wad(price, spot, strike, tau, rate, is_call)
    with mp.workdps(60):
        assert abs(mp.mpf(got) - want) <= mp.mpf("1e-8") * want + 1, (got, want)


@given(bs_inputs(), st.booleans())
def test_implied_vol__any_price__reverts_with_the_reference_reason_or_answers(pricer, args, is_call):
    spot, strike, vol, tau, rate = args
    price = pricer.call_price(*args) if is_call else pricer.put_price(*args)
    reason = ref.iv_domain_error(price, spot, strike, tau, rate, is_call)
    if reason is not None and reason != ref.REASON_IV_RANGE:
        with boa.reverts(reason):
            pricer.implied_vol(price, spot, strike, tau, rate, is_call)
        return
    if reason == ref.REASON_IV_RANGE:
        # The vol range is decided by comparing the price with the price at vol 1e-4 / 20.  The contract
        # compares with its own prices there (exact to 1e-14 * spot + 1 wei), the reference with exact ones,
        # so a price within that error of a boundary price may be answered (with a vol at the boundary that
        # reprices it) instead of refused.  Anywhere else it must be refused with the reason.
        try:
            got = pricer.implied_vol(price, spot, strike, tau, rate, is_call)
        except boa.BoaError as e:
            assert "bs: iv out of range" in str(e), e
            return
        assert got in (10**14, 20 * WAD) or abs(got - 20 * WAD) <= 20 * WAD // 10**8 or abs(got - 10**14) <= 10**14 // 10**8, got
        repriced = pricer.call_price(spot, strike, got, tau, rate) if is_call else pricer.put_price(spot, strike, got, tau, rate)
        assert abs(repriced - price) <= 2 * (spot // 10**14 + 1)
        return
    try:
        got = pricer.implied_vol(price, spot, strike, tau, rate, is_call)
    except boa.BoaError as e:
        # where the price carries too little information the contract may refuse, but only with a reason
        assert "bs: iv not resolvable" in str(e) or "bs: iv out of range" in str(e), e
        return
    # whatever it answers reprices to the given price within the pricer's own error bar
    repriced = pricer.call_price(spot, strike, got, tau, rate) if is_call else pricer.put_price(spot, strike, got, tau, rate)
    assert abs(repriced - price) <= 2 * (spot // 10**14 + 1)


def test_implied_vol__bad_prices__revert_with_reasons(pricer):
    S, K, T, r = 100 * WAD, 100 * WAD, YEAR, 0
    with boa.reverts("bs: iv needs tau > 0"):
        pricer.implied_vol(5 * WAD, S, K, 0, r, True)
    with boa.reverts("bs: price below intrinsic"):
        pricer.implied_vol(0, S, K, T, r, True)
    with boa.reverts("bs: price above upper bound"):
        pricer.implied_vol(S, S, K, T, r, True)
    with boa.reverts("bs: price below intrinsic"):
        pricer.implied_vol(10 * WAD, 110 * WAD, K, T, r, True)
    # one day to expiry: a price halfway between the vol-20 price and S needs a vol above 20
    p20 = ref.call_price_wad(S, K, 20 * WAD, 86400, 0)
    with mp.workdps(60):
        price = int(p20 + (S - p20) / 2)
    with boa.reverts("bs: iv out of range"):
        pricer.implied_vol(price, S, K, 86400, r, True)


def test_implied_vol__hull_example__round_trips_to_20_percent(pricer):
    args = (42 * WAD, 40 * WAD, WAD // 5, YEAR // 2, WAD // 10)
    price = pricer.call_price(*args)
    assert abs(pricer.implied_vol(price, 42 * WAD, 40 * WAD, YEAR // 2, WAD // 10, True) - WAD // 5) <= 2 * 10**9
