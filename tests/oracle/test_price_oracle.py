"""PriceOracle: acceptance rules, jump circuit breaker and recovery, scaling, limits from the registry."""
import boa
import pytest

from reference import oracle as ref
from vyopt import risk

from .helpers import WAD, events, now, set_answer

HEARTBEAT = 3600
P0 = 40_000 * 10**8


def test_update__first_price__accepted_and_recorded(oracle, feed):
    price, ok = oracle.update()
    (ev,) = events(oracle, "PriceAccepted")
    assert (price, ok) == (40_000 * WAD, True)
    assert (ev.price, ev.round_id, ev.after_jump) == (40_000 * WAD, feed.round_id(), False)
    assert (oracle.last_price(), oracle.last_round_id(), oracle.last_updated_at()) == (40_000 * WAD, feed.round_id(), feed.updated_at())
    assert oracle.price_for_risk_increase() == 40_000 * WAD
    assert oracle.peek() == (40_000 * WAD, True, ref.OK)


def test_update__move_within_max_deviation__accepted(oracle, feed):
    oracle.update()
    set_answer(feed, 44_000 * 10**8)          # +10% exactly: the bound is inclusive
    assert oracle.update() == (44_000 * WAD, True)
    set_answer(feed, 39_600 * 10**8)          # -10% of 44,000
    assert oracle.update() == (39_600 * WAD, True)


def test_update__jump_beyond_max_deviation__refused_for_risk_increase_but_reported(oracle, feed):
    oracle.update()
    set_answer(feed, 44_000 * 10**8 + 1)      # +10% and one feed unit
    price, ok = oracle.update()
    (rej,) = events(oracle, "PriceRejected")
    (cand,) = events(oracle, "JumpCandidate")
    assert (price, ok) == (44_000 * WAD + 10**10, False)          # the fresh price, for closing actions
    assert rej.status == ref.JUMP and cand.price == price
    assert oracle.last_price() == 40_000 * WAD                    # not recorded
    assert (oracle.candidate_price(), oracle.candidate_since()) == (price, now())
    with boa.reverts("oracle: price jump too large"):
        oracle.price_for_risk_increase()


def test_jump__persisting_for_the_cooldown__accepted(oracle, feed, registry):
    oracle.update()
    set_answer(feed, 30_000 * 10**8)          # -25%
    assert oracle.update()[1] is False
    since = oracle.candidate_since()
    boa.env.time_travel(seconds=registry.oracle_jump_cooldown() - 1)
    set_answer(feed, 30_500 * 10**8)          # within 10% of the candidate, cooldown not over
    assert oracle.update() == (30_500 * WAD, False)
    assert oracle.candidate_since() == since   # same band: the candidate is kept
    boa.env.time_travel(seconds=1)
    set_answer(feed, 30_500 * 10**8)
    assert oracle.update() == (30_500 * WAD, True)
    (ev,) = events(oracle, "PriceAccepted")
    assert ev.after_jump is True
    assert (oracle.last_price(), oracle.candidate_price(), oracle.candidate_since()) == (30_500 * WAD, 0, 0)


def test_jump__glitch_that_returns__never_accepted_and_candidate_restarts(oracle, feed, registry):
    oracle.update()
    set_answer(feed, 60_000 * 10**8)          # glitch up
    oracle.update()
    boa.env.time_travel(seconds=600)
    set_answer(feed, 20_000 * 10**8)          # glitch down: leaves the candidate's band
    assert oracle.update()[1] is False
    assert (oracle.candidate_price(), oracle.candidate_since()) == (20_000 * WAD, now())
    boa.env.time_travel(seconds=registry.oracle_jump_cooldown() - 600)
    set_answer(feed, 20_000 * 10**8)
    assert oracle.update()[1] is False        # the 60k candidate's cooldown would be over; 20k's is not
    set_answer(feed, 40_100 * 10**8)          # back near the last accepted price
    assert oracle.update() == (40_100 * WAD, True)


@pytest.mark.parametrize("age,ok", [(HEARTBEAT, True), (HEARTBEAT + 1, False)])
def test_update__heartbeat__inclusive_bound(oracle, feed, age, ok):
    boa.env.time_travel(seconds=2 * HEARTBEAT)
    set_answer(feed, P0, age=age)
    price, got = oracle.update()
    assert got is ok
    if not ok:
        (ev,) = events(oracle, "PriceRejected")
        assert ev.status == ref.STALE
        assert price == 0                     # nothing accepted yet: the market must not value


def test_update__failure_after_acceptance__returns_last_accepted(oracle, feed):
    oracle.update()
    boa.env.time_travel(seconds=HEARTBEAT + 1)
    assert oracle.update() == (40_000 * WAD, False)
    with boa.reverts("oracle: stale price"):
        oracle.price_for_risk_increase()


@pytest.mark.parametrize("round_data,status", [
    ((5, P0, 0, 0, 5), ref.INCOMPLETE_ROUND),              # updatedAt 0
    ((5, P0, 1, 1, 4), ref.INCOMPLETE_ROUND),              # answeredInRound < roundId
    ((5, 0, 1, 1, 5), ref.NON_POSITIVE),
    ((5, -1, 1, 1, 5), ref.NON_POSITIVE),
    ((5, 10**28 + 1, 1, 1, 5), ref.OUT_OF_RANGE),          # > 1e36 WAD at 8 decimals
])
def test_update__bad_round__refused_with_status(oracle, feed, round_data, status):
    rid, ans, started, updated, answered = round_data
    t = now()
    feed.set_round_data(rid, ans, started and t, updated and t, answered)
    assert oracle.update() == (0, False)
    (ev,) = events(oracle, "PriceRejected")
    assert ev.status == status
    with boa.reverts(ref.REASONS[status]):
        oracle.price_for_risk_increase()
    assert oracle.peek()[1:] == (False, status)


def test_update__timestamp_in_future__refused(oracle, feed):
    t = now() + 60
    feed.set_round_data(7, P0, t, t, 7)
    assert oracle.peek() == (0, False, ref.FUTURE_TIMESTAMP)
    with boa.reverts("oracle: timestamp in the future"):
        oracle.price_for_risk_increase()


def test_update__older_round_than_accepted__refused(oracle, feed):
    oracle.update()
    t = oracle.last_updated_at() - 1
    feed.set_round_data(feed.round_id() + 1, P0, t, t, feed.round_id() + 1)
    assert oracle.update() == (40_000 * WAD, False)
    (ev,) = events(oracle, "PriceRejected")
    assert ev.status == ref.OUT_OF_ORDER


def test_update__decimals_changed__refused(oracle, feed):
    oracle.update()
    feed.set_decimals(18)
    assert oracle.peek() == (40_000 * WAD, False, ref.DECIMALS_CHANGED)
    with boa.reverts("oracle: decimals changed"):
        oracle.price_for_risk_increase()


@pytest.mark.parametrize("decimals", [0, 6, 8, 18, 24, 36])
def test_scaling__any_decimals__exact_wad(registry, decimals):
    answer = 40_123 * 10**decimals + 7 * 10 ** max(decimals - 3, 0)
    feed = risk.deploy_mock_feed(decimals, answer)
    oracle = risk.deploy_oracle(feed, registry)
    assert oracle.feed_decimals() == decimals
    price, ok = oracle.update()
    assert ok and price == ref.scale_to_wad(answer, decimals)


def test_scaling__36_decimals_dust__out_of_range(registry):
    feed = risk.deploy_mock_feed(36, 10**17)              # 1e-19 units: 0 in WAD
    oracle = risk.deploy_oracle(feed, registry)
    assert oracle.peek() == (0, False, ref.OUT_OF_RANGE)


def test_constructor__unsupported_decimals__reverts(registry):
    feed = risk.deploy_mock_feed(37, 10**40)
    with boa.reverts("oracle: unsupported decimals"):
        risk.deploy_oracle(feed, registry)


def test_constructor__feed_or_registry_not_a_contract__reverts(registry, feed):
    eoa = boa.env.generate_address("eoa")
    with boa.reverts("oracle: feed is not a contract"):
        risk.deploy_oracle(eoa, registry)
    with boa.reverts("oracle: registry is not a contract"):
        risk.deploy_oracle(feed, eoa)


def test_limits__come_from_the_registry_time_lock(oracle, feed, registry, risk_manager, keeper):
    """A longer heartbeat queued in the registry applies to the oracle only once executed."""
    oracle.update()
    cid = registry.queue_param(8, 5400, risk.reason_hash("feed heartbeat review"), sender=risk_manager)
    boa.env.time_travel(seconds=registry.change(cid).eta - now())
    set_answer(feed, P0, age=4000)            # older than 1h, younger than 1.5h
    assert oracle.peek()[2] == ref.STALE
    registry.execute(cid, sender=keeper)
    assert oracle.peek() == (40_000 * WAD, True, ref.OK)


def test_peek__matches_update_without_recording(oracle, feed):
    oracle.update()
    set_answer(feed, 50_000 * 10**8)
    before = (oracle.last_price(), oracle.candidate_price())
    peeked = oracle.peek()
    assert (oracle.last_price(), oracle.candidate_price()) == before
    price, ok = oracle.update()
    assert peeked == (price, ok, ref.JUMP)


def test_mock_feed__is_chainlink_compatible(feed):
    assert feed.decimals() == 8 and feed.version() == 4
    rid, ans, started, updated, answered = feed.latestRoundData()
    assert (ans, answered) == (P0, rid)
    assert feed.getRoundData(rid) == (rid, ans, started, updated, answered)
    with boa.reverts("mock: no data for round"):
        feed.getRoundData(rid + 1)
