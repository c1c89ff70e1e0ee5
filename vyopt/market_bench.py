"""make bench, market part: execution gas of the options market's margin against the size of the book.

    python -m vyopt.market_bench          # (also run by python -m vyopt.bench) -> reports/market/bench.{md,json,png}

What is measured (titanoboa, execution gas: computation.get_gas_used(), i.e. without the 21,000 intrinsic
gas and calldata; the same convention as reports/pricing and reports/risk), cold: every account and storage
slot is first touched by the measured call, as in a transaction that does nothing else (see _cold):
  - margin_requirements(trader) with the trader holding n = 1 ... 16 series;
  - trade: the trade that opens the trader's n-th series (the market values the union of the trader's and
    the pool's series, here the same n series: one trader);
  - liquidate: a writer holding the same n series, all short (|size|), withdrawn to its initial margin, is
    pushed below its maintenance margin by a spot move of 1.5x (or 2x) the spot shock of its worst scenario
    (the oracle follows in steps within its deviation limit); a keeper liquidates the series whose close
    helps most in that scenario (partial or full: the mode is recorded);
  - margin_requirements without call/put pairs (21 scenarios): a second trader holding 16 series that share
    no strike and expiry (the engine prices a call and a put of one strike and expiry together);
  - trade with a busy pool (21 scenarios): the pool already holds 32 series (its cap) from other traders'
    flow; a fresh trader opens the book's series (measured at n = 1, 2, 4, 8, 12, 16): in a live market the
    pool's book sets the cost of a trade.
for each scenario grid: 9 (spot +-15% x vol {+25%, 0, -20%}), 21 (spot -15% ... +15% in 5% steps x the
same vol shocks), 29 (the vyopt default, Deribit-like: +-16% in 4% steps x 3 vol shocks + 2 tails) and 32
(the default plus three more tails; the registry's maximum).  Each grid is set through the registry's
constructor (the same grid a time-locked queue_scenarios/execute would install).

The book (fixed seed): 16 distinct series drawn from a chain of 5 strikes (32k ... 48k, spot 40k) x 3 expiries
(7, 14, 28 days) x call/put, each long or short 0.5 ... 5 contracts: a mixed book with calls and puts over
several strikes and expiries.  Bar (issue 5): margin_requirements for 16 series on the 21-scenario grid
<= 1.5M gas; aim <= 400k.
"""
from __future__ import annotations

import json
import random
import sys
import time

from .contracts import ROOT
from .report import md_table

WAD = 10**18
OUT = ROOT / "reports" / "market"
SEED = 20260505
SPOT = 40_000
STRIKES = (32_000, 36_000, 40_000, 44_000, 48_000)
N_EXPIRIES = 3
MAX_SERIES = 16
BAR, AIM = 1_500_000, 400_000
VOLS = ("0.25", "0", "-0.2")


def grids() -> dict[int, list[tuple[int, int]]]:
    from . import risk

    def cross(spots):
        return [(risk.wad(s), risk.wad(v)) for s in spots for v in VOLS]

    g29 = risk.default_scenarios()
    assert len(g29) == 29
    tails = [(risk.wad("-0.25"), risk.wad("0.5")), (risk.wad("0.25"), risk.wad("0.25")),
             (risk.wad("-0.45"), risk.wad("1"))]
    return {
        9: cross(("-0.15", "0", "0.15")),
        21: cross(("-0.15", "-0.1", "-0.05", "0", "0.05", "0.1", "0.15")),
        29: g29,
        32: g29 + tails,
    }


def book(chain: list[int]) -> list[tuple[int, int]]:
    """16 (series index in the chain, signed size in WAD contracts), fixed seed."""
    rng = random.Random(SEED)
    picks = rng.sample(range(len(chain)), MAX_SERIES)
    out = []
    for k, i in enumerate(picks):
        size = rng.choice((1, 2, 3, 4, 6, 8, 10)) * WAD // 2
        out.append((i, size if rng.random() < 0.5 else -size))
    return out


def _progress(msg):
    print(f"  market bench: {msg}", file=sys.stderr, flush=True)


def _set_spot(p, price_wad: int):
    """Move the feed to `price_wad` in steps the oracle accepts (95% of its max deviation, 5 minutes apart)."""
    import boa

    dev = p.registry.oracle_max_deviation() * 95 // 100
    dec = p.feed.decimals()
    cur = p.oracle.last_price()
    while cur != price_wad:
        boa.env.time_travel(seconds=300)
        if price_wad > cur:
            cur = min(price_wad, cur + cur * dev // WAD)
        else:
            cur = max(price_wad, cur - cur * dev // WAD)
        p.feed.set_answer(cur * 10**dec // WAD)
        p.oracle.update()


def _cold():
    """Make every account and storage slot cold for the next call, as in a transaction that does nothing else
    (EIP-2929: 2,100 per first SLOAD, 2,600 per first call to an account).  titanoboa keeps its access
    counters across calls; py-evm's JournalDB.clear() is journaled, so unlike boa.env._reset_access_counters()
    this also works inside an anchor and is undone with it."""
    import boa

    boa.env.evm.vm.state._account_db._journal_accessed_state.clear()


def _gas(contract) -> int:
    return int(contract._computation.get_gas_used())


def _liquidation(p, writer, keeper, held, units):
    """Inside an anchor: withdraw the writer to its initial margin, move spot to 1.5x (then 2x) the spot shock
    of the book's worst scenario, and liquidate the series whose close helps most in that scenario (the
    keeper's natural choice; the next ones if the market refuses).  Returns (gas, mode, spot move) or None."""
    import boa

    m = p.market
    scale = m.collateral_scale()
    spot = p.oracle.last_price()
    grid = [tuple(x) for x in p.registry.scenarios()]
    losses = [sum(q * units[sid][j] for sid, q in held) for j in range(len(grid))]
    worst = max(range(len(grid)), key=lambda j: losses[j])
    shock = grid[worst][0] / WAD or 0.1
    floor = p.registry.min_margin() * spot // WAD
    size = dict(held)
    targets = sorted(size, key=lambda sid: -(size[sid] * units[sid][worst] + max(-size[sid], 0) * floor))
    with boa.env.anchor():
        _, value, im, _ = m.account_state(writer)
        amount = min(value - im, m.collateral(writer)) // scale - 1
        if amount > 0:
            m.withdraw(amount, sender=writer)
        for mult in (1.5, 2.0):
            move = max(min(shock * mult, 0.4), -0.4)
            with boa.env.anchor():
                _set_spot(p, int(SPOT * (1 + move)) * WAD)
                for sid in targets:
                    with boa.env.anchor():
                        try:
                            _cold()
                            m.liquidate(writer, sid, 10**30, sender=keeper)
                        except boa.BoaError:
                            continue
                        gas = _gas(m)
                        ev = [e for e in m.get_logs() if type(e).__name__ == "Liquidation"][0]
                        return gas, ("full" if ev.full else "partial"), round(move, 4)
    return None


def measure_grid(n_scen: int, grid, busy_pool: bool) -> dict:
    import boa

    from . import market as mk
    from .deploy import deploy_local

    with boa.env.anchor():
        p = deploy_local(spot=SPOT, registry_kwargs={"scenarios": grid})
        assert len(p.registry.scenarios()) == n_scen
        m = p.market
        expiries = list(p.registry.expiries())[:N_EXPIRIES]
        chain = mk.list_chain(p, STRIKES, expiries)
        lp = boa.env.generate_address("lp")
        trader = boa.env.generate_address("trader")
        writer = boa.env.generate_address("writer")
        keeper = boa.env.generate_address("keeper")
        mk.fund_lp(p, lp, 100_000_000)
        mk.fund(p, trader, 20_000_000)
        mk.fund(p, writer, 20_000_000)
        spot = p.oracle.last_price()
        rows = []
        held, written, units = [], [], {}
        for n, (i, size) in enumerate(book(chain), start=1):
            sid = chain[i]
            _cold()
            m.trade(sid, size, 2**255 - 1 if size > 0 else 0, mk.deadline(), sender=trader)
            g_trade = _gas(m)
            held.append((sid, size))
            _cold()
            m.margin_requirements(trader)
            g_mr = _gas(m)
            # the writer holds the same series, all short (the account a liquidation finds)
            m.trade(sid, -abs(size), 0, mk.deadline(), sender=writer)
            written.append((sid, -abs(size)))
            strike, expiry, is_call = m.series(sid)
            units[sid] = p.engine.unit_losses(spot, int(strike) | (int(expiry) << 128) | ((1 << 192) if is_call else 0), 0)
            liq = _liquidation(p, writer, keeper, written, units)
            rows.append({"n": n, "trade": g_trade, "margin_requirements": g_mr,
                         "liquidate": liq[0] if liq else None, "liquidation_mode": liq[1] if liq else None,
                         "liquidation_spot_move": liq[2] if liq else None})
            _progress(f"{n_scen} scenarios, {n} series: trade {g_trade:,}, margin_requirements {g_mr:,}, "
                      f"liquidate {liq[0] if liq else '-'}")
        out = {"scenarios": n_scen, "rows": rows,
               "pairs": [_pairs(p, [sid for sid, _ in held[:k]]) for k in range(1, len(held) + 1)]}
        if busy_pool:
            out["no_pairs"] = _no_pairs(p, chain)
            out["busy_pool"] = _busy_pool(p, chain)
    return out


def _pairs(p, sids) -> int:
    """Call/put pairs (same strike and expiry) among the series: the engine values each pair with one
    scenario price per scenario."""
    keys = [tuple(p.market.series(s))[:2] for s in sids]
    return len(keys) - len(set(keys))


def _no_pairs(p, chain) -> list[dict]:
    """margin_requirements of a second trader whose 16 series share no strike and expiry (one type per
    (strike, expiry): the chain's 15 and one more strike): the cost without the call/put pairing."""
    import boa

    from . import market as mk

    m = p.market
    # the market lists at most 32 series at a time: one more here, one for the busy pool
    extra = mk.list_chain(p, (28_000,), list(p.registry.expiries())[:1], kinds=(False,))
    by_key = {}
    for sid in chain + extra:
        strike, expiry, is_call = m.series(sid)
        by_key.setdefault((strike, expiry), {})[bool(is_call)] = sid
    # one series per (strike, expiry), calls and puts alternating
    picks = [types[i % 2 == 0] for i, types in enumerate(by_key.values())]
    trader = boa.env.generate_address("trader_unpaired")
    mk.fund(p, trader, 20_000_000)
    rows = []
    for n, ((_, size), sid) in enumerate(zip(book(chain), picks[:MAX_SERIES]), start=1):
        m.trade(sid, size, 2**255 - 1 if size > 0 else 0, mk.deadline(), sender=trader)
        _cold()
        m.margin_requirements(trader)
        rows.append({"n": n, "margin_requirements": _gas(m)})
    return rows


SETTLE_ROUNDS = (1, 2, 8, 48, 256, 1000)


def settlement_gas() -> list[dict]:
    """settle_expiry against the number of feed rounds stamped since the expiry: the oracle proves the first of
    them from the round before the expiry (PriceOracle.settlement_round: a galloping search back from the
    latest round, then a bisection; getRoundData reads grow with log2 of the rounds since the expiry).
    Default deployment; the first expiry; rounds 10 s apart (3 s for 1,000), all inside the settlement window."""
    import boa

    from . import market as mk
    from .deploy import deploy_local

    p = deploy_local()
    e = p.registry.expiries()[0]
    mk.list_chain(p, (40_000,), [e])
    keeper = boa.env.generate_address("settler")
    rows = []
    for k in SETTLE_ROUNDS:
        with boa.env.anchor():
            boa.env.time_travel(seconds=e - boa.env.evm.patch.timestamp)
            gap = min(10, 3_000 // k)                   # all inside the settlement window
            for _ in range(k):
                boa.env.time_travel(seconds=gap)
                p.feed.set_answer(p.feed.answer())
            boa.env.time_travel(seconds=gap)
            _cold()
            p.market.settle_expiry(e, sender=keeper)
            rows.append({"rounds_since_expiry": k, "settle_expiry": _gas(p.market)})
    return rows


BUSY_N = (1, 2, 4, 8, 12, 16)


def _busy_pool(p, chain) -> list[dict]:
    """The pool holds 32 series (its cap, and the most the market lists at a time) from other traders' flow
    before a fresh trader opens the book's series; measured at n in BUSY_N."""
    import boa

    from . import market as mk

    m = p.market
    mk.list_chain(p, (52_000,), list(p.registry.expiries())[:1], kinds=(True,))
    listed = range(1, m.series_count() + 1)
    pool_series = [s for s in listed if not m.position(m.address, s)]
    need = 32 - len(m.open_series(m.address))
    # other traders' flow: small trades on the series the pool does not hold yet (an account holds <= 16)
    flows = [boa.env.generate_address(f"flow{k}") for k in range(4)]
    for f in flows:
        mk.fund(p, f, 5_000_000)
    for k, sid in enumerate(pool_series[:need]):
        size = WAD // 10 if k % 2 else -WAD // 10
        m.trade(sid, size, 2**255 - 1 if size > 0 else 0, mk.deadline(), sender=flows[k // 16])
    assert len(m.open_series(m.address)) == 32
    trader = boa.env.generate_address("trader2")
    mk.fund(p, trader, 20_000_000)
    rows = []
    for n, (i, size) in enumerate(book(chain), start=1):
        _cold()
        m.trade(chain[i], size, 2**255 - 1 if size > 0 else 0, mk.deadline(), sender=trader)
        if n in BUSY_N:
            rows.append({"n": n, "trade": _gas(m), "legs": len(set(m.open_series(m.address)) | set(m.open_series(trader)))})
    return rows


def plot(res, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(16, 4.8))
    for k, g in enumerate(res["grids"]):
        color = f"C{k}"
        ns = [r["n"] for r in g["rows"]]
        lab = f"{g['scenarios']} scenarios"
        ax[0].plot(ns, [r["margin_requirements"] / 1e3 for r in g["rows"]], marker="o", ms=3, color=color, label=lab)
        if g.get("no_pairs"):
            ax[0].plot([r["n"] for r in g["no_pairs"]], [r["margin_requirements"] / 1e3 for r in g["no_pairs"]],
                       ls="--", color=color, label=f"{lab}, no call/put pair in the book")
        ax[1].plot(ns, [r["trade"] / 1e3 for r in g["rows"]], marker="o", ms=3, color=color, label=lab)
        if g.get("busy_pool"):
            ax[1].plot([r["n"] for r in g["busy_pool"]], [r["trade"] / 1e3 for r in g["busy_pool"]],
                       ls="--", marker="s", ms=3, color=color, label=f"{lab}, pool holds 32 series")
        for mode, mk_, ls in (("partial", "o", "-"), ("full", "x", "")):
            pts = [(r["n"], r["liquidate"] / 1e3) for r in g["rows"] if r["liquidate"] and r["liquidation_mode"] == mode]
            if pts:
                ax[2].plot(*zip(*pts), marker=mk_, ms=4, ls=ls or "none", color=color, label=f"{lab}, {mode}")
    ax[0].axhline(BAR / 1e3, color="r", ls=":", lw=1, label="bar 1.5M (16 series, 21 scenarios)")
    ax[0].axhline(AIM / 1e3, color="g", ls=":", lw=1, label="aim 400k")
    for a, t in zip(ax, ("margin_requirements", "trade (opens the n-th series)", "liquidate (partial: line, full: x)")):
        a.set_title(t)
        a.set_xlabel("series held")
        a.set_ylabel("execution gas, cold (thousands)")
        a.grid(alpha=0.3)
        a.legend(fontsize=6.5)
    fig.suptitle("OptionsMarket gas vs series held (titanoboa execution gas, cold accesses)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def render(res) -> str:
    lines = ["# Options market: margin gas", "",
             "Execution gas (titanoboa `computation.get_gas_used()`: no 21,000 intrinsic, no calldata; cold: every "
             "account and storage slot first touched by the measured call, as in a transaction that does nothing "
             "else) against the "
             "number of series the account holds and the registry's scenario grid.  Book: fixed seed "
             f"{SEED}, 16 distinct series from 5 strikes x {N_EXPIRIES} expiries x call/put, long and short "
             "0.5 ... 5 contracts (see vyopt/market_bench.py).  `trade` is the trade that opens the n-th series "
             "(the pool holds the same series: the trader's and a writer's); `liquidate`: the writer, holding the "
             "same n series all short and withdrawn to its initial margin, is pushed below maintenance by a spot "
             "move of 1.5x (2x) its worst scenario's spot shock, and a keeper closes the series that helps most there.", ""]
    s = res["summary"]
    worst = max(s["mr_16x21"], s["mr_16x21_no_pairs"])
    lines += [f"**margin_requirements, 16 series, 21 scenarios: {s['mr_16x21']:,} gas** ({s['pairs_in_book']} call/put "
              f"pairs in the book); {s['mr_16x21_no_pairs']:,} with no pair.  Bar {BAR:,}: "
              f"{'met' if worst <= BAR else 'MISSED'}; aim {AIM:,}: {'met' if worst <= AIM else 'not met'}.", ""]
    for key, title in (("margin_requirements", "margin_requirements"), ("trade", "trade"),
                       ("liquidate", "liquidate")):
        lines += [f"## {title}", ""]
        heads = ["series held"] + [f"{g['scenarios']} scen." for g in res["grids"]]
        np_grid = next((g for g in res["grids"] if g.get("no_pairs")), None)
        if key == "margin_requirements":
            heads = ["series held", "call/put pairs"] + heads[1:]
            if np_grid:
                heads.append(f"{np_grid['scenarios']} scen., no pairs")
        rows = []
        for k in range(MAX_SERIES):
            row = [k + 1]
            if key == "margin_requirements":
                row.append(res["grids"][0]["pairs"][k])
            for g in res["grids"]:
                r = g["rows"][k]
                v = r[key]
                if v is None:
                    row.append("-")
                elif key == "liquidate":
                    row.append(f"{v:,} ({r['liquidation_mode'][0]})")
                else:
                    row.append(f"{v:,}")
            if key == "margin_requirements" and np_grid:
                row.append(f"{np_grid['no_pairs'][k]['margin_requirements']:,}")
            rows.append(row)
        lines += [md_table(heads, rows), ""]
        if key == "margin_requirements":
            lines += ["A call and a put of the same strike and expiry share one scenario price per scenario (put-call "
                      "parity of the kernel), so a pair costs less than two unrelated series; the last column is a "
                      "second trader whose 16 series share no strike and expiry (the cost per series without pairing).", ""]
        if key == "liquidate":
            lines += ["(p) partial: one series closed as far as needed; (f) full: the whole account (value below "
                      "the dust threshold or <= penalty x maintenance: the 1.5x move leaves the account deep under "
                      "water on the narrower grids); a full liquidation also moves every position to the pool.", ""]
    bp = [g for g in res["grids"] if g.get("busy_pool")]
    if bp:
        g = bp[0]
        lines += [f"## trade with a busy pool ({g['scenarios']} scenarios)", "",
                  "The pool already holds 32 series (its cap); the trade values the union of the trader's and the "
                  "pool's series (32 legs or more), so in a live market the pool's book sets the cost of a trade.", "",
                  md_table(["series held by the trader", "legs valued", "trade gas"],
                           [[r["n"], r["legs"], f"{r['trade']:,}"] for r in g["busy_pool"]]), ""]
    if res.get("settlement"):
        lines += ["## settle_expiry", "",
                  "The settlement price is the feed's first round at or after expiry, proven from the round before "
                  "the expiry, found by a galloping search back from the latest round then a bisection (at most "
                  "2·log2(rounds since expiry) + 1 `getRoundData` reads, no reach limit).", "",
                  md_table(["feed rounds since expiry", "settle_expiry gas"],
                           [[r["rounds_since_expiry"], f"{r['settle_expiry']:,}"] for r in res["settlement"]]), ""]
    lines += ["![gas vs series held](gas_vs_series.png)", "",
              f"Run time {res['seconds']:.0f} s.", ""]
    return "\n".join(lines)


def main(out_dir=OUT) -> dict:
    from .report import write_json

    t0 = time.time()
    out_dir.mkdir(parents=True, exist_ok=True)
    res = {"seed": SEED, "unit": "execution gas (titanoboa computation.get_gas_used())", "grids": []}
    for n_scen, grid in grids().items():
        _progress(f"grid of {n_scen} scenarios ...")
        res["grids"].append(measure_grid(n_scen, grid, busy_pool=(n_scen == 21)))
    g21 = next(g for g in res["grids"] if g["scenarios"] == 21)
    res["summary"] = {"mr_16x21": g21["rows"][-1]["margin_requirements"], "bar": BAR, "aim": AIM,
                      "mr_16x21_no_pairs": g21["no_pairs"][-1]["margin_requirements"],
                      "pairs_in_book": g21["pairs"][-1]}
    _progress("settle_expiry against rounds since expiry ...")
    res["settlement"] = settlement_gas()
    res["seconds"] = time.time() - t0
    plot(res, out_dir / "gas_vs_series.png")
    (out_dir / "bench.md").write_text(render(res))
    write_json(out_dir / "bench.json", res)
    _progress(f"done in {res['seconds']:.0f} s")
    return res


if __name__ == "__main__":
    import boa

    boa.env.enable_fast_mode()
    r = main()
    print((OUT / "bench.md").read_text())
