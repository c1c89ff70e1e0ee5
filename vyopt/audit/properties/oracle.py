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


def read_feed(backend, feed: str):
    """(Round or None, decimals or None) exactly as the oracle reads them: raw calls, five 32-byte words (None when
    the call fails or returns less, as the oracle's FEED_CALL_FAILED)."""
    ok, out, _ = backend.call(feed, LATEST_ROUND_DATA, fn=None)
    rnd = None
    if ok and len(out) >= 160:
        w = [int.from_bytes(out[i:i + 32], "big") for i in range(0, 160, 32)]
        answer = w[1] - 2**256 if w[1] >= 2**255 else w[1]
        rnd = ref.Round(w[0], answer, w[2], w[3], w[4])
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
