"""Deploying vyopt: in process (titanoboa) for tests and tools, and on an ape network for users.

deploy_local() returns a handle with the deployed contracts; the risk registry, oracle and market join it as
they are built.  deploy_network() is what `ape run deploy` calls: it deploys through the connected ape
provider with the given account and writes a deployment manifest (chain id, block, addresses, bytecode
hashes) to deployments/<network>.json.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from .contracts import ROOT, deployer

DEPLOYABLES = ("BlackScholes",)


@dataclass
class LocalProtocol:
    pricer: object
    roles: dict = field(default_factory=dict)


def deploy_local() -> LocalProtocol:
    """The whole protocol in titanoboa's in-process EVM."""
    return LocalProtocol(pricer=deployer("BlackScholes").deploy())


def bytecode_hash(code: bytes) -> str:
    return "0x" + hashlib.sha256(bytes(code)).hexdigest()


def fresh_containers(names=DEPLOYABLES) -> dict:
    """ape contract containers compiled now from contracts/<name>.vy, bypassing ape's compile cache: ape-vyper
    0.8.12 does not notice an edit in an imported module (e.g. contracts/math/black_scholes.vy), so
    `project.BlackScholes` can be stale bytecode (seen: the audit's bytecode check refused such a deployment)."""
    from ape import project

    out = {}
    for name in names:
        out.update(project.load_contracts(f"contracts/{name}.vy", use_cache=False))
    return {name: out[name] for name in names}


def deploy_network(account, network_name: str, out_dir: Path | None = None, dry_run: bool = False,
                   fresh: bool = False) -> dict:
    """Deploy every deployable through ape with `account`; return (and write) the manifest.
    fresh=True compiles the deployables from source first (see fresh_containers)."""
    from ape import chain, project

    manifest = {"network": network_name, "chain_id": chain.chain_id, "deployer": str(account.address),
                "contracts": {}, "time": int(time.time())}
    containers = fresh_containers() if fresh else {}
    for name in DEPLOYABLES:
        ctype = containers[name] if fresh else getattr(project, name)
        if dry_run:
            manifest["contracts"][name] = {"estimated_gas": ctype.deploy.estimate_gas_cost(sender=account)}
            continue
        c = ctype.deploy(sender=account)
        code = chain.provider.get_code(c.address)
        manifest["contracts"][name] = {"address": str(c.address), "runtime_bytecode_sha256": bytecode_hash(code)}
    manifest["block"] = chain.blocks.head.number
    if not dry_run:
        out_dir = out_dir or ROOT / "deployments"
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / f"{network_name.replace(':', '_')}.json").write_text(json.dumps(manifest, indent=2))
    return manifest
