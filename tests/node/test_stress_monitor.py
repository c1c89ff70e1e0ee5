"""`ape run stress --json` and `ape run monitor --once --json` against a deployment on the session's anvil (the node
ape's pytest plugin started): the protocol is deployed with vyopt.deploy.deploy_network, a small book is traded
through ape, and each command runs in its own `ape run` process attached to the same node (APE_FOUNDRY_HOST)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vyopt.contracts import ROOT

from .helpers import deploy_on_session_node, node_url

pytestmark = pytest.mark.node

APE = shutil.which("ape") or str(Path(sys.executable).parent / "ape")
WAD = 10**18


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    from ape import accounts, chain

    from vyopt.deploy import load_protocol

    manifest, out, provider = deploy_on_session_node(tmp_path_factory, "stress-monitor")
    (path,) = [f for f in out.glob("*.json") if not f.name.endswith(".dryrun.json")]
    p = load_protocol(manifest)
    lp, writer, buyer = accounts.test_accounts[6], accounts.test_accounts[7], accounts.test_accounts[8]
    unit = 10 ** p.collateral.decimals()
    for who, tokens in ((lp, 1_000_000), (writer, 100_000), (buyer, 20_000)):
        p.collateral.mint(who, tokens * unit, sender=who)
        p.collateral.approve(p.market.address, tokens * unit, sender=who)
    p.market.lp_deposit(1_000_000 * unit, sender=lp)
    p.market.deposit(100_000 * unit, sender=writer)
    p.market.deposit(20_000 * unit, sender=buyer)
    # a fresh feed round: earlier tests on this node may have moved its clock past the oracle heartbeat
    p.feed.set_answer(p.feed.latestRoundData()[1], sender=buyer)
    p.oracle.update(sender=buyer)
    spot = manifest["spot"]
    atm_call = next(s for s in manifest["series"] if s["is_call"] and s["strike"] == spot)
    otm_put = next(s for s in manifest["series"] if not s["is_call"] and s["strike"] < spot)
    deadline = chain.blocks.head.timestamp + 600
    p.market.trade(atm_call["id"], -2 * WAD, 0, deadline, sender=writer)
    p.market.trade(otm_put["id"], WAD, 2**255 - 1, deadline, sender=buyer)
    return {"protocol": p, "manifest": path, "url": node_url(provider), "writer": writer.address,
            "buyer": buyer.address, "out": out}


def _ape(script, url, *args, timeout=600):
    env = {**os.environ, "PATH": f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}",
           "VVM_BINARY_PATH": str(ROOT / ".build" / "vvm"), "MPLBACKEND": "Agg", "APE_FOUNDRY_HOST": url}
    return subprocess.run([APE, "run", script, "--network", "ethereum:local:foundry", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_ape_run_stress__json__book_revalued_with_the_writer_short_falled_at_plus_500(deployed):
    out_dir = deployed["out"] / "stress"
    r = _ape("stress", deployed["url"], "--deployment", str(deployed["manifest"]), "--out", str(out_dir), "--json")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    data = json.loads(r.stdout)
    assert data["chain"]["backend"] == "ape" and data["chain"]["market"] == deployed["protocol"].market.address
    accounts = {a["address"]: a for a in data["accounts"]}
    assert set(accounts) == {deployed["writer"], deployed["buyer"]}     # found in the market's logs
    assert accounts[deployed["writer"]]["max_shortfall"] > 0 and accounts[deployed["buyer"]]["max_shortfall"] == 0
    assert data["conservation"]["complete_account_list"]
    s500 = next(s for s in data["per_scenario"] if s["name"] == "S+500% vol x1")
    assert s500["total_shortfall"] == pytest.approx(accounts[deployed["writer"]]["max_shortfall"])
    spot = data["chain"]["spot"]
    for a in data["accounts"]:
        # the reference's value and margin now against the node's account_state (the monitor's 1e-9 x spot level)
        assert a["value_now"] == pytest.approx(a["onchain"]["value"], abs=1e-9 * spot * 3)
        assert a["maintenance_now"] == pytest.approx(a["onchain"]["maintenance"], abs=1e-9 * spot * 3)
    for name in ("report.md", "report.json", "heatmap.png"):
        assert (out_dir / name).exists(), name
    assert json.loads((out_dir / "report.json").read_text())["content_hash"] == data["content_hash"]


def test_ape_run_monitor__once_json__contracts_agree_with_the_reference_on_the_node(deployed, tmp_path):
    from vyopt.monitor import EXIT_CODES

    r = _ape("monitor", deployed["url"], "--deployment", str(deployed["manifest"]), "--once", "--json",
             "--history", str(tmp_path / "h.sqlite"), "--alerts", str(tmp_path / "a.jsonl"), "--sample-series", "4",
             "--sample-accounts", "3")
    data = json.loads(r.stdout.strip().splitlines()[-1])
    assert r.returncode == EXIT_CODES[data["worst"]], r.stderr[-3000:]
    codes = {(a["severity"], a["code"]) for a in data["alerts"]}
    assert not any(c.startswith("diff.") for _, c in codes), codes
    diff = data["observations"]["differential"]
    assert len(diff["series_checked"]) == 4 and diff["accounts_checked"][0] == "pool" and len(diff["accounts_checked"]) == 3
    assert max(diff["max_rel_error"].values()) < 1e-12
    assert data["observations"]["oracle"]["status"] == "ok"
    assert ("info", "events.summary") in codes     # the node's logs were scanned, from the deployment's first block:
    # every scalar parameter's genesis write was seen, so each has an age
    assert len(data["observations"]["registry"]["param_age"]) == 11
    assert all(0 <= age < 10 * 86400 for age in data["observations"]["registry"]["param_age"].values())
    assert (tmp_path / "h.sqlite").exists() and (tmp_path / "a.jsonl").read_text().strip()


def test_ape_run_monitor__subprocesses__left_the_session_node_running(deployed):
    from ape import chain

    # the commands attached to the session's anvil and must not have stopped it on exit
    assert deployed["protocol"].market.series_count() > 0 and chain.blocks.head.number > 0
