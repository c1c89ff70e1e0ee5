"""liquidate(): partial to initial margin, full for dust / long-only / hopeless accounts, the penalty split,
bad debt through the insurance fund then the pool, the oracle rule, and the reference model's outcome."""
import boa
import pytest

from reference import market as ref
from vyopt import market as mk
from vyopt import risk
from vyopt.deploy import deploy_local

from .helpers import write_to, WAD, buy, jump_feed, ref_positions, ref_state, sell, set_spot


def _events(m, name):
    return [e for e in m.get_logs() if type(e).__name__ == name]


def _write_to(env, who, sid, fraction=0.9):
    return write_to(env, who, sid, fraction)


def _walk_until_liquidatable(env, who, direction=+1, step=250, start=40_000):
    spot = start
    while not env.m.is_liquidatable(who):
        spot += direction * step
        set_spot(env.p, spot)
    return spot


def test_liquidate__healthy_account__reverts(env):
    sell(env, env.a.writer, env.ids[2], 1)
    with boa.reverts("market: account not liquidatable"):
        env.m.liquidate(env.a.writer, env.ids[2], WAD, sender=env.a.keeper)


def test_liquidate__self_pool_zero_size_unknown_series__revert(env):
    with boa.reverts("market: cannot liquidate self"):
        env.m.liquidate(env.a.keeper, env.ids[2], WAD, sender=env.a.keeper)
    with boa.reverts("market: not an account"):
        env.m.liquidate(env.m.address, env.ids[2], WAD, sender=env.a.keeper)
    with boa.reverts("market: zero size"):
        env.m.liquidate(env.a.writer, env.ids[2], 0, sender=env.a.keeper)
    with boa.reverts("market: unknown series"):
        env.m.liquidate(env.a.writer, 77, WAD, sender=env.a.keeper)


def test_liquidate__partial__restores_initial_margin_and_matches_reference(env):
    w, k = env.a.writer, env.a.keeper
    n = _write_to(env, w, env.ids[2])
    _walk_until_liquidatable(env, w)
    st_ = ref_state(env)
    pos = ref_positions(env, w)
    cash = env.m.collateral(w) / WAD
    want = ref.liquidation(st_, cash, pos, env.table[env.ids[2]], float(n))
    assert want.liquidatable and not want.full
    ins0 = env.m.insurance_fund()
    reward = env.m.liquidate(w, env.ids[2], n * WAD, sender=k)
    (ev,) = _events(env.m, "Liquidation")
    closed = n * WAD + env.m.position(w, env.ids[2])         # the writer was short n
    # the contract closes the smallest size (plus a 1e-9 relative cushion) the reference finds by bisection
    assert want.close * WAD * (1 - 1e-9) - 1e9 <= closed <= want.close * WAD * (1 + 2e-9) + 1e9
    tol = 1e-9 * st_.spot * n
    assert abs(ev.penalty / WAD - want.penalty) <= tol
    assert abs(reward / WAD - want.reward) <= tol
    assert reward == ev.penalty * env.p.registry.liquidator_share() // WAD
    assert env.m.insurance_fund() - ins0 == ev.penalty - reward
    assert env.m.collateral(k) == reward                      # the keeper needed no inventory
    _, value, im, mm = env.m.account_state(w)
    assert value >= im * (1 - 1e-9)                          # back at initial margin
    assert value - mm >= ev.value - ev.maintenance_before   # value - maintenance never lowered
    assert not env.m.is_liquidatable(w)


def test_liquidate__keeper_asks_for_less__closes_only_that(env):
    w = env.a.writer
    n = _write_to(env, w, env.ids[2])
    _walk_until_liquidatable(env, w)
    env.m.liquidate(w, env.ids[2], WAD // 10, sender=env.a.keeper)
    assert env.m.position(w, env.ids[2]) == -n * WAD + WAD // 10


def test_liquidate__closing_a_hedge__refused_as_it_does_not_reduce_margin(env):
    w = env.a.writer
    buy(env, w, env.ids[4], 3)                    # long 44,000 calls: the hedge
    n = _write_to(env, w, env.ids[2], 0.95)     # short 40,000 calls
    _walk_until_liquidatable(env, w)
    with boa.reverts("market: liquidation must reduce margin"):
        env.m.liquidate(w, env.ids[4], WAD, sender=env.a.keeper)
    env.m.liquidate(w, env.ids[2], n * WAD, sender=env.a.keeper)


def test_liquidate__value_below_dust__closes_the_whole_account(actors):
    params = risk.default_params()
    params[4] = 100_000 * WAD        # dust threshold 100,000: every small account is dust
    p = deploy_local(registry_kwargs={"params": params})
    ids = mk.list_chain(p, [40_000, 44_000], p.registry.expiries()[:1])
    mk.fund_lp(p, actors.lp, 2_000_000)
    mk.fund(p, actors.writer, 60_000)
    env = type("E", (), {"p": p, "m": p.market, "ids": ids})()
    p.market.trade(ids[2], -WAD, 0, mk.deadline(), sender=actors.writer)        # short 44,000 call
    _write_to(env, actors.writer, ids[0])                                        # short 40,000 calls
    _walk_until_liquidatable(env, actors.writer)
    pool_before = {s: p.market.position(p.market.address, s) for s in ids}
    held = {s: p.market.position(actors.writer, s) for s in ids}
    p.market.liquidate(actors.writer, ids[0], 1, sender=actors.keeper)          # size 1 wei: ignored
    (ev,) = _events(p.market, "Liquidation")
    assert ev.full and ev.maintenance_after == 0
    assert list(p.market.open_series(actors.writer)) == []
    for s in ids:
        assert p.market.position(p.market.address, s) == pool_before[s] + held[s]


def test_liquidate__long_only_on_borrowed_cash__full_and_bad_debt_socialized(actors):
    """A deep in-the-money call bought partly on credit (negative collateral): a crash makes the account
    liquidatable with no short; it is closed in full, and its deficit goes to insurance then the pool."""
    p = deploy_local()
    ids = mk.list_chain(p, [20_000], p.registry.expiries()[:1], kinds=(True,))
    mk.fund_lp(p, actors.lp, 1_000_000)
    mk.fund(p, actors.trader, 19_000)
    p.market.trade(ids[0], WAD, 2**255, mk.deadline(), sender=actors.trader)
    assert p.market.collateral(actors.trader) < 0
    p.collateral.mint(actors.outsider, 10**6)
    p.collateral.approve(p.market.address, 2**256 - 1, sender=actors.outsider)
    p.market.fund_insurance(10**6, sender=actors.outsider)          # 1 tUSDC of insurance
    set_spot(p, 20_500)
    v = p.market.account_value(actors.trader)
    assert v < 0
    pool_cash = p.market.collateral(p.market.address)
    cash = p.market.collateral(actors.trader)
    reward = p.market.liquidate(actors.trader, ids[0], WAD, sender=actors.keeper)
    (bd,) = _events(p.market, "BadDebt")
    assert reward == 0                                               # nothing left to pay a penalty from
    assert bd.deficit == -v                                          # closing at mark is value-neutral
    assert bd.from_insurance == WAD and p.market.insurance_fund() == 0
    assert bd.socialized == bd.deficit - WAD
    assert p.market.collateral(actors.trader) == 0
    # the pool paid the account the mark value of its call (v - cash) and absorbed the socialized part
    assert p.market.collateral(p.market.address) == pool_cash - (v - cash) - bd.socialized
    assert p.market.position(p.market.address, ids[0]) == 0          # it had written the call: now flat


def test_liquidate__unconfirmed_jump__mildly_unhealthy_account_is_not_liquidated(env):
    """A spike is not trusted until the oracle confirms it: the account is valued at the last accepted price,
    where it is only mildly unhealthy, so the keeper gets the oracle's reason."""
    w = env.a.writer
    _write_to(env, w, env.ids[2])
    spot = _walk_until_liquidatable(env, w)
    _, value, _, mm = env.m.account_state(w)
    assert 2 * value >= mm, "mildly unhealthy for this test"
    jump_feed(env.p, spot * 1.2)
    with boa.reverts("oracle: price jump too large"):
        env.m.liquidate(w, env.ids[2], WAD, sender=env.a.keeper)


def test_liquidate__stale_oracle_and_clearly_unhealthy__goes_through(env):
    w = env.a.writer
    _write_to(env, w, env.ids[2])
    spot = 40_000
    while True:
        spot += 1000
        set_spot(env.p, spot)
        _, value, _, mm = env.m.account_state(w)
        if 2 * value < mm:
            break
    boa.env.time_travel(seconds=env.p.registry.oracle_heartbeat() + 1)
    assert not env.p.oracle.peek()[1]
    env.m.liquidate(w, env.ids[2], 100 * WAD, sender=env.a.keeper)


def test_liquidate__paused__still_works(env):
    w = env.a.writer
    n = _write_to(env, w, env.ids[2])
    _walk_until_liquidatable(env, w)
    env.p.registry.pause(sender=env.p.guardian)
    env.m.liquidate(w, env.ids[2], n * WAD, sender=env.a.keeper)


def test_liquidate__reward__bounded_by_share_of_penalty_of_released_margin(env):
    w = env.a.writer
    n = _write_to(env, w, env.ids[2])
    _walk_until_liquidatable(env, w)
    reward = env.m.liquidate(w, env.ids[2], n * WAD, sender=env.a.keeper)
    (ev,) = _events(env.m, "Liquidation")
    pr, share = env.p.registry.liquidation_penalty(), env.p.registry.liquidator_share()
    released = ev.maintenance_before - ev.maintenance_after
    assert ev.penalty <= released * pr // WAD
    assert reward <= ev.penalty * share // WAD
    assert ev.penalty <= max(ev.value, 0)
