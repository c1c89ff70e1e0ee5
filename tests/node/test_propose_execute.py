"""propose -> execute -> verify end to end on the local anvil node through ape (issue 6: "the propose -> execute
path runs end-to-end on the local anvil node through ape").

The rehearsal a risk manager would run with the shared 2022 Deribit chain on a node whose clock is today:
calibrate the chain; list its expiries in a fresh RiskRegistry shifted by a whole number of days (the
registry can only hold future expiries; `--rebase-days` applies the same shift to the calibration, so every
slice keeps its time to expiry within half a day and its expiry time of day); seed the registry with
"yesterday's" smiles (total variance x 0.95 -> vols 2.5% lower: fast path; one expiry x 0.8 -> vols 10.6%
lower: slow path).  Then, through the real commands in subprocesses where it matters:
    ape run propose  -> 8 queue transactions, 8 records (7 fast, 1 slow)
    (1 hour later)   -> the 7 fast changes executed in process by vyopt.maintenance.execute
    (1 day later)    ape run execute -> the slow change
    verify (in process) -> PASS: 16 events, 16 records
    ape run maintenance-log verify on a copy of the log with one record removed -> FAIL, exit 1, the change
    and the broken chain named.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from reference.svi import SVI
from vyopt.contracts import ROOT
from vyopt.maintenance import MaintenanceLog
from vyopt.maintenance import propose as pr

pytestmark = pytest.mark.node

APE = shutil.which("ape") or str(Path(sys.executable).parent / "ape")
DERIBIT = ROOT / ".." / "shared" / "data" / "market" / "deribit-btc-options-2022-04-20.csv"
SLOW_INDEX = 3  # the 36-day expiry starts 10.6% below its calibration: beyond the fast step, within the slow one


def _ape(*args, url):
    env = {**os.environ, "PATH": f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}",
           "VVM_BINARY_PATH": str(ROOT / ".build" / "vvm"), "MPLBACKEND": "Agg"}
    return subprocess.run([APE, "run", *args, "--network", url], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def _json_out(res) -> dict:
    assert res.stdout.strip(), res.stderr[-3000:]
    return json.loads(res.stdout[res.stdout.index("{"):])


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory):
    from ape import accounts, chain, networks

    from vyopt import risk
    from vyopt.calibration import calibrate
    from vyopt.deploy import fresh_containers
    from vyopt.maintenance import execute as ex

    provider = networks.active_provider
    if provider is None or provider.name != "foundry":
        pytest.fail("the ape pytest plugin should have connected to ethereum:local:foundry (ape-config.yaml)")
    url = getattr(provider, "http_uri", None) or provider.uri
    tmp = tmp_path_factory.mktemp("maintenance")
    calibrate(DERIBIT, out_dir=tmp / "calibration", plots=False)
    cal_path = tmp / "calibration" / "calibration.json"
    cal = pr.load_calibration(cal_path)

    admin, risk_manager, guardian, keeper = accounts.test_accounts[:4]
    days = pr.auto_rebase_days(cal.snapshot, chain.pending_timestamp)
    expiries = [s.expiry + days * pr.DAY for s in cal.slices]
    smiles = [risk.encode_smile(SVI(s.svi.a * c, s.svi.b * c, s.svi.rho, s.svi.m, s.svi.sigma))
              for s, c in ((s, 0.8 if i == SLOW_INDEX else 0.95) for i, s in enumerate(cal.slices))]
    args = risk.registry_constructor_args(admin.address, risk_manager.address, guardian.address,
                                          now=chain.pending_timestamp, expiries=expiries, smiles=smiles)
    # explicit gas: anvil's gas estimate of this constructor runs the expiry checks at a different timestamp
    registry = fresh_containers(["RiskRegistry"])["RiskRegistry"].deploy(*args, sender=admin, gas=25_000_000)
    log_path = tmp / "log.sqlite"
    common = ["--registry", str(registry.address), "--log", str(log_path)]

    proposed = _ape("propose", "--calibration", str(cal_path), "--rebase-days", str(days), "--account", "TEST::1",
                    "--who", "risk desk (test)", "--json", *common, url=url)
    assert proposed.returncode == 0, proposed.stdout[-3000:] + proposed.stderr[-3000:]

    chain.mine(deltatime=registry.surface_delay() + 1)
    fast = ex.execute(registry, keeper, MaintenanceLog(log_path), network=provider.network.choice,
                      chain_id=chain.chain_id, who_name="keeper (test)")

    chain.mine(deltatime=registry.delay())
    executed = _ape("execute", "--account", "TEST::3", "--json", *common, url=url)
    assert executed.returncode == 0, executed.stdout[-3000:] + executed.stderr[-3000:]

    return {"url": url, "tmp": tmp, "cal": cal, "registry": registry, "days": days, "log_path": log_path,
            "proposed": _json_out(proposed), "fast": fast, "executed": _json_out(executed), "common": common}


def test_propose__rebased_deribit_calibration__queues_every_slice_with_the_report_hash(rehearsal):
    out = rehearsal["proposed"]
    assert out["calibration"]["reason_hash"] == rehearsal["cal"].reason_hash
    assert [p["status"] for p in out["proposals"]] == ["queue"] * 8
    assert [p["path"] for p in out["proposals"]] == ["slow" if i == SLOW_INDEX else "fast" for i in range(8)]
    assert [r["status"] for r in out["results"]] == ["queued"] * 8
    assert [r["change_id"] for r in out["results"]] == list(range(1, 9))
    recs = MaintenanceLog(rehearsal["log_path"]).records()
    queued = [r for r in recs if r.action == "queue"]
    assert len(queued) == 8 and {r.report_sha256 for r in queued} == {rehearsal["cal"].reason_hash}
    assert all("REHEARSAL" in r.why and r.details["rebase_days"] == rehearsal["days"] for r in queued)
    assert all(r.who_name == "risk desk (test)" for r in queued)
    print("gas of queue_smile transactions (node, incl. 21k + calldata):", [r["gas_used"] for r in out["results"]])


def test_execute__after_the_surface_delay_the_fast_changes__after_the_delay_the_slow_one(rehearsal):
    fast = rehearsal["fast"]
    assert sorted(r["change_id"] for r in fast["executed"]) == [i + 1 for i in range(8) if i != SLOW_INDEX]
    assert [r["change_id"] for r in fast["waiting"]] == [SLOW_INDEX + 1] and fast["reverting"] == []
    later = rehearsal["executed"]
    assert [(r["change_id"], r["status"]) for r in later["executed"]] == [(SLOW_INDEX + 1, "executed")]
    assert later["waiting"] == [] and later["lapsed"] == [] and later["reverting"] == []
    print("gas of execute transactions (node):", [r["gas_used"] for r in fast["executed"] + later["executed"]])


def test_execute__registry_now_holds_the_calibrated_surface(rehearsal):
    from vyopt import risk

    reg, days = rehearsal["registry"], rehearsal["days"]
    for s in rehearsal["cal"].slices:
        assert tuple(reg.smile(s.expiry + days * pr.DAY)) == risk.encode_smile(s.svi)


def test_verify__clean_log__every_event_matched_to_its_record(rehearsal, tmp_path):
    """In process (the command below runs the same vyopt.maintenance.verify; one subprocess less)."""
    from vyopt.maintenance import verify as vf

    v = vf.verify(rehearsal["registry"], MaintenanceLog(rehearsal["log_path"]))
    assert v["ok"] and v["verdict"] == "PASS" and v["mismatches"] == []
    assert v["events"] == 16 and v["matched"] == 16 and v["log"]["chain_intact"]
    assert v["genesis_events"] == 11 + 1 + 3 + 8  # params, grid, roles, smiles: logged by the constructor
    md, _ = vf.write_report(v, tmp_path)
    assert md.read_text().count("| yes |") == 16


def test_verify__log_with_a_record_removed__fails_with_exit_code_1_naming_the_change(rehearsal, tmp_path):
    tampered = tmp_path / "log.sqlite"
    shutil.copy(rehearsal["log_path"], tampered)
    victim = MaintenanceLog(tampered).records()[9]  # the record of an execution
    con = sqlite3.connect(tampered)
    con.isolation_level = None
    con.execute("DROP TRIGGER records_no_delete")
    con.execute("DELETE FROM records WHERE id = ?", (victim.id,))
    con.close()
    common = [a if a != str(rehearsal["log_path"]) else str(tampered) for a in rehearsal["common"]]
    res = _ape("maintenance-log", "verify", "--out", str(tmp_path / "verify"), "--json", *common, url=rehearsal["url"])
    assert res.returncode == 1, res.stdout[-3000:] + res.stderr[-3000:]
    v = _json_out(res)
    kinds = {(m["type"], m["change_id"], m["action"]) for m in v["mismatches"]}
    assert ("change without record", victim.change_id, victim.action) in kinds
    assert any(m["type"] == "log chain broken" and m["record_id"] == victim.id + 1 for m in v["mismatches"])
    assert v["verdict"] == "FAIL" and not v["log"]["chain_intact"]


def test_backfill__change_made_outside_the_tools__flagged_then_recorded_then_verified(rehearsal, tmp_path):
    """A risk manager queues a parameter change from a console: verify flags it; `maintenance-log record`
    (vyopt.maintenance.chain.backfill, in process) adds its record once the report matches; verify passes.
    Runs last: ape's isolation reverts the extra transaction after the test, the log is a copy."""
    from ape import accounts

    from vyopt import report
    from vyopt.maintenance import verify as vf
    from vyopt.maintenance.chain import backfill

    reg = rehearsal["registry"]
    log = MaintenanceLog(shutil.copy(rehearsal["log_path"], tmp_path / "log.sqlite"))
    memo = tmp_path / "memo.json"
    h = report.write_json(memo, {"tool": "backtest", "note": "min margin 2% -> 2.1% after the April exceptions"})
    other = tmp_path / "other.json"
    report.write_json(other, {"tool": "backtest", "note": "something else"})
    receipt = reg.queue_param(1, 21 * 10**15, bytes.fromhex(h.split(":")[1]), sender=accounts.test_accounts[1])
    v = vf.verify(reg, log)
    got = [(m["type"], m["kind"], m["key"]) for m in v["mismatches"]]
    assert got == [("change without record", "param", "min_margin")]
    with pytest.raises(ValueError, match="not what justified the change"):
        backfill(reg, receipt.txn_hash, log, why="console change", report_path=other)
    (rec,) = backfill(reg, receipt.txn_hash, log, why="console change during the incident", report_path=memo)
    assert rec.details["backfilled"] and rec.report_sha256 == "0x" + h.split(":")[1]
    assert backfill(reg, receipt.txn_hash, log, why="again", report_path=memo) == []  # idempotent
    assert vf.verify(reg, log)["ok"]
