"""propose: reading calibrate's report, and the plan it derives from a registry state, checked against what
the registry (titanoboa) then does with each proposal: a planned queue is accepted on the path predicted
(fast/slow/new), refused and deferred slices are the ones the registry would revert."""
import json

import boa
import numpy as np
import pytest

from reference import risk_registry as rr
from vyopt import risk
from vyopt.maintenance import propose as pr
from vyopt.maintenance.execute import scan

from .helpers import DAY, scaled, ssvi_slices, write_calibration

WAD = 10**18


def _queue_all(reg, pl, reason, sender):
    """Send every planned queue to the registry; return [(proposal, fast flag the registry chose)]."""
    out = []
    for p in pl.by_status("queue"):
        reg.queue_smile(p.expiry, p.new, reason, sender=sender)
        (ev,) = [e for e in reg.get_logs() if type(e).__name__ == "SmileChange"]
        out.append((p, ev.fast))
    return out


def _cal(tmp_path, now, slices, **kw):
    return pr.load_calibration(write_calibration(tmp_path, now, slices, **kw))


# ------------------------------------------------------------------------------------------ reading reports


def _synthetic_chain_csv(path, now):
    """Two expiries of Black-76 quotes from known SSVI smiles, +-1 vol point wide, in the generic CSV format."""
    from vyopt.calibration import black_price

    lines = ["symbol,expiry,timestamp,strike,type,bid,ask,forward"]
    f = 40_000.0
    for e, t, p in ssvi_slices(now, days=(14, 56)):
        for k in np.linspace(-0.6, 0.6, 13):
            vol = float(np.sqrt((p.a + p.b * (p.rho * (k - p.m) + np.hypot(k - p.m, p.sigma))) / t))
            strike = f * float(np.exp(k))
            is_call = k >= 0
            bid = float(black_price(f, strike, t, vol - 0.01, is_call))
            ask = float(black_price(f, strike, t, vol + 0.01, is_call))
            lines.append(f"BTC,{e},{now},{strike!r},{'call' if is_call else 'put'},{bid!r},{ask!r},{f!r}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_load_calibration__calibrate_output__slices_and_its_content_hash_as_reason(tmp_path):
    from vyopt.calibration import calibrate

    now = 1_700_000_000
    summary = calibrate(_synthetic_chain_csv(tmp_path / "chain.csv", now), out_dir=tmp_path / "rep", plots=False)
    cal = pr.load_calibration(tmp_path / "rep" / "calibration.json")
    assert cal.kind == "calibration" and cal.reason_hash == "0x" + summary["content_hash"].split(":")[1]
    assert [s.expiry for s in cal.slices] == [r["expiry_unix"] for r in summary["expiries"]]
    assert cal.slices[0].svi.b == summary["expiries"][0]["params"]["b"]
    assert cal.arbitrage_ok is True and cal.snapshot == now
    par = pr.load_calibration(tmp_path / "rep" / "params.json")  # params.json: same slices, its own hash
    assert par.kind == "params" and par.reason_hash == "0x" + summary["params_hash"].split(":")[1]
    assert [s.svi for s in par.slices] == [s.svi for s in cal.slices]


def test_load_calibration__file_edited_after_calibrate__is_refused(tmp_path):
    path = write_calibration(tmp_path, 1_700_000_000, ssvi_slices(1_700_000_000))
    data = json.loads(path.read_text())
    data["expiries"][0]["params"]["a"] *= 1.1
    path.write_text(json.dumps(data))
    with pytest.raises(pr.ProposalError, match="modified after calibrate"):
        pr.load_calibration(path)


def test_load_calibration__params_file_of_another_calibration__is_refused(tmp_path):
    path = write_calibration(tmp_path, 1_700_000_000, ssvi_slices(1_700_000_000))
    (tmp_path / "params.json").write_text(json.dumps({"content_hash": "sha256:" + "0" * 64}))
    with pytest.raises(pr.ProposalError, match="not the parameter file"):
        pr.load_calibration(path)


# ------------------------------------------------------------------------------------------ planning


def test_plan__calibration_of_the_listed_expiries__fast_changes_the_registry_accepts(calibrated_registry, risk_manager,
                                                                                      tmp_path):
    reg, slices, now = calibrated_registry
    cal = _cal(tmp_path, now, slices)
    pl = pr.plan(cal, pr.read_state(reg, now))
    assert [(p.status, p.path) for p in pl.proposals] == [("queue", "fast")] * 4
    for p in pl.proposals:  # vols up by 1/sqrt(0.95) - 1 = 2.6% (plus the hour of surface delay)
        assert 0.025 < p.max_move_rel < 0.05
    accepted = _queue_all(reg, pl, bytes.fromhex(cal.reason_hash[2:]), risk_manager)
    assert [fast for _, fast in accepted] == [True] * 4


def test_plan__one_slice_moved_beyond_the_fast_step__goes_slow_and_the_registry_agrees(calibrated_registry,
                                                                                       risk_manager, tmp_path):
    reg, slices, now = calibrated_registry
    slices = list(slices)
    e, t, p = slices[2]
    slices[2] = (e, t, scaled(p, 0.95 * 1.25))  # vols +11.8% against the listed smile
    pl = pr.plan(_cal(tmp_path, now, slices), pr.read_state(reg, now))
    assert [p.path for p in pl.proposals] == ["fast", "fast", "slow", "fast"]
    assert pl.proposals[2].eta == now + reg.delay()
    accepted = _queue_all(reg, pl, b"\x01" * 32, risk_manager)
    assert [fast for _, fast in accepted] == [True, True, False, True]


def test_plan__move_beyond_the_slow_step__is_refused_with_the_numbers_or_split_into_an_admissible_step(
        calibrated_registry, risk_manager, tmp_path):
    reg, slices, now = calibrated_registry
    slices = list(slices)
    e, t, p = slices[3]
    slices[3] = (e, t, scaled(p, 0.95 * 2.0))  # the last expiry's vols x 1.41: beyond max(25%, 5 vol pts)
    state = pr.read_state(reg, now)
    refused = pr.plan(_cal(tmp_path, now, slices), state).proposals[3]
    assert refused.status == "refuse"
    assert "vol pts" in refused.reason and "25%" in refused.reason and "--split" in refused.reason
    with pytest.raises(boa.BoaError, match="risk: vol step too large"):  # the registry would indeed refuse it
        reg.queue_smile(e, refused.new, b"\x01" * 32, sender=risk_manager)

    split = pr.plan(_cal(tmp_path, now, slices), state, split=True).proposals[3]
    assert split.status == "queue" and split.path == "slow" and 0.3 < split.step_fraction < 1.0
    old = state.smiles[e]
    assert all(min(o, n) <= b <= max(o, n) for o, n, b in zip(old, refused.new, split.new))  # a blend
    reg.queue_smile(e, split.new, b"\x01" * 32, sender=risk_manager)  # accepted
    # the step is the largest admissible at 1/1024 resolution: a blend 1% further breaks the step bound
    further = tuple(int(o + round(min(1.0, split.step_fraction + 0.01) * (n - o))) for o, n in zip(old, refused.new))
    tau_new = e - (now + reg.delay())
    assert rr.vol_step_slack(old, e - state.written_at[e], further, tau_new, rr.SLOW_STEP) < 0


def test_plan__unchanged_unlisted_and_expired_slices__are_skipped(calibrated_registry, tmp_path):
    reg, slices, now = calibrated_registry
    listed_same = [(e, t, risk.decode_smile(reg.smile(e))) for e, t, _ in slices[:1]]
    unlisted = [(slices[-1][0] + 35 * DAY, 0.3, risk.ssvi_smile(0.36 * 0.3, -0.3, 1.0))]
    expired = [(now - DAY, 0.01, slices[0][2])]
    pl = pr.plan(_cal(tmp_path, now, listed_same + unlisted + expired), pr.read_state(reg, now))
    got = {p.expiry: (p.status, p.reason) for p in pl.proposals}
    assert got[slices[0][0]] == ("skip", "unchanged")
    assert got[unlisted[0][0]][0] == "skip" and "--list-new" in got[unlisted[0][0]][1]
    assert got[expired[0][0]][0] == "skip" and "expired" in got[expired[0][0]][1]
    assert pl.unlisted_not_calibrated == [e for e, _, _ in slices[1:]]


def test_plan__list_new__queues_a_new_expiry_on_the_normal_delay(calibrated_registry, risk_manager, tmp_path):
    reg, slices, now = calibrated_registry
    e_new = slices[-1][0] + 35 * DAY
    t = (e_new - now) / (365 * DAY)
    pl = pr.plan(_cal(tmp_path, now, [(e_new, t, risk.ssvi_smile(0.36 * t, -0.3, 1.0))]), pr.read_state(reg, now),
                 list_new=True)
    (p,) = pl.proposals
    assert (p.status, p.path, p.eta) == ("queue", "new", now + reg.delay())
    assert [fast for _, fast in _queue_all(reg, pl, b"\x01" * 32, risk_manager)] == [False]


def test_plan__pending_changes__same_payload_skipped_other_payload_refused(calibrated_registry, risk_manager, tmp_path):
    reg, slices, now = calibrated_registry
    cal = _cal(tmp_path, now, slices)
    first = pr.plan(cal, pr.read_state(reg, now))
    _queue_all(reg, first, b"\x01" * 32, risk_manager)
    again = pr.plan(cal, pr.read_state(reg, now))
    assert all(p.status == "skip" and "already queued" in p.reason for p in again.proposals)
    other = list(slices)
    other[0] = (other[0][0], other[0][1], scaled(other[0][2], 1.01))
    p0 = pr.plan(_cal(tmp_path / "b", now, other), pr.read_state(reg, now)).proposals[0]
    assert p0.status == "refuse" and "pending" in p0.reason


def test_plan__calendar_breach_against_a_neighbours_old_smile__deferred_until_it_executes(
        admin, risk_manager, guardian, keeper, tmp_path):
    """Two expiries close in variance: the short one's new smile lies above the long one's *old* smile (a
    calendar breach now) but below its new one.  propose defers the short one and queues the long one; once
    that executes, propose queues the short one and the registry accepts it."""
    now = boa.env.evm.patch.timestamp
    e1, e2 = (now + 20 * DAY) // DAY * DAY + 8 * 3600, (now + 30 * DAY) // DAY * DAY + 8 * 3600
    theta2 = 0.36 * (e2 - now) / (365 * DAY)
    new1, new2 = risk.ssvi_smile(0.9 * theta2, -0.3, 1.0), risk.ssvi_smile(theta2, -0.3, 1.0)
    reg = risk.deploy_registry(admin, risk_manager, guardian, expiries=[e1, e2],
                               smiles=[risk.encode_smile(scaled(new1, 0.75)), risk.encode_smile(scaled(new2, 0.75))])
    cal = _cal(tmp_path, now, [(e1, 0.05, new1), (e2, 0.08, new2)])
    pl = pr.plan(cal, pr.read_state(reg, now))
    assert [(p.status, p.path) for p in pl.proposals] == [("defer", "slow"), ("queue", "slow")]
    with pytest.raises(boa.BoaError, match="risk: calendar arbitrage"):  # indeed refused today
        reg.queue_smile(e1, pl.proposals[0].new, b"\x01" * 32, sender=risk_manager)
    _queue_all(reg, pl, b"\x01" * 32, risk_manager)
    boa.env.time_travel(seconds=reg.delay())
    (row,) = scan(reg, boa.env.evm.patch.timestamp)["matured"]
    reg.execute(row["change_id"], sender=keeper)
    later = pr.plan(cal, pr.read_state(reg, boa.env.evm.patch.timestamp))
    assert [p.status for p in later.proposals] == ["queue", "skip"], later.proposals[0].reason
    reg.queue_smile(e1, later.proposals[0].new, b"\x01" * 32, sender=risk_manager)


def test_plan__stale_or_arbitrageable_calibration__is_refused_whole(calibrated_registry, tmp_path):
    reg, slices, now = calibrated_registry
    old = [(e - 10 * DAY, t, p) for e, t, p in slices]
    with pytest.raises(pr.ProposalError, match="days old"):
        pr.plan(_cal(tmp_path / "a", now - 10 * DAY, old), pr.read_state(reg, now))
    with pytest.raises(pr.ProposalError, match="arbitrage"):
        pr.plan(_cal(tmp_path / "b", now, slices, arbitrage_ok=False), pr.read_state(reg, now))


def test_plan__historical_calibration_rebased_by_whole_days__lands_on_the_listed_expiries(calibrated_registry,
                                                                                          tmp_path):
    """A rehearsal with an old chain: the snapshot 400 days ago plus 400 days is today; expiries keep 08:00 UTC."""
    reg, slices, now = calibrated_registry
    past = [(e - 400 * DAY, t, p) for e, t, p in slices]
    cal = _cal(tmp_path, now - 400 * DAY, past)
    assert pr.auto_rebase_days(cal.snapshot, now) == 400
    pl = pr.plan(cal, pr.read_state(reg, now), rebase_days=400)
    assert [p.expiry for p in pl.proposals] == [e for e, _, _ in slices]
    assert [p.status for p in pl.proposals] == ["queue"] * 4 and pl.rebase_days == 400


# ------------------------------------------------------------------------------------------ execute: scan


def test_scan__changes_by_state__waiting_then_matured_then_lapsed(calibrated_registry, risk_manager, tmp_path):
    reg, slices, now = calibrated_registry
    _queue_all(reg, pr.plan(_cal(tmp_path, now, slices), pr.read_state(reg, now)), b"\x01" * 32, risk_manager)
    sd = reg.surface_delay()
    assert [len(v) for v in scan(reg, now + sd - 1).values()] == [0, 4, 0]
    assert [len(v) for v in scan(reg, now + sd).values()] == [4, 0, 0]
    assert [len(v) for v in scan(reg, now + 2 * sd + 1).values()] == [0, 0, 4]  # fast: deadline eta + surface_delay
    row = scan(reg, now + sd)["matured"][0]
    assert row["kind"] == "smile" and row["fast"] and row["reason_hash"] == "0x" + "01" * 32
