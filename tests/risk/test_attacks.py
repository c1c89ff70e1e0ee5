"""Attacks on the registry: replay, execute after cancel, splitting a change, role escalation, garbage."""
import boa
import pytest

from reference import risk_registry as ref
from vyopt import risk

from .helpers import now, scaled_smile, travel_to, wad

IM = 0


def _entry_points(registry, reason, outsider):
    """Every state-changing entry point except execute/remove_expired (anyone) with valid arguments,
    and the roles allowed to call it."""
    e = registry.expiries()[3]
    s = tuple(registry.smile(e))
    grid = [tuple(x) for x in registry.scenarios()]
    return {
        "queue_param": (lambda who: registry.queue_param(IM, wad("1.4"), reason, sender=who), {"risk_manager"},
                        "risk: caller is not the risk manager"),
        "queue_smile": (lambda who: registry.queue_smile(e, s, reason, sender=who), {"risk_manager"},
                        "risk: caller is not the risk manager"),
        "queue_scenarios": (lambda who: registry.queue_scenarios(grid, reason, sender=who), {"risk_manager"},
                            "risk: caller is not the risk manager"),
        "queue_role": (lambda who: registry.queue_role(risk.ROLE_GUARDIAN, outsider, reason, sender=who), {"admin"},
                       "risk: caller is not the admin"),
        "pause": (lambda who: registry.pause(sender=who), {"admin", "guardian"}, "risk: caller may not pause"),
        "unpause": (lambda who: registry.unpause(sender=who), {"admin", "guardian"}, "risk: caller may not pause"),
        "accept_admin": (lambda who: registry.accept_admin(sender=who), set(), "risk: caller is not the pending admin"),
    }


@pytest.mark.parametrize("fn", ["queue_param", "queue_smile", "queue_scenarios", "queue_role", "pause", "unpause", "accept_admin"])
def test_every_setter__each_unauthorised_actor__reverts_and_changes_nothing(registry, reason, actors, fn):
    call, allowed, why = _entry_points(registry, reason, actors["outsider"])[fn]
    before = (registry.change_count(), registry.paused(), registry.admin(), [registry.param(i) for i in range(11)])
    for name, who in actors.items():
        if name in allowed:
            continue
        with boa.reverts(why):
            call(who)
    assert before == (registry.change_count(), registry.paused(), registry.admin(), [registry.param(i) for i in range(11)])


def test_replay__executed_change__cannot_run_again_even_after_the_value_moved_back(registry, risk_manager, keeper, reason):
    cid = registry.queue_param(IM, wad("1.4"), reason, sender=risk_manager)
    travel_to(registry.change(cid).eta)
    registry.execute(cid, sender=keeper)
    back = registry.queue_param(IM, wad("1.3"), reason, sender=risk_manager)
    travel_to(registry.change(back).eta)
    registry.execute(back, sender=keeper)
    with boa.reverts("risk: change already executed"):
        registry.execute(cid, sender=keeper)
    assert registry.im_ratio() == wad("1.3")


def test_execute_after_cancel__never_applies(registry, risk_manager, guardian, keeper, reason):
    cid = registry.queue_param(IM, wad("1.4"), reason, sender=risk_manager)
    registry.cancel(cid, sender=guardian)
    for t in (registry.change(cid).eta, registry.change(cid).deadline):
        travel_to(t)
        with boa.reverts("risk: change cancelled"):
            registry.execute(cid, sender=keeper)
    assert registry.im_ratio() == wad("1.3")


def test_splitting__parallel_pieces__refused_while_one_is_pending(registry, risk_manager, reason):
    registry.queue_param(IM, wad("1.4"), reason, sender=risk_manager)
    with boa.reverts("risk: change already pending"):
        registry.queue_param(IM, wad("1.4"), reason, sender=risk_manager)
    with boa.reverts("risk: change already pending"):
        registry.queue_param(IM, wad("1.3"), reason, sender=risk_manager)


def test_splitting__fastest_chain_of_max_steps__pays_the_delay_each_time(registry, risk_manager, keeper, reason):
    """A compromised risk manager drives im_ratio 1.3 -> 3.0 as fast as the rules allow: queue the
    maximal step, execute at eta, queue the next at once.  17 steps of 0.1, each a full delay."""
    t0 = now()
    steps = 0
    while registry.im_ratio() < wad(3):
        nxt = min(wad(3), registry.im_ratio() + wad("0.1"))
        cid = registry.queue_param(IM, nxt, reason, sender=risk_manager)
        travel_to(registry.change(cid).eta)
        registry.execute(cid, sender=keeper)
        steps += 1
    assert steps == 17
    assert now() - t0 == 17 * registry.delay()


def test_splitting__fast_smile_changes__one_per_surface_delay(registry, risk_manager, keeper, reason):
    """Fast smile changes chain at most once per surface_delay per expiry; each is bounded by 5%."""
    e = registry.expiries()[-1]
    cid = registry.queue_smile(e, scaled_smile(registry.smile(e), 1.05), reason, sender=risk_manager)
    assert registry.change(cid).fast
    with boa.reverts("risk: change already pending"):
        registry.queue_smile(e, scaled_smile(registry.smile(e), 1.05), reason, sender=risk_manager)
    travel_to(registry.change(cid).eta)
    registry.execute(cid, sender=keeper)
    cid2 = registry.queue_smile(e, scaled_smile(registry.smile(e), 1.05), reason, sender=risk_manager)
    assert registry.change(cid2).eta == now() + registry.surface_delay()


def test_escalation__risk_manager_cannot_touch_roles_or_cancel_its_replacement(registry, admin, risk_manager, reason):
    with boa.reverts("risk: caller is not the admin"):
        registry.queue_role(risk.ROLE_ADMIN, risk_manager, reason, sender=risk_manager)
    cid = registry.queue_role(risk.ROLE_RISK_MANAGER, boa.env.generate_address("successor"), reason, sender=admin)
    with boa.reverts("risk: caller may not cancel"):
        registry.cancel(cid, sender=risk_manager)


def test_escalation__guardian_cannot_queue_or_entrench_itself(registry, admin, guardian, reason):
    with boa.reverts("risk: caller is not the admin"):
        registry.queue_role(risk.ROLE_GUARDIAN, guardian, reason, sender=guardian)
    with boa.reverts("risk: caller is not the risk manager"):
        registry.queue_param(IM, wad("1.4"), reason, sender=guardian)
    cid = registry.queue_role(risk.ROLE_GUARDIAN, boa.env.generate_address("new_guardian"), reason, sender=admin)
    with boa.reverts("risk: caller may not cancel"):
        registry.cancel(cid, sender=guardian)


def test_escalation__admin_cannot_set_params_nor_skip_the_delay(registry, admin, keeper, reason):
    with boa.reverts("risk: caller is not the risk manager"):
        registry.queue_param(IM, wad("1.4"), reason, sender=admin)
    # the admin can only replace the risk manager through the delay, and the guardian can stop it
    own = boa.env.generate_address("admin_puppet")
    cid = registry.queue_role(risk.ROLE_RISK_MANAGER, own, reason, sender=admin)
    travel_to(registry.change(cid).eta - 1)
    with boa.reverts("risk: not yet executable"):
        registry.execute(cid, sender=keeper)


def test_escalation__cancelled_admin_nomination__cannot_be_accepted(registry, admin, guardian, keeper, reason):
    nominee = boa.env.generate_address("nominee")
    cid = registry.queue_role(risk.ROLE_ADMIN, nominee, reason, sender=admin)
    registry.cancel(cid, sender=guardian)
    travel_to(registry.change(cid).eta)
    with boa.reverts("risk: change cancelled"):
        registry.execute(cid, sender=keeper)
    with boa.reverts("risk: caller is not the pending admin"):
        registry.accept_admin(sender=nominee)


def test_escalation__one_key_cannot_hold_two_roles(registry, admin, risk_manager, guardian, reason):
    for role, holder in ((risk.ROLE_GUARDIAN, risk_manager), (risk.ROLE_RISK_MANAGER, guardian), (risk.ROLE_ADMIN, guardian)):
        with boa.reverts("risk: roles must be distinct"):
            registry.queue_role(role, holder, reason, sender=admin)


@pytest.mark.parametrize("value", [2**256 - 1, 2**255, 10**27 + 1])
def test_garbage_param_values__revert_with_reason(registry, risk_manager, reason, value):
    for i in range(ref.N_PARAMS):
        with boa.reverts("risk: param out of bounds"):
            registry.queue_param(i, value, reason, sender=risk_manager)
    with boa.reverts("risk: unknown param"):
        registry.queue_param(2**256 - 1, 0, reason, sender=risk_manager)


def test_garbage_scenarios__revert_with_reason(registry, risk_manager, reason):
    huge = [(2**255 - 1, -2**255)] * 5
    with boa.reverts("risk: scenario out of bounds"):
        registry.queue_scenarios(huge, reason, sender=risk_manager)
    with boa.reverts("risk: too few scenarios"):
        registry.queue_scenarios([], reason, sender=risk_manager)
