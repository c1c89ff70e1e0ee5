"""The polynomial/rational constants baked into the contracts still meet the error bounds their docstrings
state, evaluated exactly (Fractions for the Q120 Horner, 50-digit mpmath for the functions), on fine grids.
Nothing is re-fitted here: the constants are read from the .vy sources."""
import re
from fractions import Fraction

from mpmath import mp

from vyopt.contracts import CONTRACTS

Q = 2**120


def _consts(file, prefix):
    src = (CONTRACTS / "math" / file).read_text()
    found = dict(re.findall(rf"^({prefix}\d+): constant\(uint256\) = (\d+)$", src, re.M))
    return [Fraction(int(found[f"{prefix}{j}"]), Q) for j in range(len(found))]


def _horner(c, x):
    acc = Fraction(0)
    for a in reversed(c):
        acc = acc * x + a
    return acc


def _erfcx(z):
    return mp.exp(z * z) * mp.erfc(z)


def test_erfcx_core_rational__on_0_4__absolute_error_below_5e18():
    p, q = _consts("normal.vy", "ERFCX_P"), _consts("normal.vy", "ERFCX_Q")
    with mp.workdps(50):
        worst = max(abs(mp.mpf((_horner(p, t) / _horner(q, t)).numerator) / (_horner(p, t) / _horner(q, t)).denominator
                        - _erfcx(4 * mp.mpf(t.numerator) / t.denominator))
                    for t in (Fraction(i, 800) for i in range(801)))
    assert worst < mp.mpf("5e-18"), worst


def test_erfcx_tail_rational__beyond_4__relative_error_below_1e17():
    p, q = _consts("normal.vy", "TAIL_P"), _consts("normal.vy", "TAIL_Q")
    with mp.workdps(50):
        worst = 0
        for i in range(1, 801):
            w = Fraction(i, 800)
            r = _horner(p, w) / _horner(q, w)
            z = 4 / mp.sqrt(mp.mpf(w.numerator) / w.denominator)
            worst = max(worst, abs(mp.mpf(r.numerator) / r.denominator / (mp.sqrt(mp.pi) * z * _erfcx(z)) - 1))
    assert worst < mp.mpf("1e-17"), worst


def test_ln_polynomial__on_the_reduced_range__absolute_error_below_3e19():
    p = _consts("fixed_ln.vy", "LN_P")
    with mp.workdps(50):
        lo, hi = 1 / mp.sqrt(2), mp.sqrt(2)
        worst = 0
        for i in range(801):
            m = lo + (hi - lo) * i / 800
            s = (m - 1) / (m + 1)
            y = s * s / mp.mpf("0.03")
            acc = mp.mpf(0)
            for c in reversed(p):
                acc = acc * y + mp.mpf(c.numerator) / c.denominator
            worst = max(worst, abs(2 * s * acc - mp.log(m)))
    assert worst < mp.mpf("3e-19"), worst


def test_exp_pade__on_half_ln2__relative_error_below_1e34():
    c = _consts("fixed_exp.vy", "PADE")
    assert len(c) == 11
    with mp.workdps(60):
        worst = 0
        for i in range(-400, 401):
            r = Fraction(i, 400) * Fraction(346573590279972654708616060729088284, 10**36)
            num = _horner(c, r)
            den = _horner(c, -r)
            approx = num / den
            rr = mp.mpf(r.numerator) / r.denominator
            worst = max(worst, abs(mp.mpf(approx.numerator) / approx.denominator / mp.exp(rr) - 1))
    assert worst < mp.mpf("1e-34"), worst
