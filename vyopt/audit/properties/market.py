"""Properties of the options market (contracts/OptionsMarket.vy) and its margin engine (contracts/MarginEngine.vy)
for the auditor's suite, against reference/market.py (float64 model of every market rule, from the issue and the
contract's documentation), reference/scenario_margin.py (the per-leg scenario loss it sums) and reference/oracle.py.

Read-only, on the deployment (run on the audited node):
  market.engine_matches_reference      the engine's value, margins, mark and quote of random portfolios (any
                                       strikes on the registry's live expiries, any spot): the valuation every
                                       market number comes from, whether or not the market lists series yet
  market.engine_rounds_for_the_protocol  the same portfolios, exactly: value and margins composed from the
                                       engine's own per-series marks and unit scenario losses with the documented
                                       roundings (values toward -infinity, losses, margins and the floor up)
  market.reads_match_reference         the deployment's listed series (mark, quote of either side) and the accounts
                                       that exist (from the market's logs, the pool included): account_value,
                                       margin_requirements, is_liquidatable
  market.wiring_matches_deployment     the market, engine and oracle point at the audited contracts
State-changing (boa, or a fork of the audited node):
  market.state_machine_conserves_funds  deposits, trades, price moves through the mock feed and liquidations,
                                       checking conservation and zero-sum positions after every step, and what
                                       each step changed (premium, accounts, oracle) against the reference

Bars (the arguments of tests/market, repeated in short)
  value, margin   |contract - reference| <= 1e-12 x spot x sum |q| + 1e-15 (quote currency).  Per leg and scenario
                  the contract's price error is below 1e-17 of the (shocked, <= 4x) spot plus 1 wei (the pricer's
                  kernels, reports/pricing/bench.md); the float64 reference (scipy's ndtr, sqrt(w)) ~1e-15 of the
                  spot; 1e-12 is a 100x cushion over their sum; 1e-15 covers the handful of wei of the ceil/floor
                  roundings.  Initial margin: the same times im_ratio, plus 1 wei.  An account's value is compared
                  without its collateral (an exact integer on both sides: a float of 1e5 of collateral alone carries
                  2e-11, more than the bar of a small position).
  premium, mark   1e-12 x spot x |size| + 4e-18 (the same price errors per contract; 4 wei for the premium's and
                  the fee's roundings).  Side vol: 1e-12 relative (a WAD quotient of two exact quantities).
  rounding        exact integers: the documented rule (OptionsMarket.vy: values toward -infinity, losses and
                  margins up) composed from the engine's own per-series mark and unit losses.  Those unit values are
                  the contract's, so this property alone does not check them; engine_matches_reference does (the
                  sums it compares are made of them).  Together: right unit values, composed exactly as documented
                  — a one-wei rounding in the wrong direction is invisible to a float reference and caught here.
  state machine   conservation, zero-sum positions, the liquidation bounds: exact; reads and premiums against the
                  reference: the bars above.

A mutant of the margin engine (vyopt/audit/mutants.py) must be caught: a dropped scenario by
engine_matches_reference (and the state machine), a margin rounded down by engine_rounds_for_the_protocol.

Oracle updates in the state machine are compared field by field with reference.oracle.update, with one known
difference left to the oracle's owner: a new round that repeats the last accepted price and timestamp is not
recorded by the contract (no write, no event: last_round_id keeps the previous round), while the reference records
its round id.  The machine compares last_round_id only when the accepted price or time changed.
"""
from __future__ import annotations

import dataclasses
import math

from eth_abi import decode as abi_decode
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from reference import market as ref
from reference import oracle as oref

from ..backends import event_topic
from ..registry import differential, stateful
from ._protocol import ACTORS, FEED, TOKEN, MarketReader, artifact, fund, list_series
from .oracle import expected_peek, is_mock_feed, oracle_limits, oracle_state, read_feed
from .registry import surface

WAD = 10**18
MARKET, ENGINE, REGISTRY, ORACLE = "OptionsMarket", "MarginEngine", "RiskRegistry", "PriceOracle"
REL = 1e-12
# on a node, eth_estimateGas per function and property: anvil answers an estimate by a binary search that runs a
# market view ~20 times (150 ms for a pool of 6 series against 2 ms for the call), so 5 samples, not 30
GAS_SAMPLES = 5
# py-evm interprets a market valuation (a pool of 6-10 series over 29 scenarios: ~1-2M gas) in ~0.3-1 s, anvil in
# ~5 ms: an example costs 4x more on boa (the ci profile still runs the explicit examples and a few generated ones)
BOA = {"boa": 4.0}


def value_tol(spot: float, sizes) -> float:
    return REL * spot * sum(abs(q) for q in sizes) + 1e-15


def premium_tol(spot: float, size: float) -> float:
    return REL * spot * abs(size) + 4e-18


def word(strike: int, expiry: int, is_call: bool) -> int:
    return int(strike) | (int(expiry) << 128) | ((1 << 192) if is_call else 0)


def _grid_params(ctx):
    if "grid" not in ctx.cache:
        reg = ctx.contract(REGISTRY)
        ctx.cache["grid"] = [tuple(int(v) for v in s) for s in reg.scenarios()]
        ctx.cache["params"] = [int(v) for v in reg.all_params()]
        ctx.cache["oracle_spot"] = int(ctx.contract(ORACLE).peek()[0])
    return ctx.cache["grid"], ctx.cache["params"]


# ------------------------------------------------------------------------------------------ engine portfolios
@st.composite
def portfolios(draw):
    """1-4 distinct series (strike 0.6..1.6 x the oracle's spot, any live expiry, call or put) with positions of
    +-0.001..50 contracts, a spot 0.7..1.3 x the oracle's, a focus leg whose position changes by up to +-20
    contracts, and a trade size of the focus leg to quote (+-0.001..20)."""
    legs = draw(st.lists(
        st.tuples(st.floats(0.6, 1.6).map(lambda x: round(x, 4)), st.integers(0, 11), st.booleans(),
                  st.integers(1, 50_000), st.booleans()),
        min_size=1, max_size=4, unique_by=lambda t: (t[0], t[1], t[2])))
    return {"legs": [{"strike_rel": k, "expiry_index": e, "call": c, "q_milli": q if long else -q}
                     for k, e, c, q, long in legs],
            "spot_rel": round(draw(st.floats(0.7, 1.3)), 6), "focus": draw(st.integers(0, 3)),
            "change_milli": draw(st.integers(-20_000, 20_000)),
            "quote_milli": draw(st.integers(1, 20_000)) * draw(st.sampled_from([1, -1]))}


def _one_leg(strike_rel, call, q_milli, quote_milli=1000, expiry_index=0, change=0):
    return {"legs": [{"strike_rel": strike_rel, "expiry_index": expiry_index, "call": call, "q_milli": q_milli}],
            "spot_rel": 1.0, "focus": 0, "change_milli": change, "quote_milli": quote_milli}


def engine_examples():
    """Explicit examples every back-end runs first: a short at-the-money call (the squeeze scenario binds), a short
    put quoted on the sell side (the crash binds), a short strangle with a position change and a long leg quoted."""
    return [_one_leg(1.0, True, -1000), _one_leg(1.0, False, -1000, quote_milli=-1500),
            {"legs": [{"strike_rel": 0.9, "expiry_index": 0, "call": False, "q_milli": -3000},
                      {"strike_rel": 1.1, "expiry_index": 0, "call": True, "q_milli": -2000},
                      {"strike_rel": 1.2, "expiry_index": 1, "call": True, "q_milli": 2500}],
             "spot_rel": 1.05, "focus": 1, "change_milli": 1500, "quote_milli": 700}]


def _build(ctx, ex):
    """(spot, legs for the engine, focus, after, quote size, reference positions of the four columns, state, series
    of the focus leg) of a portfolio example; None when the registry lists no live expiry."""
    s = surface(ctx)
    if not s["expiries"]:
        return None
    grid, params = _grid_params(ctx)
    base = ctx.cache["oracle_spot"]
    spot = int(base * ex["spot_rel"])
    legs, series, seen = [], [], set()
    for leg in ex["legs"]:
        e = s["expiries"][leg["expiry_index"] % len(s["expiries"])]
        strike = int(base * leg["strike_rel"])
        w = word(strike, e, leg["call"])
        if w in seen:      # the engine takes each series once (the market sends the union of two books)
            continue
        seen.add(w)
        q = leg["q_milli"] * 10**15
        legs.append((w, 0, q, -q))   # column b: the counterparty's book (the pool's side of the same trades)
        series.append(ref.series_from_wad(strike, e, leg["call"]))
    f = ex["focus"] % len(legs)
    d = ex["change_milli"] * 10**15
    after = [legs[f][2] + d, legs[f][3] - d]
    cols = [{}, {}, {}, {}]
    for i, (w, _, qa, qb) in enumerate(legs):
        for c, q in enumerate((qa, after[0] if i == f else qa, qb, after[1] if i == f else qb)):
            cols[c][series[i]] = q / WAD
    state = ref.state_from_wad(spot, s["now"], {e: s["smiles"][e] for e in s["expiries"]}, grid, params, {},
                               written=s["written"], pending=s["pending"])
    return spot, legs, f, after, ex["quote_milli"] * 10**15, cols, state, series[f]


@differential(
    id="market.engine_matches_reference", contracts=(ENGINE, REGISTRY, ORACLE), strategy=portfolios,
    examples=engine_examples, cost=6.0, gas_samples=GAS_SAMPLES, backend_cost=BOA,
    bar="1e-12 x spot x sum|q| + 1e-15 (values, margins); 1e-12 x spot x |size| + 4e-18 (premium, mark)",
    words="MarginEngine.evaluate of random portfolios (1-4 series, strikes 0.6..1.6 x spot, the registry's live "
          "expiries, +-50 contracts, spot 0.7..1.3 x the oracle's) gives the reference value, maintenance margin "
          "(worst loss over the registry's scenario grid plus the floor per short) and initial margin for the book, "
          "its counterparty's book and both after a position change, and the reference mark and quote of the "
          "changed series; quote() and mark() agree with evaluate to the wei.")
def engine_matches_reference(ctx, ex):
    built = _build(ctx, ex)
    if built is None:
        return
    spot, legs, f, after, size, cols, state, s = built
    engine = ctx.contract(ENGINE)
    value, initial, maintenance, mark, premium, fee, vol = engine.evaluate(spot, legs, f, after, size)
    worst = 0.0
    for c in range(4):
        pos = cols[c]
        tol = value_tol(state.spot, pos.values())
        want_v, want_mm = ref.account_value(state, 0.0, pos), ref.maintenance(state, pos)
        want_im = want_mm * state.params.im_ratio
        for name, got, want, t in (("value", value[c] / WAD, want_v, tol), ("maintenance", maintenance[c] / WAD, want_mm, tol),
                                   ("initial", initial[c] / WAD, want_im, tol * state.params.im_ratio + 1e-18)):
            worst = max(worst, abs(got - want) / t)
            assert abs(got - want) <= t, f"column {c}: {name} {got!r}, reference {want!r} (tol {t:.3g}; legs {legs})"
    want_premium, want_mark, want_vol = ref.quote(state, s, size / WAD)
    for name, got, want, t in (("mark", mark / WAD, want_mark, premium_tol(state.spot, 1)),
                               ("premium", premium / WAD, want_premium, premium_tol(state.spot, size / WAD))):
        worst = max(worst, abs(got - want) / t)
        assert abs(got - want) <= t, f"{name} {got!r}, reference {want!r} (tol {t:.3g}; series {s}, size {size})"
    assert math.isclose(vol / WAD, want_vol, rel_tol=1e-12), f"side vol {vol / WAD!r}, reference {want_vol!r}"
    ctx.metric("error / bar", worst)
    assert tuple(engine.quote(spot, legs[f][0], size)) == (premium, fee, vol, mark), "quote() differs from evaluate()"
    assert engine.mark(spot, legs[f][0], 0)[0] == mark, "mark() differs from evaluate()"


def _ceil_div(a: int, b: int) -> int:
    return -((-a) // b)


@differential(
    id="market.engine_rounds_for_the_protocol", contracts=(ENGINE, REGISTRY, ORACLE), strategy=portfolios,
    examples=engine_examples, cost=6.0, gas_samples=GAS_SAMPLES, backend_cost=BOA, bar="exact (wei)",
    words="for the same portfolios, evaluate's value, maintenance and initial margin are exactly the documented "
          "rule applied to the engine's own per-series marks p and unit scenario losses u (mark(), unit_losses()): "
          "value = floor(sum q p), maintenance = ceil(max(0, max_s sum q u_s)) + ceil(ceil(min_margin spot) x "
          "short contracts), initial = ceil(maintenance x im_ratio) — every rounding in the protocol's favour.")
def engine_rounds_for_the_protocol(ctx, ex):
    built = _build(ctx, ex)
    if built is None:
        return
    spot, legs, f, after, _, _, _, _ = built
    engine = ctx.contract(ENGINE)
    _, params = _grid_params(ctx)
    im_ratio, min_margin = params[0], params[1]
    marks = [engine.mark(spot, w, 0)[0] for w, *_ in legs]
    units = [list(engine.unit_losses(spot, w, 0)) for w, *_ in legs]
    value, initial, maintenance, *_ = engine.evaluate(spot, legs, f, after, 0)
    floor_unit = _ceil_div(min_margin * spot, WAD)
    for c in range(4):
        qs = [(after[c // 2] if (i == f and c % 2 == 1) else leg[2 + c // 2]) for i, leg in enumerate(legs)]
        want_value = sum(q * p for q, p in zip(qs, marks)) // WAD
        losses = [sum(q * u[j] for q, u in zip(qs, units)) for j in range(len(units[0]))]
        short = sum(-q for q in qs if q < 0)
        want_mm = _ceil_div(max(0, *losses), WAD) + _ceil_div(floor_unit * short, WAD)
        want_im = _ceil_div(want_mm * im_ratio, WAD)
        assert value[c] == want_value, f"column {c}: value {value[c]}, floor(sum q p) = {want_value}"
        assert maintenance[c] == want_mm, f"column {c}: maintenance {maintenance[c]}, documented rule {want_mm} (positions {qs})"
        assert initial[c] == want_im, f"column {c}: initial {initial[c]}, ceil(maintenance x im_ratio) = {want_im}"


# ------------------------------------------------------------------------------------------ the deployment's reads
def _reader(ctx) -> MarketReader:
    if "reader" not in ctx.cache:
        r = MarketReader(ctx)
        ctx.cache["reader"] = r
        ctx.cache["state"] = r.state()
        ctx.cache["accounts"] = [r.market.address] + r.accounts()
        ctx.cache["checked"] = set()
        if not r.table:
            ctx.note("the market lists no series at the audited block: only the pool's (empty) account is compared")
        else:
            ctx.note(f"{len(r.table)} listed series and {len(ctx.cache['accounts']) - 1} accounts (from the market's logs) "
                     "besides the pool")
    return ctx.cache["reader"]


def check_account(ctx, reader: MarketReader, state, account: str, full: bool = True) -> float:
    """account_state of one account against the reference, and (full) account_value, margin_requirements,
    collateral and is_liquidatable against account_state (each of those views values the whole book again: the
    state machine, which checks every step, calls account_state only); returns (worst error / bar, the
    account_state tuple)."""
    m = reader.market
    cash, value, im, mm = m.account_state(account)
    pos = reader.positions(account)
    tol = value_tol(state.spot, pos.values())
    # the positions' part of the value: cash is an exact integer on both sides, and a float of cash + positions
    # would carry 2e-16 of the cash (1e5 of collateral: 2e-11), more than the bar of a small position
    want_v = ref.account_value(state, 0.0, pos)
    want_mm = ref.maintenance(state, pos)
    worst = 0.0
    for name, got, want, t in (("value - collateral", (value - cash) / WAD, want_v, tol), ("maintenance", mm / WAD, want_mm, tol),
                               ("initial", im / WAD, want_mm * state.params.im_ratio, tol * state.params.im_ratio + 1e-18)):
        worst = max(worst, abs(got - want) / t)
        assert abs(got - want) <= t, f"{account}: {name} {got!r}, reference {want!r} (tol {t:.3g}, positions {pos})"
    if not full:
        return worst, (cash, value, im, mm)
    assert m.account_value(account) == value and tuple(m.margin_requirements(account)) == (im, mm), \
        f"{account}: account_value / margin_requirements disagree with account_state"
    assert m.collateral(account) == cash
    is_pool = account == m.address
    assert m.is_liquidatable(account) == (not is_pool and value < mm), f"{account}: is_liquidatable is not value < maintenance"
    return worst, (cash, value, im, mm)


@differential(
    id="market.reads_match_reference", contracts=(MARKET, ENGINE, REGISTRY, ORACLE), cost=3.0, gas_samples=GAS_SAMPLES,
    backend_cost=BOA,
    strategy=lambda: st.fixed_dictionaries({"series": st.integers(0, 2**16), "size": st.floats(0.001, 50.0).map(lambda x: round(x, 6)),
                                            "side": st.sampled_from([1, -1]), "account": st.integers(0, 2**16)}),
    bar="1e-12 x spot x |size| + 4e-18 (marks, premiums); 1e-12 x spot x sum|q| + 1e-15 (values, margins)",
    words="on the deployment as it is: mark(series) and quote(series, +-size) of every listed series equal the "
          "reference (a quote of an expired series reverts), and for every account that exists (depositors, "
          "traders, keepers, from the market's logs) and the pool, account_value, margin_requirements and "
          "is_liquidatable equal the reference's value, margins and value < maintenance.")
def reads_match_reference(ctx, ex):
    reader = _reader(ctx)
    state = ctx.cache["state"]
    m = reader.market
    worst = 0.0
    table = reader.table
    if table:
        sid = 1 + ex["series"] % len(table)
        s, (strike, expiry, is_call) = table[sid]
        price, vol = m.mark(sid)
        want = ref.mark(state, s)
        t = premium_tol(state.spot, 1)
        worst = abs(price / WAD - want) / t
        assert abs(price / WAD - want) <= t, f"mark({sid}) = {price / WAD!r}, reference {want!r}"
        size = int(ex["side"] * ex["size"] * WAD)
        if expiry > state.now:
            assert math.isclose(vol / WAD, ref.surface_vol(state, s), rel_tol=REL), f"mark({sid}) vol {vol / WAD!r}"
            premium, mark2, side_vol = m.quote(sid, size)
            want_p, want_mark, want_vol = ref.quote(state, s, size / WAD)
            t = premium_tol(state.spot, size / WAD)
            worst = max(worst, abs(premium / WAD - want_p) / t)
            assert mark2 == price, f"quote({sid}) mark {mark2} != mark() {price}"
            assert abs(premium / WAD - want_p) <= t, f"quote({sid}, {size}) = {premium / WAD!r}, reference {want_p!r}"
            assert math.isclose(side_vol / WAD, want_vol, rel_tol=REL), f"quote({sid}) vol {side_vol / WAD!r}, reference {want_vol!r}"
        else:
            o = m.outcome("quote", sid, size)
            assert not o.ok and o.reason == "market: series expired", f"quote of expired series {sid}: {o}"
    accounts = ctx.cache["accounts"]
    a = accounts[ex["account"] % len(accounts)]
    if a not in ctx.cache["checked"]:   # one block: an account's state is checked once per run
        worst = max(worst, check_account(ctx, reader, state, a)[0])
        ctx.cache["checked"].add(a)
    ctx.metric("error / bar", worst)


@differential(
    id="market.wiring_matches_deployment", contracts=(MARKET, ENGINE, REGISTRY, ORACLE),
    strategy=lambda: st.just({"block": "audited"}), bar="exact",
    words="the market reads the audited registry, oracle and engine, the engine and the oracle the audited "
          "registry, and the market's collateral scale is 10^(18 - the token's decimals).")
def wiring_matches_deployment(ctx, ex):
    m, e, r, o = (ctx.contract(n) for n in (MARKET, ENGINE, REGISTRY, ORACLE))
    got = [a.lower() for a in (m.registry(), m.oracle(), m.engine(), e.registry(), o.registry())]
    want = [a.lower() for a in (r.address, o.address, e.address, r.address, r.address)]
    assert got == want, f"market -> registry, oracle, engine; engine -> registry; oracle -> registry: {got}, audited {want}"
    ok, out, _ = ctx.backend.call(m.collateral_token(), bytes.fromhex("313ce567"))
    assert ok and len(out) >= 32, "the collateral token does not answer decimals()"
    assert m.collateral_scale() == 10 ** (18 - int.from_bytes(out[:32], "big")), "collateral scale is not 10^(18 - decimals)"


# ------------------------------------------------------------------------------------------ state machine
OK_REASONS = {
    "market: insufficient collateral", "market: below initial margin", "market: pool below initial margin",
    "market: trade leaves negative value", "market: open interest cap", "market: too many open series",
    "market: paused", "market: series expired", "market: account not liquidatable",
    "market: liquidation must reduce margin", "market: no position in series", "market: premium above limit",
    "market: premium below limit", *oref.REASONS.values(),
}


def decode_event(art, name: str, log) -> dict | None:
    """A log of event `name` of the artifact's ABI as {field: value}; None for another event."""
    ev = next(i for i in art.abi if i.get("type") == "event" and i["name"] == name)
    if not log.topics or log.topics[0] != event_topic(art, name):
        return None
    out, topics = {}, iter(log.topics[1:])
    plain = [i for i in ev["inputs"] if not i.get("indexed")]
    values = iter(abi_decode([i["type"] for i in plain], log.data))
    for i in ev["inputs"]:
        out[i["name"]] = abi_decode([i["type"]], next(topics))[0] if i.get("indexed") else next(values)
    return out


@stateful(
    id="market.state_machine_conserves_funds", contracts=(MARKET, ENGINE, REGISTRY, ORACLE, TOKEN), cost=20.0,
    gas_samples=GAS_SAMPLES, backend_cost=BOA,
    bar="exact (funds, positions, liquidation bounds); reference bars for reads and premiums",
    words="random sequences of deposits, buys and writes (to the margin limit too), closes, price moves of the mock "
          "feed (up to 9% each, shocks of three, moves against a writer until it is liquidatable) and keeper "
          "liquidations, by actors funded through the mock collateral's open mint, on "
          "the deployment's own state: after every step the token balance x scale equals the sum of all accounts' "
          "collateral + pool cash + insurance fund + fees exactly, every series' positions sum to zero over the "
          "accounts and the pool (open interest = sum |q| of the accounts), the insurance fund falls only with a "
          "BadDebt event; the value and margins of every account a step changed (the trader and the pool after a "
          "trade, the liquidated account, the actors after a price move) equal the "
          "reference; each premium "
          "paid equals the reference quote; each oracle update does what the reference acceptance rule says; a "
          "trade leaves the trader at initial margin (or lowers its maintenance without a negative value) and "
          "the pool at its initial margin (or lowers it); a liquidation happens only below maintenance, never "
          "lowers value - maintenance and pays reward = share x penalty <= share x rate x margin released.")
class MarketMachine(RuleBasedStateMachine):
    def __init__(self, ctx):
        super().__init__()
        self.ctx, self.b = ctx, ctx.backend
        self.m, self.engine, self.reg, self.oracle, self.token = (ctx.contract(n) for n in (MARKET, ENGINE, REGISTRY, ORACLE, TOKEN))
        assert self.m.collateral_token().lower() == self.token.address.lower(), "the market's collateral is not the audited testing/MockERC20"
        self.art = self.m.artifact
        self.reader = MarketReader(ctx)
        self.scale = self.m.collateral_scale()
        acc = self.b.accounts(10)
        self.actors = {"lp": acc[ACTORS[0]], "trader": acc[ACTORS[3]], "writer": acc[ACTORS[4]], "keeper": acc[ACTORS[5]]}
        for a in self.actors.values():
            self.b.impersonate(a)
        self.limits = oracle_limits(self.reg)
        self.mock_feed = is_mock_feed(self.b, self.oracle)
        if self.mock_feed:
            self.feed = self.b.at(artifact(FEED), self.oracle.feed())
            self._post(self.oracle.last_price() or self.oracle.peek()[0])     # a fresh round at the current price
        else:
            ctx.note("the oracle's feed is not the mock aggregator: the price-move and shock rules were skipped")
        now = self.b.timestamp()
        live = [sid for sid, (_, raw) in self.reader.table.items() if raw[1] > now + 86400]
        if len(live) < 4:
            live += list_series(self.b, ctx.contracts, strikes_rel=(0.95, 1.05), n_expiries=1)
        self.series = live[:4]
        ours = set(self.actors.values())
        self.others = [a for a in self.reader.accounts() if a not in ours]
        self.others_cash = {a: self.m.collateral(a) for a in self.others}
        self.others_pos = {s: sum(self.m.position(a, s) for a in self.others) for s in self.series}
        self.others_oi = {s: sum(abs(self.m.position(a, s)) for a in self.others) for s in self.series}
        self.funds_are_conserved()                # the deployment as found
        fund(self.b, ctx.contracts, self.actors["lp"], 1_000_000, lp=True)
        fund(self.b, ctx.contracts, self.actors["trader"], 100_000)
        fund(self.b, ctx.contracts, self.actors["writer"], 60_000)
        self.insurance = self.m.insurance_fund()
        self.bad_debt = False

    # -------------------------------------------------------------- helpers
    def _send(self, contract, fn, *args, sender):
        tx = contract.transact(fn, *args, sender=sender)
        if not tx.success:
            assert tx.reason in OK_REASONS, f"{contract.name}.{fn}{args} reverted with an unexpected reason {tx.reason!r}"
            event(f"{fn} refused: {tx.reason}")
        for lg in tx.logs:
            if decode_event(self.art, "BadDebt", lg) is not None:
                self.bad_debt = True
        return tx

    def _events(self, tx, name):
        return [e for lg in tx.logs if lg.address == self.m.address and (e := decode_event(self.art, name, lg)) is not None]

    def _cash(self):
        return {n: self.m.collateral(a) for n, a in self.actors.items()}

    def _unchanged(self, before, allowed):
        after = self._cash()
        for n in before:
            if n not in allowed:
                assert after[n] == before[n], f"{n}'s collateral changed by another account's action"

    def _post(self, price_wad: int):
        """A new round of the mock feed at `price_wad`, then oracle.update(); the oracle's new state must be the
        reference's."""
        dec = self.oracle.feed_decimals()
        model = oracle_state(self.oracle)
        answer = max(1, price_wad * 10**dec // WAD)
        assert self.feed.transact("set_answer", answer, sender=self.actors["keeper"]).success
        assert self.oracle.transact("update", sender=self.actors["keeper"]).success
        rnd, d = read_feed(self.b, self.oracle.feed())
        want, _, ok, status = oref.update(model, rnd, d, dec, self.b.timestamp(), self.limits)
        got = oracle_state(self.oracle)
        if status == oref.OK and (want.last_price, want.last_updated_at) == (model.last_price, model.last_updated_at):
            # a new round repeating the last accepted price and time: the contract records nothing (no write, no
            # event) and keeps the previous round id, the reference records the new round id (open point)
            want = dataclasses.replace(want, last_round_id=got.last_round_id)
        assert got == want, f"oracle state {got} after an update, reference {want} (status {status})"
        assert tuple(self.oracle.peek()) == expected_peek(self.b, self.oracle, self.reg, self.limits)
        event(f"oracle status {status}")

    # -------------------------------------------------------------- rules
    @initialize(i=st.integers(0, 3), buy=st.integers(1, 4000), write=st.integers(1, 4000))
    def open_positions(self, i, buy, write):
        """Every run starts with a long and a short (0.001 ... 4 contracts), so that every rule has positions to act
        on (hypothesis' first, simplest runs would otherwise repeat a rule that finds nothing to do)."""
        n = len(self.series)
        self._trade("trader", self.series[i % n], buy * 10**15)
        self._trade("writer", self.series[(i + 1) % n], -write * 10**15)

    @rule(who=st.sampled_from(["trader", "writer"]), tokens=st.integers(1, 50_000))
    def deposit(self, who, tokens):
        a = self.actors[who]
        amount = tokens * 10 ** int(self.token.decimals())
        assert self.token.transact("mint", a, amount, sender=a).success
        before = self._cash()
        self._send(self.m, "deposit", amount, sender=a)
        assert self.m.collateral(a) == before[who] + amount * self.scale, "a deposit did not credit amount x scale"
        self._unchanged(before, {who})

    @rule(who=st.sampled_from(["trader", "writer"]), i=st.integers(0, 3), milli=st.integers(1, 4000))
    def trade(self, who, i, milli):
        """The trader buys, the writer writes (0.001 ... 4 contracts)."""
        self._trade(who, self.series[i % len(self.series)], milli * 10**15 * (1 if who == "trader" else -1))

    @rule(who=st.sampled_from(["trader", "writer"]), i=st.integers(0, 3), frac=st.floats(0.1, 1.0))
    def close(self, who, i, frac):
        a = self.actors[who]
        held = [s for s in self.series if self.m.position(a, s)]
        if held:
            s = held[i % len(held)]
            q = -int(self.m.position(a, s) * frac)
            if q:
                self._trade(who, s, q)

    def _trade(self, who, sid, q) -> bool:
        a, pool = self.actors[who], self.m.address
        mm0, pmm0 = self.m.margin_requirements(a)[1], self.m.margin_requirements(pool)[1]
        premium = self.m.outcome("quote", sid, q)
        if not premium.ok:
            return False
        # the trade is mined after the quote (on a node the clock moves): a 1% limit, checked on what is paid
        limit = premium.value[0] * 101 // 100 if q > 0 else premium.value[0] * 99 // 100
        before = self._cash()
        tx = self._send(self.m, "trade", sid, q, limit, 2**64, sender=a)
        if not tx.success:
            return False
        (ev,) = self._events(tx, "Trade")
        state = self.reader.state()
        s = self.reader.table[sid][0]
        want = ref.quote(state, s, q / WAD)[0]
        assert abs(ev["premium"] / WAD - want) <= premium_tol(state.spot, q / WAD), f"premium {ev['premium']}, reference {want}"
        assert (ev["premium"] <= limit) if q > 0 else (ev["premium"] >= limit)
        (_, value, im, mm), (_, pv, pim, pmm) = self._check_reads(state, [a, pool])
        assert value >= im or (mm < mm0 and value >= 0), f"{who} left below initial margin by a trade that did not reduce risk"
        assert pv >= pim or pmm < pmm0, "the pool left below initial margin by a trade that did not reduce its risk"
        self._unchanged(before, {who})
        event("trade")
        return True

    @precondition(lambda self: self.mock_feed)
    @rule(pct=st.floats(-0.09, 0.09))
    def move_price(self, pct):
        self._post(int(self.oracle.last_price() * (1 + pct)))
        self._check_reads(self.reader.state(), self._holders())

    @precondition(lambda self: self.mock_feed)
    @rule(direction=st.sampled_from([-1, 1]))
    def shock(self, direction):
        """Three moves of 9% in a row (each accepted: within the 10% deviation of the last)."""
        for _ in range(3):
            self._post(int(self.oracle.last_price() * (1 + 0.09 * direction)))
        self._check_reads(self.reader.state(), self._holders())

    @rule(i=st.integers(0, 3))
    def write_to_the_limit(self, i):
        """The writer writes as much of one series as its initial margin allows (the account a shock then makes
        liquidatable): one contract, then 97% of what the remaining margin carries at that rate, else half."""
        a, sid = self.actors["writer"], self.series[i % len(self.series)]
        if not self._trade("writer", sid, -WAD):
            return
        _, value, im, _ = self.m.account_state(a)
        short = -self.m.position(a, sid)
        if im and value > im and short > 0:
            extra = (value - im) * short // im * 97 // 100
            if extra > WAD // 100 and not self._trade("writer", sid, -extra):
                self._trade("writer", sid, -(extra // 2))

    @precondition(lambda self: self.mock_feed)
    @rule(i=st.integers(0, 3), milli=st.integers(1, 10_000))
    def stress_cycle(self, i, milli):
        """Move the price against the writer's largest short, 9% at a time (at most six moves), until the account is
        liquidatable; then the keeper liquidates it: the path every liquidation check needs."""
        a = self.actors["writer"]
        shorts = [(self.m.position(a, s), s) for s in self.series]
        q, sid = min(shorts)
        if q >= 0:
            return
        up = self.reader.table[sid][0].is_call
        for _ in range(6):
            if self.m.is_liquidatable(a):
                break
            self._post(int(self.oracle.last_price() * (1.09 if up else 0.91)))
        self._liquidate("writer", sid, milli * 10**15)

    @rule(i=st.integers(0, 3), milli=st.integers(1, 10_000))
    def liquidate(self, i, milli):
        flags = {n: self.m.is_liquidatable(self.actors[n]) for n in ("writer", "trader")}
        who = next((n for n, f in flags.items() if f), "writer")   # a keeper goes for a liquidatable account
        held = [s for s in self.series if self.m.position(self.actors[who], s)] or self.series
        self._liquidate(who, held[i % len(held)], milli * 10**15, flags[who])

    def _liquidate(self, who, sid, size, liquidatable=None):
        keeper, a = self.actors["keeper"], self.actors[who]
        if liquidatable is None:
            liquidatable = self.m.is_liquidatable(a)
        before = self._cash()
        tx = self._send(self.m, "liquidate", a, sid, size, sender=keeper)
        if not tx.success:
            return
        assert liquidatable or not self.oracle.peek()[1], "an account with value >= maintenance was liquidated"
        (ev,) = self._events(tx, "Liquidation")
        pr, share = self.reg.liquidation_penalty(), self.reg.liquidator_share()
        released = ev["maintenance_before"] - ev["maintenance_after"]
        assert released > 0 or ev["full"]
        assert ev["penalty"] <= released * pr // WAD, "penalty above rate x margin released"
        assert ev["reward"] == ev["penalty"] * share // WAD, "reward is not share x penalty"
        ((_, v1, _, mm1),) = self._check_reads(self.reader.state(), [a])
        assert v1 - mm1 >= ev["value"] - ev["maintenance_before"], "a liquidation lowered value - maintenance"
        assert self.m.collateral(keeper) == before["keeper"] + ev["reward"], "the keeper was not paid its reward"
        self._unchanged(before, {who, "keeper"})
        event("liquidation full" if ev["full"] else "liquidation partial")

    # -------------------------------------------------------------- invariants
    @invariant()
    def funds_are_conserved(self):
        m = self.m
        total = sum(m.collateral(a) for a in self.actors.values()) + sum(self.others_cash.values())
        total += m.collateral(m.address) + m.insurance_fund() + m.protocol_fees()
        held = self.token.balanceOf(m.address) * self.scale
        assert held == total, f"token balance x scale {held} != internal balances {total} (difference {held - total})"

    @invariant()
    def positions_sum_to_zero(self):
        m = self.m
        for s in self.series:
            qs = [m.position(a, s) for a in self.actors.values()]
            assert sum(qs) + self.others_pos[s] + m.position(m.address, s) == 0, f"positions of series {s} do not sum to zero"
            assert m.open_interest(s) == sum(abs(q) for q in qs) + self.others_oi[s], f"open interest of series {s}"

    @invariant()
    def insurance_falls_only_on_bad_debt(self):
        ins = self.m.insurance_fund()
        assert ins >= self.insurance or self.bad_debt, "the insurance fund fell without a BadDebt event"
        self.insurance, self.bad_debt = ins, False

    def _holders(self) -> list:
        return [a for a in self.actors.values() if self.m.open_series(a)]

    def _check_reads(self, state, accounts):
        """The accounts a step changed (a trade: the trader and the pool; a liquidation: the account; a price move:
        every actor holding positions) against the reference; returns their account_state tuples.  Checking only what a step touched keeps a
        step to a few valuations: on boa a valuation of the pool costs ~0.8 s."""
        out = []
        for a in accounts:
            worst, st_ = check_account(self.ctx, self.reader, state, a, full=False)
            self.ctx.metric("error / bar", worst)
            out.append(st_)
        return out

    def teardown(self):
        for a, cash in self.others_cash.items():
            assert self.m.collateral(a) == cash, f"{a} (not an actor of this run) saw its collateral change"
