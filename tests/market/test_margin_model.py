"""Model risk of the margin's scenario rule: sticky strike (the contract's rule: a scenario multiplies the vol of
each strike by 1 + dv and leaves the smile where it is) against sticky moneyness (the smile moves with the spot:
a strike's vol is read at ln(K / S') after the shock), both computed in the reference model on the default
registry surface (SSVI, 60 % ATM, rho -0.3) and the default 29-scenario grid.

With negative skew, a spot rise moves a fixed call strike toward lower moneyness, where the smile is higher, so
sticky moneyness raises the call's vol where sticky strike does not: sticky strike under-margins short calls
and strangles; a spot fall does the opposite for puts.  The grid's vol-up rows cover part of it.  The gap is
measured here, written to reports/market/margin_model.json, and bounded so a grid or surface change that makes
it worse fails this test (the bound is the README's stated figure, not a value read off the code under test).
"""
import json
import math
from pathlib import Path

from reference import black_scholes as bs
from reference import market as ref
from vyopt import risk

REPORT = Path(__file__).resolve().parents[2] / "reports" / "market"
NOW = 1_800_000_000
# README: "sticky strike margins every representative book at >= 80 % of its sticky-moneyness margin"
FLOOR = 0.80


def _sticky_moneyness_maintenance(m, positions):
    """Maintenance with the smile moving with the spot (same grid, same floor per short contract)."""
    worst = 0.0
    for ds, dv in m.grid.pairs:
        s1 = m.spot * (1 + ds)
        loss = 0.0
        for s, q in positions.items():
            t = m.tau_years(s)
            vol = ref.surface_vol(ref.with_spot(m, s1), s) * (1 + dv)
            loss += q * (ref.mark(m, s) - float(bs.price_f64(s1, s.strike, vol, t, 0.0, s.is_call)))
        worst = max(worst, loss)
    return worst + m.params.min_margin * m.spot * sum(-q for q in positions.values() if q < 0)


def test_margin_model__sticky_strike_vs_sticky_moneyness__gap_measured_and_bounded():
    expiries, smiles = risk.default_surface(NOW, days=(7, 28, 91))
    m = ref.state_from_wad(40_000 * 10**18, NOW, dict(zip(expiries, smiles)), risk.default_scenarios(),
                           risk.default_params(), written={e: NOW for e in expiries})
    s = m.spot
    rows = []
    for e in expiries:
        books = {
            "short put 0.9": {ref.Series(0.9 * s, e, False): -1.0},
            "short call 1.1": {ref.Series(1.1 * s, e, True): -1.0},
            "short strangle 0.9/1.1": {ref.Series(0.9 * s, e, False): -1.0, ref.Series(1.1 * s, e, True): -1.0},
            "risk reversal": {ref.Series(0.9 * s, e, False): -1.0, ref.Series(1.1 * s, e, True): 1.0},
            "long put 0.9": {ref.Series(0.9 * s, e, False): 1.0},
        }
        for name, book in books.items():
            ss = ref.maintenance(m, book)
            sm = _sticky_moneyness_maintenance(m, book)
            rows.append({"days": (e - NOW) // 86400, "book": name, "sticky_strike": ss, "sticky_moneyness": sm,
                         "ratio": ss / sm})
    REPORT.mkdir(parents=True, exist_ok=True)
    (REPORT / "margin_model.json").write_text(json.dumps(rows, indent=2))
    worst = min(rows, key=lambda r: r["ratio"])
    assert worst["ratio"] >= FLOOR, worst
    # the direction argued above: with rho < 0 sticky strike is the lower margin for every short call
    for r in rows:
        if r["book"] == "short call 1.1":
            assert r["sticky_strike"] < r["sticky_moneyness"], r
