"""Portfolio value and scenario margin against the reference model: the stateless MarginEngine fuzzed with
arbitrary portfolios (two columns, a focus leg, expired and settled legs), and the market's reads on positions
built by trading."""
import math

import boa
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import market as ref
from vyopt import market as mk

from .helpers import WAD, buy, ref_positions, ref_state, sell, set_spot

NO_FOCUS = 2**256 - 1


def _tol(spot, sizes):
    """Tolerance of a value or margin (quote currency): per leg and scenario the contract's price error is below
    1e-17 of the (shocked, <= 4x) spot plus 1 wei, the float64 reference's ~1e-15 (module doc of test_quote);
    1e-12 x spot x sum |q| is a 100x cushion; 1e-15 covers the handful of wei from the ceil/floor roundings."""
    return 1e-12 * spot * sum(abs(q) for q in sizes) + 1e-15


def _word(strike, expiry, is_call):
    return int(strike) | (int(expiry) << 128) | ((1 << 192) if is_call else 0)


legs_st = st.lists(
    st.tuples(
        st.floats(0.5, 2.0),                   # strike / spot
        st.integers(0, 5),                     # expiry index
        st.booleans(),                         # call
        st.integers(-50_000, 50_000),          # qa in 1e-3 contracts
        st.integers(-50_000, 50_000),          # qb
    ),
    min_size=0, max_size=8, unique_by=lambda t: (t[0], t[1], t[2]),   # the market sends each series once
)


@settings(max_examples=30)  # each example: one engine call (up to 8 legs x 29 scenarios) + float64 model
@given(legs=legs_st, spot_f=st.floats(0.6, 1.6), focus=st.integers(0, 9), da=st.integers(-20_000, 20_000),
       expired=st.integers(0, 2), settle_f=st.one_of(st.just(0.0), st.floats(0.5, 1.5)))
def test_engine_evaluate__random_portfolios__matches_reference(env, legs, spot_f, focus, da, expired, settle_f):
    p = env.p
    exps = list(p.registry.expiries())
    spot = int(40_000 * spot_f * WAD)
    now = boa.env.evm.patch.timestamp
    if expired:
        # move past the first `expired` expiries (their smiles stay in the registry until remove_expired)
        boa.env.time_travel(seconds=exps[expired - 1] - now + 60)
        now = boa.env.evm.patch.timestamp
    settle = int(spot * settle_f) if settle_f else 0
    chain = []
    for kf, ei, call, qa, qb in legs:
        strike = int(kf * spot)
        e = exps[ei]
        chain.append((_word(strike, e, call), settle if e <= now else 0, qa * 10**15, qb * 10**15))
    f = focus if focus < len(chain) else NO_FOCUS
    after = [chain[f][2] + da * 10**15, chain[f][3] - da * 10**15] if f != NO_FOCUS else [0, 0]
    r = p.engine.evaluate(spot, chain, f, after, 0)

    st_ = mk.reference_state(p, spot=spot)
    st_.settlement = {e: settle / WAD for e in exps if e <= now and settle}
    cols = {0: {}, 1: {}, 2: {}, 3: {}}
    for i, (w, _, qa, qb) in enumerate(chain):
        s = ref.Series((w & (2**128 - 1)) / WAD, (w >> 128) & (2**64 - 1), bool(w >> 192))
        qa_after, qb_after = (after[0], after[1]) if i == f else (qa, qb)
        for c, q in ((0, qa), (1, qa_after), (2, qb), (3, qb_after)):
            cols[c][s] = cols[c].get(s, 0.0) + q / WAD
    for c in range(4):
        pos = cols[c]
        tol = _tol(spot / WAD, pos.values())
        want_v = ref.account_value(st_, 0.0, pos)
        want_mm = ref.maintenance(st_, pos)
        assert abs(r.value[c] / WAD - want_v) <= tol, (c, r.value[c] / WAD, want_v)
        assert abs(r.maintenance[c] / WAD - want_mm) <= tol, (c, r.maintenance[c] / WAD, want_mm)
        assert abs(r.initial[c] / WAD - want_mm * st_.params.im_ratio) <= tol * st_.params.im_ratio + 1e-18
        assert r.maintenance[c] >= 0 and r.initial[c] >= r.maintenance[c]


def test_engine_unit_losses__atm_call__worst_case_is_the_largest_up_move(env):
    e = env.p.registry.expiries()[0]
    u = env.p.engine.unit_losses(40_000 * WAD, _word(40_000 * WAD, e, True), 0)
    grid = [tuple(s) for s in env.p.registry.scenarios()]
    assert len(u) == len(grid)
    # a long call loses most when spot falls and vol falls; a short call (-u) when spot rises and vol rises
    worst_long = max(range(len(u)), key=lambda i: u[i])
    worst_short = min(range(len(u)), key=lambda i: u[i])
    assert grid[worst_long][0] == min(s for s, _ in grid)
    assert grid[worst_short][0] == max(s for s, _ in grid)


@settings(max_examples=10)  # each example makes up to six trades and a price walk on the market
@given(trades=st.lists(st.tuples(st.integers(0, 11), st.integers(-3000, 3000)), min_size=1, max_size=6),
       move=st.floats(0.9, 1.1), wait=st.integers(0, 3 * 86400))
def test_market_reads__after_trades_moves_and_time__match_reference(env, trades, move, wait):
    who = env.a.outsider
    mk.fund(env.p, who, 5_000_000)
    for i, q in trades:
        if q:
            env.m.trade(env.ids[i], q * 10**15, 2**255 if q > 0 else 0, mk.deadline(), sender=who)
    if wait:
        boa.env.time_travel(seconds=wait)
    set_spot(env.p, round(40_000 * move, 2))
    st_ = ref_state(env)
    pos = ref_positions(env, who)
    cash = env.m.collateral(who) / WAD
    tol = _tol(st_.spot, pos.values())
    value = env.m.account_value(who)
    im, mm = env.m.margin_requirements(who)
    assert abs(value / WAD - ref.account_value(st_, cash, pos)) <= tol
    assert abs(mm / WAD - ref.maintenance(st_, pos)) <= tol
    assert env.m.is_liquidatable(who) == (value < mm)
    assert tuple(env.m.account_state(who)) == (env.m.collateral(who), value, im, mm)


def test_margin__short_floor__applies_per_short_contract(env):
    """A deep out-of-the-money short (strike 30% of spot) moves little in any scenario: the floor dominates."""
    ids = mk.list_chain(env.p, [12_000], env.p.registry.expiries()[:1], kinds=(False,))
    sell(env, env.a.writer, ids[0], 2)
    im, mm = env.m.margin_requirements(env.a.writer)
    floor = env.p.registry.min_margin() * 40_000 * 2
    assert floor < mm <= floor * 110 // 100
    assert im == (mm * env.p.registry.im_ratio() + WAD - 1) // WAD


def test_margin__hedged_spread__needs_less_than_the_naked_leg(env):
    sell(env, env.a.writer, env.ids[2], 1)           # 40,000 call
    naked = env.m.margin_requirements(env.a.writer)[1]
    buy(env, env.a.writer, env.ids[4], 1)            # 44,000 call: a bear call spread
    spread = env.m.margin_requirements(env.a.writer)[1]
    assert spread < naked
    # the spread's loss is bounded by the strike gap (4,000) plus the floor of the short
    assert spread <= 4_000 * WAD + env.p.registry.min_margin() * 40_000


def test_reads__pool_and_empty_account(env):
    assert env.m.margin_requirements(env.a.keeper) == (0, 0)
    assert env.m.account_value(env.a.keeper) == 0
    assert not env.m.is_liquidatable(env.a.keeper)
    assert not env.m.is_liquidatable(env.m.address)
    buy(env, env.a.trader, env.ids[2], 1)
    assert env.m.margin_requirements(env.m.address)[1] > 0
    free = env.m.pool_free_margin()
    v, (im, _) = env.m.account_value(env.m.address), env.m.margin_requirements(env.m.address)
    assert free == min(v - im, env.m.collateral(env.m.address))
    assert math.isclose(v / WAD, 2_000_000, rel_tol=1e-3)
