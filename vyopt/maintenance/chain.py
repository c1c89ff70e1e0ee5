"""ape adapters of the maintenance tools: find the registry, its ABI, the network, receipts -> records.

The registry's ABI comes from ape's compile manifest (.build/__local__.json) when the sources it was built
from are the current ones, else from a compile of contracts/RiskRegistry.vy alone (titanoboa, cached on
disk by vyopt.contracts): `project.RiskRegistry` would compile every contract of the project first (80 s
on a busy machine), and only the ABI is needed to send transactions and decode events.

API
    registry_abi() -> list[dict]
    registry_at(address) -> ape ContractInstance
    resolve_registry(network_choice, address=None, deployments_dir=None) -> str   --registry or the manifest
    network_context() -> dict              network choice, chain id
    events_of_receipt(registry, receipt) -> list[ChainEvent]
    record_for_event(event, **context) -> Record
"""
from __future__ import annotations

import json
from pathlib import Path

from vyopt.contracts import CONTRACTS, ROOT
from vyopt.maintenance.events import ChainEvent, from_ape_log
from vyopt.maintenance.log import Record

REGISTRY_SOURCES = ("RiskRegistry.vy", "risk/params.vy", "risk/roles.vy", "risk/scenarios.vy", "risk/surface.vy",
                    "risk/svi.vy", "risk/timelock.vy")


def registry_abi() -> list[dict]:
    manifest = ROOT / ".build" / "__local__.json"
    try:
        m = json.loads(manifest.read_text())
        srcs = m["sources"]
        current = all(srcs[f"contracts/{s}"]["content"] == (CONTRACTS / s).read_text() for s in REGISTRY_SOURCES)
        if current and "RiskRegistry" in m.get("contractTypes", {}):
            return m["contractTypes"]["RiskRegistry"]["abi"]
    except (OSError, KeyError, ValueError):
        pass
    from vyper.compiler.output import build_abi_output

    from vyopt.contracts import deployer

    return build_abi_output(deployer("RiskRegistry").compiler_data)


def registry_at(address):
    from ape import Contract

    return Contract(address, abi=registry_abi(), fetch_from_explorer=False)


def manifest_candidates(network_choice: str, deployments_dir=None) -> list[Path]:
    d = Path(deployments_dir) if deployments_dir else ROOT / "deployments"
    parts = network_choice.split(":")
    names = [network_choice.replace(":", "_")]
    if len(parts) >= 2:
        names.append("_".join(parts[:2]))
    return [d / f"{n}.json" for n in dict.fromkeys(names)]


def resolve_registry(network_choice: str, address: str | None = None, deployments_dir=None) -> str:
    """The registry address: --registry, else contracts.RiskRegistry.address of deployments/<network>.json."""
    if address:
        return address
    for p in manifest_candidates(network_choice, deployments_dir):
        if p.exists():
            info = json.loads(p.read_text()).get("contracts", {}).get("RiskRegistry")
            if info and info.get("address"):
                return info["address"]
    raise ValueError(f"no RiskRegistry address: pass --registry ADDRESS or deploy one "
                     f"({', '.join(str(p) for p in manifest_candidates(network_choice, deployments_dir))} has none)")


def network_context() -> dict:
    from ape import chain, networks

    return {"network": networks.provider.network.choice, "chain_id": int(chain.chain_id)}


def events_of_receipt(registry, receipt) -> list[ChainEvent]:
    out = []
    for name in ("ParamChange", "SmileChange", "ScenariosChange", "RoleChange"):
        for log in getattr(registry, name).from_receipt(receipt):
            e = from_ape_log(log)
            if e is not None:
                out.append(e)
    return sorted(out, key=lambda e: e.log_index)


def record_for_event(e: ChainEvent, *, who: str, network: str, chain_id: int, registry: str, why: str,
                     block_time: int, report_path: str | None = None, who_name: str | None = None,
                     details: dict | None = None) -> Record:
    """The maintenance record of one change event (values copied from the event: the chain is the truth)."""
    return Record(action=e.action, network=network, chain_id=chain_id, registry=str(registry), change_id=e.change_id,
                  kind=e.kind, key=e.key, from_value=e.from_value, to_value=e.to_value, why=why,
                  report_sha256=e.reason_hash, tx_hash=e.tx_hash, block=e.block, block_time=block_time,
                  who_address=str(who), who_name=who_name, report_path=report_path,
                  details={"eta": e.eta, "fast": e.fast, **(details or {})})


def display_path(p) -> str:
    """A path as the user would type it from the current folder (relative when inside it)."""
    p = Path(p)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def report_reason_hash(path) -> str:
    """The reason hash a report stands for: its content_hash when it carries one (vyopt reports), else the
    sha256 of its bytes; 0x + 64 hex."""
    from vyopt import report

    p = Path(path)
    try:
        data = json.loads(p.read_text())
        stated = data.get("content_hash") if isinstance(data, dict) else None
        if isinstance(stated, str) and stated.startswith("sha256:"):
            body = {k: v for k, v in data.items() if k != "content_hash"}
            if report.content_hash(body) != stated:
                raise ValueError(f"{p} was modified after it was written (content hash mismatch)")
            return "0x" + stated.split(":", 1)[1]
    except (UnicodeDecodeError, json.JSONDecodeError):
        pass
    return "0x" + report.file_sha256(p).split(":", 1)[1]


def backfill(registry, tx_hash: str, log, *, why: str, report_path=None, who_name: str | None = None) -> list[Record]:
    """ape: append the records of a registry transaction made outside the tools (a multisig, a console, a tool
    that crashed after sending).  The report, when given, must hash to the event's reason hash.  Events that
    already have their record are left alone.  The record's time_utc shows when it was backfilled."""
    from ape import chain

    ctx = network_context()
    receipt = chain.provider.get_receipt(tx_hash)
    events = events_of_receipt(registry, receipt)
    if not events:
        raise ValueError(f"tx {tx_hash} has no change event of registry {registry.address}")
    reason = report_reason_hash(report_path) if report_path else None
    block_time = int(chain.provider.get_block(receipt.block_number).timestamp)
    out = []
    for e in events:
        if e.action == "genesis":
            continue
        if reason is not None and reason != e.reason_hash:
            raise ValueError(f"{report_path} hashes to {reason}, but change #{e.change_id} carries reason hash "
                             f"{e.reason_hash}: this report is not what justified the change")
        if any(r.tx_hash == e.tx_hash for r in log.find(ctx["chain_id"], str(registry.address), e.change_id, e.action)):
            continue
        out.append(log.append(record_for_event(
            e, who=str(receipt.sender), who_name=who_name, network=ctx["network"], chain_id=ctx["chain_id"],
            registry=registry.address, why=why, block_time=block_time,
            report_path=display_path(report_path) if report_path else None, details={"backfilled": True})))
    return out
