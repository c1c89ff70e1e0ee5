# pragma version 0.4.3
# pragma evm-version cancun
"""
@title params
@notice Scalar risk parameters of one market: current values, hard bounds and the maximum step per
        change.  Stateful module: the registry initializes it.
@dev API
     param_values: uint256[N_PARAMS]                 storage   current values
     _check_bounds(param, new_value)                 internal pure   hard bounds
     _check_step(param, old, new)                    internal pure   |new - old| <= max(STEP_ABS, old * STEP_REL)
     _bounds(param) -> (lo, hi, step_abs, step_rel)  internal pure

     | id | name                  | unit                                   | lo      | hi        | step_abs | step_rel |
     |  0 | im_ratio              | WAD, initial / maintenance margin      | 1.0     | 3.0       | 0.1      | -        |
     |  1 | min_margin            | WAD fraction of spot per short contract| 0.01    | 0.25      | 0.005    | 25%      |
     |  2 | liquidation_penalty   | WAD fraction of the liquidated MM      | 0.01    | 0.5       | 0.025    | -        |
     |  3 | liquidator_share      | WAD fraction of the penalty            | 0.1     | 1.0       | 0.1      | -        |
     |  4 | dust_threshold        | WAD collateral units                   | 0       | 100,000   | 100      | 50%      |
     |  5 | fee_rate              | WAD fraction of spot per contract      | 0       | 0.005     | 0.0005   | -        |
     |  6 | vol_spread            | WAD annualised vol (absolute)          | 0       | 0.25      | 0.01     | -        |
     |  7 | max_open_interest     | WAD contracts per series               | 0       | 1e9       | 10       | 50%      |
     |  8 | oracle_heartbeat      | seconds (plain integer)                | 60      | 90,000    | 600      | 50%      |
     |  9 | oracle_max_deviation  | WAD fraction of the last accepted price| 0.01    | 0.5       | 0.02     | -        |
     | 10 | oracle_jump_cooldown  | seconds (plain integer)                | 300     | 86,400    | 900      | 50%      |
     The step rule is symmetric (a cut is bounded like a raise: a sudden margin hike liquidates
     accounts just as surely as a sudden cut under-collateralises them).  The allowed step
     max(step_abs, old * step_rel) is rounded down.
"""

WAD: constant(uint256) = 10**18
N_PARAMS: constant(uint256) = 11

IM_RATIO: constant(uint256) = 0
MIN_MARGIN: constant(uint256) = 1
LIQUIDATION_PENALTY: constant(uint256) = 2
LIQUIDATOR_SHARE: constant(uint256) = 3
DUST_THRESHOLD: constant(uint256) = 4
FEE_RATE: constant(uint256) = 5
VOL_SPREAD: constant(uint256) = 6
MAX_OPEN_INTEREST: constant(uint256) = 7
ORACLE_HEARTBEAT: constant(uint256) = 8
ORACLE_MAX_DEVIATION: constant(uint256) = 9
ORACLE_JUMP_COOLDOWN: constant(uint256) = 10

LO: constant(uint256[N_PARAMS]) = [
    10**18, 10**16, 10**16, 10**17, 0, 0, 0, 0, 60, 10**16, 300
]
HI: constant(uint256[N_PARAMS]) = [
    3 * 10**18, 25 * 10**16, 5 * 10**17, 10**18, 10**23, 5 * 10**15, 25 * 10**16, 10**27, 90000, 5 * 10**17, 86400
]
STEP_ABS: constant(uint256[N_PARAMS]) = [
    10**17, 5 * 10**15, 25 * 10**15, 10**17, 10**20, 5 * 10**14, 10**16, 10**19, 600, 2 * 10**16, 900
]
STEP_REL: constant(uint256[N_PARAMS]) = [
    0, 25 * 10**16, 0, 0, 5 * 10**17, 0, 0, 5 * 10**17, 5 * 10**17, 0, 5 * 10**17
]

param_values: uint256[N_PARAMS]


@internal
@pure
def _bounds(param: uint256) -> (uint256, uint256, uint256, uint256):
    """
    @notice (lo, hi, step_abs, step_rel) of a parameter.
    @dev the only place that indexes the constant tables: each indexing re-materialises a table in
         memory, so sharing one copy keeps the deployable small.
    """
    assert param < N_PARAMS, "risk: unknown param"
    return LO[param], HI[param], STEP_ABS[param], STEP_REL[param]


@internal
@pure
def _check_bounds(param: uint256, new_value: uint256):
    lo: uint256 = 0
    hi: uint256 = 0
    step_abs: uint256 = 0
    step_rel: uint256 = 0
    lo, hi, step_abs, step_rel = self._bounds(param)
    assert new_value >= lo and new_value <= hi, "risk: param out of bounds"


@internal
@pure
def _check_step(param: uint256, old: uint256, new: uint256):
    lo: uint256 = 0
    hi: uint256 = 0
    step_abs: uint256 = 0
    step_rel: uint256 = 0
    lo, hi, step_abs, step_rel = self._bounds(param)
    # old <= hi <= 1e27 and step_rel <= 1e18: the product is < 2^256.  Allowed step rounded down.
    allowed: uint256 = max(step_abs, old * step_rel // WAD)
    delta: uint256 = 0
    if new > old:
        delta = new - old
    else:
        delta = old - new
    assert delta <= allowed, "risk: param step too large"
