"""What one audit process runs: the targets (contracts on each back-end) and the property runs on them.

    Setup         what is audited: a deployment (node URL + addresses from a manifest, pinned to a block) or
                  a build to deploy (name -> Artifact; the self-tests' broken pricer or margin engine), deployed
                  by `deploy` (default properties/_protocol.deploy_build: the protocol's contracts with their
                  constructor arguments and wiring, anything else with none).  Back-ends:
                    boa   deployment: titanoboa forked from the node at the audited block (a private Env, so
                          the deployed code and its storage at the same addresses); build: deployed in titanoboa.
                    node  deployment: eth_call on the node at the audited block, read-only.  Build (tests
                          only, on a node of their own): deployed on the node first, then read-only.
                          State-changing properties run on a fork of the node at that block.
                    fork  an anvil forked from the node at the audited block; build: deployed on the fork.
    AuditSession  opens targets lazily, runs a property on a back-end (runner.run_property), writes its
                  record (JSON) and reproducer, and closes every process it started.

The pytest suite (tests/audit/test_suite.py) and the self-tests both drive an AuditSession; `ape run audit`
runs that pytest suite in a subprocess (in parallel for the deep profile) and merges the records.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from .artifacts import Artifact, local_artifact, sha256_hex
from .backends import BoaBackend, RpcBackend, open_fork
from .registry import Context, Property

BACKENDS = ("boa", "node", "fork")


@dataclass
class Setup:
    node_url: str | None = None
    deployment: dict | None = None          # name -> address on node_url
    block: int | None = None                # audited block (None: the head when the target opens)
    build: dict | None = None               # name -> Artifact to deploy (instead of a deployment)
    label: str = "local compile"            # what is audited, for the report ("deployment ...", "mutant ...")
    deploy: object = None                   # (backend, {name: Artifact}) -> {name: address}; None: deploy_build

    def artifact(self, name: str) -> Artifact:
        if self.build and name in self.build:
            return self.build[name]
        return local_artifact(name)

    def deploy_on(self, backend) -> dict:
        """Deploy the build on a writable back-end; name -> address."""
        from .properties._protocol import deploy_build

        arts = {n: self.artifact(n) for n in self.names()}
        return (self.deploy or deploy_build)(backend, arts)

    def names(self) -> list[str]:
        return sorted((self.build or {}).keys() | (self.deployment or {}).keys())


@dataclass
class Target:
    kind: str
    backend: object
    contracts: dict
    setup_seconds: float
    note: str = ""
    extra: dict = field(default_factory=dict)

    def info(self) -> dict:
        out = self.backend.info()
        out["setup_seconds"] = self.setup_seconds
        out["contracts"] = {}
        for n, c in self.contracts.items():
            code = self.backend.code(c.address)
            out["contracts"][n] = {"address": c.address, "runtime_sha256": sha256_hex(code), "bytes": len(code)}
        if self.note:
            out["note"] = self.note
        out.update(self.extra)
        return out

    def close(self):
        self.backend.close()


def _head(url: str) -> int:
    n = RpcBackend(url, kind="node")
    try:
        return int(n.rpc("eth_blockNumber"), 16)
    finally:
        n.close()


def open_target(kind: str, setup: Setup) -> Target:
    t0 = time.perf_counter()
    names = setup.names()
    if kind == "boa":
        if setup.deployment:
            block = setup.block if setup.block is not None else _head(setup.node_url)
            b = BoaBackend(fork_url=setup.node_url, block=block)
            handles = {n: b.at(setup.artifact(n), setup.deployment[n]) for n in names}
            note = f"in process, forked from the node at block {block} (its code and storage, read over RPC)"
        else:
            b = BoaBackend()
            addresses = setup.deploy_on(b)
            handles = {n: b.at(setup.artifact(n), addresses[n]) for n in names}
            note = "deployed in process"
        return Target("boa", b, handles, time.perf_counter() - t0, note)
    if setup.node_url is None:
        raise RuntimeError(f"the {kind} back-end needs a node URL (an ape-connected node or --audit-rpc)")
    if kind == "node":
        addresses, block, note = setup.deployment, setup.block, "read-only eth_call at the audited block"
        if not addresses:  # a build on a node of our own (self-tests): deploy, then audit read-only
            writer = RpcBackend(setup.node_url, kind="node", read_only=False)
            try:
                addresses = setup.deploy_on(writer)
            finally:
                writer.close()
            block, note = _head(setup.node_url), "deployed on the node for this run, then read-only eth_call"
        if block is None:
            block = _head(setup.node_url)
        b = RpcBackend(setup.node_url, kind="node", block=block)
        t = Target("node", b, {n: b.at(setup.artifact(n), addresses[n]) for n in names}, time.perf_counter() - t0, note)
        t.extra["addresses"] = dict(addresses)
        return t
    if kind == "fork":
        block = setup.block if setup.block is not None else _head(setup.node_url)
        b = open_fork(setup.node_url, block)
        if setup.deployment:
            handles = {n: b.at(setup.artifact(n), setup.deployment[n]) for n in names}
            note = f"anvil fork of the node at block {block}"
        else:
            addresses = setup.deploy_on(b)
            handles = {n: b.at(setup.artifact(n), addresses[n]) for n in names}
            note = f"anvil fork of the node at block {block}, build deployed on the fork"
        return Target("fork", b, handles, time.perf_counter() - t0, note)
    raise ValueError(f"unknown back-end {kind!r} (choose {', '.join(BACKENDS)})")


def _slug(s: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_.-]+", "_", s).strip("_")


class AuditSession:
    """Targets opened on demand and property runs on them (one per process; xdist workers each have one)."""

    def __init__(self, setup: Setup, *, database=None, record_dir: Path | None = None, reproducer_dir: Path | None = None,
                 max_examples: int | None = None, profile=None):
        from .profiles import get_profile

        self.setup = setup
        self.database = database
        self.record_dir = Path(record_dir) if record_dir else None
        self.reproducer_dir = Path(reproducer_dir) if reproducer_dir else None
        self.max_examples = max_examples
        self.profile = profile or get_profile("ci")
        self.targets: dict[str, Target] = {}

    def target(self, kind: str) -> Target:
        if kind not in self.targets:
            self.targets[kind] = open_target(kind, self.setup)
        return self.targets[kind]

    def target_for(self, prop: Property, kind: str) -> tuple[Target, str]:
        """State-changing properties never run on the audited node: on the node back-end they go to a fork
        of it at the audited block ("node>fork")."""
        if prop.mutates and kind == "node":
            if "node>fork" not in self.targets:
                node = self.target("node")
                s = Setup(node_url=self.setup.node_url, deployment=node.extra["addresses"], block=node.backend.block,
                          build=self.setup.build, label=self.setup.label, deploy=self.setup.deploy)
                t = open_target("fork", s)
                t.note = f"fork of the audited node at block {node.backend.block} (state-changing property)"
                self.targets["node>fork"] = t
            return self.targets["node>fork"], "node>fork"
        return self.target(kind), kind

    def run(self, prop: Property, kind: str, shard: tuple[int, int] = (0, 1)) -> dict:
        from hypothesis import settings

        from .runner import run_property

        missing = [c for c in prop.contracts if c not in self.setup.names()]
        if missing:
            record = {"property": prop.describe(), "target": {"backend": kind}, "shard": list(shard), "status": "not deployed",
                      "examples": 0, "invalid": 0, "seconds": 0.0, "timeline": [], "metrics": {}, "gas": {},
                      "failure": None, "reproducer": None, "missing": missing}
            self._save(record, prop, kind, shard)
            return record
        target, ran_on = self.target_for(prop, kind)
        ctx = Context(backend=target.backend, contracts={n: target.contracts[n] for n in prop.contracts})
        info = target.info()
        info["backend"], info["ran_on"], info["audited"] = kind, ran_on, self.setup.label
        n = self.max_examples or settings.default.max_examples
        record = run_property(prop, ctx, target_info=info, max_examples=n, database=self.database,
                              base_seed=self.profile.seed, round_size=self.profile.round_size,
                              stateful_steps=self.profile.stateful_steps, reproducer_dir=self.reproducer_dir, shard=shard)
        self._save(record, prop, kind, shard)
        return record

    def _save(self, record, prop, kind, shard):
        if self.record_dir is None:
            return
        self.record_dir.mkdir(parents=True, exist_ok=True)
        name = _slug(f"{prop.id}__{kind}__{shard[0]}of{shard[1]}") + ".json"
        (self.record_dir / name).write_text(json.dumps(record, default=str))

    def close(self):
        for t in list(self.targets.values()):
            try:
                t.close()
            except Exception:
                pass
        self.targets.clear()
