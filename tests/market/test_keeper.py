"""vyopt.keeper in titanoboa: an account pushed under maintenance by a price move is found and liquidated, a
healthy account is never touched, an unprofitable liquidation is skipped (and only that rule stops it), the
leg closed is the one that releases the most margin, and a liquidation the market would refuse is never sent.
Expected outcomes come from the market itself (simulated liquidations, events, account_state), not from the
keeper's own plan."""
from decimal import Decimal

import boa

from vyopt import market as mk
from vyopt.keeper import Keeper, KeeperConfig, plan_account
from vyopt.trading import BoaBackend

from .helpers import write_to, WAD, buy, jump_feed, sell, set_spot


class CountingBackend(BoaBackend):
    """BoaBackend that records every transaction it sends (function name, arguments)."""

    def __init__(self, gas_price=0):
        super().__init__(gas_price)
        self.sent = []

    def send(self, contract, fn, *args, sender):
        self.sent.append((fn, args))
        return super().send(contract, fn, *args, sender=sender)


def _write_to(env, who, sid, fraction=0.9):
    return write_to(env, who, sid, fraction, first=4.0, smallest=0.125)


def _walk_down_until_liquidatable(env, who, step=1000):
    spot = env.p.oracle.peek()[0] // WAD
    while not env.m.is_liquidatable(who):
        spot -= step
        set_spot(env.p, spot)
    return spot


def _book(env, accounts):
    """Collateral and every position of each account (what a liquidation would change)."""
    return {a: (env.m.collateral(a), tuple(env.m.position(a, s) for s in env.ids)) for a in accounts}


def _simulated_reward(env, who, sid, size):
    """The reward the market pays for liquidate(who, sid, size) now (state rolled back), or None if it reverts."""
    with boa.env.anchor():
        try:
            return env.m.liquidate(who, sid, size, sender=env.a.keeper)
        except boa.BoaError:
            return None


def test_keeper__writer_after_price_fall__found_liquidated_and_paid_the_market_reward(env):
    w, t, k = env.a.writer, env.a.trader, env.a.keeper
    put = env.ids[3]                                    # 40,000 put, first expiry
    _write_to(env, w, put)
    buy(env, t, put, 2)                                 # a healthy trader in the same series
    _walk_down_until_liquidatable(env, w)
    assert not env.m.is_liquidatable(t)
    trader_before = _book(env, [t])
    expected = _simulated_reward(env, w, put, abs(env.m.position(w, put)))
    assert expected and expected > 0
    bk = CountingBackend()
    report = Keeper(env.p, k, KeeperConfig(native_price=Decimal(3000)), backend=bk).run_once([t, w])

    assert report["liquidatable"] == [str(w)]
    (liq,) = report["liquidations"]
    assert liq["account"] == str(w) and liq["series_id"] == put
    assert liq["reward"] == expected                    # what the contract pays for that call
    assert env.m.collateral(k) == expected              # credited to the keeper, who needed no inventory
    assert not env.m.is_liquidatable(w)
    _, value, im, _ = env.m.account_state(w)
    assert value >= im * (1 - 1e-9)                     # partial: back at initial margin, not beyond need
    assert env.m.position(w, put) < 0                   # ... so part of the short stays open
    assert _book(env, [t]) == trader_before             # the healthy account was not touched
    assert [fn for fn, _ in bk.sent] == ["liquidate"]


def test_keeper__only_healthy_accounts_through_price_moves__sends_nothing(env):
    w, t, k = env.a.writer, env.a.trader, env.a.keeper
    sell(env, w, env.ids[3], 1)                         # well inside its margin (100,000 collateral)
    buy(env, t, env.ids[2], 3)
    accounts = [w, t, env.a.lp, env.a.outsider]         # an LP and an account with nothing in it too
    bk = CountingBackend()
    keeper = Keeper(env.p, k, KeeperConfig(native_price=Decimal(3000)), backend=bk)
    for spot in (40_000, 37_000, 43_000, 40_000):
        set_spot(env.p, spot)
        assert not any(env.m.is_liquidatable(a) for a in accounts)
        before = _book(env, accounts)
        report = keeper.run_once(accounts)
        assert report["healthy"] == len(accounts) and report["liquidations"] == [] and report["skipped"] == []
        assert _book(env, accounts) == before
    assert bk.sent == []
    assert env.m.collateral(k) == 0


def test_keeper__reward_below_gas_cost__skipped_and_account_left_as_is(env):
    small = boa.env.generate_address("small_writer")
    mk.fund(env.p, small, 3_000)
    sell(env, small, env.ids[3], 0.15)
    _walk_down_until_liquidatable(env, small)
    reward = _simulated_reward(env, small, env.ids[3], abs(env.m.position(small, env.ids[3])))
    assert reward and reward > 0
    # gas price chosen so that ~330k gas costs more than the reward: 30 gwei at 3,000 per ETH = ~30 per liquidation
    expensive = Keeper(env.p, env.a.keeper, KeeperConfig(native_price=Decimal(3000), gas_price=30 * 10**9),
                       backend=CountingBackend())
    before = _book(env, [small])
    report = expensive.run_once([small])
    (skip,) = report["skipped"]
    assert skip["reason"] == "unprofitable"
    assert skip["reward"] == reward and skip["gas_cost"] > reward and skip["profit"] == reward - skip["gas_cost"]
    assert expensive.bk.sent == [] and _book(env, [small]) == before and env.m.is_liquidatable(small)
    # the same account at a gas price of zero: profitable, so liquidated (the cost rule was the only obstacle)
    free = Keeper(env.p, env.a.keeper, KeeperConfig(native_price=Decimal(3000), gas_price=0))
    assert len(free.run_once([small])["liquidations"]) == 1
    assert not env.m.is_liquidatable(small)


def test_keeper__min_profit__counts_in_collateral_units(env):
    small = boa.env.generate_address("small_writer")
    mk.fund(env.p, small, 3_000)
    sell(env, small, env.ids[3], 0.15)
    _walk_down_until_liquidatable(env, small)
    reward = _simulated_reward(env, small, env.ids[3], abs(env.m.position(small, env.ids[3])))
    above = Decimal(reward) / WAD + 1                    # one collateral unit more than the reward
    report = Keeper(env.p, env.a.keeper, KeeperConfig(min_profit=above, gas_price=0)).run_once([small])
    assert report["skipped"][0]["reason"] == "unprofitable" and report["liquidations"] == []
    below = Decimal(reward) / WAD - 1
    report = Keeper(env.p, env.a.keeper, KeeperConfig(min_profit=below, gas_price=0)).run_once([small])
    assert report["liquidations"][0]["reward"] == reward


def test_keeper__two_short_legs__closes_the_leg_paying_the_most(env):
    w = env.a.writer
    sell(env, w, env.ids[5], 1)                         # 44,000 put (in the money after the fall)
    _write_to(env, w, env.ids[1])                       # 36,000 puts
    _walk_down_until_liquidatable(env, w)
    legs = [int(s) for s in env.m.open_series(w)]
    assert len(legs) == 2
    rewards = {s: _simulated_reward(env, w, s, abs(env.m.position(w, s))) for s in legs}
    report = Keeper(env.p, env.a.keeper, KeeperConfig(max_rounds=1, gas_price=0)).run_once([w])
    (liq,) = report["liquidations"]
    assert rewards[liq["series_id"]] == max(r for r in rewards.values() if r is not None)
    assert liq["reward"] == rewards[liq["series_id"]]


def test_keeper__hedge_leg__plan_refuses_it_as_the_market_does_and_the_short_is_closed(env):
    w = env.a.writer
    buy(env, w, env.ids[1], 2)                          # long 36,000 puts: the hedge
    _write_to(env, w, env.ids[3], 0.95)                 # short 40,000 puts
    _walk_down_until_liquidatable(env, w)
    plan = plan_account(env.p, BoaBackend(), w)
    by_series = {lg["series_id"]: lg for lg in plan["legs"]}
    hedge, short = by_series[env.ids[1]], by_series[env.ids[3]]
    # agreement with the contract: the leg the plan refuses reverts, the one it accepts pays what it predicts
    assert hedge["refused"] == "market: liquidation must reduce margin"
    assert _simulated_reward(env, w, env.ids[1], abs(hedge["position"])) is None
    assert short["refused"] is None
    assert _simulated_reward(env, w, env.ids[3], abs(short["position"])) == short["reward"]
    report = Keeper(env.p, env.a.keeper, KeeperConfig(max_rounds=1, gas_price=0)).run_once([w])
    assert [e["series_id"] for e in report["liquidations"]] == [env.ids[3]]
    assert env.m.position(w, env.ids[1]) == 2 * WAD     # the hedge is kept


def test_keeper__unconfirmed_price_jump_and_mildly_unhealthy__nothing_sent(env):
    """The market refuses to liquidate a mildly unhealthy account on a price the oracle has not accepted;
    the keeper sees the refusal before sending and reports it."""
    w = env.a.writer
    _write_to(env, w, env.ids[3])
    spot = _walk_down_until_liquidatable(env, w)
    _, value, _, mm = env.m.account_state(w)
    assert 2 * value >= mm, "mildly unhealthy for this test"
    jump_feed(env.p, spot * 0.8)                        # a 20% drop the oracle has not confirmed
    assert not env.p.oracle.peek()[1]
    bk = CountingBackend()
    before = _book(env, [w])
    report = Keeper(env.p, env.a.keeper, KeeperConfig(gas_price=0), backend=bk).run_once([w])
    assert report["liquidations"] == [] and bk.sent == [] and _book(env, [w]) == before
    (skip,) = report["skipped"]
    assert skip["reason"] == "every liquidation would revert"
