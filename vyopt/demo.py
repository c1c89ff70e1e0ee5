"""What `ape run demo` (make demo) shows.

    run_pricing_demo(pricer) -> str        a small BTC-like option chain priced on-chain next to the reference model
    run_market_demo(p, actors, ...) -> dict  the options market's life cycle on a deployed protocol (boa or ape):
        LPs fund the pool, traders buy puts and calls, a writer sells puts up to ~85% of its margin, the mock feed
        falls 30% in steps the oracle accepts with the keeper (vyopt.keeper) after each, time passes to the
        expiry, the expiry and the accounts settle, everyone withdraws; prints a summary (accounts before/after,
        liquidations, payoffs, pool NAV per share, insurance fund, the token-balance and zero-sum invariants,
        gas of every step) and returns it
    format_market_summary(summary, client), format_gas(rows) -> str
"""
from __future__ import annotations

from reference import black_scholes as ref

WAD = 10**18
DAY = 86400


def demo_chain():
    """(label, spot, strike, vol, tau, rate, is_call) rows: spot 40,000, 30 days, a smile of strikes."""
    spot = 40_000 * WAD
    rows = []
    for strike, vol in [(32_000, 0.78), (36_000, 0.70), (40_000, 0.65), (44_000, 0.66), (48_000, 0.70)]:
        for is_call in (True, False):
            rows.append((f"{strike} {'C' if is_call else 'P'}", spot, strike * WAD, int(vol * WAD), 30 * DAY, 3 * WAD // 100, is_call))
    return rows


def run_pricing_demo(pricer) -> str:
    """Price the demo chain with `pricer` (a boa or ape contract) and return a text table."""
    lines = [f"{'option':>9} {'price':>12} {'reference':>12} {'|diff|':>9} {'delta':>8} {'gamma':>10} "
             f"{'vega':>10} {'theta/yr':>11} {'rho':>10} {'iv':>8}"]
    for label, s, k, v, t, r, is_call in demo_chain():
        p = pricer.call_price(s, k, v, t, r) if is_call else pricer.put_price(s, k, v, t, r)
        want = ref.price_wad(s, k, v, t, r, is_call)
        d, g, vg, th, rh = pricer.greeks(s, k, v, t, r, is_call)
        iv = pricer.implied_vol(p, s, k, t, r, is_call)
        diff = abs(p - int(want))
        lines.append(f"{label:>9} {p / WAD:12.4f} {float(want) / WAD:12.4f} {diff:7d}wei {d / WAD:8.4f} "
                     f"{g / WAD:10.3e} {vg / WAD:10.2f} {th / WAD:11.2f} {rh / WAD:10.2f} {iv / WAD:8.4f}")
    lines.append("\nprices in USD (WAD on-chain); |diff| against the 50-digit reference in wei (1e-18 USD)")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------------
# The options market's life cycle (ape run demo): LPs, traders, a writer, a price shock, the keeper, expiry.

ACTORS = ("operator", "lp1", "lp2", "trader1", "trader2", "writer", "keeper")


class Recorder:
    """A vyopt.trading back-end that records the gas of every transaction under the current step's name."""

    def __init__(self, inner):
        self.inner = inner
        self.kind = inner.kind
        self.step = "setup"
        self.rows: list[tuple[str, str, int]] = []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def send(self, contract, fn, *args, sender):
        tx = self.inner.send(contract, fn, *args, sender=sender)
        self.rows.append((self.step, fn, int(tx.gas or 0)))
        return tx


def _feed_steps(start: int, target: int, max_step) -> list[int]:
    """Feed prices (whole units) from `start` to `target`, each move at most max_step (a fraction) of the last."""
    from decimal import Decimal

    out, cur = [], Decimal(start)
    step = Decimal(str(max_step))
    while cur != target:
        nxt = cur * (1 - step) if target < cur else cur * (1 + step)
        cur = max(Decimal(target), nxt) if target < cur else min(Decimal(target), nxt)
        cur = cur.quantize(Decimal(1)) if cur != target else cur
        out.append(int(cur))
    return out


def run_market_demo(p, actors: dict, backend=None, echo=print, find_accounts=None, shock="-0.30",
                    deployment_gas: list | None = None) -> dict:
    """The whole life cycle on a deployed protocol `p` (boa: vyopt.deploy.deploy_local with series listed;
    ape: vyopt.deploy.load_protocol), with `actors` role -> sender (ACTORS; the operator moves the mock feed).
    find_accounts(): the keeper's candidate accounts (ape: from the market's logs); default: the actors.
    deployment_gas: (step, function, gas) rows shown first in the gas table (e.g. from the manifest).
    Prints as it goes with `echo`; returns the summary (ints and strings) with 'ok' = every invariant held."""
    from decimal import Decimal

    from .keeper import Keeper, KeeperConfig
    from .trading import Client, TradingError, backend_for, fmt_units

    bk = Recorder(backend or backend_for(p.market))
    c = Client(p, bk)
    m, feed, oracle, token = p.market, p.feed, p.oracle, p.collateral
    A = {r: bk.address(s) for r, s in actors.items()}
    names = {v: k for k, v in A.items()}
    d = c.decimals
    sym = str(token.symbol())

    def tok(n_wad, places=2):
        return fmt_units(n_wad, 18, places)

    def mint(who, tokens):
        bk.send(token, "mint", A[who], int(Decimal(tokens).scaleb(d)), sender=actors[who])

    def say(msg=""):
        echo(msg)

    ids = c.series_ids()
    if not ids:
        raise RuntimeError("no live series: deploy with list_series=True (vyopt.deploy.deploy_network)")
    first_expiry = min(c.series(s)[1] for s in ids)
    chain_ids = [s for s in ids if c.series(s)[1] == first_expiry]
    spot0 = int(oracle.peek()[0])

    def pick(is_call, factor):
        want = spot0 * Decimal(factor)
        return min((s for s in chain_ids if c.series(s)[2] == is_call), key=lambda s: abs(c.series(s)[0] - want))

    atm_put, otm_put, otm_call = pick(False, 1), pick(False, "0.9"), pick(True, "1.1")
    summary = {"symbol": sym, "expiry": first_expiry, "spot0": spot0, "series": {}}
    for s in (atm_put, otm_put, otm_call):
        summary["series"][s] = c.label(s)

    # -- 1. liquidity ---------------------------------------------------------------------------
    bk.step = "LP"
    say(f"[1] liquidity providers fund the pool ({sym})")
    for who, amount in (("lp1", 600_000), ("lp2", 400_000)):
        mint(who, amount)
        units = amount * 10**d
        bk.send(token, "approve", m.address, units, sender=actors[who])
        tx = bk.send(m, "lp_deposit", units, sender=actors[who])
        say(f"    {who:8s} deposits {amount:>9,} -> {tok(tx.event('LpDeposit')['shares'])} shares")

    # -- 2. traders and the writer -----------------------------------------------------------------
    bk.step = "collateral"
    say(f"[2] traders and a writer deposit collateral and trade against the pool (expiry {c.label(atm_put)[-16:]})")
    for who, amount in (("trader1", 100_000), ("trader2", 40_000), ("writer", 40_000)):
        mint(who, amount)
        c.deposit(actors[who], amount)
        say(f"    {who:8s} deposits {amount:>9,}")
    bk.step = "buy"
    for who, sid, n in (("trader1", atm_put, "8"), ("trader1", otm_call, "5"), ("trader2", otm_put, "10")):
        r = c.buy(actors[who], sid, n)
        say(f"    {who:8s} buys  {n:>5} x {c.label(sid):<24} premium {tok(r['premium']):>11} (limit {tok(r['limit'])})")
    bk.step = "write"
    written = Decimal(0)
    chunk = Decimal("0.5")
    while chunk >= Decimal("0.125"):
        try:
            c.sell(actors["writer"], atm_put, chunk)
        except TradingError:
            chunk /= 2
            continue
        written += chunk
        h = c.health(actors["writer"])
        if h["initial"] >= Decimal("0.85") * h["value"]:
            break
    r_w = c.health(actors["writer"])
    say(f"    writer   sells {written:>5} x {c.label(atm_put):<24} in chunks until initial margin ~85% of value "
        f"(value {tok(r_w['value'])}, initial {tok(r_w['initial'])})")

    roles = ("trader1", "trader2", "writer", "keeper")
    before = {who: c.health(actors[who]) for who in roles}
    pool_before = _pool(m)

    # -- 3. the shock and the keeper ----------------------------------------------------------------
    keeper = Keeper(p, actors["keeper"], KeeperConfig(native_price=Decimal(3000), min_profit=Decimal(0)), backend=bk)
    find = find_accounts or (lambda: [A[r] for r in roles if r != "keeper"])
    max_dev = Decimal(int(p.registry.oracle_max_deviation())) / 10**18
    target = int(Decimal(spot0) * (1 + Decimal(str(shock))) / 10**18)
    steps = _feed_steps(spot0 // 10**18, target, max_dev * Decimal("0.95"))
    say(f"[3] price shock {Decimal(str(shock)):+.0%}: {spot0 // 10**18:,} -> {target:,} in {len(steps)} feed updates, "
        f"each within the oracle's max deviation ({max_dev:.0%} per update, 95% of it used); keeper after each")
    say(f"    keeper rule: {keeper.cfg.to_json()['rule']} (gas price {bk.gas_price():,} wei, "
        f"native price {keeper.cfg.native_price} {sym})")
    liquidations = []
    fdec = int(feed.decimals())
    for price in steps:
        bk.step = "mock feed"
        bk.send(feed, "set_answer", price * 10**fdec, sender=actors["operator"])
        bk.step = "shock"
        tx = bk.send(oracle, "update", sender=actors["keeper"])
        accepted = tx.event("PriceAccepted") is not None
        bk.step = "keeper"
        rep = keeper.run_once(find())
        h = c.health(actors["writer"])
        say(f"    spot {price:>7,} ({'accepted' if accepted else 'REFUSED'}): writer value {tok(h['value']):>11} "
            f"maintenance {tok(h['maintenance']):>11}; keeper checked {rep['checked']}, "
            f"liquidated {len(rep['liquidations'])}, skipped {len(rep['skipped'])}")
        for e in rep["liquidations"]:
            e["spot"] = price
            liquidations.append(e)
            closed = sum(abs(x["size"]) for x in e["closed"])
            say(f"      liquidate {names.get(e['account'], _short(e['account']))} series {e['series_id']}: closed {tok(closed, 4)} "
                f"{'(full)' if e['full'] else '(partial)'}, maintenance {tok(e['maintenance_before'])} -> "
                f"{tok(e['maintenance_after'])}, penalty {tok(e['penalty'])}, reward {tok(e['reward'])}"
                + (f", BAD DEBT {tok(e['bad_debt']['deficit'])}" if e["bad_debt"] else ""))
    mid = {who: c.health(actors[who]) for who in roles}

    # -- 4. expiry -------------------------------------------------------------------------------
    say(f"[4] time passes to the expiry ({c.label(atm_put)[-16:]} UTC) and settles")
    bk.travel_to(first_expiry + 60)
    bk.step = "mock feed"
    bk.send(feed, "set_answer", target * 10**fdec, sender=actors["operator"])
    bk.step = "expiry"
    tx = bk.send(m, "settle_expiry", first_expiry, sender=actors["keeper"])
    settle_price = int(tx.event("ExpirySettled")["price"])
    say(f"    settlement price {tok(settle_price)} recorded (settle_expiry, gas {tx.gas:,})")
    payoffs, bad_debts = [], [e["bad_debt"] | {"account": e["account"]} for e in liquidations if e["bad_debt"]]
    bk.step = "expiry"
    for who in roles:
        if not len(m.open_series(A[who])):
            continue
        tx = bk.send(m, "settle_account", A[who], sender=actors["keeper"])
        for ev in tx.all("PositionSettled"):
            payoffs.append({"account": who, "series_id": int(ev["series_id"]), "size": int(ev["size"]),
                            "payoff": int(ev["payoff"])})
        for ev in tx.all("BadDebt"):
            bad_debts.append({"account": A[who], **{k: int(v) for k, v in ev.items() if k != "account"}})
    for pay in payoffs:
        say(f"    {pay['account']:8s} {c.label(pay['series_id']):<24} {tok(pay['size'], 4):>9} contracts -> "
            f"payoff {tok(pay['payoff']):>12}")
    after = {who: c.health(actors[who]) for who in roles}
    pool_after = _pool(m)

    # -- 5. invariants -----------------------------------------------------------------------------
    everyone = set(A.values()) | {e["account"] for e in liquidations} | set(find())
    inv = _invariants(c, everyone)

    # -- 6. everyone leaves --------------------------------------------------------------------------
    bk.step = "exit"
    withdrawals = {}
    for who in roles:
        if int(m.collateral(A[who])) >= c.scale:
            tx = c.withdraw(actors[who], "all")
            withdrawals[who] = int(tx.event("Withdraw")["amount"]) * c.scale
    bk.step = "exit"
    shares = int(m.lp_shares(A["lp2"]))
    tx = bk.send(m, "lp_withdraw", shares, sender=actors["lp2"])
    withdrawals["lp2"] = int(tx.event("LpWithdraw")["amount"]) * c.scale
    inv_end = _invariants(c, everyone)

    summary.update(before=before, mid=mid, after=after, pool_before=pool_before, pool_after=pool_after,
                   liquidations=liquidations, payoffs=payoffs, bad_debts=bad_debts, settlement_price=settle_price,
                   invariants=inv, invariants_end=inv_end, withdrawals=withdrawals, gas=bk.rows,
                   deployment_gas=list(deployment_gas or []), written=str(written), names={v: k for k, v in A.items()},
                   ok=inv["ok"] and inv_end["ok"])
    say()
    say(format_market_summary(summary, c))
    return summary


def _short(a: str) -> str:
    return a[:6] + ".." + a[-4:]


def _pool(m) -> dict:
    value = int(m.account_value(m.address))
    shares = int(m.total_shares())
    im, mm = (int(x) for x in m.margin_requirements(m.address))
    return {"cash": int(m.collateral(m.address)), "value": value, "shares": shares, "initial": im,
            "maintenance": mm, "nav_per_share": value / shares if shares else None,
            "insurance": int(m.insurance_fund()), "fees": int(m.protocol_fees()), "free": int(m.pool_free_margin())}


def _invariants(c, accounts) -> dict:
    """Token balance of the market = sum of internal balances (exact; dust only in the protocol's favour),
    and every series' positions sum to zero over the accounts and the pool."""
    m = c.market
    balance = int(c.token.balanceOf(m.address)) * c.scale
    internal = (sum(int(m.collateral(a)) for a in accounts) + int(m.collateral(m.address))
                + int(m.insurance_fund()) + int(m.protocol_fees()))
    sums = {}
    for sid in range(1, int(m.series_count()) + 1):
        sums[sid] = sum(int(m.position(a, sid)) for a in accounts) + int(m.position(m.address, sid))
    return {"token_balance": balance, "internal_total": internal, "difference": balance - internal,
            "balance_ok": balance - internal == 0, "positions_ok": all(v == 0 for v in sums.values()),
            "ok": balance == internal and all(v == 0 for v in sums.values())}


def format_market_summary(s: dict, c) -> str:
    from .trading import fmt_units

    def tok(n, places=2):
        return fmt_units(n, 18, places)

    sym = s["symbol"]
    out = [f"== Summary ({sym}; values in {sym}, WAD on chain) =="]
    out.append(f"{'account':<9}| {'before the shock':^47} | {'after settlement':^47}")
    out.append(f"{'':<9}| {'collateral':>11} {'value':>11} {'initial':>11} {'maint.':>11} | "
               f"{'collateral':>11} {'value':>11} {'initial':>11} {'maint.':>11}")
    for who in s["before"]:
        b, a = s["before"][who], s["after"][who]
        out.append(f"{who:<9}| {tok(b['collateral']):>11} {tok(b['value']):>11} {tok(b['initial']):>11} "
                   f"{tok(b['maintenance']):>11} | {tok(a['collateral']):>11} {tok(a['value']):>11} "
                   f"{tok(a['initial']):>11} {tok(a['maintenance']):>11}")
    out.append("")
    out.append(f"Liquidations ({len(s['liquidations'])}):")
    if not s["liquidations"]:
        out.append("  none")
    tot_pen = tot_rew = 0
    for e in s["liquidations"]:
        closed = sum(abs(x["size"]) for x in e["closed"])
        tot_pen += e["penalty"]
        tot_rew += e["reward"]
        out.append(f"  spot {e['spot']:>7,} {s['names'].get(e['account'], _short(e['account'])):<8} series {e['series_id']:>2} "
                   f"{'full   ' if e['full'] else 'partial'} closed {tok(closed, 4):>7}  value {tok(e['value_before']):>10} "
                   f"maint. {tok(e['maintenance_before']):>10} -> {tok(e['maintenance_after']):>10}  "
                   f"penalty {tok(e['penalty']):>8}  reward {tok(e['reward']):>8}  gas {e['gas']:,}")
    if s["liquidations"]:
        out.append(f"  total penalty {tok(tot_pen)} = keeper reward {tok(tot_rew)} + insurance {tok(tot_pen - tot_rew)}")
    for b in s["bad_debts"]:
        out.append(f"  bad debt {s['names'].get(b['account'], b['account'])}: deficit {tok(b['deficit'])}, insurance {tok(b['from_insurance'])}, "
                   f"socialized {tok(b['socialized'])}")
    out.append("")
    out.append(f"Settlement at {tok(s['settlement_price'])}:")
    for pay in s["payoffs"]:
        out.append(f"  {pay['account']:<8} {c.label(pay['series_id']):<24} {tok(pay['size'], 4):>9} -> payoff "
                   f"{tok(pay['payoff']):>12}")
    pb, pa = s["pool_before"], s["pool_after"]
    out.append("")
    out.append(f"Pool: NAV per share {pb['nav_per_share']:.6f} -> {pa['nav_per_share']:.6f}; value "
               f"{tok(pb['value'])} -> {tok(pa['value'])}; free margin {tok(pb['free'])} -> {tok(pa['free'])}")
    out.append(f"Insurance fund {tok(pb['insurance'])} -> {tok(pa['insurance'])}; protocol fees {tok(pa['fees'])}")
    if s["withdrawals"]:
        out.append("Withdrawals after settlement: " + ", ".join(f"{w} {tok(v)}" for w, v in s["withdrawals"].items()))
    out.append("")
    for label, inv in (("after settlement", s["invariants"]), ("after withdrawals", s["invariants_end"])):
        out.append(f"invariant ({label}): token balance x scale {tok(inv['token_balance'], 6)} == accounts + pool + "
                   f"insurance + fees {tok(inv['internal_total'], 6)}: {'OK' if inv['balance_ok'] else 'FAILED'} "
                   f"(difference {inv['difference']} wei); positions sum to zero in every series: "
                   f"{'OK' if inv['positions_ok'] else 'FAILED'}")
    out.append("")
    out.append(format_gas(s["gas"], s.get("deployment_gas")))
    return "\n".join(out)


def format_gas(rows, deployment_gas=None) -> str:
    """Gas per step: count, mean, min, max (ape: the receipts' gasUsed; boa: execution gas only)."""
    out = [f"{'gas by step (function, demo step)':<46} {'txs':>4} {'mean':>10} {'min':>10} {'max':>10}"]
    steps: dict[str, list[int]] = {}
    for step, fn, gas in list(deployment_gas or []) + list(rows):
        key = f"{fn} ({step})"
        steps.setdefault(key, []).append(gas)
    for key, g in steps.items():
        out.append(f"{key[:46]:<46} {len(g):>4} {sum(g) // len(g):>10,} {min(g):>10,} {max(g):>10,}")
    return "\n".join(out)
