"""Bad input to every external function of the market: a revert with the market's (or the oracle's) reason and
no state change anywhere (the market's whole storage, the token balances) compared before and after."""
import boa
import pytest

from vyopt import market as mk

from .helpers import WAD, buy, sell

ZERO = "0x0000000000000000000000000000000000000000"


def _state(env):
    m = env.m
    tok = env.p.collateral
    return (repr(m._storage.dump()), tok.balanceOf(m.address),
            tuple(tok.balanceOf(a) for a in vars(env.a).values()))


def _cases(env):
    a, m, p = env.a, env.m, env.p
    e0 = p.registry.expiries()[0]
    d = mk.deadline()
    return [
        # (function, args, sender, reason)
        (m.deposit, (0,), a.trader, "market: zero amount"),
        (m.deposit, (10**20,), a.outsider, None),                               # no allowance: the token's revert
        (m.withdraw, (0,), a.trader, "market: zero amount"),
        (m.withdraw, (10**15,), a.trader, "market: insufficient collateral"),
        (m.withdraw, (100_000 * 10**6,), a.writer, "market: below initial margin"),
        (m.fund_insurance, (0,), a.trader, "market: zero amount"),
        (m.collect_fees, (a.outsider,), a.outsider, "market: caller is not the admin"),
        (m.collect_fees, (ZERO,), p.admin, "market: zero receiver"),
        (m.list_series, (40_000 * WAD, e0, True), a.outsider, "market: caller may not list"),
        (m.list_series, (10**11, e0, True), p.risk_manager, "market: strike out of range"),
        (m.list_series, (10**31, e0, True), p.risk_manager, "market: strike out of range"),
        (m.list_series, (40_000 * WAD, 1, True), p.risk_manager, "market: expiry passed"),
        (m.list_series, (40_000 * WAD, e0 + 1, True), p.risk_manager, "market: no surface for expiry"),
        (m.list_series, (40_000 * WAD, 2**64, True), p.risk_manager, "market: expiry out of range"),
        (m.list_series, (40_000 * WAD, e0, True), p.risk_manager, "market: series exists"),
        (m.trade, (env.ids[0], 0, 0, d), a.trader, "market: zero size"),
        (m.trade, (999, WAD, 2**255, d), a.trader, "market: unknown series"),
        (m.trade, (env.ids[0], WAD, 2**255, 0), a.trader, "market: deadline passed"),
        (m.trade, (env.ids[0], -(2**255), 0, d), a.trader, "market: size out of range"),
        (m.trade, (env.ids[2], WAD, 1, d), a.trader, "market: premium above limit"),
        (m.trade, (env.ids[2], -WAD, 10**30, d), a.writer, "market: premium below limit"),
        (m.trade, (env.ids[2], -100 * WAD, 0, d), a.writer, "market: below initial margin"),
        (m.lp_deposit, (0,), a.lp, "market: zero amount"),
        (m.lp_withdraw, (0,), a.lp, "market: zero shares"),
        (m.lp_withdraw, (10**40,), a.lp, "market: insufficient shares"),
        (m.lp_withdraw, (1,), a.lp, "market: withdrawal too small"),
        (m.liquidate, (a.writer, env.ids[2], WAD), a.writer, "market: cannot liquidate self"),
        (m.liquidate, (m.address, env.ids[2], WAD), a.keeper, "market: not an account"),
        (m.liquidate, (ZERO, env.ids[2], WAD), a.keeper, "market: not an account"),
        (m.liquidate, (a.writer, env.ids[2], 0), a.keeper, "market: zero size"),
        (m.liquidate, (a.writer, 4242, WAD), a.keeper, "market: unknown series"),
        (m.liquidate, (a.writer, env.ids[2], WAD), a.keeper, "market: account not liquidatable"),
        (m.settle_expiry, (e0,), a.keeper, "market: not expired"),
        (m.settle_expiry, (123,), a.keeper, "market: no series for expiry"),
        (m.settle_account, (m.address,), a.keeper, "market: not an account"),
    ]


def test_every_function__bad_input__reverts_with_reason_and_changes_nothing(env):
    buy(env, env.a.trader, env.ids[2], 1)       # some state worth protecting
    sell(env, env.a.writer, env.ids[2], 1)
    for fn, args, sender, why in _cases(env):
        before = _state(env)
        if why is None:
            with boa.reverts():
                fn(*args, sender=sender)
        else:
            with boa.reverts(why):
                fn(*args, sender=sender)
        assert _state(env) == before, (fn, args, why)


def test_views__bad_input__revert_with_reason(env):
    m = env.m
    for fn, args, why in [
        (m.quote, (env.ids[0], 0), "market: zero size"),
        (m.quote, (0, WAD), "market: unknown series"),
        (m.mark, (0,), "market: unknown series"),
        (m.series, (13,), "market: unknown series"),
    ]:
        with boa.reverts(why):
            fn(*args)


def test_engine__bad_input__reverts_with_reason(env):
    e = env.p.engine
    with boa.reverts("engine: spot out of range"):
        e.evaluate(0, [], 2**256 - 1, [0, 0], 0)
    with boa.reverts("engine: spot out of range"):
        e.evaluate(10**36 + 1, [], 2**256 - 1, [0, 0], 0)
    with boa.reverts("engine: zero size"):
        e.quote(40_000 * WAD, 40_000 * WAD | (env.p.registry.expiries()[0] << 128), 0)
    with boa.reverts("engine: series expired"):
        e.quote(40_000 * WAD, 40_000 * WAD | (1 << 128), WAD)
