"""Coverage tests and the traffic light against hand-worked and published values.

Hand-worked values are derived in the comments with logarithms to 7 digits; the assertions allow 1e-5
(the rounding of those hand figures), never a value computed by the code under test.
"""
import math

import numpy as np
import pytest
from scipy.stats import binom

from reference.backtest_stats import (
    basel_zone, basel_zone_bounds, christoffersen_cc, christoffersen_ind, kupiec_pof, rolling_exceptions,
    transition_counts,
)

# ---------------------------------------------------------------------------------------- Kupiec POF


def test_kupiec_pof__5_exceptions_in_250_at_99__matches_hand_worked_value():
    # -2[245 ln 0.99 + 5 ln 0.01] = -2[-2.462333 - 23.025851] = 50.976368
    # +2[245 ln 0.98 + 5 ln 0.02] = +2[-4.949663 - 19.560115] = -49.019556
    # LR = 1.956812;  p = P(chi2(1) > 1.956812) = 0.16185 (erfc(sqrt(LR/2)) = erfc(0.98915) = 0.16185)
    r = kupiec_pof(250, 5, 0.01)
    assert r.lr == pytest.approx(1.956812, abs=1e-5)
    assert r.p_value == pytest.approx(0.16185, abs=1e-5)
    assert r.dof == 1


def test_kupiec_pof__10_exceptions_in_250_at_99__matches_hand_worked_value():
    # -2[240 ln 0.99 + 10 ln 0.01] = -2[-2.412081 - 46.051702] = 96.927566
    # +2[240 ln 0.96 + 10 ln 0.04] = +2[-9.797279 - 32.188758] = -83.972074
    # LR = 12.955492
    r = kupiec_pof(250, 10, 0.01)
    assert r.lr == pytest.approx(12.955492, abs=1e-5)
    assert r.p_value == pytest.approx(math.erfc(math.sqrt(12.955492 / 2)), rel=1e-5)


def test_kupiec_pof__zero_exceptions__uses_0_ln_0_equal_0():
    # x = 0: LR = -2 n ln(1-p) = -2 * 250 * (-0.01005034) = 5.025168 — rejects at 5% (a rule with no
    # exception in 250 days at 99% is suspiciously conservative)
    r = kupiec_pof(250, 0, 0.01)
    assert r.lr == pytest.approx(5.025168, abs=1e-5)
    assert r.p_value < 0.05


def test_kupiec_pof__all_exceptions__is_finite():
    # x = n: LR = -2 n ln p = -2 * 10 * ln 0.01 = 92.103404
    assert kupiec_pof(10, 10, 0.01).lr == pytest.approx(92.103404, abs=1e-5)


def test_kupiec_pof__exactly_expected_rate__gives_zero():
    r = kupiec_pof(1000, 10, 0.01)
    assert r.lr == 0.0 and r.p_value == 1.0


@pytest.mark.parametrize("p,n,lo,hi", [
    # Kupiec (1995) 95% non-rejection regions, as tabulated in Jorion, "Value at Risk" (3rd ed.), Table 6-2:
    # failures N with lo < N < hi are not rejected.
    (0.01, 510, 1, 11),
    (0.01, 1000, 4, 17),
    (0.05, 255, 6, 21),
    (0.05, 510, 16, 36),
    (0.05, 1000, 37, 65),
])
def test_kupiec_pof__non_rejection_regions__match_the_published_table(p, n, lo, hi):
    accepted = [x for x in range(n + 1) if kupiec_pof(n, x, p).p_value > 0.05]
    assert accepted == list(range(lo + 1, hi))


def test_kupiec_pof__255_days_at_99__accepts_up_to_6_as_published():
    # The same table gives "N < 7" for p = 1%, T = 255; the LR test also rejects N = 0 there (LR = 5.13)
    accepted = [x for x in range(256) if kupiec_pof(255, x, 0.01).p_value > 0.05]
    assert max(accepted) == 6 and 0 not in accepted


@pytest.mark.parametrize("n,x,p", [(0, 0, 0.01), (10, 11, 0.01), (10, -1, 0.01), (10, 1, 0.0), (10, 1, 1.0)])
def test_kupiec_pof__invalid_input__raises(n, x, p):
    with pytest.raises(ValueError):
        kupiec_pof(n, x, p)


# ---------------------------------------------------------------------------------------- Christoffersen


def test_transition_counts__small_sequence__counted_by_hand():
    # pairs of 0 0 1 1 0 0 0 1 0 0: 00 01 11 10 00 00 01 10 00
    assert transition_counts([0, 0, 1, 1, 0, 0, 0, 1, 0, 0]) == (4, 2, 2, 1)


def test_christoffersen_ind__equal_transition_rates__gives_zero():
    # n00=4 n01=2 n10=2 n11=1: pi01 = 2/6 = pi11 = 1/3 = pi = 3/9, so both likelihoods coincide: LR = 0
    r = christoffersen_ind([0, 0, 1, 1, 0, 0, 0, 1, 0, 0])
    assert r.lr == pytest.approx(0.0, abs=1e-12)
    assert r.p_value == pytest.approx(1.0, abs=1e-9)


def test_christoffersen_ind__clustered_sequence__matches_hand_worked_value():
    # 0 0 0 1 1 1 0 0 0 0: n00=5 n01=1 n10=1 n11=2; pi01 = 1/6, pi11 = 2/3, pi = 3/9 = 1/3
    # ln L0 = 6 ln(2/3) + 3 ln(1/3) = -2.432791 - 3.295837 = -5.728628
    # ln L1 = 5 ln(5/6) + ln(1/6) + ln(1/3) + 2 ln(2/3) = -0.911608 - 1.791759 - 1.098612 - 0.810930 = -4.612909
    # LR = -2(-5.728628 + 4.612909) = 2.231438;  p = erfc(sqrt(1.115719)) = 0.13523
    r = christoffersen_ind([0, 0, 0, 1, 1, 1, 0, 0, 0, 0])
    assert r.lr == pytest.approx(2.231438, abs=1e-5)
    assert r.p_value == pytest.approx(0.13523, abs=1e-5)


def test_christoffersen_ind__no_exception__gives_zero():
    r = christoffersen_ind(np.zeros(250, dtype=bool))
    assert r.lr == 0.0 and r.p_value == 1.0


def test_christoffersen_ind__all_five_exceptions_consecutive__rejects_independence():
    # 250 days, hits on days 100..104: 249 transitions, n01 = 1, n11 = 4, n10 = 1, n00 = 243
    # pi = 5/249, pi01 = 1/244, pi11 = 4/5
    # ln L0 = 244 ln(244/249) + 5 ln(5/249)
    #       = 244 (-0.0202846) + 5 (-3.9080150) = -4.949460 - 19.540075 = -24.489535
    # ln L1 = 243 ln(243/244) + ln(1/244) + ln(1/5) + 4 ln(4/5)
    #       = 243 (-0.0041068) - 5.4971682 - 1.6094379 + 4 (-0.2231436)
    #       = -0.997948 - 5.497168 - 1.609438 - 0.892574 = -8.997128
    # LR = -2(-24.489535 + 8.997128) = 30.984814
    hits = np.zeros(250, dtype=bool)
    hits[100:105] = True
    assert transition_counts(hits) == (243, 1, 1, 4)
    r = christoffersen_ind(hits)
    assert r.lr == pytest.approx(30.984814, abs=1e-5)
    assert r.p_value < 1e-7


def test_christoffersen_ind__all_exceptions__gives_zero():
    # n11 = n-1 only: pi11 = pi = 1, both likelihoods are 1
    assert christoffersen_ind(np.ones(20, dtype=bool)).lr == 0.0


def test_christoffersen_ind__fewer_than_two_days__raises():
    with pytest.raises(ValueError):
        christoffersen_ind([True])


def test_christoffersen_cc__is_pof_plus_ind_with_two_degrees_of_freedom():
    # 5 consecutive hits in 250 days at 1%: LR_pof = 1.956812 (above), LR_ind = 30.984814 (above)
    # LR_cc = 32.941626; chi2(2) survival = exp(-LR/2) = exp(-16.470813) = 7.0e-8
    hits = np.zeros(250, dtype=bool)
    hits[100:105] = True
    r = christoffersen_cc(hits, 0.01)
    assert r.dof == 2
    assert r.lr == pytest.approx(32.941626, abs=1e-5)
    assert r.p_value == pytest.approx(math.exp(-r.lr / 2), rel=1e-12)  # chi2(2) sf is exp(-x/2)


def test_christoffersen_cc__zero_exceptions__equals_pof():
    hits = np.zeros(250, dtype=bool)
    assert christoffersen_cc(hits, 0.01).lr == pytest.approx(5.025168, abs=1e-5)


# ---------------------------------------------------------------------------------------- Basel


def test_basel_zone_bounds__250_days_at_99__are_green_0_4_yellow_5_9_red_from_10():
    assert basel_zone_bounds(250, 0.01) == (4, 9)
    zones = [basel_zone(x, 250, 0.01) for x in range(15)]
    assert zones == ["green"] * 5 + ["yellow"] * 5 + ["red"] * 5


def test_basel_cumulative_probabilities__match_the_published_table():
    # BCBS (1996), "Supervisory framework for the use of backtesting...", Table 1, cumulative probability
    # of at most x exceptions in 250 days at 99% coverage (percent, 2 decimals)
    published = [8.11, 28.58, 54.32, 75.81, 89.22, 95.88, 98.63, 99.60, 99.89, 99.97, 99.99]
    ours = [100 * binom.cdf(x, 250, 0.01) for x in range(11)]
    assert np.allclose(ours, published, atol=0.005 + 1e-12)


def test_rolling_exceptions__counts_each_full_window():
    hits = np.array([0, 1, 0, 1, 1, 0, 0], dtype=bool)
    # windows of 3: 010 101 011 110 100
    np.testing.assert_array_equal(rolling_exceptions(hits, 3), [1, 2, 2, 2, 1])
    assert rolling_exceptions(hits, 8).size == 0
