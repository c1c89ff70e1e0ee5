"""`ape run audit` end to end on the local demo deployment: ape starts anvil, the protocol is deployed as by
`ape run deploy`, and the suite runs on boa, node and fork into a report an auditor can read; a manifest
whose code does not match is refused by the command with a non-zero exit and no report."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vyopt.audit import registry
from vyopt.contracts import ROOT

APE = shutil.which("ape") or str(Path(sys.executable).parent / "ape")


def _ape(*args, timeout=900):
    env = {**os.environ, "PATH": f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}",
           "VVM_BINARY_PATH": str(ROOT / ".build" / "vvm"), "MPLBACKEND": "Agg"}
    return subprocess.run([APE, "run", "audit", "--network", "ethereum:local:foundry", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("audit-reports")
    # 5 examples per property: this checks the command and the report, the suite itself runs in test_suite.py
    out = _ape("--examples", "5", "--out", str(root), "--db", str(root / "db"))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    (folder,) = [p for p in root.iterdir() if p.name != "db"]
    return folder, json.loads((folder / "report.json").read_text()), (folder / "report.md").read_text()


def test_ape_run_audit__local_demo__every_property_passes_on_boa_node_and_fork(report):
    _, data, _ = report
    assert data["verdict"] == "PASS"
    ids = {p["id"] for p in data["properties"]}
    deployed = {c["name"] for c in data["meta"]["bytecode_checks"]}
    assert "BlackScholes" in deployed
    assert ids == {p.id for p in registry.properties() if set(p.contracts) <= deployed}
    for p in data["properties"]:
        for b in ("boa", "node", "fork"):
            cell = p["results"][b]
            assert cell["status"] == "passed" and cell["examples"] > 0, (p["id"], b, cell)
            if p["mutates"] and b == "node":
                assert cell["ran_on"] == "node>fork"  # state changes never reach the audited node


def test_ape_run_audit__report__states_chain_block_bytecode_and_tools(report):
    folder, data, md = report
    m = data["meta"]
    assert m["chain_id"] == 31337 and m["block"] >= 1
    for c in m["bytecode_checks"]:   # every contract of the manifest (the whole protocol since `ape run deploy` deploys it)
        assert c["matches_local_compile"] and c["manifest_matches_chain"] and c["compiler"] == "vyper 0.4.3", c
    (check,) = [c for c in m["bytecode_checks"] if c["name"] == "BlackScholes"]
    for b in ("boa", "node", "fork"):
        assert m["targets"][b]["contracts"]["BlackScholes"]["runtime_sha256"] == check["deployed_sha256"]
    for tool in ("vyper", "titanoboa", "eth-ape", "ape-foundry", "hypothesis", "anvil"):
        assert m["tools"][tool]
    for section in ("## What was audited", "### Deployed code is the audited code", "## Properties", "## Throughput",
                    "## Gas per function", "## Error versus the reference", "## Tools"):
        assert section in md
    for png in ("gas.png", "errors.png", "scaling.png"):
        assert (folder / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_ape_run_audit__report__measures_throughput_and_gas_per_backend(report):
    _, data, _ = report
    for b in ("boa", "node", "fork"):
        t = data["throughput"][b]
        assert t["examples"] > 0 and t["examples_per_second"] > 0
        assert data["scaling"][b]["5000"] > data["scaling"][b]["5"]
    for fn in ("BlackScholes.call_price", "BlackScholes.put_price", "BlackScholes.greeks", "BlackScholes.implied_vol"):
        # the same examples on every back-end: boa and the node report the same execution gas
        assert data["gas"][fn]["node"]["median"] > 0
    assert data["gas"]["BlackScholes.greeks"]["node"]["median"] == data["gas"]["BlackScholes.greeks"]["fork"]["median"]


def test_ape_run_audit__same_examples_on_every_backend__give_the_same_answers(report):
    _, data, _ = report
    assert set(data["agreement"]) >= {"pricer.prices_match_reference", "pricer.greeks_match_reference"}
    for pid, a in data["agreement"].items():
        assert a["common_examples"] > 0 and a["identical"] == a["common_examples"], (pid, a)


def test_ape_run_audit__manifest_with_no_such_code__is_refused_with_no_report(tmp_path):
    manifest = tmp_path / "other.json"
    manifest.write_text(json.dumps({"network": "ethereum:local", "chain_id": 31337, "block": 1, "contracts": {
        "BlackScholes": {"address": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
                         "runtime_bytecode_sha256": "0x" + "00" * 32}}}))
    out = _ape("--deployment", str(manifest), "--out", str(tmp_path / "reports"), timeout=300)
    assert out.returncode != 0
    assert "refusing to audit" in out.stdout + out.stderr
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())
