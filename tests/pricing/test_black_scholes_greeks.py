"""greeks() against the reference: each greek within 1e-10 relative, or 1e-14 of its natural scale when it
is near zero, plus the integer truncation of the WAD output (2 wei: the result and its inputs are truncated).

Natural scales: delta 1; gamma 1/(S sigma sqrt T); vega S sqrt T; theta S sigma / sqrt T + |r| K;
rho K T.  (These are the magnitudes the greek reaches near the money; far from it the greek is tiny and
the absolute criterion applies.)
"""
import pytest
from hypothesis import given
from mpmath import mp

from reference import black_scholes as ref

from .strategies import WAD, YEAR, bs_inputs


def _scales(spot, strike, vol, tau, rate):
    with mp.workdps(60):
        S, K, s, T, r = (mp.mpf(spot) / WAD, mp.mpf(strike) / WAD, mp.mpf(vol) / WAD, mp.mpf(tau) / YEAR,
                         mp.mpf(rate) / WAD)
        v = s * mp.sqrt(T)
        return [WAD, WAD / (S * v), S * mp.sqrt(T) * WAD, (S * s / mp.sqrt(T) + abs(r) * K) * WAD, K * T * WAD]


@given(bs_inputs(), st_is_call := __import__("hypothesis").strategies.booleans())
def test_greeks__over_the_domain__match_reference(pricer, args, is_call):
    got = pricer.greeks(*args, is_call)
    want = ref.greeks_wad(*args, is_call)
    scales = _scales(*args)
    names = ("delta", "gamma", "vega", "theta", "rho")
    with mp.workdps(60):
        for name, g, w, sc in zip(names, got, want, scales):
            tol = max(mp.mpf("1e-10") * abs(w), mp.mpf("1e-14") * sc) + 2
            assert abs(mp.mpf(g) - w) <= tol, (name, g, w, tol)


def test_greeks__textbook_point__match_hand_values(pricer):
    # S=K=100, sigma 20%, T=1y, r=5%: delta 0.6368, gamma 0.018762, vega 37.524, theta -6.414, rho 53.232
    d, g, v, t, r = pricer.greeks(100 * WAD, 100 * WAD, WAD // 5, YEAR, WAD // 20, True)
    assert round(d / WAD, 4) == 0.6368
    assert round(g / WAD, 6) == 0.018762
    assert round(v / WAD, 3) == 37.524
    assert round(t / WAD, 3) == -6.414
    assert round(r / WAD, 3) == 53.232


@pytest.mark.parametrize("is_call", [True, False])
def test_greeks__at_expiry__are_the_limits_and_revert_at_the_money(pricer, is_call):
    itm_call = pricer.greeks(110 * WAD, 100 * WAD, WAD // 5, 0, WAD // 20, is_call)
    itm_put = pricer.greeks(90 * WAD, 100 * WAD, WAD // 5, 0, WAD // 20, is_call)
    if is_call:
        assert itm_call == (WAD, 0, 0, -5 * WAD, 0)
        assert itm_put == (0, 0, 0, 0, 0)
    else:
        assert itm_call == (0, 0, 0, 0, 0)
        assert itm_put == (-WAD, 0, 0, 5 * WAD, 0)
    import boa

    with boa.reverts("bs: greeks undefined at the money at expiry"):
        pricer.greeks(100 * WAD, 100 * WAD, WAD // 5, 0, WAD // 20, is_call)
