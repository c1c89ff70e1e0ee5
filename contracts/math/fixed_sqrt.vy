# pragma version 0.4.3
# pragma evm-version cancun
"""
@title fixed_sqrt
@notice Square roots in fixed point (stateless module: import, do not initialize).
@dev API
     sqrt_wad(x: uint256) -> uint256         internal pure   sqrt(x / 1e18) * 1e18, rounded down
     sqrt_years_x34(tau: uint256) -> uint256 internal pure   sqrt(tau / 365 days) * 1e34, rounded down
     Both use the builtin isqrt (exact floor).  Hand-unrolled Newton versions (bit-length start and 7 steps; or a
     3%-accurate linear start and 4 steps) measured 750-860 and ~680 gas against ~550 for the builtin on
     Vyper 0.4.3 (locals live in memory), so the builtin stays.
"""

YEAR: constant(uint256) = 365 * 86400


@internal
@pure
def sqrt_wad(x: uint256) -> uint256:
    """
    @notice sqrt of a WAD number, rounded down (exact floor).
    @param x WAD, at most 2^256 / 1e18
    @return sqrt(x) in WAD
    """
    assert x <= max_value(uint256) // 10**18, "sqrt: x too large"
    return isqrt(x * 10**18)


@internal
@pure
def sqrt_years_x34(tau: uint256) -> uint256:
    """
    @notice sqrt of a time in years at 1e34 scale: floor(sqrt(tau * 1e68 / YEAR)).
    @param tau seconds, at most 10 * 365 days
    @return sqrt(tau / 365 days) * 1e34, relative error below 6e-31 for tau >= 1
    """
    assert tau <= 10 * YEAR, "sqrt: tau out of range"
    # tau <= 3.2e8: tau * 1e68 < 3.2e76 < 2^256
    return isqrt(unsafe_mul(tau, 10**68) // YEAR)

