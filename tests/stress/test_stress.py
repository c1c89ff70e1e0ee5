"""The stress test (vyopt/stress.py) on an in-process deployment: a naked short call is short-falled under +100%,
the same call hedged by a long call of a higher strike much less; totals add up; liquidation flags and values agree
with the reference model called account by account; the YAML scenario format; the report files."""
import json
import math

import boa
import numpy as np
import pytest

from reference import market as ref
from vyopt import market as mk
from vyopt import stress
from vyopt.deploy import deploy_local
from vyopt.monitor import chain as ch

WAD = 10**18


@pytest.fixture(scope="module")
def book():
    """Spot 40,000; a 2,000,000 pool; naked: 150,000 collateral, short 5 ATM calls (7 days); hedged: 150,000,
    short 5 ATM calls and long 5 calls struck at 44,000 (a call spread: it can lose at most 5 x 4,000 on the
    calls); a put buyer with 20,000."""
    p = deploy_local()
    ids = mk.list_chain(p, (36_000, 40_000, 44_000), p.registry.expiries()[:1])
    table = mk.series_table(p.market)
    sid = {(s.strike, s.is_call): i for i, s in table.items() if i in ids}
    naked, hedged, buyer, lp = (boa.env.generate_address(n) for n in ("naked_writer", "hedged_writer", "put_buyer", "lp"))
    mk.fund_lp(p, lp, 2_000_000)
    for who, tokens in ((naked, 150_000), (hedged, 150_000), (buyer, 20_000)):
        mk.fund(p, who, tokens)
    big = 2**255 - 1
    p.market.trade(sid[(40_000, True)], -5 * WAD, 0, mk.deadline(), sender=naked)
    p.market.trade(sid[(44_000, True)], 5 * WAD, big, mk.deadline(), sender=hedged)
    p.market.trade(sid[(40_000, True)], -5 * WAD, 0, mk.deadline(), sender=hedged)
    p.market.trade(sid[(36_000, False)], 3 * WAD, big, mk.deadline(), sender=buyer)
    return p, {"naked": naked, "hedged": hedged, "buyer": buyer}


@pytest.fixture(scope="module")
def result(book):
    p, who = book
    return stress.run_stress(ch.from_protocol(p), list(who.values()), stress.extended_grid())


def _acc(result, address):
    return next(a for a in result["accounts"] if a["address"] == ch.addr(address))


def _col(result, name):
    return [s["name"] for s in result["scenarios"]].index(name)


def test_extended_grid__moves_from_minus_66_to_plus_500_percent_times_three_vol_factors():
    g = stress.extended_grid()
    assert len(g) == 36 and len({s.name for s in g}) == 36
    assert sorted({s.spot_move for s in g}) == [-0.66, -0.5, -0.33, -0.2, -0.1, 0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0]
    assert sorted({s.vol_factor for s in g}) == [1.0, 1.5, 2.0]


def test_shocked_state__sticky_strike__vol_at_every_strike_times_the_factor_and_spot_moved(book):
    p, _ = book
    m = mk.reference_state(p)
    shocked = stress.shocked_state(m, 0.5, 1.5)
    assert shocked.spot == pytest.approx(m.spot * 1.5, rel=1e-15)
    for e in m.smiles:
        for strike in (20_000.0, 36_000.0, 40_000.0, 60_000.0, 120_000.0):
            s = ref.Series(strike, e, True)
            assert ref.surface_vol(shocked, s) == pytest.approx(1.5 * ref.surface_vol(m, s), rel=1e-12)


def test_stress__naked_short_call_plus_100_percent__shortfall_of_the_intrinsic_loss_and_liquidated(book, result):
    _, who = book
    a = _acc(result, who["naked"])
    j = _col(result, "S+100% vol x1")
    # at 80,000 the 40,000 call is 40,000 in the money and 7 days out: its time value is below 1 per contract
    # (d1 > 4 at 60% vol), so value' = collateral - 5 x 40,000 - (less than 5)
    want = 5 * 40_000 - a["collateral"]
    assert want <= a["shortfall"][j] < want + 5.0
    assert a["liquidated"][j]
    assert not a["liquidated"][_col(result, "S+0% vol x1")]


def test_stress__hedged_short_call__much_smaller_loss_and_no_shortfall(book, result):
    _, who = book
    naked, hedged = _acc(result, who["naked"]), _acc(result, who["hedged"])
    for name in ("S+100% vol x1", "S+200% vol x2", "S+500% vol x1"):
        j = _col(result, name)
        assert hedged["shortfall"][j] == 0.0 < naked["shortfall"][j]
        # the spread loses at most 5 x 4,000 against its value now (the long leg's premium is already paid)
        assert hedged["value_now"] - hedged["values"][j] <= 5 * 4_000 + 1e-6
        assert naked["value_now"] - naked["values"][j] > 5 * 4_000 * 5
    # +500%: the naked writer owes 5 x 200,000 against 150,000 of collateral and the premium
    assert hedged["max_shortfall"] == 0.0 and naked["max_shortfall"] > 800_000


def test_stress__totals__add_up_per_scenario(book, result):
    for j, s in enumerate(result["per_scenario"]):
        shortfalls = [a["shortfall"][j] for a in result["accounts"]]
        assert s["total_shortfall"] == pytest.approx(math.fsum(shortfalls), abs=1e-9)
        assert s["covered_by_insurance"] == min(s["total_shortfall"], result["chain"]["insurance_fund"])
        assert s["covered_by_insurance"] + s["socialized"] == pytest.approx(s["total_shortfall"], abs=1e-9)
        assert s["pool_value_after"] == pytest.approx(s["pool_value"] - s["socialized"], abs=1e-9)
        assert s["pool_solvent"] == (s["pool_value_after"] >= 0)
        assert s["accounts_liquidated"] == sum(a["liquidated"][j] for a in result["accounts"])
        # the pool is every trade's counterparty: with every holder in the list, the P&Ls cancel
        assert abs(s["pnl_accounts"] + s["pnl_pool"]) <= 1e-9 * (abs(s["pnl_pool"]) + 1e6)
    assert result["conservation"]["complete_account_list"]


def test_stress__values_and_liquidation_flags__agree_with_the_reference_called_per_account(book, result):
    p, who = book
    d = ch.from_protocol(p)
    table = ch.series_table(d)
    m = ch.reference_state(d, now=result["chain"]["time"], table=table)
    for name in ("S-66% vol x2", "S-20% vol x1.5", "S+0% vol x1", "S+25% vol x1", "S+50% vol x1.5", "S+100% vol x2"):
        j = _col(result, name)
        sc = result["scenarios"][j]
        shocked = stress.shocked_state(m, sc["spot_move"], sc["vol_factor"])
        for address in who.values():
            cash, pos = ch.book(d, address, table)
            a = _acc(result, address)
            v, mm = ref.account_value(shocked, cash, pos), ref.maintenance(shocked, pos)
            # the stress sums per-series unit values; the reference sums legs: the same float64 terms regrouped
            tol = 1e-9 * (abs(v) + mm + 1.0)
            assert a["values"][j] == pytest.approx(v, abs=tol) and a["maintenance"][j] == pytest.approx(mm, abs=tol)
            assert a["liquidated"][j] == (v < mm)


def test_stress__value_now__matches_the_contract(book, result):
    # the unshocked reference value of each account against the market's account_state (tests/market: 1e-12 x spot)
    for a in result["accounts"]:
        assert a["value_now"] == pytest.approx(a["onchain"]["value"], abs=1e-9 * 40_000 * 10)
        assert a["maintenance_now"] == pytest.approx(a["onchain"]["maintenance"], abs=1e-9 * 40_000 * 10)


def test_stress__insurance_fund__pays_first_then_the_pool(book):
    p, who = book
    p.collateral.mint(boa.env.eoa, mk.token_amount(p.collateral, 50_000))
    p.collateral.approve(p.market.address, 2**256 - 1)
    p.market.fund_insurance(mk.token_amount(p.collateral, 50_000))
    # +200%: the naked writer owes ~5 x 80,000 - 150,000, far beyond the fund; +10%: nobody is short of value
    r = stress.run_stress(ch.from_protocol(p), list(who.values()),
                          [stress.Scenario("up 200%", 2.0, 1.0), stress.Scenario("up 10%", 0.1, 1.0)])
    big, small = r["per_scenario"]
    assert r["chain"]["insurance_fund"] == 50_000
    assert big["total_shortfall"] > 200_000
    assert big["covered_by_insurance"] == 50_000 and big["socialized"] == pytest.approx(big["total_shortfall"] - 50_000)
    assert small["total_shortfall"] == small["covered_by_insurance"] == small["socialized"] == 0.0


def test_stress__account_list_without_a_holder__flagged_incomplete(book):
    p, who = book
    r = stress.run_stress(ch.from_protocol(p), [who["naked"]], [stress.Scenario("flat", 0.0, 1.0)])
    c = r["conservation"]
    assert not c["complete_account_list"]
    # the hedged writer's 44,000 call and the buyer's put are held by no listed account
    assert {(u["strike"], u["is_call"]) for u in c["uncovered_positions"]} >= {(44_000.0, True), (36_000.0, False)}


SCENARIOS_YAML = """
include_grid: false
scenarios:
  - name: crash
    spot_move: -0.5
    vol_factor: 2.0
    description: March 2020
  - name: to 80k
    spot_price: 80000
    vol_shock: 0.0
"""


def test_load_scenarios__documented_format__parsed(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(SCENARIOS_YAML)
    scs, grid = stress.load_scenarios(f)
    assert grid is False
    assert [(s.name, s.spot_move, s.spot_price, s.vol_factor, s.source) for s in scs] == [
        ("crash", -0.5, None, 2.0, "user"), ("to 80k", None, 80000.0, 1.0, "user")]
    assert scs[1].move(40_000.0) == 1.0
    assert stress.parse_scenarios([{"name": "x", "spot_move": 0.1}])[0][0].vol_factor == 1.0


@pytest.mark.parametrize("doc, reason", [
    ({"scenarios": [{"name": "a", "spot_move": 0.1}, {"name": "a", "spot_move": 0.2}]}, "duplicate"),
    ({"scenarios": [{"name": "a", "spot_move": 0.1, "spot_price": 5}]}, "exactly one of spot_move, spot_price"),
    ({"scenarios": [{"name": "a"}]}, "exactly one of spot_move, spot_price"),
    ({"scenarios": [{"name": "a", "spot_move": -1.0}]}, "above -1"),
    ({"scenarios": [{"name": "a", "spot_move": 0.1, "vol_shock": -1.0}]}, "vol factor must be positive"),
    ({"scenarios": [{"name": "a", "spot_move": 0.1, "vol_factor": 2, "vol_shock": 1}]}, "at most one"),
    ({"scenarios": [{"name": "a", "spot_move": "big"}]}, "finite number"),
    ({"scenarios": [{"name": "a", "spot_move": 0.1, "colour": "red"}]}, "unknown key"),
    ({"scenario": []}, "unknown top-level"),
    ({"scenarios": [{"spot_move": 0.1}]}, "name is required"),
])
def test_parse_scenarios__bad_document__refused_with_its_reason(doc, reason):
    with pytest.raises(ValueError, match=reason):
        stress.parse_scenarios(doc)


def test_stress__user_scenario_as_absolute_price__equals_the_grid_move(book, tmp_path):
    p, who = book
    f = tmp_path / "s.yaml"
    f.write_text(SCENARIOS_YAML)
    out = tmp_path / "report"
    r = stress.stress(p, list(who.values()), scenarios_file=f, out_dir=out, plots=False)
    assert [s["name"] for s in r["scenarios"]] == ["crash", "to 80k"]   # include_grid: false
    grid = stress.run_stress(ch.from_protocol(p), list(who.values()), [stress.Scenario("S+100% vol x1", 1.0, 1.0)])
    assert r["per_scenario"][1]["total_shortfall"] == pytest.approx(grid["per_scenario"][0]["total_shortfall"], rel=1e-12)
    assert r["input"]["scenarios_file"] == "s.yaml"


def test_stress__report__markdown_json_twin_and_heatmap(book, tmp_path):
    p, who = book
    r = stress.stress(p, list(who.values()), out_dir=tmp_path)
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["content_hash"].startswith("sha256:") and data["content_hash"] == r["content_hash"]
    assert len(data["per_scenario"]) == 36 and len(data["accounts"]) == 3
    md = (tmp_path / "report.md").read_text()
    assert "Worst scenario" in md and "## Per scenario" in md and "heatmap.png" in md
    assert (tmp_path / "heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # reproducible: the same chain state gives the same files, byte for byte
    stress.stress(p, list(who.values()), out_dir=tmp_path / "again")
    for name in ("report.json", "report.md", "heatmap.png"):
        assert (tmp_path / "again" / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_stress__no_scenario__refused(book, tmp_path):
    p, who = book
    f = tmp_path / "empty.yaml"
    f.write_text("include_grid: false\nscenarios: []\n")
    with pytest.raises(ValueError, match="no scenario"):
        stress.stress(p, list(who.values()), scenarios_file=f, out_dir=tmp_path)


def test_stress__numbers_are_finite(result):
    for a in result["accounts"]:
        assert np.all(np.isfinite(a["values"])) and np.all(np.isfinite(a["maintenance"]))
