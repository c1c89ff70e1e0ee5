"""Scalar parameters: hard bounds, step bound, getters, and the contract against reference.risk_registry."""
import boa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference import risk_registry as ref
from vyopt import risk

from .helpers import events, queue_and_execute_param, travel_to, wad

GETTERS = {
    0: "im_ratio",
    1: "min_margin",
    2: "liquidation_penalty",
    3: "liquidator_share",
    4: "dust_threshold",
    5: "fee_rate",
    6: "vol_spread",
    7: "max_open_interest",
    8: "oracle_heartbeat",
    9: "oracle_max_deviation",
    10: "oracle_jump_cooldown",
}


def test_param_table__matches_the_reference_table(registry):
    for p in ref.PARAMS:
        assert registry.param_bounds(p.id) == (p.lo, p.hi, p.step_abs, p.step_rel), p.name
    with boa.reverts("risk: unknown param"):
        registry.param_bounds(ref.N_PARAMS)


def test_named_getters__return_the_param_of_their_id(registry, risk_manager, reason):
    assert set(GETTERS.values()) == set(risk.PARAM_NAMES)
    for i, name in GETTERS.items():
        assert getattr(registry, name)() == registry.param(i) == risk.default_params()[i]
    # after a change the named getter follows (guards against a getter wired to the wrong slot)
    for i, name in GETTERS.items():
        p = ref.PARAMS[i]
        old = registry.param(i)
        new = old + p.step_abs if old + p.step_abs <= p.hi else old - p.step_abs
        queue_and_execute_param(registry, risk_manager, i, new, reason)
        assert getattr(registry, name)() == new


def test_param__unknown_id__reverts(registry):
    with boa.reverts("risk: unknown param"):
        registry.param(11)


@st.composite
def param_change(draw):
    p = draw(st.sampled_from(ref.PARAMS))
    span = p.hi - p.lo
    allowed_hint = max(p.step_abs, p.step_rel * p.hi // ref.WAD)
    value = draw(
        st.one_of(
            st.integers(p.lo, p.hi),                                        # anywhere in bounds
            st.integers(max(0, p.lo - span), p.hi + span),                  # around the bounds
            st.integers(0, 2**256 - 1),                                     # garbage
            st.sampled_from([p.lo, p.hi, p.lo - 1 if p.lo else 0, p.hi + 1]),
            st.integers(-2 * allowed_hint, 2 * allowed_hint).map(lambda d: max(0, min(2**256 - 1, p.lo + d))),
        )
    )
    return p.id, value


@given(change=param_change())
def test_queue_param__any_value__accepted_iff_reference_accepts(registry, risk_manager, reason, change):
    param, value = change
    old = registry.param(param)
    expected = ref.param_violation(param, old, value)
    if expected is None:
        cid = registry.queue_param(param, value, reason, sender=risk_manager)
        (ev,) = events(registry, "ParamChange")
        assert (ev.change_id, ev.action, ev.param, ev.old_value, ev.new_value) == (cid, 1, param, old, value)
        assert ev.eta == boa.env.evm.patch.timestamp + registry.delay()
        assert ev.reason_hash == reason
    else:
        with boa.reverts(expected):
            registry.queue_param(param, value, reason, sender=risk_manager)


@given(param=st.sampled_from(ref.PARAMS), steps=st.lists(st.integers(-3, 3), min_size=1, max_size=4))
def test_execute_param__walk_of_changes__every_value_within_bounds_and_step(registry, risk_manager, reason, param, steps):
    """A walk of changes, each a multiple of the absolute step: the contract accepts exactly the ones the
    reference accepts and the value never leaves [lo, hi]."""
    for mult in steps:
        old = registry.param(param.id)
        new = max(0, old + mult * param.step_abs)
        expected = ref.param_violation(param.id, old, new)
        if expected is None:
            (ev,) = queue_and_execute_param(registry, risk_manager, param.id, new, reason)
            assert (ev.action, ev.param, ev.old_value, ev.new_value) == (2, param.id, old, new)
            assert registry.param(param.id) == new
        else:
            with boa.reverts(expected):
                registry.queue_param(param.id, new, reason, sender=risk_manager)
        assert param.lo <= registry.param(param.id) <= param.hi


def test_step__relative_bound__allows_half_of_a_large_value(registry, risk_manager, reason):
    """max_open_interest: step max(10 contracts, 50%): from 1000, 1500 passes and 1501 fails."""
    assert registry.max_open_interest() == wad(1000)
    with boa.reverts("risk: param step too large"):
        registry.queue_param(7, wad(1500) + 1, reason, sender=risk_manager)
    registry.queue_param(7, wad(1500), reason, sender=risk_manager)


def test_step__absolute_floor__applies_near_zero(registry, risk_manager, reason):
    """dust_threshold from 10: 50% would be 5, the absolute floor (100) governs: 110 ok, 110+1wei not."""
    assert registry.dust_threshold() == wad(10)
    with boa.reverts("risk: param step too large"):
        registry.queue_param(4, wad(110) + 1, reason, sender=risk_manager)
    registry.queue_param(4, wad(110), reason, sender=risk_manager)


def test_heartbeat__seconds_param__bounded_in_seconds(registry, risk_manager, reason):
    with boa.reverts("risk: param out of bounds"):
        registry.queue_param(8, 59, reason, sender=risk_manager)
    with boa.reverts("risk: param step too large"):
        registry.queue_param(8, 3600 + 1801, reason, sender=risk_manager)   # 50% of 3600 = 1800
    registry.queue_param(8, 3600 + 1800, reason, sender=risk_manager)


def test_execute_param__value_applied_only_by_execute(registry, risk_manager, keeper, reason):
    cid = registry.queue_param(0, wad("1.4"), reason, sender=risk_manager)
    assert registry.im_ratio() == wad("1.3")
    travel_to(registry.change(cid).eta)
    registry.execute(cid, sender=keeper)
    assert registry.im_ratio() == wad("1.4")


@pytest.mark.parametrize("param", [p.id for p in ref.PARAMS])
def test_hard_bounds__cannot_be_left_by_any_chain_of_steps(registry, risk_manager, reason, param):
    """Drive each parameter to its upper then lower bound by maximal steps; one more step is refused."""
    p = ref.PARAMS[param]
    for target, direction in ((p.hi, 1), (p.lo, -1)):
        for _ in range(200):
            old = registry.param(param)
            if old == target:
                break
            allowed = max(p.step_abs, old * p.step_rel // ref.WAD)
            new = min(p.hi, old + allowed) if direction > 0 else max(p.lo, old - allowed)
            queue_and_execute_param(registry, risk_manager, param, new, reason)
        assert registry.param(param) == target
        beyond = target + 1 if direction > 0 else target - 1
        if beyond >= 0:
            with boa.reverts("risk: param out of bounds"):
                registry.queue_param(param, beyond, reason, sender=risk_manager)
