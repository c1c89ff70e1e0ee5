"""Roles: who may call what, the two-step admin transfer, distinct holders, pause, no funds."""
import boa
import pytest
from eth.exceptions import Revert

from vyopt import risk

from .helpers import events, travel_to, wad

ZERO = "0x0000000000000000000000000000000000000000"


def _execute(registry, cid, keeper):
    travel_to(registry.change(cid).eta)
    registry.execute(cid, sender=keeper)


def _risk_setters(registry, reason):
    """Every risk-manager entry point with valid arguments (only the caller is wrong)."""
    e = registry.expiries()[0]
    s = tuple(registry.smile(e))
    grid = [tuple(x) for x in registry.scenarios()]
    return [
        lambda who: registry.queue_param(0, wad("1.4"), reason, sender=who),
        lambda who: registry.queue_smile(e, s, reason, sender=who),
        lambda who: registry.queue_scenarios(grid, reason, sender=who),
    ]


@pytest.mark.parametrize("who", ["admin", "guardian", "keeper", "outsider"])
def test_risk_setters__by_anyone_but_risk_manager__fail(registry, reason, actors, who):
    caller = actors[who]
    for setter in _risk_setters(registry, reason):
        with boa.reverts("risk: caller is not the risk manager"):
            setter(caller)
    assert registry.change_count() == 0


@pytest.mark.parametrize("who", ["risk_manager", "guardian", "keeper", "outsider"])
def test_queue_role__by_anyone_but_admin__fails(registry, reason, actors, who):
    caller = actors[who]
    for role in (risk.ROLE_ADMIN, risk.ROLE_RISK_MANAGER, risk.ROLE_GUARDIAN):
        with boa.reverts("risk: caller is not the admin"):
            registry.queue_role(role, caller, reason, sender=caller)


@pytest.mark.parametrize("who", ["risk_manager", "keeper", "outsider"])
def test_pause_unpause__by_anyone_but_guardian_or_admin__fail(registry, actors, who):
    caller = actors[who]
    with boa.reverts("risk: caller may not pause"):
        registry.pause(sender=caller)
    with boa.reverts("risk: caller may not pause"):
        registry.unpause(sender=caller)


@pytest.mark.parametrize("who", ["guardian", "admin"])
def test_pause__by_guardian_or_admin__sets_flag_immediately(registry, actors, who):
    caller = actors[who]
    registry.pause(sender=caller)
    (ev,) = events(registry, "Paused")
    assert ev.account == caller
    assert registry.paused()
    registry.unpause(sender=caller)
    (ev,) = events(registry, "Unpaused")
    assert ev.account == caller
    assert not registry.paused()


def test_admin_transfer__two_steps__nominee_must_accept(registry, admin, keeper, reason):
    new_admin = boa.env.generate_address("new_admin")
    cid = registry.queue_role(risk.ROLE_ADMIN, new_admin, reason, sender=admin)
    with boa.reverts("risk: caller is not the pending admin"):
        registry.accept_admin(sender=new_admin)   # not nominated until the change executes
    travel_to(registry.change(cid).eta)
    registry.execute(cid, sender=keeper)
    (ev,) = events(registry, "RoleChange")
    assert (ev.role, ev.old_account, ev.new_account, ev.action) == (risk.ROLE_ADMIN, admin, new_admin, risk.ACTION_EXECUTED)
    assert registry.admin() == admin and registry.pending_admin() == new_admin
    registry.accept_admin(sender=new_admin)
    (ev,) = events(registry, "AdminAccepted")
    assert (ev.old_admin, ev.new_admin) == (admin, new_admin)
    assert registry.admin() == new_admin and registry.pending_admin() == ZERO
    with boa.reverts("risk: caller is not the admin"):
        registry.queue_role(risk.ROLE_GUARDIAN, boa.env.generate_address("x"), reason, sender=admin)


def test_accept_admin__by_someone_else__fails(registry, admin, outsider, keeper, reason):
    new_admin = boa.env.generate_address("new_admin")
    _execute(registry, registry.queue_role(risk.ROLE_ADMIN, new_admin, reason, sender=admin), keeper)
    for who in (outsider, admin):
        with boa.reverts("risk: caller is not the pending admin"):
            registry.accept_admin(sender=who)


def test_accept_admin__with_no_nominee__fails_even_for_zero_address(registry):
    with boa.reverts("risk: caller is not the pending admin"):
        registry.accept_admin(sender=ZERO)


def test_role_change__replaces_holder_after_delay(registry, admin, risk_manager, keeper, reason):
    new_rm = boa.env.generate_address("new_risk_manager")
    cid = registry.queue_role(risk.ROLE_RISK_MANAGER, new_rm, reason, sender=admin)
    assert registry.risk_manager() == risk_manager
    _execute(registry, cid, keeper)
    assert registry.risk_manager() == new_rm
    with boa.reverts("risk: caller is not the risk manager"):
        registry.queue_param(0, wad("1.4"), reason, sender=risk_manager)
    registry.queue_param(0, wad("1.4"), reason, sender=new_rm)


@pytest.mark.parametrize("role,clash", [
    (risk.ROLE_RISK_MANAGER, "guardian"), (risk.ROLE_RISK_MANAGER, "admin"),
    (risk.ROLE_GUARDIAN, "risk_manager"), (risk.ROLE_GUARDIAN, "admin"),
    (risk.ROLE_ADMIN, "risk_manager"), (risk.ROLE_ADMIN, "guardian"),
])
def test_queue_role__holder_of_another_role__fails_distinct(registry, admin, reason, actors, role, clash):
    with boa.reverts("risk: roles must be distinct"):
        registry.queue_role(role, actors[clash], reason, sender=admin)


def test_queue_role__zero_address_or_unknown_role__fails(registry, admin, outsider, reason):
    with boa.reverts("risk: zero address"):
        registry.queue_role(risk.ROLE_GUARDIAN, ZERO, reason, sender=admin)
    with boa.reverts("risk: unknown role"):
        registry.queue_role(3, outsider, reason, sender=admin)


def test_role_change__holder_became_distinctness_conflict__fails_at_execute(registry, admin, keeper, reason):
    """Nominate X as guardian and (separately) as risk manager: the second to execute is refused."""
    x = boa.env.generate_address("x")
    c1 = registry.queue_role(risk.ROLE_GUARDIAN, x, reason, sender=admin)
    c2 = registry.queue_role(risk.ROLE_RISK_MANAGER, x, reason, sender=admin)
    travel_to(registry.change(c2).eta)
    registry.execute(c1, sender=keeper)
    with boa.reverts("risk: roles must be distinct"):
        registry.execute(c2, sender=keeper)


def test_queue_role__pending_admin_as_risk_manager__fails_distinct(registry, admin, keeper, reason):
    nominee = boa.env.generate_address("nominee")
    _execute(registry, registry.queue_role(risk.ROLE_ADMIN, nominee, reason, sender=admin), keeper)
    with boa.reverts("risk: roles must be distinct"):
        registry.queue_role(risk.ROLE_RISK_MANAGER, nominee, reason, sender=admin)


def test_registry__holds_no_funds__rejects_ether(registry, outsider):
    boa.env.set_balance(outsider, 10**18)
    with pytest.raises(Revert):
        boa.env.raw_call(registry.address, sender=outsider, value=1)
    assert boa.env.get_balance(registry.address) == 0
    payable = [f for f in registry.abi if f.get("stateMutability") == "payable"]
    assert payable == []
