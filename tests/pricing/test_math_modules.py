"""The math modules through MathHarness, against mpmath at 50 digits, with the error bounds their
docstrings state."""
import boa
from hypothesis import given, strategies as st
from mpmath import mp

X36 = 10**36


def _erfcx(z):
    return mp.exp(z * z) * mp.erfc(z)


@given(st.integers(-84 * X36, 88 * X36))
def test_exp_x36__any_exponent__relative_error_below_1e34(math_harness, x):
    got = math_harness.exp_x36(x)
    with mp.workdps(60):
        want = mp.exp(mp.mpf(x) / X36) * X36
        # Pade [10/10]: 2.4e-35 relative, plus the 1e-36 truncation
        assert abs(got - want) <= want * mp.mpf("1e-34") + 1


def test_exp_x36__out_of_range__reverts_or_floors(math_harness):
    with boa.reverts("exp: overflow"):
        math_harness.exp_x36(88 * X36 + 1)
    assert math_harness.exp_x36(-84 * X36 - 1) == 0


@given(st.integers(1, 2**256 - 1))
def test_ln_x36__any_positive__absolute_error_below_3e19(math_harness, x):
    got = math_harness.ln_x36(x)
    with mp.workdps(90):
        want = mp.log(mp.mpf(x) / X36) * X36
        assert abs(got - want) <= mp.mpf("3e-19") * X36


def test_ln__zero__reverts(math_harness):
    with boa.reverts("ln: x must be positive"):
        math_harness.ln_x36(0)
    with boa.reverts("ln: x must be positive"):
        math_harness.ln_wad(0)


@given(st.integers(0, 60 * X36) | st.integers(0, 2**256 - 1))
def test_erfcx_x36__any_argument__within_stated_error(math_harness, z):
    got = math_harness.erfcx_x36(z)
    with mp.workdps(60):
        zz = mp.mpf(z) / X36
        want = _erfcx(zz) if zz < 10**8 else 1 / (zz * mp.sqrt(mp.pi)) * (1 - 1 / (2 * zz * zz))
        tol = mp.mpf("5e-18") if zz <= 4 else want * mp.mpf("1.1e-17")
        assert abs(mp.mpf(got) / X36 - want) <= tol + mp.mpf(2) / X36


@given(st.integers(-45 * X36, 45 * X36))
def test_cdf_and_pdf__any_argument__match_mpmath(math_harness, x):
    with mp.workdps(60):
        xx = mp.mpf(x) / X36
        n = mp.erfc(-xx / mp.sqrt(2)) / 2
        phi = mp.exp(-xx * xx / 2) / mp.sqrt(2 * mp.pi)
        c = mp.mpf(math_harness.cdf_x36(x)) / X36
        p = mp.mpf(math_harness.pdf_x36(x)) / X36
        assert abs(c - n) <= mp.mpf("3e-18") + (2 * n * mp.mpf("1e-17") if x <= 0 else 0)
        assert abs(p - phi) <= phi * mp.mpf("1e-21") + mp.mpf(2) / X36


@given(st.integers(0, 10 * 365 * 86400))
def test_sqrt_years_x34__any_tau__is_the_exact_floor(math_harness, tau):
    import math

    assert math_harness.sqrt_years_x34(tau) == math.isqrt(tau * 10**68 // (365 * 86400))
