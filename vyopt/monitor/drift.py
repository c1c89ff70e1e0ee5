"""Drift of the deployed volatility surface against a new option chain: residuals, PSI, Page-Hinkley, refit.

Residuals.  The chain is filtered and inverted exactly as `ape run calibrate` does (vyopt.calibration.
prepare_quotes: out-of-the-money quotes, at least one day to expiry).  Each chain expiry is matched to a
deployed expiry: "exact" (default) when the expiry times agree within an hour; "tau" (for comparing a
deployment with a chain of another date, e.g. the demo) with the deployed expiry whose time to expiry is
nearest, within 25% relative.  For a quote i of a matched expiry, with the chain's own k = ln(K/F) and T:

    sigma_dep,i = sqrt(w_dep(k_i) / T_i)                 the deployed smile's vol at the quote (the market prices
                                                         with the total variance w, so this is the vol the
                                                         contracts' mark implies at the chain's time)
    err_i       = 100 (sigma_dep,i - sigma_mid,i)        vol points (RMSE of these: the series Page-Hinkley reads)
    z_i         = (sigma_dep,i - sigma_mid,i) / h_i      in half bid-ask spreads (|z| <= 1 ~ inside the quote);
                                                         the quantity whose distribution PSI compares
    inside_i    = vol_bid,i <= sigma_dep,i <= vol_ask,i

PSI (reference.drift).  Baseline: the pooled z of the first `baseline_updates` (3) chains seen (or of a chain
given with --baseline-chain, e.g. the one the deployed surface was calibrated on).  The bins are fixed when the
baseline is complete and never re-estimated: B = clip(1 + floor(n / 100), 3, 10) bins, n the median number of
quotes per baseline chain, edges at the baseline's j / B quantiles, open outer bins.  With B - 1 <= n / 100 a
chain drawn from the baseline distribution has PSI of mean about (B - 1)(1/n + 1/n0) <= 0.013 (reference.drift),
an eighth of the warning band, so the bands keep their meaning on chains of a few hundred quotes (the shared
BTC chain has 128 usable quotes: 3 bins).  Bands: PSI >= 0.10 warning, >= 0.25 critical.

Page-Hinkley (reference.drift) on the RMSE series (vol points), one observation per chain: delta = 0.1 vol pt
(RMSE wobbles below that are tolerated), lambda = 1.0 vol pt.  A jump of the RMSE by J vol points after a
stable stretch alarms within one update when J > 1.1, after about 1 / (J - 0.1) updates otherwise (a 0.3 vol
pt deterioration: ~5 updates).  Alarm: warning ("the surface fits worse and worse: recalibrate").  The
detector restarts after an alarm.  State and baseline persist in the monitor's history.

Refit (optional, on by default in the command): the chain is calibrated with vyopt.calibration.fit_surface;
the report gives the refit's RMSE (the floor any surface can reach on that chain) and the largest distance
between the refit and the deployed vols at the quotes: what `ape run calibrate` + `ape run propose` would change.

API
    DriftConfig, load_quotes(chain_or_path, underlying=None), match_expiries(quotes, deployed, now, cfg)
    residuals(quotes, smiles, mapping) -> dict
    drift_step(state, quotes, smiles, now, cfg) -> (alerts, observation, state)     state: JSON-ready dict
    baseline_from(quotes, smiles, now, cfg) -> dict                                  a complete baseline state
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from reference import drift as rd
from reference.svi import total_variance
from vyopt.chains import YEAR_SECONDS, OptionChain, read_chain


@dataclass(frozen=True)
class DriftConfig:
    expiry_match: str = "exact"      # "exact" | "tau"
    match_window: int = 3600         # seconds, "exact"
    tau_rel: float = 0.25            # "tau": |T_dep / T_chain - 1| <= tau_rel
    baseline_updates: int = 3
    per_bin: int = 100               # bins = clip(1 + n // per_bin, min_bins, max_bins)
    min_bins: int = 3
    max_bins: int = 10
    min_quotes: int = 20             # fewer matched quotes: no drift statistics this update
    ph_delta: float = 0.1            # vol points
    ph_threshold: float = 1.0        # vol points
    refit: bool = True

    def as_dict(self) -> dict:
        return asdict(self)


def load_quotes(chain, underlying: str | None = None):
    """Usable quotes of a chain (an OptionChain or a file path), filtered as the calibration filters them."""
    from vyopt.calibration import prepare_quotes

    if not isinstance(chain, OptionChain):
        chain = read_chain(chain, underlying=underlying)
    quotes, _ = prepare_quotes(chain, otm_only=True, min_days=1.0)
    return quotes


def match_expiries(quotes, deployed: list[int], now: int, cfg: DriftConfig) -> dict:
    """{chain expiry: deployed expiry} for the chain expiries that have a deployed smile."""
    live = sorted(int(e) for e in deployed if int(e) > now)
    out = {}
    for e in quotes.expiries():
        e = float(e)
        if not live:
            break
        if cfg.expiry_match == "exact":
            best = min(live, key=lambda x: abs(x - e))
            if abs(best - e) <= cfg.match_window:
                out[e] = best
        elif cfg.expiry_match == "tau":
            t_chain = float(np.median(quotes.t_years[quotes.slice(e)]))
            best = min(live, key=lambda x: abs((x - now) / YEAR_SECONDS / t_chain - 1.0))
            if abs((best - now) / YEAR_SECONDS / t_chain - 1.0) <= cfg.tau_rel:
                out[e] = best
        else:
            raise ValueError(f"monitor: unknown expiry match {cfg.expiry_match!r}")
    return out


def residuals(quotes, smiles: dict, mapping: dict) -> dict:
    """Residuals of the deployed smiles at the matched quotes (module docstring)."""
    idx, dep = [], []
    per = []
    for e_chain, e_dep in sorted(mapping.items()):
        i = quotes.slice(e_chain)
        w = np.maximum(total_variance(smiles[e_dep], quotes.k[i]), 0.0)
        s = np.sqrt(w / quotes.t_years[i])
        idx.append(i)
        dep.append(s)
    if not idx:
        return {"n": 0, "index": np.array([], int), "sigma_dep": np.array([]), "z": np.array([]), "err_pts": np.array([]),
                "inside": np.array([], bool), "per_expiry": []}
    i = np.concatenate(idx)
    s = np.concatenate(dep)
    err = s - quotes.vol_mid[i]
    z = err / quotes.half_spread[i]
    inside = (s >= quotes.vol_bid[i]) & (s <= quotes.vol_ask[i])
    for (e_chain, e_dep), ii, ss in zip(sorted(mapping.items()), idx, dep):
        ee = 100.0 * (ss - quotes.vol_mid[ii])
        per.append({"chain_expiry": int(e_chain), "deployed_expiry": int(e_dep), "quotes": int(ii.size),
                    "rmse_vol_pts": float(np.sqrt(np.mean(ee * ee))), "mean_err_vol_pts": float(np.mean(ee)),
                    "share_inside": float(np.mean((ss >= quotes.vol_bid[ii]) & (ss <= quotes.vol_ask[ii])))})
    return {"n": int(i.size), "index": i, "sigma_dep": s, "z": z, "err_pts": 100.0 * err, "inside": inside,
            "per_expiry": per}


def _bins(n_typical: float, cfg: DriftConfig) -> int:
    return int(np.clip(1 + int(n_typical) // cfg.per_bin, cfg.min_bins, cfg.max_bins))


def _complete(baseline: dict, cfg: DriftConfig) -> dict:
    z = np.asarray(baseline["z"], dtype=float)
    b = _bins(float(np.median(baseline["sizes"])), cfg)
    edges = rd.quantile_edges(z, b)
    return {"complete": True, "bins": int(len(edges) + 1), "edges": edges.tolist(),
            "shares": rd.bin_shares(z, edges).tolist(), "n": int(z.size), "updates": len(baseline["sizes"]),
            "source": baseline.get("source", "first chains")}


def baseline_from(quotes, smiles: dict, now: int, deployed: list[int], cfg: DriftConfig) -> dict:
    """A complete baseline from one chain (e.g. the chain the deployed surface was calibrated on)."""
    res = residuals(quotes, smiles, match_expiries(quotes, deployed, now, cfg))
    if res["n"] < cfg.min_quotes:
        raise ValueError(f"monitor: the baseline chain has {res['n']} matched quotes (< {cfg.min_quotes})")
    return _complete({"z": res["z"].tolist(), "sizes": [res["n"]], "source": "baseline chain"}, cfg)


def _alert(severity, code, message, **data):
    return {"severity": severity, "code": code, "message": message, "data": data}


def drift_step(state: dict | None, quotes, smiles: dict, now: int, cfg: DriftConfig, deployed: list[int] | None = None
               ) -> tuple[list, dict, dict]:
    """One drift update: (alerts, observation, new state).  state: {"baseline": ..., "ph": ...} or None."""
    state = dict(state or {})
    alerts = []
    deployed = list(smiles) if deployed is None else deployed
    mapping = match_expiries(quotes, deployed, now, cfg)
    unmatched = [int(e) for e in quotes.expiries() if float(e) not in mapping]
    obs = {"quotes": int(len(quotes)), "matched_expiries": len(mapping), "unmatched_expiries": unmatched,
           "expiry_match": cfg.expiry_match, "n": 0}
    if not mapping:
        alerts.append(_alert("warning", "drift.no_match",
                             f"no chain expiry matches a deployed expiry ({cfg.expiry_match} match): drift not measured",
                             chain_expiries=[int(e) for e in quotes.expiries()], deployed=sorted(int(e) for e in deployed)))
        return alerts, obs, state
    if unmatched:
        alerts.append(_alert("info", "drift.unmatched", f"{len(unmatched)} chain expiries have no deployed smile",
                             expiries=unmatched))
    res = residuals(quotes, smiles, mapping)
    obs.update({"n": res["n"], "per_expiry": res["per_expiry"]})
    if res["n"] < cfg.min_quotes:
        alerts.append(_alert("info", "drift.too_few_quotes", f"{res['n']} matched quotes (< {cfg.min_quotes}): "
                             "no drift statistics this update", n=res["n"]))
        obs["n"] = 0
        return alerts, obs, state
    rmse = float(np.sqrt(np.mean(res["err_pts"] ** 2)))
    share = float(np.mean(res["inside"]))
    obs.update({"rmse_vol_pts": rmse, "share_inside": share, "mean_err_vol_pts": float(np.mean(res["err_pts"]))})

    # PSI against the fixed baseline (built from the first chains when none was given)
    base = state.get("baseline") or {"z": [], "sizes": []}
    if not base.get("complete"):
        base = {"z": list(base["z"]) + res["z"].tolist(), "sizes": list(base["sizes"]) + [res["n"]]}
        if len(base["sizes"]) >= cfg.baseline_updates:
            base = _complete(base, cfg)
            alerts.append(_alert("info", "drift.baseline_fixed",
                                 f"PSI baseline fixed: {base['n']} residuals from {base['updates']} chains, "
                                 f"{base['bins']} bins", edges=base["edges"]))
        else:
            alerts.append(_alert("info", "drift.baseline_building",
                                 f"PSI baseline: chain {len(base['sizes'])} of {cfg.baseline_updates}"))
        obs["psi"] = None
    if base.get("complete"):
        shares = rd.bin_shares(res["z"], base["edges"])
        value = rd.psi(base["shares"], shares)
        band = rd.psi_band(value)
        obs.update({"psi": value, "psi_band": band, "bins": base["bins"], "shares": shares.tolist(),
                    "baseline_shares": base["shares"]})
        if band != "stable":
            sev = "critical" if band == "significant" else "warning"
            alerts.append(_alert(sev, "drift.psi", f"residual distribution shifted: PSI {value:.3f} ({band}; bands "
                                 f"{rd.PSI_MODERATE} / {rd.PSI_SIGNIFICANT}); mean error {obs['mean_err_vol_pts']:+.2f} "
                                 f"vol pts, RMSE {rmse:.2f}", psi=value, shares=shares.tolist(),
                                 baseline=base["shares"]))
    state["baseline"] = base

    ph = rd.PageHinkley.from_state(state["ph"]) if state.get("ph") else rd.PageHinkley(cfg.ph_delta, cfg.ph_threshold)
    alarm = ph.update(rmse)
    obs.update({"ph": ph.last, "ph_alarm": alarm, "ph_n": ph.n})
    if alarm:
        alerts.append(_alert("warning", "drift.page_hinkley",
                             f"RMSE of the deployed surface rose: Page-Hinkley {ph.last:.2f} > {cfg.ph_threshold} vol pts "
                             f"(RMSE now {rmse:.2f}); recalibrate", ph=ph.last, rmse=rmse))
    state["ph"] = ph.state()
    psi_text = "- (baseline being built)" if obs["psi"] is None else f"{obs['psi']:.4f}"
    alerts.append(_alert("info", "drift.summary", f"{res['n']} quotes: RMSE {rmse:.2f} vol pts, {100 * share:.0f}% inside "
                         f"the bid-ask, PSI {psi_text}, Page-Hinkley {ph.last:.2f}", rmse=rmse, share_inside=share,
                         psi=obs["psi"]))
    if cfg.refit:
        obs["refit"] = rf = _refit(quotes, res, mapping)
        alerts.append(_alert("info", "drift.refit", f"a refit of this chain reaches RMSE {rf['rmse_vol_pts']:.2f} vol pts "
                             f"(deployed {rmse:.2f}); it moves the vols by up to "
                             f"{rf['max_abs_refit_minus_deployed_vol_pts']:.2f} vol pts at the quotes (to deploy it: ape "
                             "run calibrate, then ape run propose)", rmse=rf["rmse_vol_pts"],
                             max_move=rf["max_abs_refit_minus_deployed_vol_pts"]))
    return alerts, obs, state


def _refit(quotes, res, mapping) -> dict:
    from vyopt.calibration import fit_surface, fit_vols

    fits = {float(f["expiry"]): f["fit"].params for f in fit_surface(quotes)}
    i = res["index"]
    s_fit = np.empty(i.size)
    pos = 0
    for e_chain, _ in sorted(mapping.items()):
        ii = quotes.slice(e_chain)
        s_fit[pos:pos + ii.size] = fit_vols(fits[e_chain], quotes.k[ii], quotes.t_years[ii])
        pos += ii.size
    err = 100.0 * (s_fit - quotes.vol_mid[i])
    return {"rmse_vol_pts": float(np.sqrt(np.mean(err * err))),
            "max_abs_refit_minus_deployed_vol_pts": float(np.max(np.abs(100.0 * (s_fit - res["sigma_dep"])))),
            "params": {str(int(e)): dict(zip(("a", "b", "rho", "m", "sigma"), p.as_tuple())) for e, p in fits.items()}}
