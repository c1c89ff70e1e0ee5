# pragma version 0.4.3
# pragma evm-version cancun
"""
@title OptionsMarket
@notice Cash-settled European options on one underlying, margined in one ERC-20 collateral, traded
        against a liquidity pool, priced on-chain from the RiskRegistry's SVI surface, with portfolio
        (scenario) margin, partial liquidation, an insurance fund and socialized losses.
@dev Units.  Collateral amounts in the token's own units at the ABI of deposit/withdraw/lp_*/fund_insurance
     (returns of lp_withdraw too); everything else WAD (1e18): prices, premiums, values, margins in quote
     currency (the collateral is taken to be worth one unit of the quote currency, e.g. USDC for BTC-USD);
     sizes in WAD contracts (1e18 = one unit of the underlying, + long, - short).  Internally one token
     unit = SCALE = 10^(18 - decimals) WAD, so deposits and withdrawals convert exactly and the token
     balance equals the sum of the internal balances (cash of every account + pool cash + insurance fund +
     protocol fees) times SCALE, to the wei.
     Rounding, always for the protocol: values of positions toward -inf, scenario losses and margins up,
     premiums paid up and received down, fees up, settlement payoffs toward -inf (longs receive less,
     shorts pay more), LP shares minted down and LP withdrawals paid down, penalties and rewards down.
     Roles come from the registry: risk manager or admin lists series; admin collects fees; guardian or
     admin records a late settlement; the registry's guardian pause stops risk-increasing actions only.
     Valuation: MarginEngine (a stateless deployable on the same registry) values every position and
     computes every margin from the legs this contract sends it; model in market/margin.vy (r = 0, total
     vol from the SVI smile, sticky-strike scenario vols, one tails + normalised per (series, scenario)).
     Flows, roles, events and findings of the independent review: README.md, "The options market".

     Rules
       account_value = collateral + sum q * mark (expired series at intrinsic value of the settlement
                       price once recorded, of the spot before)
       maintenance   = max(0, worst scenario loss) + min_margin * spot * short contracts
       initial       = maintenance * im_ratio
       liquidatable  iff account_value < maintenance
       Trades and withdrawals leave account_value >= initial, or (trades only) strictly reduce the
       maintenance margin without leaving a negative value.  The pool (key: this contract's address) is
       the counterparty of every trade and is margined by the same rule; LPs withdraw only its free margin
       (pool value - pool initial margin, and no more than its cash).
       Risk-increasing = a trade that increases |position| (or flips it), a withdrawal with open positions,
       an LP withdrawal while the pool holds positions: needs an oracle price that passed every check
       (otherwise the oracle's own reason is the revert reason) and no guardian pause.  Closing trades work
       with a price that failed a check, priced at the worse for the trader of the oracle's price and its
       last accepted price (a glitch print can be neither sold into nor bought out of); deposits and
       settlements of recorded expiries need no good price; liquidations
       with a failed check value the account at the last accepted price and need it clearly unhealthy
       (value < maintenance / 2); one with value in [maintenance / 2, maintenance) needs a good price.
       Liquidation closes positions against the pool at mark (value-neutral to the wei): only as far as
       needed to bring the account back to its initial margin after the penalty, or the whole account when
       its value is below the dust threshold, it holds no short, or no partial close can restore it
       (value <= penalty * maintenance).  Penalty = liquidation_penalty * (maintenance released), at most
       the account's remaining value; the keeper gets liquidator_share of it as collateral, the insurance
       fund the rest.  An account left with no positions and negative collateral is bad debt: the insurance
       fund covers it, the pool absorbs what is left (BadDebt event).
       Settlement: the price of the feed's first round stamped at or after expiry, proven from the round
       before it (oracle.settlement_round), recorded by anyone within SETTLEMENT_WINDOW; later only the
       guardian or admin, who may record that round (or the next confirmed one) without its heartbeat and
       jump checks, and fall back to the price the oracle accepts then only when no round can be proven
       (event flags late, unchecked, fallback).  Positions settle at intrinsic value when the account is
       next touched or by settle_account.
       Series: at most MAX_POOL_SERIES (32) listed and not retired (active_series); a series retires when
       its expiry's settlement price is recorded and no account holds it (at settle_expiry, or when its last
       holder settles).  The pool holds only series some account holds, so its book (32 slots) never fills
       and no closing trade, liquidation or settlement can be refused for room; accounts hold at most
       MAX_ACCOUNT_SERIES (16).
       Bounds: token amounts <= 2^128 units, |size| <= 1e27 contracts per trade or quote (the registry's
       open-interest hard bound), so no arithmetic overflows on user input.
"""

from ethereum.ercs import IERC20Detailed
from . import MarginEngine
from .market import safe_erc20

interface Registry:
    def is_listed(expiry: uint256) -> bool: view
    def max_open_interest() -> uint256: view
    def liquidator_share() -> uint256: view
    def liquidation_penalty() -> uint256: view
    def paused() -> bool: view
    def admin() -> address: view
    def risk_manager() -> address: view
    def guardian() -> address: view

interface Oracle:
    def update() -> (uint256, bool): nonpayable
    def peek() -> (uint256, bool, uint256): view
    def price_for_risk_increase() -> uint256: view
    def last_updated_at() -> uint256: view
    def last_price() -> uint256: view

WAD: constant(uint256) = 10**18
IWAD: constant(int256) = 10**18
MAX_ACCOUNT_SERIES: constant(uint256) = 16
MAX_POOL_SERIES: constant(uint256) = 32              # also the most series listed and not retired
MAX_LEGS: constant(uint256) = 49                    # account + pool series + the traded one
MIN_STRIKE: constant(uint256) = 10**12              # the pricer's domain: 1e-6 ... 1e12
MAX_STRIKE: constant(uint256) = 10**30
SETTLEMENT_WINDOW: constant(uint256) = 3600         # seconds after expiry for a permissionless settlement
DEAD_SHARES: constant(uint256) = 10**9              # locked by the first LP deposit (share-price floor)
ID_BITS: constant(uint256) = 32
ID_MASK: constant(uint256) = 2**32 - 1
MAX_SERIES_ID: constant(uint256) = 2**32 - 1
NO_FOCUS: constant(uint256) = max_value(uint256)
STRIKE_MASK: constant(uint256) = 2**128 - 1
MAX_AMOUNT: constant(uint256) = 2**128              # token units per call: amount * scale < 2^188 fits int256
MAX_SIZE: constant(int256) = 10**27                 # |size| per trade or quote, WAD: the open-interest hard bound

# ---------------------------------------------------------------------------------------------
# Events

event Deposit:
    account: indexed(address)
    amount: uint256          # token units

event Withdraw:
    account: indexed(address)
    amount: uint256          # token units

event SeriesListed:
    series_id: indexed(uint256)
    expiry: indexed(uint256)
    strike: uint256
    is_call: bool

event SeriesRetired:
    series_id: indexed(uint256)  # expired, settlement price recorded, no account holds it: frees a listing slot

event Trade:
    account: indexed(address)
    series_id: indexed(uint256)
    size: int256
    premium: uint256         # paid (size > 0) or received (size < 0), fee included, WAD
    fee: uint256
    mark: uint256
    vol: uint256
    position: int256         # the account's position after the trade

event LpDeposit:
    provider: indexed(address)
    amount: uint256          # token units
    shares: uint256

event LpWithdraw:
    provider: indexed(address)
    shares: uint256
    amount: uint256          # token units

event Liquidation:
    account: indexed(address)
    keeper: indexed(address)
    series_id: indexed(uint256)
    full: bool
    value: int256            # account value before, WAD
    maintenance_before: uint256
    maintenance_after: uint256
    penalty: uint256
    reward: uint256

event PositionLiquidated:
    account: indexed(address)
    series_id: indexed(uint256)
    size: int256             # change of the account's position (toward zero), WAD contracts
    transfer: int256         # collateral the account received (+) or paid (-) at mark, WAD

event BadDebt:
    account: indexed(address)
    deficit: uint256
    from_insurance: uint256
    socialized: uint256

event ExpirySettled:
    expiry: indexed(uint256)
    price: uint256
    price_time: uint256
    late: bool            # recorded after SETTLEMENT_WINDOW (guardian or admin)
    round_id: uint256     # the proven feed round (oracle.settlement_round); 0 with fallback
    unchecked: bool       # late: recorded by settlement_round_unchecked (no heartbeat/jump check, confirmed instead)
    fallback: bool        # no round could be proven: the price the oracle accepted at the call

event PositionSettled:
    account: indexed(address)
    series_id: indexed(uint256)
    size: int256
    payoff: int256

event InsuranceFunded:
    funder: indexed(address)
    amount: uint256          # token units

event FeesCollected:
    receiver: indexed(address)
    amount: uint256          # token units

# ---------------------------------------------------------------------------------------------
# State

registry: public(immutable(Registry))
oracle: public(immutable(Oracle))
engine: public(immutable(MarginEngine.__interface__))
collateral_token: public(immutable(address))
collateral_scale: public(immutable(uint256))        # WAD per token unit, 10^(18 - decimals)

series_count: public(uint256)
series_word: HashMap[uint256, uint256]              # id -> strike | expiry << 128 | is_call << 192
series_id_of: HashMap[uint256, uint256]             # packed word -> id (duplicates refused)
expiry_ids: HashMap[uint256, DynArray[uint256, MAX_POOL_SERIES]]   # expiry -> its listed series ids
active_series: public(uint256)                      # listed series not yet retired, <= MAX_POOL_SERIES
settlement_price: public(HashMap[uint256, uint256]) # expiry -> WAD price, 0 until recorded
open_interest: public(HashMap[uint256, uint256])    # series -> sum over accounts (not the pool) of |q|

cash: HashMap[address, int256]                      # collateral, WAD (the pool's under self)
positions: HashMap[address, HashMap[uint256, int256]]
book: HashMap[address, uint256[4]]                  # open series ids, 8 x 32 bits a word, no holes

lp_shares: public(HashMap[address, uint256])
total_shares: public(uint256)
insurance_fund: public(uint256)                     # WAD
protocol_fees: public(uint256)                      # WAD


@deploy
def __init__(registry_: address, oracle_: address, collateral_: address, engine_: address):
    """
    @param registry_ RiskRegistry of the underlying (surface, grid, parameters, roles, pause)
    @param oracle_ PriceOracle of the underlying (WAD spot, guarded)
    @param collateral_ ERC-20 collateral with decimals() <= 18; plain transfers only (no fee on transfer)
    @param engine_ MarginEngine on the same registry
    """
    assert registry_.is_contract, "market: registry is not a contract"
    assert oracle_.is_contract, "market: oracle is not a contract"
    assert collateral_.is_contract, "market: collateral is not a contract"
    assert engine_.is_contract, "market: engine is not a contract"
    assert (staticcall MarginEngine.__interface__(engine_).registry()).address == registry_, "market: engine on another registry"
    d: uint8 = staticcall IERC20Detailed(collateral_).decimals()
    assert d <= 18, "market: collateral decimals above 18"
    registry = Registry(registry_)
    oracle = Oracle(oracle_)
    engine = MarginEngine.__interface__(engine_)
    collateral_token = collateral_
    collateral_scale = 10 ** (18 - convert(d, uint256))


# ---------------------------------------------------------------------------------------------
# Collateral


@external
@nonreentrant
def deposit(amount: uint256):
    """
    @notice Add collateral to the caller's account (always allowed: no oracle, no pause check).
    @param amount token units (> 0, <= 2^128)
    """
    assert amount != 0, "market: zero amount"
    assert amount <= MAX_AMOUNT, "market: amount too large"
    safe_erc20._pull(collateral_token, msg.sender, amount)
    self.cash[msg.sender] += convert(amount * collateral_scale, int256)
    log Deposit(account=msg.sender, amount=amount)


@external
@nonreentrant
def withdraw(amount: uint256):
    """
    @notice Take collateral out; collateral never goes negative.  With open positions this is
            risk-increasing: it needs a good oracle price and no pause, and leaves account_value >=
            initial margin.
    @param amount token units (> 0, <= 2^128)
    """
    assert amount != 0, "market: zero amount"
    assert amount <= MAX_AMOUNT, "market: amount too large"
    self._touch(msg.sender)
    c: int256 = self.cash[msg.sender] - convert(amount * collateral_scale, int256)
    assert c >= 0, "market: insufficient collateral"
    self.cash[msg.sender] = c
    if self._count(msg.sender) != 0:
        spot: uint256 = self._risk_price()
        r: MarginEngine.Result = self._evaluate(spot, msg.sender, empty(address), 0, [0, 0], 0)
        assert c + r.value[0] >= convert(r.initial[0], int256), "market: below initial margin"
    safe_erc20._push(collateral_token, msg.sender, amount)
    log Withdraw(account=msg.sender, amount=amount)


@external
@nonreentrant
def fund_insurance(amount: uint256):
    """
    @notice Donate collateral to the insurance fund (it only pays out on bad debt).
    @param amount token units (> 0, <= 2^128)
    """
    assert amount != 0, "market: zero amount"
    assert amount <= MAX_AMOUNT, "market: amount too large"
    safe_erc20._pull(collateral_token, msg.sender, amount)
    self.insurance_fund += amount * collateral_scale
    log InsuranceFunded(funder=msg.sender, amount=amount)


@external
@nonreentrant
def collect_fees(receiver: address) -> uint256:
    """
    @notice Send the accrued trading fees, in whole token units, to `receiver` (registry admin only).
    @return token units sent
    """
    assert msg.sender == staticcall registry.admin(), "market: caller is not the admin"
    assert receiver != empty(address), "market: zero receiver"
    amount: uint256 = self.protocol_fees // collateral_scale
    assert amount != 0, "market: no fees"
    self.protocol_fees -= amount * collateral_scale
    safe_erc20._push(collateral_token, receiver, amount)
    log FeesCollected(receiver=receiver, amount=amount)
    return amount


# ---------------------------------------------------------------------------------------------
# Series


@external
@nonreentrant
def list_series(strike: uint256, expiry: uint256, is_call: bool) -> uint256:
    """
    @notice List a series (registry risk manager or admin).  Its expiry must have a smile in the registry.
            At most MAX_POOL_SERIES (32) series may be listed and not retired at a time (active_series); a
            series retires once its expiry's settlement price is recorded and no account holds it.
    @param strike WAD, 1e12 ... 1e30 (the pricer's domain)
    @param expiry unix seconds, in the future, listed in the registry
    @param is_call call or put
    @return series id (1, 2, ...)
    """
    assert msg.sender == staticcall registry.risk_manager() or msg.sender == staticcall registry.admin(), "market: caller may not list"
    assert strike >= MIN_STRIKE and strike <= MAX_STRIKE, "market: strike out of range"
    assert expiry > block.timestamp, "market: expiry passed"
    assert expiry < 2**64, "market: expiry out of range"
    assert staticcall registry.is_listed(expiry), "market: no surface for expiry"
    word: uint256 = strike | (expiry << 128)
    if is_call:
        word = word | (1 << 192)
    assert self.series_id_of[word] == 0, "market: series exists"
    # the pool's book can then never overflow: it only holds series some account holds, never retired ones
    assert self.active_series < MAX_POOL_SERIES, "market: too many open series listed"
    sid: uint256 = self.series_count + 1
    assert sid <= MAX_SERIES_ID  # dev: series ids exhausted
    self.series_count = sid
    self.series_word[sid] = word
    self.series_id_of[word] = sid
    self.expiry_ids[expiry].append(sid)
    self.active_series += 1
    log SeriesListed(series_id=sid, expiry=expiry, strike=strike, is_call=is_call)
    return sid


# ---------------------------------------------------------------------------------------------
# Trading


@external
@nonreentrant
def trade(series_id: uint256, size: int256, limit_premium: uint256, deadline: uint256) -> uint256:
    """
    @notice Buy (size > 0) or sell/write (size < 0) against the pool.  Closing is a trade of opposite sign.
            Risk-increasing trades (|position| grows or flips) need a good oracle price, no pause and room
            under the open-interest cap.  A closing trade while the oracle's price failed a check is priced
            at the worse for the caller of that price and oracle.last_price().  Afterwards the account and
            the pool must each be at or above initial margin, or have strictly lower maintenance margin than
            before (the account then also keeps a non-negative value).
    @param series_id a listed, unexpired series
    @param size WAD contracts, non-zero, |size| <= 1e27
    @param limit_premium buy: the most the caller pays; sell: the least the caller receives (WAD, fee included)
    @param deadline unix seconds; the trade reverts after it
    @return premium paid (buy) or received (sell), WAD, fee included
    """
    assert block.timestamp <= deadline, "market: deadline passed"
    assert size != 0, "market: zero size"
    assert size >= -MAX_SIZE and size <= MAX_SIZE, "market: size out of range"
    word: uint256 = self._series(series_id)
    assert self._expiry(word) > block.timestamp, "market: series expired"
    self._touch(msg.sender)
    spot: uint256 = 0
    ok: bool = False
    spot, ok = extcall oracle.update()
    assert spot != 0, "market: no oracle price"

    q0: int256 = self.positions[msg.sender][series_id]
    q1: int256 = q0 + size
    p0: int256 = self.positions[self][series_id]
    p1: int256 = p0 - size
    oi: uint256 = self.open_interest[series_id] - convert(abs(q0), uint256) + convert(abs(q1), uint256)
    if abs(q1) > abs(q0) or (q0 < 0 and q1 > 0) or (q0 > 0 and q1 < 0):
        self._require_risk_ok(ok)
        assert oi <= staticcall registry.max_open_interest(), "market: open interest cap"
    elif not ok:
        # closing while the price failed a check (an unconfirmed jump, a stale feed): price the trade at the
        # worse for the trader of the oracle's price and the last accepted one, so that a glitch print can
        # neither be sold into nor bought out of against the pool
        spot = self._closing_spot(word, size, spot)

    r: MarginEngine.Result = self._evaluate(spot, msg.sender, self, series_id, [q1, p1], size)
    pool_leg: uint256 = 0
    if size > 0:
        assert r.premium <= limit_premium, "market: premium above limit"
        pool_leg = r.premium - r.fee
        self.cash[msg.sender] -= convert(r.premium, int256)
        self.cash[self] += convert(pool_leg, int256)
    else:
        assert r.premium >= limit_premium, "market: premium below limit"
        pool_leg = r.premium + r.fee
        self.cash[msg.sender] += convert(r.premium, int256)
        self.cash[self] -= convert(pool_leg, int256)
    self.protocol_fees += r.fee

    v_a: int256 = self.cash[msg.sender] + r.value[1]
    if v_a < convert(r.initial[1], int256):
        assert r.maintenance[1] < r.maintenance[0], "market: below initial margin"
        assert v_a >= 0, "market: trade leaves negative value"
    if self.cash[self] + r.value[3] < convert(r.initial[3], int256):
        assert r.maintenance[3] < r.maintenance[2], "market: pool below initial margin"

    self._set_position(msg.sender, series_id, q0, q1)
    self._set_position(self, series_id, p0, p1)
    self.open_interest[series_id] = oi
    log Trade(account=msg.sender, series_id=series_id, size=size, premium=r.premium, fee=r.fee, mark=r.mark, vol=r.vol, position=q1)
    return r.premium


@view
@external
@nonreentrant
def quote(series_id: uint256, size: int256) -> (uint256, uint256, uint256):
    """
    @notice What trade(series_id, size, ...) would pay or receive now, at the price oracle.peek() reports
            (a closing trade while that price fails a check pays the worse of it and oracle.last_price()).
    @param series_id a listed, unexpired series
    @param size WAD contracts, non-zero (> 0 buy, < 0 sell), |size| <= 1e27
    @return (premium, mark, vol): premium paid (size > 0) or received (size < 0), fee included, WAD;
            mark price per contract, WAD; annualised vol of the side quoted (surface vol +- vol_spread), WAD
    """
    assert size != 0, "market: zero size"
    assert size >= -MAX_SIZE and size <= MAX_SIZE, "market: size out of range"
    word: uint256 = self._series(series_id)
    assert self._expiry(word) > block.timestamp, "market: series expired"
    premium: uint256 = 0
    fee: uint256 = 0
    vol: uint256 = 0
    mark_: uint256 = 0
    premium, fee, vol, mark_ = staticcall engine.quote(self._view_price(), word, size)
    return premium, mark_, vol


@view
@external
@nonreentrant
def mark(series_id: uint256) -> (uint256, uint256):
    """
    @notice Mark of a series at the price oracle.peek() reports.
    @return (price per contract WAD, annualised surface vol WAD); expired: (intrinsic value at the
            settlement price, or at the spot before it is recorded; 0)
    """
    word: uint256 = self._series(series_id)
    return staticcall engine.mark(self._view_price(), word, self.settlement_price[self._expiry(word)])


# ---------------------------------------------------------------------------------------------
# Liquidity providers


@external
@nonreentrant
def lp_deposit(amount: uint256) -> uint256:
    """
    @notice Add capital to the pool for shares at the pool's value (cash + positions at mark); with open
            pool positions the oracle price must pass every check.
    @param amount token units (> 0, <= 2^128)
    @return shares minted (rounded down)
    """
    assert amount != 0, "market: zero amount"
    assert amount <= MAX_AMOUNT, "market: amount too large"
    added: uint256 = amount * collateral_scale
    supply: uint256 = self.total_shares
    shares: uint256 = 0
    if supply == 0:
        assert added > DEAD_SHARES, "market: first deposit too small"
        # no trade can open before the pool has capital, so the pool is empty here
        assert self._count(self) == 0 and self.cash[self] == 0  # dev: pool holds value without shares
        shares = added - DEAD_SHARES
        self.lp_shares[empty(address)] = DEAD_SHARES
        self.total_shares = added
    else:
        nav: int256 = self.cash[self]
        if self._count(self) != 0:
            spot: uint256 = 0
            ok: bool = False
            spot, ok = extcall oracle.update()
            if not ok:
                self._revert_with_oracle_reason()
            nav += self._evaluate(spot, self, empty(address), 0, [0, 0], 0).value[0]
        assert nav > 0, "market: pool insolvent"
        shares = added * supply // convert(nav, uint256)
        assert shares != 0, "market: deposit too small"
        self.total_shares = supply + shares
    self.lp_shares[msg.sender] += shares
    safe_erc20._pull(collateral_token, msg.sender, amount)
    self.cash[self] += convert(added, int256)
    log LpDeposit(provider=msg.sender, amount=amount, shares=shares)
    return shares


@external
@nonreentrant
def lp_withdraw(shares: uint256) -> uint256:
    """
    @notice Redeem shares for collateral at the pool's value, only out of the pool's free margin
            (value - initial margin) and its cash.  With open pool positions this is risk-increasing.
    @param shares shares to burn (> 0, at most the caller's)
    @return token units paid (rounded down; the remainder stays with the pool)
    """
    assert shares != 0, "market: zero shares"
    assert shares <= self.lp_shares[msg.sender], "market: insufficient shares"
    supply: uint256 = self.total_shares
    nav: int256 = self.cash[self]
    im: uint256 = 0
    if self._count(self) != 0:
        r: MarginEngine.Result = self._evaluate(self._risk_price(), self, empty(address), 0, [0, 0], 0)
        nav += r.value[0]
        im = r.initial[0]
    assert nav > 0, "market: pool insolvent"
    amount: uint256 = shares * convert(nav, uint256) // supply // collateral_scale
    assert amount != 0, "market: withdrawal too small"
    paid: int256 = convert(amount * collateral_scale, int256)
    assert paid <= self.cash[self], "market: pool cash insufficient"
    assert nav - paid >= convert(im, int256), "market: exceeds pool free margin"
    self.lp_shares[msg.sender] -= shares
    self.total_shares = supply - shares
    self.cash[self] -= paid
    safe_erc20._push(collateral_token, msg.sender, amount)
    log LpWithdraw(provider=msg.sender, shares=shares, amount=amount)
    return amount


# ---------------------------------------------------------------------------------------------
# Liquidation


@external
@nonreentrant
def liquidate(account: address, series_id: uint256, size: uint256) -> uint256:
    """
    @notice Close positions of an account whose value is below its maintenance margin, against the pool
            at mark (the keeper needs no inventory; the account's value is unchanged to the wei).
            Partial: at most `size` of `series_id`, and only as much as brings the account back to its
            initial margin after the penalty; it must lower the maintenance margin.  Full (the whole
            account; `series_id` and `size` are not used): value below the dust threshold, no short
            position, or value <= penalty rate * maintenance (no partial close can restore it).
            With an oracle price that failed a check (stale, or a jump not yet confirmed), the account is
            valued at the last accepted price and only a clearly unhealthy one (value < maintenance / 2)
            can be liquidated.
    @param account the account to liquidate (not the caller, not the pool)
    @param series_id the series to close in a partial liquidation
    @param size WAD contracts, the most to close in a partial liquidation (> 0)
    @return reward credited to the caller's collateral, WAD
    """
    assert account != msg.sender, "market: cannot liquidate self"
    assert account != self and account != empty(address), "market: not an account"
    assert size != 0, "market: zero size"
    if series_id != 0:
        self._series(series_id)
    self._touch(account)
    spot: uint256 = 0
    ok: bool = False
    spot, ok = extcall oracle.update()
    if not ok:
        # stale, jumped or broken feed: value the account at the last price that passed every check (a
        # jump is not trusted until the oracle confirms it), and only if it is clearly unhealthy (below)
        spot = staticcall oracle.last_price()
    assert spot != 0, "market: no oracle price"
    legs: DynArray[MarginEngine.Leg, MAX_LEGS] = []
    focus: uint256 = 0
    legs, focus = self._legs(account, empty(address), series_id)
    pl: MarginEngine.Plan = staticcall engine.plan_liquidation(spot, legs, focus, size, self.cash[account])
    value: int256 = self.cash[account] + pl.value
    assert value < convert(pl.maintenance, int256), "market: account not liquidatable"
    if not ok and value * 2 >= convert(pl.maintenance, int256):
        # not clearly unhealthy: the price must pass every check (the oracle names the failed one)
        self._revert_with_oracle_reason()

    mm1: uint256 = 0
    if pl.full:
        for leg: MarginEngine.Leg in legs:
            if leg.qa != 0:
                sid: uint256 = self.series_id_of[leg.word]
                self._move_to_pool(account, sid, leg.qa, 0)
                log PositionLiquidated(account=account, series_id=sid, size=-leg.qa, transfer=0)
        # the account receives (pays) the value of its positions, rounded as account_value rounds
        self.cash[account] += pl.value
        self.cash[self] -= pl.value
    else:
        assert pl.close != 0, "market: no position in series"
        mm1 = pl.maintenance_after
        assert mm1 < pl.maintenance, "market: liquidation must reduce margin"
        q: int256 = legs[focus].qa
        t: int256 = pl.value - pl.value_after
        self.cash[account] += t
        self.cash[self] -= t
        self._move_to_pool(account, series_id, q, q + pl.close)
        log PositionLiquidated(account=account, series_id=series_id, size=pl.close, transfer=t)

    # penalty on the maintenance released, at most the remaining value; keeper share, rest to insurance
    penalty: uint256 = 0
    if value > 0:
        penalty = min((pl.maintenance - mm1) * staticcall registry.liquidation_penalty() // WAD, convert(value, uint256))
    reward: uint256 = penalty * staticcall registry.liquidator_share() // WAD
    self.cash[account] -= convert(penalty, int256)
    self.cash[msg.sender] += convert(reward, int256)
    self.insurance_fund += penalty - reward
    log Liquidation(account=account, keeper=msg.sender, series_id=series_id, full=pl.full, value=value,
                    maintenance_before=pl.maintenance, maintenance_after=mm1, penalty=penalty, reward=reward)
    if self._count(account) == 0:
        self._cover_bad_debt(account)
    return reward


# ---------------------------------------------------------------------------------------------
# Settlement


@external
@nonreentrant
def settle_expiry(expiry: uint256) -> uint256:
    """
    @notice Record the settlement price of an expiry: the price of the feed's first round stamped at or
            after the expiry, proven from the feed's history (oracle.settlement_round: the round before it
            is stamped before the expiry; any number of later rounds), so the price does not depend on when
            this is called, and a proven round needs no good oracle price now (a feed that stopped after it
            still settles).  Anyone within SETTLEMENT_WINDOW seconds after expiry; later only the registry's
            guardian or admin.  In the window a round that fails a check (history unavailable, stale, a jump
            from the round before) is refused with the oracle's reason.  After it the guardian or admin
            records, without the heartbeat and jump checks, that round or the first after it confirmed by
            its successor (oracle.settlement_round_unchecked: a late or crashed first round is still the
            feed's price for the expiry, a one-round glitch is passed over), flagged unchecked; only when
            the history proves no such round (a proxy phase change, glitches without end, no successor
            yet) the price the oracle accepts now, which must pass every check and be stamped at or after
            the expiry (fallback).  A proof call starved of gas (empty revert data) never opens the
            fallback: "market: settlement proof failed".
            ExpirySettled logs late, the proven round id, unchecked and fallback.
    @param expiry unix seconds of an expiry with listed series, <= now
    @return settlement price, WAD
    """
    assert len(self.expiry_ids[expiry]) != 0, "market: no series for expiry"
    assert expiry <= block.timestamp, "market: not expired"
    assert self.settlement_price[expiry] == 0, "market: already settled"
    late: bool = block.timestamp > expiry + SETTLEMENT_WINDOW
    if late:
        assert msg.sender == staticcall registry.guardian() or msg.sender == staticcall registry.admin(), "market: settlement window closed"
    price: uint256 = 0
    ok: bool = False
    price, ok = extcall oracle.update()       # keeps the oracle current; a proven round needs no good price now
    done: bool = False
    proof: Bytes[160] = b""
    done, proof = raw_call(oracle.address, abi_encode(expiry, method_id=method_id("settlement_round(uint256)")), max_outsize=160, is_static_call=True, revert_on_failure=False)
    unchecked: bool = False
    if not (done and len(proof) == 96):
        if not late:
            raw_revert(proof)                  # the oracle's reason
        # after the window: the same round, or the first after it confirmed by its successor, without the
        # heartbeat and jump checks (the feed's price, fixed by the expiry and the history, not by the caller)
        done, proof = raw_call(oracle.address, abi_encode(expiry, method_id=method_id("settlement_round_unchecked(uint256)")), max_outsize=160, is_static_call=True, revert_on_failure=False)
        unchecked = True
    stamped: uint256 = 0
    round_id: uint256 = 0
    fallback: bool = False
    if done and len(proof) == 96:
        price = extract32(proof, 0, output_type=uint256)
        stamped = extract32(proof, 32, output_type=uint256)
        round_id = extract32(proof, 64, output_type=uint256)
    else:
        # late, and no round since expiry can be proven and confirmed from the feed's history (a proxy
        # phase change right after expiry, glitches without end): the price the oracle accepts now.
        # The oracle reverts with a reason; empty revert data is a call starved of gas, which must not
        # open this path.
        assert len(proof) != 0, "market: settlement proof failed"
        if not ok:
            self._revert_with_oracle_reason()
        stamped = staticcall oracle.last_updated_at()
        assert stamped >= expiry, "market: no price since expiry"
        unchecked = False
        fallback = True
    self.settlement_price[expiry] = price
    log ExpirySettled(expiry=expiry, price=price, price_time=stamped, late=late, round_id=round_id,
                      unchecked=unchecked, fallback=fallback)
    # retire the series nobody holds; the others retire when their last holder settles (_touch)
    retired: uint256 = 0
    for sid: uint256 in self.expiry_ids[expiry]:
        if self.open_interest[sid] == 0:
            retired += 1
            log SeriesRetired(series_id=sid)
    self.active_series -= retired
    return price


@external
@nonreentrant
def settle_account(account: address) -> uint256:
    """
    @notice Settle every expired position of `account` whose settlement price is recorded (anyone may
            call); an account left without positions and with negative collateral is bad debt.
    @return number of positions settled
    """
    assert account != self, "market: not an account"
    return self._touch(account)


# ---------------------------------------------------------------------------------------------
# Reads


@view
@external
@nonreentrant
def position(account: address, series_id: uint256) -> int256:
    """
    @notice Position of an account (or of the pool: the market's own address), WAD contracts.
    """
    return self.positions[account][series_id]


@view
@external
@nonreentrant
def expiry_series(expiry: uint256) -> uint256:
    """
    @notice Number of series listed on an expiry.
    """
    return len(self.expiry_ids[expiry])


@view
@external
@nonreentrant
def collateral(account: address) -> int256:
    """
    @notice Collateral of an account (the pool's cash for the market's own address), WAD.
    """
    return self.cash[account]


@view
@external
@nonreentrant
def open_series(account: address) -> DynArray[uint256, MAX_POOL_SERIES]:
    """
    @notice Series ids the account (or the pool) holds, including expired ones not yet settled.
    """
    return self._ids(account)


@view
@external
@nonreentrant
def series(series_id: uint256) -> (uint256, uint256, bool):
    """
    @return (strike WAD, expiry unix seconds, is_call)
    """
    word: uint256 = self._series(series_id)
    return word & STRIKE_MASK, self._expiry(word), (word >> 192) != 0


@view
@external
@nonreentrant
def account_value(account: address) -> int256:
    """
    @notice Collateral plus the mark value of the account's positions (the pool's value for the market's
            own address), WAD, at the price oracle.peek() reports.
    """
    return self._state(account)[0]


@view
@external
@nonreentrant
def margin_requirements(account: address) -> (uint256, uint256):
    """
    @notice (initial, maintenance) margin of an account (or of the pool), WAD.
    """
    s: (int256, uint256, uint256) = self._state(account)
    return s[1], s[2]


@view
@external
@nonreentrant
def is_liquidatable(account: address) -> bool:
    """
    @notice True iff account_value < maintenance margin (the pool is never liquidatable).
    """
    if account == self:
        return False
    s: (int256, uint256, uint256) = self._state(account)
    return s[0] < convert(s[2], int256)


@view
@external
@nonreentrant
def account_state(account: address) -> (int256, int256, uint256, uint256):
    """
    @notice Everything a keeper or front-end needs in one call.
    @return (collateral, account_value, initial margin, maintenance margin), WAD
    """
    s: (int256, uint256, uint256) = self._state(account)
    return self.cash[account], s[0], s[1], s[2]


@view
@external
@nonreentrant
def pool_free_margin() -> uint256:
    """
    @notice What LPs can withdraw now: min(pool value - pool initial margin, pool cash), WAD, >= 0.
    """
    s: (int256, uint256, uint256) = self._state(self)
    free: int256 = min(s[0] - convert(s[1], int256), self.cash[self])
    if free < 0:
        return 0
    return convert(free, uint256)


# ---------------------------------------------------------------------------------------------
# Internal: oracle and valuation


@internal
def _risk_price() -> uint256:
    """
    @notice The oracle price for a risk-increasing action: every check passed and no pause.
    """
    spot: uint256 = 0
    ok: bool = False
    spot, ok = extcall oracle.update()
    self._require_risk_ok(ok)
    return spot


@view
@internal
def _require_risk_ok(ok: bool):
    if not ok:
        self._revert_with_oracle_reason()
    assert not staticcall registry.paused(), "market: paused"


@view
@internal
def _revert_with_oracle_reason():
    # price_for_risk_increase() reverts naming the failed check ("oracle: stale price", "oracle: price
    # jump too large", ...); the raise is reached only if the feed recovered within the transaction
    unused: uint256 = staticcall oracle.price_for_risk_increase()
    raise "market: oracle price not usable"


@view
@internal
def _closing_spot(word: uint256, size: int256, spot: uint256) -> uint256:
    """
    @notice For a closing trade while the oracle's price failed a check: of that price and the last accepted
            one, the price at which the trade's premium is worse for the trader (higher to buy, lower to sell).
    """
    last: uint256 = staticcall oracle.last_price()
    if last == 0 or last == spot:
        return spot
    p_now: uint256 = (staticcall engine.quote(spot, word, size))[0]
    p_last: uint256 = (staticcall engine.quote(last, word, size))[0]
    if (size > 0 and p_last > p_now) or (size < 0 and p_last < p_now):
        return last
    return spot


@view
@internal
def _view_price() -> uint256:
    price: uint256 = 0
    ok: bool = False
    status: uint256 = 0
    price, ok, status = staticcall oracle.peek()
    assert price != 0, "market: no oracle price"
    return price


@view
@internal
def _legs(a: address, b: address, focus_id: uint256) -> (DynArray[MarginEngine.Leg, MAX_LEGS], uint256):
    """
    @notice The union of the series of `a` and `b` (b may be empty) and the focus series, with both
            positions and the settlement price of each expiry; the index of the focus leg.
    """
    legs: DynArray[MarginEngine.Leg, MAX_LEGS] = []
    focus: uint256 = NO_FOCUS
    ids_a: DynArray[uint256, MAX_POOL_SERIES] = self._ids(a)
    ids: DynArray[uint256, MAX_LEGS] = []
    for sid: uint256 in ids_a:
        ids.append(sid)
    if b != empty(address):
        ids_b: DynArray[uint256, MAX_POOL_SERIES] = self._ids(b)
        for sid: uint256 in ids_b:
            if sid not in ids_a:
                ids.append(sid)
    if focus_id != 0 and focus_id not in ids:
        ids.append(focus_id)
    for sid: uint256 in ids:
        if sid == focus_id:
            focus = len(legs)
        word: uint256 = self.series_word[sid]
        qb: int256 = 0
        if b != empty(address):
            qb = self.positions[b][sid]
        expiry: uint256 = self._expiry(word)
        settle: uint256 = 0
        if expiry <= block.timestamp:
            settle = self.settlement_price[expiry]
        legs.append(MarginEngine.Leg(word=word, settle=settle, qa=self.positions[a][sid], qb=qb))
    return legs, focus


@view
@internal
def _evaluate(spot: uint256, a: address, b: address, focus_id: uint256, after: int256[2], size: int256) -> MarginEngine.Result:
    legs: DynArray[MarginEngine.Leg, MAX_LEGS] = []
    focus: uint256 = 0
    legs, focus = self._legs(a, b, focus_id)
    return staticcall engine.evaluate(spot, legs, focus, after, size)


@view
@internal
def _state(account: address) -> (int256, uint256, uint256):
    """
    @notice (value, initial, maintenance) at the price oracle.peek() reports.
    """
    if self._count(account) == 0:
        return self.cash[account], 0, 0
    r: MarginEngine.Result = self._evaluate(self._view_price(), account, empty(address), 0, [0, 0], 0)
    return self.cash[account] + r.value[0], r.initial[0], r.maintenance[0]


# ---------------------------------------------------------------------------------------------
# Internal: book keeping


@pure
@internal
def _expiry(word: uint256) -> uint256:
    return (word >> 128) & (2**64 - 1)


@view
@internal
def _series(series_id: uint256) -> uint256:
    word: uint256 = self.series_word[series_id]
    assert word != 0, "market: unknown series"
    return word


@view
@internal
def _ids(account: address) -> DynArray[uint256, MAX_POOL_SERIES]:
    out: DynArray[uint256, MAX_POOL_SERIES] = []
    for w: uint256 in range(4):
        word: uint256 = self.book[account][w]
        for j: uint256 in range(8):
            sid: uint256 = (word >> (ID_BITS * j)) & ID_MASK
            if sid == 0:
                return out
            out.append(sid)
    return out


@view
@internal
def _count(account: address) -> uint256:
    return len(self._ids(account))


@internal
def _set_position(account: address, series_id: uint256, old: int256, new: int256):
    """
    @notice Write a position and keep the account's list of open series (no holes) in step.
    """
    self.positions[account][series_id] = new
    if old == 0 and new != 0:
        n: uint256 = self._count(account)
        if account == self:
            # the pool holds only series some account holds, so unretired ones: at most active_series
            assert n < MAX_POOL_SERIES  # dev: pool series limit
        else:
            assert n < MAX_ACCOUNT_SERIES, "market: too many open series"
        w: uint256 = n // 8
        self.book[account][w] = self.book[account][w] | (series_id << (ID_BITS * (n % 8)))
    elif old != 0 and new == 0:
        ids: DynArray[uint256, MAX_POOL_SERIES] = self._ids(account)
        n: uint256 = len(ids)
        k: uint256 = n - 1
        for i: uint256 in range(MAX_POOL_SERIES):
            if ids[i] == series_id:
                k = i
                break
        # move the last id into slot k and clear the last slot
        lw: uint256 = (n - 1) // 8
        ls: uint256 = ID_BITS * ((n - 1) % 8)
        self.book[account][lw] = self.book[account][lw] & ~(ID_MASK << ls)
        if k != n - 1:
            kw: uint256 = k // 8
            ks: uint256 = ID_BITS * (k % 8)
            self.book[account][kw] = (self.book[account][kw] & ~(ID_MASK << ks)) | (ids[n - 1] << ks)


@internal
def _move_to_pool(account: address, series_id: uint256, old: int256, new: int256):
    """
    @notice Change an account's position and give the difference to the pool (positions still sum to zero).
    """
    pool_q: int256 = self.positions[self][series_id]
    self._set_position(account, series_id, old, new)
    self._set_position(self, series_id, pool_q, pool_q + old - new)
    self.open_interest[series_id] = self.open_interest[series_id] + convert(abs(new), uint256) - convert(abs(old), uint256)


@internal
def _touch(account: address) -> uint256:
    """
    @notice Settle the account's expired positions whose settlement price is recorded, at intrinsic value
            rounded toward -infinity; then resolve bad debt if that leaves it without positions.
    @return number of positions settled
    """
    settled: uint256 = 0
    ids: DynArray[uint256, MAX_POOL_SERIES] = self._ids(account)
    for sid: uint256 in ids:
        word: uint256 = self.series_word[sid]
        expiry: uint256 = self._expiry(word)
        if expiry > block.timestamp:
            continue
        sp: uint256 = self.settlement_price[expiry]
        if sp == 0:
            continue
        strike: uint256 = word & STRIKE_MASK
        intrinsic: uint256 = 0
        if (word >> 192) != 0:
            if sp > strike:
                intrinsic = sp - strike
        elif strike > sp:
            intrinsic = strike - sp
        q: int256 = self.positions[account][sid]
        # |q| <= 1e27, intrinsic <= 1e36
        raw: int256 = q * convert(intrinsic, int256)
        payoff: int256 = raw // IWAD
        if raw < 0 and payoff * IWAD != raw:
            payoff -= 1
        self.cash[account] += payoff
        self.cash[self] -= payoff
        self._move_to_pool(account, sid, q, 0)
        if self.open_interest[sid] == 0:
            # the last holder settled (the pool's position is then 0 too): no position in it can reopen
            self.active_series -= 1
            log SeriesRetired(series_id=sid)
        settled += 1
        log PositionSettled(account=account, series_id=sid, size=q, payoff=payoff)
    if settled != 0 and self._count(account) == 0:
        self._cover_bad_debt(account)
    return settled


@internal
def _cover_bad_debt(account: address):
    """
    @notice Negative collateral of an account without positions: the insurance fund pays first, the pool
            absorbs the rest (socialized to the LPs through the share price).
    """
    c: int256 = self.cash[account]
    if c >= 0:
        return
    deficit: uint256 = convert(-c, uint256)
    covered: uint256 = min(deficit, self.insurance_fund)
    self.insurance_fund -= covered
    self.cash[self] -= convert(deficit - covered, int256)
    self.cash[account] = 0
    log BadDebt(account=account, deficit=deficit, from_insurance=covered, socialized=deficit - covered)
