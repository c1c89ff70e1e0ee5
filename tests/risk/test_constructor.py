"""Deployment: every initial value passes the same rules as a change; genesis events; the deploy helpers."""
import boa
import pytest

from reference import risk_registry as ref
from vyopt import risk
from vyopt.contracts import deployer

from .helpers import ZERO_HASH, now, scaled_smile, wad

DAY = 86400


def _deploy(admin, risk_manager, guardian, **kw):
    args = risk.registry_constructor_args(admin, risk_manager, guardian, now=now(), **kw)
    return deployer("RiskRegistry").deploy(*args)


def test_deploy__defaults__read_back_and_logged(admin, risk_manager, guardian):
    reg = _deploy(admin, risk_manager, guardian)
    genesis = [e for e in reg.get_logs()]
    p = risk.read_params(reg)
    assert [p[n] for n in risk.PARAM_NAMES] == risk.default_params()
    assert (p["delay"], p["surface_delay"], p["grace_period"]) == (risk.DEFAULT_DELAY, risk.DEFAULT_SURFACE_DELAY, risk.DEFAULT_GRACE)
    assert p["scenarios"] == risk.default_scenarios()
    assert (p["admin"], p["risk_manager"], p["guardian"], p["paused"]) == (admin, risk_manager, guardian, False)
    assert reg.market() == "BTC-USD"
    # one genesis event per role, parameter, grid and smile, all with action 0 and the genesis reason
    kinds = [type(e).__name__ for e in genesis]
    assert kinds.count("RoleChange") == 3 and kinds.count("ParamChange") == 11
    assert kinds.count("ScenariosChange") == 1 and kinds.count("SmileChange") == 6
    assert {e.action for e in genesis} == {risk.ACTION_GENESIS}
    assert {e.reason_hash for e in genesis} == {risk.reason_hash("genesis BTC-USD: vyopt.risk defaults")}


@pytest.mark.parametrize("kw,reason", [
    ({"delay": ref.MIN_DELAY - 1}, "risk: delay out of bounds"),
    ({"delay": ref.MAX_DELAY + 1}, "risk: delay out of bounds"),
    ({"surface_delay": ref.MIN_SURFACE_DELAY - 1}, "risk: surface delay out of bounds"),
    ({"delay": 2 * DAY, "surface_delay": 2 * DAY + 1}, "risk: surface delay out of bounds"),
    ({"grace_period": ref.MIN_GRACE - 1}, "risk: grace period out of bounds"),
    ({"grace_period": ref.MAX_GRACE + 1}, "risk: grace period out of bounds"),
    ({"genesis_reason": ZERO_HASH}, "risk: reason hash required"),
])
def test_deploy__bad_time_lock_or_reason__reverts(admin, risk_manager, guardian, kw, reason):
    with boa.reverts(reason):
        _deploy(admin, risk_manager, guardian, **kw)


def test_deploy__bad_roles__revert(admin, risk_manager, guardian):
    zero = "0x0000000000000000000000000000000000000000"
    with boa.reverts("risk: zero address"):
        _deploy(zero, risk_manager, guardian)
    with boa.reverts("risk: roles must be distinct"):
        _deploy(admin, admin, guardian)
    with boa.reverts("risk: roles must be distinct"):
        _deploy(admin, risk_manager, risk_manager)


def test_deploy__param_out_of_bounds__reverts(admin, risk_manager, guardian):
    for p in ref.PARAMS:
        params = risk.default_params()
        params[p.id] = p.hi + 1
        with boa.reverts("risk: param out of bounds"):
            _deploy(admin, risk_manager, guardian, params=params)


def test_deploy__bad_grid__reverts(admin, risk_manager, guardian):
    with boa.reverts("risk: grid lacks up move"):
        _deploy(admin, risk_manager, guardian, scenarios=[(wad("-0.1"), wad("0.2")), (0, 0), (wad("0.01"), 0)])


def test_deploy__bad_surface__reverts(admin, risk_manager, guardian):
    exps, smiles = risk.default_surface(now())
    with boa.reverts("risk: expiries must be increasing"):
        _deploy(admin, risk_manager, guardian, expiries=[exps[1], exps[0]], smiles=[smiles[1], smiles[0]])
    with boa.reverts("risk: one smile per expiry"):
        _deploy(admin, risk_manager, guardian, expiries=exps, smiles=smiles[:-1])
    with boa.reverts("risk: calendar arbitrage"):
        _deploy(admin, risk_manager, guardian, expiries=exps[:2], smiles=[smiles[0], scaled_smile(smiles[0], 0.9)])
    with boa.reverts("risk: expiry too close"):
        _deploy(admin, risk_manager, guardian, expiries=[now() + 600], smiles=[smiles[0]])


def test_deploy__empty_surface__allowed(admin, risk_manager, guardian):
    reg = _deploy(admin, risk_manager, guardian, expiries=[], smiles=[])
    assert list(reg.expiries()) == []


def test_risk_stack__registry_feed_oracle_wired(admin, risk_manager, guardian):
    stack = risk.deploy_risk_stack(admin, risk_manager, guardian)
    assert stack.oracle.feed() == stack.feed.address and stack.oracle.registry() == stack.registry.address
    assert stack.oracle.update() == (40_000 * 10**18, True)


def test_encode_decode_smile__roundtrip():
    s = risk.ssvi_smile(0.05, -0.4, 1.2)
    back = risk.decode_smile(risk.encode_smile(s))
    for x, y in zip(s.as_tuple(), back.as_tuple()):
        assert abs(x - y) <= 1e-18 + 1e-15 * abs(x)
