"""European Black-Scholes reference model: the oracle the on-chain pricer is differentially fuzzed against.

Independent of the contracts: written from the textbook formulas (Black & Scholes 1973, Merton 1973;
Hull, *Options, Futures and Other Derivatives*, ch. "The Black-Scholes-Merton model" and "The Greek letters"),
never from the Vyper integer code.

Model (no dividends, continuously compounded rate r, T in years)::

    F  = S e^{rT},  K' = K e^{-rT} (discounted strike),  s = sigma sqrt(T)  (total volatility)
    d1 = (ln(S/K) + (r + sigma^2/2) T) / s,   d2 = d1 - s
    N(x) = erfc(-x / sqrt 2) / 2,   n(x) = e^{-x^2/2} / sqrt(2 pi)
    call = S N(d1) - K' N(d2)              put = K' N(-d2) - S N(-d1)
    delta  call N(d1)                      put -N(-d1)
    gamma  n(d1) / (S s)                                       (both)
    vega   S n(d1) sqrt(T)                 per 1.0 of vol      (both)
    theta  -S n(d1) sigma / (2 sqrt T) - r K' N(d2)   call     dV/dt per YEAR = -dV/dT
           -S n(d1) sigma / (2 sqrt T) + r K' N(-d2)  put
    rho    K T e^{-rT} N(d2)  call,   -K T e^{-rT} N(-d2)  put   per 1.0 of rate

N is always evaluated through erfc of the argument's own sign, so N(-x) for large x is computed directly
(no 1 - N(x)) and every single-term quantity (delta, gamma, vega, rho, each price leg) keeps its relative
accuracy however deep out of the money.  Two losses remain and are measured on every evaluation: the
subtraction of the two legs of a price (or the two terms of theta), as digits of (sum of magnitudes) /
(result), and the conditioning of N and n at large |d| (d is known to ~eps |d|, so a leg to ~eps d^2).  When
together they exceed GUARD_DIGITS, the evaluation is repeated at a higher precision, so every result carries
at least 40 correct significant digits (the differential tests only need ~1e-30).

Expiry (T == 0): prices are intrinsic, max(S - K, 0) / max(K - S, 0).  Greeks at T == 0 are the limits
T -> 0+: delta 1/0 (call) or 0/-1 (put) away from the money and +-1/2 at S == K; gamma, vega, rho 0;
theta -rK for an in-the-money call, +rK for an in-the-money put, 0 out of the money; at S == K gamma is
+inf and theta -inf (the limits are infinite; the contract must decide what it returns there).

Implied vol: solved on the out-of-the-money twin (put-call parity) for ln(price), by Newton steps kept inside
a bracket (geometric bisection when a step leaves it), started from a float64 bisection; it stops at 1e-40
relative in sigma.  An in-the-money price only determines sigma to ~1e-40 * price / vega: that is the
conditioning of the problem, not of the solver (exact WAD integers in, the time value is extracted exactly).

Precision: every mpmath computation runs in a local `mp.workdps(...)` context (50 digits, more on
cancellation); the global mpmath precision is never changed.  Results are `mpf` values that carry their
own precision.  Comparing an `mpf` with a Python int is exact; do any further ARITHMETIC on them, and
mpmath.floor/ceil, inside `with mp.workdps(80):` (at the default 15 digits they would be rounded).
Flooring a 50-digit value is only right when it is not within 1e-50 relative of an integer: e.g. a call at
vol 20 over years is worth S - 1e-38 wei, which prints as S.  Differential tests should compare contract
integers with a tolerance (wei plus a relative term), never with floor(reference) ==.

Speed (this machine, mpmath's pure-Python backend, random domain points): price + greeks 0.3 ms median,
3 ms max; implied_vol_wad with its domain check 1.5 ms median, ~20 ms max (corners that escalate precision).
Measured, not asserted (benchmarks own timing).

API
---
Constants: WAD, YEAR_SECONDS, E8, SPOT_MIN, SPOT_MAX, STRIKE_MIN, STRIKE_MAX, VOL_MIN, VOL_MAX, TAU_MAX,
RATE_MIN, RATE_MAX, DPS; the revert reasons REASON_* ; Greeks (NamedTuple delta, gamma, vega, theta, rho);
BSDomainError(ValueError) with `.reason`.

Real units (S, K, price in currency, sigma and r as plain fractions, T in years; arguments may be int,
float or mpf (taken at their exact binary value), str (read at the working precision) or
fractions.Fraction (numerator / denominator rounded once at the working precision)):
    d1_d2(S, K, sigma, T, r) -> (mpf, mpf)
    call_price(S, K, sigma, T, r) -> mpf
    put_price(S, K, sigma, T, r) -> mpf
    price(S, K, sigma, T, r, is_call) -> mpf
    greeks(S, K, sigma, T, r, is_call) -> Greeks[mpf]
    implied_vol(price, S, K, T, r, is_call, vol_bounds=VOL_BOUNDS) -> mpf    (raises BSDomainError;
                                                       VOL_BOUNDS = (1e-4, 20) as exact Fractions)
    intrinsic(S, K, is_call) -> mpf
    discounted_strike(K, T, r) -> mpf
    no_arbitrage_bounds(S, K, T, r, is_call) -> (lower, upper) mpf            (lower < price < upper)
    parity_gap(call, put, S, K, T, r) -> mpf        call - put - (S - K e^{-rT}); zero for consistent prices
WAD integers of the on-chain ABI (spot, strike, vol, rate, price in WAD; tau in seconds); each checks
`domain_error` / `iv_domain_error` first and raises BSDomainError(reason), like the contract reverts:
    call_price_wad(spot, strike, vol, tau, rate) -> mpf    price * 1e18 (compare with the contract's uint)
    put_price_wad(spot, strike, vol, tau, rate) -> mpf
    price_wad(spot, strike, vol, tau, rate, is_call) -> mpf
    greeks_wad(spot, strike, vol, tau, rate, is_call) -> Greeks[mpf], each greek_real * 1e18
    implied_vol_wad(price, spot, strike, tau, rate, is_call) -> mpf   vol * 1e18
    no_arbitrage_bounds_wad(spot, strike, tau, rate, is_call) -> (lower, upper) in WAD: exact ints where
                                                       rational, K e^{-r tau} as a 60-digit mpf
Spec of the input domain (exact integer rules, the contract must match them):
    domain_error(spot, strike, vol, tau, rate) -> str | None
    iv_domain_error(price, spot, strike, tau, rate, is_call) -> str | None
float64, vectorised over numpy broadcasting (fast bulk comparisons and plots):
    price_f64(S, K, sigma, T, r, is_call) -> ndarray
    greeks_f64(S, K, sigma, T, r, is_call) -> Greeks[ndarray]
    implied_vol_f64(price, S, K, T, r, is_call, vol_bounds=(1e-4, 20)) -> ndarray   (NaN where no solution)
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import NamedTuple

import mpmath
import numpy as np
from mpmath import mp, mpf
from scipy import special

WAD = 10**18
YEAR_SECONDS = 365 * 24 * 3600  # 31_536_000
E8 = 2980957987041728274743  # floor(e^8 * 1e18): |ln(K/S)| <= 8 checked as K*1e18 <= S*E8 and S*1e18 <= K*E8
SPOT_MIN = STRIKE_MIN = 10**12
SPOT_MAX = STRIKE_MAX = 10**30
VOL_MIN = 10**14  # 1e-4
VOL_MAX = 20 * WAD
TAU_MAX = 10 * YEAR_SECONDS
RATE_MIN = -5 * 10**17
RATE_MAX = WAD

DPS = 50  # working decimal digits
GUARD_DIGITS = 10  # digits we accept to lose to cancellation before re-evaluating at a higher precision
_MAX_DPS = 20_000

REASON_SPOT = "bs: spot out of range"
REASON_STRIKE = "bs: strike out of range"
REASON_MONEYNESS = "bs: moneyness out of range"
REASON_VOL = "bs: vol out of range"
REASON_TAU = "bs: tau out of range"
REASON_RATE = "bs: rate out of range"
REASON_IV_TAU = "bs: iv needs tau > 0"
REASON_PRICE_LOW = "bs: price below intrinsic"
REASON_PRICE_HIGH = "bs: price above upper bound"
REASON_IV_RANGE = "bs: iv out of range"


class Greeks(NamedTuple):
    delta: object
    gamma: object
    vega: object
    theta: object
    rho: object


class BSDomainError(ValueError):
    """An input the on-chain pricer rejects; `reason` is the exact revert string."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# ----------------------------------------------------------------------------------------------------------
# mpmath core (callers hold the working precision)
# ----------------------------------------------------------------------------------------------------------

def _mp(x):
    """Value at the current working precision; a Fraction is rounded once (num / den), never via float."""
    if isinstance(x, Fraction):
        return mpf(x.numerator) / x.denominator
    if isinstance(x, bool):
        return mpf(int(x))
    return mpf(x)


def _ncdf(x):
    """N(x) through erfc of the argument's own sign: relative accuracy everywhere, no 1 - N cancellation."""
    return mpmath.erfc(-x / mpmath.sqrt(2)) / 2


def _npdf(x):
    return mpmath.exp(-x * x / 2) / mpmath.sqrt(2 * mpmath.pi)


def _lost_digits(scale, value) -> float:
    """Decimal digits lost when `value` is obtained as a difference of terms of total magnitude `scale`."""
    if scale == 0:
        return 0.0
    if value == 0:
        return math.inf
    return max(0.0, (mpmath.mag(scale) - mpmath.mag(value)) * 0.30103)


def _guarded(fn, *args):
    """Run fn(*mpf args) -> (result, lost_digits) at DPS digits, again at a higher precision while more than
    GUARD_DIGITS digits were lost, so at least DPS - GUARD_DIGITS significant digits survive."""
    dps = DPS
    while True:
        with mp.workdps(dps):
            result, lost = fn(*[_mp(a) for a in args])
            if lost <= dps - DPS + GUARD_DIGITS:
                return result
        if dps >= _MAX_DPS:
            raise ArithmeticError("bs reference: cancellation beyond the precision cap")
        need = lost if math.isfinite(lost) else 2 * dps
        dps = min(_MAX_DPS, max(dps + 20, int(math.ceil(need)) + DPS + 5))


def _d1_d2(S, K, sig, T, r):
    s = sig * mpmath.sqrt(T)
    d1 = (mpmath.log(S / K) + (r + sig * sig / 2) * T) / s
    return d1, d1 - s


def _d_digits(d1, d2) -> float:
    """Digits lost to the conditioning of N and n at d1, d2: d carries an absolute error ~eps |d|, and
    N(d), n(d) have relative condition |d| n(d)/N(d) ~ |d| (and ~|d| for n), so a leg is only good to
    ~eps (1 + d^2) -- e.g. 17 digits at the domain corner |d| ~ 4e8."""
    return mpmath.mag(1 + d1 * d1 + d2 * d2) * 0.30103


def _price_core(S, K, sig, T, r, is_call):
    if T == 0:
        return (max(S - K, 0) if is_call else max(K - S, 0)), 0.0
    Kd = K * mpmath.exp(-r * T)
    d1, d2 = _d1_d2(S, K, sig, T, r)
    if is_call:
        a, b = S * _ncdf(d1), Kd * _ncdf(d2)
    else:
        a, b = Kd * _ncdf(-d2), S * _ncdf(-d1)
    v = a - b
    return v, _lost_digits(a + b, v) + _d_digits(d1, d2)


def _greeks_core(S, K, sig, T, r, is_call):
    if T == 0:
        half = mpf(1) / 2
        if S > K:
            call_delta, gamma, theta_call, theta_put = mpf(1), mpf(0), -r * K, mpf(0)
        elif S < K:
            call_delta, gamma, theta_call, theta_put = mpf(0), mpf(0), mpf(0), r * K
        else:
            call_delta, gamma, theta_call, theta_put = half, mpmath.inf, -mpmath.inf, -mpmath.inf
        delta = call_delta if is_call else call_delta - 1
        theta = theta_call if is_call else theta_put
        return Greeks(delta, gamma, mpf(0), theta, mpf(0)), 0.0
    sqT = mpmath.sqrt(T)
    s = sig * sqT
    Kd = K * mpmath.exp(-r * T)
    d1, d2 = _d1_d2(S, K, sig, T, r)
    pdf1 = _npdf(d1)
    gamma = pdf1 / (S * s)
    vega = S * pdf1 * sqT
    decay = -S * pdf1 * sig / (2 * sqT)
    if is_call:
        n2 = _ncdf(d2)
        delta = _ncdf(d1)
        carry = -r * Kd * n2
        rho = K * T * mpmath.exp(-r * T) * n2
    else:
        n2 = _ncdf(-d2)
        delta = -_ncdf(-d1)
        carry = r * Kd * n2
        rho = -K * T * mpmath.exp(-r * T) * n2
    theta = decay + carry
    return Greeks(delta, gamma, vega, theta, rho), _lost_digits(abs(decay) + abs(carry), theta) + _d_digits(d1, d2)


# ----------------------------------------------------------------------------------------------------------
# real units
# ----------------------------------------------------------------------------------------------------------

def d1_d2(S, K, sigma, T, r):
    """(d1, d2) for T > 0."""
    with mp.workdps(DPS):
        d1, d2 = _d1_d2(_mp(S), _mp(K), _mp(sigma), _mp(T), _mp(r))
        return +d1, +d2


def call_price(S, K, sigma, T, r):
    """European call value S N(d1) - K e^{-rT} N(d2); intrinsic at T == 0."""
    return _guarded(lambda *a: _price_core(*a, True), S, K, sigma, T, r)


def put_price(S, K, sigma, T, r):
    """European put value K e^{-rT} N(-d2) - S N(-d1); intrinsic at T == 0."""
    return _guarded(lambda *a: _price_core(*a, False), S, K, sigma, T, r)


def price(S, K, sigma, T, r, is_call: bool):
    return call_price(S, K, sigma, T, r) if is_call else put_price(S, K, sigma, T, r)


def greeks(S, K, sigma, T, r, is_call: bool) -> Greeks:
    """(delta, gamma, vega, theta, rho): dV/dS, d2V/dS2, dV/dsigma, dV/dt per year (= -dV/dT), dV/dr."""
    return _guarded(lambda *a: _greeks_core(*a, bool(is_call)), S, K, sigma, T, r)


def intrinsic(S, K, is_call: bool):
    with mp.workdps(DPS):
        S, K = _mp(S), _mp(K)
        return max(S - K, mpf(0)) if is_call else max(K - S, mpf(0))


def discounted_strike(K, T, r):
    """K e^{-rT}."""
    with mp.workdps(DPS):
        return _mp(K) * mpmath.exp(-_mp(r) * _mp(T))


def no_arbitrage_bounds(S, K, T, r, is_call: bool):
    """(lower, upper) with lower < price < upper for every sigma > 0, T > 0:
    call: max(S - K e^{-rT}, 0) < C < S;   put: max(K e^{-rT} - S, 0) < P < K e^{-rT}."""
    with mp.workdps(DPS + 10):
        S = _mp(S)
        Kd = _mp(K) * mpmath.exp(-_mp(r) * _mp(T))
        if is_call:
            return max(S - Kd, mpf(0)), S
        return max(Kd - S, mpf(0)), Kd


def parity_gap(call, put, S, K, T, r):
    """call - put - (S - K e^{-rT}); put-call parity says it is zero."""
    with mp.workdps(DPS + 10):
        return _mp(call) - _mp(put) - (_mp(S) - _mp(K) * mpmath.exp(-_mp(r) * _mp(T)))


VOL_BOUNDS = (Fraction(VOL_MIN, WAD), Fraction(VOL_MAX, WAD))


def _iv_guess_f64(log_q: float, S: float, K: float, T: float, r: float, otm_call: bool, lo: float, hi: float):
    """Float64 start for the mpmath Newton: bisection on ln(sigma) of ln q_model(sigma) = ln q, with the
    out-of-the-money legs in log form (log_ndtr) so that nothing underflows.  Only a starting point: where
    float64 cannot resolve the price (huge cancellation) it may be poor, and the bracketed Newton that
    follows still converges."""
    ln_s, ln_kd, ln_sk, sq_t = math.log(S), math.log(K) - r * T, math.log(S / K), math.sqrt(T)

    def log_otm(sig):
        s = sig * sq_t
        d1 = (ln_sk + (r + 0.5 * sig * sig) * T) / s
        d2 = d1 - s
        if otm_call:
            la, lb = ln_s + float(special.log_ndtr(d1)), ln_kd + float(special.log_ndtr(d2))
        else:
            la, lb = ln_kd + float(special.log_ndtr(-d2)), ln_s + float(special.log_ndtr(-d1))
        diff = lb - la
        return la + math.log1p(-math.exp(diff)) if diff < 0 else -math.inf

    a, b = math.log(lo), math.log(hi)
    for _ in range(60):
        m = 0.5 * (a + b)
        if log_otm(math.exp(m)) < log_q:
            a = m
        else:
            b = m
    return math.exp(0.5 * (a + b))


def _implied_vol_core(P, S, K, T, r, is_call, lo, hi):
    """Implied vol at the current precision; returns (sigma, lost_digits).

    Works on the out-of-the-money twin (put-call parity), so the target is a small positive number q, and
    solves f(sigma) = ln q_model(sigma) - ln q = 0: on a log scale deep out-of-the-money prices are smooth,
    and the cancellation of P - intrinsic happens once, on exact inputs (and is measured).  q_model is
    increasing in sigma, so the solution range check is model(lo) <= q <= model(hi), and a bracket [lo, hi]
    is kept: Newton steps (f' = vega / q_model) that leave it are replaced by a geometric bisection.
    Start: a float64 bisection (`_iv_guess_f64`), so Newton typically needs 2-4 steps.
    """
    Kd = K * mpmath.exp(-r * T)
    if is_call:
        lower, upper = max(S - Kd, mpf(0)), S
    else:
        lower, upper = max(Kd - S, mpf(0)), Kd
    if not P > lower:
        raise BSDomainError(REASON_PRICE_LOW)
    if not P < upper:
        raise BSDomainError(REASON_PRICE_HIGH)
    otm_call = S <= Kd
    if otm_call:
        q = P if is_call else P + S - Kd
    else:
        q = P - S + Kd if is_call else P
    if q <= 0:  # P within rounding of the bound at this precision: retry at a higher one
        return None, math.inf
    lost = _lost_digits(abs(P) + abs(S) + abs(Kd), q) if otm_call != bool(is_call) else 0.0

    # the range check uses prices accurate to >= DPS - GUARD_DIGITS digits (own precision escalation)
    q_lo = _guarded(lambda *a: _price_core(*a, otm_call), S, K, lo, T, r)
    q_hi = _guarded(lambda *a: _price_core(*a, otm_call), S, K, hi, T, r)
    if q < q_lo or q > q_hi:
        raise BSDomainError(REASON_IV_RANGE)
    if q == q_lo:
        return lo, lost
    if q == q_hi:
        return hi, lost
    target = mpmath.log(q)

    def f_slope_lost(sig):
        v, lost_v = _price_core(S, K, sig, T, r, otm_call)
        if v <= 0:  # dev: price lost to cancellation at this precision; treated as far below the target
            return -mpmath.inf, mpf(0), math.inf
        vega = S * _npdf(_d1_d2(S, K, sig, T, r)[0]) * mpmath.sqrt(T)
        return mpmath.log(v) - target, vega / v, lost_v

    sig = mpf(_iv_guess_f64(float(target), float(S), float(K), float(T), float(r), otm_call, float(lo), float(hi)))
    if not lo < sig < hi:
        sig = mpmath.sqrt(lo * hi)
    tol = mpf(10) ** (-(mp.dps - GUARD_DIGITS))
    for _ in range(500):
        fx, slope, lost_v = f_slope_lost(sig)
        if fx == 0:
            return sig, max(lost, lost_v)
        if fx < 0:
            lo = sig
        else:
            hi = sig
        step = -fx / slope if slope > 0 else None
        if step is not None and abs(step) <= tol * sig:
            return sig + step, max(lost, lost_v)
        if (hi - lo) <= tol * lo:
            return (lo + hi) / 2, max(lost, lost_v)
        sig = sig + step if step is not None and lo < sig + step < hi else mpmath.sqrt(lo * hi)
    raise ArithmeticError("bs reference: implied vol did not converge")  # dev: bisection alone needs < 200


def implied_vol(price, S, K, T, r, is_call: bool, vol_bounds=VOL_BOUNDS):
    """Volatility whose model price equals `price`; relative accuracy ~1e-40 (solver stops at 1e-40).

    Raises BSDomainError(REASON_IV_TAU) if T <= 0, REASON_PRICE_LOW / REASON_PRICE_HIGH outside the strict
    no-arbitrage bounds, REASON_IV_RANGE if the solution is outside vol_bounds (inclusive)."""
    if not T > 0:
        raise BSDomainError(REASON_IV_TAU)
    lo, hi = vol_bounds
    return _guarded(
        lambda P, S_, K_, T_, r_, lo_, hi_: _implied_vol_core(P, S_, K_, T_, r_, bool(is_call), lo_, hi_),
        price, S, K, T, r, lo, hi,
    )


# ----------------------------------------------------------------------------------------------------------
# domain of the on-chain ABI (the spec: the contract must reject exactly these, with these reasons)
# ----------------------------------------------------------------------------------------------------------

def _check_int(*xs):
    for x in xs:
        if not isinstance(x, int):
            raise TypeError(f"WAD arguments are Python ints, got {type(x).__name__}")


def _common_domain_error(spot, strike, tau, rate, vol=None) -> str | None:
    if not SPOT_MIN <= spot <= SPOT_MAX:
        return REASON_SPOT
    if not STRIKE_MIN <= strike <= STRIKE_MAX:
        return REASON_STRIKE
    if not (strike * WAD <= spot * E8 and spot * WAD <= strike * E8):
        return REASON_MONEYNESS
    if vol is not None and not VOL_MIN <= vol <= VOL_MAX:
        return REASON_VOL
    if not 0 <= tau <= TAU_MAX:
        return REASON_TAU
    if not RATE_MIN <= rate <= RATE_MAX:
        return REASON_RATE
    return None


def domain_error(spot: int, strike: int, vol: int, tau: int, rate: int) -> str | None:
    """Revert reason of call_price/put_price/greeks for these WAD arguments (tau in seconds), None if valid.
    Checked in order spot, strike, moneyness, vol, tau, rate; all bounds inclusive."""
    _check_int(spot, strike, vol, tau, rate)
    return _common_domain_error(spot, strike, tau, rate, vol=vol)


def _real_args(spot, strike, tau, rate):
    return Fraction(spot, WAD), Fraction(strike, WAD), Fraction(tau, YEAR_SECONDS), Fraction(rate, WAD)


def iv_domain_error(price: int, spot: int, strike: int, tau: int, rate: int, is_call: bool) -> str | None:
    """Revert reason of implied_vol for these WAD arguments, None if valid.

    Order: spot, strike, moneyness, tau range, rate (as domain_error, no vol), then tau > 0, then the strict
    no-arbitrage bounds (price <= lower -> below intrinsic, price >= upper -> above upper bound, evaluated
    exactly: with rate != 0, K e^{-r tau} is irrational and never equals an integer), then the solution range
    [1e-4, 20]: by monotonicity of the price in vol that is model(1e-4) <= price <= model(20)."""
    _check_int(price, spot, strike, tau, rate)
    reason = _common_domain_error(spot, strike, tau, rate)
    if reason is not None:
        return reason
    if tau == 0:
        return REASON_IV_TAU
    lower, upper = no_arbitrage_bounds_wad(spot, strike, tau, rate, is_call)
    if price <= lower:
        return REASON_PRICE_LOW
    if price >= upper:
        return REASON_PRICE_HIGH
    lo_price = price_wad(spot, strike, VOL_MIN, tau, rate, is_call)
    hi_price = price_wad(spot, strike, VOL_MAX, tau, rate, is_call)
    if not lo_price <= price <= hi_price:
        return REASON_IV_RANGE
    return None


# ----------------------------------------------------------------------------------------------------------
# WAD helpers: the ABI's integers in, exact mpf values in WAD units out
# ----------------------------------------------------------------------------------------------------------

def _raise_if(reason):
    if reason is not None:
        raise BSDomainError(reason)


def _to_wad(x):
    with mp.workdps(max(mp.dps, DPS + 10)):
        return x * WAD


def price_wad(spot: int, strike: int, vol: int, tau: int, rate: int, is_call: bool):
    """Option value in WAD (price_real * 1e18) for WAD spot/strike/vol/rate and tau in seconds."""
    _raise_if(domain_error(spot, strike, vol, tau, rate))
    if tau == 0:  # the spec: exactly the intrinsic value of the integers
        with mp.workdps(DPS + 10):  # exact: the integers have at most 31 digits
            return mpf(max(spot - strike, 0) if is_call else max(strike - spot, 0))
    S, K, T, r = _real_args(spot, strike, tau, rate)
    return _to_wad(price(S, K, Fraction(vol, WAD), T, r, is_call))


def call_price_wad(spot: int, strike: int, vol: int, tau: int, rate: int):
    return price_wad(spot, strike, vol, tau, rate, True)


def put_price_wad(spot: int, strike: int, vol: int, tau: int, rate: int):
    return price_wad(spot, strike, vol, tau, rate, False)


def greeks_wad(spot: int, strike: int, vol: int, tau: int, rate: int, is_call: bool) -> Greeks:
    """Greeks of the ABI, each the real-unit greek times 1e18 (gamma: (1/price units) * 1e18, theta per
    year, vega per 1.0 of vol, rho per 1.0 of rate)."""
    _raise_if(domain_error(spot, strike, vol, tau, rate))
    S, K, T, r = _real_args(spot, strike, tau, rate)
    g = greeks(S, K, Fraction(vol, WAD), T, r, is_call)
    return Greeks(*(_to_wad(x) for x in g))


def implied_vol_wad(price: int, spot: int, strike: int, tau: int, rate: int, is_call: bool):
    """Implied vol in WAD for a WAD price; raises BSDomainError with the iv_domain_error reason."""
    _raise_if(iv_domain_error(price, spot, strike, tau, rate, is_call))
    S, K, T, r = _real_args(spot, strike, tau, rate)
    return _to_wad(implied_vol(Fraction(price, WAD), S, K, T, r, is_call))


def no_arbitrage_bounds_wad(spot: int, strike: int, tau: int, rate: int, is_call: bool):
    """(lower, upper) in WAD, as exact as the comparison with an integer price needs: the integers themselves
    where the bound is rational (spot; the strike when rate * tau == 0), else K e^{-r tau} at 60 digits, an
    irrational number that no integer equals (a WAD scaling of rounded reals would put S, or K - S, a
    1e-60-relative hair above or below itself and misjudge a price exactly at the bound)."""
    _check_int(spot, strike, tau, rate)
    with mp.workdps(DPS + 10):
        if rate * tau == 0:
            kd = strike
        else:
            kd = mpf(strike) * mpmath.exp(-mpf(rate * tau) / (WAD * YEAR_SECONDS))
        if is_call:
            return max(spot - kd, 0), spot
        return max(kd - spot, 0), kd


# ----------------------------------------------------------------------------------------------------------
# float64, vectorised
# ----------------------------------------------------------------------------------------------------------

_SQRT_2PI = math.sqrt(2.0 * math.pi)


def _f64_args(S, K, sigma, T, r, is_call):
    S, K, sigma, T, r = (np.asarray(a, dtype=float) for a in (S, K, sigma, T, r))
    is_call = np.asarray(is_call, dtype=bool)
    return np.broadcast_arrays(S, K, sigma, T, r, is_call)


def _f64_d(S, K, sigma, T, r):
    with np.errstate(divide="ignore", invalid="ignore"):
        s = sigma * np.sqrt(T)
        d1 = (np.log(S / K) + (r + 0.5 * sigma * sigma) * T) / s
    return s, d1, d1 - s


def price_f64(S, K, sigma, T, r, is_call):
    """Vectorised Black-Scholes value (float64); ndtr of the argument's own sign for each leg."""
    S, K, sigma, T, r, is_call = _f64_args(S, K, sigma, T, r, is_call)
    _, d1, d2 = _f64_d(S, K, sigma, T, r)
    Kd = K * np.exp(-r * T)
    with np.errstate(invalid="ignore"):
        call = S * special.ndtr(d1) - Kd * special.ndtr(d2)
        put = Kd * special.ndtr(-d2) - S * special.ndtr(-d1)
    v = np.where(is_call, call, put)
    expired = T == 0
    return np.where(expired, np.where(is_call, np.maximum(S - K, 0.0), np.maximum(K - S, 0.0)), v)


def greeks_f64(S, K, sigma, T, r, is_call) -> Greeks:
    """Vectorised greeks (float64), same conventions as `greeks`; T must be > 0."""
    S, K, sigma, T, r, is_call = _f64_args(S, K, sigma, T, r, is_call)
    s, d1, d2 = _f64_d(S, K, sigma, T, r)
    sqT = np.sqrt(T)
    disc = np.exp(-r * T)
    pdf1 = np.exp(-0.5 * d1 * d1) / _SQRT_2PI
    n2 = np.where(is_call, special.ndtr(d2), special.ndtr(-d2))
    delta = np.where(is_call, special.ndtr(d1), -special.ndtr(-d1))
    gamma = pdf1 / (S * s)
    vega = S * pdf1 * sqT
    sign = np.where(is_call, 1.0, -1.0)
    theta = -S * pdf1 * sigma / (2.0 * sqT) - sign * r * K * disc * n2
    rho = sign * K * T * disc * n2
    return Greeks(delta, gamma, vega, theta, rho)


def implied_vol_f64(price, S, K, T, r, is_call, vol_bounds=(1e-4, 20.0), iterations: int = 64):
    """Vectorised implied vol by bisection on ln(sigma) over vol_bounds (float64; relative width of the
    final bracket (hi/lo)**(2**-iterations) - 1, ~6e-19 for 64 iterations).  Compares out-of-the-money
    prices through log_ndtr so tiny prices do not underflow.  NaN where the price is outside the strict
    no-arbitrage bounds or the solution is outside vol_bounds."""
    P, S, K, T, r = (np.asarray(a, dtype=float) for a in (price, S, K, T, r))
    P, S, K, T, r, is_call = np.broadcast_arrays(P, S, K, T, r, np.asarray(is_call, dtype=bool))
    Kd = K * np.exp(-r * T)
    otm_call = S <= Kd
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = np.where(is_call, np.maximum(S - Kd, 0.0), np.maximum(Kd - S, 0.0))
        upper = np.where(is_call, S, Kd)
        q = np.where(otm_call == is_call, P, np.where(is_call, P - S + Kd, P + S - Kd))
        log_q = np.log(q)

        def log_otm(sig):
            s = sig * np.sqrt(T)
            d1 = (np.log(S / K) + (r + 0.5 * sig * sig) * T) / s
            d2 = d1 - s
            # ln(a - b) = ln a + ln(1 - b/a), a > b > 0 for the legs of the out-of-the-money price.  When
            # float64 cannot resolve b/a < 1 the price is below ~1e-16 of its legs: -inf ("far below").
            la = np.where(otm_call, np.log(S) + special.log_ndtr(d1), np.log(Kd) + special.log_ndtr(-d2))
            lb = np.where(otm_call, np.log(Kd) + special.log_ndtr(d2), np.log(S) + special.log_ndtr(-d1))
            diff = lb - la
            return np.where(diff < 0, la + np.log1p(-np.exp(np.minimum(diff, 0.0))), -np.inf)

        lo = np.full(P.shape, math.log(vol_bounds[0]))
        hi = np.full(P.shape, math.log(vol_bounds[1]))
        ok = (P > lower) & (P < upper) & (T > 0)
        ok &= (log_otm(np.exp(lo)) <= log_q) & (log_otm(np.exp(hi)) >= log_q)
        for _ in range(iterations):
            mid = 0.5 * (lo + hi)
            below = log_otm(np.exp(mid)) < log_q
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
    return np.where(ok, np.exp(0.5 * (lo + hi)), np.nan)
