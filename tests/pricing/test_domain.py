"""Out-of-domain inputs revert with the exact reason the reference spec names, for every function; inputs
exactly on a boundary are accepted."""
import boa
from hypothesis import given, strategies as st

from reference import black_scholes as ref

from .strategies import WAD, YEAR, bs_inputs

E8 = ref.E8


def edge_values(lo, hi):
    return st.sampled_from([v for v in (0, lo - 1, lo, hi, hi + 1, 2**255 - 1) if v >= 0]) | st.integers(0, 2 * hi)


@given(
    edge_values(10**12, 10**30), edge_values(10**12, 10**30), edge_values(10**14, 20 * WAD),
    edge_values(0, 10 * YEAR), st.sampled_from([-5 * 10**17 - 1, -5 * 10**17, 0, WAD, WAD + 1]) | st.integers(-2 * WAD, 2 * WAD),
    st.booleans(),
)
def test_every_function__any_input__reverts_exactly_where_the_spec_says(pricer, spot, strike, vol, tau, rate, is_call):
    reason = ref.domain_error(spot, strike, vol, tau, rate)
    calls = [lambda: pricer.call_price(spot, strike, vol, tau, rate),
             lambda: pricer.put_price(spot, strike, vol, tau, rate)]
    if not (tau == 0 and spot == strike):
        calls.append(lambda: pricer.greeks(spot, strike, vol, tau, rate, is_call))
    for call in calls:
        if reason is None:
            call()
        else:
            with boa.reverts(reason):
                call()


def test_moneyness__exactly_e_to_the_8__is_accepted_and_one_wei_more_is_not(pricer):
    spot = 10**18
    assert pricer.call_price(spot, spot * E8 // WAD, WAD, YEAR, 0) >= 0
    with boa.reverts("bs: moneyness out of range"):
        pricer.call_price(spot, spot * E8 // WAD + 1, WAD, YEAR, 0)
    with boa.reverts("bs: moneyness out of range"):
        pricer.put_price(spot * E8 // WAD + 1, spot, WAD, YEAR, 0)
