"""deposit / withdraw / fund_insurance: token units in, WAD inside, any decimals <= 18, tokens without a bool
return, tokens returning false, fee-on-transfer tokens refused, withdrawals margin-checked."""
import boa
import pytest

from vyopt import market as mk
from vyopt.contracts import deployer

from .helpers import WAD, buy, jump_feed, reason, sell, storage_snapshot

MAX_UINT = 2**256 - 1


def _market_on(p, token):
    return deployer("OptionsMarket").deploy(p.registry.address, p.oracle.address, token.address, p.engine.address)


@pytest.mark.parametrize("decimals", [0, 2, 6, 8, 18])
def test_deposit_withdraw__any_decimals_up_to_18__credits_exact_wad_and_round_trips(env, decimals):
    token = deployer("testing/MockERC20").deploy("T", "T", decimals)
    m = _market_on(env.p, token)
    who = env.a.trader
    amount = 123 * 10**decimals + (7 if decimals else 0)
    token.mint(who, amount)
    token.approve(m.address, MAX_UINT, sender=who)
    m.deposit(amount, sender=who)
    assert m.collateral(who) == amount * 10 ** (18 - decimals)
    assert m.collateral_scale() == 10 ** (18 - decimals)
    m.withdraw(amount, sender=who)
    assert m.collateral(who) == 0
    assert token.balanceOf(who) == amount and token.balanceOf(m.address) == 0


def test_constructor__token_with_19_decimals__refused(env):
    token = deployer("testing/MockERC20").deploy("T", "T", 19)
    with boa.reverts("market: collateral decimals above 18"):
        _market_on(env.p, token)


def test_constructor__collateral_without_code__refused(env):
    with boa.reverts("market: collateral is not a contract"):
        deployer("OptionsMarket").deploy(env.p.registry.address, env.p.oracle.address, env.a.outsider, env.p.engine.address)


def test_constructor__engine_on_another_registry__refused(env):
    from vyopt import risk

    other = risk.deploy_registry(env.p.admin, env.p.risk_manager, env.p.guardian)
    engine = deployer("MarginEngine").deploy(other.address)
    with boa.reverts("market: engine on another registry"):
        deployer("OptionsMarket").deploy(env.p.registry.address, env.p.oracle.address, env.p.collateral.address, engine.address)


def test_deposit_withdraw__token_returning_no_bool__works(env):
    token = deployer("testing/NoBoolERC20").deploy(6)
    m = _market_on(env.p, token)
    who = env.a.trader
    token.mint(who, 10**9)
    token.approve(m.address, MAX_UINT, sender=who)
    m.deposit(10**9, sender=who)
    m.withdraw(4 * 10**8, sender=who)
    assert token.balanceOf(who) == 4 * 10**8
    assert m.collateral(who) == 6 * 10**8 * 10**12


def test_deposit__token_returning_false__reverts_with_reason(env):
    token = deployer("testing/FalseERC20").deploy(6)
    m = _market_on(env.p, token)
    token.mint(env.a.trader, 10**9)
    with boa.reverts("market: token transfer failed"):
        m.deposit(10**6, sender=env.a.trader)


def test_deposit__fee_on_transfer_token__refused(env):
    token = deployer("testing/MockERC20").deploy("F", "F", 6)
    m = _market_on(env.p, token)
    who = env.a.trader
    token.mint(who, 10**9)
    token.approve(m.address, MAX_UINT, sender=who)
    token.set_fee_bps(10)
    with boa.reverts("market: fee-on-transfer token"):
        m.deposit(10**6, sender=who)


def test_withdraw__token_turns_on_a_fee_later__collateral_not_locked_and_books_stay_exact(env):
    """A fee switched on after deposits must not trap collateral: the withdrawal goes through (the token's fee
    falls on the receiver), the market's balance falls by exactly the amount, and new deposits are refused."""
    token = deployer("testing/MockERC20").deploy("F", "F", 6)
    m = _market_on(env.p, token)
    who = env.a.trader
    token.mint(who, 2 * 10**9)
    token.approve(m.address, MAX_UINT, sender=who)
    m.deposit(10**9, sender=who)
    token.set_fee_bps(10)
    m.withdraw(10**6, sender=who)
    assert token.balanceOf(m.address) == 10**9 - 10**6
    assert token.balanceOf(m.address) * 10**12 == m.collateral(who)
    with boa.reverts("market: fee-on-transfer token"):
        m.deposit(10**6, sender=who)


def test_withdraw__more_than_collateral__fails(env):
    with boa.reverts("market: insufficient collateral"):
        env.m.withdraw(200_001 * 10**6, sender=env.a.trader)


def test_withdraw__zero__fails(env):
    with boa.reverts("market: zero amount"):
        env.m.withdraw(0, sender=env.a.trader)
    with boa.reverts("market: zero amount"):
        env.m.deposit(0, sender=env.a.trader)


def test_withdraw__with_open_short__fails_below_initial_margin(env):
    sell(env, env.a.writer, env.ids[2], 1)
    cash, value, im, mm = env.m.account_state(env.a.writer)
    free = (value - im) // 10**12          # token units that keep value >= initial margin
    with boa.reverts("market: below initial margin"):
        env.m.withdraw(free + 1, sender=env.a.writer)
    env.m.withdraw(free - 1, sender=env.a.writer)
    _, value, im, _ = env.m.account_state(env.a.writer)
    assert value >= im


def test_withdraw__with_positions_and_stale_price__fails_with_oracle_reason(env):
    sell(env, env.a.writer, env.ids[2], 1)
    boa.env.time_travel(seconds=env.p.registry.oracle_heartbeat() + 1)
    with boa.reverts("oracle: stale price"):
        env.m.withdraw(10**6, sender=env.a.writer)


def test_withdraw__with_positions_and_jumped_price__fails_with_oracle_reason(env):
    sell(env, env.a.writer, env.ids[2], 1)
    jump_feed(env.p, 30_000)
    with boa.reverts("oracle: price jump too large"):
        env.m.withdraw(10**6, sender=env.a.writer)


def test_withdraw__without_positions_and_stale_price__works(env):
    boa.env.time_travel(seconds=env.p.registry.oracle_heartbeat() + 1)
    env.m.withdraw(10**6, sender=env.a.trader)


def test_withdraw__with_positions_while_paused__fails_and_deposit_still_works(env):
    buy(env, env.a.trader, env.ids[0], 1)
    env.p.registry.pause(sender=env.p.guardian)
    with boa.reverts("market: paused"):
        env.m.withdraw(10**6, sender=env.a.trader)
    env.p.collateral.mint(env.a.trader, 10**6)
    env.m.deposit(10**6, sender=env.a.trader)


def test_deposit__stale_oracle_and_pause__still_works(env):
    env.p.registry.pause(sender=env.p.guardian)
    boa.env.time_travel(seconds=10 * 86400)
    env.p.collateral.mint(env.a.outsider, 10**6)
    env.p.collateral.approve(env.m.address, MAX_UINT, sender=env.a.outsider)
    env.m.deposit(10**6, sender=env.a.outsider)
    assert env.m.collateral(env.a.outsider) == WAD


def test_deposit__one_account_action__leaves_other_accounts_unchanged(env):
    before = storage_snapshot(env, [env.a.writer, env.a.lp])
    mk.fund(env.p, env.a.outsider, 10)
    after = storage_snapshot(env, [env.a.writer, env.a.lp])
    for k in (str(env.a.writer), str(env.a.lp), "pool", "insurance", "fees"):
        assert before[k] == after[k]


def test_fund_insurance__anyone__adds_to_the_fund(env):
    env.p.collateral.mint(env.a.outsider, 5 * 10**6)
    env.p.collateral.approve(env.m.address, MAX_UINT, sender=env.a.outsider)
    env.m.fund_insurance(5 * 10**6, sender=env.a.outsider)
    assert env.m.insurance_fund() == 5 * WAD


def test_collect_fees__admin_gets_whole_units__others_refused(env):
    buy(env, env.a.trader, env.ids[2], 3)
    fees = env.m.protocol_fees()
    assert fees > 0
    with boa.reverts("market: caller is not the admin"):
        env.m.collect_fees(env.a.outsider, sender=env.a.outsider)
    sent = env.m.collect_fees(env.a.outsider, sender=env.p.admin)
    assert sent == fees // 10**12
    assert env.m.protocol_fees() == fees - sent * 10**12
    assert env.p.collateral.balanceOf(env.a.outsider) == sent
