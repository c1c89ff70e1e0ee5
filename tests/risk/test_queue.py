"""The change queue: delays, grace period, one live change per target, cancel rights, events."""
import boa
import pytest

from vyopt import risk

from .helpers import ZERO_HASH, events, now, travel_to, wad

IM = 0  # im_ratio


@pytest.fixture
def queued(registry, risk_manager, reason):
    """A parameter change im_ratio 1.3 -> 1.4, queued now."""
    cid = registry.queue_param(IM, wad("1.4"), reason, sender=risk_manager)
    return cid


def test_queue__records_kind_target_eta_deadline_reason(registry, queued, reason):
    c = registry.change(queued)
    assert (c.kind, c.status, c.target, c.fast, c.reason_hash) == (risk.KIND_PARAM, risk.STATUS_QUEUED, IM, False, reason)
    assert c.eta == now() + registry.delay()
    assert c.deadline == c.eta + registry.grace_period()
    assert registry.queued_value(queued) == wad("1.4")
    assert registry.pending_change(risk.KIND_PARAM, IM) == queued
    assert registry.change_count() == queued == 1


def test_execute__one_second_before_eta__fails_not_yet_executable(registry, queued, keeper):
    travel_to(registry.change(queued).eta - 1)
    with boa.reverts("risk: not yet executable"):
        registry.execute(queued, sender=keeper)
    assert registry.im_ratio() == wad("1.3")


def test_execute__at_eta__applies(registry, queued, keeper, reason):
    travel_to(registry.change(queued).eta)
    registry.execute(queued, sender=keeper)
    (ev,) = events(registry, "ParamChange")
    assert (ev.change_id, ev.action, ev.param, ev.old_value, ev.new_value, ev.reason_hash) == (
        queued, risk.ACTION_EXECUTED, IM, wad("1.3"), wad("1.4"), reason)
    assert registry.im_ratio() == wad("1.4")
    assert registry.change(queued).status == risk.STATUS_EXECUTED
    assert registry.pending_change(risk.KIND_PARAM, IM) == 0


def test_execute__at_deadline__applies(registry, queued, keeper):
    travel_to(registry.change(queued).deadline)
    registry.execute(queued, sender=keeper)
    assert registry.im_ratio() == wad("1.4")


def test_execute__one_second_after_deadline__fails_grace_period_over(registry, queued, keeper):
    travel_to(registry.change(queued).deadline + 1)
    with boa.reverts("risk: grace period over"):
        registry.execute(queued, sender=keeper)
    assert registry.im_ratio() == wad("1.3")
    assert registry.pending_change(risk.KIND_PARAM, IM) == 0   # lapsed: no longer live


def test_execute__twice__fails_already_executed(registry, queued, keeper):
    travel_to(registry.change(queued).eta)
    registry.execute(queued, sender=keeper)
    with boa.reverts("risk: change already executed"):
        registry.execute(queued, sender=keeper)


def test_execute__after_cancel__fails_cancelled(registry, queued, guardian, keeper):
    registry.cancel(queued, sender=guardian)
    travel_to(registry.change(queued).eta)
    with boa.reverts("risk: change cancelled"):
        registry.execute(queued, sender=keeper)
    assert registry.im_ratio() == wad("1.3")


def test_execute__unknown_id__fails(registry, keeper):
    for cid in (0, 1, 2**64, 2**256 - 1):
        with boa.reverts("risk: unknown change"):
            registry.execute(cid, sender=keeper)


def test_queue__second_change_same_target__fails_already_pending(registry, queued, risk_manager, reason):
    with boa.reverts("risk: change already pending"):
        registry.queue_param(IM, wad("1.35"), reason, sender=risk_manager)
    # another parameter is a different target
    registry.queue_param(1, wad("0.021"), reason, sender=risk_manager)


def test_queue__after_lapse__allowed_again_and_lapsed_change_stays_dead(registry, queued, risk_manager, keeper, reason):
    travel_to(registry.change(queued).deadline + 1)
    cid2 = registry.queue_param(IM, wad("1.35"), reason, sender=risk_manager)
    travel_to(registry.change(cid2).eta)
    with boa.reverts("risk: grace period over"):
        registry.execute(queued, sender=keeper)
    registry.execute(cid2, sender=keeper)
    assert registry.im_ratio() == wad("1.35")


def test_queue__zero_reason_hash__fails(registry, risk_manager):
    with boa.reverts("risk: reason hash required"):
        registry.queue_param(IM, wad("1.4"), ZERO_HASH, sender=risk_manager)


def test_cancel__logs_current_and_proposed_values(registry, queued, guardian, reason):
    registry.cancel(queued, sender=guardian)
    (ev,) = events(registry, "ParamChange")
    assert (ev.change_id, ev.action, ev.old_value, ev.new_value, ev.reason_hash) == (
        queued, risk.ACTION_CANCELLED, wad("1.3"), wad("1.4"), reason)
    assert registry.change(queued).status == risk.STATUS_CANCELLED
    assert registry.pending_change(risk.KIND_PARAM, IM) == 0


def test_cancel__twice__fails_not_queued(registry, queued, guardian):
    registry.cancel(queued, sender=guardian)
    with boa.reverts("risk: change not queued"):
        registry.cancel(queued, sender=guardian)


def test_cancel__executed_change__fails_not_queued(registry, queued, admin, keeper):
    travel_to(registry.change(queued).eta)
    registry.execute(queued, sender=keeper)
    with boa.reverts("risk: change not queued"):
        registry.cancel(queued, sender=admin)


@pytest.mark.parametrize("who", ["admin", "guardian", "risk_manager"])
def test_cancel__param_change__allowed_to_admin_guardian_risk_manager(registry, queued, actors, who):
    registry.cancel(queued, sender=actors[who])
    assert registry.change(queued).status == risk.STATUS_CANCELLED


def test_cancel__by_outsider_or_keeper__fails(registry, queued, outsider, keeper):
    for who in (outsider, keeper):
        with boa.reverts("risk: caller may not cancel"):
            registry.cancel(queued, sender=who)


def test_cancel__role_change__risk_manager_may_not(registry, admin, risk_manager, guardian, reason):
    cid = registry.queue_role(risk.ROLE_RISK_MANAGER, boa.env.generate_address("new_rm"), reason, sender=admin)
    with boa.reverts("risk: caller may not cancel"):
        registry.cancel(cid, sender=risk_manager)
    registry.cancel(cid, sender=guardian)


def test_cancel__guardian_replacement__guardian_may_not_admin_may(registry, admin, guardian, reason):
    cid = registry.queue_role(risk.ROLE_GUARDIAN, boa.env.generate_address("new_guardian"), reason, sender=admin)
    with boa.reverts("risk: caller may not cancel"):
        registry.cancel(cid, sender=guardian)
    registry.cancel(cid, sender=admin)


def test_execute__anyone_may_execute(registry, queued, outsider):
    travel_to(registry.change(queued).eta)
    registry.execute(queued, sender=outsider)
    assert registry.im_ratio() == wad("1.4")


def test_change_ids__increase_across_kinds(registry, risk_manager, admin, reason):
    a = registry.queue_param(IM, wad("1.4"), reason, sender=risk_manager)
    b = registry.queue_role(risk.ROLE_GUARDIAN, boa.env.generate_address("g2"), reason, sender=admin)
    grid = [tuple(s) for s in registry.scenarios()]
    c = registry.queue_scenarios(grid, reason, sender=risk_manager)
    assert (a, b, c) == (1, 2, 3)
    assert [registry.change(i).kind for i in (a, b, c)] == [risk.KIND_PARAM, risk.KIND_ROLE, risk.KIND_SCENARIOS]
