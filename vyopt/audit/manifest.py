"""Deployment manifests (written by `ape run deploy`, vyopt.deploy.deploy_network) and the bytecode check.

The audit refuses to run unless, for every contract of the manifest:
  1. the node's chain id is the manifest's chain id;
  2. the code at the address (read at the audited block) hashes to the manifest's runtime_bytecode_sha256;
  3. that code is the runtime of a local compile of the same sources (artifacts.code_matches: byte for
     byte, plus exactly the immutables' size; Vyper's CBOR metadata lives in the initcode only).
So the report can state that the audited code is the deployed code, and which sources it came from.

API
    load_manifest(path) -> dict
    BytecodeMismatch(Exception)                        .checks: the per-contract results
    verify_deployment(manifest, node_url, block=None, artifacts=None) -> list[dict]   raises BytecodeMismatch
"""
from __future__ import annotations

import json
from pathlib import Path

from .artifacts import code_matches, local_artifact, sha256_hex


class BytecodeMismatch(Exception):
    def __init__(self, message: str, checks: list[dict]):
        super().__init__(message)
        self.checks = checks


def load_manifest(path) -> dict:
    m = json.loads(Path(path).read_text())
    for key in ("chain_id", "contracts"):
        if key not in m:
            raise ValueError(f"{path}: not a deployment manifest (no {key!r})")
    for name, c in m["contracts"].items():
        if "address" not in c or "runtime_bytecode_sha256" not in c:
            raise ValueError(f"{path}: contract {name} has no address/runtime_bytecode_sha256 (a dry-run manifest?)")
    return m


def verify_deployment(manifest: dict, node_url: str, block: int | None = None, artifacts: dict | None = None) -> list[dict]:
    from .backends import RpcBackend

    node = RpcBackend(node_url, kind="node", block=block)
    try:
        checks = []
        problems = []
        if node.chain_id != int(manifest["chain_id"]):
            problems.append(f"the node's chain id is {node.chain_id}, the manifest's {manifest['chain_id']}")
        for name, c in sorted(manifest["contracts"].items()):
            art = (artifacts or {}).get(name) or local_artifact(name)
            code = node.code(c["address"])
            deployed = sha256_hex(code)
            same_as_manifest = deployed == c["runtime_bytecode_sha256"]
            ok, why = code_matches(code, art)
            check = {"name": name, "address": c["address"], "manifest_sha256": c["runtime_bytecode_sha256"],
                     "deployed_sha256": deployed, "deployed_bytes": len(code), "local_sha256": art.runtime_sha256,
                     "local_source": art.source, "sources_sha256": art.sources_sha256, "compiler": art.metadata.get("compiler"),
                     "integrity_sum": art.metadata.get("integrity_sum"), "manifest_matches_chain": same_as_manifest,
                     "matches_local_compile": ok, "why": why}
            checks.append(check)
            if not same_as_manifest:
                problems.append(f"{name} at {c['address']}: the code on chain hashes to {deployed}, the manifest says "
                                f"{c['runtime_bytecode_sha256']}")
            if not ok:
                problems.append(f"{name} at {c['address']}: {why}")
        if problems:
            raise BytecodeMismatch("refusing to audit: " + "; ".join(problems), checks)
        return checks
    finally:
        node.close()
