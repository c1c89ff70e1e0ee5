"""`maintenance-log verify`: every on-chain change event has its record, every record its event, and the
log's hash chain is intact.

Matching.  An event and a record belong together when they share (tx hash, change id, action).  The pair
must then also agree on the reason hash (= the report's hash, the record's report_sha256), the kind, the
key, the old and new values and the block.  Genesis entries (action 0, written by the constructor) are not
changes: they are counted and listed, never required to have a record.

Mismatch types (each makes the verdict FAIL and the command exit non-zero)
    change without record    an event in the block range with no record
    record without change    a record (of this chain and registry, inside the block range) with no event
    record differs           a pair that disagrees on a field (reason hash, values, key, kind, block)
    duplicate record         more than one record for one event
    log chain broken         a record altered, removed from the middle or reordered (MaintenanceLog.verify_chain)

API
    match(records, events, *, start_block=0, stop_block=None) -> dict      the verdict (pure, no chain access)
    read_events(registry, start_block, stop_block) -> list[ChainEvent]     ape: the registry's change events
    verify(registry, log, *, start_block=0, stop_block=None, network=...) -> dict   ape + log -> verdict
    write_report(result, out_dir) -> (md_path, json_path)
    REMEDIES                                                                what to do per mismatch type
"""
from __future__ import annotations

from pathlib import Path

from vyopt import report
from vyopt.maintenance.events import ChainEvent, from_ape_log, key_label
from vyopt.maintenance.log import MaintenanceLog, Record

CHANGE_EVENTS = ("ParamChange", "SmileChange", "ScenariosChange", "RoleChange")

REMEDIES = {
    "change without record": "someone changed the registry outside the tools, or a tool crashed after sending: "
                             "find who sent the tx, then backfill with `maintenance-log record --tx HASH --why ... "
                             "--report FILE` (the report's hash must equal the event's reason hash); if nobody can "
                             "justify it, treat it as an incident (guardian: cancel/pause)",
    "record without change": "the record claims a change the chain does not have (wrong network/registry, a "
                             "reorged or failed tx, or a forged record): check the tx on the chain; the log is "
                             "append-only, so add a correcting note, never delete",
    "record differs": "the record does not describe its event (values or report hash): the report on file is "
                      "not what justified the change, or the record was written wrongly; investigate",
    "duplicate record": "two records for one event: usually a tool was re-run; harmless if identical, otherwise "
                        "investigate which one is right",
    "log chain broken": "the log file was edited (a record altered, removed or reordered): restore it from a "
                        "backup/replica and compare; the chain position tells which record was touched",
}


def _event_key(e: ChainEvent) -> tuple:
    return (e.tx_hash.lower(), int(e.change_id), e.action)


def _record_key(r: Record) -> tuple:
    return (r.tx_hash.lower(), int(r.change_id), r.action)


def _compare(r: Record, e: ChainEvent) -> list[str]:
    diffs = []
    if r.report_sha256.lower() != e.reason_hash.lower():
        diffs.append(f"reason hash: record {r.report_sha256[:12]}… event {e.reason_hash[:12]}…")
    if r.kind != e.kind:
        diffs.append(f"kind: record {r.kind} event {e.kind}")
    if str(r.key) != str(e.key):
        diffs.append(f"key: record {r.key} event {e.key}")
    if r.from_value != e.from_value:
        diffs.append("from value differs")
    if r.to_value != e.to_value:
        diffs.append("to value differs")
    if int(r.block) != int(e.block):
        diffs.append(f"block: record {r.block} event {e.block}")
    return diffs


def _row(kind: str, *, e: ChainEvent | None = None, r: Record | None = None, detail: str = "") -> dict:
    src = e if e is not None else r
    return {
        "type": kind,
        "change_id": int(src.change_id),
        "action": src.action,
        "kind": src.kind,
        "key": str(src.key),
        "key_label": key_label(src.kind, src.key) if src.kind else str(src.key),
        "tx_hash": src.tx_hash,
        "block": int(src.block),
        "reason_hash": e.reason_hash if e is not None else r.report_sha256,
        "record_id": r.id if r is not None else None,
        "detail": detail,
    }


def match(records: list[Record], events: list[ChainEvent], *, start_block: int = 0, stop_block: int | None = None,
          chain_problems: list[dict] | None = None) -> dict:
    """Compare records with events (both of one chain and registry).  Pure: no chain or file access."""
    genesis = [e for e in events if e.action == "genesis"]
    changes = sorted((e for e in events if e.action != "genesis"), key=lambda e: (e.block, e.log_index))

    def in_range(block: int) -> bool:
        return block >= start_block and (stop_block is None or block <= stop_block)

    by_key: dict[tuple, list[Record]] = {}
    outside = []
    for r in records:
        if in_range(int(r.block)):
            by_key.setdefault(_record_key(r), []).append(r)
        else:
            outside.append(r)
    mismatches, pairs = [], []
    seen = set()
    for e in changes:
        k = _event_key(e)
        seen.add(k)
        rs = by_key.get(k, [])
        if not rs:
            mismatches.append(_row("change without record", e=e, detail="no record for this event"))
            continue
        r = rs[0]
        diffs = _compare(r, e)
        if diffs:
            mismatches.append(_row("record differs", e=e, r=r, detail="; ".join(diffs)))
        for extra in rs[1:]:
            mismatches.append(_row("duplicate record", e=e, r=extra, detail=f"also recorded as #{r.id}"))
        pairs.append({"change_id": e.change_id, "action": e.action, "kind": e.kind, "key": e.key,
                      "key_label": key_label(e.kind, e.key), "tx_hash": e.tx_hash, "block": e.block,
                      "reason_hash": e.reason_hash, "record_id": r.id, "ok": not diffs})
    for k, rs in by_key.items():
        if k not in seen:
            for r in rs:
                mismatches.append(_row("record without change", r=r,
                                       detail="no change event with this tx hash, change id and action"))
    for p in chain_problems or []:
        mismatches.append({"type": "log chain broken", "change_id": None, "action": None, "kind": None, "key": None,
                           "key_label": None, "tx_hash": None, "block": None, "reason_hash": None,
                           "record_id": p.get("id"), "detail": f"{p['problem']}: {p['detail']}"})
    counts = {t: sum(1 for m in mismatches if m["type"] == t) for t in REMEDIES}
    return {
        "ok": not mismatches,
        "verdict": "PASS" if not mismatches else "FAIL",
        "range": {"start_block": start_block, "stop_block": stop_block},
        "events": len(changes),
        "genesis_events": len(genesis),
        "records_checked": sum(len(v) for v in by_key.values()),
        "records_outside_range": len(outside),
        "matched": len(pairs),
        "counts": counts,
        "mismatches": mismatches,
        "pairs": pairs,
        "remedies": {t: REMEDIES[t] for t, n in counts.items() if n},
    }


def read_events(registry, start_block: int = 0, stop_block: int | None = None) -> list[ChainEvent]:
    """ape: the registry's change events in [start_block, stop_block] (default: to the head), block order."""
    from ape import chain

    stop = chain.blocks.height if stop_block is None else int(stop_block)
    out = []
    for name in CHANGE_EVENTS:
        for log in getattr(registry, name).range(int(start_block), stop + 1):
            e = from_ape_log(log)
            if e is not None:
                out.append(e)
    return sorted(out, key=lambda e: (e.block, e.log_index))


def verify(registry, log: MaintenanceLog, *, start_block: int = 0, stop_block: int | None = None) -> dict:
    """ape: read the events and the log (records of this chain id and registry), match them."""
    from ape import chain

    head = chain.blocks.height
    stop = head if stop_block is None else min(int(stop_block), head)
    events = read_events(registry, start_block, stop)
    records = log.records(chain_id=chain.chain_id, registry=str(registry.address))
    result = match(records, events, start_block=start_block, stop_block=stop, chain_problems=log.verify_chain())
    n, h = log.head()
    result["chain_id"] = chain.chain_id
    result["registry"] = str(registry.address).lower()
    result["log"] = {"records_total": n, "head_hash": h, "chain_intact": not any(
        m["type"] == "log chain broken" for m in result["mismatches"])}
    return result


def markdown(result: dict) -> str:
    f = report.fmt
    lines = [
        "# Maintenance log verification",
        "",
        f"Registry {result.get('registry', '-')} on chain {result.get('chain_id', '-')}, blocks "
        f"{result['range']['start_block']}..{result['range']['stop_block']}.",
        "",
        f"**Verdict: {result['verdict']}** — {result['events']} change events, {result['records_checked']} records, "
        f"{result['matched']} matched, {len(result['mismatches'])} mismatches "
        f"({result['genesis_events']} genesis entries need no record; "
        f"{result['records_outside_range']} records outside the block range not checked).",
        "",
    ]
    if "log" in result:
        lg = result["log"]
        lines += [f"Log: {lg['records_total']} records, head {lg['head_hash']}, hash chain "
                  f"{'intact' if lg['chain_intact'] else 'BROKEN'}.", ""]
    if result["mismatches"]:
        lines += ["## Mismatches", "", report.md_table(
            ["type", "change", "action", "kind", "key", "tx", "block", "record", "detail"],
            [[m["type"], f(m["change_id"]), m["action"] or "-", m["kind"] or "-", m["key_label"] or "-",
              (m["tx_hash"] or "-")[:12], f(m["block"]), f(m["record_id"]), m["detail"]]
             for m in result["mismatches"]]),
            "", "## What to do", ""]
        lines += [f"- **{t}**: {text}" for t, text in result["remedies"].items()]
        lines.append("")
    if result["pairs"]:
        lines += ["## Matched changes", "", report.md_table(
            ["change", "action", "kind", "key", "tx", "block", "reason hash", "record", "fields agree"],
            [[p["change_id"], p["action"], p["kind"], p["key_label"], p["tx_hash"][:12], p["block"],
              p["reason_hash"][:14] + "…", p["record_id"], f(p["ok"])] for p in result["pairs"]]), ""]
    return "\n".join(lines)


def write_report(result: dict, out_dir) -> tuple[Path, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report.write_json(out / "verify.json", result)
    (out / "verify.md").write_text(markdown(result))
    return out / "verify.md", out / "verify.json"
