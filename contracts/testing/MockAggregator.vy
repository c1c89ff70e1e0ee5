# pragma version 0.4.3
# pragma evm-version cancun
"""
@title MockAggregator
@notice Chainlink-compatible price feed (AggregatorV3Interface) for local work and tests: the answer,
        decimals, round ids and timestamps are set by whoever calls the setters.  Never deploy it where
        real money depends on it.
@dev AggregatorV3Interface: decimals(), description(), version(), latestRoundData(), getRoundData(id).
     Test controls: set_answer(answer) starts a new round stamped now; set_round_data(...) sets every
     field of the latest round (stale, future, incomplete rounds); set_decimals(d) changes decimals().
     Every round written is kept for getRoundData, like a Chainlink aggregator; a round id skipped by
     set_round_data has no data (getRoundData reverts), which stands for a phase change of a proxy.
"""

struct RoundData:
    answer: int256
    started_at: uint256
    updated_at: uint256
    answered_in_round: uint80

decimals: public(uint8)
description: public(String[64])
version: public(uint256)

round_id: public(uint80)
answer: public(int256)
started_at: public(uint256)
updated_at: public(uint256)
answered_in_round: public(uint80)
history: HashMap[uint80, RoundData]
has_round: HashMap[uint80, bool]

event AnswerUpdated:
    current: indexed(int256)
    round_id: indexed(uint256)
    updated_at: uint256


@deploy
def __init__(decimals_: uint8, initial_answer: int256):
    """
    @param decimals_ feed decimals (Chainlink USD pairs use 8)
    @param initial_answer first answer, in feed units (answer / 10**decimals)
    """
    self.decimals = decimals_
    self.description = "vyopt mock feed"
    self.version = 4
    self._new_round(initial_answer)


@internal
def _new_round(answer: int256):
    rid: uint80 = self.round_id + 1
    self.round_id = rid
    self.answer = answer
    self.started_at = block.timestamp
    self.updated_at = block.timestamp
    self.answered_in_round = rid
    self._keep()
    log AnswerUpdated(current=answer, round_id=convert(rid, uint256), updated_at=block.timestamp)


@internal
def _keep():
    self.history[self.round_id] = RoundData(answer=self.answer, started_at=self.started_at,
                                            updated_at=self.updated_at, answered_in_round=self.answered_in_round)
    self.has_round[self.round_id] = True


@external
def set_answer(answer: int256):
    """
    @notice Start a new complete round with `answer` (feed units), stamped now.
    """
    self._new_round(answer)


@external
def set_round_data(round_id: uint80, answer: int256, started_at: uint256, updated_at: uint256, answered_in_round: uint80):
    """
    @notice Overwrite every field of the latest round (for stale, future and incomplete rounds).
    """
    self.round_id = round_id
    self.answer = answer
    self.started_at = started_at
    self.updated_at = updated_at
    self.answered_in_round = answered_in_round
    self._keep()


@external
def set_decimals(decimals_: uint8):
    """
    @notice Change decimals() (a misbehaving feed; real proxies should never do this).
    """
    self.decimals = decimals_


@view
@external
def latestRoundData() -> (uint80, int256, uint256, uint256, uint80):
    """
    @return (roundId, answer in feed units, startedAt, updatedAt (unix seconds), answeredInRound)
    """
    return self.round_id, self.answer, self.started_at, self.updated_at, self.answered_in_round


@view
@external
def getRoundData(round_id: uint80) -> (uint80, int256, uint256, uint256, uint80):
    """
    @notice Any round written so far (reverts for a round id never written).
    @return (roundId, answer in feed units, startedAt, updatedAt (unix seconds), answeredInRound)
    """
    assert self.has_round[round_id], "mock: no data for round"
    r: RoundData = self.history[round_id]
    return round_id, r.answer, r.started_at, r.updated_at, r.answered_in_round
