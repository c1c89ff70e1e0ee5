"""Derive, check and print the constants of the Vyper math modules.

    python -m vyopt.approx.coefficients          # prints Vyper constant blocks and the measured errors

Everything here is offline tooling: the contracts carry the printed integers, and
tests/pricing/test_coefficients.py re-derives nothing but checks that the integers in the
contracts still meet the stated error bounds when evaluated exactly (mpmath, 50 digits).

Approximations (all coefficients scaled to 1e36 integers, "X36"):
- erfcx(z) = exp(z^2) erfc(z), 0 <= z <= 4: rational (8,8) in t = z/4, near-minimax in absolute error.
- erfcx(z), z >= 4: erfcx(z) = R(w) / (z sqrt(pi)), w = 16/z^2 in (0, 1], R rational (5,5), near-minimax in
  relative error.
- ln(m) for m in [1/sqrt2, sqrt2): 2 s P(y), s = (m-1)/(m+1), y = s^2 / YMAX, P degree 7 near-minimax for
  atanh(s)/s (absolute error of 2 s P).
- exp(r), |r| <= ln2/2: the exact [10/10] Pade approximant (no fitting: p_j = (20-j)! 10! / (20! j! (10-j)!)).
"""
from __future__ import annotations

import math
from fractions import Fraction

import mpmath as mp

from .rational_fit import fit_rational

X36 = 10**36
ERFCX_SPLIT = 4
LN_YMAX = Fraction(3, 100)  # >= ((sqrt2 - 1) / (sqrt2 + 1))^2 = 0.029437...


def _erfcx(z):
    return mp.exp(z * z) * mp.erfc(z)


def erfcx_core():
    """(p, q) in t = z/4 on [0, 1]."""
    f = lambda t: _erfcx(4 * t)
    p, q, _ = fit_rational(f, 0, 1, 8, 8, samples=240, iters=14, lawson=30, dps=45)
    return p, q


def erfcx_tail():
    """(p, q) in w = 16/z^2 on [0, 1] for R(w) = sqrt(pi) z erfcx(z)."""
    def R(w):
        if w == 0:
            return mp.mpf(1)
        z = 4 / mp.sqrt(w)
        return mp.sqrt(mp.pi) * z * _erfcx(z)
    p, q, _ = fit_rational(R, 0, 1, 5, 5, samples=240, iters=14, lawson=30, dps=45,
                           weight=None)
    return p, q


def ln_poly():
    """p in y = s^2 / YMAX on [0, 1] for atanh(s)/s, weighted by 2 s (absolute error of ln)."""
    ymax = mp.mpf(LN_YMAX.numerator) / LN_YMAX.denominator
    def f(y):
        if y == 0:
            return mp.mpf(1)
        s = mp.sqrt(y * ymax)
        return mp.atanh(s) / s
    w = lambda y: 2 * mp.sqrt(y * ymax) + mp.mpf(10) ** -6
    p, _, _ = fit_rational(f, 0, 1, 7, 0, samples=200, iters=2, lawson=40, dps=45, weight=w)
    return p


def pade_exp(n=10):
    return [Fraction(math.factorial(2 * n - j) * math.factorial(n),
                     math.factorial(2 * n) * math.factorial(j) * math.factorial(n - j)) for j in range(n + 1)]


def to_int(c, scale=X36):
    return int(mp.nint(c * scale)) if not isinstance(c, Fraction) else round(c * scale)


def _horner_int(coefs, x):
    """Exact rational Horner on integer coefficients (scale X36) at exact x: returns Fraction value / X36 units."""
    acc = Fraction(0)
    for c in reversed(coefs):
        acc = acc * x + Fraction(c, X36)
    return acc


def check_erfcx(core_p, core_q, tail_p, tail_q, n=2000):
    """Max absolute error (z <= 4) and relative error (z >= 4) of the integer-coefficient approximations."""
    mp.mp.dps = 50
    worst_core = 0
    for i in range(n + 1):
        t = Fraction(i, n)
        approx = _horner_int(core_p, t) / _horner_int(core_q, t)
        exact = _erfcx(4 * mp.mpf(t.numerator) / t.denominator)
        worst_core = max(worst_core, abs(mp.mpf(approx.numerator) / approx.denominator - exact))
    worst_tail = 0
    for i in range(1, n + 1):
        w = Fraction(i, n)
        r = _horner_int(tail_p, w) / _horner_int(tail_q, w)
        z = 4 / mp.sqrt(mp.mpf(w.numerator) / w.denominator)
        exact = mp.sqrt(mp.pi) * z * _erfcx(z)
        worst_tail = max(worst_tail, abs(mp.mpf(r.numerator) / r.denominator / exact - 1))
    return float(worst_core), float(worst_tail)


def check_ln(p, n=2000):
    mp.mp.dps = 50
    worst = 0
    lo, hi = 1 / mp.sqrt(2), mp.sqrt(2)
    for i in range(n + 1):
        m = lo + (hi - lo) * i / n
        s = (m - 1) / (m + 1)
        y = s * s / (mp.mpf(LN_YMAX.numerator) / LN_YMAX.denominator)
        acc = mp.mpf(0)
        for c in reversed(p):
            acc = acc * y + mp.mpf(c) / X36
        worst = max(worst, abs(2 * s * acc - mp.log(m)))
    return float(worst)


Q = 120  # binary fixed point of the Horner kernels: value * 2^120


def to_q(c):
    """Round a real (mpf or Fraction) to a Q120 integer."""
    if isinstance(c, Fraction):
        return round(c * 2**Q)
    return int(mp.nint(c * 2**Q))


def nested_horner(names, var):
    """Vyper expression of a Horner evaluation with every step nested (no memory round trip) and >> 120."""
    expr = names[-1]
    for n in reversed(names[:-1]):
        expr = f"unsafe_add(unsafe_mul({expr}, {var}) >> 120, {n})"
    return expr


def vyper_constants():
    """The Q120 constant blocks and nested Horner expressions used in the contracts."""
    mp.mp.dps = 50
    cp, cq = erfcx_core()
    tp, tq = erfcx_tail()
    lp = ln_poly()
    tables = {
        "ERFCX_P": [to_q(c) for c in cp], "ERFCX_Q": [to_q(c) for c in cq],
        "TAIL_P": [to_q(c) for c in tp], "TAIL_Q": [to_q(c) for c in tq],
        "LN_P": [to_q(c) for c in lp], "PADE": [to_q(c) for c in pade_exp()],
    }
    return tables


def main():
    mp.mp.dps = 50
    cp, cq = erfcx_core()
    tp, tq = erfcx_tail()
    lp = ln_poly()
    ci = [to_int(c) for c in cp], [to_int(c) for c in cq]
    ti = [to_int(c) for c in tp], [to_int(c) for c in tq]
    li = [to_int(c) for c in lp]
    pade = [to_int(c) for c in pade_exp()]
    e_core, e_tail = check_erfcx(ci[0], ci[1], ti[0], ti[1])
    e_ln = check_ln(li)
    print(f"# erfcx core (8,8) max abs error {e_core:.3e}; tail (5,5) max rel error {e_tail:.3e}; ln max abs error {e_ln:.3e}")
    for name, vals in [("ERFCX_P", ci[0]), ("ERFCX_Q", ci[1]), ("TAIL_P", ti[0]), ("TAIL_Q", ti[1]),
                       ("LN_P", li), ("PADE", pade)]:
        for j, v in enumerate(vals):
            print(f"{name}{j}: constant(int256) = {v}")
    return ci, ti, li, pade


if __name__ == "__main__":
    import sys

    if "--q120" in sys.argv:
        for name, vals in vyper_constants().items():
            for j, v in enumerate(vals):
                print(f"{name}{j}: constant(uint256) = {v}")
    else:
        main()
