"""A malicious collateral token that calls back into the market in the middle of a transfer: every entry point,
state-changing or view, is refused while the market is inside a call (one global lock), and the outer call
ends exactly as it would without the hook."""
import boa
import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector as sel

from vyopt import market as mk
from vyopt.contracts import deployer

WAD = 10**18
MAX_UINT = 2**256 - 1


@pytest.fixture
def evil(env):
    """A market on a hookable token, a funded attacker account and a pool."""
    token = deployer("testing/MockERC20").deploy("Evil", "EVIL", 6)
    m = deployer("OptionsMarket").deploy(env.p.registry.address, env.p.oracle.address, token.address, env.p.engine.address)
    for who, amount in ((env.a.attacker, 10**12), (env.a.lp, 10**13)):
        token.mint(who, amount)
        token.approve(m.address, MAX_UINT, sender=who)
    m.lp_deposit(10**12, sender=env.a.lp)
    m.deposit(10**11, sender=env.a.attacker)
    return token, m


def _call(name, types, args):
    return sel(name) + encode(types, args)


REENTRIES = [
    ("withdraw(uint256)", ["uint256"], [1]),
    ("deposit(uint256)", ["uint256"], [1]),
    ("lp_withdraw(uint256)", ["uint256"], [1]),
    ("trade(uint256,int256,uint256,uint256)", ["uint256", "int256", "uint256", "uint256"], [1, -10**18, 0, 2**40]),
    ("liquidate(address,uint256,uint256)", ["address", "uint256", "uint256"], ["0x" + "11" * 20, 1, 1]),
    ("settle_account(address)", ["address"], ["0x" + "11" * 20]),
    ("account_value(address)", ["address"], ["0x" + "11" * 20]),          # read-only reentrancy
    ("margin_requirements(address)", ["address"], ["0x" + "11" * 20]),
    ("collateral(address)", ["address"], ["0x" + "11" * 20]),
]


@pytest.mark.parametrize("name,types,args", REENTRIES, ids=[r[0].split("(")[0] for r in REENTRIES])
@pytest.mark.parametrize("outer", ["deposit", "withdraw"])
def test_reentrant_token__any_callback_into_the_market__refused_and_outer_call_unaffected(env, evil, name, types, args, outer):
    token, m = evil
    if name.startswith("trade"):
        m.list_series(40_000 * WAD, env.p.registry.expiries()[0], True, sender=env.p.risk_manager)
    token.set_hook(m.address, _call(name, types, args))
    cash = m.collateral(env.a.attacker)
    if outer == "deposit":
        m.deposit(10**6, sender=env.a.attacker)
        assert m.collateral(env.a.attacker) == cash + 10**6 * 10**12
    else:
        m.withdraw(10**6, sender=env.a.attacker)
        assert m.collateral(env.a.attacker) == cash - 10**6 * 10**12
    assert token.hook_calls() == 1
    assert not token.last_hook_ok()                 # the callback reverted (the lock)
    assert token.last_hook_result() == b""          # Vyper's lock reverts without data
    assert token.balanceOf(m.address) * 10**12 == m.collateral(env.a.attacker) + m.collateral(m.address)


def test_reentrant_token__lp_withdraw_outer_call__callback_refused(env, evil):
    token, m = evil
    token.set_hook(m.address, _call("withdraw(uint256)", ["uint256"], [1]))
    shares = m.lp_shares(env.a.lp) // 10
    m.lp_withdraw(shares, sender=env.a.lp)
    assert not token.last_hook_ok()
