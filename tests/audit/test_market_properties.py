"""The auditor's suite on the whole protocol: the registry, oracle and market properties
(vyopt/audit/properties/{registry,oracle,market}.py) on a deployment with listed series, an LP, a buyer and a
writer (properties/_protocol.py populate) on an anvil of this module's own, read-only on the node and on a fork of
it; the market's state machine on a fork, leaving the node untouched; the broken margin engines of
vyopt/audit/mutants.py caught on boa and on the node, with their failing example passing on the real engine; the
state machine's price moves skipped, with a note, when the oracle's feed is not the mock."""
import pytest

from vyopt.audit import registry
from vyopt.audit.anvil import Anvil
from vyopt.audit.backends import RpcBackend
from vyopt.audit.mutants import MUTANTS, broken_build
from vyopt.audit.properties._protocol import (FEED, TOKEN, artifact, deploy_build, feed_history, populate,
                                               protocol_build)
from vyopt.audit.registry import Context
from vyopt.audit.runner import summary
from vyopt.audit.suite import AuditSession, Setup

NEW = ("registry", "oracle", "market")
READ_ONLY = [p.id for p in registry.properties() if p.id.split(".")[0] in NEW and not p.mutates]
MACHINE = "market.state_machine_conserves_funds"


def _deploy(w: RpcBackend, **kw) -> dict:
    addresses = deploy_build(w, protocol_build(), **kw)
    populate(w, {n: w.at(artifact(n), a) for n, a in addresses.items()})
    return addresses


@pytest.fixture(scope="module")
def deployment():
    """(node URL, addresses, block): the protocol deployed and populated on an anvil of this module's own."""
    with Anvil() as node:
        w = RpcBackend(node.url, kind="node", read_only=False)
        try:
            addresses = _deploy(w)
            yield node.url, addresses, w.head()["number"]
        finally:
            w.close()


@pytest.fixture(scope="module")
def session(deployment, tmp_path_factory):
    url, addresses, block = deployment
    s = AuditSession(Setup(node_url=url, deployment=addresses, block=block, label="populated test deployment"),
                     database=None, reproducer_dir=tmp_path_factory.mktemp("repro"))
    yield s
    s.close()


def test_new_properties__registered__cover_registry_oracle_and_market_with_a_state_machine():
    ids = {p.id for p in registry.properties()}
    assert {"registry.implied_vol_matches_svi", "registry.parameters_within_hard_bounds",
            "registry.surface_free_of_static_arbitrage", "oracle.peek_matches_reference",
            "market.engine_matches_reference", "market.engine_rounds_for_the_protocol",
            "market.reads_match_reference", "market.wiring_matches_deployment", MACHINE} <= ids
    assert registry.get(MACHINE).mutates and TOKEN in registry.get(MACHINE).contracts


@pytest.mark.parametrize("backend", ["node", "fork"])
@pytest.mark.parametrize("prop", READ_ONLY)
def test_read_only_property__populated_deployment__holds_on_backend(session, prop, backend):
    record = session.run(registry.get(prop), backend)
    assert record["status"] == "passed", summary(record)
    assert record["examples"] > 0


def test_market_reads__populated_deployment__compare_every_listed_series_and_account_kind(session):
    record = session.run(registry.get("market.reads_match_reference"), "node")
    assert record["status"] == "passed", summary(record)
    (note,) = record["notes"]
    assert note.startswith("12 listed series and 2 accounts"), note   # the buyer and the writer (the LP holds shares)
    assert record["metrics"]["error / bar"] and max(record["metrics"]["error / bar"]) <= 1


def test_state_machine__on_a_fork_of_the_node__conserves_funds_and_leaves_the_node_untouched(session, deployment):
    url, addresses, _ = deployment
    node = RpcBackend(url, kind="node")
    try:
        before = (node.head(), node.code(addresses["OptionsMarket"]), node.storage(addresses["OptionsMarket"], 0))
        # on the node back-end a state-changing property runs on a fork of the node at the audited block
        record = session.run(registry.get(MACHINE), "node")
        assert record["status"] == "passed", summary(record)
        assert record["examples"] > 0 and record["target"]["ran_on"] == "node>fork"
        assert record["metrics"]["error / bar"], "no account was compared with the reference"
        after = (node.head(), node.code(addresses["OptionsMarket"]), node.storage(addresses["OptionsMarket"], 0))
    finally:
        node.close()
    assert after == before


@pytest.fixture(scope="module")
def real_engine(session):
    """The real engine, registry and oracle of the populated deployment, read-only on the node."""
    t = session.target("node")
    return Context(backend=t.backend, contracts=dict(t.contracts))


@pytest.mark.parametrize("mutant", ["margin-scenario-dropped", "margin-rounded-down", "settlement-stamp-at-t-before"])
def test_broken_build__every_backend__caught_and_its_example_holds_on_the_real_contracts(real_engine, mutant, tmp_path):
    """The protocol with a broken margin engine or oracle deployed on a node of its own (with the populated
    deployment's feed history); boa audits it forked from that node (a deployment in py-evm would cost ~7M gas
    of interpretation for the registry alone), the node read-only, and the fork back-end on a second anvil
    forked from it."""
    (name,) = MUTANTS[mutant].deployables
    build = protocol_build({name: broken_build(mutant)[name]})
    (pid,) = MUTANTS[mutant].caught_by
    prop = registry.get(pid)
    with Anvil() as node:
        w = RpcBackend(node.url, kind="node", read_only=False)
        try:
            addresses = deploy_build(w, build)
            feed_history(w, {FEED: w.at(artifact(FEED), addresses[FEED])})
            block = w.head()["number"]
        finally:
            w.close()
        for backend in ("boa", "node", "fork"):
            s = AuditSession(Setup(node_url=node.url, deployment=addresses, block=block, build=build,
                                   label=f"mutant {mutant}"), database=None, reproducer_dir=tmp_path / backend)
            try:
                record = s.run(prop, backend)
            finally:
                s.close()
            assert record["status"] == "failed", summary(record)
            assert record["target"]["contracts"][name]["runtime_sha256"] != artifact(name).runtime_sha256
            assert "AssertionError" in record["failure"]["message"] and record["reproducer"]
            # the failing example holds on the real contracts: the failure is the injected bug
            prop.check(real_engine, record["failure"]["example"])


def test_state_machine__feed_not_the_mock__skips_price_moves_and_says_so(tmp_path):
    """An oracle on another Chainlink-style feed (testing/MaliciousAggregator serving an honest round): the machine
    cannot move that price, runs its other rules and notes why in the report."""
    with Anvil() as node:
        w = RpcBackend(node.url, kind="node", read_only=False)
        try:
            feed = w.deploy(artifact("testing/MaliciousAggregator"), 8)
            t = w.timestamp()   # stamped at the latest block: fresh, not in the future
            assert feed.transact("set_words", 1, 40_000 * 10**8, t, t, 1, sender=w.accounts(1)[0]).success
            addresses = _deploy(w, feed=feed.address)
            block = w.head()["number"]
        finally:
            w.close()
        assert FEED not in addresses
        s = AuditSession(Setup(node_url=node.url, deployment=addresses, block=block), database=None,
                         max_examples=registry.get(MACHINE).cost)   # one run: the subject is the note
        try:
            record = s.run(registry.get(MACHINE), "fork")
            peek = s.run(registry.get("oracle.peek_matches_reference"), "node")
        finally:
            s.close()
    assert record["status"] == "passed", summary(record)
    assert record["notes"] == ["the oracle's feed is not the mock aggregator: the price-move and shock rules were skipped"]
    assert peek["status"] == "passed" and "is not the mock aggregator" in peek["notes"][0]


def test_state_machine__no_mock_collateral_in_the_manifest__is_reported_not_deployed():
    addresses = {n: "0x" + "11" * 20 for n in ("RiskRegistry", "PriceOracle", "MarginEngine", "OptionsMarket")}
    s = AuditSession(Setup(node_url="http://127.0.0.1:9", deployment=addresses), database=None)
    record = s.run(registry.get(MACHINE), "fork")   # decided before any back-end is opened
    assert record["status"] == "not deployed" and record["missing"] == [TOKEN]
