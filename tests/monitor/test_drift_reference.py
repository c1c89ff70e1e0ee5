"""reference/drift.py against values worked by hand (the arithmetic is written out in each test)."""
import math

import pytest

from reference import drift as rd


def test_psi__hand_worked_shares__is_0_2282():
    # e = 1/4 each, a = (0.1, 0.2, 0.3, 0.4):
    # (0.1-0.25) ln 0.4 + (0.2-0.25) ln 0.8 + (0.3-0.25) ln 1.2 + (0.4-0.25) ln 1.6
    # = 0.137444 + 0.011157 + 0.009116 + 0.070501 = 0.228218
    assert rd.psi([0.25] * 4, [0.1, 0.2, 0.3, 0.4]) == pytest.approx(0.228218, abs=1e-6)


def test_psi__same_shares__is_zero_and_symmetric_in_its_arguments():
    assert rd.psi([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0
    assert rd.psi([0.25] * 4, [0.1, 0.2, 0.3, 0.4]) == pytest.approx(rd.psi([0.1, 0.2, 0.3, 0.4], [0.25] * 4), abs=1e-15)


def test_psi__empty_bin__share_floored_at_1e_minus_4():
    # e = (0.5, 0.5), a = (1, 0) -> a_2 = 1e-4:  0.5 ln 2 + (1e-4 - 0.5) ln(1e-4 / 0.5)
    # = 0.346574 + 0.4999 x 8.517193 = 0.346574 + 4.257745 = 4.604319
    assert rd.psi([0.5, 0.5], [1.0, 0.0]) == pytest.approx(4.604319, abs=1e-6)


def test_quantile_edges_and_shares__ten_values_in_five_bins__hand_worked():
    base = list(range(1, 11))
    # quantiles 0.2 .. 0.8 of 1..10 with linear interpolation: 1 + 9 q = 2.8, 4.6, 6.4, 8.2
    edges = rd.quantile_edges(base, 5)
    assert edges.tolist() == pytest.approx([2.8, 4.6, 6.4, 8.2], abs=1e-12)
    assert rd.bin_shares(base, edges).tolist() == pytest.approx([0.2] * 5)
    # six ones, then 3, 5, 7, 9: shares (0.6, 0.1, 0.1, 0.1, 0.1)
    sample = [1] * 6 + [3, 5, 7, 9]
    assert rd.bin_shares(sample, edges).tolist() == pytest.approx([0.6, 0.1, 0.1, 0.1, 0.1])
    # (0.6-0.2) ln 3 + 4 (0.1-0.2) ln 0.5 = 0.439445 + 0.277259 = 0.716704
    assert rd.psi_samples(base, sample, edges) == pytest.approx(0.716704, abs=1e-6)


def test_bin_shares__value_on_an_edge__goes_to_the_bin_above():
    # bin i holds edge_{i-1} <= x < edge_i
    assert rd.bin_shares([1.0, 2.0, 3.0], [2.0]).tolist() == pytest.approx([1 / 3, 2 / 3])


def test_psi_band__boundaries_0_1_and_0_25():
    assert rd.psi_band(0.0999) == "stable"
    assert rd.psi_band(0.1) == "moderate"
    assert rd.psi_band(0.2499) == "moderate"
    assert rd.psi_band(0.25) == "significant"


@pytest.mark.parametrize("bad", [[], [1.0, math.nan]])
def test_quantile_edges__empty_or_non_finite_baseline__refused(bad):
    with pytest.raises(ValueError):
        rd.quantile_edges(bad, 4)


def test_page_hinkley__hand_worked_jump__alarms_on_the_fifth_value_then_restarts():
    # delta 0.5, lambda 2 on 1, 1, 1, 1, 5:
    # m = -0.5, -1.0, -1.5, -2.0 (mean 1), then mean 9/5 = 1.8: m = -2 + (5 - 1.8 - 0.5) = 0.7;
    # M = -2, PH = 2.7 > 2
    ph = rd.PageHinkley(delta=0.5, threshold=2.0)
    alarms = [ph.update(x) for x in (1, 1, 1, 1)]
    assert alarms == [False] * 4 and ph.cum == pytest.approx(-2.0) and ph.statistic == pytest.approx(0.0)
    assert ph.update(5) is True
    assert ph.last == pytest.approx(2.7)
    assert ph.n == 0 and ph.statistic == 0.0  # restarted


def test_page_hinkley__step_of_0_3_after_50_stable_values__alarms_on_the_sixth_value_after_it():
    # delta 0.1, lambda 1; x = 1 fifty times (m_50 = -5 = M_50), then 1.3: increments
    # 1.3 - (50 + 1.3 k) / (50 + k) - 0.1 = 0.19412, 0.18846, 0.18302, 0.17778, 0.17273, 0.16786
    # cumulative 0.194, 0.383, 0.566, 0.743, 0.916, 1.084: PH > 1 first at k = 6
    ph = rd.PageHinkley(delta=0.1, threshold=1.0)
    assert not any(ph.update(1.0) for _ in range(50))
    hits = [ph.update(1.3) for _ in range(6)]
    assert hits == [False] * 5 + [True]
    assert ph.last == pytest.approx(1.08397, abs=1e-4)


def test_page_hinkley__falling_series__never_alarms():
    ph = rd.PageHinkley(delta=0.1, threshold=1.0)
    assert not any(ph.update(10.0 - 0.5 * i) for i in range(40))


def test_page_hinkley__state_round_trip__continues_identically():
    a = rd.PageHinkley(delta=0.1, threshold=1.0)
    for x in (0.5, 0.7, 0.4, 0.6):
        a.update(x)
    b = rd.PageHinkley.from_state(a.state())
    for x in (0.9, 1.5, 2.0):
        assert a.update(x) == b.update(x)
        assert a.state() == b.state()


def test_page_hinkley__non_finite_value__refused():
    with pytest.raises(ValueError):
        rd.PageHinkley(0.1, 1.0).update(math.nan)
