"""The audit report: reports/audit/<UTC stamp>/ with report.md, report.json (its twin), PNGs and reproducers/.

Inputs are the per-test records the suite writes (runner.run_property) and the audit's metadata (what was
audited, the bytecode checks, tools, profile).  Everything in the report is computed from those records:

  properties     each property in words, its bar, and per back-end: status and examples run
  throughput     examples per second per back-end (all examples, shrinking included, over the time spent in
                 the properties), and the set-up time of each back-end (node deployment, fork start)
  scaling        the suite's time as a function of the examples per property, T(N) = set-up + sum over
                 properties of the time that property took for its first N / cost examples (measured from the
                 per-example timelines up to the run's size; beyond it, each property's mean time per example
                 is extrapolated linearly, shown dashed)
  gas            execution gas per function per back-end (boa: every answered call; node/fork: eth_estimateGas
                 minus intrinsic gas on up to 30 calls per function per property)
  errors         the distribution of error / bar per property and back-end (a value <= 1 is inside the bar)
  failures       the shrunk example, the message and the reproducer of every failed property

API
    tool_versions() -> dict
    load_records(dir) -> list[dict]
    build_report(records, meta, out_dir) -> dict      writes report.md, report.json, *.png; returns the JSON
"""
from __future__ import annotations

import json
import math
import platform
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from ..report import md_table, save_png, write_json

TOOLS = ("vyper", "titanoboa", "py-evm", "eth-ape", "ape-foundry", "ape-vyper", "hypothesis", "pytest", "pytest-xdist",
         "web3", "eth-abi", "mpmath", "numpy", "scipy", "redis")
BACKEND_ORDER = ("boa", "node", "fork")


def tool_versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    from .anvil import anvil_version

    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for t in TOOLS:
        try:
            out[t] = version(t)
        except PackageNotFoundError:
            out[t] = None
    out["anvil"] = anvil_version()
    try:
        import subprocess

        out["redis-server"] = subprocess.run(["redis-server", "--version"], capture_output=True, text=True,
                                             timeout=10).stdout.split()[2].removeprefix("v=") or None
    except Exception:
        out["redis-server"] = None
    return out


def load_records(directory: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(Path(directory).rglob("*.json"))]


def _stats(xs):
    a = np.asarray(xs, dtype=float)
    if a.size == 0:
        return None
    return {"n": int(a.size), "median": float(np.median(a)), "p95": float(np.percentile(a, 95)), "max": float(a.max()),
            "min": float(a.min())}


def _backends(records):
    seen = {r["target"].get("backend") for r in records}
    return [b for b in BACKEND_ORDER if b in seen] + sorted(seen - set(BACKEND_ORDER) - {None})


def _merge(records):
    """Shards of one (property, back-end) are one row: examples and seconds add up, the worst status wins."""
    rows = {}
    for r in records:
        key = (r["property"]["id"], r["target"].get("backend"))
        if key not in rows:
            rows[key] = {**r, "metrics": {k: list(v) for k, v in r["metrics"].items()},
                         "metric_keys": {k: list(v) for k, v in r.get("metric_keys", {}).items()},
                         "gas": {k: list(v) for k, v in r["gas"].items()}, "timelines": [r["timeline"]], "failures": [],
                         "shards": 1}
            if r.get("failure") and r["status"] == "failed":
                rows[key]["failures"].append(r)
            continue
        m = rows[key]
        m["examples"] += r["examples"]
        m["invalid"] += r["invalid"]
        m["seconds"] += r["seconds"]
        m["shards"] += 1
        m["timelines"].append(r["timeline"])
        for k, v in r["metrics"].items():
            m["metrics"].setdefault(k, []).extend(v)
        for k, v in r.get("metric_keys", {}).items():
            m["metric_keys"].setdefault(k, []).extend(v)
        for k, v in r["gas"].items():
            m["gas"].setdefault(k, []).extend(v)
        m["notes"] = list(dict.fromkeys([*(m.get("notes") or []), *(r.get("notes") or [])]))
        if r["status"] == "failed":
            m["status"] = "failed"
            m["failures"].append(r)
    return rows


def _time_at(timeline, n):
    """Seconds the property took for its first n examples (linear beyond the measured part)."""
    if not timeline or timeline[-1][0] == 0:
        return None
    xs = [p[0] for p in timeline]
    ts = [p[1] for p in timeline]
    if n <= xs[-1]:
        return float(np.interp(n, xs, ts))
    return ts[-1] * n / xs[-1]


def scaling(rows, backend, setup_seconds, ns):
    out = []
    for n in ns:
        total = setup_seconds
        for (pid, b), r in rows.items():
            if b != backend or r["status"] == "not deployed":
                continue
            per = n / max(r["property"].get("cost", 1.0) if isinstance(r["property"], dict) else 1.0, 1e-9)
            # a sharded property: each shard's share runs in parallel workers, count the slowest share
            t = max((_time_at(tl, per / r["shards"]) or 0.0) for tl in r["timelines"])
            total += t
        out.append(total)
    return out


def build_report(records: list[dict], meta: dict, out_dir: Path) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = _merge(records)
    backends = _backends(records)
    prop_ids = sorted({pid for pid, _ in rows})
    props = {pid: next(r["property"] for (p, _), r in rows.items() if p == pid) for pid in prop_ids}
    # costs are not in describe(); take them from the registry when available
    try:
        from . import registry

        for pid in prop_ids:
            props[pid]["cost"] = registry.get(pid).cost
    except Exception:
        pass
    for (pid, _), r in rows.items():
        # the cost the run used on its back-end (Property.cost_on), else the registry's
        r["property"]["cost"] = r.get("cost") or props[pid].get("cost", 1.0)

    # ------------------------------------------------------------------------------ throughput
    setup_s = {}
    for r in records:
        b = r["target"].get("backend")
        if r["target"].get("ran_on") == b:
            setup_s[b] = max(setup_s.get(b, 0.0), float(r["target"].get("setup_seconds", 0.0)))
    throughput = {}
    for b in backends:
        rs = [r for (p, bb), r in rows.items() if bb == b and r["status"] != "not deployed"]
        ex = sum(r["examples"] for r in rs)
        sec = sum(r["seconds"] for r in rs)
        diff = [r for r in rs if r["property"]["kind"] == "differential"]
        dex, dsec = sum(r["examples"] for r in diff), sum(r["seconds"] for r in diff)
        throughput[b] = {"examples": ex, "seconds": sec, "examples_per_second": ex / sec if sec else None,
                         "differential_examples_per_second": dex / dsec if dsec else None,
                         "setup_seconds": setup_s.get(b), "per_property": {
                             r["property"]["id"]: (r["examples"] / r["seconds"] if r["seconds"] else None) for r in rs}}
    run_n = int(meta.get("max_examples") or 60)
    ns = sorted({1, 5, 10, 20, 30, 60, run_n, 5000})
    scale = {b: dict(zip(ns, scaling(rows, b, setup_s.get(b, 0.0), ns))) for b in backends}

    # ------------------------------------------------------------------------------ gas
    gas = defaultdict(dict)
    for (pid, b), r in rows.items():
        for fn, xs in r["gas"].items():
            gas[fn].setdefault(b, []).extend(xs)
    gas_stats = {fn: {b: _stats(v) for b, v in per.items()} for fn, per in sorted(gas.items())}

    # ------------------------------------------------------------------------------ errors
    err_stats = {}
    for (pid, b), r in rows.items():
        v = r["metrics"].get("error / bar")
        if v:
            err_stats.setdefault(pid, {})[b] = _stats(v)

    # every back-end runs the same generated examples (fixed seeds); on the examples they share, identical
    # errors against the reference mean identical answers from the contracts
    agreement = {}
    for pid in {p for p, _ in rows}:
        per = {}
        for b in backends:
            r = rows.get((pid, b))
            vals, keys = (r or {}).get("metrics", {}).get("error / bar"), (r or {}).get("metric_keys", {}).get("error / bar")
            if vals and keys and len(keys) == len(vals):
                d = defaultdict(list)
                for k, v in zip(keys, vals):
                    d[k].append(v)
                per[b] = d
        if len(per) > 1:
            common = set.intersection(*(set(d) for d in per.values()))
            same = sum(1 for k in common if len({tuple(d[k]) for d in per.values()}) == 1)
            agreement[pid] = {"common_examples": len(common), "identical": same}

    failures = []
    for (pid, b), r in sorted(rows.items()):
        seen = set()
        for f in r["failures"]:
            fail = f["failure"] or {}
            key = repr(fail.get("example")) + repr(fail.get("steps")) + str(fail.get("message"))
            if key in seen:  # shards that shrank to the same example are one finding
                continue
            seen.add(key)
            rp = f.get("reproducer")
            failures.append({"property": pid, "backend": b, "ran_on": f["target"].get("ran_on"),
                             "message": fail.get("message"), "example": fail.get("example"), "steps": fail.get("steps"),
                             "reproducer": str(Path(rp).resolve().relative_to(out_dir.resolve())) if rp and
                             Path(rp).resolve().is_relative_to(out_dir.resolve()) else rp,
                             "examples_before_failure": f.get("first_failure_at")})
    verdict = "FAIL" if failures or meta.get("pytest_exit") not in (0, None) else "PASS"

    # ------------------------------------------------------------------------------ figures
    figures = {}
    if gas_stats:
        fns = list(gas_stats)
        fig, ax = plt.subplots(figsize=(max(6, 2.2 * len(fns)), 4))
        width = 0.8 / max(1, len(backends))
        for i, b in enumerate(backends):
            data = [gas[fn].get(b, []) for fn in fns]
            pos = [j + (i - (len(backends) - 1) / 2) * width for j in range(len(fns))]
            keep = [(p, d) for p, d in zip(pos, data) if d]
            if keep:
                bp = ax.boxplot([d for _, d in keep], positions=[p for p, _ in keep], widths=width * 0.9,
                                patch_artist=True, showfliers=True, manage_ticks=False)
                for patch in bp["boxes"]:
                    patch.set_facecolor(f"C{i}")
                    patch.set_alpha(0.6)
                ax.plot([], [], color=f"C{i}", lw=6, alpha=0.6, label=b)
        ax.set_xticks(range(len(fns)))
        ax.set_xticklabels([f.split(".", 1)[-1] for f in fns])
        ax.set_ylabel("execution gas")
        ax.set_yscale("log")
        ax.set_title("gas per function and back-end (answered calls)")
        ax.legend()
        fig.tight_layout()
        save_png(fig, out_dir / "gas.png")
        figures["gas"] = "gas.png"
    if err_stats:
        pids = sorted(err_stats)
        cols = min(3, len(pids))
        nrows = math.ceil(len(pids) / cols)
        fig, axs = plt.subplots(nrows, cols, figsize=(5 * cols, 3.3 * nrows), squeeze=False)
        for k, pid in enumerate(pids):
            ax = axs[k // cols][k % cols]
            for i, b in enumerate(backends):
                v = rows.get((pid, b), {}).get("metrics", {}).get("error / bar")
                if v:
                    lv = np.log10(np.maximum(np.asarray(v, dtype=float), 1e-12))
                    ax.hist(lv, bins=30, range=(-12, 2), histtype="step", lw=2.2 - 0.6 * i, ls=("-", "--", ":")[i % 3],
                            label=b, color=f"C{i}")
            ax.axvline(0, color="k", ls="--", lw=1)
            ax.set_title(pid.split(".", 1)[-1], fontsize=9)
            ax.set_xlabel("log10(error / bar); bar at 0", fontsize=8)
            ax.legend(fontsize=7)
        for k in range(len(pids), nrows * cols):
            axs[k // cols][k % cols].axis("off")
        fig.suptitle("error versus the reference, in units of each property's bar (1e-12 floor)")
        fig.tight_layout()
        save_png(fig, out_dir / "errors.png")
        figures["errors"] = "errors.png"
    if scale:
        fig, ax = plt.subplots(figsize=(6.5, 4))
        for i, b in enumerate(backends):
            xs = [n for n in ns if n <= run_n]
            ax.plot(xs, [scale[b][n] for n in xs], "o-", color=f"C{i}", label=f"{b} (measured)")
            xe = [n for n in ns if n >= run_n]
            ax.plot(xe, [scale[b][n] for n in xe], "--", color=f"C{i}", label=f"{b} (extrapolated)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("examples per property")
        ax.set_ylabel("suite time, s (set-up included)")
        ax.set_title("how the suite's time grows with the number of examples")
        ax.legend(fontsize=7)
        fig.tight_layout()
        save_png(fig, out_dir / "scaling.png")
        figures["scaling"] = "scaling.png"

    table = []
    for pid in prop_ids:
        p = props[pid]
        cells = {}
        for b in backends:
            r = rows.get((pid, b))
            if r is None:
                cells[b] = None
                continue
            cells[b] = {"status": r["status"], "examples": r["examples"], "invalid": r["invalid"],
                        "ran_on": r["target"].get("ran_on"), "seconds": r["seconds"], "shards": r["shards"],
                        "notes": list(r.get("notes") or [])}
        table.append({"id": pid, "words": p["words"], "bar": p.get("bar"), "kind": p["kind"], "mutates": p["mutates"],
                      "contracts": p["contracts"], "results": cells})
    data = {"verdict": verdict, "meta": meta, "properties": table, "not_deployed": meta.get("not_deployed", []),
            "throughput": throughput, "scaling": {b: {str(n): t for n, t in v.items()} for b, v in scale.items()},
            "gas": gas_stats, "errors": err_stats, "agreement": agreement, "failures": failures, "figures": figures}
    write_json(out_dir / "report.json", data)
    (out_dir / "report.md").write_text(render(data))
    return data


def _cell(text) -> str:
    """A table cell: a literal | would end the cell."""
    return str(text).replace("|", "\\|")


def _f(x, spec=".3g"):
    return "-" if x is None else format(x, spec)


def render(d: dict) -> str:
    m = d["meta"]
    backends = list(d["throughput"])
    L = [f"# vyopt audit report — {m.get('stamp', '')}", "",
         f"**Verdict: {d['verdict']}** — {sum(1 for p in d['properties'] for c in p['results'].values() if c and c['status'] == 'passed')} "
         f"property runs passed, {len(d['failures'])} failed.", ""]
    L += ["## What was audited", ""]
    rows = [["network", str(m.get("network"))], ["chain id", str(m.get("chain_id"))], ["audited block", str(m.get("block"))],
            ["node", str(m.get("node_url_redacted") or m.get("node_url") or "-")],
            ["deployment manifest", f"{m.get('manifest') or '-'} (sha256 {m.get('manifest_sha256') or '-'})"],
            ["what", str(m.get("label"))], ["back-ends", ", ".join(m.get("backends", []))],
            ["profile", f"{m.get('profile')} — {m.get('max_examples')} examples per property (divided by its cost), "
                        f"{m.get('workers') or 1} process(es), seed {m.get('seed')}"],
            ["example database", str(m.get("database"))], ["command", f"`{m.get('command')}`"]]
    L += [md_table(["", ""], rows), ""]
    checks = m.get("bytecode_checks") or []
    if checks:
        L += ["### Deployed code is the audited code", "",
              "The code at each address was read from the node at the audited block and compared byte for byte with "
              "the runtime of a local compile of the same sources (Vyper puts its CBOR metadata — compiler version, "
              "integrity sum of the sources — in the initcode only; the runtime on chain is followed only by the "
              "immutables, whose size must match). The audit refuses to run otherwise.", ""]
        L += [md_table(["contract", "address", "deployed code sha256", "local compile sha256", "same", "compiler",
                        "sources integrity sum"],
                       [[c["name"], f"`{c['address']}`", f"`{c['deployed_sha256']}`", f"`{c['local_sha256']}`",
                         "yes" if c["matches_local_compile"] and c["manifest_matches_chain"] else "NO",
                         str(c.get("compiler")), f"`{c.get('integrity_sum')}`"] for c in checks]), ""]
    targets = m.get("targets") or {}
    if targets:
        L += ["### Back-ends", ""]
        L += [md_table(["back-end", "client", "chain id", "block", "how", "set-up s"],
                       [[b, str(t.get("client")), str(t.get("chain_id")), str(t.get("block")), str(t.get("note", "")),
                         _f(t.get("setup_seconds"), ".1f")] for b, t in targets.items()]), ""]
        code_rows = []
        for b, t in targets.items():
            for n, c in (t.get("contracts") or {}).items():
                code_rows.append([b, n, f"`{c['address']}`", f"`{c['runtime_sha256']}`"])
        if code_rows:
            L += ["Bytecode each back-end executed (sha256 of the code at the address):", "",
                  md_table(["back-end", "contract", "address", "runtime sha256"], code_rows), ""]
    L += ["## Properties", "", "Examples = executions of the check (shrinking included); `x/y` for runs with rejected "
          "examples means y drawn, x valid.", ""]
    head = ["property", "what is checked", "bar"] + backends
    prow = []
    for p in d["properties"]:
        cells = []
        for b in backends:
            c = p["results"].get(b)
            if not c:
                cells.append("-")
                continue
            n = f"{c['examples'] - c['invalid']}/{c['examples']}" if c["invalid"] else str(c["examples"])
            where = " (fork)" if c.get("ran_on") == "node>fork" else ""
            cells.append(f"{'✔' if c['status'] == 'passed' else '✘ ' + c['status'].upper()} {n}{where}")
        prow.append([f"`{p['id']}`" + (" (state machine)" if p["kind"] == "stateful" else ""), _cell(p["words"]),
                     _cell(p.get("bar") or ""), *cells])
    L += [md_table(head, prow), ""]
    notes = {}
    for p in d["properties"]:
        for b, c in p["results"].items():
            for n in (c or {}).get("notes") or []:
                notes.setdefault((p["id"], n), []).append(b)
    if notes:
        L += ["Notes the properties made about this deployment:", ""]
        L += [f"- `{pid}` ({', '.join(bs)}): {n}" for (pid, n), bs in notes.items()] + [""]
    if d.get("not_deployed"):
        L += ["Not run (their contracts are not in the deployment): " + ", ".join(f"`{x}`" for x in d["not_deployed"]), ""]
    if d["failures"]:
        L += ["## Failures", ""]
        for f in d["failures"]:
            L += [f"### `{f['property']}` on {f['backend']}" + (" (run on a fork of the node)" if f.get("ran_on") == "node>fork" else ""), "",
                  f"- message: `{(f.get('message') or '').splitlines()[0] if f.get('message') else ''}`"]
            if f.get("example") is not None:
                L.append(f"- shrunk example: `{f['example']}`")
            if f.get("steps"):
                L += ["- shrunk program:", "", "```python", *f["steps"], "```"]
            if f.get("examples_before_failure"):
                L.append(f"- first failing example: number {f['examples_before_failure']}")
            if f.get("reproducer"):
                L.append(f"- reproducer: `{f['reproducer']}` — replay with `pytest -p no:ape_test <report dir>/{f['reproducer']}`")
            L.append("")
    L += ["## Throughput", "", "Examples per second of the whole check: the contract calls on the back-end, the gas "
          "measurements (on a node, an eth_estimateGas for the first 30 answered calls per function and property) and "
          "the 50-digit reference model.", "", md_table(
        ["back-end", "examples", "seconds in properties", "examples / s (all)", "examples / s (differential)", "set-up s"],
        [[b, str(t["examples"]), _f(t["seconds"], ".1f"), _f(t["examples_per_second"], ".1f"),
          _f(t["differential_examples_per_second"], ".1f"), _f(t["setup_seconds"], ".1f")] for b, t in d["throughput"].items()]), ""]
    ns = sorted({int(n) for s in d["scaling"].values() for n in s})
    L += ["How the suite's time grows with the examples per property (seconds, set-up included; "
          f"measured up to {m.get('max_examples')}, extrapolated linearly beyond):", "",
          md_table(["back-end"] + [str(n) for n in ns], [[b] + [_f(d["scaling"][b].get(str(n)), ".1f") for n in ns] for b in d["scaling"]]), ""]
    if "scaling" in d["figures"]:
        L += ["![scaling](scaling.png)", ""]
    if d["gas"]:
        L += ["## Gas per function", "", md_table(
            ["function", "back-end", "calls measured", "median", "p95", "max"],
            [[fn, b, str(s["n"]), f"{s['median']:.0f}", f"{s['p95']:.0f}", f"{s['max']:.0f}"]
             for fn, per in d["gas"].items() for b, s in per.items() if s]), "", "![gas](gas.png)", ""]
    if d["errors"]:
        L += ["## Error versus the reference", "", "error / bar per example (1 = at the bar):", "", md_table(
            ["property", "back-end", "examples", "median", "p95", "max"],
            [[pid, b, str(s["n"]), f"{s['median']:.2e}", f"{s['p95']:.2e}", f"{s['max']:.2e}"]
             for pid, per in d["errors"].items() for b, s in per.items() if s]), ""]
        if d.get("agreement"):
            L += ["Every back-end runs the same generated examples (fixed seeds). On the examples all back-ends ran, "
                  "the error against the reference was identical (the contracts gave the same answers to the wei):", "",
                  md_table(["property", "examples run on every back-end", "identical on all"],
                           [[p, str(a["common_examples"]), str(a["identical"])] for p, a in sorted(d["agreement"].items())]), ""]
        L += ["![errors](errors.png)", ""]
    L += ["## Tools", "", md_table(["tool", "version"], [[k, str(v)] for k, v in (m.get("tools") or {}).items()]), ""]
    L += ["## Replaying a failure", "",
          "Each reproducer is a pytest file with the shrunk example and the exact runtime bytecode it failed on "
          "(JSON beside it): `pytest -p no:ape_test reproducers/<file>.py` replays it in process; with "
          "`VYOPT_AUDIT_RPC=<node url>` it replays against that node's code at the recorded addresses. See docs/AUDITORS.md.", ""]
    return "\n".join(L)
