# pragma version 0.4.3
# pragma evm-version cancun
from ..market import margin
from ..math import black_scholes as bs

@external
@view
def a(spot: uint256, x: int256, kr: uint256, v: uint256, sc: DynArray[margin.Scenario, 32]) -> DynArray[int256, 32]:
    g: margin.Grid = margin._prepare(sc)
    return margin._unit_losses(spot, x, kr, v, True, 10**18, g)

@external
@view
def prep(sc: DynArray[margin.Scenario, 32]) -> uint256:
    g: margin.Grid = margin._prepare(sc)
    return len(g.f_s)

@external
@view
def b(spot: uint256, x: int256, kr: uint256, v: uint256, sc: DynArray[margin.Scenario, 32]) -> DynArray[int256, 32]:
    g: margin.Grid = margin._prepare(sc)
    out: DynArray[int256, 32] = []
    n: uint256 = len(g.f_s)
    for i: uint256 in range(n, bound=32):
        fs: uint256 = g.f_s[i]
        d1: int256 = 0
        d2: int256 = 0
        e: uint256 = 0
        eg1: uint256 = 0
        eg2: uint256 = 0
        d1, d2, e, eg1, eg2 = bs.tails(unsafe_add(x, g.ln_s[i]), unsafe_div(unsafe_mul(v, g.f_v[i]), 10**18))
        c: uint256 = 0
        p: uint256 = 0
        c, p = bs.normalised(unsafe_div(unsafe_mul(kr, 10**18), fs), d1, d2, eg1, eg2)
        out.append(10**18 - convert(unsafe_div(unsafe_mul(unsafe_div(unsafe_mul(spot, fs), 10**18), c), 10**36), int256))
    return out
