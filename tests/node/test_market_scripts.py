"""The user-facing ape scripts of the options market end to end, each in its own process, against one anvil
this module starts on loopback (ape-foundry attaches to it through APE_FOUNDRY_HOST, so every `ape run` sees
the same chain):

    ape run demo      deploys, runs the life cycle, prints the summary with the invariant lines, exits 0
    ape run trade     quote, deposit --mint, sell on the demo's deployment (the second expiry is still live)
    (the test moves the mock feed down through the oracle until the new writer is under maintenance)
    ape run keeper    --once --json finds that writer in the market's logs and liquidates it
    ape run trade     health --json: the writer is no longer liquidatable
"""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from eth_abi import decode, encode
from eth_utils import keccak

from vyopt.audit.anvil import Anvil, rpc, wait_receipt
from vyopt.contracts import ROOT

pytestmark = pytest.mark.node

APE = shutil.which("ape") or str(Path(sys.executable).parent / "ape")
WAD = 10**18
OPERATOR = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"      # anvil's (and ape's) test account 0, unlocked
WRITER, KEEPER = "TEST::9", "TEST::8"


@pytest.fixture(scope="module")
def node():
    with Anvil() as a:
        yield a.url


def _ape(url, *args, timeout=300):
    t0 = time.monotonic()
    try:
        return _ape_run(url, *args, timeout=timeout)
    finally:
        print(f"ape run {' '.join(args[:2])}: {time.monotonic() - t0:.1f} s")


def _ape_run(url, *args, timeout=300):
    env = {**os.environ, "APE_FOUNDRY_HOST": url,
           "PATH": f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}",
           "VVM_BINARY_PATH": str(ROOT / ".build" / "vvm"), "MPLBACKEND": "Agg"}
    return subprocess.run([APE, "run", *args, "--network", "ethereum:local:foundry"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _ok(out):
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout


def _json(out):
    return json.loads(_ok(out))


def _call(url, to, sig, types=(), args=(), out=("uint256",)):
    data = "0x" + (keccak(text=sig)[:4] + encode(list(types), list(args))).hex()
    raw = rpc(url, "eth_call", [{"to": to, "data": data}, "latest"])
    return decode(list(out), bytes.fromhex(raw[2:]))


def _send(url, to, sig, types=(), args=()):
    data = "0x" + (keccak(text=sig)[:4] + encode(list(types), list(args))).hex()
    # an explicit gas limit: one CI run saw set_answer (which cannot revert) mined with status 0, which only
    # running out of an estimated limit explains; the receipt's gas is in the message should it recur
    h = rpc(url, "eth_sendTransaction", [{"from": OPERATOR, "to": to, "data": data, "gas": hex(2_000_000)}])
    receipt = wait_receipt(url, h)
    assert int(receipt["status"], 16) == 1, (sig, receipt.get("gasUsed"), receipt)


@pytest.fixture(scope="module")
def demo(node, tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    out = _ape(node, "demo", "--out", str(folder), "--json", str(folder / "market.json"))
    (manifest,) = folder.glob("ethereum_local*.json")
    return out, manifest, folder


def test_ape_run_demo__local_node__exits_zero_with_invariants_and_a_liquidation(demo):
    out, _, folder = demo
    text = _ok(out)
    lines = [ln for ln in text.splitlines() if ln.startswith("invariant (")]
    assert len(lines) == 2
    for ln in lines:
        assert "== accounts + pool + insurance + fees" in ln
        assert ": OK (difference 0 wei); positions sum to zero in every series: OK" in ln
    assert "|diff|" in text                                  # the pricer's table is still part of the demo
    summary = json.loads((folder / "market.json").read_text())
    assert summary["ok"] is True
    assert [summary["names"][e["account"]] for e in summary["liquidations"]] == ["writer"]
    (liq,) = summary["liquidations"]
    assert 0 < liq["reward"] <= liq["penalty"]
    # settlement pays intrinsic value at the recorded price, rounded toward -infinity (the rule, computed here)
    spot = summary["settlement_price"]
    assert {pay["account"] for pay in summary["payoffs"]} == {"trader1", "trader2", "writer"}
    for pay in summary["payoffs"]:
        strike, kind = summary["series"][str(pay["series_id"])].split()[:2]
        k = int(strike) * WAD
        intrinsic = max(k - spot, 0) if kind == "P" else max(spot - k, 0)
        assert pay["payoff"] == pay["size"] * intrinsic // WAD


def test_trade_then_keeper__writer_under_maintenance__found_in_logs_and_liquidated(node, demo):
    _, manifest, _ = demo
    m = json.loads(manifest.read_text())
    market, feed, oracle = (m["components"][k] for k in ("market", "feed", "oracle"))
    dep = ("--deployment", str(manifest))

    quotes = _json(_ape(node, "trade", "quote", "--json", *dep))
    live = {q["series_id"]: q for q in quotes}
    assert len(live) == 10                                   # the second expiry: 5 strikes x call/put
    assert all(q["buy"] > q["mark"] > q["sell"] > 0 for q in quotes)
    # the lowest-strike put (32,000 with the demo's spot of 28,000 after its shock)
    put = min((q for q in quotes if q["series"].split()[1] == "P"), key=lambda q: int(q["series"].split()[0]))["series_id"]

    _ok(_ape(node, "trade", "deposit", "14000", "--mint", "--account", WRITER, *dep))
    sold = _json(_ape(node, "trade", "sell", str(put), "1", "--json", "--account", WRITER, *dep))
    assert sold["position"] == -WAD and sold["premium"] >= sold["limit"]
    writer = sold["account"]

    # the feed falls 9% per update (the oracle accepts up to 10%) until the writer is under maintenance
    price = _call(node, oracle, "last_price()")[0] // WAD
    for _ in range(8):
        if _call(node, market, "is_liquidatable(address)", ["address"], [writer], ("bool",))[0]:
            break
        price = price * 91 // 100
        _send(node, feed, "set_answer(int256)", ["int256"], [price * 10**8])
        _send(node, oracle, "update()")
    assert _call(node, market, "is_liquidatable(address)", ["address"], [writer], ("bool",))[0]

    rep = _json(_ape(node, "keeper", "--once", "--json", "--account", KEEPER, *dep))
    (p,) = rep["passes"]
    assert writer in p["liquidatable"]
    assert p["healthy"] >= 3                                 # the demo's traders and writer, settled
    (liq,) = [e for e in p["liquidations"] if e["account"] == writer]
    assert liq["series_id"] == put and liq["reward"] > 0 and liq["tx"]
    assert rep["totals"]["liquidations"] >= 1
    after = _json(_ape(node, "trade", "health", "--json", "--account", WRITER, *dep))
    assert after["liquidatable"] is False
