"""PriceOracle.settlement_round against reference.oracle.settlement_round: random feed histories (gaps in the
round ids, garbage and incomplete rounds, time gaps around the heartbeat, runs longer than the walk bound)
and a time t anywhere in them; then each revert reason on a hand-built history."""
import boa
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from reference import oracle as ref

from .helpers import WAD, limits, now

DECIMALS = 8
BASE = 40_000 * 10**DECIMALS


@st.composite
def history(draw):
    """Rounds to append after the feed's current one: (id gap, seconds after the previous, relative move,
    garbage answer or None, incomplete)."""
    n = draw(st.integers(1, 60))
    rounds = []
    for _ in range(n):
        rounds.append((
            draw(st.sampled_from([1] * 199 + [2])),                    # a skipped id stands for a phase change
            draw(st.sampled_from([0, 1, 30, 600, 1800, 3600, 5000])),
            draw(st.sampled_from([0.0, 0.004, -0.004, 0.03, -0.03] * 4 + [0.15, -0.15])),
            draw(st.sampled_from([None] * 150 + [0, -5])),
            draw(st.integers(0, 150)) == 0,
        ))
    return rounds


def _write(feed, rounds, start):
    """Append `rounds` to the feed from time `start`; returns {id: ref.Round} of everything readable and the
    latest round."""
    hist = {}
    rid, ans0 = feed.latestRoundData()[0], feed.latestRoundData()[1]
    r0 = feed.getRoundData(rid)
    hist[rid] = ref.Round(*r0)
    t, answer = start, ans0
    for gap, dt, move, garbage, incomplete in rounds:
        rid += gap
        t += dt
        answer = max(1, int(answer * (1 + move)))
        a = answer if garbage is None else garbage
        answered = rid - 1 if incomplete else rid
        feed.set_round_data(rid, a, t, t, answered)
        hist[rid] = ref.Round(rid, a, t, t, answered)
    return hist, hist[rid]


@given(rounds=history(), where=st.one_of(st.floats(0, 1), st.sampled_from([-1.0, 2.0])),
       shift=st.sampled_from([(0, 0), (0, 1), (0, -1), (-1, 0), (-1, -1), (-1, 1)]), wait=st.sampled_from([0, 10, 4000]))
def test_settlement_round__random_history__matches_reference(feed, oracle, registry, rounds, where, shift, wait):
    with boa.env.anchor():
        start = now()
        hist, latest = _write(feed, rounds, start)
        stamps = sorted(r.updated_at for r in hist.values())
        if where < 0:                                     # before the whole history
            t = stamps[0] - 100
        elif where > 1:                                   # after it
            t = stamps[-1] + 1
        else:        # at, a second either side of, or a heartbeat (+-1 s) before one of its stamps
            heartbeats, seconds = shift
            t = stamps[min(int(where * len(stamps)), len(stamps) - 1)] + heartbeats * registry.oracle_heartbeat() + seconds
        boa.env.time_travel(seconds=max(0, latest.updated_at - now()) + wait)
        want, price, updated, rid = ref.settlement_round(hist, latest, t, now(), limits(registry), DECIMALS)
        event(f"{want or 'ok'}")
        if want is None:
            assert oracle.settlement_round(t) == (price, updated, rid)
        else:
            with boa.reverts(want):
                oracle.settlement_round(t)


# ---------------------------------------------------------------------------------------------------------
# each rule on a hand-built history


@pytest.fixture
def clean(feed):
    with boa.env.anchor():
        yield feed


def _round(feed, answer, at, rid=None, complete=True):
    rid = rid if rid is not None else feed.round_id() + 1
    feed.set_round_data(rid, answer, at, at, rid if complete else rid - 1)
    return rid


def test_settlement_round__first_round_at_or_after_t__whatever_came_later(clean, oracle):
    feed, t0 = clean, now()
    _round(feed, BASE, t0 + 100)
    r = _round(feed, 40_100 * 10**8, t0 + 200)          # the first round at or after t
    _round(feed, 41_000 * 10**8, t0 + 300)
    _round(feed, 42_000 * 10**8, t0 + 400)
    boa.env.time_travel(seconds=500)
    assert oracle.settlement_round(t0 + 150) == (40_100 * WAD, t0 + 200, r)
    assert oracle.settlement_round(t0 + 200) == (40_100 * WAD, t0 + 200, r)     # stamped exactly at t counts


def test_settlement_round__reverts_name_the_rule(clean, oracle, registry):
    feed, t0 = clean, now()
    hb = registry.oracle_heartbeat()
    boa.env.time_travel(seconds=10)
    with boa.reverts("oracle: no round since t"):
        oracle.settlement_round(now())
    with boa.env.anchor():                                # a skipped round id: the predecessor is unreadable
        _round(feed, BASE, t0 + 20, rid=feed.round_id() + 2)
        boa.env.time_travel(seconds=30)
        with boa.reverts("oracle: round history unavailable"):
            oracle.settlement_round(t0 + 15)
    with boa.env.anchor():                                # 48 reads back are all at or after t
        for k in range(ref.MAX_ROUND_WALK + 1):
            _round(feed, BASE, t0 + 20 + k)
        boa.env.time_travel(seconds=100)
        with boa.reverts("oracle: settlement round out of reach"):
            oracle.settlement_round(t0 + 15)
        assert oracle.settlement_round(t0 + 21)[2] == feed.round_id() - ref.MAX_ROUND_WALK + 1
    with boa.env.anchor():
        _round(feed, BASE, t0 + 20, complete=False)
        boa.env.time_travel(seconds=30)
        with boa.reverts("oracle: incomplete round"):
            oracle.settlement_round(t0 + 15)
    with boa.env.anchor():
        _round(feed, BASE, t0 + 15 + hb + 1)               # the first round after t came more than a heartbeat late
        boa.env.time_travel(seconds=hb + 100)
        with boa.reverts("oracle: stale price"):
            oracle.settlement_round(t0 + 15)
        assert oracle.settlement_round(t0 + 16)[1] == t0 + 16 + hb          # exactly a heartbeat late: accepted
    with boa.env.anchor():
        _round(feed, -1, t0 + 20)
        boa.env.time_travel(seconds=30)
        with boa.reverts("oracle: non-positive answer"):
            oracle.settlement_round(t0 + 15)
    with boa.env.anchor():
        _round(feed, 0, t0 + 12)                           # garbage just before t
        _round(feed, BASE, t0 + 20)
        boa.env.time_travel(seconds=30)
        with boa.reverts("oracle: round history unavailable"):
            oracle.settlement_round(t0 + 15)
    with boa.env.anchor():                                 # a glitch just before t: R is not within 10% of it
        _round(feed, 60_000 * 10**8, t0 + 12)
        _round(feed, BASE, t0 + 20)
        boa.env.time_travel(seconds=30)
        with boa.reverts("oracle: price jump too large"):
            oracle.settlement_round(t0 + 15)
    with boa.env.anchor():
        _round(feed, BASE, t0 + 1_000)
        with boa.reverts("oracle: timestamp in the future"):
            oracle.settlement_round(t0 + 15)
    with boa.env.anchor():                                 # the proof reads answers in the deployed decimals
        _round(feed, BASE, t0 + 20)
        boa.env.time_travel(seconds=30)
        feed.set_decimals(18)
        with boa.reverts("oracle: decimals changed"):
            oracle.settlement_round(t0 + 15)
