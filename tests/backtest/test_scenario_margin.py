"""The reference scenario-margin rule: grid, pricing, and the properties a margin must have."""
import math

import numpy as np
import pytest

from reference.scenario_margin import (
    Leg, MarginParams, ScenarioGrid, _black76, default_grid, initial_margin, maintenance_margin, portfolio_value,
    scenario_losses,
)

S = 40_000.0


def test_default_grid__is_9_spot_by_3_vol_plus_2_tail_scenarios():
    g = default_grid()
    sc = g.scenarios()
    assert sc.shape == (29, 3)
    assert sorted(set(sc[:27, 0])) == [-0.16, -0.12, -0.08, -0.04, 0.0, 0.04, 0.08, 0.12, 0.16]
    assert sorted(set(sc[:27, 1])) == [0.8, 1.0, 1.25]
    assert np.all(sc[:27, 2] == 1.0)
    assert [tuple(r) for r in sc[27:]] == [(-0.33, 1.5, 1.0), (0.5, 1.5, 1.0)]
    pairs = g.pairs()
    assert len(pairs) == 29 and (0.0, 0.0) in pairs and pairs[-1] == (0.5, 0.5)


def test_black76__matches_the_closed_form_at_the_money():
    # at the money, undiscounted: C = P = F (2 N(s/2) - 1), s = sigma sqrt(T);  F = 20, sigma = 0.25,
    # T = 4/12: s/2 = 0.0721688, N = (1 + erf(0.0721688 / sqrt 2)) / 2
    s = 0.25 * math.sqrt(4 / 12)
    atm = 20.0 * (2 * 0.5 * (1 + math.erf(s / 2 / math.sqrt(2))) - 1)
    assert _black76(20.0, 20.0, 4 / 12, 0.25, True) == pytest.approx(atm, rel=1e-14)
    assert _black76(20.0, 20.0, 4 / 12, 0.25, False) == pytest.approx(atm, rel=1e-14)


def test_black76__expired_leg__is_worth_its_intrinsic_value():
    assert _black76(110.0, 100.0, 0.0, 0.5, True) == 10.0
    assert _black76(110.0, 100.0, -0.01, 0.5, False) == 0.0


def test_maintenance_margin__covers_every_scenario_loss_plus_the_floor():
    legs = [Leg(True, 1.1 * S, 30 / 365, -1.0), Leg(False, 0.9 * S, 30 / 365, -1.0)]
    m = maintenance_margin(legs, S, 0.7)
    losses = scenario_losses(legs, S, 0.7)
    assert m == pytest.approx(losses.max() + 0.01 * S * 2, rel=1e-15)
    assert np.all(m >= losses + 0.01 * S * 2 - 1e-9)


def test_maintenance_margin__far_otm_short__is_the_floor():
    # a 5%-strike put, 7 days, 50% vol: worth ~0 in every scenario, even -33%
    legs = [Leg(False, 0.05 * S, 7 / 365, -3.0)]
    assert maintenance_margin(legs, S, 0.5) == pytest.approx(0.01 * S * 3, rel=1e-12)


@pytest.mark.parametrize("cover,worst_move", [(1.0, 0.50), (0.35, 0.35 * 0.50)])
def test_maintenance_margin__short_deep_itm_call__is_the_worst_spot_move_like_a_short_forward(cover, worst_move):
    # K = 1% of spot: the call is the forward minus K, time value ~0; the loss of the short in a spot move
    # dS is S dS.  Core worst: +16% -> 0.16 S.  Tail: +50% -> 0.50 S, counted at `cover`.
    legs = [Leg(True, 0.01 * S, 30 / 365, -1.0)]
    params = MarginParams(grid=ScenarioGrid(tail_cover=cover))
    expected = max(0.16, worst_move) * S + 0.01 * S
    assert maintenance_margin(legs, S, 0.6, params) == pytest.approx(expected, rel=1e-9)


def test_maintenance_margin__long_options__never_exceed_their_value_and_pay_no_floor():
    legs = [Leg(True, S, 30 / 365, 2.0), Leg(False, 0.8 * S, 90 / 365, 1.0)]
    m = maintenance_margin(legs, S, 0.8)
    assert 0.0 <= m <= portfolio_value(legs, S, 0.8)


def test_maintenance_margin__is_homogeneous_in_size_and_in_price_level():
    legs = [Leg(True, 1.05 * S, 20 / 365, -1.0), Leg(True, 1.2 * S, 20 / 365, 0.5)]
    m = maintenance_margin(legs, S, 0.6)
    double = [Leg(leg.is_call, leg.strike, leg.t_years, 2 * leg.size) for leg in legs]
    assert maintenance_margin(double, S, 0.6) == pytest.approx(2 * m, rel=1e-12)
    scaled = [Leg(leg.is_call, 10 * leg.strike, leg.t_years, leg.size) for leg in legs]
    assert maintenance_margin(scaled, 10 * S, 0.6) == pytest.approx(10 * m, rel=1e-12)


def test_maintenance_margin__vectorises_over_days():
    spot = np.array([30e3, 40e3, 50e3])
    vol = np.array([0.5, 0.7, 0.9])
    legs = [Leg(False, spot, 30 / 365, -1.0)]
    m = maintenance_margin(legs, spot, vol)
    for i in range(3):
        assert m[i] == pytest.approx(maintenance_margin([Leg(False, spot[i], 30 / 365, -1.0)], spot[i], vol[i]), rel=1e-15)


def test_initial_margin__is_maintenance_times_the_initial_factor():
    legs = [Leg(False, S, 30 / 365, -1.0)]
    assert initial_margin(legs, S, 0.7) == pytest.approx(1.25 * maintenance_margin(legs, S, 0.7), rel=1e-15)
