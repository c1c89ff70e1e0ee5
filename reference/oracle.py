"""Acceptance rules of the guarded price oracle, as an independent model (exact rational arithmetic).

The oracle reads a Chainlink-style round (roundId, answer, startedAt, updatedAt, answeredInRound) and the
feed's decimals, scales the answer to WAD, and decides whether the market may use it for risk-increasing
actions.  Checks, in order (the first failing one is the status):

  1 feed_call_failed   the call failed, returned fewer than five words, or a round id does not fit 80 bits
  2 decimals_changed   decimals() differs from its value when the oracle was deployed
  3 non_positive       answer <= 0
  4 out_of_range       the WAD price is 0 or above 1e36
  5 incomplete_round   updatedAt == 0 or answeredInRound < roundId
  6 future_timestamp   updatedAt > now
  7 stale              now - updatedAt > heartbeat
  8 out_of_order       updatedAt < updatedAt of the last accepted answer
  9 jump               |p / last - 1| > max_deviation, unless p is within max_deviation of a candidate
                       first seen at least `cooldown` seconds ago (a persisting move is accepted)

The first price is accepted without the jump check.  After a jump the price becomes the candidate (seen
now) unless it is within max_deviation of the current candidate.  The "price to use" for closing actions
is the fresh feed price when only the jump check failed, else the last accepted price.

Units: prices in WAD integers, max_deviation a WAD fraction, times in seconds.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

WAD = 10**18
MAX_PRICE = 10**36
MAX_DECIMALS = 36

OK, FEED_CALL_FAILED, DECIMALS_CHANGED, NON_POSITIVE, OUT_OF_RANGE = 0, 1, 2, 3, 4
INCOMPLETE_ROUND, FUTURE_TIMESTAMP, STALE, OUT_OF_ORDER, JUMP = 5, 6, 7, 8, 9

REASONS = {
    FEED_CALL_FAILED: "oracle: feed call failed",
    DECIMALS_CHANGED: "oracle: decimals changed",
    NON_POSITIVE: "oracle: non-positive answer",
    OUT_OF_RANGE: "oracle: answer out of range",
    INCOMPLETE_ROUND: "oracle: incomplete round",
    FUTURE_TIMESTAMP: "oracle: timestamp in the future",
    STALE: "oracle: stale price",
    OUT_OF_ORDER: "oracle: older than last accepted",
    JUMP: "oracle: price jump too large",
}


@dataclass(frozen=True)
class Round:
    """One latestRoundData() answer as raw integers (a malicious feed may put anything in them)."""
    round_id: int
    answer: int
    started_at: int
    updated_at: int
    answered_in_round: int


@dataclass(frozen=True)
class OracleState:
    last_price: int = 0
    last_updated_at: int = 0
    last_round_id: int = 0
    candidate_price: int = 0
    candidate_since: int = 0


@dataclass(frozen=True)
class Limits:
    heartbeat: int          # seconds
    max_deviation: int      # WAD fraction
    cooldown: int           # seconds


def scale_to_wad(answer: int, decimals: int) -> int:
    """answer / 10^decimals as a WAD integer, rounded down."""
    return (Fraction(answer) / Fraction(10) ** decimals * WAD).__floor__()


def answer_status(answer: int, decimals: int) -> tuple[int, int]:
    """(status, WAD price) of a raw answer: NON_POSITIVE, OUT_OF_RANGE (0 once scaled, or above MAX_PRICE) or OK."""
    if answer <= 0:
        return NON_POSITIVE, 0
    price = scale_to_wad(answer, decimals)
    if price == 0 or price > MAX_PRICE:
        return OUT_OF_RANGE, 0
    return OK, price


def within(p: int, ref: int, max_deviation: int) -> bool:
    """|p / ref - 1| <= max_deviation / 1e18, exactly."""
    return abs(Fraction(p, ref) - 1) <= Fraction(max_deviation, WAD)


def evaluate(state: OracleState, rnd: Round | None, decimals_now: int | None, decimals_at_deploy: int,
             now: int, limits: Limits) -> tuple[int, int, bool]:
    """(status, wad_price, accepted_after_jump) for a reading; rnd/decimals_now None = that call failed."""
    if rnd is None or decimals_now is None:
        return FEED_CALL_FAILED, 0, False
    if not (0 <= rnd.round_id < 2**80 and 0 <= rnd.answered_in_round < 2**80):
        return FEED_CALL_FAILED, 0, False
    if decimals_now != decimals_at_deploy:
        return DECIMALS_CHANGED, 0, False
    status, price = answer_status(rnd.answer, decimals_at_deploy)
    if status != OK:
        return status, 0, False
    if rnd.updated_at == 0 or rnd.answered_in_round < rnd.round_id:
        return INCOMPLETE_ROUND, price, False
    if rnd.updated_at > now:
        return FUTURE_TIMESTAMP, price, False
    if now - rnd.updated_at > limits.heartbeat:
        return STALE, price, False
    if rnd.updated_at < state.last_updated_at:
        return OUT_OF_ORDER, price, False
    if state.last_price == 0 or within(price, state.last_price, limits.max_deviation):
        return OK, price, False
    if (state.candidate_price != 0 and within(price, state.candidate_price, limits.max_deviation)
            and now >= state.candidate_since + limits.cooldown):
        return OK, price, True
    return JUMP, price, False


def update(state: OracleState, rnd: Round | None, decimals_now: int | None, decimals_at_deploy: int,
           now: int, limits: Limits) -> tuple[OracleState, int, bool, int]:
    """(new_state, price_to_use, ok_for_risk_increase, status) of one update() call."""
    status, price, _ = evaluate(state, rnd, decimals_now, decimals_at_deploy, now, limits)
    if status == OK:
        new = OracleState(price, rnd.updated_at, rnd.round_id, 0, 0)
        return new, price, True, OK
    if status == JUMP:
        if state.candidate_price == 0 or not within(price, state.candidate_price, limits.max_deviation):
            state = replace(state, candidate_price=price, candidate_since=now)
        return state, price, False, JUMP
    return state, state.last_price, False, status


# ---------------------------------------------------------------------------------------------------------
# Settlement round: the feed's first round stamped at or after a time t, proven from the feed's history.
#
# Rule (Opyn-style round proof, adapted): rounds are numbered as Chainlink's proxy numbers them, phase << 64
# | the aggregator's round id (counted from 1 in each phase), and stamped in id order within a phase.  The
# settlement round R for t is the first round of the latest round's phase stamped at or after t; its proof
# is the round before it, P = R - 1, stamped before t.  No bound on how many rounds followed R.  R must be
# complete, not in the future, stamped within one heartbeat after t, with a positive in-range answer; P must
# have a positive in-range answer, and R must lie within max_deviation of P (a jump between two consecutive
# rounds across the expiry is refused).  Unchecked (the late guardian path): no heartbeat or jump-from-P
# rule; instead the settlement round is the first of R, R + 1, ... (at most CONFIRM_ROUNDS candidates) that
# is complete, not in the future, valid, and confirmed by its successor: the next round exists, is valid and
# lies within max_deviation of it (a genuine move persists, a one-round glitch does not).
#
# A round that getRoundData does not return (no such id, another id, updatedAt 0) is unreadable.  When R is
# the phase's first round, or P is unreadable, the history is unavailable.  With unreadable rounds elsewhere
# in the phase the contract may also answer "history unavailable" (it reads only some of them) but never a
# different round: its proof is local.

NO_ROUND_SINCE = "oracle: no round since t"
HISTORY_UNAVAILABLE = "oracle: round history unavailable"
NOT_CONFIRMED = "oracle: settlement round not confirmed"
CONFIRM_ROUNDS = 4


def phase_first(round_id: int) -> int:
    """The first round id of `round_id`'s proxy phase (phase << 64 | 1)."""
    return (round_id // 2**64) * 2**64 + 1


def settlement_round(history: dict[int, Round], latest: Round | None, t: int, now: int, limits: Limits,
                     decimals: int, decimals_now: int | None = -1,
                     checked: bool = True) -> tuple[str | None, int, int, int]:
    """(revert reason or None, WAD price, updatedAt, round id) of the settlement round for time `t`.

    history: round id -> Round as getRoundData answers it (ids absent revert); latest: latestRoundData()
    (None = the call failed); decimals: at deployment; decimals_now: decimals() now (None = the call failed,
    -1 = unchanged); checked: False for settlement_round_unchecked."""
    if latest is None or not (0 <= latest.round_id < 2**80 and 0 <= latest.answered_in_round < 2**80):
        return REASONS[FEED_CALL_FAILED], 0, 0, 0
    if decimals_now is None:
        return REASONS[FEED_CALL_FAILED], 0, 0, 0
    if decimals_now != -1 and decimals_now != decimals:
        return REASONS[DECIMALS_CHANGED], 0, 0, 0
    if latest.updated_at < t:
        return NO_ROUND_SINCE, 0, 0, 0

    def readable(i: int) -> bool:
        r = history.get(i)
        return (r is not None and r.round_id == i and r.updated_at != 0
                and 0 <= r.answered_in_round < 2**80)

    first = phase_first(latest.round_id)
    rounds = {i: r for i, r in history.items() if first <= i <= latest.round_id and readable(i)}
    rounds[latest.round_id] = latest
    r_id = min(i for i, r in rounds.items() if r.updated_at >= t)
    if r_id == first or (r_id - 1) not in rounds:
        return HISTORY_UNAVAILABLE, 0, 0, 0
    r, p = rounds[r_id], rounds[r_id - 1]
    if not checked:
        return _confirmed_round(history, r, now, limits, decimals)
    if r.answered_in_round < r.round_id:
        return REASONS[INCOMPLETE_ROUND], 0, 0, 0
    if r.updated_at > now:
        return REASONS[FUTURE_TIMESTAMP], 0, 0, 0
    if r.updated_at - t > limits.heartbeat:
        return REASONS[STALE], 0, 0, 0
    status, price = answer_status(r.answer, decimals)
    if status != OK:
        return REASONS[status], 0, 0, 0
    status, before = answer_status(p.answer, decimals)
    if status != OK:
        return HISTORY_UNAVAILABLE, 0, 0, 0
    if not within(price, before, limits.max_deviation):
        return REASONS[JUMP], 0, 0, 0
    return None, price, r.updated_at, r.round_id


def _confirmed_round(history: dict[int, Round], r: Round, now: int, limits: Limits,
                     decimals: int) -> tuple[str | None, int, int, int]:
    """The unchecked rule: from R, the first of CONFIRM_ROUNDS consecutive rounds C that is complete, not in the
    future, valid, and confirmed by the next round (valid and within max_deviation of C)."""
    c = r
    for _ in range(CONFIRM_ROUNDS):
        n = history.get(c.round_id + 1)
        if n is None or n.round_id != c.round_id + 1 or n.updated_at == 0 or c.round_id + 1 >= 2**80:
            return NOT_CONFIRMED, 0, 0, 0
        (status, price), (status_next, after) = answer_status(c.answer, decimals), answer_status(n.answer, decimals)
        if (status == OK and status_next == OK and c.answered_in_round >= c.round_id
                and c.updated_at <= now and within(after, price, limits.max_deviation)):
            return None, price, c.updated_at, c.round_id
        c = n
    return NOT_CONFIRMED, 0, 0, 0
