# pragma version 0.4.3
# pragma evm-version cancun
"""
@title EmptyReturnAggregator
@notice A feed whose latestRoundData() succeeds but returns no data (every unknown selector falls into
        __default__), for the oracle's short-return test.  decimals() is honest.
"""


@view
@external
def decimals() -> uint8:
    return 8


@external
def __default__():
    pass
