"""Properties of the guarded price oracle (contracts/PriceOracle.vy) for the auditor's suite: read-only, against
reference/oracle.py (exact rational arithmetic, written from the specification).

What the oracle reads is read here too, raw: latestRoundData() and decimals() of the feed the oracle points at
(oracle.feed(), whatever the manifest calls it: the mock locally, a Chainlink proxy on a testnet), its own
recorded state (last price, its time and round, the jump candidate) and the limits it takes from the registry
(heartbeat, maximum deviation, jump cooldown).  The reference's acceptance rule on that reading at the audited
block's timestamp must give exactly the contract's peek() (price to use, ok, status) and price_for_risk_increase()
(the price, or a revert naming the failed check).  Bar: exact (integers; the reference is exact).

The state at one block is one example: the property runs once per back-end.  The oracle's rule over many
rounds (moves, jumps, recoveries) is exercised by the market's state machine (market.py), which moves the mock
feed and checks every update against the same reference.

The settlement proof (settlement_round, settlement_round_unchecked) is checked on the feed's own history: the
last HISTORY_WINDOW rounds of the latest round's phase are read raw with getRoundData, a time t is drawn at,
next to or a heartbeat before one of their stamps (or after the latest), and both views must give exactly the
reference's round, price and stamp, or revert with its reason.
"""
from __future__ import annotations

from hypothesis import strategies as st

from reference import oracle as ref

from ..registry import differential
from ._protocol import FEED, artifact

ORACLE = "PriceOracle"
REGISTRY = "RiskRegistry"
LATEST_ROUND_DATA = bytes.fromhex("feaf968c")
DECIMALS = bytes.fromhex("313ce567")
GET_ROUND_DATA = bytes.fromhex("9a6fc8f5")          # getRoundData(uint80)
HISTORY_WINDOW = 32                                  # rounds read back for the settlement property


def _round(out: bytes) -> ref.Round:
    w = [int.from_bytes(out[i:i + 32], "big") for i in range(0, 160, 32)]
    answer = w[1] - 2**256 if w[1] >= 2**255 else w[1]
    return ref.Round(w[0], answer, w[2], w[3], w[4])


def read_feed(backend, feed: str):
    """(Round or None, decimals or None) exactly as the oracle reads them: raw calls, five 32-byte words (None when
    the call fails or returns less, as the oracle's FEED_CALL_FAILED)."""
    ok, out, _ = backend.call(feed, LATEST_ROUND_DATA, fn=None)
    rnd = _round(out) if ok and len(out) >= 160 else None
    ok, out, _ = backend.call(feed, DECIMALS, fn=None)
    dec = int.from_bytes(out[:32], "big") if ok and len(out) >= 32 else None
    return rnd, dec


def oracle_state(oracle) -> ref.OracleState:
    return ref.OracleState(oracle.last_price(), oracle.last_updated_at(), oracle.last_round_id(),
                           oracle.candidate_price(), oracle.candidate_since())


def oracle_limits(registry) -> ref.Limits:
    return ref.Limits(registry.oracle_heartbeat(), registry.oracle_max_deviation(), registry.oracle_jump_cooldown())


def expected_peek(backend, oracle, registry, limits: ref.Limits | None = None) -> tuple:
    """(price to use, ok, status) the reference gives for the oracle's current reading."""
    rnd, dec = read_feed(backend, oracle.feed())
    st_ = oracle_state(oracle)
    status, price, _ = ref.evaluate(st_, rnd, dec, oracle.feed_decimals(), backend.timestamp(),
                                    limits or oracle_limits(registry))
    use = price if status in (ref.OK, ref.JUMP) else st_.last_price
    return use, status == ref.OK, status


def is_mock_feed(backend, oracle) -> bool:
    """True when the code at oracle.feed() is the mock aggregator of contracts/testing (then tests may move it)."""
    from ..artifacts import code_matches

    return code_matches(backend.code(oracle.feed()), artifact(FEED))[0]


@differential(
    id="oracle.peek_matches_reference", contracts=(ORACLE, REGISTRY), strategy=lambda: st.just({"block": "audited"}),
    bar="exact",
    words="peek() returns exactly what the reference acceptance rule gives for the feed's current round (raw "
          "latestRoundData and decimals of oracle.feed()), the oracle's recorded state and the registry's limits "
          "at the audited block: the price to use, whether it may be used for risk-increasing actions, and the "
          "status; price_for_risk_increase() returns that price or reverts with the reference's reason; the "
          "oracle reads the audited registry.")
def peek_matches_reference(ctx, ex):
    oracle, registry = ctx.contract(ORACLE), ctx.contract(REGISTRY)
    assert oracle.registry().lower() == registry.address.lower(), f"the oracle reads the registry at {oracle.registry()}, not {registry.address}"
    want = expected_peek(ctx.backend, oracle, registry)
    got = tuple(oracle.peek())
    assert got == want, f"peek() = {got}, the reference gives {want} (status {ref.REASONS.get(want[2], 'ok')})"
    o = oracle.outcome("price_for_risk_increase")
    if want[2] == ref.OK:
        assert o.ok and o.value == want[0], f"price_for_risk_increase: {o}, expected {want[0]}"
    else:
        assert not o.ok and o.reason == ref.REASONS[want[2]], f"price_for_risk_increase: {o}, expected the revert {ref.REASONS[want[2]]!r}"
    if not is_mock_feed(ctx.backend, oracle):
        ctx.note(f"the oracle's feed {oracle.feed()} is not the mock aggregator (a real feed)")


def read_history(backend, feed: str, latest: ref.Round, window: int = HISTORY_WINDOW) -> tuple[dict, bool]:
    """({round id: Round} of the last `window` rounds of the latest round's phase that getRoundData returns, raw,
    as the oracle reads them; whether the window reaches back to the phase's first round)."""
    first = ref.phase_first(latest.round_id)
    lo = max(first, latest.round_id - window)
    hist = {}
    for rid in range(lo, latest.round_id):
        ok, out, _ = backend.call(feed, GET_ROUND_DATA + rid.to_bytes(32, "big"), fn=None)
        if ok and len(out) >= 160:
            hist[rid] = _round(out)
    hist[latest.round_id] = latest
    return hist, lo == first


def _settlement_points():
    return st.fixed_dictionaries({"back": st.integers(0, HISTORY_WINDOW),
                                  "where": st.sampled_from(["at", "after", "before", "heartbeat", "past latest"])})


def _settlement_examples():
    """t at, just after, or a heartbeat before the stamp of the latest round, the one before it (the first round
    the search reads), and older ones; and after the latest."""
    return [{"back": k, "where": w} for k in (1, 0, 2, 5, 31) for w in ("at", "after", "heartbeat")] + \
           [{"back": 0, "where": "past latest"}]


@differential(
    id="oracle.settlement_round_matches_reference", contracts=(ORACLE, REGISTRY), strategy=_settlement_points,
    examples=_settlement_examples, bar="exact", cost=0.5,
    words="settlement_round(t) and settlement_round_unchecked(t) return exactly the reference's settlement round "
          "(the first round of the latest phase stamped at or after t, proven by the round before it; its price "
          "in WAD, stamp and id), or revert with the reference's reason, for t at, a second either side of, or a "
          "heartbeat before the stamp of one of the feed's last 32 rounds (read raw with getRoundData), or after the "
          "latest: the checked view also refuses a round stamped more than a heartbeat after t or beyond the "
          "max deviation from the round before it; the unchecked one (the guardian's late settlement) makes "
          "neither check but takes that round, or the first of the next three, that is complete, valid and "
          "confirmed by its successor (within the max deviation of it).")
def settlement_round_matches_reference(ctx, ex):
    oracle, registry = ctx.contract(ORACLE), ctx.contract(REGISTRY)
    b = ctx.backend
    latest, dec = read_feed(b, oracle.feed())
    if latest is None:
        ctx.note("the feed's latestRoundData() fails: nothing to prove")
        return
    hist, whole_phase = read_history(b, oracle.feed(), latest)
    stamps = sorted(r.updated_at for r in hist.values() if r.updated_at)
    hb = registry.oracle_heartbeat()
    ids = sorted(hist)
    stamp = hist[ids[max(0, len(ids) - 1 - ex["back"])]].updated_at      # the round `back` rounds before the latest
    t = {"at": stamp, "after": stamp + 1, "before": stamp - 1, "heartbeat": stamp - hb,
         "past latest": latest.updated_at + 1}[ex["where"]]
    if not whole_phase:
        t = max(t, stamps[0] + 1)      # the window holds the round before t: the reference sees the proof
    dec_now = -1 if dec == oracle.feed_decimals() else dec
    first = max(min(hist), ref.phase_first(latest.round_id))
    gaps = [i for i in range(first, latest.round_id) if i not in hist]
    if gaps:   # the contract's search may stop at an unreadable round the reference's proof does not need
        ctx.note(f"{len(gaps)} unreadable rounds among the feed's last {HISTORY_WINDOW}")
    for checked, fn in ((True, "settlement_round"), (False, "settlement_round_unchecked")):
        why, price, stamped, rid = ref.settlement_round(hist, latest, t, b.timestamp(), oracle_limits(registry),
                                                        oracle.feed_decimals(), decimals_now=dec_now, checked=checked)
        o = oracle.outcome(fn, t)
        if gaps and not o.ok and o.reason == ref.HISTORY_UNAVAILABLE:
            continue
        if why is None:
            assert o.ok and tuple(o.value) == (price, stamped, rid), f"{fn}({t}) = {o}, the reference gives {(price, stamped, rid)}"
        else:
            assert not o.ok and o.reason == why, f"{fn}({t}) = {o}, the reference reverts {why!r}"
