"""lp_deposit / lp_withdraw: shares at the pool's value, round trips never gain, withdrawals limited to the
pool's free margin and cash; risk-increasing with open pool positions."""
import boa
from hypothesis import given, settings
from hypothesis import strategies as st

from vyopt import market as mk

from .helpers import WAD, buy, jump_feed, sell, set_spot

MAX_UINT = 2**256 - 1


def _approve(env, who, tokens):
    amount = mk.token_amount(env.p.collateral, tokens)
    env.p.collateral.mint(who, amount)
    env.p.collateral.approve(env.m.address, MAX_UINT, sender=who)
    return amount


def test_lp_deposit__first_deposit__locks_dead_shares(actors):
    from vyopt.deploy import deploy_local

    p = deploy_local()
    shares = mk.fund_lp(p, actors.lp, 1000)
    assert shares == 1000 * WAD - 10**9
    assert p.market.total_shares() == 1000 * WAD
    assert p.market.lp_shares("0x0000000000000000000000000000000000000000") == 10**9


@settings(max_examples=20)  # each example trades and moves the clock; 20 cover the rounding cases in ci
@given(tokens=st.integers(1, 10**7), trade=st.booleans(), wait=st.integers(0, 3000))
def test_lp_round_trip__never_gains(env, tokens, trade, wait):
    """Deposit then withdraw the shares at once: never more than deposited (rounding favours the pool)."""
    if trade:
        buy(env, env.a.trader, env.ids[2], 2)
        sell(env, env.a.writer, env.ids[5], 1)
    if wait:
        boa.env.time_travel(seconds=wait)
        env.p.feed.set_answer(env.p.feed.answer())
    amount = _approve(env, env.a.lp2, tokens)
    shares = env.m.lp_deposit(amount, sender=env.a.lp2)
    back = env.m.lp_withdraw(shares, sender=env.a.lp2)
    assert back <= amount


def test_lp_deposit__after_profitable_trades__mints_fewer_shares_per_token(env):
    amount = _approve(env, env.a.lp2, 1000)
    s0 = env.m.lp_deposit(amount, sender=env.a.lp2)
    for _ in range(3):
        buy(env, env.a.trader, env.ids[2], 1)
        sell(env, env.a.trader, env.ids[2], 1)       # the pool earns the spread
    amount = _approve(env, env.a.lp2, 1000)
    s1 = env.m.lp_deposit(amount, sender=env.a.lp2)
    assert s1 < s0


def test_lp_withdraw__beyond_free_margin__refused(env):
    for sid in env.ids[:4]:
        buy(env, env.a.trader, sid, 5)
    free = env.m.pool_free_margin()
    value = env.m.account_value(env.m.address)
    supply = env.m.total_shares()
    shares = env.m.lp_shares(env.a.lp)
    too_many = min(shares, (free + 10 * WAD) * supply // value + 1)
    with boa.reverts("market: exceeds pool free margin"):
        env.m.lp_withdraw(too_many, sender=env.a.lp)
    ok = free * supply // value * 99 // 100
    env.m.lp_withdraw(ok, sender=env.a.lp)
    _, im = env.m.account_value(env.m.address), env.m.margin_requirements(env.m.address)[0]
    assert env.m.account_value(env.m.address) >= im


def test_lp_withdraw__with_pool_positions_and_bad_oracle__refused_with_reason(env):
    buy(env, env.a.trader, env.ids[2], 1)
    jump_feed(env.p, 30_000)
    with boa.reverts("oracle: price jump too large"):
        env.m.lp_withdraw(WAD, sender=env.a.lp)
    with boa.reverts("oracle: price jump too large"):
        env.m.lp_deposit(10**6, sender=env.a.lp)


def test_lp_withdraw__paused_with_pool_positions__refused_without_positions_allowed(env):
    env.p.registry.pause(sender=env.p.guardian)
    env.m.lp_withdraw(WAD, sender=env.a.lp)            # no pool positions: not risk-increasing
    env.p.registry.unpause(sender=env.p.guardian)
    buy(env, env.a.trader, env.ids[2], 1)
    env.p.registry.pause(sender=env.p.guardian)
    with boa.reverts("market: paused"):
        env.m.lp_withdraw(WAD, sender=env.a.lp)


def test_lp__bad_inputs__revert_with_reason(env):
    with boa.reverts("market: zero amount"):
        env.m.lp_deposit(0, sender=env.a.lp)
    with boa.reverts("market: zero shares"):
        env.m.lp_withdraw(0, sender=env.a.lp)
    with boa.reverts("market: insufficient shares"):
        env.m.lp_withdraw(env.m.lp_shares(env.a.lp) + 1, sender=env.a.lp)
    with boa.reverts("market: withdrawal too small"):
        env.m.lp_withdraw(1, sender=env.a.lp)
    _approve(env, env.a.lp2, 1)
    # 1 token unit (1e12 WAD) buys shares at a share price of about 1: fine; a zero-share deposit cannot happen
    assert env.m.lp_deposit(1, sender=env.a.lp2) > 0


def test_lp_withdraw__pool_lost_on_a_move__lp_bears_it(env):
    for sid in env.ids[:2]:
        buy(env, env.a.trader, sid, 20)         # the pool writes calls
    v0 = env.m.account_value(env.m.address)
    set_spot(env.p, 45_000)
    v1 = env.m.account_value(env.m.address)
    assert v1 < v0
    shares = env.m.lp_shares(env.a.lp) // 10
    got = env.m.lp_withdraw(shares, sender=env.a.lp)
    assert got * 10**12 <= shares * v1 // env.m.total_shares() + 10**12
