"""`calibrate` end to end: read a chain, filter, invert, fit the surface, check it, write the report.

Report folder (default reports/calibration/<chain file stem>/):
    calibration.md        tables a person reads: filters, per-expiry fit quality, arbitrage checks, IV cross-check
    calibration.json      the machine twin of calibration.md (+ content_hash)
    params.json           the fitted SVI slices the registry would receive (+ content_hash)
    smile_<date>.png      per expiry: bid/ask vol bars, mid vols, fitted smile
    total_variance.png    w(k) of every expiry (calendar arbitrage shows as crossing curves)
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from reference.svi import total_variance
from vyopt import report
from vyopt.calibration import arbitrage
from vyopt.calibration.bounds import REGISTRY_BOUNDS
from vyopt.calibration.fit import fit_slice, fit_vols
from vyopt.calibration.quotes import prepare_quotes, source_iv_agreement
from vyopt.chains import YEAR_SECONDS, read_chain

INSIDE_BAR = 0.90  # the bar: fitted vol inside the bid-ask for >= 90% of the filtered quotes


def _no_progress(items, label):
    return items


def _iso_date(t: float) -> str:
    return datetime.fromtimestamp(float(t), tz=timezone.utc).strftime("%Y-%m-%d")


def _iso_time(t: float) -> str:
    return datetime.fromtimestamp(float(t), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_out_dir(chain_path) -> Path:
    return Path("reports") / "calibration" / Path(chain_path).stem


def fit_surface(quotes, progress=_no_progress) -> list[dict]:
    """Fit every expiry of `quotes` from the shortest to the longest; one dict per expiry."""
    out = []
    prev = None
    for e in progress(list(quotes.expiries()), "fitting SVI slices"):
        i = quotes.slice(e)
        f = fit_slice(quotes.k[i], quotes.t_years[i], quotes.vol_mid[i], quotes.half_spread[i], prev)
        out.append({"expiry": float(e), "index": i, "fit": f})
        prev = f.params
    return out


def calibrate(
    chain_path,
    *,
    out_dir=None,
    fmt: str = "auto",
    underlying: str | None = None,
    otm_only: bool = True,
    min_days: float = 1.0,
    plots: bool = True,
    progress=_no_progress,
) -> dict:
    """Calibrate the SVI surface to a chain file and write the report folder; return the JSON summary."""
    chain_path = Path(chain_path)
    out = Path(out_dir) if out_dir is not None else default_out_dir(chain_path)

    chain = read_chain(chain_path, fmt=fmt, underlying=underlying)
    quotes, freport = prepare_quotes(chain, otm_only=otm_only, min_days=min_days)
    if len(quotes) == 0:
        raise ValueError("calibrate: no usable quote left after filtering")
    out.mkdir(parents=True, exist_ok=True)
    # every usable quote, ITM side included, to report how the OTM-fitted surface prices it as well
    all_quotes, _ = prepare_quotes(chain, otm_only=False, min_days=min_days)
    snapshot = float(np.median(chain.timestamp))  # slice T for the registry: expiry - snapshot

    slices = fit_surface(quotes, progress)
    rows = []
    smiles = []
    n_in = 0
    sq = 0.0
    for s in slices:
        i, p = s["index"], s["fit"].params
        fv = fit_vols(p, quotes.k[i], quotes.t_years[i])
        inside = (fv >= quotes.vol_bid[i]) & (fv <= quotes.vol_ask[i])
        err = (fv - quotes.vol_mid[i]) * 100.0
        t_slice = (s["expiry"] - snapshot) / YEAR_SECONDS
        fwd = float(np.median(quotes.forward[i]))
        bfly = arbitrage.butterfly_report(p)
        stat = arbitrage.static_report(p)
        n_in += int(inside.sum())
        sq += float(np.sum(err * err))
        j = np.flatnonzero(all_quotes.expiry == s["expiry"])
        fv_all = fit_vols(p, all_quotes.k[j], all_quotes.t_years[j])
        in_all = (fv_all >= all_quotes.vol_bid[j]) & (fv_all <= all_quotes.vol_ask[j])
        smiles.append((t_slice, p))
        rows.append({
            "expiry": _iso_time(s["expiry"]),
            "expiry_unix": int(s["expiry"]),
            "t_years": t_slice,
            "forward": fwd,
            "quotes": int(len(i)),
            "rmse_vol_pts": float(np.sqrt(np.mean(err * err))),
            "max_abs_err_vol_pts": float(np.max(np.abs(err))),
            "inside_bid_ask": int(inside.sum()),
            "share_inside_bid_ask": float(inside.mean()),
            "all_usable_quotes": int(len(j)),
            "all_usable_inside": int(in_all.sum()),
            "all_usable_share_inside": float(in_all.mean()) if len(j) else None,
            "k_range": [float(quotes.k[i].min()), float(quotes.k[i].max())],
            "params": dict(zip(("a", "b", "rho", "m", "sigma"), p.as_tuple())),
            "butterfly": bfly,
            "static": stat,
            "fit": {"starts": s["fit"].starts, "converged_starts": s["fit"].converged_starts,
                    "no_arbitrage_stage": s["fit"].constrained, "cost": s["fit"].cost},
        })
    cal = arbitrage.calendar_report(smiles)
    n = len(quotes)
    n_all = sum(r["all_usable_quotes"] for r in rows)
    in_all_total = sum(r["all_usable_inside"] for r in rows)
    share = n_in / n
    params = {
        "model": "raw SVI: w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2)), k = ln(K/F), w = total variance",
        "year_days": 365,
        "underlying": (underlying or chain.symbol[0]).upper(),
        "snapshot_time": _iso_time(snapshot),
        "slices": [
            {"expiry": r["expiry"], "expiry_unix": r["expiry_unix"], "t_years": r["t_years"],
             "forward": r["forward"], **r["params"]}
            for r in rows
        ],
    }
    params_hash = report.write_json(out / "params.json", params)
    summary = {
        "tool": "calibrate",
        "input": {"file": chain_path.name, "sha256": report.file_sha256(chain_path), "format": chain.source,
                  "underlying": params["underlying"]},
        "settings": {
            "otm_only": otm_only, "min_days": min_days, "weighting": "inverse half bid-ask spread in vol (soft-L1)",
            "k_grid": {"min": float(arbitrage.K_GRID[0]), "max": float(arbitrage.K_GRID[-1]),
                       "points": len(arbitrage.K_GRID)},
            "registry_bounds": REGISTRY_BOUNDS.as_dict(),
        },
        "snapshot_time": params["snapshot_time"],
        "filter": freport.as_dict(),
        "source_iv_agreement": source_iv_agreement(chain) if chain.source == "deribit" else None,
        "expiries": rows,
        "overall": {
            "quotes": n,
            "inside_bid_ask": n_in,
            "share_inside_bid_ask": share,
            "bar": INSIDE_BAR,
            "meets_bar": bool(share >= INSIDE_BAR),
            "rmse_vol_pts": float(np.sqrt(sq / n)),
            "all_usable_quotes": n_all,
            "all_usable_share_inside": in_all_total / n_all if n_all else None,
        },
        "arbitrage": {
            "ok": bool(cal["ok"] and all(r["butterfly"]["ok"] and r["static"]["ok"] for r in rows)),
            "butterfly_ok": all(r["butterfly"]["ok"] for r in rows),
            "static_ok": all(r["static"]["ok"] for r in rows),
            "calendar": cal,
        },
        "params_file": "params.json",
        "params_hash": params_hash,
        "figures": [],
    }
    if plots:
        summary["figures"] = _plots(out, quotes, slices, rows, smiles, progress)
    report.write_json(out / "calibration.json", summary)
    (out / "calibration.md").write_text(_markdown(summary))
    return json.loads((out / "calibration.json").read_text())


def _plots(out: Path, quotes, slices, rows, smiles, progress) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    for s, r in progress(list(zip(slices, rows)), "plotting smiles"):
        i, p = s["index"], s["fit"].params
        fwd = r["forward"]
        fig, ax = plt.subplots(figsize=(7.5, 4.5))
        kq = quotes.k[i]
        strikes = quotes.strike[i]
        mid = quotes.vol_mid[i] * 100
        ax.errorbar(strikes, mid, yerr=[mid - quotes.vol_bid[i] * 100, quotes.vol_ask[i] * 100 - mid], fmt="none",
                    ecolor="0.55", elinewidth=1.2, capsize=3, label="bid-ask")
        ax.plot(strikes, mid, "o", ms=3.5, color="tab:blue", label="mid")
        lo, hi = kq.min(), kq.max()
        pad = 0.15 * max(hi - lo, 0.05)
        kk = np.linspace(lo - pad, hi + pad, 400)
        t_med = float(np.median(quotes.t_years[i]))
        ax.plot(fwd * np.exp(kk), np.sqrt(total_variance(p, kk) / t_med) * 100, "-", color="tab:red", label="SVI fit")
        ax.axvline(fwd, color="0.8", lw=0.8, zorder=0)
        ax.set_xlabel("strike (forward %.0f)" % fwd)
        ax.set_ylabel("implied vol (%)")
        ax.set_title(f"{r['expiry'][:10]}  T={r['t_years'] * 365:.1f}d  n={r['quotes']}  "
                     f"RMSE {r['rmse_vol_pts']:.2f} vol pts  inside {100 * r['share_inside_bid_ask']:.0f}%", fontsize=9)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        name = f"smile_{r['expiry'][:10]}.png"
        report.save_png(fig, out / name)
        names.append(name)

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    kk = np.linspace(-1.0, 1.0, 401)
    cmap = plt.get_cmap("viridis")
    for n_, (t, p) in enumerate(smiles):
        ax.plot(kk, total_variance(p, kk), color=cmap(n_ / max(len(smiles) - 1, 1)), label=f"{t * 365:.0f}d")
    ax.set_xlabel("log-moneyness k = ln(K/F)")
    ax.set_ylabel("total variance w = sigma^2 T")
    ax.set_title("SVI total variance by expiry (non-decreasing in T = no calendar arbitrage)", fontsize=9)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    report.save_png(fig, out / "total_variance.png")
    names.append("total_variance.png")
    return names


def _markdown(s: dict) -> str:
    f = report.fmt
    ov = s["overall"]
    lines = [
        f"# SVI calibration — {s['input']['file']}",
        "",
        f"Underlying {s['input']['underlying']}, snapshot {s['snapshot_time']}, format {s['input']['format']}, "
        f"input {s['input']['sha256'][:19]}…",
        "",
        f"**Fitted vol inside the bid-ask: {ov['inside_bid_ask']}/{ov['quotes']} = {100 * ov['share_inside_bid_ask']:.1f}% "
        f"of the filtered quotes (bar {100 * ov['bar']:.0f}%: {'met' if ov['meets_bar'] else 'NOT met'}).** "
        f"RMSE {ov['rmse_vol_pts']:.3f} vol points. "
        f"Arbitrage-free (butterfly, calendar, registry bounds): {'yes' if s['arbitrage']['ok'] else 'NO'}.",
        "",
    ]
    if ov["all_usable_quotes"]:
        lines += [f"All usable two-sided quotes, in-the-money side included (not fitted to): "
                  f"{100 * ov['all_usable_share_inside']:.1f}% of {ov['all_usable_quotes']} inside the bid-ask.", ""]
    lines += ["## Per expiry", "", report.md_table(
        ["expiry", "T (days)", "forward", "quotes", "RMSE (vol pts)", "max err (vol pts)", "inside bid-ask",
         "a", "b", "rho", "m", "sigma", "min g(k)", "butterfly", "bounds"],
        [[r["expiry"][:10], f(r["t_years"] * 365, 2), f(r["forward"], 2), r["quotes"], f(r["rmse_vol_pts"], 3),
          f(r["max_abs_err_vol_pts"], 3), f"{100 * r['share_inside_bid_ask']:.1f}%",
          f(r["params"]["a"], 5), f(r["params"]["b"], 5), f(r["params"]["rho"], 4), f(r["params"]["m"], 4),
          f(r["params"]["sigma"], 4), f(r["butterfly"]["min_g"], 4), f(r["butterfly"]["ok"]), f(r["static"]["ok"])]
         for r in s["expiries"]]), ""]
    cal = s["arbitrage"]["calendar"]
    lines += ["## Calendar (total variance non-decreasing in expiry on the k grid)", "", report.md_table(
        ["T1 (days)", "T2 (days)", "min over k of w(T2) - w(T1)", "ok"],
        [[f(p["t1"] * 365, 2), f(p["t2"] * 365, 2), f(p["min_w_increase"], 6), f(p["min_w_increase"] >= 0)]
         for p in cal["pairs"]]), ""]
    fl = s["filter"]
    lines += ["## Filters", "", f"{fl['rows']} rows read, {fl['kept']} quotes kept.", "",
              report.md_table(["reason", "rows dropped"], [[k, v] for k, v in fl["dropped"].items()]), ""]
    ag = s.get("source_iv_agreement")
    if ag:
        lines += ["## Our implied vols against the source's (Deribit bid_iv / ask_iv)", "", report.md_table(
            ["side", "compared", "max |diff| (vol pts)", "median |diff| (vol pts)", "share within 0.05 vol pts"],
            [[side, v["compared"], f(v["max_abs_vol_pts"], 4), f(v["median_abs_vol_pts"], 4),
              f"{100 * v['within_0.05_vol_pts']:.1f}%" if v["within_0.05_vol_pts"] is not None else "-"]
             for side, v in ag.items()]), ""]
    st = s["settings"]
    lines += ["## Method", "",
              f"Quotes: {'out-of-the-money side only' if st['otm_only'] else 'both sides'}, expiries of at least "
              f"{st['min_days']} day(s); bid/ask/mid prices inverted to Black-76 vols on the row's forward (r = 0).",
              "Fit: raw SVI per expiry, residual (fitted vol - mid vol) / half-spread, soft-L1 loss, registry bounds by "
              "reparametrisation, butterfly and calendar conditions enforced on the k grid "
              f"[{st['k_grid']['min']}, {st['k_grid']['max']}] ({st['k_grid']['points']} points).",
              "", f"Parameters: `{s['params_file']}` ({s['params_hash']}).", ""]
    if s["figures"]:
        lines += ["## Figures", ""] + [f"![{n}]({n})" for n in s["figures"]] + [""]
    return "\n".join(lines)
