"""What `ape run audit` does, callable without ape (the scripts/ command only gathers the connection).

run_audit(node_url, network, manifest_path=None, deploy_account=None, ...):
  1. the manifest: --deployment, or (on a local network, when none is given) a fresh deployment made now by
     vyopt.deploy.deploy_network (the code behind `ape run deploy`), saved in the report folder;
  2. verify_deployment at the node's current head (the audited block): chain id, the manifest's hashes and a
     byte-for-byte match with a local compile; a mismatch raises BytecodeMismatch and nothing is run;
  3. the pytest suite tests/audit/test_suite.py in a subprocess with ape's plugin off (-p no:ape_test), the
     node URL, addresses and block in a JSON config, HYPOTHESIS_PROFILE=<profile>, and for the deep profile
     pytest-xdist (-n auto) with each property sharded across the workers;
  4. the report from the records (report.build_report) in reports/audit/<UTC stamp>/.
Returns (report_dir, report data, pytest exit code).  Progress goes to stderr.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from ..contracts import ROOT
from .database import describe as describe_db
from .manifest import load_manifest, verify_deployment
from .profiles import get_profile
from .suite import BACKENDS

SUITE = ROOT / "tests" / "audit" / "test_suite.py"


def redact_url(url: str | None) -> str | None:
    """Loopback URLs as they are; any other node URL without its path and query (they often carry API keys)."""
    if not url:
        return url
    u = urlsplit(url)
    if u.hostname in ("127.0.0.1", "localhost", "::1"):
        return url
    return f"{u.scheme}://{u.hostname}{':' + str(u.port) if u.port else ''}/…"


def _log(msg: str):
    print(f"[audit] {msg}", file=sys.stderr, flush=True)


def _stamp() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _head(url: str) -> int:
    from .anvil import rpc

    return int(rpc(url, "eth_blockNumber"), 16)


def run_audit(*, node_url: str, network: str, manifest_path: Path | None = None, deploy_account=None,
              backends=BACKENDS, profile: str = "ci", database: str | None = None, out_root: Path | None = None,
              max_examples: int | None = None, properties: list[str] | None = None, command: str | None = None):
    from . import registry
    from .report import build_report, load_records, tool_versions

    prof = get_profile(profile)
    backends = list(backends)
    for b in backends:
        if b not in BACKENDS:
            raise ValueError(f"unknown back-end {b!r} (choose {', '.join(BACKENDS)})")
    out_root = Path(out_root or ROOT / "reports" / "audit")
    out_dir = out_root / _stamp()
    k = 1
    while out_dir.exists():
        k += 1
        out_dir = out_root / f"{_stamp()}-{k}"
    out_dir.mkdir(parents=True)
    t0 = time.perf_counter()

    # 1. the manifest ------------------------------------------------------------------------------------
    if manifest_path is None:
        if deploy_account is None:
            raise ValueError("no --deployment given: pass the deployment manifest written by `ape run deploy`")
        from ..deploy import deploy_network

        _log(f"no manifest given: deploying the protocol on {network} (deploy_network, fresh compile)")
        manifest = deploy_network(deploy_account, network, out_dir=out_dir, fresh=True)
        manifest_path = next(out_dir.glob("*.json"))
    else:
        manifest = load_manifest(manifest_path)
    manifest_path = Path(manifest_path)

    # 2. the bytecode check -----------------------------------------------------------------------------
    block = _head(node_url)
    _log(f"checking the deployed bytecode at block {block} against a local compile")
    try:
        checks = verify_deployment(manifest, node_url, block=block)
    except Exception:
        # nothing was audited: leave no half report behind
        for p in sorted(out_dir.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        out_dir.rmdir()
        raise
    for c in checks:
        _log(f"  {c['name']} at {c['address']}: {c['why']} ({c['deployed_sha256']})")

    deployed = set(manifest["contracts"])
    all_props = registry.properties()
    not_deployed = [p.id for p in all_props if not set(p.contracts) <= deployed]
    config = {"backends": backends, "node_url": node_url, "block": block,
              "deployment": {n: c["address"] for n, c in manifest["contracts"].items()}, "contracts": sorted(deployed),
              "record_dir": str(out_dir / ".records"), "reproducer_dir": str(out_dir / "reproducers"),
              "database": database, "profile": profile, "shards": prof.shards, "max_examples": max_examples,
              "properties": properties, "label": f"deployment {manifest_path.name} on {network}"}
    cfg_path = out_dir / ".suite-config.json"
    cfg_path.write_text(json.dumps(config, indent=1))

    # 3. the suite ---------------------------------------------------------------------------------------
    cmd = [sys.executable, "-m", "pytest", str(SUITE), "-p", "no:ape_test", "-p", "no:cacheprovider", "-q",
           "--tb=line", "-o", "console_output_style=count", "--audit-config", str(cfg_path)]
    if prof.workers:
        cmd += ["-n", str(prof.workers)]
    env = {**os.environ, "HYPOTHESIS_PROFILE": profile, "MPLBACKEND": "Agg"}
    _log(f"running {len(all_props) - len(not_deployed)} properties on {', '.join(backends)} "
         f"(profile {profile}{', ' + str(prof.workers) + ' workers' if prof.workers else ''}): {shlex.join(cmd[2:])}")
    with open(out_dir / "pytest.log", "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in proc.stdout:
            log.write(line)
            sys.stderr.write(line)
        exit_code = proc.wait()
    wall = time.perf_counter() - t0

    # 4. the report --------------------------------------------------------------------------------------
    records = load_records(out_dir / ".records")
    targets = {}
    for r in records:
        t = r["target"]
        key = t.get("ran_on") or t.get("backend")
        targets.setdefault(key, {k: v for k, v in t.items() if k not in ("backend", "ran_on", "audited", "url")})
    # the examples per property the suite used: hypothesis' profile of that name, as the records report it
    hypo_examples = max((r.get("max_examples") or 0 for r in records), default=max_examples)
    meta = {"stamp": out_dir.name, "command": command or "run_audit", "network": network, "chain_id": manifest["chain_id"],
            "block": block, "deployed_block": manifest.get("block"), "node_url_redacted": redact_url(node_url),
            "manifest": str(manifest_path.resolve().relative_to(ROOT)) if manifest_path.resolve().is_relative_to(ROOT) else str(manifest_path),
            "manifest_sha256": "0x" + hashlib.sha256(manifest_path.read_bytes()).hexdigest(),
            "label": config["label"], "backends": backends, "profile": profile, "max_examples": hypo_examples,
            "workers": prof.workers or 1, "seed": prof.seed, "database": describe_db(database),
            "bytecode_checks": checks, "targets": targets, "tools": tool_versions(), "pytest_exit": exit_code,
            "wall_seconds": wall, "not_deployed": not_deployed}
    data = build_report(records, meta, out_dir)
    _log(f"{data['verdict']}: report in {out_dir}/report.md ({wall:.0f} s)")
    return out_dir, data, exit_code
