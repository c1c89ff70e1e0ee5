# pragma version 0.4.3
# pragma evm-version cancun
"""
@title MathHarness
@notice Test-only wrapper exposing the internal math modules for differential tests and gas measurement.
        Never deployed outside tests and benchmarks.
"""

from ..math import fixed_exp
from ..math import fixed_ln
from ..math import fixed_sqrt
from ..math import normal


@external
@pure
def exp_x36(x: int256) -> uint256:
    return fixed_exp.exp_x36(x)


@external
@pure
def exp_wad(x: int256) -> uint256:
    return fixed_exp.exp_wad(x)


@external
@pure
def ln_x36(x: uint256) -> int256:
    return fixed_ln.ln_x36(x)


@external
@pure
def ln_wad(x: uint256) -> int256:
    return fixed_ln.ln_wad(x)


@external
@pure
def sqrt_wad(x: uint256) -> uint256:
    return fixed_sqrt.sqrt_wad(x)


@external
@pure
def sqrt_years_x34(tau: uint256) -> uint256:
    return fixed_sqrt.sqrt_years_x34(tau)


@external
@pure
def erfcx_x36(z: uint256) -> uint256:
    return normal.erfcx_x36(z)


@external
@pure
def cdf_x36(x: int256) -> uint256:
    return normal.cdf_x36(x)


@external
@pure
def pdf_x36(x: int256) -> uint256:
    return normal.pdf_x36(x)
