"""make bench: gas and accuracy of the on-chain pricer, in titanoboa and on an anvil node; then the options
market's margin gas (vyopt/market_bench.py -> reports/market/bench.{md,json}, gas_vs_series.png).

Pricing part: writes reports/pricing/bench.md, bench.json and PNGs.  Fixed seed; the sample covers the whole domain
(spot 1e-6...1e12 log-uniform, ln(K/S) uniform in [-8, 8], vol 1e-4...20 and tau 1 s...10 y log-uniform,
rate uniform in [-0.5, 1]) plus a "typical" sample (|ln K/S| <= 1, vol 5%...300%, 1 day...2 years,
rate -5%...20%).  Errors are against the 50-digit mpmath reference (reference/black_scholes.py).
Gas is execution gas: boa's computation.get_gas_used(); on anvil eth_estimateGas minus the intrinsic
21,000 and calldata gas.
"""
from __future__ import annotations

import json
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from mpmath import mp

from reference import black_scholes as ref

from .contracts import ROOT, deployer

WAD = 10**18
YEAR = 365 * 86400
E8 = ref.E8
OUT = ROOT / "reports" / "pricing"
SEED = 20261124


def _sample(rng: random.Random, typical: bool):
    if typical:
        spot = int(10 ** rng.uniform(18, 24))
        strike = int(spot * math.exp(rng.uniform(-1, 1)))
        vol = int(rng.uniform(0.05, 3.0) * WAD)
        tau = int(rng.uniform(86400, 2 * YEAR))
        rate = int(rng.uniform(-0.05, 0.2) * WAD)
        return spot, strike, vol, tau, rate
    spot = min(max(int(10 ** rng.uniform(12, 30)), 10**12), 10**30)
    strike = min(max(int(spot * math.exp(rng.uniform(-8, 8))), 10**12), 10**30)
    strike = min(strike, spot * E8 // WAD)
    strike = max(strike, -(-spot * WAD // E8))
    vol = min(max(int(10 ** rng.uniform(-4, math.log10(20)) * WAD), 10**14), 20 * WAD)
    tau = min(max(int(10 ** rng.uniform(0, math.log10(10 * YEAR))), 1), 10 * YEAR)
    rate = int(rng.uniform(-0.5, 1.0) * WAD)
    return spot, strike, vol, tau, rate


def _stats(xs):
    a = np.asarray(xs, dtype=float)
    return {"n": int(a.size), "median": float(np.median(a)), "p95": float(np.percentile(a, 95)), "max": float(a.max())}


def _progress(i, n, what):
    if i % max(1, n // 10) == 0 or i == n:
        print(f"  {what}: {i}/{n}", file=sys.stderr, flush=True)


def measure_boa(n_domain: int, n_typical: int, n_iv: int):
    c = deployer("BlackScholes").deploy()
    rng = random.Random(SEED)
    out = {"domain": [], "typical": []}
    for kind, n in (("domain", n_domain), ("typical", n_typical)):
        for i in range(n):
            args = _sample(rng, kind == "typical")
            is_call = rng.random() < 0.5
            rec = {"args": args, "is_call": is_call}
            rec["call"] = c.call_price(*args)
            rec["gas_call"] = c._computation.get_gas_used()
            rec["put"] = c.put_price(*args)
            rec["gas_put"] = c._computation.get_gas_used()
            rec["greeks"] = list(c.greeks(*args, is_call))
            rec["gas_greeks"] = c._computation.get_gas_used()
            with mp.workdps(60):
                spot = args[0]
                rec["err_call"] = float(max(abs(mp.mpf(rec["call"]) - ref.call_price_wad(*args)) - 1, 0) / spot)
                rec["err_put"] = float(max(abs(mp.mpf(rec["put"]) - ref.put_price_wad(*args)) - 1, 0) / spot)
                rec["err_call_raw"] = float(abs(mp.mpf(rec["call"]) - ref.call_price_wad(*args)) / spot)
                want = ref.greeks_wad(*args, is_call)
                S, K, s, T, r = (mp.mpf(args[0]) / WAD, mp.mpf(args[1]) / WAD, mp.mpf(args[2]) / WAD,
                                 mp.mpf(args[3]) / YEAR, mp.mpf(args[4]) / WAD)
                scales = [WAD, WAD / (S * s * mp.sqrt(T)), S * mp.sqrt(T) * WAD, (S * s / mp.sqrt(T) + abs(r) * K) * WAD, K * T * WAD]
                # error in units of the bar: |diff| / max(1e-10 |ref|, 1e-14 scale), after 2 wei of truncation
                rec["greek_err"] = [float(max(abs(mp.mpf(g) - w) - 2, 0) / max(mp.mpf("1e-10") * abs(w), mp.mpf("1e-14") * sc))
                                    for g, w, sc in zip(rec["greeks"], want, scales)]
                rec["greek_rel"] = [float(abs(mp.mpf(g) - w) / abs(w)) if w != 0 else 0.0 for g, w in zip(rec["greeks"], want)]
            if i < n_iv:
                price = rec["call"] if is_call else rec["put"]
                try:
                    iv = c.implied_vol(price, args[0], args[1], args[3], args[4], is_call)
                    rec["gas_iv"] = c._computation.get_gas_used()
                    with mp.workdps(60):
                        vega = ref.greeks_wad(*args, is_call).vega
                        material = vega * args[2] / WAD >= mp.mpf("1e-5") * args[0]
                        want_iv = ref.implied_vol_wad(price, args[0], args[1], args[3], args[4], is_call)
                        rec["iv_rel_err"] = float(abs(mp.mpf(iv) - want_iv) / want_iv)
                        rec["iv_material"] = bool(material)
                except Exception as e:  # a documented revert: record the reason
                    import re

                    m = re.search(r"bs: [a-z0-9 ]+[a-z0-9]", str(e))
                    rec["iv_revert"] = m.group(0) if m else "revert"
            out[kind].append(rec)
            _progress(i + 1, n, f"boa {kind}")
    return out


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _intrinsic(data: bytes) -> int:
    return 21000 + sum(4 if b == 0 else 16 for b in data)


def measure_anvil(samples):
    """Deploy the same bytecode on a fresh anvil (loopback) and estimate each call's execution gas."""
    anvil = shutil.which("anvil")
    if anvil is None:
        return {"skipped": "anvil not on PATH (run through make bench)"}
    from web3 import Web3

    port = _free_port()
    proc = subprocess.Popen([anvil, "--port", str(port), "--host", "127.0.0.1", "--silent"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}"))
        for _ in range(100):
            try:
                if w3.is_connected():
                    break
            except Exception:
                pass
            time.sleep(0.1)
        d = deployer("BlackScholes")
        bytecode = d.compiler_data.bytecode
        acct = w3.eth.accounts[0]
        tx = w3.eth.send_transaction({"from": acct, "data": "0x" + bytecode.hex()})
        addr = w3.eth.wait_for_transaction_receipt(tx).contractAddress
        abi = d.compiler_data.abi if hasattr(d.compiler_data, "abi") else None
        from vyper.compiler.output import build_abi_output

        c = w3.eth.contract(address=addr, abi=build_abi_output(d.compiler_data))
        client = w3.client_version
        gas = {"call_price": [], "greeks": [], "implied_vol": [], "agree": 0, "n": 0}
        for rec in samples:
            args = rec["args"]
            for fn, call_args in (("call_price", args), ("greeks", (*args, rec["is_call"]))):
                data = c.encode_abi(fn, args=list(call_args))
                est = w3.eth.estimate_gas({"from": acct, "to": addr, "data": data})
                gas[fn].append(est - _intrinsic(bytes.fromhex(data[2:])))
            gas["agree"] += int(c.functions.call_price(*args).call() == rec["call"])
            gas["n"] += 1
            if "gas_iv" in rec:
                price = rec["call"] if rec["is_call"] else rec["put"]
                data = c.encode_abi("implied_vol", args=[price, args[0], args[1], args[3], args[4], rec["is_call"]])
                est = w3.eth.estimate_gas({"from": acct, "to": addr, "data": data})
                gas["implied_vol"].append(est - _intrinsic(bytes.fromhex(data[2:])))
        return {"client": client, "call_price": _stats(gas["call_price"]), "greeks": _stats(gas["greeks"]),
                "implied_vol": _stats(gas["implied_vol"]) if gas["implied_vol"] else None,
                "same_answer_as_boa": f"{gas['agree']}/{gas['n']}"}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def deribit_agreement(pricer):
    from reference import deribit

    if not deribit.DATA_PATH.exists():
        return {"skipped": "shared data not found"}
    rows = deribit.load_chain()
    diffs, rels, to_ref = [], [], []
    for o in rows:
        f = int(round(o.underlying_price * 1e6)) * 10**12
        k = int(o.strike) * WAD
        tau = deribit.minutes_to_expiry(o) * 60  # Deribit's T: whole minutes (reference/deribit.py)
        vol = int(round(o.mark_iv * 1e4)) * 10**12
        usd = pricer.call_price(f, k, vol, tau, 0) if o.is_call else pricer.put_price(f, k, vol, tau, 0)
        btc = usd / f
        diffs.append(abs(btc - o.mark_price))
        if o.mark_price > 0:
            rels.append(abs(btc - o.mark_price) / o.mark_price)
        to_ref.append(abs(btc - deribit.model_mark_price(o)))
    return {"rows": len(rows), "mark_abs_btc": _stats(diffs), "mark_rel": _stats(rels),
            "contract_vs_reference_convention_btc": _stats(to_ref),
            "reference_summary": deribit.agreement_summary()}


def plots(res):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dom = res["samples"]["domain"]
    fig, ax = plt.subplots(1, 3, figsize=(15, 4))
    for key, label in (("gas_call", "call_price"), ("gas_greeks", "greeks")):
        ax[0].hist([r[key] for r in dom], bins=40, alpha=0.6, label=label)
    ax[0].set_title("execution gas (boa), whole domain")
    ax[0].legend()
    ivg = [r["gas_iv"] for r in dom if "gas_iv" in r]
    ax[1].hist(ivg, bins=40, color="C2")
    ax[1].set_title("implied_vol gas (boa)")
    errs = [max(r["err_call_raw"], 1e-22) for r in dom]
    ax[2].hist(np.log10(errs), bins=40, color="C3")
    ax[2].axvline(-14, color="k", ls="--", label="bar 1e-14")
    ax[2].set_title("log10 |call error| / spot (incl. 1-wei truncation)")
    ax[2].legend()
    fig.tight_layout()
    fig.savefig(OUT / "gas_and_error.png", dpi=110)
    plt.close(fig)
    # heat map: error (excluding the 1-wei truncation) over moneyness x total vol
    m = np.array([math.log(r["args"][1] / r["args"][0]) for r in dom])
    v = np.array([math.log10(r["args"][2] / WAD * math.sqrt(r["args"][3] / YEAR)) for r in dom])
    e = np.array([max(r["err_call"], r["err_put"], 1e-22) for r in dom])
    fig, ax = plt.subplots(figsize=(7, 5))
    sc = ax.scatter(m, v, c=np.log10(e), cmap="viridis", s=14, vmin=-22, vmax=-14)
    fig.colorbar(sc, label="log10 max(|call err|, |put err|) / spot, beyond 1 wei")
    ax.set_xlabel("ln(K / S)")
    ax.set_ylabel("log10(sigma sqrt(tau))")
    ax.set_title("price error over moneyness x total volatility")
    fig.tight_layout()
    fig.savefig(OUT / "error_heatmap.png", dpi=110)
    plt.close(fig)


def render(res) -> str:
    b = res["boa"]
    lines = ["# Pricing benchmark", "",
             f"Seed {SEED}; {b['n_domain']} samples over the whole domain, {b['n_typical']} typical; "
             "errors against 50-digit mpmath; gas is execution gas.", "",
             "## Gas (execution gas)", "",
             "| function | sample | back-end | median | p95 | max |", "|---|---|---|---:|---:|---:|"]
    for fn in ("call_price", "put_price", "greeks", "implied_vol"):
        for kind in ("domain", "typical"):
            s = b["gas"][kind].get(fn)
            if s:
                lines.append(f"| {fn} | {kind} | boa | {s['median']:.0f} | {s['p95']:.0f} | {s['max']:.0f} |")
    a = res.get("anvil", {})
    if "client" in a:
        for fn in ("call_price", "greeks", "implied_vol"):
            s = a.get(fn)
            if s:
                lines.append(f"| {fn} | domain | anvil | {s['median']:.0f} | {s['p95']:.0f} | {s['max']:.0f} |")
        lines += ["", f"anvil ({a['client']}): same answer as boa on {a['same_answer_as_boa']} calls."]
    lines += ["", "## Accuracy", "",
              "| quantity | sample | median | p95 | max | bar |", "|---|---|---:|---:|---:|---|"]
    for kind in ("domain", "typical"):
        for q in ("call", "put"):
            s = b["err"][kind][q]
            lines.append(f"| {q} price error / spot (beyond 1 wei truncation) | {kind} | {s['median']:.2e} | {s['p95']:.2e} | {s['max']:.2e} | 1e-14 |")
        s = b["err"][kind]["call_raw"]
        lines.append(f"| call price error / spot (incl. truncation) | {kind} | {s['median']:.2e} | {s['p95']:.2e} | {s['max']:.2e} | - |")
    for kind in ("domain", "typical"):
        for i, g in enumerate(("delta", "gamma", "vega", "theta", "rho")):
            s = b["greek_err"][kind][g]
            lines.append(f"| {g}: error / allowed (1e-10 rel or 1e-14 scale) | {kind} | {s['median']:.2e} | {s['p95']:.2e} | {s['max']:.2e} | <= 1 |")
    for kind in ("domain", "typical"):
        s = b["iv"][kind]
        if s.get("material"):
            lines.append(f"| implied vol rel. error where vega*vol >= 1e-5 spot | {kind} | {s['material']['median']:.2e} | {s['material']['p95']:.2e} | {s['material']['max']:.2e} | 1e-8 |")
        lines.append(f"| implied vol: solved / reverted with a reason | {kind} | {s['solved']} / {s['reverted']} | | | |")
    d = res.get("deribit", {})
    if "rows" in d:
        lines += ["", "## Deribit BTC chain 2022-04-20 (mark prices from Deribit's mark IVs)", "",
                  "Convention: Black-76 on `underlying_price`, r = 0, T = whole minutes to expiry / 365 days (reference/deribit.py).", "",
                  f"- contract vs Deribit mark, {d['rows']} rows: max {d['mark_abs_btc']['max']:.2e} BTC, median {d['mark_abs_btc']['median']:.2e} BTC; "
                  f"relative median {d['mark_rel']['median']:.2e}, max {d['mark_rel']['max']:.2e}",
                  f"- contract vs reference convention: max {d['contract_vs_reference_convention_btc']['max']:.2e} BTC",
                  "- reference greeks vs Deribit's printed greeks: see bench.json `deribit.reference_summary`"]
    lines += ["", "![gas and error](gas_and_error.png)", "", "![error heat map](error_heatmap.png)", ""]
    return "\n".join(lines)


def summarise(samples):
    out = {"gas": {}, "err": {}, "greek_err": {}, "iv": {}}
    for kind, recs in samples.items():
        out["gas"][kind] = {"call_price": _stats([r["gas_call"] for r in recs]), "put_price": _stats([r["gas_put"] for r in recs]),
                            "greeks": _stats([r["gas_greeks"] for r in recs])}
        ivg = [r["gas_iv"] for r in recs if "gas_iv" in r]
        if ivg:
            out["gas"][kind]["implied_vol"] = _stats(ivg)
        out["err"][kind] = {"call": _stats([r["err_call"] for r in recs]), "put": _stats([r["err_put"] for r in recs]),
                            "call_raw": _stats([r["err_call_raw"] for r in recs])}
        out["greek_err"][kind] = {g: _stats([r["greek_err"][i] for r in recs]) for i, g in enumerate(("delta", "gamma", "vega", "theta", "rho"))}
        mat = [r["iv_rel_err"] for r in recs if r.get("iv_material")]
        out["iv"][kind] = {"material": _stats(mat) if mat else None,
                           "solved": sum(1 for r in recs if "iv_rel_err" in r),
                           "reverted": sum(1 for r in recs if "iv_revert" in r),
                           "revert_reasons": sorted({r["iv_revert"] for r in recs if "iv_revert" in r})}
    return out


def main():
    """Both parts by default; BENCH_PARTS=pricing or BENCH_PARTS=market runs one."""
    parts = {x.strip() for x in os.environ.get("BENCH_PARTS", "pricing,market").split(",")}
    if "pricing" in parts:
        pricing_main()
    if "market" in parts:
        import boa

        from . import market_bench

        boa.env.enable_fast_mode()
        market_bench.main()
        print((market_bench.OUT / "bench.md").read_text())


def pricing_main():
    n_domain = int(os.environ.get("BENCH_N", "400"))
    n_typical = int(os.environ.get("BENCH_N_TYPICAL", "200"))
    n_iv = int(os.environ.get("BENCH_N_IV", "150"))
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"bench: {n_domain} domain + {n_typical} typical samples, seed {SEED}", file=sys.stderr)
    samples = measure_boa(n_domain, n_typical, n_iv)
    res = {"seed": SEED, "samples": samples}
    boa = summarise(samples)
    boa["n_domain"], boa["n_typical"] = n_domain, n_typical
    res["boa"] = boa
    print("  anvil ...", file=sys.stderr, flush=True)
    res["anvil"] = measure_anvil(samples["domain"][:100])
    res["deribit"] = deribit_agreement(deployer("BlackScholes").deploy())
    plots(res)
    (OUT / "bench.md").write_text(render(res))
    (OUT / "bench.json").write_text(json.dumps({k: v for k, v in res.items()}, indent=1, default=str))
    print((OUT / "bench.md").read_text())


if __name__ == "__main__":
    main()
