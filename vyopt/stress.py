"""Stress test of the live book (`ape run stress`): every open account and the pool revalued under an extended,
Deribit-like grid of large moves and under user scenarios, with the reference model.

Method (the numbers come from reference/market.py, never from the contracts)
    state      the reference model's view of the chain now (vyopt.monitor.chain.reference_state): the oracle
               price as the market's views use it (peek), the registry's smiles, grid and parameters, the
               recorded settlement prices.  Books (collateral, positions) are read from the market.
    scenario   an instantaneous move (no time passes, no keeper acts first): spot S' = S (1 + spot_move);
               the vol of every live series at its own strike is multiplied by vol_factor (sticky strike,
               the way the registry's margin grid shocks vols).  The shocked surface is again raw SVI:
                   w'(k') = f^2 w(k' + ln(1 + ds)),  k' = ln(K / S'),  i.e.  SVI(f^2 a, f^2 b, rho, m - ln(1 + ds), sigma)
               so the shocked market is an ordinary reference MarketState, and the margin "at the shocked
               state" is the market's own rule there (its scenario grid around S', the min-margin floor at S').
               Expired series: settled ones keep their settlement value, unsettled ones move with the spot
               (intrinsic value at S'), as the reference marks them.
    value'     collateral + sum q mark'                          (reference.market.account_value)
    shortfall  max(0, 0 - value'): what the account cannot pay   (per account and scenario)
    liquidated value' < maintenance'                              (reference.market.maintenance at the shocked state)
    totals     the insurance fund pays first: covered = min(total shortfall, fund); the pool absorbs the rest
               (socialized), on top of its own revaluation: pool value after = pool value' - socialized.
               The pool is the counterparty of every trade, so with a complete account list the P&L of the
               accounts and of the pool add up to zero in every scenario (reported as `conservation`).
    Per-series marks and unit scenario losses are computed once per scenario (reference.market.mark and
    scenario_losses of one contract long) and scaled by each position: the reference rule is linear in the
    position, so this is the reference value to rounding (tests/stress checks it against the per-account calls).

Extended grid (EXTENDED_SPOT x EXTENDED_VOL): spot -66%, -50%, -33%, -20%, -10%, 0, +10%, +25%, +50%, +100%, +200%,
+500% x vol x1, x1.5, x2 (36 scenarios), after Deribit's portfolio-margin extended-range stress.

User scenarios (YAML, `--scenarios FILE`):

    include_grid: true            # optional, default true: also run the extended grid
    scenarios:
      - name: crash               # unique, required
        spot_move: -0.5           # relative move, > -1 ...
        vol_factor: 2.0           # sigma' = sigma x vol_factor, > 0 ...
        description: March 2020   # optional
      - name: to 100k
        spot_price: 100000        # ... or an absolute spot level (quote units)
        vol_shock: 0.25           # ... or a relative vol shock: sigma' = sigma (1 + vol_shock), > -1

    (a bare list of scenarios is accepted too).  Unknown keys are refused.

Report (default reports/stress/): report.md, report.json (+ content_hash), heatmap.png (accounts x scenarios,
colour = value under the scenario / value now, dots = liquidatable there).

API
    EXTENDED_SPOT, EXTENDED_VOL, Scenario, extended_grid(), load_scenarios(path) -> (list, include_grid)
    shocked_state(m, spot_move, vol_factor) -> MarketState
    run_stress(d, accounts, scenarios, *, now=None, progress=...) -> dict     the computation (no files)
    stress(d, accounts=None, *, scenarios_file=None, include_grid=True, out_dir=None, plots=True,
           from_block=None, progress=...) -> dict                            reads, computes, writes the report
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from reference import market as ref
from reference.svi import SVI
from vyopt import report
from vyopt.monitor import chain as ch

EXTENDED_SPOT = (-0.66, -0.50, -0.33, -0.20, -0.10, 0.0, 0.10, 0.25, 0.50, 1.00, 2.00, 5.00)
EXTENDED_VOL = (1.0, 1.5, 2.0)
HEATMAP_ROWS = 40  # the heat map shows the worst 40 accounts (by worst value ratio) and the pool
USER_KEYS = {"name", "spot_move", "spot_price", "vol_factor", "vol_shock", "description"}


def _no_progress(items, label):
    return items


@dataclass(frozen=True)
class Scenario:
    name: str
    spot_move: float | None       # relative spot move (None when spot_price is given)
    vol_factor: float
    source: str = "grid"          # "grid" | "user"
    spot_price: float | None = None
    description: str = ""

    def move(self, spot: float) -> float:
        """The relative spot move at the current spot."""
        return self.spot_move if self.spot_price is None else self.spot_price / spot - 1.0

    def as_dict(self, spot: float) -> dict:
        move = self.move(spot)
        return {"name": self.name, "source": self.source, "spot_move": move, "spot": spot * (1 + move),
                "vol_factor": self.vol_factor, "description": self.description}


def extended_grid() -> list[Scenario]:
    out = []
    for ds in EXTENDED_SPOT:
        for f in EXTENDED_VOL:
            out.append(Scenario(f"S{100 * ds:+.0f}% vol x{f:g}", ds, f))
    return out


def _number(d, key, where):
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError(f"stress: {where}: {key} must be a finite number")
    return float(v)


def parse_scenarios(data) -> tuple[list[Scenario], bool]:
    """Scenarios and include_grid from the YAML document (module docstring)."""
    include_grid = True
    if isinstance(data, dict):
        unknown = set(data) - {"scenarios", "include_grid"}
        if unknown:
            raise ValueError(f"stress: unknown top-level key(s) {sorted(unknown)}")
        include_grid = data.get("include_grid", True)
        if not isinstance(include_grid, bool):
            raise ValueError("stress: include_grid must be true or false")
        items = data.get("scenarios") or []
    elif isinstance(data, list):
        items = data
    elif data is None:
        items = []
    else:
        raise ValueError("stress: the scenario file must be a mapping or a list")
    if not isinstance(items, list):
        raise ValueError("stress: scenarios must be a list")
    out, names = [], set()
    for i, d in enumerate(items):
        where = f"scenario {i + 1}"
        if not isinstance(d, dict):
            raise ValueError(f"stress: {where} is not a mapping")
        unknown = set(d) - USER_KEYS
        if unknown:
            raise ValueError(f"stress: {where}: unknown key(s) {sorted(unknown)}")
        name = d.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"stress: {where}: a name is required")
        if name in names:
            raise ValueError(f"stress: duplicate scenario name {name!r}")
        names.add(name)
        where = f"scenario {name!r}"
        if ("spot_move" in d) == ("spot_price" in d):
            raise ValueError(f"stress: {where}: give exactly one of spot_move, spot_price")
        if ("vol_factor" in d) and ("vol_shock" in d):
            raise ValueError(f"stress: {where}: give at most one of vol_factor, vol_shock")
        move = price = None
        if "spot_move" in d:
            move = _number(d, "spot_move", where)
            if move <= -1:
                raise ValueError(f"stress: {where}: spot_move must be above -1")
        else:
            price = _number(d, "spot_price", where)
            if price <= 0:
                raise ValueError(f"stress: {where}: spot_price must be positive")
        f = 1.0
        if "vol_factor" in d:
            f = _number(d, "vol_factor", where)
        elif "vol_shock" in d:
            f = 1.0 + _number(d, "vol_shock", where)
        if f <= 0:
            raise ValueError(f"stress: {where}: the vol factor must be positive (vol_shock above -1)")
        out.append(Scenario(name, move, f, "user", price, str(d.get("description", ""))))
    return out, include_grid


def load_scenarios(path) -> tuple[list[Scenario], bool]:
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as e:
        raise ValueError(f"stress: {Path(path).name} is not valid YAML: {e}") from e
    return parse_scenarios(data)


# ------------------------------------------------------------------------------------------------------------
# The computation


def shocked_state(m: ref.MarketState, spot_move: float, vol_factor: float) -> ref.MarketState:
    """The market after an instantaneous move: S (1 + spot_move), sticky-strike vols x vol_factor."""
    d = math.log1p(spot_move)
    c = vol_factor * vol_factor
    smiles = {e: SVI(c * p.a, c * p.b, p.rho, p.m - d, p.sigma) for e, p in m.smiles.items()}
    return replace(m, spot=m.spot * (1.0 + spot_move), smiles=smiles)


class _Valuer:
    """Marks and unit scenario losses of every series at one state (reference model, one contract long)."""

    def __init__(self, m: ref.MarketState, series):
        self.m = m
        self.mark = {s: ref.mark(m, s) for s in series}
        self.unit = {s: ref.scenario_losses(m, {s: 1.0}) for s in series}
        self.n = len(m.grid.pairs)

    def value(self, cash: float, pos: dict) -> float:
        return cash + sum(q * self.mark[s] for s, q in pos.items())

    def maintenance(self, pos: dict) -> float:
        losses = np.zeros(self.n)
        for s, q in pos.items():
            losses = losses + q * self.unit[s]
        worst = max(0.0, float(np.max(losses))) if self.n else 0.0
        return worst + self.m.params.min_margin * self.m.spot * ref.short_contracts(self.m, pos)


def run_stress(d: ch.Deployment, accounts, scenarios: list[Scenario], *, now: int | None = None,
               progress=_no_progress) -> dict:
    """Read the books and revalue them under every scenario (module docstring); a JSON-ready dict."""
    now = d.now() if now is None else int(now)
    block = d.block()
    table = ch.series_table(d)
    m0 = ch.reference_state(d, now=now, table=table)
    accounts = list(dict.fromkeys(ch.addr(a) for a in accounts if ch.addr(a) != d.pool))
    books = {}
    onchain = {}
    for a in progress(accounts, "reading accounts"):
        books[a] = ch.book(d, a, table)
        cash, value, im, mm = (int(x) for x in ch.as_tuple(d.market.account_state(a)))
        onchain[a] = {"value": value / ch.WAD, "initial": im / ch.WAD, "maintenance": mm / ch.WAD}
    pool_cash, pool_pos = ch.book(d, d.pool, table)
    insurance = int(d.market.insurance_fund()) / ch.WAD
    series = sorted({s for _, pos in books.values() for s in pos} | set(pool_pos),
                    key=lambda s: (s.expiry, s.strike, s.is_call))

    # completeness: every position has the pool as counterparty, so accounts + pool sum to zero per series
    missing = {}
    for s in series:
        total = pool_pos.get(s, 0.0) + sum(pos.get(s, 0.0) for _, pos in books.values())
        if abs(total) > 1e-12 * (1.0 + abs(pool_pos.get(s, 0.0))):
            missing[s] = total

    v0 = _Valuer(m0, series)
    n_a, n_s = len(accounts), len(scenarios)
    values = np.zeros((n_a, n_s))
    maint = np.zeros((n_a, n_s))
    pool_values = np.zeros(n_s)
    pool_maint = np.zeros(n_s)
    for j, sc in enumerate(progress(scenarios, "revaluing scenarios")):
        ms = shocked_state(m0, sc.move(m0.spot), sc.vol_factor)
        v = _Valuer(ms, series)
        for i, a in enumerate(accounts):
            cash, pos = books[a]
            values[i, j] = v.value(cash, pos)
            maint[i, j] = v.maintenance(pos)
        pool_values[j] = v.value(pool_cash, pool_pos)
        pool_maint[j] = v.maintenance(pool_pos)

    value_now = np.array([v0.value(*books[a]) for a in accounts])
    mm_now = np.array([v0.maintenance(books[a][1]) for a in accounts])
    pool_now = v0.value(pool_cash, pool_pos)
    shortfall = np.maximum(0.0, -values)
    liquidated = values < maint
    total_short = shortfall.sum(axis=0) if n_a else np.zeros(n_s)
    covered = np.minimum(total_short, insurance)
    socialized = total_short - covered
    pool_after = pool_values - socialized
    pnl_accounts = (values - value_now[:, None]).sum(axis=0) if n_a else np.zeros(n_s)
    pnl_pool = pool_values - pool_now
    scale = 1.0 + float(np.sum(np.abs(value_now))) + abs(pool_now)

    per_scenario = []
    for j, sc in enumerate(scenarios):
        per_scenario.append({
            **sc.as_dict(m0.spot),
            "total_shortfall": float(total_short[j]),
            "covered_by_insurance": float(covered[j]),
            "socialized": float(socialized[j]),
            "pool_value": float(pool_values[j]),
            "pool_maintenance": float(pool_maint[j]),
            "pool_value_after": float(pool_after[j]),
            "pool_solvent": bool(pool_after[j] >= 0),
            "accounts_liquidated": int(liquidated[:, j].sum()) if n_a else 0,
            "accounts_in_shortfall": int((shortfall[:, j] > 0).sum()) if n_a else 0,
            "pnl_accounts": float(pnl_accounts[j]),
            "pnl_pool": float(pnl_pool[j]),
        })
    rows = []
    for i, a in enumerate(accounts):
        cash, pos = books[a]
        worst = int(np.argmin(values[i])) if n_s else None
        rows.append({
            "address": a,
            "collateral": cash,
            "positions": [{"strike": s.strike, "expiry": s.expiry, "is_call": s.is_call, "size": q}
                          for s, q in sorted(pos.items(), key=lambda kv: (kv[0].expiry, kv[0].strike, kv[0].is_call))],
            "value_now": float(value_now[i]),
            "maintenance_now": float(mm_now[i]),
            "onchain": onchain[a],
            "values": values[i].tolist(),
            "maintenance": maint[i].tolist(),
            "shortfall": shortfall[i].tolist(),
            "liquidated": liquidated[i].tolist(),
            "worst_scenario": scenarios[worst].name if worst is not None else None,
            "worst_value": float(values[i, worst]) if worst is not None else None,
            "max_shortfall": float(shortfall[i].max()) if n_s else 0.0,
            "scenarios_liquidated": int(liquidated[i].sum()),
        })
    # the worst scenario: the largest total shortfall; among equals, the lowest pool value after
    worst_j = int(np.lexsort((pool_after, -total_short))[0]) if n_s else None
    return {
        "tool": "stress",
        "chain": {
            "backend": d.backend, "block": block, "time": now, "market": d.pool, "spot": m0.spot,
            "insurance_fund": insurance, "series": len(table), "accounts": n_a,
            "pool": {"collateral": pool_cash, "value_now": pool_now, "maintenance_now": v0.maintenance(pool_pos),
                     "positions": len(pool_pos)},
        },
        "method": {
            "model": "reference/market.py (float64 Black-Scholes, r = 0, SVI total variance)",
            "scenario": "instantaneous: S' = S (1 + spot_move), sticky-strike vol x vol_factor, no time passes",
            "shortfall": "max(0, -value under the scenario)",
            "liquidated": "value' < maintenance' (reference margin at the shocked state)",
            "totals": "insurance pays first, the pool absorbs the rest",
        },
        "scenarios": [sc.as_dict(m0.spot) for sc in scenarios],
        "per_scenario": per_scenario,
        "accounts": rows,
        "pool": {"values": pool_values.tolist(), "maintenance": pool_maint.tolist(), "value_after": pool_after.tolist()},
        "worst": None if worst_j is None else {
            "scenario": scenarios[worst_j].name, "total_shortfall": float(total_short[worst_j]),
            "insurance_fund": insurance, "uncovered": float(socialized[worst_j]),
            "pool_value_after": float(pool_after[worst_j]), "pool_solvent": bool(pool_after[worst_j] >= 0)},
        "min_pool_value_after": float(pool_after.min()) if n_s else None,
        "conservation": {
            "max_abs_pnl_sum": float(np.max(np.abs(pnl_accounts + pnl_pool))) if n_s else 0.0,
            "relative": float(np.max(np.abs(pnl_accounts + pnl_pool))) / scale if n_s else 0.0,
            "complete_account_list": not missing,
            "uncovered_positions": [{"strike": s.strike, "expiry": s.expiry, "is_call": s.is_call, "net": q}
                                    for s, q in missing.items()],
        },
    }


# ------------------------------------------------------------------------------------------------------------
# The command's engine and the report


def stress(d, accounts=None, *, scenarios_file=None, include_grid: bool = True, out_dir=None, plots: bool = True,
           from_block: int | None = None, progress=_no_progress) -> dict:
    """Stress the deployment `d` (a chain.Deployment, or a protocol with .market handles) and write the report.
    accounts: the addresses to revalue (required on boa; on ape default = every account in the market's logs from
    from_block, default the deployment's first block when the manifest gives it, else 0)."""
    if not isinstance(d, ch.Deployment):
        d = ch.from_protocol(d)
    user, grid_on = ([], True)
    if scenarios_file is not None:
        user, grid_on = load_scenarios(scenarios_file)
    include_grid = include_grid and grid_on
    scenarios = (extended_grid() if include_grid else []) + user
    if not scenarios:
        raise ValueError("stress: no scenario to run (the grid is off and the file has none)")
    if accounts is None:
        accounts = ch.account_events(d, from_block=from_block)
    result = run_stress(d, accounts, scenarios, progress=progress)
    if scenarios_file is not None:
        result["input"] = {"scenarios_file": Path(scenarios_file).name, "sha256": report.file_sha256(scenarios_file)}
    out = Path(out_dir) if out_dir is not None else Path("reports") / "stress"
    out.mkdir(parents=True, exist_ok=True)
    result["figures"] = []
    if plots:
        result["figures"].append(_heatmap(result, out / "heatmap.png"))
    h = report.write_json(out / "report.json", result)
    result["content_hash"] = h
    (out / "report.md").write_text(_markdown(result))
    return result


def _ratio_rows(result):
    rows = []
    for r in result["accounts"]:
        base = abs(r["value_now"]) if abs(r["value_now"]) > 1e-9 else 1.0
        rows.append((r["address"], np.array(r["values"]) / base, np.array(r["liquidated"])))
    rows.sort(key=lambda t: (float(np.min(t[1])) if t[1].size else 0.0, t[0]))
    rows = rows[:HEATMAP_ROWS]
    pool = result["chain"]["pool"]["value_now"]
    base = abs(pool) if abs(pool) > 1e-9 else 1.0
    rows.append(("pool", np.array(result["pool"]["value_after"]) / base, np.zeros(len(result["scenarios"]), bool)))
    return rows


def _heatmap(result, path: Path) -> str:
    import matplotlib.pyplot as plt
    from matplotlib.colors import TwoSlopeNorm

    rows = _ratio_rows(result)
    names = [sc["name"] for sc in result["scenarios"]]
    z = np.clip(np.array([r[1] for r in rows]), -1.0, 2.0)
    fig, ax = plt.subplots(figsize=(max(8.0, 0.28 * len(names) + 3), max(3.0, 0.3 * len(rows) + 2.2)))
    im = ax.imshow(z, aspect="auto", cmap="RdYlGn", norm=TwoSlopeNorm(vmin=-1.0, vcenter=0.0, vmax=2.0),
                   interpolation="nearest")
    for i, (_, _, liq) in enumerate(rows):
        cols = np.flatnonzero(liq)
        ax.scatter(cols, np.full(cols.size, i), s=9, c="black", marker="o", linewidths=0)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=90, fontsize=7)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r[0] if r[0] == "pool" else r[0][:10] + "…" for r in rows], fontsize=7)
    ax.set_title("Value under each scenario / value now (red: shortfall; dot: liquidatable there; "
                 "pool row: after absorbing the uncovered shortfall)", fontsize=8)
    cb = fig.colorbar(im, ax=ax, fraction=0.03)
    cb.set_label("value ratio (clipped to [-1, 2])", fontsize=8)
    fig.tight_layout()
    report.save_png(fig, path)
    return path.name


def _money(x):
    return f"{x:,.2f}"


def _markdown(r: dict) -> str:
    c = r["chain"]
    lines = [
        "# Stress test of the live book",
        "",
        f"Market `{c['market']}` on {c['backend']} at block {c['block']} (chain time {c['time']}): spot "
        f"{_money(c['spot'])}, {c['series']} series, {c['accounts']} accounts, insurance fund "
        f"{_money(c['insurance_fund'])}, pool value {_money(c['pool']['value_now'])} "
        f"(maintenance {_money(c['pool']['maintenance_now'])}).",
        "",
        "Method: " + "; ".join(f"{k}: {v}" for k, v in r["method"].items()) + ".",
        "",
    ]
    w = r["worst"]
    if w:
        lines += [
            f"**Worst scenario: {w['scenario']}** - total shortfall {_money(w['total_shortfall'])} against an "
            f"insurance fund of {_money(w['insurance_fund'])}: {_money(w['uncovered'])} socialized to the pool, "
            f"pool value after {_money(w['pool_value_after'])} ({'solvent' if w['pool_solvent'] else 'INSOLVENT'}).",
            "",
        ]
    cons = r["conservation"]
    if not cons["complete_account_list"]:
        lines += ["**Warning: the account list is incomplete** (positions without their holder in the list: "
                  f"{len(cons['uncovered_positions'])} series); totals understate the book.", ""]
    lines += ["## Per scenario", ""]
    rows = [[s["name"], s["source"], f"{100 * s['spot_move']:+.1f}%", f"x{s['vol_factor']:g}", _money(s["total_shortfall"]),
             _money(s["covered_by_insurance"]), _money(s["socialized"]), _money(s["pool_value_after"]),
             "yes" if s["pool_solvent"] else "**no**", str(s["accounts_liquidated"]), str(s["accounts_in_shortfall"])]
            for s in r["per_scenario"]]
    lines.append(report.md_table(["scenario", "source", "spot", "vol", "total shortfall", "insurance pays",
                                  "socialized", "pool value after", "pool solvent", "liquidated", "in shortfall"], rows))
    lines += ["", "## Accounts (worst first)", ""]
    n_sc = len(r["scenarios"])
    accs = sorted(r["accounts"], key=lambda a: (-a["max_shortfall"], a["worst_value"] or 0.0, a["address"]))
    rows = [[f"`{a['address']}`", _money(a["value_now"]), _money(a["maintenance_now"]), str(a["worst_scenario"]),
             _money(a["worst_value"] or 0.0), _money(a["max_shortfall"]), f"{a['scenarios_liquidated']}/{n_sc}"]
            for a in accs]
    lines.append(report.md_table(["account", "value now", "maintenance now", "worst scenario", "value there",
                                  "max shortfall", "liquidatable in"], rows))
    user = [s for s in r["scenarios"] if s["source"] == "user"]
    if user:
        lines += ["", "## User scenarios", ""]
        lines.append(report.md_table(["name", "spot", "vol factor", "description"],
                                     [[s["name"], _money(s["spot"]), f"{s['vol_factor']:g}", s["description"] or "-"]
                                      for s in user]))
    lines += ["", f"Conservation (accounts' P&L + pool P&L, worst scenario): {cons['max_abs_pnl_sum']:.3e} "
              f"({cons['relative']:.1e} of the book's value).", ""]
    for f in r.get("figures", []):
        lines += [f"![heat map]({f})", ""]
    return "\n".join(lines)
