"""A malicious or broken feed: reverting, burning gas, returning garbage, stale, negative, wrong decimals.
update() never reverts (closing actions must keep working) and never accepts such a price."""
import boa
import pytest

from reference import oracle as ref
from vyopt import risk
from vyopt.contracts import deployer

from .helpers import WAD, events, now

MODE_RETURN, MODE_REVERT, MODE_BURN = 0, 1, 2


@pytest.fixture
def bad_feed():
    f = deployer("testing/MaliciousAggregator").deploy(8)
    t = now()
    f.set_words(1, 40_000 * 10**8, t, t, 1)
    return f


@pytest.fixture
def bad_oracle(bad_feed, registry):
    o = risk.deploy_oracle(bad_feed, registry)
    assert o.update() == (40_000 * WAD, True)     # an honest first answer, then the feed turns
    return o


def _rejected_with(oracle, status):
    price, ok = oracle.update()
    (ev,) = events(oracle, "PriceRejected")
    assert ev.status == status and ok is False
    assert oracle.last_price() == 40_000 * WAD
    with boa.reverts(ref.REASONS[status]):
        oracle.price_for_risk_increase()
    return price


def test_feed_reverts__update_survives_and_refuses(bad_oracle, bad_feed):
    bad_feed.set_mode(MODE_REVERT, 0)
    assert _rejected_with(bad_oracle, ref.FEED_CALL_FAILED) == 40_000 * WAD


def test_feed_burns_gas__call_capped_and_refused(bad_oracle, bad_feed):
    bad_feed.set_mode(MODE_BURN, 0)
    assert _rejected_with(bad_oracle, ref.FEED_CALL_FAILED) == 40_000 * WAD
    bad_oracle.update()
    # the feed call is capped at 200k gas: the whole update stays far below a block's worth
    assert bad_oracle._computation.get_gas_used() < 300_000


def test_feed_returns_nothing__refused(registry):
    empty = deployer("testing/EmptyReturnAggregator").deploy()
    oracle = risk.deploy_oracle(empty, registry)
    assert oracle.update() == (0, False)
    (ev,) = events(oracle, "PriceRejected")
    assert ev.status == ref.FEED_CALL_FAILED


@pytest.mark.parametrize("words", [
    (2**80, 40_000 * 10**8, 1, 1, 2**80),          # round id does not fit uint80
    (1, 40_000 * 10**8, 1, 1, 2**256 - 1),        # answeredInRound garbage
])
def test_feed_garbage_round_ids__refused(bad_oracle, bad_feed, words):
    t = now()
    rid, ans, _, _, answered = words
    bad_feed.set_words(rid, ans, t, t, answered)
    _rejected_with(bad_oracle, ref.FEED_CALL_FAILED)


@pytest.mark.parametrize("answer,status", [(-1, ref.NON_POSITIVE), (-2**255, ref.NON_POSITIVE),
                                           (0, ref.NON_POSITIVE), (2**255 - 1, ref.OUT_OF_RANGE)])
def test_feed_negative_or_huge__refused(bad_oracle, bad_feed, answer, status):
    t = now()
    bad_feed.set_words(2, answer, t, t, 2)
    _rejected_with(bad_oracle, status)


def test_feed_stale__refused(bad_oracle, bad_feed, registry):
    t = now()
    bad_feed.set_words(2, 40_000 * 10**8, t, t, 2)
    boa.env.time_travel(seconds=registry.oracle_heartbeat() + 1)
    _rejected_with(bad_oracle, ref.STALE)


@pytest.mark.parametrize("decimals_mode,word,status", [(1, 8, ref.FEED_CALL_FAILED), (0, 18, ref.DECIMALS_CHANGED),
                                                       (0, 2**256 - 1, ref.DECIMALS_CHANGED)])
def test_feed_decimals_misbehave__refused(bad_oracle, bad_feed, decimals_mode, word, status):
    bad_feed.set_decimals_word(word)
    bad_feed.set_mode(MODE_RETURN, decimals_mode)
    _rejected_with(bad_oracle, status)


def test_constructor__feed_with_reverting_or_absurd_decimals__reverts(registry):
    f = deployer("testing/MaliciousAggregator").deploy(8)
    f.set_mode(MODE_RETURN, 1)
    with boa.reverts("oracle: feed call failed"):
        risk.deploy_oracle(f, registry)
    f.set_mode(MODE_RETURN, 0)
    f.set_decimals_word(2**200)
    with boa.reverts("oracle: unsupported decimals"):
        risk.deploy_oracle(f, registry)
