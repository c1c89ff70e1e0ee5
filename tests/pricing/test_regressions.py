"""Failing examples found once (deep campaigns, reviews), kept as explicit regression tests."""
from mpmath import mp

from reference import black_scholes as ref

from .test_black_scholes_greeks import _scales


def _check_greeks(pricer, args, is_call):
    got = pricer.greeks(*args, is_call)
    want = ref.greeks_wad(*args, is_call)
    with mp.workdps(60):
        for name, g, w, sc in zip(("delta", "gamma", "vega", "theta", "rho"), got, want, _scales(*args)):
            tol = max(mp.mpf("1e-10") * abs(w), mp.mpf("1e-14") * sc) + 2
            assert abs(mp.mpf(g) - w) <= tol, (name, g, w, tol)


def test_rho__tiny_spot_long_tau_rate_one__truncation_not_amplified_by_tau(pricer):
    # deep run, 2026-11-24: rho was truncated to WAD before the multiplication by tau (5.4 y), 6.2 wei off
    _check_greeks(pricer, (10**12, 10**12, 10**17, 171543789, 999999999990330429), True)
    _check_greeks(pricer, (10**12, 10**12, 10**17, 171543789, 999999999990330429), False)


def test_implied_vol__root_within_4e16_of_the_vol_cap__converges(pricer):
    # deep run, 2026-11-24: the Newton target fell just outside the bracket at vol 20 - 8e-15; bisection
    # could not converge in 24 steps and the call reverted "bs: iv not resolvable" after 146k gas
    spot, strike, vol, tau, rate = 10**14, 10**14, 19999999999999991808, 100000, 1
    price = pricer.put_price(spot, strike, vol, tau, rate)
    got = pricer.implied_vol(price, spot, strike, tau, rate, False)
    want = ref.implied_vol_wad(price, spot, strike, tau, rate, False)
    with mp.workdps(60):
        assert abs(mp.mpf(got) - want) <= mp.mpf("1e-8") * want
    assert pricer._computation.get_gas_used() < 100_000


def test_implied_vol__price_at_the_vol_cap_within_error__answers_the_cap_or_refuses(pricer):
    # deep run, 2026-11-24: S = K = 1, vol 20, tau 1 s: the exact reference calls the price's vol out of
    # range, the contract (whose own vol-20 price is within 1e-14 S) answers vol ~20.  Both are correct
    # within the pricer's error; an answer must sit at the cap and reprice the price.
    import boa

    spot, strike, tau = 10**18, 10**18, 1
    price = pricer.put_price(spot, strike, 20 * 10**18, tau, 0)
    try:
        got = pricer.implied_vol(price, spot, strike, tau, 0, False)
    except boa.BoaError as e:
        assert "bs: iv out of range" in str(e)
        return
    assert abs(got - 20 * 10**18) <= 20 * 10**10
    assert abs(pricer.put_price(spot, strike, got, tau, 0) - price) <= 2 * (spot // 10**14 + 1)
