"""`calibrate` end to end: the shared BTC chain bar, the report folder, reproducibility, the ape command."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from reference.svi import SVI
from vyopt import report
from vyopt.calibration import INSIDE_BAR, calibrate, registry_violations, surface_report
from vyopt.chains import write_generic

from .calib_helpers import TRUE_SMILES, synthetic_chain

ROOT = Path(__file__).resolve().parents[2]


def load_script(name):
    spec = importlib.util.spec_from_file_location(f"vyopt_script_{name}", ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_calibrate__shared_btc_chain__meets_the_90_percent_inside_bid_ask_bar(real_chain_report):
    s, _ = real_chain_report
    ov = s["overall"]
    assert ov["quotes"] >= 100  # the filters keep a real smile on every listed expiry, not a handful
    assert ov["share_inside_bid_ask"] >= INSIDE_BAR == 0.90
    assert ov["inside_bid_ask"] == sum(r["inside_bid_ask"] for r in s["expiries"])
    assert len(s["expiries"]) == 8  # 9 listed expiries; the 13-hour one is below min_days


def test_calibrate__shared_btc_chain__surface_is_arbitrage_free_within_registry_bounds(real_chain_report):
    s, out = real_chain_report
    params = json.loads((out / "params.json").read_text())
    smiles = [(sl["t_years"], SVI(sl["a"], sl["b"], sl["rho"], sl["m"], sl["sigma"])) for sl in params["slices"]]
    # re-checked here from the written parameters, not taken from the report's own verdict
    assert surface_report(smiles)["ok"]
    assert all(registry_violations(p) == [] for _, p in smiles)
    assert s["arbitrage"]["ok"]
    assert [sl["t_years"] for sl in params["slices"]] == sorted(sl["t_years"] for sl in params["slices"])


def test_calibrate__report_folder__has_tables_plots_and_hashed_json_twins(real_chain_report):
    s, out = real_chain_report
    names = {p.name for p in out.iterdir()}
    assert {"calibration.md", "calibration.json", "params.json", "total_variance.png"} <= names
    assert sum(n.startswith("smile_") and n.endswith(".png") for n in names) == len(s["expiries"])
    for name in ("calibration.json", "params.json"):
        doc = json.loads((out / name).read_text())
        body = {k: v for k, v in doc.items() if k != "content_hash"}
        assert doc["content_hash"] == report.content_hash(body)
    assert s["params_hash"] == json.loads((out / "params.json").read_text())["content_hash"]
    md = (out / "calibration.md").read_text()
    assert "inside the bid-ask" in md and "RMSE" in md
    for r in s["expiries"]:
        assert r["expiry"][:10] in md


def test_calibrate__per_expiry_figures__are_consistent(real_chain_report):
    s, _ = real_chain_report
    for r in s["expiries"]:
        assert r["quotes"] >= 5
        assert 0.0 <= r["rmse_vol_pts"] <= r["max_abs_err_vol_pts"]
        assert r["share_inside_bid_ask"] == pytest.approx(r["inside_bid_ask"] / r["quotes"])


@pytest.fixture(scope="module")
def synthetic_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("chain") / "synthetic-chain.csv"
    write_generic(synthetic_chain(noise=1.0, seed=11), path)
    return path


def test_calibrate__same_inputs_twice__give_byte_identical_reports(synthetic_csv, tmp_path):
    calibrate(synthetic_csv, out_dir=tmp_path / "a")
    calibrate(synthetic_csv, out_dir=tmp_path / "b")
    files_a = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files_a == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert any(n.endswith(".png") for n in files_a)
    for name in files_a:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_calibrate_cli__json_flag__prints_the_summary_of_a_generic_chain(synthetic_csv, tmp_path):
    cli = load_script("calibrate").cli
    res = CliRunner(mix_stderr=False).invoke(
        cli, ["--chain", str(synthetic_csv), "--out", str(tmp_path / "r"), "--no-plots", "--json"])
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)
    assert s["tool"] == "calibrate" and s["input"]["format"] == "generic"
    assert s["overall"]["share_inside_bid_ask"] == 1.0  # truth inside every quote (calib_helpers)
    assert len(s["expiries"]) == len(TRUE_SMILES)
    assert json.loads((tmp_path / "r" / "calibration.json").read_text()) == s


def test_calibrate_cli__chain_without_usable_quotes__fails_with_a_reason_and_no_report(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("expiry,timestamp,strike,type,bid,ask,forward\n"
                    "2022-06-24T08:00:00Z,2022-04-20T08:00:00Z,40000,call,0,100,41000\n")
    res = CliRunner(mix_stderr=False).invoke(load_script("calibrate").cli, ["--chain", str(path), "--out", str(tmp_path / "r")])
    assert res.exit_code == 1
    assert "no usable quote left after filtering" in res.stderr
    assert not (tmp_path / "r").exists()


def test_calibrate_cli__missing_chain_file__fails_without_a_report(tmp_path):
    cli = load_script("calibrate").cli
    res = CliRunner(mix_stderr=False).invoke(cli, ["--chain", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "r")])
    assert res.exit_code != 0
    assert not (tmp_path / "r").exists()


def test_ape_run_calibrate__help__lists_the_options():
    ape = Path(sys.executable).with_name("ape")
    res = subprocess.run([str(ape), "run", "calibrate", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    for opt in ("--chain", "--underlying", "--out", "--json"):
        assert opt in res.stdout
