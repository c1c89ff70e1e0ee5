"""`Monitor.update` on an in-process deployment (deploy_local) with a small book: quiet when nothing is wrong,
and each injected fault is reported in the update that first sees it: a stale oracle, a feed far from the last
accepted price, a reference model that disagrees with the contracts, a smile changed on chain behind the drift
baseline, old smiles, a pause, a queued change.  Outputs: exit code, JSONL, SQLite history."""
import json
from dataclasses import replace

import boa
import pytest

from reference import market as ref
from vyopt import market as mk
from vyopt.deploy import deploy_local
from vyopt.monitor import EXIT_CODES, History, Monitor, MonitorConfig
from vyopt.monitor import chain as ch
from vyopt.monitor.drift import DriftConfig

from .helpers import market_chain

WAD = 10**18
# two series and the pool per update: one account_state costs ~0.5 s in py-evm (29 scenarios x the pool's legs),
# so the sampled accounts are the expensive part; the healthy-book test samples every account
CFG = MonitorConfig(sample_series=2, sample_accounts=1, drift=DriftConfig(refit=False))


@pytest.fixture(scope="module")
def book():
    """Protocol with 12 series, a 2,000,000 pool, a writer short 5 ATM calls and a trader long 2 puts."""
    p = deploy_local()
    ids = mk.list_chain(p, (36_000, 40_000, 44_000), p.registry.expiries()[:2])
    table = mk.series_table(p.market)
    atm_call = next(i for i in ids if table[i].strike == 40_000 and table[i].is_call)
    put = next(i for i in ids if table[i].strike == 36_000 and not table[i].is_call)
    writer, trader, lp = (boa.env.generate_address(n) for n in ("writer", "trader", "lp"))
    mk.fund_lp(p, lp, 2_000_000)
    mk.fund(p, writer, 150_000)
    mk.fund(p, trader, 50_000)
    p.market.trade(atm_call, -5 * WAD, 0, mk.deadline(), sender=writer)
    p.market.trade(put, 2 * WAD, 2**255 - 1, mk.deadline(), sender=trader)
    return p, [writer, trader]


def _monitor(book, tmp_path, d=None, history=None, cfg=CFG):
    p, accounts = book
    return Monitor(d or p, cfg, history or History(tmp_path / "history.sqlite"), accounts=accounts,
                   jsonl=tmp_path / "alerts.jsonl")


def tick(p, seconds, refresh=True):
    """Let time pass; with refresh, re-post the feed's answer and let the oracle accept it (a keeper's job)."""
    boa.env.time_travel(seconds=seconds)
    if refresh:
        p.feed.set_answer(p.feed.answer())
        p.oracle.update()


def _smiles(p):
    now = boa.env.evm.patch.timestamp
    return {e: ref.smile_from_wad(p.registry.smile(e)) for e in p.registry.expiries() if e > now}


def _chain(p, seed, vol_shift=0.0, smiles=None):
    return market_chain(smiles or _smiles(p), boa.env.evm.patch.timestamp, p.oracle.peek()[0] / WAD, seed=seed,
                        vol_shift=vol_shift)


def _loud(r):
    return [(a["severity"], a["code"]) for a in r["alerts"] if a["severity"] != "info"]


def test_monitor__healthy_book__no_warning_and_contracts_agree_with_reference(book, tmp_path):
    r = _monitor(book, tmp_path, cfg=replace(CFG, sample_series=3, sample_accounts=3)).update()
    assert _loud(r) == [] and r["exit_code"] == 0
    diff = r["observations"]["differential"]
    assert len(diff["series_checked"]) == 3 and diff["accounts_checked"][0] == "pool" and len(diff["accounts_checked"]) == 3
    # the tested agreement level (tests/market: 1e-12 x spot per contract); the alarm sits 1000x above it
    assert max(diff["max_rel_error"].values()) < 1e-12
    assert r["observations"]["oracle"]["status"] == "ok"


def test_monitor__stationary_market_8_updates__raises_nothing(book, tmp_path):
    # the whole update path over 40 minutes of a quiet market (the drift detectors' 200-update run is in
    # test_drift_monitor.py, where an update costs no EVM call)
    p, _ = book
    mon = _monitor(book, tmp_path)
    smiles = _smiles(p)
    for i in range(8):
        tick(p, 300)
        r = mon.update(chain=_chain(p, seed=i, smiles=smiles))
        assert _loud(r) == [], (i, _loud(r))
    assert [x["exit_code"] for x in mon.history.runs()] == [0] * 8
    assert len(mon.history.drift(mon.key)) == 8


def test_monitor__oracle_past_its_heartbeat__critical_in_that_update_and_recorded(book, tmp_path):
    p, _ = book
    mon = _monitor(book, tmp_path)
    assert mon.update()["exit_code"] == 0
    tick(p, p.registry.oracle_heartbeat() + 1, refresh=False)
    r = mon.update()
    assert ("critical", "oracle.status") in _loud(r)
    assert r["observations"]["oracle"]["status"] == "stale price"
    assert r["exit_code"] == EXIT_CODES["critical"] == 2
    lines = [json.loads(x) for x in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    assert any(x["kind"] == "alert" and x["code"] == "oracle.status" and x["run_id"] == r["run_id"] for x in lines)
    assert lines[-1] == {**lines[-1], "kind": "update", "exit_code": 2, "worst": "critical"}
    assert [x["exit_code"] for x in mon.history.runs()] == [0, 2]
    assert any(a["code"] == "oracle.status" for a in mon.history.alerts(r["run_id"]))


@pytest.mark.parametrize("move, severity", [(0.06, "warning"), (0.12, "critical")])
def test_monitor__feed_away_from_last_accepted_price__deviation_alert(book, tmp_path, move, severity):
    p, _ = book
    # max deviation 10%: 6% is beyond half of it (a keeper is late), 12% is a jump the oracle holds back
    p.feed.set_answer(int(p.feed.answer() * (1 + move)))
    r = _monitor(book, tmp_path).update()
    assert (severity, "oracle.deviation") in _loud(r)
    assert r["observations"]["oracle"]["deviation"] == pytest.approx(move, rel=1e-6)


def test_monitor__reference_mark_off_by_one_millionth__differential_critical(book, tmp_path, monkeypatch):
    true_mark = ref.mark
    monkeypatch.setattr(ref, "mark", lambda m, s: true_mark(m, s) * (1 + 1e-6))
    r = _monitor(book, tmp_path).update()
    codes = {c for s, c in _loud(r) if s == "critical"}
    # 1e-6 of an ATM premium (~1,900) is ~2e-3, far above the 4e-5 alarm level
    assert {"diff.mark", "diff.value"} <= codes
    assert r["exit_code"] == 2


class _TamperedRegistry:
    """The registry as a monitor reading the wrong contract would see it: one smile differs."""

    def __init__(self, real, expiry):
        self._real, self._expiry = real, expiry

    def __getattr__(self, name):
        return getattr(self._real, name)

    def smile(self, e):
        a, b, rho, m, sigma = tuple(self._real.smile(e))
        return (a * 105 // 100, b * 105 // 100, rho, m, sigma) if e == self._expiry else (a, b, rho, m, sigma)


def test_monitor__reference_sees_another_smile__differential_and_surface_critical(book, tmp_path):
    p, _ = book
    history = History(tmp_path / "history.sqlite")
    assert _monitor(book, tmp_path, history=history).update()["exit_code"] == 0
    d = ch.from_protocol(p)
    bad = replace(d, registry=_TamperedRegistry(p.registry, p.registry.expiries()[0]))
    r = _monitor(book, tmp_path, d=bad, history=history).update()
    loud = _loud(r)
    assert ("critical", "registry.surface_changed") in loud  # the surface moved, yet no smile_updated_at did
    assert ("critical", "diff.mark") in loud or ("critical", "diff.margin") in loud


def test_monitor__surface_changed_on_chain_behind_the_baseline__drift_alert_in_the_next_update(book, tmp_path):
    p, _ = book
    mon = _monitor(book, tmp_path)
    market = _smiles(p)                       # the market keeps quoting the smiles the baseline was taken on
    for i in range(3):
        tick(p, 300)
        assert _loud(mon.update(chain=_chain(p, seed=i, smiles=market))) == []
    # the risk manager pushes a surface with every total variance x 1.05 (vols x 1.0247, ~1.5 vol points at 60%:
    # within the fast step bound, so each smile waits only the surface delay)
    cids = []
    for e in market:
        a, b, rho, m, sigma = tuple(p.registry.smile(e))
        cids.append(p.registry.queue_smile(e, (a * 105 // 100, b * 105 // 100, rho, m, sigma), b"\x01" * 32,
                                           sender=p.risk_manager))
    tick(p, p.registry.surface_delay())
    for cid in cids:
        p.registry.execute(cid)
    r = mon.update(chain=_chain(p, seed=3, smiles=market))
    codes = {(a["severity"], a["code"]) for a in r["alerts"]}
    assert ("info", "registry.surface_changed") in codes
    assert ("critical", "drift.psi") in codes
    assert all(x["mean_err_vol_pts"] > 1.0 for x in r["drift"]["per_expiry"])


@pytest.mark.parametrize("days, severity", [(1.2, "warning"), (3.5, "critical")])
def test_monitor__old_smiles__age_alert(book, tmp_path, days, severity):
    p, _ = book
    tick(p, int(days * 86400))
    r = _monitor(book, tmp_path).update()
    ages = [a for a in r["alerts"] if a["code"] == "registry.smile_age"]
    assert ages and {a["severity"] for a in ages} == {severity}
    assert r["observations"]["registry"]["oldest_smile_age"] >= days * 86400


def test_monitor__guardian_pause__warning(book, tmp_path):
    p, _ = book
    p.registry.pause(sender=p.guardian)
    assert ("warning", "registry.paused") in _loud(_monitor(book, tmp_path).update())


def test_monitor__queued_parameter_change__reported_as_info(book, tmp_path):
    p, _ = book
    cid = p.registry.queue_param(0, p.registry.im_ratio() + 5 * 10**16, b"\x02" * 32, sender=p.risk_manager)
    r = _monitor(book, tmp_path).update()
    pending = [a for a in r["alerts"] if a["code"] == "registry.pending_change"]
    assert [a["data"]["id"] for a in pending] == [cid] and pending[0]["severity"] == "info"
    assert r["exit_code"] == 0


def test_monitor__loop__returns_the_worst_exit_code_of_its_updates(book, tmp_path):
    p, _ = book
    mon = _monitor(book, tmp_path)
    seen = []

    def sleep(seconds):  # the loop's clock: a stale oracle appears during the second wait
        tick(p, 600 if not seen[1:] else p.registry.oracle_heartbeat() + 1, refresh=not seen[1:])

    code = mon.loop(60, count=3, sleep=sleep, on_result=lambda r: seen.append(r["exit_code"]))
    assert seen == [0, 0, 2] and code == 2


def test_monitor__expiry_passes_between_updates__no_surface_alarm_and_expired_legs_still_agree(book, tmp_path):
    p, _ = book
    mon = _monitor(book, tmp_path, cfg=replace(CFG, sample_accounts=3))
    assert mon.update()["exit_code"] == 0
    first = p.registry.expiries()[0]
    tick(p, first - boa.env.evm.patch.timestamp + 60)
    r = mon.update()
    codes = {(a["severity"], a["code"]) for a in r["alerts"]}
    assert not any(c == "registry.surface_changed" for _, c in codes)   # a smile that expired is no change
    assert ("info", "registry.expired_listed") in codes
    # the writer's call and the trader's put expired unsettled: marked at intrinsic by both the engine and the model
    assert not any(c.startswith("diff.") for _, c in codes)
    assert r["observations"]["differential"]["accounts_checked"][0] == "pool"


def test_monitor__loop__failed_update_reported_as_exit_3_and_the_loop_goes_on(book, tmp_path, monkeypatch):
    from vyopt.monitor import ERROR_EXIT

    mon = _monitor(book, tmp_path)
    real, calls, errors = mon.update, [], []

    def flaky(chain=None):
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("node unreachable")
        return real(chain=chain)

    monkeypatch.setattr(mon, "update", flaky)
    code = mon.loop(1, count=2, sleep=lambda s: None, on_error=errors.append)
    assert code == ERROR_EXIT == 3 and len(calls) == 2 and isinstance(errors[0], ConnectionError)
    lines = [json.loads(x) for x in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    assert lines[0]["kind"] == "error" and "node unreachable" in lines[0]["error"] and lines[-1]["kind"] == "update"


@pytest.mark.parametrize("flags, code", [({"unchecked": False, "fallback": False}, None),
                                         ({"unchecked": True, "fallback": False}, "events.settlement_unchecked"),
                                         ({"unchecked": False, "fallback": True}, "events.settlement_unchecked")])
def test_monitor_events__late_settlement_without_every_check__warning(monkeypatch, flags, code):
    """ExpirySettled with unchecked or fallback (the guardian's late record of a round that failed a check, or
    of the accepted price when no round was proven) is a warning a person reviews; a checked one is not."""
    from vyopt.monitor import checks

    ev = {"contract": "market", "event": "ExpirySettled", "block": 7, "log_index": 0,
          "args": {"expiry": 1_700_000_000, "price": 40_100 * WAD, "price_time": 1_700_000_060, "late": True,
                   "round_id": 0 if flags["fallback"] else 12, **flags}}
    monkeypatch.setattr(ch, "recent_events", lambda d, a, b: [ev])
    d = ch.Deployment(market=None, registry=None, oracle=None, feed=None, backend="ape")
    alerts, _ = checks.events(d, 1, 9)
    codes = [a["code"] for a in alerts if a["severity"] == "warning"]
    assert codes == ([code] if code else []), alerts
    if code:
        assert "40,100.00" in alerts[0]["message"]
