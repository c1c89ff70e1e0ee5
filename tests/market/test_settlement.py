"""settle_expiry / settle_account: the settlement price is the feed's first round stamped at or after expiry,
proven from the round before it (PriceOracle.settlement_round), recorded by anyone within the window; later
only by the guardian or admin, who record the same round (or the next one its successor confirms) without its
heartbeat and jump checks, and fall back to the price accepted now only when the feed's history proves no such
round; payoffs exactly intrinsic value rounded for the protocol."""
import boa

from reference import market as ref
from vyopt import market as mk

from .helpers import WAD, buy, now, sell


def _settled(env):
    """The one ExpirySettled event of the market's last call."""
    (ev,) = [x for x in env.m.get_logs() if type(x).__name__ == "ExpirySettled"]
    return ev


def _to_expiry(env, i=0, after=60, price=None):
    e = env.p.registry.expiries()[i]
    boa.env.time_travel(seconds=e - now() + after)
    if price is not None:
        env.p.feed.set_answer(int(price * 10**8))
    else:
        env.p.feed.set_answer(env.p.feed.answer())
    return e


def test_settle_expiry__before_expiry__reverts(env):
    e = env.p.registry.expiries()[0]
    with boa.reverts("market: not expired"):
        env.m.settle_expiry(e, sender=env.a.keeper)


def test_settle_expiry__unknown_expiry__reverts(env):
    with boa.reverts("market: no series for expiry"):
        env.m.settle_expiry(12345, sender=env.a.keeper)


def test_settle_expiry__fresh_price__recorded_once(env):
    e = _to_expiry(env, price=41_000)
    price = env.m.settle_expiry(e, sender=env.a.keeper)
    ev = _settled(env)
    assert price == 41_000 * WAD == env.m.settlement_price(e)
    assert ev.expiry == e and ev.price == price and not ev.late
    with boa.reverts("market: already settled"):
        env.m.settle_expiry(e, sender=env.a.keeper)


def test_settle_expiry__no_round_since_expiry__refused_with_oracle_reason(env):
    e = env.p.registry.expiries()[0]
    boa.env.time_travel(seconds=e - now() + 60)     # the feed was last updated long before expiry
    with boa.reverts("oracle: no round since t"):
        env.m.settle_expiry(e, sender=env.a.keeper)


def test_settle_expiry__price_stamped_before_expiry__refused(env):
    e = env.p.registry.expiries()[0]
    boa.env.time_travel(seconds=e - now() - 600)
    env.p.feed.set_answer(env.p.feed.answer())      # fresh, but stamped 10 minutes before expiry
    boa.env.time_travel(seconds=1200)
    with boa.reverts("oracle: no round since t"):
        env.m.settle_expiry(e, sender=env.a.keeper)


def test_settle_expiry__jump_from_the_round_before_expiry__refused_with_oracle_reason(env):
    e = _to_expiry(env, price=20_000)
    with boa.reverts("oracle: price jump too large"):
        env.m.settle_expiry(e, sender=env.a.keeper)


def test_settle_expiry__after_window__guardian_only(env):
    e = _to_expiry(env, after=3601)
    r = env.p.feed.round_id()
    boa.env.time_travel(seconds=60)
    env.p.feed.set_answer(env.p.feed.answer())              # its successor confirms it
    with boa.reverts("market: settlement window closed"):
        env.m.settle_expiry(e, sender=env.a.keeper)
    env.m.settle_expiry(e, sender=env.p.guardian)
    ev = _settled(env)
    # the first round came more than a heartbeat late: recorded without that check once confirmed, flagged
    assert ev.late and ev.unchecked and not ev.fallback and ev.round_id == r
    assert ev.price_time == e + 3601


def test_settle_expiry__later_rounds__do_not_change_the_recorded_price(env):
    e = _to_expiry(env, after=30, price=40_400)
    for px in (40_800, 41_200, 40_900):                     # three more accepted rounds inside the window
        boa.env.time_travel(seconds=600)
        env.p.feed.set_answer(px * 10**8)
    assert env.m.settle_expiry(e, sender=env.a.keeper) == 40_400 * WAD
    ev = _settled(env)
    assert ev.price_time == e + 30


def test_settle_expiry__glitch_round_just_before_expiry__refused_in_window_guardian_records_it_unchecked(env):
    """The round before expiry printed 60,000 (rejected by the oracle); the first round after it, 40,100, is
    not within the max deviation of its predecessor: nobody can prove it in the window.  After the window the
    guardian records that same round, 40,100, without the jump check (flagged unchecked), not the price the
    oracle accepts when the guardian calls (40,300)."""
    e = env.p.registry.expiries()[0]
    boa.env.time_travel(seconds=e - now() - 60)
    env.p.feed.set_answer(40_000 * 10**8)
    env.p.oracle.update()
    boa.env.time_travel(seconds=30)
    env.p.feed.set_answer(60_000 * 10**8)
    e = _to_expiry(env, after=60, price=40_100)
    r = env.p.feed.round_id()
    with boa.reverts("oracle: price jump too large"):
        env.m.settle_expiry(e, sender=env.a.keeper)
    boa.env.time_travel(seconds=3_600)
    env.p.feed.set_answer(40_300 * 10**8)
    with boa.reverts("market: settlement window closed"):
        env.m.settle_expiry(e, sender=env.a.keeper)
    assert env.m.settle_expiry(e, sender=env.p.guardian) == 40_100 * WAD
    ev = _settled(env)
    assert ev.late and ev.unchecked and not ev.fallback and ev.price_time == e + 60 and ev.round_id == r


def test_settle_expiry__crash_across_expiry__guardian_records_the_crash_round_not_a_later_price(env):
    """A real crash: -30% between the round before expiry and the first after it, then the feed recovers.
    In the window the jump is refused; the guardian's late record is the crash round whenever it calls."""
    e = _to_expiry(env, after=60, price=28_000)
    r = env.p.feed.round_id()
    with boa.reverts("oracle: price jump too large"):
        env.m.settle_expiry(e, sender=env.a.keeper)
    for px in (29_000, 30_500, 32_000, 33_500):               # a recovery, every round accepted in steps
        boa.env.time_travel(seconds=3_000)
        env.p.feed.set_answer(px * 10**8)
    boa.env.time_travel(seconds=20 * 3_600)
    env.p.feed.set_answer(33_500 * 10**8)
    assert env.m.settle_expiry(e, sender=env.p.guardian) == 28_000 * WAD
    ev = _settled(env)
    assert ev.unchecked and not ev.fallback and ev.round_id == r


def test_settle_expiry__one_round_glitch_after_expiry__guardian_records_the_round_that_persisted(env):
    """Found by the review of the F13 fix: the first round after expiry prints 4,000, every later one ~40,000.
    In the window the jump is refused; late, the glitch is passed over (its successor does not confirm it) and
    the next round, confirmed by the one after it, is recorded."""
    e = _to_expiry(env, after=60, price=4_000)
    with boa.reverts("oracle: price jump too large"):
        env.m.settle_expiry(e, sender=env.a.keeper)
    boa.env.time_travel(seconds=60)
    env.p.feed.set_answer(40_000 * 10**8)
    r = env.p.feed.round_id()
    for _ in range(3):
        boa.env.time_travel(seconds=1_800)
        env.p.feed.set_answer(40_100 * 10**8)
    assert env.m.settle_expiry(e, sender=env.p.guardian) == 40_000 * WAD
    ev = _settled(env)
    assert ev.unchecked and not ev.fallback and ev.round_id == r and ev.price_time == e + 120


def test_settle_expiry__guardian_gas_limit__never_changes_the_recorded_price(env):
    """Found by the review of the F13 fix: a guardian who chooses the gas limit could starve the proof calls and
    take the accepted-price fallback.  A starved oracle now reverts without a reason, which the market refuses
    as a proof: every gas limit either reverts or records the same round with the same flags."""
    e = _to_expiry(env, after=60, price=28_000)                # a crash round: unchecked late
    boa.env.time_travel(seconds=60)
    env.p.feed.set_answer(28_100 * 10**8)
    boa.env.time_travel(seconds=3_600)
    env.p.feed.set_answer(30_000 * 10**8)
    seen = set()
    for gas in range(150_000, 1_200_000, 23_456):
        with boa.env.anchor():
            try:
                env.m.settle_expiry(e, sender=env.p.guardian, gas=gas)
            except boa.BoaError:
                continue
            ev = _settled(env)
            seen.add((ev.price, ev.round_id, ev.unchecked, ev.fallback))
    assert seen == {(28_000 * WAD, env.p.feed.round_id() - 2, True, False)}, seen


def test_settle_expiry__phase_change_right_after_expiry__guardian_falls_back_to_the_accepted_price(env):
    """The proxy moved to a new aggregator phase whose first round is after expiry: no round can be proven
    (its predecessor is in the old phase).  In the window this is refused; the guardian falls back to the
    price the oracle accepts at the call, flagged fallback with round id 0."""
    e = _to_expiry(env, after=0)
    boa.env.time_travel(seconds=60)
    t = now()
    env.p.feed.set_round_data((2 << 64) | 1, 40_200 * 10**8, t, t, (2 << 64) | 1)
    with boa.reverts("oracle: round history unavailable"):
        env.m.settle_expiry(e, sender=env.a.keeper)
    boa.env.time_travel(seconds=3_600)
    t = now()
    env.p.feed.set_round_data((2 << 64) | 2, 40_400 * 10**8, t, t, (2 << 64) | 2)
    assert env.m.settle_expiry(e, sender=env.p.guardian) == 40_400 * WAD
    ev = _settled(env)
    assert ev.late and ev.fallback and not ev.unchecked and ev.round_id == 0 and ev.price_time == t


def test_settle_expiry__late_with_a_provable_round__guardian_records_the_proven_round(env):
    e = _to_expiry(env, after=60, price=40_200)
    boa.env.time_travel(seconds=3_600)
    env.p.feed.set_answer(40_900 * 10**8)
    assert env.m.settle_expiry(e, sender=env.p.guardian) == 40_200 * WAD
    ev = _settled(env)
    assert ev.late and not ev.fallback and ev.price_time == e + 60 and ev.round_id == env.p.feed.round_id() - 1


def test_settle_expiry__feed_stopped_after_the_settlement_round__still_settles_at_it(env):
    """The feed posts its first round after expiry (40,100) and then stops: the oracle's current price is stale
    for good, but the proven round needs no good price now."""
    e = _to_expiry(env, after=60, price=40_100)
    boa.env.time_travel(seconds=4 * 3600)
    assert env.p.oracle.peek()[2] == 7                      # stale
    assert env.m.settle_expiry(e, sender=env.p.guardian) == 40_100 * WAD
    ev = _settled(env)
    assert not ev.fallback and ev.round_id == env.p.feed.round_id()


def test_settle_expiry__jumped_current_price__does_not_block_a_proven_round(env):
    e = _to_expiry(env, after=60, price=40_100)
    boa.env.time_travel(seconds=60)
    env.p.feed.set_answer(60_000 * 10**8)                   # an unconfirmed jump after the settlement round
    assert env.m.settle_expiry(e, sender=env.a.keeper) == 40_100 * WAD


def test_settle_expiry__hundreds_of_rounds_since_expiry__settles_at_the_first(env):
    """200 rounds after the first one past expiry: the search has no reach limit (it gallops back then
    bisects), so anyone in the window records the first."""
    e = _to_expiry(env, after=1, price=40_050)
    r = env.p.feed.round_id()
    for k in range(200):
        boa.env.time_travel(seconds=10)
        env.p.feed.set_answer((40_000 + k) * 10**8)
    assert env.m.settle_expiry(e, sender=env.a.keeper) == 40_050 * WAD
    ev = _settled(env)
    assert ev.round_id == r and not ev.late and not ev.unchecked and not ev.fallback


def test_settle_account__pays_exactly_intrinsic_rounded_for_the_protocol(env):
    t, w = env.a.trader, env.a.writer
    call_40k, put_44k = env.ids[2], env.ids[5]
    buy(env, t, call_40k, 1.234567)
    sell(env, w, put_44k, 0.777777)
    e = _to_expiry(env, price=41_234.5678)
    sp = env.m.settle_expiry(e, sender=env.a.keeper)
    cash_t, cash_w, pool = env.m.collateral(t), env.m.collateral(w), env.m.collateral(env.m.address)
    # views already count the recorded settlement before the accounts are touched
    assert env.m.account_value(t) == cash_t + (int(1.234567 * WAD) * (sp - 40_000 * WAD)) // WAD
    assert env.m.settle_account(t, sender=env.a.keeper) == 1
    assert env.m.settle_account(w, sender=env.a.keeper) == 1
    long_payoff = int(1.234567 * WAD) * (sp - 40_000 * WAD) // WAD               # rounded down
    short_payoff = -((int(0.777777 * WAD) * (44_000 * WAD - sp) + WAD - 1) // WAD)  # rounded up in size
    assert env.m.collateral(t) == cash_t + long_payoff
    assert env.m.collateral(w) == cash_w + short_payoff
    assert env.m.collateral(env.m.address) == pool - long_payoff - short_payoff
    for who in (t, w, env.m.address):
        assert list(env.m.open_series(who)) == []
    assert env.m.open_interest(call_40k) == 0 and env.m.open_interest(put_44k) == 0
    want = ref.settlement_payoff(1.234567, env.table[call_40k], sp / WAD)
    assert abs(long_payoff / WAD - want) <= 1e-12 * want


def test_settle_account__before_price__settles_nothing_and_value_uses_spot(env):
    t = env.a.trader
    buy(env, t, env.ids[2], 1)
    _to_expiry(env, price=42_000)
    assert env.m.settle_account(t, sender=env.a.keeper) == 0
    assert env.m.position(t, env.ids[2]) == WAD
    cash = env.m.collateral(t)
    assert env.m.account_value(t) == cash + 2_000 * WAD


def test_trade__after_settlement__settles_the_traders_expired_positions_first(env):
    t = env.a.trader
    buy(env, t, env.ids[2], 1)
    e = _to_expiry(env, price=40_500)
    env.m.settle_expiry(e, sender=env.a.keeper)
    cash = env.m.collateral(t)
    paid = env.m.trade(env.ids[8], WAD, 2**255, mk.deadline(), sender=t)      # a 14-day series
    assert env.m.position(t, env.ids[2]) == 0
    assert env.m.collateral(t) == cash + 500 * WAD - paid


def test_settle_account__short_in_the_money_beyond_collateral__bad_debt_covered(env):
    w = env.a.writer
    ids = [env.ids[3]]       # 40,000 put, first expiry
    n = 0
    while True:   # write 40,000 puts up to the initial margin
        try:
            sell(env, w, ids[0], 2)
            n += 2
        except boa.BoaError:
            break
    e = env.p.registry.expiries()[0]
    # a slow fall over the week the keeper never acts on: at expiry the puts are deep in the money
    price = 40_000
    while now() < e:
        boa.env.time_travel(seconds=min(3000, e - now() + 1))
        price *= 0.93
        env.p.feed.set_answer(int(price * 10**8))
        env.p.oracle.update()
        if price < 10_000:
            break
    boa.env.time_travel(seconds=max(e - now(), 0) + 60)
    env.p.feed.set_answer(int(price * 10**8))
    env.m.settle_expiry(e, sender=env.a.keeper)
    deficit = -(env.m.collateral(w) + (n * WAD * -(40_000 * WAD - env.m.settlement_price(e))) // WAD)
    assert deficit > 0
    ins = env.m.insurance_fund()
    pool = env.m.collateral(env.m.address)
    env.m.settle_account(w, sender=env.a.keeper)
    (bd,) = [x for x in env.m.get_logs() if type(x).__name__ == "BadDebt"]
    assert bd.deficit == deficit and bd.from_insurance == min(ins, deficit)
    assert env.m.collateral(w) == 0
    assert env.m.collateral(env.m.address) == pool + (n * WAD * (40_000 * WAD - env.m.settlement_price(e)) + WAD - 1) // WAD - bd.socialized
