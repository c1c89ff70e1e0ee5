"""The auditor's suite under pytest: back-ends are one option away.

    pytest tests/audit/test_suite.py                              boa, node and fork (the default)
    pytest tests/audit/test_suite.py --audit-backend node         only the node back-end
    VYOPT_AUDIT_BACKENDS=boa pytest                               the same through the environment (the options
                                                                  exist only when tests/audit is named on the
                                                                  command line; pytest reads them from initial
                                                                  conftests only)

Without --audit-config the node is the anvil that ape's pytest plugin starts on loopback for the session
(ape-config.yaml: ethereum:local:foundry); the protocol is deployed on it by vyopt.deploy.deploy_network
(the function behind `ape run deploy`), the manifest's bytecode is checked against the local compile, and
the fork back-end is a second anvil with --fork-url pointing at that node.  `ape run audit` passes
--audit-config (a JSON file: node URL, manifest, block, record and reproducer folders, database, profile)
and disables ape's plugin, since it has its own connection.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from vyopt.audit import registry
from vyopt.audit.suite import BACKENDS


def pytest_addoption(parser):
    g = parser.getgroup("vyopt-audit", "vyopt auditor's suite (tests/audit)")
    g.addoption("--audit-backend", default=None, help="comma-separated back-ends: boa,node,fork (default all three)")
    g.addoption("--audit-config", default=None, help="JSON written by `ape run audit`")
    g.addoption("--audit-db", default=None, help="example database: a directory or a redis:// URL")
    g.addoption("--audit-mutant", default=None, help="audit a deliberately broken build (vyopt/audit/mutants.py)")


def _opt(config, name: str, env: str):
    v = config.getoption(name, default=None)
    return v if v is not None else os.environ.get(env)


def audit_config(config) -> dict:
    if not hasattr(config, "_vyopt_audit"):
        path = _opt(config, "--audit-config", "VYOPT_AUDIT_CONFIG")
        cfg = json.loads(Path(path).read_text()) if path else {}
        backends = _opt(config, "--audit-backend", "VYOPT_AUDIT_BACKENDS") or ",".join(cfg.get("backends", BACKENDS))
        cfg["backends"] = [b.strip() for b in backends.split(",") if b.strip()]
        for b in cfg["backends"]:
            if b not in BACKENDS:
                raise pytest.UsageError(f"unknown audit back-end {b!r} (choose from {', '.join(BACKENDS)})")
        cfg["database"] = _opt(config, "--audit-db", "VYOPT_AUDIT_DB") or cfg.get("database")
        cfg["mutant"] = _opt(config, "--audit-mutant", "VYOPT_AUDIT_MUTANT") or cfg.get("mutant")
        config._vyopt_audit = cfg
    return config._vyopt_audit


def pytest_generate_tests(metafunc):
    if "audit_property" not in metafunc.fixturenames:
        return
    from vyopt.deploy import DEPLOYABLES

    cfg = audit_config(metafunc.config)
    deployed = set(cfg.get("contracts") or DEPLOYABLES)
    # a property of a contract that is not deployed is not a test (it could not fail); the report lists it
    props = [p for p in registry.properties() if set(p.contracts) <= deployed]
    only = cfg.get("properties")
    if only:
        props = [p for p in props if p.id in only]
    shards = int(cfg.get("shards", 1))
    cases, ids = [], []
    for p in props:
        for b in cfg["backends"]:
            for i in range(shards):
                cases.append((p.id, b, (i, shards)))
                ids.append(f"{p.id}-{b}" + (f"-{i + 1}of{shards}" if shards > 1 else ""))
    metafunc.parametrize(("audit_property", "audit_backend", "audit_shard"), cases, ids=ids)


def _ape_setup(tmp_path_factory):
    """The protocol deployed on ape's session node by deploy_network, verified against the local compile."""
    from ape import accounts, networks

    from vyopt.audit.manifest import verify_deployment
    from vyopt.audit.suite import Setup
    from vyopt.deploy import deploy_network

    provider = networks.active_provider
    if provider is None or not getattr(provider, "is_connected", False):
        pytest.fail("the node and fork back-ends need ape's session node (ape-config.yaml: ethereum:local:foundry) "
                    "or --audit-config with a node URL")
    url = getattr(provider, "http_uri", None) or provider.uri
    out = tmp_path_factory.mktemp("audit-deployment")
    manifest = deploy_network(accounts.test_accounts[0], provider.network.choice, out_dir=out, fresh=True)
    verify_deployment(manifest, url, block=manifest["block"])
    deployment = {n: c["address"] for n, c in manifest["contracts"].items()}
    return Setup(node_url=url, deployment=deployment, block=manifest["block"],
                 label=f"deployment on ape's session node by deploy_network (block {manifest['block']})")


def _profile_from_env() -> str:
    """HYPOTHESIS_PROFILE=deep also selects the deep audit profile (rounds that replay the database)."""
    from vyopt.audit.profiles import PROFILES

    name = os.environ.get("HYPOTHESIS_PROFILE", "ci")
    return name if name in PROFILES else "ci"


@pytest.fixture(scope="session")
def audit_session(request, tmp_path_factory):
    from vyopt.audit.database import example_database
    from vyopt.audit.mutants import broken_build
    from vyopt.audit.profiles import get_profile
    from vyopt.audit.suite import AuditSession, Setup
    from vyopt.deploy import DEPLOYABLES

    cfg = audit_config(request.config)
    needs_node = any(b in ("node", "fork") for b in cfg["backends"])
    build = broken_build(cfg["mutant"]) if cfg.get("mutant") else None
    if cfg.get("node_url"):
        setup = Setup(node_url=cfg["node_url"], deployment=None if build else cfg.get("deployment"),
                      block=cfg.get("block"), build=build, label=cfg.get("label", "deployment"))
    elif needs_node and not build:
        setup = _ape_setup(tmp_path_factory)
    elif needs_node:
        from ape import networks

        setup = Setup(node_url=networks.active_provider.http_uri, build=build, label=f"mutant {cfg['mutant']}")
    else:  # boa only: the local compile (or the mutant) deployed in process
        from vyopt.audit.artifacts import local_artifact

        setup = Setup(build=build or {n: local_artifact(n) for n in DEPLOYABLES},
                      label=f"mutant {cfg['mutant']}" if build else "local compile")
    db = example_database(cfg.get("database"), local_dir=cfg.get("database_dir"))
    record_dir = cfg.get("record_dir")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    session = AuditSession(setup, database=db,
                           record_dir=Path(record_dir) / worker if record_dir else None,
                           reproducer_dir=cfg.get("reproducer_dir") or tmp_path_factory.mktemp("reproducers"),
                           max_examples=cfg.get("max_examples"),
                           profile=get_profile(cfg.get("profile") or _profile_from_env()))
    try:
        # open every target now, outside any test: titanoboa's pytest plugin runs each test inside
        # boa.env.anchor(), which would roll back code placed in the in-process EVM during a test
        for b in cfg["backends"]:
            session.target(b)
        yield session
    finally:
        session.close()
