"""Helpers shared by the oracle tests."""
import boa

from reference import oracle as ref

WAD = 10**18


def now():
    return boa.env.evm.patch.timestamp


def events(contract, name):
    return [e for e in contract.get_logs() if type(e).__name__ == name]


def limits(registry):
    return ref.Limits(registry.oracle_heartbeat(), registry.oracle_max_deviation(), registry.oracle_jump_cooldown())


def state(oracle):
    return ref.OracleState(oracle.last_price(), oracle.last_updated_at(), oracle.last_round_id(),
                           oracle.candidate_price(), oracle.candidate_since())


def set_answer(feed, answer, age=0):
    """A complete new round with `answer` (feed units), updated `age` seconds ago."""
    rid = feed.round_id() + 1
    t = now() - age
    feed.set_round_data(rid, answer, t, t, rid)
