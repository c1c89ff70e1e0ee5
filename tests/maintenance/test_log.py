"""The maintenance log: records round-trip exactly, SQLite refuses every UPDATE/DELETE and any INSERT that does
not extend the chain, and the hash chain exposes a record altered, removed or reordered behind the
triggers' back (triggers dropped, as someone editing the file by hand would)."""
import shutil
import sqlite3

import pytest

from vyopt.maintenance.log import GENESIS_PREV, MaintenanceLog, Record, record_hash


def _record(i: int, **kw) -> Record:
    base = dict(action="queue", network="ethereum:local:foundry", chain_id=31337, registry="0x" + "ab" * 20,
                change_id=i, kind="smile", key=str(1_700_000_000 + i),
                from_value={"a": 1, "b": 2, "rho": -3, "m": 4, "sigma": 5},
                to_value={"a": 10**30 + i, "b": 2, "rho": -3, "m": 4, "sigma": 5}, why=f"recalibration {i}",
                report_sha256="0x" + f"{i:064x}", tx_hash="0x" + f"{1000 + i:064x}", block=10 + i, block_time=1_700 + i,
                who_address="0x" + "cd" * 20, who_name="risk desk",
                report_path="reports/calibration/x/calibration.json",
                details={"eta": 99, "fast": True})
    base.update(kw)
    return Record(**base)


@pytest.fixture(scope="module")
def _template(tmp_path_factory):
    lg = MaintenanceLog(tmp_path_factory.mktemp("template") / "sub" / "log.sqlite")
    for i in range(1, 6):
        lg.append(_record(i))
    return lg.path


@pytest.fixture
def log(_template, tmp_path):
    """A fresh copy of a five-record log (each append commits to disk: building it once keeps the tests fast)."""
    shutil.copy(_template, tmp_path / "log.sqlite")
    return MaintenanceLog(tmp_path / "log.sqlite")


def _raw(log):
    con = sqlite3.connect(log.path)
    con.isolation_level = None
    return con


def _drop_triggers(con):
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f"DROP TRIGGER {name}")


def test_new_log__parent_folder_is_created_and_the_log_is_empty(tmp_path):
    lg = MaintenanceLog(tmp_path / "a" / "b" / "log.sqlite")
    assert lg.records() == [] and lg.head() == (0, GENESIS_PREV) and lg.verify_chain() == []


def test_append__records_round_trip_with_exact_big_integers_and_a_linked_chain(log):
    recs = log.records()
    assert [r.id for r in recs] == [1, 2, 3, 4, 5]
    assert recs[0].prev_hash == GENESIS_PREV
    for a, b in zip(recs, recs[1:]):
        assert b.prev_hash == a.record_hash
    assert recs[2].to_value["a"] == 10**30 + 3  # beyond float precision: stored as exact JSON integers
    assert recs[2].details == {"eta": 99, "fast": True}
    assert log.verify_chain() == []
    assert log.head() == (5, recs[-1].record_hash)


def test_append__reopened_file__continues_the_same_chain(log):
    again = MaintenanceLog(log.path)
    rec = again.append(_record(6))
    assert rec.id == 6 and rec.prev_hash == log.records()[4].record_hash
    assert again.verify_chain() == []


@pytest.mark.parametrize("sql", [
    "UPDATE records SET why = 'nothing to see' WHERE id = 2",
    "UPDATE records SET to_value = '{}'",
    "DELETE FROM records WHERE id = 5",
    "DELETE FROM records",
])
def test_sqlite__update_or_delete__is_refused_by_the_triggers(log, sql):
    con = _raw(log)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute(sql)
    assert len(log.records()) == 5 and log.verify_chain() == []


def test_sqlite__insert_or_replace_over_an_old_id__is_refused(log):
    row = log.records()[1].row()
    row["why"] = "rewritten"
    con = _raw(log)
    cols = list(row) + ["record_hash"]
    with pytest.raises(sqlite3.IntegrityError, match="next id|prev_hash"):
        con.execute(f"INSERT OR REPLACE INTO records ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                    [*row.values(), record_hash(row)])
    assert log.records()[1].why == "recalibration 2"


def test_sqlite__insert_not_linked_to_the_last_record__is_refused(log):
    rec = _record(6)
    rec.id, rec.prev_hash = 6, GENESIS_PREV
    row = rec.row()
    con = _raw(log)
    cols = list(row) + ["record_hash"]
    with pytest.raises(sqlite3.IntegrityError, match="prev_hash"):
        con.execute(f"INSERT INTO records ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                    [*row.values(), record_hash(row)])


def test_verify_chain__record_altered_with_triggers_dropped__is_flagged_at_that_record(log):
    con = _raw(log)
    _drop_triggers(con)
    con.execute("UPDATE records SET why = 'nothing to see' WHERE id = 3")
    problems = log.verify_chain()
    assert [(p["problem"], p["id"]) for p in problems] == [("record altered", 3)]


def test_verify_chain__record_removed_from_the_middle__is_flagged_as_a_gap_and_a_broken_link(log):
    con = _raw(log)
    _drop_triggers(con)
    con.execute("DELETE FROM records WHERE id = 2")
    problems = log.verify_chain()
    assert {(p["problem"], p["id"]) for p in problems} == {("missing records", 3), ("broken link", 3)}


def test_verify_chain__altered_record_with_its_hash_recomputed__breaks_the_next_link(log):
    con = _raw(log)
    _drop_triggers(con)
    row = {k: v for k, v in zip([d[0] for d in con.execute("SELECT * FROM records WHERE id = 2").description],
                                con.execute("SELECT * FROM records WHERE id = 2").fetchone())}
    row["why"] = "a better story"
    con.execute("UPDATE records SET why = ?, record_hash = ? WHERE id = 2", (row["why"], record_hash(row)))
    assert [(p["problem"], p["id"]) for p in log.verify_chain()] == [("broken link", 3)]


def test_verify_chain__two_records_swapped__is_flagged(log):
    con = _raw(log)
    _drop_triggers(con)
    con.execute("UPDATE records SET id = 100 WHERE id = 2")
    con.execute("UPDATE records SET id = 2 WHERE id = 3")
    con.execute("UPDATE records SET id = 3 WHERE id = 100")
    assert log.verify_chain()  # ids hashed and linked: any reorder breaks a link


@pytest.mark.parametrize("field, value, match", [
    ("action", "approve", "unknown action"),
    ("kind", "oracle", "unknown kind"),
    ("tx_hash", "0x1234", "tx_hash"),
    ("report_sha256", "sha256:" + "0" * 64, "report_sha256"),
    ("why", "  ", "reason"),
])
def test_append__malformed_record__is_refused_and_nothing_is_written(log, field, value, match):
    with pytest.raises(ValueError, match=match):
        log.append(_record(6, **{field: value}))
    assert len(log.records()) == 5


def test_records__filtered_by_chain_and_registry(log):
    log.append(_record(6, chain_id=1))
    log.append(_record(7, registry="0x" + "EF" * 20))
    assert len(log.records(chain_id=31337, registry="0x" + "ab" * 20)) == 5
    assert [r.change_id for r in log.records(registry="0x" + "ef" * 20)] == [7]  # addresses compared lower case
    assert [r.id for r in log.find(31337, "0x" + "AB" * 20, 3, "queue")] == [3]


def test_readonly__tampered_file__is_examined_without_being_touched(log):
    """verify/show open the log read-only: a file whose triggers were dropped stays byte-identical (the
    writer would re-create the triggers), and appending through a read-only handle fails."""
    con = _raw(log)
    _drop_triggers(con)
    con.close()
    before = log.path.read_bytes()
    ro = MaintenanceLog(log.path, readonly=True)
    assert len(ro.records()) == 5 and ro.verify_chain() == []
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        ro.append(_record(6))
    assert log.path.read_bytes() == before


def test_readonly__missing_file__is_an_error_not_a_new_log(tmp_path):
    with pytest.raises(FileNotFoundError):
        MaintenanceLog(tmp_path / "nope.sqlite", readonly=True)
    assert not (tmp_path / "nope.sqlite").exists()
