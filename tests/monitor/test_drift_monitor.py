"""The monitor's drift engine (vyopt/monitor/drift.py) on synthetic chains quoted around a known surface: a
stationary market raises nothing over 200 updates; a shifted smile is flagged by PSI and Page-Hinkley within one
update; the baseline and the expiry matching behave as documented."""
import numpy as np
import pytest

from reference import drift as rd
from vyopt import risk
from vyopt.monitor import drift as dr

from .helpers import market_chain

NOW = 1_700_000_000
STEP = 300            # seconds between updates (a 5-minute monitor)
FORWARD = 40_000.0
CFG = dr.DriftConfig(refit=False)


@pytest.fixture(scope="module")
def smiles():
    """The vyopt default surface (six SSVI expiries, 7 to 182 days) as the deployed smiles."""
    expiries, tuples = risk.default_surface(NOW)
    return {e: risk.decode_smile(t) for e, t in zip(expiries, tuples)}


def _run(smiles, n, *, seed0=0, shift_from=None, shift=0.0, state=None):
    """n drift updates, STEP seconds apart; from update `shift_from` on the market quotes vols `shift` points higher."""
    out = []
    for i in range(n):
        now = NOW + i * STEP
        vol_shift = shift if shift_from is not None and i >= shift_from else 0.0
        quotes = dr.load_quotes(market_chain(smiles, now, FORWARD, seed=seed0 + i, vol_shift=vol_shift))
        alerts, obs, state = dr.drift_step(state, quotes, smiles, now, CFG)
        out.append((alerts, obs))
    return out, state


def _loud(alerts):
    return [a for a in alerts if a["severity"] != "info"]


def test_drift__stationary_market_200_updates__no_warning_and_no_alarm(smiles):
    out, state = _run(smiles, 200)
    assert [a for alerts, _ in out for a in _loud(alerts)] == []
    psi = [o["psi"] for _, o in out if o.get("psi") is not None]
    assert len(psi) == 200 - CFG.baseline_updates + 1
    # the bound the bin rule is built for: PSI of same-distribution chains far below the 0.1 band
    assert max(psi) < rd.PSI_MODERATE
    assert not any(o["ph_alarm"] for _, o in out)
    assert state["baseline"]["complete"] and state["baseline"]["bins"] == 1 + out[0][1]["n"] // CFG.per_bin


@pytest.mark.parametrize("shift", [3.0, -3.0])
def test_drift__smile_shifted_by_3_vol_points__psi_critical_in_the_first_shifted_update(smiles, shift):
    out, _ = _run(smiles, 12, seed0=500, shift_from=10, shift=shift)
    assert all(_loud(alerts) == [] for alerts, _ in out[:10])
    codes = {a["code"]: a["severity"] for a in out[10][0]}
    assert codes.get("drift.psi") == "critical"
    # the deployed vols sit 3 points away from the market's: the mean error says so, with its sign
    assert out[10][1]["mean_err_vol_pts"] == pytest.approx(-shift, abs=0.3)


def test_drift__market_vols_3_points_up__page_hinkley_alarms_in_the_first_shifted_update(smiles):
    # RMSE jumps from ~0.35 to ~3 vol points: the increment ~2.4 x 10/11 - 0.1 exceeds lambda = 1 at once
    out, _ = _run(smiles, 12, seed0=700, shift_from=10, shift=3.0)
    assert not any(o["ph_alarm"] for _, o in out[:10])
    assert out[10][1]["ph_alarm"]
    assert any(a["code"] == "drift.page_hinkley" and a["severity"] == "warning" for a in out[10][0])


def test_drift__baseline__fixed_after_three_chains_then_never_moves(smiles):
    out, state = _run(smiles, 3)
    assert [o["psi"] is None for _, o in out] == [True, True, False]
    assert any(a["code"] == "drift.baseline_fixed" for a in out[2][0])
    edges = list(state["baseline"]["edges"])
    out2, state2 = _run(smiles, 2, seed0=50, shift_from=0, shift=2.0, state=state)
    assert state2["baseline"]["edges"] == edges


def test_drift__baseline_chain__psi_from_the_first_update(smiles):
    base = dr.baseline_from(dr.load_quotes(market_chain(smiles, NOW, FORWARD, seed=99)), smiles, NOW, list(smiles), CFG)
    assert base["complete"] and base["updates"] == 1
    alerts, obs, _ = dr.drift_step({"baseline": base}, dr.load_quotes(market_chain(smiles, NOW, FORWARD, seed=1)), smiles,
                                   NOW, CFG)
    assert obs["psi"] is not None and obs["psi"] < rd.PSI_MODERATE and _loud(alerts) == []


def test_drift__chain_of_other_dates__exact_match_warns_tau_match_compares(smiles):
    # the same market quoted 400 days earlier: no expiry date matches; by time to expiry every one does
    other = {e - 400 * 86400: p for e, p in smiles.items()}
    quotes = dr.load_quotes(market_chain(other, NOW - 400 * 86400, FORWARD, seed=3))
    alerts, obs, _ = dr.drift_step(None, quotes, smiles, NOW, CFG)
    assert [a["code"] for a in _loud(alerts)] == ["drift.no_match"] and obs["n"] == 0
    alerts, obs, _ = dr.drift_step(None, quotes, smiles, NOW, dr.DriftConfig(refit=False, expiry_match="tau"))
    assert _loud(alerts) == [] and obs["matched_expiries"] == len(smiles) and obs["rmse_vol_pts"] < 1.0


def test_drift__residuals__zero_for_quotes_at_the_deployed_vols(smiles):
    quotes = dr.load_quotes(market_chain(smiles, NOW, FORWARD, seed=0))
    mapping = dr.match_expiries(quotes, list(smiles), NOW, CFG)
    res = dr.residuals(quotes, smiles, mapping)
    # the chain's noise moves each mid by at most half a half-spread: |z| <= 0.5 up to the vol/price convexity
    assert res["n"] == len(quotes) and np.max(np.abs(res["z"])) < 0.55
    assert res["inside"].all()


def test_drift__refit__recovers_the_deployed_smile_within_the_noise(smiles):
    one = {e: p for e, p in smiles.items() if e == sorted(smiles)[2]}   # one expiry keeps the fit quick
    quotes = dr.load_quotes(market_chain(one, NOW, FORWARD, seed=5))
    _, obs, _ = dr.drift_step(None, quotes, one, NOW, dr.DriftConfig(refit=True))
    refit = obs["refit"]
    # mids sit within half a half-spread (0.25 .. 1 vol pt) of the true vols: a refit inside that noise fits the
    # quotes about as well as the truth does and stays within half a vol point of it at every quote
    assert abs(refit["rmse_vol_pts"] - obs["rmse_vol_pts"]) < 0.1
    assert refit["max_abs_refit_minus_deployed_vol_pts"] < 0.5
