"""Black-Scholes reference greeks: published values, finite differences of the price, expiry limits, units."""
from fractions import Fraction

import mpmath
import pytest
from hypothesis import given
from mpmath import mp, mpf

from bs_ref_strategies import positive_taus, real_args, wad_inputs
from reference import black_scholes as bs


def test_greeks__hull_example__match_published_values():
    # Hull, The Greek Letters chapter: S=49, K=50, r=5 %, sigma=20 %, T=0.3846, call:
    # delta 0.522, gamma 0.066, vega 12.1 (per 1.0 of vol), theta -4.31 per year, rho 8.91 (per 1.0 of rate).
    g = bs.greeks(49, 50, mpf("0.2"), mpf("0.3846"), mpf("0.05"), True)
    assert abs(g.delta - mpf("0.522")) < mpf("0.0005")
    assert abs(g.gamma - mpf("0.066")) < mpf("0.0005")
    assert abs(g.vega - mpf("12.1")) < mpf("0.05")
    assert abs(g.theta - mpf("-4.31")) < mpf("0.005")
    assert abs(g.rho - mpf("8.91")) < mpf("0.005")


def _fd_check(fd, analytic, v_scale, h, order):
    """|fd - analytic| <= truncation + rounding.

    Steps are chosen (below) so that ln V changes by at most ~eta = 1e-7 per step: the central-difference
    truncation error is then O(eta^2) ~ 1e-14 relative, bounded here by 1e-9 * |analytic|.  Rounding: V is
    accurate to >= 40 digits, so a difference quotient of order k carries <= 4 * 1e-40 * |V| / h^k; 1e-38 is a
    100x margin.
    """
    with mp.workdps(60):
        tol = mpf(10) ** -9 * abs(analytic) + mpf(10) ** -38 * v_scale / h**order
        assert abs(fd - analytic) <= tol, (fd, analytic, tol)


@given(wad_inputs(tau_strategy=positive_taus))
def test_greeks__any_domain_input__match_central_differences_of_price(args):
    spot, strike, vol, tau, rate, is_call = args
    with mp.workdps(60):
        S, K, sigma, T, r = (mpf(x.numerator) / x.denominator for x in real_args(spot, strike, vol, tau, rate))
        d1, d2 = bs.d1_d2(S, K, sigma, T, r)
        s = sigma * mpmath.sqrt(T)
        # |d ln V / d ln x| <= ~ (|d1| + |d2| + 1) / s + d1^2 + d2^2 for x in S, sigma, T and x = r T
        eta = mpf(10) ** -7
        rel = eta / (1 + d1**2 + d2**2 + (abs(d1) + abs(d2) + 1) / s)
    g = bs.greeks(S, K, sigma, T, r, is_call)
    V = lambda S_=S, sig_=sigma, T_=T, r_=r: bs.price(S_, K, sig_, T_, r_, is_call)  # noqa: E731
    with mp.workdps(60):
        hS, hs, hT, hr = S * rel, sigma * rel, T * rel, rel / T
        up_S, dn_S, mid = V(S_=S + hS), V(S_=S - hS), V()
        scale = max(abs(up_S), abs(dn_S), abs(mid))
        _fd_check((up_S - dn_S) / (2 * hS), g.delta, scale, hS, 1)
        _fd_check((up_S - 2 * mid + dn_S) / hS**2, g.gamma, scale, hS, 2)
        up, dn = V(sig_=sigma + hs), V(sig_=sigma - hs)
        _fd_check((up - dn) / (2 * hs), g.vega, max(abs(up), abs(dn)), hs, 1)
        up, dn = V(T_=T + hT), V(T_=T - hT)
        _fd_check(-(up - dn) / (2 * hT), g.theta, max(abs(up), abs(dn)), hT, 1)  # theta = -dV/dT
        up, dn = V(r_=r + hr), V(r_=r - hr)
        _fd_check((up - dn) / (2 * hr), g.rho, max(abs(up), abs(dn)), hr, 1)


@given(wad_inputs(tau_strategy=positive_taus))
def test_greeks__any_domain_input__have_textbook_signs_and_parity_relations(args):
    spot, strike, vol, tau, rate, _ = args
    S, K, sigma, T, r = real_args(spot, strike, vol, tau, rate)
    c, p = bs.greeks(S, K, sigma, T, r, True), bs.greeks(S, K, sigma, T, r, False)
    assert 0 <= c.delta <= 1 and -1 <= p.delta <= 0
    assert c.gamma >= 0 and c.vega >= 0 and c.rho >= 0 and p.rho <= 0
    with mp.workdps(60):
        S_, K_, T_, r_ = (mpf(x.numerator) / x.denominator for x in (S, K, T, r))
        Kd = K_ * mpmath.exp(-r_ * T_)
        tiny = mpf(10) ** -38
        # Differentiating C - P = S - K e^{-rT}: delta_c - delta_p = 1, equal gamma and vega,
        # theta_c - theta_p = -r K e^{-rT}, rho_c - rho_p = T K e^{-rT}.
        assert abs(c.delta - p.delta - 1) <= tiny
        assert abs(c.gamma - p.gamma) <= tiny * c.gamma
        assert abs(c.vega - p.vega) <= tiny * c.vega
        assert abs(c.theta - p.theta + r_ * Kd) <= tiny * (abs(c.theta) + abs(p.theta) + abs(r_ * Kd))
        assert abs(c.rho - p.rho - T_ * Kd) <= tiny * T_ * Kd
    if rate >= 0:
        assert c.theta < 0  # a long call loses value with time when r >= 0 (no dividends)


@pytest.mark.parametrize(
    "spot, strike, is_call, delta, gamma, theta_per_rK",
    [
        (110, 100, True, 1, 0, -1),  # ITM call: V = S - K e^{-rT} -> theta -> -rK
        (90, 100, True, 0, 0, 0),
        (90, 100, False, -1, 0, 1),  # ITM put: V = K e^{-rT} - S -> theta -> +rK
        (110, 100, False, 0, 0, 0),
    ],
)
def test_greeks__at_expiry_away_from_the_money__are_the_t_to_zero_limits(spot, strike, is_call, delta, gamma, theta_per_rK):
    r = Fraction(1, 20)
    g = bs.greeks(spot, strike, Fraction(3, 10), 0, r, is_call)
    # the same limits approached from T = 1 second (the price is then intrinsic to < 1e-100)
    near = bs.greeks(spot, strike, Fraction(3, 10), Fraction(1, bs.YEAR_SECONDS), r, is_call)
    assert g.delta == delta and g.gamma == gamma and g.vega == 0 and g.rho == 0
    with mp.workdps(60):
        limit = theta_per_rK * mpf(r.numerator) / r.denominator * strike
        assert abs(g.theta - limit) <= mpf(10) ** -45
        assert abs(near.delta - delta) < mpf(10) ** -100
        assert abs(near.theta - limit) < mpf(10) ** -3  # e^{-rT} - 1 ~ 1.6e-9 at T = 1 s


def test_greeks__at_expiry_at_the_money__delta_half_and_infinite_gamma_theta():
    c = bs.greeks(100, 100, Fraction(3, 10), 0, Fraction(1, 20), True)
    p = bs.greeks(100, 100, Fraction(3, 10), 0, Fraction(1, 20), False)
    assert c.delta == mpf("0.5") and p.delta == mpf("-0.5")
    assert c.gamma == mpmath.inf and c.theta == -mpmath.inf and p.theta == -mpmath.inf


def test_greeks_wad__units__are_real_greeks_times_1e18():
    # spot 2000, strike 2100 (WAD), 80 % vol, 30 days, 3 %: each ABI greek is the real-unit greek * 1e18;
    # gamma in particular is d2V/dS2 in 1/price units times 1e18 (not the second derivative w.r.t. the WAD
    # integer, which would be 1e36 times smaller).
    spot, strike, vol, tau, rate = 2000 * 10**18, 2100 * 10**18, 8 * 10**17, 30 * 86_400, 3 * 10**16
    gw = bs.greeks_wad(spot, strike, vol, tau, rate, True)
    g = bs.greeks(2000, 2100, Fraction(8, 10), Fraction(30, 365), Fraction(3, 100), True)
    with mp.workdps(60):
        for a, b in zip(gw, g):
            assert abs(a - b * 10**18) <= mpf(10) ** -40 * abs(a)
    # plain-number sanity: ATM-ish 30-day call has delta ~0.4-0.5, gamma ~ n(d1) / (S s) ~ 8.6e-4 per USD
    assert 4 * 10**17 < gw.delta < 5 * 10**17
    assert 8 * 10**14 < gw.gamma < 9 * 10**14
