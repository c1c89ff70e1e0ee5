# pragma version 0.4.3
# pragma evm-version cancun
"""
@title MaliciousAggregator
@notice A feed that misbehaves on purpose, for the oracle's attack tests.  latestRoundData() returns
        five raw words (so round ids above 2^80 or any decimals() value can be served), reverts, or
        burns all the gas it is given, depending on `mode`.
@dev mode 0: return the stored words; 1: revert; 2: burn gas (an unbounded-looking hash loop).
     decimals_mode 0: return `decimals_word`; 1: revert.
"""

MODE_RETURN: constant(uint256) = 0
MODE_REVERT: constant(uint256) = 1
MODE_BURN: constant(uint256) = 2

mode: public(uint256)
decimals_mode: public(uint256)
decimals_word: public(uint256)
words: public(uint256[5])


@deploy
def __init__(decimals_word: uint256):
    self.decimals_word = decimals_word


@external
def set_mode(mode: uint256, decimals_mode: uint256):
    self.mode = mode
    self.decimals_mode = decimals_mode


@external
def set_words(round_id: uint256, answer: int256, started_at: uint256, updated_at: uint256, answered_in_round: uint256):
    # the answer word keeps its two's-complement bits (a negative answer stays negative for the reader)
    self.words = [round_id, convert(convert(answer, bytes32), uint256), started_at, updated_at, answered_in_round]


@external
def set_decimals_word(d: uint256):
    self.decimals_word = d


@view
@external
def decimals() -> uint256:
    assert self.decimals_mode == 0, "malicious: decimals reverts"
    return self.decimals_word


@view
@external
def latestRoundData() -> (uint256, uint256, uint256, uint256, uint256):
    m: uint256 = self.mode
    assert m != MODE_REVERT, "malicious: revert"
    if m == MODE_BURN:
        h: bytes32 = empty(bytes32)
        for i: uint256 in range(10**7):
            h = keccak256(h)
        return convert(h, uint256), 0, 0, 0, 0
    return self.words[0], self.words[1], self.words[2], self.words[3], self.words[4]
