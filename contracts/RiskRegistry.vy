# pragma version 0.4.3
# pragma evm-version cancun
"""
@title RiskRegistry
@notice Risk parameters of one underlying market (volatility surface, margin scenario grid, margin,
        liquidation, trading and oracle terms) behind hard bounds, step bounds and a time lock.
        Every change is queued with the hash of the off-chain record that justifies it, can be
        cancelled by the guardian, and is executable by anyone between its eta and its deadline.
@dev Reads for the margin engine (all cheap views; WAD = 1e18 fixed point)
     implied_vol_at(expiry, strike, forward) -> uint256   annualised implied vol, WAD; T = (expiry - now) / 365 days,
                                                          k = ln(strike / forward).  Reverts "risk: expiry passed",
                                                          "risk: no surface for expiry"
     total_variance_at(expiry, k: int256) -> int256       SVI total variance w(k), WAD
     smile(expiry) -> Smile                               raw SVI (a, b, rho, m, sigma), WAD
     expiries() -> DynArray[uint256, 12]                  listed expiries (unix seconds), ascending
     scenarios() -> DynArray[Scenario, 32]                (spot_shock, vol_shock), WAD, signed:
                                                          S' = S (1 + spot_shock), sigma' = sigma (1 + vol_shock)
     im_ratio() -> uint256                                initial margin / maintenance margin, WAD (>= 1)
     min_margin() -> uint256                              minimum maintenance margin per short contract, WAD fraction of spot
     liquidation_penalty() -> uint256                     WAD fraction of the liquidated maintenance margin
     liquidator_share() -> uint256                        WAD fraction of the penalty paid to the liquidator
     dust_threshold() -> uint256                          WAD collateral units; an account below it is liquidated in full
     fee_rate() -> uint256                                trading fee, WAD fraction of spot per contract
     vol_spread() -> uint256                              bid/ask half-spread, WAD annualised vol (absolute)
     max_open_interest() -> uint256                       per series, WAD contracts
     oracle_heartbeat() -> uint256                        seconds
     oracle_max_deviation() -> uint256                    WAD fraction of the last accepted price, per update
     oracle_jump_cooldown() -> uint256                    seconds a jumped price must persist before it is accepted
     paused() -> bool                                     guardian's stop on new risk-increasing trading
     smile_updated_at(expiry) -> uint256                  when the smile was written (unix seconds): its vols are
                                                          calibrated for T = expiry - smile_updated_at; the stored total
                                                          variance does not shrink by itself, so a smile's implied vol
                                                          drifts up as expiry nears: the engine may treat old smiles as stale
     all_params() -> uint256[11]                          every scalar parameter in id order
     Also: is_listed, k_grid, scenario_count, scenario(i), param(id), param_bounds(id), surface_step_bounds,
     change(id), pending_change(kind, target), queued_value/queued_smile/queued_scenarios(id), roles, delays.

     Changes.  queue_param / queue_smile / queue_scenarios (risk manager) and queue_role (admin) check the
     change against hard bounds and the step bound now, and store it with eta = now + delay (a smile change
     whose vol step stays within the tight bound gets eta = now + surface_delay instead).  execute(id), by
     anyone, in [eta, deadline], checks everything again against the values current at execution (the step
     is measured from the value being replaced; for smiles, calibrated vol against calibrated vol) and
     applies it.  cancel(id): admin (any), guardian (any except a change of the guardian), risk manager (its
     own kinds).  Deadline = eta + grace_period (slow changes) or eta + surface_delay (fast smile changes: a
     stale calibration must not be applied late).  One live change per target at a time, so a large move
     split into steps waits a full delay per step.  Every queue/execute/cancel logs old and new values, eta
     and the reason hash; the constructor logs every initial value (action 0) with a genesis reason hash.
     Bounds and steps: risk/params.vy (scalar table), risk/svi.vy and risk/surface.vy (smiles and the smile
     steps), risk/scenarios.vy (grid); delays: constants below.

     Gas (titanoboa 0.2.8, Vyper 0.4.3, execution gas without the 21k intrinsic cost and calldata; python -m
     vyopt.risk writes reports/risk/gas.{md,json}): implied_vol_at 8.7k cold (two cold storage words), 4.7k
     warm; queue_param 121k, queue_smile 215k-274k, queue_scenarios(29) 886k, queue_role 104k; execute param
     19k, smile 171k-177k, scenarios(29) 235k, role 23k; cancel 21k.
"""

from .risk import svi
from .risk import surface
from .risk import params
from .risk import scenarios as scenario_grid
from .risk import roles
from .risk import timelock

initializes: surface
initializes: params
initializes: scenario_grid
initializes: roles
initializes: timelock

exports: (
    roles.admin,
    roles.pending_admin,
    roles.risk_manager,
    roles.guardian,
    roles.paused,
    timelock.change_count,
)

# Time lock (seconds), fixed at deployment.  delay: every change except a fast smile change; surface_delay
# <= delay: smile changes within the tight step (see risk/surface.vy); grace_period: window after eta for
# slow changes.
MIN_DELAY: constant(uint256) = 86400
MAX_DELAY: constant(uint256) = 30 * 86400
MIN_SURFACE_DELAY: constant(uint256) = 3600
MIN_GRACE: constant(uint256) = 3600
MAX_GRACE: constant(uint256) = 14 * 86400

ACTION_GENESIS: constant(uint256) = 0
ACTION_QUEUED: constant(uint256) = 1
ACTION_EXECUTED: constant(uint256) = 2
ACTION_CANCELLED: constant(uint256) = 3

event ParamChange:
    change_id: indexed(uint256)
    action: indexed(uint256)
    param: indexed(uint256)
    old_value: uint256
    new_value: uint256
    eta: uint256
    reason_hash: bytes32

event SmileChange:
    change_id: indexed(uint256)
    action: indexed(uint256)
    expiry: indexed(uint256)
    old_smile: svi.Smile
    new_smile: svi.Smile
    fast: bool
    eta: uint256
    reason_hash: bytes32

event ScenariosChange:
    change_id: indexed(uint256)
    action: indexed(uint256)
    old_scenarios: DynArray[scenario_grid.Scenario, scenario_grid.MAX_SCENARIOS]
    new_scenarios: DynArray[scenario_grid.Scenario, scenario_grid.MAX_SCENARIOS]
    eta: uint256
    reason_hash: bytes32

event RoleChange:
    change_id: indexed(uint256)
    action: indexed(uint256)
    role: indexed(uint256)
    old_account: address
    new_account: address
    eta: uint256
    reason_hash: bytes32

event AdminAccepted:
    old_admin: indexed(address)
    new_admin: indexed(address)

event Paused:
    account: indexed(address)

event Unpaused:
    account: indexed(address)

market: public(String[32])
delay: public(immutable(uint256))
surface_delay: public(immutable(uint256))
grace_period: public(immutable(uint256))

# queued payloads by change id
word_payload: HashMap[uint256, uint256]                  # param value, or role account as uint256
smile_payload: HashMap[uint256, uint256[2]]              # packed smile
grid_payload: HashMap[uint256, DynArray[uint256, scenario_grid.MAX_SCENARIOS]]  # packed scenarios


@deploy
def __init__(
    market: String[32],
    admin: address,
    risk_manager: address,
    guardian: address,
    delay_: uint256,
    surface_delay_: uint256,
    grace_period_: uint256,
    initial_params: uint256[params.N_PARAMS],
    initial_scenarios: DynArray[scenario_grid.Scenario, scenario_grid.MAX_SCENARIOS],
    initial_expiries: DynArray[uint256, surface.MAX_EXPIRIES],
    initial_smiles: DynArray[svi.Smile, surface.MAX_EXPIRIES],
    genesis_reason: bytes32,
):
    """
    @notice Deploy a registry for one market; every initial value passes the same rules as a change
            (hard bounds, no-arbitrage and calendar checks) except the step bound (there is no old value).
    @param market short name of the underlying market, e.g. "BTC-USD"
    @param admin, risk_manager, guardian role holders (non-zero, pairwise distinct)
    @param delay_ seconds, MIN_DELAY (1 day) .. MAX_DELAY (30 days)
    @param surface_delay_ seconds, MIN_SURFACE_DELAY (1 hour) .. delay_
    @param grace_period_ seconds, MIN_GRACE (1 hour) .. MAX_GRACE (14 days)
    @param initial_params the 11 scalar parameters in id order (see risk/params.vy for units)
    @param initial_scenarios the margin scenario grid, WAD shocks
    @param initial_expiries listed expiries, unix seconds, strictly increasing (may be empty)
    @param initial_smiles one SVI smile (WAD) per initial expiry
    @param genesis_reason hash of the record that justifies the initial values (non-zero)
    """
    assert delay_ >= MIN_DELAY and delay_ <= MAX_DELAY, "risk: delay out of bounds"
    assert surface_delay_ >= MIN_SURFACE_DELAY and surface_delay_ <= delay_, "risk: surface delay out of bounds"
    assert grace_period_ >= MIN_GRACE and grace_period_ <= MAX_GRACE, "risk: grace period out of bounds"
    assert genesis_reason != empty(bytes32), "risk: reason hash required"
    self.market = market
    delay = delay_
    surface_delay = surface_delay_
    grace_period = grace_period_

    roles._init(admin, risk_manager, guardian)
    self._log_role(0, ACTION_GENESIS, roles.ROLE_ADMIN, empty(address), admin, block.timestamp, genesis_reason)
    self._log_role(0, ACTION_GENESIS, roles.ROLE_RISK_MANAGER, empty(address), risk_manager, block.timestamp, genesis_reason)
    self._log_role(0, ACTION_GENESIS, roles.ROLE_GUARDIAN, empty(address), guardian, block.timestamp, genesis_reason)

    for i: uint256 in range(params.N_PARAMS):
        params._check_bounds(i, initial_params[i])
        params.param_values[i] = initial_params[i]
        self._log_param(0, ACTION_GENESIS, i, 0, initial_params[i], block.timestamp, genesis_reason)

    scenario_grid._check_grid(initial_scenarios)
    scenario_grid._store(initial_scenarios)
    self._log_scenarios(0, ACTION_GENESIS, [], initial_scenarios, block.timestamp, genesis_reason)

    assert len(initial_expiries) == len(initial_smiles), "risk: one smile per expiry"
    last: uint256 = 0
    for i: uint256 in range(len(initial_expiries), bound=surface.MAX_EXPIRIES):
        e: uint256 = initial_expiries[i]
        assert e > last, "risk: expiries must be increasing"
        last = e
        surface._check_smile(e, initial_smiles[i], block.timestamp)
        surface._write(e, initial_smiles[i])
        self._log_smile(0, ACTION_GENESIS, e, empty(svi.Smile), initial_smiles[i], False, block.timestamp, genesis_reason)



# ---------------------------------------------------------------------------------------------
# Queue (risk manager: parameters, smiles, scenarios; admin: roles)


@external
def queue_param(param: uint256, new_value: uint256, reason_hash: bytes32) -> uint256:
    """
    @notice Queue a change of one scalar parameter (risk manager).
    @param param parameter id 0..10 (see risk/params.vy)
    @param new_value new value in the parameter's unit (WAD or seconds)
    @param reason_hash hash of the maintenance record behind the change (non-zero)
    @return change id
    """
    self._only_risk_manager()
    params._check_bounds(param, new_value)
    old: uint256 = params.param_values[param]
    params._check_step(param, old, new_value)
    eta: uint256 = block.timestamp + delay
    cid: uint256 = timelock._queue(timelock.KIND_PARAM, param, eta, eta + grace_period, False, reason_hash)
    self.word_payload[cid] = new_value
    self._log_param(cid, ACTION_QUEUED, param, old, new_value, eta, reason_hash)
    return cid


@external
def queue_smile(expiry: uint256, smile: svi.Smile, reason_hash: bytes32) -> uint256:
    """
    @notice Queue the SVI smile of an expiry (risk manager): a new expiry, or an update of a listed one.
            An update whose implied vol moves by at most max(5%, 1 vol point) at every grid k takes the
            short surface_delay (deadline eta + surface_delay); otherwise the normal delay, with at most
            max(25%, 5 vol points).  The vols compared: the new smile's at T = expiry - eta, the current
            smile's at T = expiry - (time it was written), i.e. calibration against calibration (a stored
            smile's vol drifts up as expiry nears; see risk/surface.vy).  A new expiry always takes the
            normal delay.
    @param expiry unix timestamp (seconds)
    @param smile raw SVI parameters, WAD
    @param reason_hash hash of the calibration record (non-zero)
    @return change id
    """
    self._only_risk_manager()
    surface._remove_expired()
    svi._check_params(smile)
    listed: bool = surface._listed(expiry)
    old: svi.Smile = empty(svi.Smile)
    fast: bool = False
    eta: uint256 = block.timestamp + surface_delay
    tau_old: uint256 = 0
    if listed:
        old = surface._smile(expiry)
        tau_old = expiry - surface._written_at(expiry)
        fast = expiry > eta and surface._vol_step_ok(old, tau_old, smile, expiry - eta, surface.FAST_STEP_REL, surface.FAST_STEP_ABS)
    deadline: uint256 = eta + surface_delay
    if not fast:
        eta = block.timestamp + delay
        deadline = eta + grace_period
    surface._check_smile(expiry, smile, eta)
    if listed and not fast:
        surface._check_vol_step(old, tau_old, smile, expiry - eta, False)
    if not listed:
        live: uint256 = 0
        for e: uint256 in surface.expiry_list:
            if e > eta:
                live += 1
        assert live < surface.MAX_EXPIRIES, "risk: too many expiries"
    cid: uint256 = timelock._queue(timelock.KIND_SMILE, expiry, eta, deadline, fast, reason_hash)
    self.smile_payload[cid] = svi._pack(smile)
    self._log_smile(cid, ACTION_QUEUED, expiry, old, smile, fast, eta, reason_hash)
    return cid


@external
def queue_scenarios(new_scenarios: DynArray[scenario_grid.Scenario, scenario_grid.MAX_SCENARIOS], reason_hash: bytes32) -> uint256:
    """
    @notice Queue a new margin scenario grid (risk manager); see risk/scenario_grid.vy for bounds and steps.
    @param new_scenarios (spot_shock, vol_shock) pairs, WAD relative moves
    @param reason_hash hash of the backtest / stress record (non-zero)
    @return change id
    """
    self._only_risk_manager()
    scenario_grid._check_grid(new_scenarios)
    old: DynArray[scenario_grid.Scenario, scenario_grid.MAX_SCENARIOS] = scenario_grid._scenarios()
    scenario_grid._check_step(old, new_scenarios)
    eta: uint256 = block.timestamp + delay
    cid: uint256 = timelock._queue(timelock.KIND_SCENARIOS, 0, eta, eta + grace_period, False, reason_hash)
    words: DynArray[uint256, scenario_grid.MAX_SCENARIOS] = []
    for s: scenario_grid.Scenario in new_scenarios:
        words.append(scenario_grid._pack(s))
    self.grid_payload[cid] = words
    self._log_scenarios(cid, ACTION_QUEUED, old, new_scenarios, eta, reason_hash)
    return cid


@external
def queue_role(role: uint256, account: address, reason_hash: bytes32) -> uint256:
    """
    @notice Queue a role change (admin).  role 0 nominates a new admin (who must then accept_admin),
            1 replaces the risk manager, 2 the guardian.
    @param role 0 admin, 1 risk manager, 2 guardian
    @param account new holder (non-zero, distinct from the other roles)
    @param reason_hash hash of the governance record (non-zero)
    @return change id
    """
    assert msg.sender == roles.admin, "risk: caller is not the admin"
    roles._check_new_holder(role, account)
    old: address = roles._holder(role)
    eta: uint256 = block.timestamp + delay
    cid: uint256 = timelock._queue(timelock.KIND_ROLE, role, eta, eta + grace_period, False, reason_hash)
    self.word_payload[cid] = convert(account, uint256)
    self._log_role(cid, ACTION_QUEUED, role, old, account, eta, reason_hash)
    return cid


# ---------------------------------------------------------------------------------------------
# Execute (anyone) and cancel


@external
def execute(change_id: uint256):
    """
    @notice Apply a queued change once its eta has passed and before its deadline (anyone may call).
            Every rule is checked again against the current values.
    @param change_id id returned by a queue_* call
    """
    c: timelock.Change = timelock._consume(change_id)
    if c.kind == timelock.KIND_PARAM:
        new_value: uint256 = self.word_payload[change_id]
        old: uint256 = params.param_values[c.target]
        params._check_bounds(c.target, new_value)
        params._check_step(c.target, old, new_value)
        params.param_values[c.target] = new_value
        self._log_param(change_id, ACTION_EXECUTED, c.target, old, new_value, c.eta, c.reason_hash)
    elif c.kind == timelock.KIND_SMILE:
        self._execute_smile(change_id, c)
    elif c.kind == timelock.KIND_SCENARIOS:
        new: DynArray[scenario_grid.Scenario, scenario_grid.MAX_SCENARIOS] = self._grid_payload(change_id)
        old_grid: DynArray[scenario_grid.Scenario, scenario_grid.MAX_SCENARIOS] = scenario_grid._scenarios()
        scenario_grid._check_grid(new)
        scenario_grid._check_step(old_grid, new)
        scenario_grid._store(new)
        self._log_scenarios(change_id, ACTION_EXECUTED, old_grid, new, c.eta, c.reason_hash)
    else:
        account: address = convert(convert(self.word_payload[change_id], uint160), address)
        roles._check_new_holder(c.target, account)
        old_account: address = roles._holder(c.target)
        roles._set(c.target, account)
        self._log_role(change_id, ACTION_EXECUTED, c.target, old_account, account, c.eta, c.reason_hash)


@internal
def _execute_smile(change_id: uint256, c: timelock.Change):
    surface._remove_expired()
    expiry: uint256 = c.target
    new: svi.Smile = svi._unpack(self.smile_payload[change_id])
    surface._check_smile(expiry, new, block.timestamp)
    old: svi.Smile = empty(svi.Smile)
    if surface._listed(expiry):
        old = surface._smile(expiry)
        surface._check_vol_step(old, expiry - surface._written_at(expiry), new, expiry - block.timestamp, c.fast)
    else:
        # a fast change is only queued for a listed expiry, which leaves the list only once expired
        assert not c.fast  # dev: fast change for an unlisted expiry
    surface._write(expiry, new)
    self._log_smile(change_id, ACTION_EXECUTED, expiry, old, new, c.fast, c.eta, c.reason_hash)


@external
def cancel(change_id: uint256):
    """
    @notice Cancel a queued change.  Admin: any change; guardian: any change except one that replaces
            the guardian; risk manager: parameter, smile and scenario changes.
    @param change_id id of a queued change
    """
    c: timelock.Change = timelock._get(change_id)
    allowed: bool = msg.sender == roles.admin
    if msg.sender == roles.guardian:
        allowed = not (c.kind == timelock.KIND_ROLE and c.target == roles.ROLE_GUARDIAN)
    elif msg.sender == roles.risk_manager:
        allowed = c.kind != timelock.KIND_ROLE
    assert allowed, "risk: caller may not cancel"
    c = timelock._cancel(change_id)
    if c.kind == timelock.KIND_PARAM:
        self._log_param(change_id, ACTION_CANCELLED, c.target, params.param_values[c.target], self.word_payload[change_id], c.eta, c.reason_hash)
    elif c.kind == timelock.KIND_SMILE:
        self._log_smile(change_id, ACTION_CANCELLED, c.target, surface._smile(c.target), svi._unpack(self.smile_payload[change_id]), c.fast, c.eta, c.reason_hash)
    elif c.kind == timelock.KIND_SCENARIOS:
        self._log_scenarios(change_id, ACTION_CANCELLED, scenario_grid._scenarios(), self._grid_payload(change_id), c.eta, c.reason_hash)
    else:
        self._log_role(change_id, ACTION_CANCELLED, c.target, roles._holder(c.target), convert(convert(self.word_payload[change_id], uint160), address), c.eta, c.reason_hash)


# ---------------------------------------------------------------------------------------------
# Roles and guardian actions


@external
def accept_admin():
    """
    @notice Second step of an admin transfer: the nominated pending admin takes the role.
    """
    old: address = roles._accept_admin()
    log AdminAccepted(old_admin=old, new_admin=msg.sender)


@external
def pause():
    """
    @notice Stop new risk-increasing trading (guardian or admin).  Closing, deposits and liquidations
            are unaffected; the margin engine reads paused().
    """
    self._only_guardian_or_admin()
    roles.paused = True
    log Paused(account=msg.sender)


@external
def unpause():
    """
    @notice Resume risk-increasing trading (guardian or admin).
    """
    self._only_guardian_or_admin()
    roles.paused = False
    log Unpaused(account=msg.sender)


@external
def remove_expired() -> uint256:
    """
    @notice Drop every listed expiry that has passed, with its smile (anyone may call).
    @return number of expiries removed
    """
    return surface._remove_expired()


# ---------------------------------------------------------------------------------------------
# Surface views


@view
@external
def implied_vol_at(expiry: uint256, strike: uint256, forward: uint256) -> uint256:
    """
    @notice Implied volatility of the on-chain SVI surface.
    @param expiry unix timestamp (seconds) of a listed expiry, in the future
    @param strike WAD, 0 < strike <= 1e36
    @param forward WAD, 0 < forward <= 1e36
    @return annualised implied vol, WAD, rounded down: sqrt(w(ln(strike/forward)) / T), T = (expiry - now) / 365 days
    """
    return surface._implied_vol_at(expiry, strike, forward)


@view
@external
def total_variance_at(expiry: uint256, k: int256) -> int256:
    """
    @notice SVI total implied variance of a listed expiry (time independent).
    @param expiry unix timestamp (seconds)
    @param k log-moneyness ln(K/F), WAD, |k| <= 1000
    @return w(k), WAD
    """
    return surface._total_variance_at(expiry, k)


@view
@external
def smile(expiry: uint256) -> svi.Smile:
    """
    @notice Raw SVI parameters of a listed expiry.
    @param expiry unix timestamp (seconds)
    @return (a, b, rho, m, sigma), WAD
    """
    return surface._unpack_stored(surface._listed_words(expiry))


@view
@external
def smile_updated_at(expiry: uint256) -> uint256:
    """
    @notice When the listed smile of `expiry` was written (unix seconds); its vols were calibrated for
            T = expiry - smile_updated_at.  The margin engine may treat an old smile as stale.
    @param expiry unix timestamp (seconds) of a listed expiry
    """
    surface._listed_words(expiry)  # reverts "risk: no surface for expiry"
    return surface._written_at(expiry)


@view
@external
def is_listed(expiry: uint256) -> bool:
    """
    @notice True when the expiry has a smile (it may have passed and await remove_expired).
    @param expiry unix timestamp (seconds)
    """
    return surface._listed(expiry)


@view
@external
def expiries() -> DynArray[uint256, surface.MAX_EXPIRIES]:
    """
    @notice Listed expiries, ascending (unix seconds); may include passed ones until remove_expired.
    """
    return surface.expiry_list


@view
@external
def k_grid() -> int256[svi.N_GRID]:
    """
    @notice Log-moneyness grid (WAD) of the butterfly, calendar, vol-bound and vol-step checks.
    """
    out: int256[svi.N_GRID] = empty(int256[svi.N_GRID])
    for i: uint256 in range(svi.N_GRID):
        out[i] = svi._grid_k(i)
    return out


# ---------------------------------------------------------------------------------------------
# Scenario views


@view
@external
def scenarios() -> DynArray[scenario_grid.Scenario, scenario_grid.MAX_SCENARIOS]:
    """
    @notice The margin scenario grid: (spot_shock, vol_shock), WAD, S' = S(1 + spot_shock), sigma' = sigma(1 + vol_shock).
    """
    return scenario_grid._scenarios()


@view
@external
def scenario_count() -> uint256:
    """
    @notice Number of scenarios in the grid.
    """
    return scenario_grid._count()


@view
@external
def scenario(i: uint256) -> scenario_grid.Scenario:
    """
    @notice One scenario of the grid.
    @param i index < scenario_count()
    @return (spot_shock, vol_shock), WAD
    """
    return scenario_grid._scenario(i)


# ---------------------------------------------------------------------------------------------
# Scalar parameter views


@view
@external
def im_ratio() -> uint256:
    """
    @notice Initial margin / maintenance margin, WAD (>= 1e18).
    """
    return params.param_values[params.IM_RATIO]


@view
@external
def min_margin() -> uint256:
    """
    @notice Minimum maintenance margin per short contract, WAD fraction of spot.
    """
    return params.param_values[params.MIN_MARGIN]


@view
@external
def liquidation_penalty() -> uint256:
    """
    @notice Liquidation penalty, WAD fraction of the liquidated maintenance margin.
    """
    return params.param_values[params.LIQUIDATION_PENALTY]


@view
@external
def liquidator_share() -> uint256:
    """
    @notice Liquidator's share of the penalty, WAD fraction (the rest goes to the insurance fund).
    """
    return params.param_values[params.LIQUIDATOR_SHARE]


@view
@external
def dust_threshold() -> uint256:
    """
    @notice Accounts whose maintenance margin is below this are liquidated in full, WAD collateral units.
    """
    return params.param_values[params.DUST_THRESHOLD]


@view
@external
def fee_rate() -> uint256:
    """
    @notice Trading fee, WAD fraction of spot per contract.
    """
    return params.param_values[params.FEE_RATE]


@view
@external
def vol_spread() -> uint256:
    """
    @notice Bid/ask half-spread around the surface vol, WAD annualised vol (absolute).
    """
    return params.param_values[params.VOL_SPREAD]


@view
@external
def max_open_interest() -> uint256:
    """
    @notice Maximum open interest per series, WAD contracts.
    """
    return params.param_values[params.MAX_OPEN_INTEREST]


@view
@external
def oracle_heartbeat() -> uint256:
    """
    @notice Oldest acceptable feed update, seconds.
    """
    return params.param_values[params.ORACLE_HEARTBEAT]


@view
@external
def oracle_max_deviation() -> uint256:
    """
    @notice Largest accepted move per update relative to the last accepted price, WAD fraction.
    """
    return params.param_values[params.ORACLE_MAX_DEVIATION]


@view
@external
def oracle_jump_cooldown() -> uint256:
    """
    @notice Seconds a jumped price must persist (within max deviation of itself) before it is accepted.
    """
    return params.param_values[params.ORACLE_JUMP_COOLDOWN]


@view
@external
def param(param: uint256) -> uint256:
    """
    @notice Current value of a scalar parameter by id (0..10).
    @return value in the parameter's unit (WAD or seconds)
    """
    params._bounds(param)  # reverts "risk: unknown param"
    return params.param_values[param]


@view
@external
def all_params() -> uint256[params.N_PARAMS]:
    """
    @notice Every scalar parameter in id order (units as the named getters).
    """
    return params.param_values


@view
@external
def param_bounds(param: uint256) -> (uint256, uint256, uint256, uint256):
    """
    @notice Hard bounds and step bound of a scalar parameter.
    @return (lo, hi, step_abs, step_rel): lo <= value <= hi; a change moves it by at most
            max(step_abs, old * step_rel / 1e18) (step_rel a WAD fraction)
    """
    return params._bounds(param)


@view
@external
def surface_step_bounds() -> (uint256, uint256, uint256, uint256):
    """
    @notice Smile step bounds (WAD): fast (surface_delay) relative and absolute, slow (delay) relative and absolute.
    """
    return surface.FAST_STEP_REL, surface.FAST_STEP_ABS, surface.SLOW_STEP_REL, surface.SLOW_STEP_ABS


# ---------------------------------------------------------------------------------------------
# Queue views


@view
@external
def change(change_id: uint256) -> timelock.Change:
    """
    @notice A queued/executed/cancelled change: kind (1 param, 2 smile, 3 scenarios, 4 role), status
            (1 queued, 2 executed, 3 cancelled), target, eta and deadline (unix seconds), fast, reason hash.
    """
    return timelock._get(change_id)


@view
@external
def pending_change(kind: uint256, target: uint256) -> uint256:
    """
    @notice Id of the live queued change for (kind, target), or 0.
    """
    return timelock._pending_id(kind, target)


@view
@external
def queued_value(change_id: uint256) -> uint256:
    """
    @notice Payload of a parameter change (new value) or role change (new account as uint256).
    """
    return self.word_payload[change_id]


@view
@external
def queued_smile(change_id: uint256) -> svi.Smile:
    """
    @notice Payload of a smile change (WAD).
    """
    return svi._unpack(self.smile_payload[change_id])


@view
@external
def queued_scenarios(change_id: uint256) -> DynArray[scenario_grid.Scenario, scenario_grid.MAX_SCENARIOS]:
    """
    @notice Payload of a scenario-grid change (WAD).
    """
    return self._grid_payload(change_id)


# ---------------------------------------------------------------------------------------------
# Internal helpers (one copy of each event encoder keeps the deployable under the EIP-170 size limit)


@internal
@view
def _only_risk_manager():
    assert msg.sender == roles.risk_manager, "risk: caller is not the risk manager"


@internal
@view
def _only_guardian_or_admin():
    assert msg.sender == roles.guardian or msg.sender == roles.admin, "risk: caller may not pause"


@internal
@view
def _grid_payload(change_id: uint256) -> DynArray[scenario_grid.Scenario, scenario_grid.MAX_SCENARIOS]:
    out: DynArray[scenario_grid.Scenario, scenario_grid.MAX_SCENARIOS] = []
    for word: uint256 in self.grid_payload[change_id]:
        out.append(scenario_grid._unpack(word))
    return out


@internal
def _log_param(change_id: uint256, action: uint256, param: uint256, old_value: uint256, new_value: uint256, eta: uint256, reason_hash: bytes32):
    log ParamChange(change_id=change_id, action=action, param=param, old_value=old_value, new_value=new_value, eta=eta, reason_hash=reason_hash)


@internal
def _log_smile(change_id: uint256, action: uint256, expiry: uint256, old_smile: svi.Smile, new_smile: svi.Smile, fast: bool, eta: uint256, reason_hash: bytes32):
    log SmileChange(change_id=change_id, action=action, expiry=expiry, old_smile=old_smile, new_smile=new_smile, fast=fast, eta=eta, reason_hash=reason_hash)


@internal
def _log_scenarios(change_id: uint256, action: uint256, old_scenarios: DynArray[scenario_grid.Scenario, scenario_grid.MAX_SCENARIOS], new_scenarios: DynArray[scenario_grid.Scenario, scenario_grid.MAX_SCENARIOS], eta: uint256, reason_hash: bytes32):
    log ScenariosChange(change_id=change_id, action=action, old_scenarios=old_scenarios, new_scenarios=new_scenarios, eta=eta, reason_hash=reason_hash)


@internal
def _log_role(change_id: uint256, action: uint256, role: uint256, old_account: address, new_account: address, eta: uint256, reason_hash: bytes32):
    log RoleChange(change_id=change_id, action=action, role=role, old_account=old_account, new_account=new_account, eta=eta, reason_hash=reason_hash)
