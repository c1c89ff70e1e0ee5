"""PriceOracle against reference.oracle: random sequences of feed rounds, decimals and time jumps."""
import boa
from hypothesis import event, given
from hypothesis import strategies as st

from reference import oracle as ref

from .helpers import limits, now, state

DECIMALS = 8
BASE = 40_000 * 10**DECIMALS


@st.composite
def feed_step(draw):
    """One step: a new round (answer moved by up to +-40%, sometimes garbage), its age, a time jump."""
    kind = draw(st.sampled_from(["move", "move", "move", "same", "garbage"]))
    move = draw(st.floats(-0.4, 0.4))
    answer = {"move": None, "same": None, "garbage": draw(st.sampled_from([0, -1, 10**40]))}[kind]
    return {
        "kind": kind,
        "move": move,
        "answer": answer,
        "age": draw(st.sampled_from([0, 0, 60, 3599, 3600, 3601, 10**5])),
        "incomplete": draw(st.integers(0, 9)) == 0,
        "future": draw(st.integers(0, 19)) == 0,
        "jump": draw(st.sampled_from([0, 0, 60, 1800, 3599, 3600, 3601, 7200])),
        "decimals": draw(st.sampled_from([DECIMALS] * 19 + [18])),
    }


@given(steps=st.lists(feed_step(), min_size=1, max_size=12))
def test_update_sequence__matches_reference(feed, oracle, registry, steps):
    lim = limits(registry)
    model = state(oracle)
    answer = BASE
    for s in steps:
        boa.env.time_travel(seconds=s["jump"])
        if s["kind"] == "move":
            answer = max(1, int(answer * (1 + s["move"])))
        a = s["answer"] if s["answer"] is not None else answer
        t = now() - s["age"] if not s["future"] else now() + 30
        rid = feed.round_id() + 1
        feed.set_round_data(rid, a, t, t, rid - 1 if s["incomplete"] else rid)
        feed.set_decimals(s["decimals"])
        rnd = ref.Round(rid, a, t, t, rid - 1 if s["incomplete"] else rid)
        model, exp_price, exp_ok, exp_status = ref.update(model, rnd, s["decimals"], DECIMALS, now(), lim)
        event(f"status {exp_status}")
        assert oracle.peek() == (exp_price, exp_ok, exp_status)
        assert oracle.update() == (exp_price, exp_ok)
        assert state(oracle) == model
        feed.set_decimals(DECIMALS)
