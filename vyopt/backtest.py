"""`backtest`: the protocol's scenario margin rule against history.

For each representative portfolio and each day t of a daily price history, the tool computes

    margin_t   the maintenance margin the rule (reference.scenario_margin) demands at the close of day t,
               from the spot S_t and the point-in-time vol proxy sigma_t only (no look-ahead);
    loss_t     the loss realised over the liquidation horizon h (default 1 day):
               V(S_t, sigma_t, T) - V(S_{t+h}, sigma_{t+h}, T - h/365), both marked with Black-76 on the
               forward = spot (r = 0) and the proxy vol of that day;
    hit_t      loss_t > margin_t (an exception),

then tests the hit sequence against the rule's nominal coverage (reference.backtest_stats): Kupiec's
proportion of failures (chi2(1)), Christoffersen's independence (chi2(1)) and conditional coverage
(chi2(2)), and the Basel traffic light over the most recent `window` days and over every rolling window.

Representative portfolios (sizes in units of the underlying; strikes set relative to the day's spot and
re-struck every day: a constant-maturity book as a market maker would carry it):
    short_call       -1 call K = S, 30 days
    short_put        -1 put  K = S, 30 days
    short_strangle   -1 call K = 1.1 S and -1 put K = 0.9 S, 30 days
    risk_reversal    +1 call K = 1.1 S and -1 put K = 0.9 S, 30 days
    calendar_spread  -1 call K = S, 7 days and +1 call K = S, 30 days

Point-in-time vol proxy (VolProxy): EWMA variance of daily log returns, lambda = 0.94 (RiskMetrics),
seeded with the mean squared return of the first 30 returns, annualised with 365 days (crypto trades every
day), times an implied-vol markup of 1.10 (BTC implied vol has traded above realised vol most of the
time; the markup stands in for that premium).  sigma_t uses returns up to and including day t's close.
The first margin day is the day the seed window closes.

With h > 1 the loss windows of consecutive days overlap, so hits cluster by construction and the
independence test is biased towards rejection; h = 1 (the default) has no overlap.

Report folder (default reports/backtest/): backtest.md, backtest.json (+ content_hash), series.csv
(day-by-day spot, vol, margins, losses, hits) and loss_vs_margin_<portfolio>.png.
"""
from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from reference import backtest_stats as bs
from reference.scenario_margin import Leg, MarginParams, ScenarioGrid, maintenance_margin, portfolio_value
from vyopt import report

YEAR_DAYS = 365


@dataclass(frozen=True)
class LegSpec:
    is_call: bool
    moneyness: float  # strike / spot on the day the position is struck
    tenor_days: float
    size: float  # + long / - short, units of underlying


PORTFOLIOS: dict[str, tuple[LegSpec, ...]] = {
    "short_call": (LegSpec(True, 1.00, 30, -1.0),),
    "short_put": (LegSpec(False, 1.00, 30, -1.0),),
    "short_strangle": (LegSpec(True, 1.10, 30, -1.0), LegSpec(False, 0.90, 30, -1.0)),
    "risk_reversal": (LegSpec(True, 1.10, 30, 1.0), LegSpec(False, 0.90, 30, -1.0)),
    "calendar_spread": (LegSpec(True, 1.00, 7, -1.0), LegSpec(True, 1.00, 30, 1.0)),
}


@dataclass(frozen=True)
class VolProxy:
    lam: float = 0.94
    seed_days: int = 30
    markup: float = 1.10
    year_days: int = YEAR_DAYS

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Settings:
    confidence: float = 0.99
    window: int = 250
    horizon_days: int = 1
    vol: VolProxy = field(default_factory=VolProxy)
    margin: MarginParams = field(default_factory=MarginParams)


def default_prices_path() -> Path:
    return Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "market" / "btc-usd-daily-2014-2022.csv"


def load_prices(path) -> tuple[np.ndarray, np.ndarray]:
    """(dates as datetime64[D], close) from a CSV with a Date/date column and a Close/close column.

    Rows with an empty or non-numeric close ("null" in Yahoo exports) are dropped.  Dates must increase.
    """
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise ValueError("backtest: empty price file")
    keys = {k.strip().lower(): k for k in rows[0]}
    if "date" not in keys or "close" not in keys:
        raise ValueError("backtest: price file needs Date and Close columns")
    dates, close = [], []
    for r in rows:
        try:
            c = float(r[keys["close"]])
        except (TypeError, ValueError):
            continue
        if c > 0:
            dates.append(r[keys["date"]].strip()[:10])
            close.append(c)
    d = np.array(dates, dtype="datetime64[D]")
    if np.any(np.diff(d).astype(int) <= 0):
        raise ValueError("backtest: dates must be strictly increasing")
    return d, np.array(close)


def ewma_vol(close, cfg: VolProxy = VolProxy()) -> np.ndarray:
    """Annualised point-in-time EWMA vol (before markup); NaN until the seed window has closed.

    r_t = ln(S_t / S_{t-1});  var_s = mean(r_1..r_s) of squares, s = seed_days;
    var_t = lam var_{t-1} + (1 - lam) r_t^2 for t > s;  vol_t = sqrt(year_days var_t).
    """
    c = np.asarray(close, dtype=float)
    r = np.diff(np.log(c))
    out = np.full(c.size, np.nan)
    s = cfg.seed_days
    if c.size <= s:
        return out
    var = float(np.mean(r[:s] ** 2))
    out[s] = var
    for t in range(s + 1, c.size):
        var = cfg.lam * var + (1.0 - cfg.lam) * r[t - 1] ** 2
        out[t] = var
    return np.sqrt(cfg.year_days * out)


def vol_proxy(close, cfg: VolProxy = VolProxy()) -> np.ndarray:
    return cfg.markup * ewma_vol(close, cfg)


def _legs(specs, spot, t_offset_years=0.0) -> list[Leg]:
    return [Leg(s.is_call, s.moneyness * spot, s.tenor_days / YEAR_DAYS - t_offset_years, s.size) for s in specs]


def run_portfolio(close, vol, specs, settings: Settings = Settings()) -> dict:
    """Margin, horizon loss and hits for every day with a vol and a day t + h (arrays over those days)."""
    close = np.asarray(close, dtype=float)
    h = settings.horizon_days
    days = np.flatnonzero(np.isfinite(vol))
    days = days[days + h < close.size]
    s0, v0 = close[days], vol[days]
    s1, v1 = close[days + h], vol[days + h]
    legs_now = _legs(specs, s0)
    legs_later = _legs(specs, s0, h / YEAR_DAYS)
    value_now = portfolio_value(legs_now, s0, v0)
    value_later = portfolio_value(legs_later, s1, v1)
    loss = value_now - value_later
    margin = maintenance_margin(legs_now, s0, v0, settings.margin)
    return {"day": days, "margin": margin, "loss": loss, "hit": loss > margin, "value": value_now}


def statistics(hits, settings: Settings = Settings()) -> dict:
    p = 1.0 - settings.confidence
    hits = np.asarray(hits, dtype=bool)
    n, x = hits.size, int(hits.sum())
    pof = bs.kupiec_pof(n, x, p)
    ind = bs.christoffersen_ind(hits)
    cc = bs.christoffersen_cc(hits, p)
    w = settings.window
    roll = bs.rolling_exceptions(hits, w)
    zones = [bs.basel_zone(int(c), w, p) for c in roll]
    green_max, yellow_max = bs.basel_zone_bounds(w, p)
    last = int(hits[-w:].sum()) if n >= w else None
    return {
        "observations": n,
        "exceptions": x,
        "expected_exceptions": n * p,
        "exception_rate": x / n,
        "kupiec": {"lr": pof.lr, "p_value": pof.p_value},
        "christoffersen_ind": {"lr": ind.lr, "p_value": ind.p_value, "transitions": list(bs.transition_counts(hits))},
        "christoffersen_cc": {"lr": cc.lr, "p_value": cc.p_value},
        "zone_bounds": {"green_max": green_max, "yellow_max": yellow_max, "window": w},
        "last_window_exceptions": last,
        "zone": bs.basel_zone(last, w, p) if last is not None else None,
        "rolling_windows": {
            "count": int(roll.size),
            "max_exceptions": int(roll.max()) if roll.size else None,
            "green": zones.count("green"), "yellow": zones.count("yellow"), "red": zones.count("red"),
            "worst_zone": ("red" if "red" in zones else "yellow" if "yellow" in zones else "green") if zones else None,
        },
    }


def _verdict(st: dict, level: float = 0.05) -> str:
    pof = st["kupiec"]["p_value"]
    if pof >= level:
        cov = "coverage consistent with the confidence level"
    elif st["exceptions"] > st["expected_exceptions"]:
        cov = "too many exceptions (margin too low)"
    else:
        cov = "fewer exceptions than nominal (margin conservative)"
    if st["exceptions"] < 2:
        ind = "independence not testable (fewer than 2 exceptions)"
    else:
        ind = "independent" if st["christoffersen_ind"]["p_value"] >= level else "clustered exceptions"
    return f"{cov}; {ind}"


def _no_progress(items, label):
    return items


def backtest(
    prices_path=None,
    *,
    settings: Settings = Settings(),
    portfolios: dict | None = None,
    out_dir=None,
    plots: bool = True,
    progress=_no_progress,
) -> dict:
    """Run the backtest, write the report folder, return the JSON summary."""
    prices_path = Path(prices_path) if prices_path is not None else default_prices_path()
    out = Path(out_dir) if out_dir is not None else Path("reports") / "backtest"
    portfolios = portfolios or PORTFOLIOS
    if not 0.0 < settings.confidence < 1.0:
        raise ValueError("backtest: confidence must be in (0, 1)")
    if settings.horizon_days < 1 or settings.window < 1:
        raise ValueError("backtest: horizon and window must be at least 1 day")
    dates, close = load_prices(prices_path)
    if close.size <= settings.vol.seed_days + settings.horizon_days:
        raise ValueError("backtest: price history shorter than the vol seed window plus the horizon")
    out.mkdir(parents=True, exist_ok=True)
    vol = vol_proxy(close, settings.vol)
    gaps = np.diff(dates).astype(int)

    results = {}
    series = {}
    for name in progress(list(portfolios), "backtesting portfolios"):
        r = run_portfolio(close, vol, portfolios[name], settings)
        st = statistics(r["hit"], settings)
        s0 = close[r["day"]]
        st.update({
            "legs": [asdict(leg) for leg in portfolios[name]],
            "verdict": _verdict(st),
            "mean_margin_pct_spot": float(np.mean(r["margin"] / s0) * 100),
            "max_loss_pct_spot": float(np.max(r["loss"] / s0) * 100),
            "max_loss_over_margin": float(np.max(r["loss"] / r["margin"])),
            "exception_dates": [str(d) for d in dates[r["day"][r["hit"]]]],
        })
        results[name] = st
        series[name] = r
    first = next(iter(series.values()))
    summary = {
        "tool": "backtest",
        "input": {"file": prices_path.name, "sha256": report.file_sha256(prices_path),
                  "first_date": str(dates[0]), "last_date": str(dates[-1]), "days": int(dates.size),
                  "max_gap_days": int(gaps.max()) if gaps.size else 0},
        "settings": {
            "confidence": settings.confidence, "window": settings.window, "horizon_days": settings.horizon_days,
            "vol_proxy": settings.vol.as_dict(), "margin_rule": settings.margin.as_dict(),
        },
        "period": {"first_margin_date": str(dates[first["day"][0]]), "last_margin_date": str(dates[first["day"][-1]])},
        "portfolios": results,
        "figures": [],
    }
    _write_series(out / "series.csv", dates, close, vol, series)
    if plots:
        summary["figures"] = _plots(out, dates, close, series, results, settings.horizon_days, progress)
    report.write_json(out / "backtest.json", summary)
    (out / "backtest.md").write_text(_markdown(summary))
    return json.loads((out / "backtest.json").read_text())


def _write_series(path, dates, close, vol, series) -> None:
    names = list(series)
    first = series[names[0]]
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["date", "spot", "vol_proxy"] + [f"{n}_{c}" for n in names for c in ("margin", "loss", "hit")])
        for j, d in enumerate(first["day"]):
            row = [str(dates[d]), repr(float(close[d])), repr(float(vol[d]))]
            for n in names:
                s = series[n]
                row += [repr(float(s["margin"][j])), repr(float(s["loss"][j])), int(s["hit"][j])]
            w.writerow(row)


def _plots(out: Path, dates, close, series, results, horizon_days, progress) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    for name in progress(list(series), "plotting"):
        r, st = series[name], results[name]
        d = dates[r["day"]].astype("datetime64[D]").astype(object)
        s0 = close[r["day"]]
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [2.2, 1]})
        m_pct, l_pct = 100 * r["margin"] / s0, 100 * r["loss"] / s0
        hit = r["hit"]
        ax.plot(d, m_pct, color="tab:blue", lw=0.9, label="maintenance margin")
        ax.plot(d, l_pct, color="0.45", lw=0.5, label=f"realised loss over {horizon_days} day(s)")
        ax.plot(np.array(d)[hit], l_pct[hit], "o", color="tab:red", ms=4, label=f"exceptions ({st['exceptions']})")
        ax.axhline(0, color="0.8", lw=0.6)
        ax.set_ylabel("% of spot")
        ax.set_title(f"{name}: {st['exceptions']} exceptions in {st['observations']} days "
                     f"(expected {st['expected_exceptions']:.1f}), Kupiec p={st['kupiec']['p_value']:.3g}, "
                     f"last-window zone {st['zone']}", fontsize=9)
        ax.legend(fontsize=8, loc="upper left")
        ax.grid(alpha=0.3)
        ax2.plot(m_pct[~hit], l_pct[~hit], ".", color="0.5", ms=2)
        ax2.plot(m_pct[hit], l_pct[hit], "o", color="tab:red", ms=4)
        lim = [min(0.0, float(l_pct.min())), max(float(m_pct.max()), float(l_pct.max())) * 1.05]
        ax2.plot(lim, lim, "--", color="tab:blue", lw=0.8, label="loss = margin")
        ax2.set_xlabel("margin (% of spot)")
        ax2.set_ylabel("realised loss (% of spot)")
        ax2.legend(fontsize=8, loc="upper left")
        ax2.grid(alpha=0.3)
        fig.tight_layout()
        fname = f"loss_vs_margin_{name}.png"
        report.save_png(fig, out / fname)
        names.append(fname)
    return names


def _markdown(s: dict) -> str:
    f = report.fmt
    st = s["settings"]
    mr = st["margin_rule"]
    lines = [
        f"# Margin backtest — {s['input']['file']}",
        "",
        f"Margin days {s['period']['first_margin_date']} to {s['period']['last_margin_date']}; confidence "
        f"{st['confidence']}, traffic-light window {st['window']} days, liquidation horizon {st['horizon_days']} day(s).",
        "",
        report.md_table(
            ["portfolio", "days", "exceptions", "expected", "Kupiec LR", "Kupiec p", "Christoffersen IND p",
             "CC p", "last-window exceptions", "zone", "rolling windows G/Y/R", "mean margin (% spot)", "verdict"],
            [[n, r["observations"], r["exceptions"], f(r["expected_exceptions"], 1), f(r["kupiec"]["lr"], 3),
              f(r["kupiec"]["p_value"], 4), f(r["christoffersen_ind"]["p_value"], 4),
              f(r["christoffersen_cc"]["p_value"], 4), r["last_window_exceptions"], r["zone"],
              f"{r['rolling_windows']['green']}/{r['rolling_windows']['yellow']}/{r['rolling_windows']['red']}",
              f(r["mean_margin_pct_spot"], 2), r["verdict"]]
             for n, r in s["portfolios"].items()]),
        "",
        f"Zones at {st['window']} observations: green 0-{next(iter(s['portfolios'].values()))['zone_bounds']['green_max']}, "
        f"yellow up to {next(iter(s['portfolios'].values()))['zone_bounds']['yellow_max']}, red above.",
        "Kupiec's test is two-sided: a p-value below 5% with fewer exceptions than expected means the margin "
        "is more conservative than its nominal confidence, not that it is too low.",
        "",
        "## Rule and proxy",
        "",
        f"Maintenance margin = worst loss over {len(mr['grid']['spot_shocks']) * len(mr['grid']['vol_factors'])} "
        f"core scenarios (spot shocks {mr['grid']['spot_shocks']} x vol factors {mr['grid']['vol_factors']}) and "
        f"tail scenarios {mr['grid']['tail']} (spot shock, vol factor) counted at {mr['grid']['tail_cover']} of "
        f"their loss, plus {mr['min_margin_fraction']} x spot per short contract; Black-76 on the forward = spot, r = 0.",
        f"Vol proxy: EWMA lambda {st['vol_proxy']['lam']}, seeded over {st['vol_proxy']['seed_days']} returns, "
        f"annualised with {st['vol_proxy']['year_days']} days, x {st['vol_proxy']['markup']} implied-vol markup; "
        "point in time (returns up to the margin day's close).",
        "",
        "## Exception dates",
        "",
        "The day the margin was set; the loss is realised over the following horizon.",
        "",
    ]
    for n, r in s["portfolios"].items():
        lines.append(f"- {n}: " + (", ".join(r["exception_dates"]) if r["exception_dates"] else "none"))
    lines += ["", "## Figures", ""] + [f"![{n}]({n})" for n in s["figures"]] + [""]
    return "\n".join(lines)
