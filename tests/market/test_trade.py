"""trade(): buying, writing, closing; slippage and deadline; the account's and the pool's margin rules; open
interest and series limits; the oracle and pause rules (risk-increasing trades only)."""
import boa
import pytest

from reference import market as ref
from vyopt import market as mk
from vyopt.deploy import deploy_local

from .helpers import WAD, buy, jump_feed, reason, ref_positions, ref_state, sell


def test_trade__buy_then_close__flat_position_and_empty_lists(env):
    sid = env.ids[2]
    buy(env, env.a.trader, sid, 2)
    assert env.m.position(env.a.trader, sid) == 2 * WAD
    assert env.m.position(env.m.address, sid) == -2 * WAD
    assert list(env.m.open_series(env.a.trader)) == [sid]
    assert env.m.open_interest(sid) == 2 * WAD
    sell(env, env.a.trader, sid, 2)
    assert env.m.position(env.a.trader, sid) == 0
    assert env.m.position(env.m.address, sid) == 0
    assert list(env.m.open_series(env.a.trader)) == []
    assert list(env.m.open_series(env.m.address)) == []
    assert env.m.open_interest(sid) == 0


def test_trade__round_trip__costs_the_trader_and_pays_the_pool(env):
    sid = env.ids[2]
    cash0, pool0 = env.m.collateral(env.a.trader), env.m.collateral(env.m.address)
    paid = buy(env, env.a.trader, sid, 3)
    got = sell(env, env.a.trader, sid, 3)
    assert got < paid
    fees = env.m.protocol_fees()
    assert env.m.collateral(env.a.trader) == cash0 - paid + got
    assert env.m.collateral(env.m.address) + fees == pool0 + paid - got


def test_trade__positions__sum_to_zero_with_the_pool(env):
    buy(env, env.a.trader, env.ids[2], 2)
    sell(env, env.a.writer, env.ids[2], 1.5)
    sell(env, env.a.writer, env.ids[3], 1)
    for sid in env.ids:
        total = sum(env.m.position(a, sid) for a in (env.a.trader, env.a.writer, env.m.address))
        assert total == 0


def test_trade__premium_above_limit__reverts(env):
    sid = env.ids[2]
    q = env.m.quote(sid, WAD)[0]
    with boa.reverts("market: premium above limit"):
        env.m.trade(sid, WAD, q - 1, mk.deadline(), sender=env.a.trader)
    env.m.trade(sid, WAD, q, mk.deadline(), sender=env.a.trader)


def test_trade__premium_below_limit__reverts(env):
    sid = env.ids[2]
    q = env.m.quote(sid, -WAD)[0]
    with boa.reverts("market: premium below limit"):
        env.m.trade(sid, -WAD, q + 1, mk.deadline(), sender=env.a.writer)


def test_trade__after_deadline__reverts(env):
    with boa.reverts("market: deadline passed"):
        env.m.trade(env.ids[2], WAD, 2**255, mk.deadline(0) - 1, sender=env.a.trader)


def test_trade__bad_inputs__revert_with_reason(env):
    d = mk.deadline()
    with boa.reverts("market: zero size"):
        env.m.trade(env.ids[0], 0, 0, d, sender=env.a.trader)
    with boa.reverts("market: unknown series"):
        env.m.trade(0, WAD, 2**255, d, sender=env.a.trader)
    with boa.reverts("market: size out of range"):
        env.m.trade(env.ids[0], -(2**255), 0, d, sender=env.a.trader)


def test_trade__expired_series__reverts(env):
    boa.env.time_travel(seconds=8 * 86400)
    with boa.reverts("market: series expired"):
        env.m.trade(env.ids[0], WAD, 2**255, mk.deadline(), sender=env.a.trader)


def test_trade__write_beyond_collateral__fails_below_initial_margin(env):
    with boa.reverts("market: below initial margin"):
        sell(env, env.a.writer, env.ids[2], 20)


def test_trade__leaves_account_at_or_above_initial_margin(env):
    sell(env, env.a.writer, env.ids[2], 3)
    cash, value, im, mm = env.m.account_state(env.a.writer)
    assert value >= im
    st_ = ref_state(env)
    pos = ref_positions(env, env.a.writer)
    assert abs(mm / WAD - ref.maintenance(st_, pos)) <= 1e-11 * st_.spot * 3


def test_trade__reducing_maintenance_below_initial__allowed(env):
    """An account below initial margin may still close: trades that strictly reduce maintenance pass."""
    w = env.a.writer
    sell(env, w, env.ids[2], 1)
    _, value, im, _ = env.m.account_state(w)
    n = int(0.9 * value / im)               # write as many as initial margin allows, to 90%
    sell(env, w, env.ids[2], n - 1)
    from .helpers import set_spot

    spot = 40_000
    while True:   # walk the spot up until the writer sits between maintenance and initial margin
        spot += 250
        set_spot(env.p, spot)
        _, value, im, mm = env.m.account_state(w)
        if value < im:
            break
    assert mm <= value < im, "the scenario needs an account between maintenance and initial margin"
    with boa.reverts("market: below initial margin"):
        sell(env, w, env.ids[2], 0.1)       # adds risk
    buy(env, w, env.ids[2], 1)              # closes one contract
    assert env.m.position(w, env.ids[2]) == -(n - 1) * WAD


def test_trade__pool_without_capital__refused_by_pool_margin(actors):
    p = deploy_local()
    ids = mk.list_chain(p, [40_000], p.registry.expiries()[:1])
    mk.fund_lp(p, actors.lp, 10)           # a 10 tUSDC pool
    mk.fund(p, actors.trader, 100_000)
    with boa.reverts("market: pool below initial margin"):
        p.market.trade(ids[0], WAD, 2**255, mk.deadline(), sender=actors.trader)


def test_trade__pool_below_initial_margin__still_accepts_trades_that_reduce_its_risk(actors):
    p = deploy_local()
    ids = mk.list_chain(p, [40_000], p.registry.expiries()[:1])
    mk.fund_lp(p, actors.lp, 100_000)
    mk.fund(p, actors.trader, 200_000)
    pool = p.market.address
    p.market.trade(ids[0], WAD, 2**255, mk.deadline(), sender=actors.trader)   # pool short one call
    n = int(0.9 * p.market.account_value(pool) / p.market.margin_requirements(pool)[0])
    p.market.trade(ids[0], (n - 1) * WAD, 2**255, mk.deadline(), sender=actors.trader)
    from .helpers import set_spot

    spot = 40_000
    while p.market.account_value(pool) >= p.market.margin_requirements(pool)[0]:
        spot += 250
        set_spot(p, spot)
    with boa.reverts("market: pool below initial margin"):
        p.market.trade(ids[0], WAD // 10, 2**255, mk.deadline(), sender=actors.trader)
    p.market.trade(ids[0], -WAD, 0, mk.deadline(), sender=actors.trader)          # trader closes: pool risk falls


def test_trade__open_interest_cap__refuses_the_excess(actors):
    from vyopt import risk

    params = risk.default_params()
    params[7] = 5 * WAD          # max_open_interest: 5 contracts per series
    p = deploy_local(registry_kwargs={"params": params})
    ids = mk.list_chain(p, [44_000], p.registry.expiries()[:1], kinds=(True,))
    mk.fund_lp(p, actors.lp, 1_000_000)
    mk.fund(p, actors.trader, 100_000)
    mk.fund(p, actors.writer, 100_000)
    p.market.trade(ids[0], 3 * WAD, 2**255, mk.deadline(), sender=actors.trader)
    p.market.trade(ids[0], -2 * WAD, 0, mk.deadline(), sender=actors.writer)
    assert p.market.open_interest(ids[0]) == 5 * WAD       # |+3| + |-2|
    with boa.reverts("market: open interest cap"):
        p.market.trade(ids[0], 1, 2**255, mk.deadline(), sender=actors.trader)
    p.market.trade(ids[0], -WAD, 0, mk.deadline(), sender=actors.trader)   # closing is not capped
    assert p.market.open_interest(ids[0]) == 4 * WAD


def test_trade__seventeenth_series__refused(env):
    ids = mk.list_chain(env.p, [30_000, 50_000], env.p.registry.expiries()[:3])  # 12 more series
    all_ids = env.ids + ids
    for sid in all_ids[:16]:
        env.m.trade(sid, WAD // 100, 2**255, mk.deadline(), sender=env.a.trader)
    assert len(env.m.open_series(env.a.trader)) == 16
    with boa.reverts("market: too many open series"):
        env.m.trade(all_ids[16], WAD // 100, 2**255, mk.deadline(), sender=env.a.trader)
    # closing one frees a slot
    env.m.trade(all_ids[0], -(WAD // 100), 0, mk.deadline(), sender=env.a.trader)
    env.m.trade(all_ids[16], WAD // 100, 2**255, mk.deadline(), sender=env.a.trader)


def test_trade__paused__opening_refused_closing_allowed(env):
    buy(env, env.a.trader, env.ids[2], 2)
    env.p.registry.pause(sender=env.p.guardian)
    with boa.reverts("market: paused"):
        buy(env, env.a.trader, env.ids[2], 1)
    with boa.reverts("market: paused"):
        sell(env, env.a.trader, env.ids[2], 3)     # flips to short: risk-increasing
    sell(env, env.a.trader, env.ids[2], 1)
    env.p.registry.unpause(sender=env.p.guardian)
    buy(env, env.a.trader, env.ids[2], 1)


@pytest.mark.parametrize("how", ["stale", "jump"])
def test_trade__bad_oracle__opening_refused_with_oracle_reason_closing_allowed(env, how):
    buy(env, env.a.trader, env.ids[2], 2)
    if how == "stale":
        boa.env.time_travel(seconds=env.p.registry.oracle_heartbeat() + 1)
        want = "oracle: stale price"
    else:
        jump_feed(env.p, 47_000)
        want = "oracle: price jump too large"
    with boa.reverts(want):
        buy(env, env.a.trader, env.ids[2], 1)
    sell(env, env.a.trader, env.ids[2], 1)
    assert env.m.position(env.a.trader, env.ids[2]) == WAD


def test_trade__event__carries_size_premium_fee_mark_vol_and_new_position(env):
    sid = env.ids[3]
    paid = buy(env, env.a.trader, sid, 1.5)
    (log,) = [e for e in env.m.get_logs() if type(e).__name__ == "Trade"]
    assert log.account == env.a.trader and log.series_id == sid
    assert log.size == int(1.5 * WAD) and log.premium == paid and log.position == int(1.5 * WAD)
    assert 0 < log.fee < paid and log.mark > 0 and log.vol > 0
