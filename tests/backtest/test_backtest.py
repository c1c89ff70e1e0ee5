"""`backtest`: point-in-time vol proxy, margin and loss series, verdicts, report, ape command."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from reference.scenario_margin import MarginParams, ScenarioGrid
from vyopt import report
from vyopt.backtest import (
    PORTFOLIOS, Settings, VolProxy, backtest, default_prices_path, ewma_vol, load_prices, run_portfolio,
    statistics, vol_proxy,
)

ROOT = Path(__file__).resolve().parents[2]
PRICES = default_prices_path()


@pytest.fixture(scope="module")
def btc():
    return load_prices(PRICES)


def test_load_prices__shared_btc_history__is_daily_and_complete(btc):
    dates, close = btc
    assert dates[0] == np.datetime64("2014-09-17") and dates[-1] == np.datetime64("2022-03-01")
    assert close.size == 2723 and np.all(np.diff(dates).astype(int) == 1)


def test_load_prices__null_rows_are_dropped_and_unsorted_dates_rejected(tmp_path):
    p = tmp_path / "p.csv"
    p.write_text("Date,Close\n2020-01-01,100\n2020-01-02,null\n2020-01-03,101\n")
    d, c = load_prices(p)
    assert list(c) == [100.0, 101.0] and str(d[1]) == "2020-01-03"
    p.write_text("Date,Close\n2020-01-02,100\n2020-01-01,101\n")
    with pytest.raises(ValueError, match="strictly increasing"):
        load_prices(p)


def test_ewma_vol__tiny_series__matches_hand_computation():
    # closes 100, 110, 99, 99, 108.9: r = ln 1.1, ln 0.9, 0, ln 1.1
    # seed (2 returns): var_2 = (0.0953102^2 + 0.1053605^2) / 2 = (0.00908403 + 0.01110084) / 2 = 0.01009244
    # var_3 = 0.94 * 0.01009244 + 0.06 * 0 = 0.00948689
    # var_4 = 0.94 * 0.00948689 + 0.06 * 0.00908403 = 0.00891768 + 0.00054504 = 0.00946272
    v = ewma_vol([100, 110, 99, 99, 108.9], VolProxy(seed_days=2))
    assert np.isnan(v[0]) and np.isnan(v[1])
    np.testing.assert_allclose(v[2:], np.sqrt(365 * np.array([0.01009244, 0.00948689, 0.00946272])), rtol=2e-6)


def test_vol_proxy__is_point_in_time(btc):
    # changing every price after day t must not change the proxy, hence the margin, on days <= t
    _, close = btc
    t = 1500
    shocked = close.copy()
    shocked[t + 1:] *= np.linspace(0.3, 3.0, close.size - t - 1)
    v0, v1 = vol_proxy(close), vol_proxy(shocked)
    np.testing.assert_array_equal(v0[: t + 1], v1[: t + 1])
    assert not np.allclose(v0[t + 1:], v1[t + 1:])
    r0 = run_portfolio(close, v0, PORTFOLIOS["short_strangle"])
    r1 = run_portfolio(shocked, v1, PORTFOLIOS["short_strangle"])
    upto = r0["day"] <= t
    np.testing.assert_array_equal(r0["margin"][upto], r1["margin"][upto])


def test_run_portfolio__loss_is_the_value_change_over_the_horizon(btc):
    _, close = btc
    vol = vol_proxy(close)
    r = run_portfolio(close, vol, PORTFOLIOS["short_put"], Settings(horizon_days=2))
    d = int(r["day"][100])
    from reference.scenario_margin import _black76
    v_now = -_black76(close[d], close[d], 30 / 365, vol[d], False)
    v_later = -_black76(close[d + 2], close[d], 28 / 365, vol[d + 2], False)
    assert r["loss"][100] == pytest.approx(v_now - v_later, rel=1e-12)
    assert r["day"][-1] + 2 == close.size - 1  # the last margin day still has its horizon in the data


def test_backtest__margin_rule_clearly_too_low__lands_in_red(btc):
    # +-1% spot moves, no vol shock, no tail, no floor: a daily BTC move beyond 1% is the rule, not the exception
    _, close = btc
    low = Settings(margin=MarginParams(grid=ScenarioGrid(spot_shocks=(-0.01, 0.0, 0.01), vol_factors=(1.0,), tail=()),
                                       min_margin_fraction=0.0))
    for name in ("short_call", "short_put", "short_strangle"):
        st = statistics(run_portfolio(close, vol_proxy(close), PORTFOLIOS[name], low)["hit"], low)
        assert st["zone"] == "red" and st["rolling_windows"]["worst_zone"] == "red", name
        assert st["exceptions"] > st["expected_exceptions"] and st["kupiec"]["p_value"] < 1e-6


def test_backtest__generous_margin_rule__lands_in_green(btc):
    # the default grid with a 10% floor per short: no 250-day window leaves green
    _, close = btc
    generous = Settings(margin=MarginParams(min_margin_fraction=0.10))
    for name in PORTFOLIOS:
        st = statistics(run_portfolio(close, vol_proxy(close), PORTFOLIOS[name], generous)["hit"], generous)
        assert st["zone"] == "green" and st["rolling_windows"]["worst_zone"] == "green", name


@pytest.fixture(scope="module")
def short_history(tmp_path_factory):
    """The first 700 days of the shared history, as a file (keeps report tests fast)."""
    lines = PRICES.read_text().splitlines()
    path = tmp_path_factory.mktemp("prices") / "btc-short.csv"
    path.write_text("\n".join(lines[:701]) + "\n")
    return path


def test_backtest__report_folder__is_complete_hashed_and_reproducible(short_history, tmp_path):
    s = backtest(short_history, out_dir=tmp_path / "a", settings=Settings(window=100))
    backtest(short_history, out_dir=tmp_path / "b", settings=Settings(window=100))
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert {"backtest.md", "backtest.json", "series.csv"} <= set(names)
    assert sum(n.startswith("loss_vs_margin_") for n in names) == len(PORTFOLIOS)
    for n in names:
        assert (tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes(), n
    doc = json.loads((tmp_path / "a" / "backtest.json").read_text())
    assert doc["content_hash"] == report.content_hash({k: v for k, v in doc.items() if k != "content_hash"})
    assert set(s["portfolios"]) == set(PORTFOLIOS)
    for r in s["portfolios"].values():
        assert r["observations"] == 700 - 30 - 1  # seed window of 30 returns, horizon 1 day
        assert len(r["exception_dates"]) == r["exceptions"]


def load_script(name):
    spec = importlib.util.spec_from_file_location(f"vyopt_script_{name}", ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_backtest_cli__json_flag__prints_the_summary(short_history, tmp_path):
    res = CliRunner(mix_stderr=False).invoke(load_script("backtest").cli, [
        "--prices", str(short_history), "--confidence", "0.95", "--window", "100", "--portfolio", "short_put",
        "--out", str(tmp_path), "--no-plots", "--json"])
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)
    assert list(s["portfolios"]) == ["short_put"]
    r = s["portfolios"]["short_put"]
    assert s["settings"]["confidence"] == 0.95
    assert r["expected_exceptions"] == pytest.approx(0.05 * r["observations"])
    assert r["zone_bounds"]["window"] == 100


def test_ape_run_backtest__help__lists_the_options():
    ape = Path(sys.executable).with_name("ape")
    res = subprocess.run([str(ape), "run", "backtest", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    for opt in ("--prices", "--confidence", "--window", "--horizon", "--json"):
        assert opt in res.stdout
