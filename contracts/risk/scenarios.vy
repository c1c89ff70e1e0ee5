# pragma version 0.4.3
# pragma evm-version cancun
"""
@title scenarios
@notice The margin scenario grid of one market: up to 32 (spot shock, vol shock) pairs, their hard
        bounds, coverage rules and the step rule of a change.  Stateful module: the registry initializes it.
@dev API
     _scenarios() -> DynArray[Scenario, 32]        internal view
     _scenario(i) -> Scenario                      internal view
     _count() -> uint256                           internal view
     _check_grid(g)                                internal pure   hard bounds and coverage
     _check_step(old, new)                         internal pure   per-index step, removal limit
     _store(g)                                     internal

     Semantics for the margin engine (both WAD, signed):
       spot_shock  relative move of the underlying: S' = S (1 + spot_shock)
       vol_shock   relative move of every implied vol: sigma' = sigma (1 + vol_shock)
     Hard bounds: spot_shock in [-0.9, 3], vol_shock in [-0.8, 3]   "risk: scenario out of bounds"
     Coverage: 3 <= count <= 32                                      "risk: too few scenarios"
               min spot_shock <= -0.05                               "risk: grid lacks down move"
               max spot_shock >= +0.05                               "risk: grid lacks up move"
               max vol_shock  >= +0.10                               "risk: grid lacks vol-up move"
     Step of a change, scenario i of the new grid against scenario i of the current one
     (i < min(old, new count)): |d spot| <= 0.05 and |d vol| <= 0.25  "risk: scenario step too large";
     appended scenarios are free (within bounds: the worst case over a larger grid can only grow);
     at most 4 scenarios removed per change                            "risk: too many scenarios removed".
     Storage: one word per scenario, spot_shock + 2^127 in the high 128 bits, vol_shock + 2^127 low.
"""

MAX_SCENARIOS: constant(uint256) = 32
MIN_SCENARIOS: constant(uint256) = 3
SPOT_SHOCK_MIN: constant(int256) = -9 * 10**17
SPOT_SHOCK_MAX: constant(int256) = 3 * 10**18
VOL_SHOCK_MIN: constant(int256) = -8 * 10**17
VOL_SHOCK_MAX: constant(int256) = 3 * 10**18
MIN_DOWN_MOVE: constant(int256) = -5 * 10**16
MIN_UP_MOVE: constant(int256) = 5 * 10**16
MIN_VOL_UP: constant(int256) = 10**17
SPOT_STEP: constant(int256) = 5 * 10**16
VOL_STEP: constant(int256) = 25 * 10**16
MAX_REMOVED: constant(uint256) = 4

OFFSET: constant(int256) = 2**127
MASK128: constant(uint256) = 2**128 - 1

struct Scenario:
    spot_shock: int256  # WAD, relative spot move
    vol_shock: int256   # WAD, relative implied-vol move

grid: DynArray[uint256, MAX_SCENARIOS]


@internal
@pure
def _pack(s: Scenario) -> uint256:
    # bounded shocks (|x| <= 3e18) plus 2^127 lie in [0, 2^128)
    return (convert(s.spot_shock + OFFSET, uint256) << 128) | convert(s.vol_shock + OFFSET, uint256)


@internal
@pure
def _unpack(word: uint256) -> Scenario:
    return Scenario(
        spot_shock=convert(word >> 128, int256) - OFFSET,
        vol_shock=convert(word & MASK128, int256) - OFFSET,
    )


@internal
@view
def _count() -> uint256:
    return len(self.grid)


@internal
@view
def _scenario(i: uint256) -> Scenario:
    assert i < len(self.grid), "risk: no such scenario"
    return self._unpack(self.grid[i])


@internal
@view
def _scenarios() -> DynArray[Scenario, MAX_SCENARIOS]:
    out: DynArray[Scenario, MAX_SCENARIOS] = []
    for word: uint256 in self.grid:
        out.append(self._unpack(word))
    return out


@internal
@pure
def _check_grid(g: DynArray[Scenario, MAX_SCENARIOS]):
    assert len(g) >= MIN_SCENARIOS, "risk: too few scenarios"
    lo: int256 = max_value(int256)
    hi: int256 = min_value(int256)
    vol_hi: int256 = min_value(int256)
    for s: Scenario in g:
        assert (
            s.spot_shock >= SPOT_SHOCK_MIN and s.spot_shock <= SPOT_SHOCK_MAX
            and s.vol_shock >= VOL_SHOCK_MIN and s.vol_shock <= VOL_SHOCK_MAX
        ), "risk: scenario out of bounds"
        lo = min(lo, s.spot_shock)
        hi = max(hi, s.spot_shock)
        vol_hi = max(vol_hi, s.vol_shock)
    assert lo <= MIN_DOWN_MOVE, "risk: grid lacks down move"
    assert hi >= MIN_UP_MOVE, "risk: grid lacks up move"
    assert vol_hi >= MIN_VOL_UP, "risk: grid lacks vol-up move"


@internal
@pure
def _check_step(old: DynArray[Scenario, MAX_SCENARIOS], new: DynArray[Scenario, MAX_SCENARIOS]):
    assert len(new) + MAX_REMOVED >= len(old), "risk: too many scenarios removed"
    n: uint256 = min(len(old), len(new))
    for i: uint256 in range(n, bound=MAX_SCENARIOS):
        # bounded shocks: differences are far inside int256
        assert (
            abs(new[i].spot_shock - old[i].spot_shock) <= SPOT_STEP
            and abs(new[i].vol_shock - old[i].vol_shock) <= VOL_STEP
        ), "risk: scenario step too large"


@internal
def _store(g: DynArray[Scenario, MAX_SCENARIOS]):
    words: DynArray[uint256, MAX_SCENARIOS] = []
    for s: Scenario in g:
        words.append(self._pack(s))
    self.grid = words
