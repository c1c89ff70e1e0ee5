"""The verifier on a titanoboa registry: a propose -> execute round with a record per change passes; a change
made without a record, a record without a change, a record that misstates its change, a duplicate record
and a record removed from the log are each flagged (issue 6: "the maintenance-log verifier catches a change
with no record and a record with no change")."""
import itertools
import shutil
import sqlite3

import boa
import pytest

from vyopt.maintenance import MaintenanceLog
from vyopt.maintenance import propose as pr
from vyopt.maintenance.events import ChainEvent
from vyopt.maintenance.execute import scan
from vyopt.maintenance.verify import match

from .helpers import BoaChain, write_calibration


@pytest.fixture(scope="module")
def _round_trip(calibrated_registry, risk_manager, keeper, tmp_path_factory):
    """Propose the calibration (4 fast smile changes), wait the surface delay, execute: every call recorded."""
    reg, slices, now = calibrated_registry
    tmp = tmp_path_factory.mktemp("round-trip")
    cal = pr.load_calibration(write_calibration(tmp / "cal", now, slices))
    chain = BoaChain(reg)
    log = MaintenanceLog(tmp / "log.sqlite")
    pl = pr.plan(cal, pr.read_state(reg, now))
    assert [p.status for p in pl.proposals] == ["queue"] * 4
    reason = bytes.fromhex(cal.reason_hash[2:])
    for p in pl.by_status("queue"):
        _, evs = chain.send(reg.queue_smile, p.expiry, p.new, reason, sender=risk_manager)
        chain.record(log, evs, who=risk_manager, report_path="cal/calibration.json")
    boa.env.time_travel(seconds=reg.surface_delay())
    matured = scan(reg, boa.env.evm.patch.timestamp)["matured"]
    assert len(matured) == 4
    for row in matured:
        _, evs = chain.send(reg.execute, row["change_id"], sender=keeper)
        chain.record(log, evs, who=keeper)
    return reg, chain, log, cal, pl


@pytest.fixture
def round_trip(_round_trip, tmp_path):
    """The round trip with a private copy of its log and event list (boa state rolls back after each test)."""
    reg, chain, log, cal, pl = _round_trip
    shutil.copy(log.path, tmp_path / "log.sqlite")
    mine = BoaChain(reg, events=list(chain.events))
    mine._n = itertools.count(len(chain.events) + 100)
    return reg, mine, MaintenanceLog(tmp_path / "log.sqlite"), cal, pl


def _types(res):
    return sorted((m["type"], m["change_id"]) for m in res["mismatches"])


def test_verify__propose_and_execute_each_recorded__passes(round_trip):
    reg, chain, log, cal, pl = round_trip
    res = match(log.records(), chain.events, chain_problems=log.verify_chain())
    assert res["ok"] and res["verdict"] == "PASS" and res["mismatches"] == []
    assert res["events"] == 8 and res["matched"] == 8
    assert {p["reason_hash"] for p in res["pairs"]} == {cal.reason_hash}
    for p in pl.proposals:  # what was proposed is what the registry now holds
        assert tuple(reg.smile(p.expiry)) == p.new


def test_verify__change_sent_without_record__is_flagged(round_trip, risk_manager):
    reg, chain, log, _, _ = round_trip
    _, evs = chain.send(reg.queue_param, 0, 13 * 10**17 + 5 * 10**16, b"\x07" * 32, sender=risk_manager)
    res = match(log.records(), chain.events, chain_problems=log.verify_chain())
    assert not res["ok"] and res["verdict"] == "FAIL"
    assert _types(res) == [("change without record", evs[0].change_id)]
    assert res["mismatches"][0]["kind"] == "param" and res["mismatches"][0]["key"] == "im_ratio"
    assert "change without record" in res["remedies"]


def test_verify__record_with_no_change__is_flagged(round_trip, risk_manager):
    reg, chain, log, _, _ = round_trip
    fake = ChainEvent(kind="smile", action="queue", change_id=99, key=str(reg.expiries()[0]), from_value={},
                      to_value={}, eta=0, reason_hash="0x" + "42" * 32, tx_hash="0x" + "99" * 32, block=5, log_index=0,
                      block_time=5)
    chain.record(log, [fake], who=risk_manager)
    res = match(log.records(), chain.events, chain_problems=log.verify_chain())
    assert _types(res) == [("record without change", 99)]


def test_verify__record_naming_another_report__is_flagged_as_differing(round_trip, risk_manager):
    reg, chain, log, _, _ = round_trip
    _, evs = chain.send(reg.queue_param, 1, 21 * 10**15, b"\x08" * 32, sender=risk_manager)
    ev = evs[0]
    forged = ChainEvent(**{**ev.as_dict(), "reason_hash": "0x" + "09" * 32})
    chain.record(log, [forged], who=risk_manager)
    res = match(log.records(), chain.events, chain_problems=log.verify_chain())
    assert _types(res) == [("record differs", ev.change_id)]
    assert "reason hash" in res["mismatches"][0]["detail"]


def test_verify__record_with_wrong_new_value__is_flagged_as_differing(round_trip, risk_manager):
    reg, chain, log, _, _ = round_trip
    _, evs = chain.send(reg.queue_param, 1, 21 * 10**15, b"\x08" * 32, sender=risk_manager)
    chain.record(log, [ChainEvent(**{**evs[0].as_dict(), "to_value": 22 * 10**15})], who=risk_manager)
    res = match(log.records(), chain.events)
    assert _types(res) == [("record differs", evs[0].change_id)] and "to value" in res["mismatches"][0]["detail"]


def test_verify__event_recorded_twice__is_flagged_as_duplicate(round_trip, risk_manager):
    reg, chain, log, _, _ = round_trip
    _, evs = chain.send(reg.queue_param, 1, 21 * 10**15, b"\x08" * 32, sender=risk_manager)
    chain.record(log, evs, who=risk_manager)
    chain.record(log, evs, who=risk_manager)
    res = match(log.records(), chain.events)
    assert _types(res) == [("duplicate record", evs[0].change_id)]


def test_verify__cancel_recorded__passes(round_trip, risk_manager, guardian):
    reg, chain, log, _, _ = round_trip
    (cid, evs) = chain.send(reg.queue_param, 1, 21 * 10**15, b"\x08" * 32, sender=risk_manager)
    chain.record(log, evs, who=risk_manager)
    _, evs = chain.send(reg.cancel, cid, sender=guardian)
    assert [e.action for e in evs] == ["cancel"]
    chain.record(log, evs, who=guardian, why="guardian: superseded")
    assert match(log.records(), chain.events, chain_problems=log.verify_chain())["ok"]


def test_verify__record_deleted_from_the_file__is_flagged_twice(round_trip):
    """Someone drops the triggers and deletes the record of an execution: the chain breaks at the next record,
    and the execution event has no record any more."""
    reg, chain, log, _, _ = round_trip
    victim = log.records()[5]
    con = sqlite3.connect(log.path)
    con.isolation_level = None
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f"DROP TRIGGER {name}")
    con.execute("DELETE FROM records WHERE id = ?", (victim.id,))
    res = match(log.records(), chain.events, chain_problems=log.verify_chain())
    assert ("change without record", victim.change_id) in _types(res)
    broken = [m for m in res["mismatches"] if m["type"] == "log chain broken"]
    assert broken and all(m["record_id"] == victim.id + 1 for m in broken)


def test_verify__last_record_deleted__is_caught_by_the_events_alone(round_trip):
    """Removing the newest record leaves a consistent hash chain; the chain's event still exposes it."""
    reg, chain, log, _, _ = round_trip
    con = sqlite3.connect(log.path)
    con.isolation_level = None
    con.execute("DROP TRIGGER records_no_delete")
    last = log.records()[-1]
    con.execute("DELETE FROM records WHERE id = ?", (last.id,))
    assert log.verify_chain() == []
    res = match(log.records(), chain.events, chain_problems=log.verify_chain())
    assert _types(res) == [("change without record", last.change_id)]


def _event(action, cid, block, tx):
    return ChainEvent(kind="param", action=action, change_id=cid, key="im_ratio", from_value=1, to_value=2, eta=0,
                      reason_hash="0x" + "11" * 32, tx_hash="0x" + tx * 32, block=block, log_index=0)


def test_match__genesis_entries__need_no_record():
    res = match([], [_event("genesis", 0, 1, "01")])
    assert res["ok"] and res["genesis_events"] == 1 and res["events"] == 0


def test_match__block_range__events_and_records_outside_it_are_not_compared(tmp_path):
    from vyopt.maintenance.chain import record_for_event

    old = _event("queue", 1, 5, "02")
    rec = record_for_event(old, who="0x" + "aa" * 20, network="n", chain_id=1, registry="0x" + "bb" * 20,
                           why="old change", block_time=0)
    rec.id = 1
    # the verifier read blocks 10.. only: the old record is outside, a new event inside has no record
    res = match([rec], [_event("queue", 2, 12, "03")], start_block=10)
    assert res["records_outside_range"] == 1
    assert _types(res) == [("change without record", 2)]
