"""`execute`: apply every queued registry change whose delay has passed (anyone may), with its record.

The queue is read from the registry's views (change_count, change(id)), not from the log: a change queued
by any means is found.  Each change is one of
    matured     eta <= now <= deadline: executed (after an eth_call shows it would succeed)
    waiting     now < eta: reported with the time left
    lapsed      now > deadline: cannot be executed any more; the guardian or risk manager may cancel it
A matured change can still revert (every rule is checked again at execution: e.g. a smile's calendar
against a neighbour that a later change in the same batch updates).  Such changes are retried after the
others; what still reverts is reported with its reason.

API
    scan(registry, now) -> dict[str, list[dict]]         matured / waiting / lapsed changes (ape or titanoboa)
    execute(registry, account, log, *, ...) -> dict      ape: eth_call, send, record
"""
from __future__ import annotations

from vyopt.maintenance.events import PARAM_NAMES, ROLE_NAMES, key_label

KIND_NAMES = {1: "param", 2: "smile", 3: "scenarios", 4: "role"}
STATUS_QUEUED = 1


def _key(kind: str, target: int) -> str:
    if kind == "param":
        return PARAM_NAMES[target] if target < len(PARAM_NAMES) else str(target)
    if kind == "role":
        return ROLE_NAMES[target] if target < len(ROLE_NAMES) else str(target)
    if kind == "scenarios":
        return "grid"
    return str(target)


def scan(registry, now: int, first_id: int = 1) -> dict:
    """Queued changes by state at chain time `now` (ape or titanoboa contract)."""
    out = {"matured": [], "waiting": [], "lapsed": []}
    for cid in range(int(first_id), int(registry.change_count()) + 1):
        c = registry.change(cid)
        if int(c.status) != STATUS_QUEUED:
            continue
        kind = KIND_NAMES.get(int(c.kind), str(c.kind))
        key = _key(kind, int(c.target))
        row = {"change_id": cid, "kind": kind, "key": key, "label": key_label(kind, key) if kind == "smile" else key,
               "eta": int(c.eta), "deadline": int(c.deadline), "fast": bool(c.fast),
               "reason_hash": "0x" + bytes(c.reason_hash).hex()}
        if now < row["eta"]:
            out["waiting"].append(row)
        elif now > row["deadline"]:
            out["lapsed"].append(row)
        else:
            out["matured"].append(row)
    return out


def _why(row: dict, queued) -> tuple[str, str | None]:
    if queued:
        q = queued[0]
        return (f"execute matured change #{row['change_id']} ({row['kind']} {row['label']}) queued in tx "
                f"{q.tx_hash[:12]}…; queued because: {q.why}", q.report_path)
    return (f"execute matured change #{row['change_id']} ({row['kind']} {row['label']}); no queue record in "
            f"this log", None)


def execute(registry, account, log, *, network: str, chain_id: int, who_name: str | None = None,
            dry_run: bool = False, only=None, echo=lambda s: None) -> dict:
    """ape: execute every matured change (or those in `only`), retrying reverting ones after the others."""
    from ape import chain

    from vyopt.maintenance.chain import events_of_receipt, record_for_event
    from vyopt.maintenance.propose import static_check

    now = int(chain.blocks.head.timestamp)
    found = scan(registry, now)
    todo = [r for r in found["matured"] if only is None or r["change_id"] in set(only)]
    done, failed = [], {}
    progress = True
    while todo and progress:
        progress = False
        rest = []
        for row in todo:
            err = static_check(registry.execute, row["change_id"], sender=account)
            if err is not None:
                failed[row["change_id"]] = err
                rest.append(row)
                continue
            failed.pop(row["change_id"], None)
            progress = True
            if dry_run:
                done.append({**row, "status": "would execute"})
                continue
            receipt = registry.execute(row["change_id"], sender=account)
            block_time = int(chain.provider.get_block(receipt.block_number).timestamp)
            queued = log.find(chain_id, str(registry.address), row["change_id"], "queue")
            why, report_path = _why(row, queued)
            for e in events_of_receipt(registry, receipt):
                log.append(record_for_event(
                    e, who=account.address, who_name=who_name, network=network, chain_id=chain_id,
                    registry=registry.address, why=why, block_time=block_time, report_path=report_path,
                    details={"deadline": row["deadline"], "gas_used": int(receipt.gas_used)}))
            echo(f"executed #{row['change_id']} {row['kind']} {row['label']} tx {receipt.txn_hash} "
                 f"gas {int(receipt.gas_used)}")
            done.append({**row, "status": "executed", "tx_hash": str(receipt.txn_hash),
                         "gas_used": int(receipt.gas_used)})
        todo = rest
        if dry_run:
            break  # a dry run cannot see the effect of earlier executions on later ones
    return {"now": now, "executed": done,
            "reverting": [{**r, "reason": failed[r["change_id"]]} for r in todo],
            "waiting": found["waiting"], "lapsed": found["lapsed"]}
