"""The float64 vectorised model against the 50-digit mpmath model, with a first-order error budget.

Error budget (u = 2**-53, C = 16 covers the handful of roundings and the few-ulp accuracy of log, exp, ndtr):
  * d1 = (ln(S/K) + (r + sigma^2/2) T) / s: the numerator carries an absolute error <= C u (|ln S/K| + |r|T +
    s^2/2 + 1) and the division adds C u |d1|, so  dd <= C u ((|ln S/K| + |r|T + s^2/2 + 1) / s + |d1| + |d2| + s)
    for both d1 and d2 (d2 = d1 - s adds C u s).
  * ndtr(x) = erfc(-x/sqrt 2)/2 through cephes erfc, whose exp(-x^2) factor makes the relative error grow like
    x^2 u: a leg L N(x) has relative error <= C u (1 + x^2) plus its sensitivity to x, L n(x) dd.
  * price = leg1 - leg2, and S n(d1) = K e^{-rT} n(d2) (textbook identity), so
        |err| <= 2 S n(d1) dd + C u [S N(+-d1)(1 + d1^2) + K' N(+-d2)(1 + d2^2 + |r|T)]
  * gamma and vega are n(d1) times exact-ish factors: relative error <= C u (1 + d1^2) + |d1| dd.
  * delta, rho: one N each: as a leg.  theta: its decay term as vega, its carry term as a leg.
Below 1e-290 of the scale everything may underflow (floats stop at ~1e-308): that absolute floor is added.
The mpmath side is evaluated on exactly the same float inputs.
"""
import mpmath
import numpy as np
from hypothesis import given
from mpmath import mp, mpf

from bs_ref_strategies import positive_taus, wad_inputs
from reference import black_scholes as bs

U = mpf(2) ** -53
C = 16


def _floats(spot, strike, vol, tau, rate):
    return spot / 1e18, strike / 1e18, vol / 1e18, tau / bs.YEAR_SECONDS, rate / 1e18


def _budget(S, K, sigma, T, r, is_call):
    """Error budget of every float64 output (price, delta, gamma, vega, theta, rho) in mpf, at 60 digits."""
    S, K, sigma, T, r = (mpf(x) for x in (S, K, sigma, T, r))
    s = sigma * mpmath.sqrt(T)
    d1 = (mpmath.log(S / K) + (r + sigma**2 / 2) * T) / s
    d2 = d1 - s
    Kd = K * mpmath.exp(-r * T)
    dd = C * U * ((abs(mpmath.log(S / K)) + abs(r) * T + s**2 / 2 + 1) / s + abs(d1) + abs(d2) + s)
    n1 = mpmath.npdf(d1)
    sign = 1 if is_call else -1
    N1, N2 = mpmath.ncdf(sign * d1), mpmath.ncdf(sign * d2)
    leg1 = S * N1 * C * U * (1 + d1**2) + S * n1 * dd
    leg2 = Kd * N2 * C * U * (1 + d2**2 + abs(r) * T) + Kd * mpmath.npdf(d2) * dd
    rel_pdf = C * U * (1 + d1**2) + abs(d1) * dd
    floor = mpf(10) ** -290 * (S + K)
    gamma = n1 / (S * s)
    vega = S * n1 * mpmath.sqrt(T)
    decay = S * n1 * sigma / (2 * mpmath.sqrt(T))
    return {
        "price": leg1 + leg2 + floor,
        "delta": N1 * C * U * (1 + d1**2) + n1 * dd + mpf(10) ** -290,
        "gamma": gamma * rel_pdf + floor / (S * S),
        "vega": vega * rel_pdf + floor,
        "theta": decay * rel_pdf + abs(r) * leg2 + floor,
        "rho": T * leg2 + floor,
    }


@given(wad_inputs(tau_strategy=positive_taus))
def test_price_and_greeks_f64__any_domain_input__within_error_budget_of_mpmath(args):
    spot, strike, vol, tau, rate, is_call = args
    S, K, sigma, T, r = _floats(spot, strike, vol, tau, rate)
    v64 = bs.price_f64(S, K, sigma, T, r, is_call)
    g64 = bs.greeks_f64(S, K, sigma, T, r, is_call)
    v = bs.price(S, K, sigma, T, r, is_call)
    g = bs.greeks(S, K, sigma, T, r, is_call)
    with mp.workdps(60):
        budget = _budget(S, K, sigma, T, r, is_call)
        assert abs(mpf(float(v64)) - v) <= budget["price"], ("price", v64, v, budget["price"])
        for name in ("delta", "gamma", "vega", "theta", "rho"):
            got, want = mpf(float(getattr(g64, name))), getattr(g, name)
            assert abs(got - want) <= budget[name], (name, got, want, budget[name])


@given(wad_inputs())
def test_price_f64__at_expiry__is_intrinsic(args):
    spot, strike, vol, _, rate, is_call = args
    S, K, sigma, _, r = _floats(spot, strike, vol, 0, rate)
    expected = max(S - K, 0.0) if is_call else max(K - S, 0.0)
    assert float(bs.price_f64(S, K, sigma, 0.0, r, is_call)) == expected


def test_price_f64__vectorised__equals_elementwise_evaluation():
    rng = np.random.default_rng(7)
    S = rng.uniform(50, 150, 64)
    K = rng.uniform(50, 150, 64)
    sigma = rng.uniform(0.05, 2.0, 64)
    T = rng.uniform(0.0, 3.0, 64)
    r = rng.uniform(-0.1, 0.2, 64)
    is_call = rng.random(64) < 0.5
    T[:4] = 0.0
    v = bs.price_f64(S, K, sigma, T, r, is_call)
    each = [float(bs.price_f64(*a)) for a in zip(S, K, sigma, T, r, is_call)]
    assert v.shape == (64,)
    assert np.array_equal(v, np.array(each))


@given(wad_inputs(tau_strategy=positive_taus))
def test_implied_vol_f64__price_of_known_vol__recovers_vol_within_bracket_and_price_error(args):
    spot, strike, vol, tau, rate, is_call = args
    S, K, sigma, T, r = _floats(spot, strike, vol, tau, rate)
    p = bs.price(S, K, sigma, T, r, is_call)
    iv = float(bs.implied_vol_f64(float(p), S, K, T, r, is_call))
    with mp.workdps(60):
        lower, upper = bs.no_arbitrage_bounds(S, K, T, r, is_call)
        vega = bs.greeks(S, K, sigma, T, r, is_call).vega
        # The float target is off by <= u p and the float model by the price budget dq above; through
        # d q / d sigma = vega that is dq / vega in sigma; the final bisection bracket adds 6e-19 relative.
        dq = U * abs(p) + _budget(S, K, sigma, T, r, is_call)["price"]
        tol = (dq / vega if vega > 0 else mpmath.inf) + mpf("1e-17") * mpf(sigma)
        if np.isnan(iv):
            # only allowed where float64 cannot tell the price from a no-arbitrage bound (margin within the
            # error dq) or the vol from an end of the range
            near_bound = min(p - lower, upper - p) <= 4 * dq
            near_range_end = min(abs(mpf(sigma) - mpf(1e-4)), abs(mpf(sigma) - 20)) <= tol
            assert near_bound or near_range_end
        else:
            assert abs(mpf(iv) - mpf(sigma)) <= tol, (iv, sigma, tol)
            assert 1e-4 * (1 - 1e-15) <= iv <= 20 * (1 + 1e-15)
