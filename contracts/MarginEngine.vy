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
         One valuation of each leg serves all four portfolios, and a call and a put of the same strike and
         expiry share one scenario price per scenario (the numbers are those of pricing each alone).
     plan_liquidation(spot, legs, focus, size, cash) -> Plan       column qa only; see the Plan struct
     quote(spot, word, size) -> (premium, fee, vol, mark)           a live series
     mark(spot, word, settle) -> (price, vol)                       any series
     unit_losses(spot, word, settle) -> DynArray[int256, 32]        p0 - p_s per contract long, WAD (empty
                                                                    once settled)
     The model (r = 0, total vol from the SVI smile, sticky-strike scenario vols, rounding) is documented
     in market/margin.vy; the rules (maintenance, initial, liquidation) in OptionsMarket.vy.
     Bounds: at most MAX_LEGS legs; the market keeps positions inside the open-interest cap (<= 1e27), so
     every product q * p (|q| <= 1e27, p <= 4e36) and every sum over <= 49 legs stays below 2^255.
"""

from .market import margin
from .math import black_scholes as bs
from .math import fixed_exp
from .math import fixed_sqrt
from .math import normal
from .risk import svi
from .risk import timelock

interface Registry:
    def scenarios() -> DynArray[margin.Scenario, 32]: view
    def smile(expiry: uint256) -> svi.Smile: view
    def smile_updated_at(expiry: uint256) -> uint256: view
    def pending_change(kind: uint256, target: uint256) -> uint256: view
    def change(change_id: uint256) -> timelock.Change: view
    def queued_smile(change_id: uint256) -> svi.Smile: view
    def im_ratio() -> uint256: view
    def min_margin() -> uint256: view
    def liquidation_penalty() -> uint256: view
    def dust_threshold() -> uint256: view
    def fee_rate() -> uint256: view
    def vol_spread() -> uint256: view

WAD: constant(uint256) = 10**18
IWAD: constant(int256) = 10**18
X36: constant(uint256) = 10**36
IX36: constant(int256) = 10**36
CALL_BIT: constant(uint256) = 1 << 192
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
    p_alt: uint256                          # live: mark of the other type (put for a call) at the same strike
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
    unit: int256[MAX_SCENARIOS]                     # unit losses of the focus leg, WAD (zero once settled)
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
    for j: uint256 in range(acc.n, bound=MAX_SCENARIOS):
        u: int256 = acc.unit[j]
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
        r.premium, r.fee, r.vol = self._premium(acc.f, spot, size, legs[focus].word)
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
    # a settled series carries no scenario risk (the market settles it before it liquidates anything)
    assert not acc.f.settled, "engine: series settled"
    aq: uint256 = convert(abs(q), uint256)
    losses: int256[MAX_SCENARIOS] = self._losses(acc, 0, q)
    fu: uint256 = 0
    if not acc.f.settled:
        fu = acc.floor_unit
    need: uint256 = margin._close_size(losses, acc.unit, acc.n, self._floor(acc, 0, q), fu, q > 0, target, aq)
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
    f: LegVal = self._leg(spot, word, 0, staticcall registry.smile(expiry), self._t_cal(expiry))
    premium: uint256 = 0
    fee: uint256 = 0
    vol: uint256 = 0
    premium, fee, vol = self._premium(f, spot, size, word)
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
    t_cal: uint256 = 0
    if expiry > block.timestamp:
        s = staticcall registry.smile(expiry)
        t_cal = self._t_cal(expiry)
    f: LegVal = self._leg(spot, word, settle, s, t_cal)
    if not f.live:
        return f.p, 0
    return f.p, margin._annual_vol(f.v, fixed_sqrt.sqrt_years_x34(f.tau))


@view
@external
def unit_losses(spot: uint256, word: uint256, settle: uint256) -> DynArray[int256, MAX_SCENARIOS]:
    """
    @notice Loss of one long contract in every scenario of the registry's grid, WAD (empty once settled).
    """
    acc: Acc = self._accumulate(spot, [Leg(word=word, settle=settle, qa=IWAD, qb=0)], 0)
    out: DynArray[int256, MAX_SCENARIOS] = []
    if acc.f.settled:
        return out
    for j: uint256 in range(acc.n, bound=MAX_SCENARIOS):
        out.append(acc.unit[j])
    return out


# ---------------------------------------------------------------------------------------------
# Internal


@pure
@internal
def _expiry(word: uint256) -> uint256:
    return (word >> 128) & (2**64 - 1)


@view
@internal
def _t_cal(expiry: uint256) -> uint256:
    """
    @notice Seconds from the calibration of the expiry's smile to the expiry (the horizon its total
            variance was fitted for), > 0 for a live expiry: the registry writes a smile only before it.
    """
    return expiry - staticcall registry.smile_updated_at(expiry)


@view
@internal
def _leg(spot: uint256, word: uint256, settle: uint256, smile: svi.Smile, t_cal: uint256) -> LegVal:
    """
    @notice Mark of one series and the terms its scenario prices need.  An expired series is worth its
            intrinsic value: at the settlement price once recorded (no risk left), at the spot before.
            A live one is priced with the smile's variance scaled to the time left (margin._base).
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
        return f
    f.live = True
    f.tau = expiry - block.timestamp
    f.x, f.kr, f.v = margin._base(spot, strike, smile, f.tau, t_cal)
    call: uint256 = 0
    put: uint256 = 0
    call, put = margin._prices(spot, f.x, f.kr, f.v)
    if f.is_call:
        f.p = call
        f.p_alt = put
    else:
        f.p = put
        f.p_alt = call
    return f


@view
@internal
def _accumulate(spot: uint256, legs: DynArray[Leg, MAX_LEGS], focus: uint256) -> Acc:
    """
    @notice Value every leg once (one registry smile and calibration-time read per expiry; one scenario
            price per (strike, expiry, scenario): a call and a put of the same strike and expiry share it)
            and add its contribution to both columns; the focus leg's unit losses are kept apart.
    @dev The scenario loop is written here, not behind a helper per leg, so the grid and the two loss
         columns stay in this frame (a helper would copy ~230 words in and out per leg), and the kernel
         margin._call_raw is written inline in it (one frame less per scenario; bit-identical).
         Scenario s of a live series: x' = x + ln(1 + ds), K/S' = kr / (1 + ds), v' = v (1 + dv),
         p_s = S' n_s with n_s = C/S' or P/S' (margin._call_raw, then the clamps of
         black_scholes.normalised); u_s = p0 - p_s per contract long.  Every number is the one
         black_scholes.tails + normalised give for (x', kr', v'): pairing a call with its put changes no bit.
         Gas (16 series, 21 scenarios, reports/market/bench.md): ~3.4k per (series, scenario), of which the
         kernels (one exp_x36, two erfcx_x36) ~1.7k; a pair saves one kernel evaluation per scenario.
         Bounds: |q| <= 1e27 (the market's open-interest hard cap), |u| <= 4e36, sums over <= 49 legs
         < 2e65: the unsafe products and sums cannot overflow.
    """
    assert spot != 0 and spot <= 10**36, "engine: spot out of range"
    g: margin.Grid = margin._prepare(staticcall registry.scenarios())
    acc: Acc = empty(Acc)
    n: uint256 = g.n
    acc.n = n
    # min_margin <= 0.25e18, spot <= 1e36: product < 2^256; rounded up
    acc.floor_unit = (staticcall registry.min_margin() * spot + WAD - 1) // WAD
    cached: DynArray[uint256, MAX_EXPIRIES] = []
    smiles: DynArray[svi.Smile, MAX_EXPIRIES] = []
    t_cals: DynArray[uint256, MAX_EXPIRIES] = []
    la: int256[MAX_SCENARIOS] = empty(int256[MAX_SCENARIOS])
    lb: int256[MAX_SCENARIOS] = empty(int256[MAX_SCENARIOS])
    # the shocked spots S' = S (1 + ds) <= 4e36, once per scenario
    s_s: int256[MAX_SCENARIOS] = empty(int256[MAX_SCENARIOS])
    for j: uint256 in range(n, bound=MAX_SCENARIOS):
        s_s[j] = convert(unsafe_div(unsafe_mul(spot, g.f_s[j]), WAD), int256)
    nl: uint256 = len(legs)
    done: uint256 = 0       # bit i: leg i was valued with its partner (same strike and expiry, other type)
    for i: uint256 in range(nl, bound=MAX_LEGS):
        if (done >> i) & 1 != 0:
            continue
        leg: Leg = legs[i]
        expiry: uint256 = self._expiry(leg.word)
        s: svi.Smile = empty(svi.Smile)
        t_cal: uint256 = 0
        if expiry > block.timestamp:
            k: uint256 = len(cached)
            for j: uint256 in range(len(cached), bound=MAX_EXPIRIES):
                if cached[j] == expiry:
                    k = j
                    break
            if k == len(cached):
                cached.append(expiry)
                smiles.append(staticcall registry.smile(expiry))
                t_cals.append(self._t_cal(expiry))
            s = smiles[k]
            t_cal = t_cals[k]
        f: LegVal = self._leg(spot, leg.word, leg.settle, s, t_cal)
        # member 0 is leg i; member 1 its live partner, if the legs hold one (put-call parity of the kernel:
        # the same Gaussian terms give both prices, so the pair costs one scenario price)
        pj: uint256 = nl
        if f.live:
            other: uint256 = leg.word ^ CALL_BIT
            for j: uint256 in range(i + 1, nl, bound=MAX_LEGS):
                if legs[j].word == other:
                    pj = j
                    done |= 1 << j
                    break
        q0: int256[2] = [leg.qa, leg.qb]
        q1: int256[2] = [0, 0]
        if pj < nl:
            q1 = [legs[pj].qa, legs[pj].qb]
        focus_t: uint256 = 2
        if i == focus:
            focus_t = 0
            acc.f = f
        elif pj < nl and pj == focus:
            focus_t = 1
            acc.f = f
            acc.f.is_call = not f.is_call
            acc.f.p = f.p_alt
            acc.f.p_alt = f.p
        # |q| <= 1e27 and p <= 4e36 (module doc): every product and sum stays inside int256
        for t: uint256 in range(2):
            if t == focus_t or (t == 1 and pj == nl):
                continue
            pi: int256 = convert(f.p, int256)
            qq: int256[2] = q0
            if t == 1:
                pi = convert(f.p_alt, int256)
                qq = q1
            acc.value[0] += qq[0] * pi
            acc.value[1] += qq[1] * pi
            if not f.settled:
                if qq[0] < 0:
                    acc.short[0] += convert(-qq[0], uint256)
                if qq[1] < 0:
                    acc.short[1] += convert(-qq[1], uint256)
        if f.settled:
            continue
        if f.live:
            p0: int256 = convert(f.p, int256)
            p1: int256 = convert(f.p_alt, int256)
            pair: bool = pj < nl
            x: int256 = f.x
            kr: uint256 = f.kr
            v: uint256 = f.v
            for j: uint256 in range(n, bound=MAX_SCENARIOS):
                fs: uint256 = g.f_s[j]
                # v <= V_MAX = 1.5e37 and fv <= 4e18: v' <= 6e37 < 7e37 (the kernel's range), v' >= 2e29;
                # |x'| <= 63e36.  kr <= KR_MAX = 1e59 (checked in margin._base): kr * 1e18 < 2^256
                k: int256 = convert(unsafe_div(unsafe_mul(kr, WAD), fs), int256)
                # margin._call_raw written inline (one frame less per scenario): the same operations in order
                vi: int256 = convert(unsafe_div(unsafe_mul(v, g.f_v[j]), WAD), int256)
                d1: int256 = unsafe_add(unsafe_div(unsafe_mul(unsafe_add(x, g.ln_s[j]), IX36), vi), vi >> 1)
                d2: int256 = unsafe_sub(d1, vi)
                ea: int256 = 0
                eb: int256 = 0
                a1: int256 = d1
                if d1 < 0:
                    a1 = unsafe_sub(0, d1)
                if a1 <= bs.D_CUTOFF:
                    a2: int256 = d2
                    if d2 < 0:
                        a2 = unsafe_sub(0, d2)
                    e: uint256 = fixed_exp.exp_x36(unsafe_sub(0, unsafe_div(unsafe_mul(a1, a1), 2 * IX36))) >> 1
                    ea = convert(unsafe_div(unsafe_mul(e, normal.erfcx_x36(unsafe_div(unsafe_mul(convert(a1, uint256), normal.INV_SQRT2_X36), X36))), X36), int256)
                    eb = convert(unsafe_div(unsafe_mul(e, normal.erfcx_x36(unsafe_div(unsafe_mul(convert(a2, uint256), normal.INV_SQRT2_X36), X36))), X36), int256)
                cr: int256 = 0
                if d1 <= 0:
                    cr = unsafe_sub(ea, eb)
                elif d2 < 0:
                    cr = unsafe_sub(unsafe_sub(IX36, ea), eb)
                else:
                    cr = unsafe_sub(unsafe_add(unsafe_sub(eb, ea), IX36), k)
                # the clamps of black_scholes.normalised: max(1 - k, 0) <= c <= 1, max(k - 1, 0) <= p <= k, the
                # put's raw value being cr + k - 1 (margin._call_raw); n0 for leg i, n1 for its partner
                nc: int256 = cr
                lo: int256 = unsafe_sub(10**36, k)
                if nc < lo:
                    nc = lo
                if nc < 0:
                    nc = 0
                elif nc > 10**36:
                    nc = 10**36
                np: int256 = 0
                if pair or not f.is_call:
                    np = unsafe_sub(unsafe_add(cr, k), 10**36)
                    lo = unsafe_sub(k, 10**36)
                    if np < lo:
                        np = lo
                    if np < 0:
                        np = 0
                    elif np > k:
                        np = k
                n0: int256 = nc
                n1: int256 = np
                if not f.is_call:
                    n0 = np
                    n1 = nc
                # S' <= 4e36; S' n <= 4e72 (call, n <= 1e36) or <= K 1e36 <= 1e66 (put, n <= kr'): fits int256
                u: int256 = unsafe_sub(p0, unsafe_div(unsafe_mul(s_s[j], n0), IX36))
                if focus_t == 0:
                    acc.unit[j] = u
                else:
                    la[j] = unsafe_add(la[j], unsafe_mul(q0[0], u))
                    if q0[1] != 0:
                        lb[j] = unsafe_add(lb[j], unsafe_mul(q0[1], u))
                if pair:
                    u = unsafe_sub(p1, unsafe_div(unsafe_mul(s_s[j], n1), IX36))
                    if focus_t == 1:
                        acc.unit[j] = u
                    else:
                        la[j] = unsafe_add(la[j], unsafe_mul(q1[0], u))
                        if q1[1] != 0:
                            lb[j] = unsafe_add(lb[j], unsafe_mul(q1[1], u))
        else:
            u: int256[MAX_SCENARIOS] = margin._intrinsic_losses(spot, leg.word & (2**128 - 1), f.is_call, g)
            if focus_t == 0:
                acc.unit = u
            else:
                for j: uint256 in range(n, bound=MAX_SCENARIOS):
                    la[j] += q0[0] * u[j]
                    lb[j] += q0[1] * u[j]
    acc.losses = [la, lb]
    return acc


@pure
@internal
def _losses(acc: Acc, col: uint256, q: int256) -> int256[MAX_SCENARIOS]:
    """
    @notice Scenario losses of a column with position q in the focus leg, WAD, each rounded up.
    """
    out: int256[MAX_SCENARIOS] = empty(int256[MAX_SCENARIOS])
    for j: uint256 in range(acc.n, bound=MAX_SCENARIOS):
        l: int256 = acc.losses[col][j] + q * acc.unit[j]
        d: int256 = l // IWAD
        if l > 0 and d * IWAD != l:
            d += 1
        out[j] = d
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
    return v, margin._maintenance(self._losses(acc, col, q), acc.n, self._floor(acc, col, q))


@view
@internal
def _premium(f: LegVal, spot: uint256, size: int256, word: uint256) -> (uint256, uint256, uint256):
    """
    @notice (premium paid or received with the fee, fee, side vol) of trading `size` of a live series.
            Ask = Black-Scholes at total vol v + spread sqrt(T), bid at v - spread sqrt(T), never better
            than mark; fee per contract = min(fee_rate * spot, FEE_CAP * side price) (Deribit's cap).
            While a smile change of the series' expiry is queued in the registry (public, time-locked),
            v is, for the ask, the higher and, for the bid, the lower of the current total vol and the
            queued smile's (margin._base with the horizon it will be calibrated for, expiry - max(eta,
            now)): nobody can buy before a known vol rise and sell after it, or the reverse.
            Paid amounts round up, received amounts round down, the fee rounds up.
    """
    buy: bool = size > 0
    v: uint256 = self._side_total_vol(f, spot, word, buy)
    sq: uint256 = fixed_sqrt.sqrt_years_x34(f.tau)
    side_v: uint256 = margin._spread_vol(v, staticcall registry.vol_spread(), sq, buy)
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


@view
@internal
def _side_total_vol(f: LegVal, spot: uint256, word: uint256, up: bool) -> uint256:
    """
    @notice The total vol a quote spreads from: f.v, or, while a smile change of the expiry is queued, the
            higher (ask, up) or lower (bid) of f.v and the queued smile's total vol now, 1e36.
    """
    expiry: uint256 = self._expiry(word)
    cid: uint256 = staticcall registry.pending_change(timelock.KIND_SMILE, expiry)
    if cid == 0:
        return f.v
    # the queued smile is fitted for the horizon from its execution (>= eta) to expiry; executable now, it
    # would be calibrated now.  A change whose eta is at or after expiry can never apply: ignore it.
    eta: uint256 = (staticcall registry.change(cid)).eta
    start: uint256 = max(eta, block.timestamp)
    if start >= expiry:
        return f.v
    vq: uint256 = 0
    _: int256 = 0
    __: uint256 = 0
    _, __, vq = margin._base(spot, word & (2**128 - 1), staticcall registry.queued_smile(cid), f.tau, expiry - start)
    if up:
        return max(f.v, vq)
    return min(f.v, vq)
