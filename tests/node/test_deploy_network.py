"""The network deployment (vyopt.deploy.deploy_network, `ape run deploy`) on real nodes:

- the session's anvil (ethereum:local:foundry, started by ape's pytest plugin): the whole protocol with the
  mocks, every bytecode hash in the manifest is the node's code, the audit's bytecode check accepts the
  manifest, and the market works through ape (LP deposit, deposit, a trade) once attached with load_protocol;
- the network path against an anvil started with Sepolia's chain id (11155111) and reached as
  ethereum:sepolia with the node's URL: a dry run sends nothing (nonce unchanged), then `ape run deploy`
  itself in a subprocess (SEPOLIA_RPC_URL, --account TEST::0, explicit roles and a Chainlink-style feed
  deployed beforehand) writes a manifest for chain 11155111 whose code hashes match the node.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from vyopt.contracts import ROOT

from .helpers import deploy_on_session_node, node_url

pytestmark = pytest.mark.node

SEPOLIA = 11155111
CONTRACTS = {"BlackScholes", "RiskRegistry", "testing/MockAggregator", "PriceOracle", "testing/MockERC20",
             "MarginEngine", "OptionsMarket"}
COMPONENTS = {"pricer", "registry", "feed", "oracle", "collateral", "engine", "market"}


@pytest.fixture(scope="module")
def local_deployment(tmp_path_factory):
    manifest, out, _ = deploy_on_session_node(tmp_path_factory, "deploy-local")
    return manifest, out


def test_deploy_network__local_node__manifest_lists_every_contract_with_the_node_code_hash(local_deployment):
    from ape import chain

    from vyopt.deploy import bytecode_hash

    m, out = local_deployment
    assert json.loads((out / "ethereum_local.json").read_text())["contracts"].keys() == CONTRACTS
    assert set(m["contracts"]) == CONTRACTS and set(m["components"]) == COMPONENTS
    assert m["chain_id"] == chain.chain_id and m["block"] <= chain.blocks.head.number
    for name, c in m["contracts"].items():
        code = bytes(chain.provider.get_code(c["address"]))
        assert code, name
        assert c["runtime_bytecode_sha256"] == bytecode_hash(code), name
        assert m["components"][c["component"]] == c["address"]
        assert c["gas_used"] > 0 and c["tx"]
    # the registry holds the roles of the manifest (local default: test accounts 0, 1, 2, pairwise distinct)
    assert len(set(m["roles"].values())) == 3


def test_deploy_network__local_node__audit_bytecode_check_accepts_the_manifest(local_deployment):
    from ape import networks

    from vyopt.audit.manifest import verify_deployment

    m, _ = local_deployment
    checks = verify_deployment(m, node_url(networks.active_provider), block=m["block"])
    assert {c["name"] for c in checks} == CONTRACTS
    assert all(c["matches_local_compile"] and c["manifest_matches_chain"] for c in checks)


def test_deploy_network__local_node__attached_market_takes_lp_deposit_and_a_trade(local_deployment):
    from ape import accounts, chain

    from vyopt.deploy import load_protocol

    m, _ = local_deployment
    p = load_protocol(m)
    assert p.market.registry() == p.registry.address and p.market.collateral_token() == p.collateral.address
    assert p.registry.risk_manager() == m["roles"]["risk_manager"]
    assert p.market.series_count() == len(m["series"]) > 0
    lp, trader = accounts.test_accounts[4], accounts.test_accounts[5]
    unit = 10 ** p.collateral.decimals()
    for who, tokens in ((lp, 1_000_000), (trader, 50_000)):
        p.collateral.mint(who, tokens * unit, sender=who)
        p.collateral.approve(p.market.address, tokens * unit, sender=who)
    p.market.lp_deposit(1_000_000 * unit, sender=lp)
    p.market.deposit(50_000 * unit, sender=trader)
    assert p.collateral.balanceOf(p.market.address) == 1_050_000 * unit
    # a fresh feed round: earlier tests on this node may have moved its clock past the oracle heartbeat
    p.feed.set_answer(p.feed.latestRoundData()[1], sender=trader)
    atm_call = next(s for s in m["series"] if s["is_call"] and s["strike"] == m["spot"])
    premium, mark, vol = p.market.quote(atm_call["id"], 10**18)
    assert 0 < mark < premium and vol > 0
    cash = p.market.collateral(trader)
    receipt = p.market.trade(atm_call["id"], 10**18, premium * 101 // 100, chain.blocks.head.timestamp + 600,
                             sender=trader)
    paid = receipt.events[-1].premium
    assert p.market.position(trader, atm_call["id"]) == 10**18
    assert p.market.position(p.market.address, atm_call["id"]) == -(10**18)
    assert cash - p.market.collateral(trader) == paid > 0


@pytest.fixture(scope="module")
def sepolia_node():
    from vyopt.audit.anvil import Anvil

    with Anvil(chain_id=SEPOLIA) as node:
        yield node


def test_deploy_network__sepolia_chain_id__dry_run_sends_nothing_then_the_script_deploys(sepolia_node, tmp_path):
    from ape import accounts, networks
    from eth_utils import to_checksum_address

    from vyopt.audit.anvil import rpc, wait_receipt
    from vyopt.audit.manifest import verify_deployment
    from vyopt.deploy import DeploymentError, bytecode_hash, compiled, deploy_network, load_protocol

    deployer, roles = accounts.test_accounts[0], {
        "admin": accounts.test_accounts[1].address, "risk_manager": accounts.test_accounts[0].address,
        "guardian": accounts.test_accounts[2].address}
    url = sepolia_node.url
    # a Chainlink-style feed already on the chain (on Sepolia: the aggregator's proxy address)
    feed_tx = rpc(url, "eth_sendTransaction", [{"from": deployer.address, "gas": hex(2_000_000),
                                                "data": compiled("testing/MockAggregator")["initcode"]
                                                + (8).to_bytes(32, "big").hex() + (65_000 * 10**8).to_bytes(32, "big").hex()}])
    feed = to_checksum_address(wait_receipt(url, feed_tx)["contractAddress"])
    nonce = int(rpc(url, "eth_getTransactionCount", [deployer.address, "latest"]), 16)
    head = int(rpc(url, "eth_blockNumber"), 16)

    with networks.parse_network_choice(f"ethereum:sepolia:{url}", disconnect_after=True) as provider:
        assert provider.network.name == "sepolia" and not provider.network.is_dev and provider.chain_id == SEPOLIA
        with pytest.raises(DeploymentError, match="roles explicitly"):
            deploy_network(deployer, "ethereum:sepolia", out_dir=tmp_path, feed=feed, dry_run=True)
        dry = deploy_network(deployer, "ethereum:sepolia", out_dir=tmp_path, dry_run=True, feed=feed, roles=roles)

    assert int(rpc(url, "eth_getTransactionCount", [deployer.address, "latest"]), 16) == nonce
    assert int(rpc(url, "eth_blockNumber"), 16) == head
    assert not (tmp_path / "ethereum_sepolia.json").exists() and (tmp_path / "ethereum_sepolia.dryrun.json").exists()
    assert dry["chain_id"] == SEPOLIA and dry["nonce"] == nonce and dry["external"]["feed"]["address"] == feed
    assert set(dry["contracts"]) == CONTRACTS - {"testing/MockAggregator"}
    for name, c in dry["contracts"].items():
        assert 0 < c["gas_used"] <= c["gas_estimate"], name
        if "gas_estimate_network" in c:  # the fork and the network agree on what needs no new contract
            assert c["gas_estimate_network"] == c["gas_estimate"], name
    assert len(dry["transactions"]) == 1 + len(dry["series"]) > 1

    env = {**os.environ, "SEPOLIA_RPC_URL": url}
    cmd = [str(ROOT / ".venv" / "bin" / "ape") if (ROOT / ".venv" / "bin" / "ape").exists() else "ape",
           "run", "deploy", "--network", "ethereum:sepolia:node", "--account", "TEST::0", "--feed", feed,
           "--admin", roles["admin"], "--risk-manager", roles["risk_manager"], "--guardian", roles["guardian"],
           "--confirmations", "0", "--yes", "--out-dir", str(tmp_path)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "manifest written to" in proc.stdout

    m = json.loads((tmp_path / "ethereum_sepolia.json").read_text())
    assert m["chain_id"] == SEPOLIA and m["network"] == "ethereum:sepolia" and m["roles"] == roles
    assert m["components"]["feed"] == feed and set(m["contracts"]) == CONTRACTS - {"testing/MockAggregator"}
    # the dry run's addresses are where the real deployment landed (same deployer, same nonce)
    assert {n: c["address"] for n, c in m["contracts"].items()} == {n: c["expected_address"] for n, c in dry["contracts"].items()}
    for name, c in m["contracts"].items():
        code = bytes.fromhex(rpc(url, "eth_getCode", [c["address"], "latest"])[2:])
        assert c["runtime_bytecode_sha256"] == bytecode_hash(code), name
    assert len(m["series"]) == len(dry["series"]) > 0  # the deployer is the risk manager here: it listed
    verify_deployment(m, url, block=m["block"])
    with networks.parse_network_choice(f"ethereum:sepolia:{url}", disconnect_after=True):
        p = load_protocol(tmp_path / "ethereum_sepolia.json")
        assert p.oracle.last_price() == 65_000 * 10**18 and p.market.series_count() == len(m["series"])
