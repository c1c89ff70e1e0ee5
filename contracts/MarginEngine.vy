# pragma version 0.4.3
# pragma evm-version cancun
"""
@title MarginEngine
@notice Stateless valuation for OptionsMarket: marks, quotes, portfolio margin over the registry's scenario
        grid and the size of a partial liquidation.  Views only; reads the registry (surface, grid and
        parameters) and nothing else, so anyone can check a margin number the market uses by calling
        this contract with the same legs.
@dev API (all external view; WAD = 1e18; legs carry the market's packed series word
     strike | expiry << 128 | is_call << 192, the settlement price of their expiry (0 until recorded) and
     two position columns qa, qb in WAD contracts)
     Legs must be distinct series (the market sends the union of two books, each series once): the floor
     per short contract applies to each leg's position as given.
     evaluate(spot, legs, focus, after, size) -> Result
         value, initial and maintenance margin of four portfolios: [a now, a with legs[focus].qa -> after[0],
         b now, b with legs[focus].qb -> after[1]] (focus >= len(legs): no focus, the "after" portfolios
         equal the current ones), and, when size != 0, the premium of trading `size` of legs[focus].
         One valuation of each leg serves all four portfolios.
     plan_liquidation(spot, legs, focus, size, cash) -> Plan       column qa only; see the Plan struct
     quote(spot, word, size) -> (premium, fee, vol, mark)           a live series
     mark(spot, word, settle) -> (price, vol)                       any series
     unit_losses(spot, word, settle) -> DynArray[int256, 32]        p0 - p_s per contract long, WAD
     The model (r = 0, total vol from the SVI smile, sticky-strike scenario vols, rounding) is documented
     in market/margin.vy; the rules (maintenance, initial, liquidation) in OptionsMarket.vy.
     Bounds: at most MAX_LEGS legs; the market keeps positions inside the open-interest cap (<= 1e27), so
     every product q * p (|q| <= 1e27, p <= 4e36) and every sum over <= 49 legs stays below 2^255.
"""

from .market import margin
from .math import fixed_sqrt
from .risk import svi

interface Registry:
    def scenarios() -> DynArray[margin.Scenario, 32]: view
    def smile(expiry: uint256) -> svi.Smile: view
    def im_ratio() -> uint256: view
    def min_margin() -> uint256: view
    def liquidation_penalty() -> uint256: view
    def dust_threshold() -> uint256: view
    def fee_rate() -> uint256: view
    def vol_spread() -> uint256: view

WAD: constant(uint256) = 10**18
IWAD: constant(int256) = 10**18
MAX_SCENARIOS: constant(uint256) = 32
MAX_LEGS: constant(uint256) = 49
MAX_EXPIRIES: constant(uint256) = 49
FEE_CAP: constant(uint256) = 125 * 10**15           # fee per contract <= 12.5% of the option's trade price

struct Leg:
    word: uint256        # strike | expiry << 128 | is_call << 192
    settle: uint256      # settlement price of the expiry (WAD), 0 until recorded
    qa: int256           # WAD contracts
    qb: int256

struct Result:
    value: int256[4]         # floor(sum q p) of the positions (no cash), WAD: [a, a after, b, b after]
    initial: uint256[4]      # WAD, rounded up
    maintenance: uint256[4]  # WAD, rounded up
    mark: uint256            # mark of legs[focus] per contract, WAD
    premium: uint256         # size > 0: paid; size < 0: received; fee included, WAD
    fee: uint256             # WAD
    vol: uint256             # annualised vol of the quoted side, WAD

struct Plan:
    value: int256            # floor(sum q p) of the positions now, WAD
    maintenance: uint256     # now, WAD
    full: bool               # liquidate the whole account
    close: int256            # partial: change of legs[focus].qa (toward zero), WAD contracts
    maintenance_after: uint256
    value_after: int256      # floor(sum q p) after the partial close, WAD

struct LegVal:
    p: uint256                              # mark (live), intrinsic (expired), WAD per contract
    unit: DynArray[int256, MAX_SCENARIOS]   # unit losses; empty when settled
    settled: bool
    live: bool
    x: int256
    kr: uint256
    v: uint256
    tau: uint256
    is_call: bool

struct Acc:
    value: int256[2]                                # non-focus sum q p per column, 1e36
    losses: int256[MAX_SCENARIOS][2]                # non-focus sum q u_s per column, 1e36
    short: uint256[2]                               # non-focus unsettled short contracts, WAD
    n: uint256                                      # scenarios
    f: LegVal                                       # the focus leg (if any)
    floor_unit: uint256                             # min_margin * spot, WAD per contract, rounded up

registry: public(immutable(Registry))


@deploy
def __init__(registry_: address):
    """
    @param registry_ RiskRegistry of the underlying
    """
    assert registry_.is_contract, "engine: registry is not a contract"
    registry = Registry(registry_)


# ---------------------------------------------------------------------------------------------
# External views


@view
@external
def evaluate(spot: uint256, legs: DynArray[Leg, MAX_LEGS], focus: uint256, after: int256[2], size: int256) -> Result:
    """
    @notice Value and margins of two position columns now and with the focus leg changed, plus a quote.
    @param spot WAD, 0 < spot <= 1e36
    @param legs series and positions (see the module doc)
    @param focus index of the leg whose positions change (>= len(legs): none)
    @param after positions of the focus leg after the change, columns a and b (WAD contracts)
    @param size when non-zero, the premium of trading `size` of the focus leg is quoted (it must be live)
    @return Result (see the struct)
    """
    acc: Acc = self._accumulate(spot, legs, focus)
    q: int256[4] = [0, 0, 0, 0]
    if focus < len(legs):
        q = [legs[focus].qa, after[0], legs[focus].qb, after[1]]
    im_ratio: uint256 = staticcall registry.im_ratio()
    r: Result = empty(Result)
    worst: int256[4] = [0, 0, 0, 0]
    m: uint256 = len(acc.f.unit)
    for j: uint256 in range(acc.n, bound=MAX_SCENARIOS):
        u: int256 = 0
        if j < m:
            u = acc.f.unit[j]
        # |q u| <= 4e63 and the sums < 2e65 (module doc)
        worst[0] = max(worst[0], unsafe_add(acc.losses[0][j], unsafe_mul(q[0], u)))
        worst[1] = max(worst[1], unsafe_add(acc.losses[0][j], unsafe_mul(q[1], u)))
        worst[2] = max(worst[2], unsafe_add(acc.losses[1][j], unsafe_mul(q[2], u)))
        worst[3] = max(worst[3], unsafe_add(acc.losses[1][j], unsafe_mul(q[3], u)))
    for i: uint256 in range(4):
        col: uint256 = i // 2
        raw: int256 = acc.value[col] + q[i] * convert(acc.f.p, int256)
        v: int256 = raw // IWAD
        if raw < 0 and v * IWAD != raw:
            v -= 1
        r.value[i] = v
        # the worst loss is >= 0 (the zero start); rounded up
        mm: uint256 = (convert(worst[i], uint256) + WAD - 1) // WAD + self._floor(acc, col, q[i])
        r.maintenance[i] = mm
        r.initial[i] = (mm * im_ratio + WAD - 1) // WAD
    r.mark = acc.f.p
    if size != 0:
        assert acc.f.live, "engine: series expired"
        r.premium, r.fee, r.vol = self._premium(acc.f, spot, size)
    return r


@view
@external
def plan_liquidation(spot: uint256, legs: DynArray[Leg, MAX_LEGS], focus: uint256, size: uint256, cash: int256) -> Plan:
    """
    @notice How a liquidation of the account in column qa proceeds (the market checks eligibility).
            Full when value < dust threshold, no short position, or target <= 0; otherwise the smallest
            close of legs[focus] (at most `size` and the position) after which
                value - penalty (maintenance now - maintenance after) >= im_ratio * maintenance after,
            i.e. maintenance after <= target = (value - penalty * maintenance now) / (im_ratio - penalty).
    @param spot WAD
    @param legs the account's legs (column qa; qb ignored)
    @param focus index of the leg to close in a partial liquidation (>= len(legs): none)
    @param size the most to close, WAD contracts
    @param cash the account's collateral, WAD
    """
    acc: Acc = self._accumulate(spot, legs, focus)
    q: int256 = 0
    if focus < len(legs):
        q = legs[focus].qa
    pl: Plan = empty(Plan)
    pl.value, pl.maintenance = self._portfolio(acc, 0, q)
    value: int256 = cash + pl.value
    pr: int256 = convert(staticcall registry.liquidation_penalty(), int256)
    mm: int256 = convert(pl.maintenance, int256)
    target: int256 = (value - pr * mm // IWAD) * IWAD // (convert(staticcall registry.im_ratio(), int256) - pr)
    short_total: uint256 = acc.short[0]
    if q < 0 and not acc.f.settled:
        short_total += convert(-q, uint256)
    pl.full = value < convert(staticcall registry.dust_threshold(), int256) or short_total == 0 or target <= 0
    if pl.full or q == 0:
        return pl
    aq: uint256 = convert(abs(q), uint256)
    losses: DynArray[int256, MAX_SCENARIOS] = self._losses(acc, 0, q)
    fu: uint256 = 0
    if not acc.f.settled:
        fu = acc.floor_unit
    need: uint256 = margin._close_size(losses, acc.f.unit, self._floor(acc, 0, q), fu, q > 0, target, aq)
    if need < aq:
        # the linear model is exact up to the per-scenario ceil: a 1e-9 relative + 1000 wei cushion
        need = min(need + need // 10**9 + 1000, aq)
    d: int256 = convert(min(min(size, aq), need), int256)
    if q < 0:
        d = -d
    pl.close = -d
    pl.value_after, pl.maintenance_after = self._portfolio(acc, 0, q - d)
    return pl


@view
@external
def quote(spot: uint256, word: uint256, size: int256) -> (uint256, uint256, uint256, uint256):
    """
    @notice Premium of trading `size` of a live series.
    @return (premium paid or received incl. fee, fee, annualised vol of the side, mark), WAD
    """
    assert size != 0, "engine: zero size"
    expiry: uint256 = self._expiry(word)
    assert expiry > block.timestamp, "engine: series expired"
    f: LegVal = self._leg(spot, word, 0, empty(margin.Grid), False, staticcall registry.smile(expiry))
    premium: uint256 = 0
    fee: uint256 = 0
    vol: uint256 = 0
    premium, fee, vol = self._premium(f, spot, size)
    return premium, fee, vol, f.p


@view
@external
def mark(spot: uint256, word: uint256, settle: uint256) -> (uint256, uint256):
    """
    @notice Mark of a series: (price per contract, annualised surface vol), WAD; an expired series gives
            (intrinsic value at the settlement price, or at `spot` while settle == 0; 0).
    """
    expiry: uint256 = self._expiry(word)
    s: svi.Smile = empty(svi.Smile)
    if expiry > block.timestamp:
        s = staticcall registry.smile(expiry)
    f: LegVal = self._leg(spot, word, settle, empty(margin.Grid), False, s)
    if not f.live:
        return f.p, 0
    return f.p, margin._annual_vol(f.v, fixed_sqrt.sqrt_years_x34(f.tau))


@view
@external
def unit_losses(spot: uint256, word: uint256, settle: uint256) -> DynArray[int256, MAX_SCENARIOS]:
    """
    @notice Loss of one long contract in every scenario of the registry's grid, WAD (empty once settled).
    """
    expiry: uint256 = self._expiry(word)
    s: svi.Smile = empty(svi.Smile)
    if expiry > block.timestamp:
        s = staticcall registry.smile(expiry)
    return self._leg(spot, word, settle, margin._prepare(staticcall registry.scenarios()), True, s).unit


# ---------------------------------------------------------------------------------------------
# Internal


@pure
@internal
def _expiry(word: uint256) -> uint256:
    return (word >> 128) & (2**64 - 1)


@view
@internal
def _leg(spot: uint256, word: uint256, settle: uint256, g: margin.Grid, shocks: bool, smile: svi.Smile) -> LegVal:
    """
    @notice Mark and (when `shocks`) unit scenario losses of one series.  An expired series is worth its
            intrinsic value: at the settlement price once recorded (no risk left), at the spot before
            (shocked through the spot only).
    """
    f: LegVal = empty(LegVal)
    strike: uint256 = word & (2**128 - 1)
    expiry: uint256 = self._expiry(word)
    f.is_call = (word >> 192) != 0
    if expiry <= block.timestamp:
        if settle != 0:
            f.settled = True
            f.p = margin._intrinsic(settle, strike, f.is_call)
            return f
        f.p = margin._intrinsic(spot, strike, f.is_call)
        if shocks:
            f.unit = margin._intrinsic_losses(spot, strike, f.is_call, g)
        return f
    f.live = True
    f.tau = expiry - block.timestamp
    f.x, f.kr, f.v = margin._base(spot, strike, smile)
    f.p = margin._price(spot, f.x, f.kr, f.v, f.is_call)
    if shocks:
        f.unit = margin._unit_losses(spot, f.x, f.kr, f.v, f.is_call, f.p, g)
    return f


@view
@internal
def _accumulate(spot: uint256, legs: DynArray[Leg, MAX_LEGS], focus: uint256) -> Acc:
    """
    @notice Value every leg once (one registry smile read per expiry, one tails + normalised per
            (leg, scenario)) and add its contribution to both columns; the focus leg is kept apart.
    """
    assert spot != 0 and spot <= 10**36, "engine: spot out of range"
    g: margin.Grid = margin._prepare(staticcall registry.scenarios())
    acc: Acc = empty(Acc)
    acc.n = len(g.f_s)
    # min_margin <= 0.25e18, spot <= 1e36: product < 2^256; rounded up
    acc.floor_unit = (staticcall registry.min_margin() * spot + WAD - 1) // WAD
    cached: DynArray[uint256, MAX_EXPIRIES] = []
    smiles: DynArray[svi.Smile, MAX_EXPIRIES] = []
    la: int256[MAX_SCENARIOS] = empty(int256[MAX_SCENARIOS])
    lb: int256[MAX_SCENARIOS] = empty(int256[MAX_SCENARIOS])
    n: uint256 = acc.n
    for i: uint256 in range(len(legs), bound=MAX_LEGS):
        leg: Leg = legs[i]
        expiry: uint256 = self._expiry(leg.word)
        s: svi.Smile = empty(svi.Smile)
        if expiry > block.timestamp:
            k: uint256 = len(cached)
            for j: uint256 in range(len(cached), bound=MAX_EXPIRIES):
                if cached[j] == expiry:
                    k = j
                    break
            if k == len(cached):
                cached.append(expiry)
                smiles.append(staticcall registry.smile(expiry))
            s = smiles[k]
        if i == focus:
            acc.f = self._leg(spot, leg.word, leg.settle, g, True, s)
            continue
        f: LegVal = self._leg(spot, leg.word, leg.settle, g, False, s)
        pi: int256 = convert(f.p, int256)
        # |q| <= 1e27 and p, |u| <= 4e36 (module doc): every product and sum stays inside int256
        acc.value[0] += leg.qa * pi
        acc.value[1] += leg.qb * pi
        if f.settled:
            continue
        if leg.qa < 0:
            acc.short[0] += convert(-leg.qa, uint256)
        if leg.qb < 0:
            acc.short[1] += convert(-leg.qb, uint256)
        if f.live:
            la, lb = margin._add_losses(spot, f.x, f.kr, f.v, f.is_call, f.p, g, leg.qa, leg.qb, la, lb)
        else:
            u: DynArray[int256, MAX_SCENARIOS] = margin._intrinsic_losses(spot, leg.word & (2**128 - 1), f.is_call, g)
            for j: uint256 in range(n, bound=MAX_SCENARIOS):
                la[j] += leg.qa * u[j]
                lb[j] += leg.qb * u[j]
    acc.losses = [la, lb]
    return acc


@pure
@internal
def _losses(acc: Acc, col: uint256, q: int256) -> DynArray[int256, MAX_SCENARIOS]:
    """
    @notice Scenario losses of a column with position q in the focus leg, WAD, each rounded up.
    """
    out: DynArray[int256, MAX_SCENARIOS] = []
    m: uint256 = len(acc.f.unit)
    for j: uint256 in range(acc.n, bound=MAX_SCENARIOS):
        l: int256 = acc.losses[col][j]
        if j < m:
            l += q * acc.f.unit[j]
        d: int256 = l // IWAD
        if l > 0 and d * IWAD != l:
            d += 1
        out.append(d)
    return out


@pure
@internal
def _floor(acc: Acc, col: uint256, q: int256) -> uint256:
    """
    @notice min_margin * spot * short contracts of a column with position q in the focus leg, WAD, rounded up.
    """
    short: uint256 = acc.short[col]
    if q < 0 and not acc.f.settled:
        short += convert(-q, uint256)
    # floor_unit <= 2.5e35, short <= 5e28
    return (acc.floor_unit * short + WAD - 1) // WAD


@pure
@internal
def _portfolio(acc: Acc, col: uint256, q: int256) -> (int256, uint256):
    """
    @notice (value of the positions rounded toward -infinity, maintenance margin) of a column with
            position q in the focus leg, WAD.
    """
    raw: int256 = acc.value[col] + q * convert(acc.f.p, int256)
    v: int256 = raw // IWAD
    if raw < 0 and v * IWAD != raw:
        v -= 1
    return v, margin._maintenance(self._losses(acc, col, q), self._floor(acc, col, q))


@view
@internal
def _premium(f: LegVal, spot: uint256, size: int256) -> (uint256, uint256, uint256):
    """
    @notice (premium paid or received with the fee, fee, side vol) of trading `size` of a live series.
            Ask = Black-Scholes at total vol v + spread sqrt(T), bid at v - spread sqrt(T), never better
            than mark; fee per contract = min(fee_rate * spot, FEE_CAP * side price) (Deribit's cap).
            Paid amounts round up, received amounts round down, the fee rounds up.
    """
    sq: uint256 = fixed_sqrt.sqrt_years_x34(f.tau)
    buy: bool = size > 0
    side_v: uint256 = margin._spread_vol(f.v, staticcall registry.vol_spread(), sq, buy)
    side_p: uint256 = margin._price(spot, f.x, f.kr, side_v, f.is_call)
    if buy:
        side_p = max(side_p, f.p)
    else:
        side_p = min(side_p, f.p)
    # fee_rate <= 5e15 and spot <= 1e36; FEE_CAP * side_p <= 1.25e35
    fee_unit: uint256 = min(staticcall registry.fee_rate() * spot, FEE_CAP * side_p) // WAD
    assert size > min_value(int256), "engine: size out of range"
    n: uint256 = convert(abs(size), uint256)
    fee: uint256 = (n * fee_unit + WAD - 1) // WAD
    vol: uint256 = margin._annual_vol(side_v, sq)
    if buy:
        return (n * side_p + WAD - 1) // WAD + fee, fee, vol
    gross: uint256 = n * side_p // WAD
    fee = min(fee, gross)
    return gross - fee, fee, vol
