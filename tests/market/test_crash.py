"""The crash scenario of issue 5: spot -50 % while the keepers are away, then the vol surface raised x3 through
the registry's time lock, the keeper liquidating after each step.  It shows where the losses go: liquidated
accounts first, then the insurance fund, then the pool (socialized through the LP share price), and checks
that the books still balance to the wei.

The figures (pool value, insurance fund, bad debt, liquidations, before and after) are written to
reports/market/crash.json and reports/market/crash.md for the README and the closing note.
"""
import json
from pathlib import Path

import boa

from reference import market as ref
from vyopt import market as mk
from vyopt import risk
from vyopt.deploy import deploy_local

from .helpers import WAD, refresh, set_spot
from .test_margin import _tol

REPORT = Path(__file__).resolve().parents[2] / "reports" / "market"
VOL_ROUNDS = 6
VOL_STEP = 3 ** (1 / VOL_ROUNDS)        # 6 normal-delay changes of +20.1 % each: vol x 3 in total


def _events(m, name):
    return [e for e in m.get_logs() if type(e).__name__ == name]


def _write_max(p, who, sid, sizes=(64, 32, 16, 8, 4, 2, 1)):
    """Sell the largest size the margin rules allow (the writer is left close to its initial margin)."""
    total = 0
    for size in sizes:
        try:
            p.market.trade(sid, -size * WAD, 0, mk.deadline(), sender=who)
            total += size
        except boa.BoaError:
            continue
    return total


def _keeper_round(p, accounts, keeper, log):
    """Liquidate every liquidatable account, series by series, until none is left or nothing moves."""
    m = p.market
    for a in accounts:
        for _ in range(20):
            if not m.is_liquidatable(a):
                break
            moved = False
            for sid in list(m.open_series(a)):
                ins_before = m.insurance_fund()
                try:
                    reward = m.liquidate(a, sid, 2**255 - 1, sender=keeper)
                except boa.BoaError:
                    continue
                liq = _events(m, "Liquidation")[0]
                bad = _events(m, "BadDebt")
                log["liquidations"].append({"account": str(a), "series": int(sid), "full": bool(liq.full),
                                            "penalty": liq.penalty / WAD, "reward": reward / WAD})
                for b in bad:
                    log["bad_debt"].append({"account": str(b.account), "deficit": b.deficit / WAD,
                                            "from_insurance": b.from_insurance / WAD, "socialized": b.socialized / WAD})
                # the insurance fund falls only through a BadDebt event, by exactly what the event says
                expected = ins_before + (liq.penalty - reward) - sum(b.from_insurance for b in bad)
                assert m.insurance_fund() == expected
                moved = True
                break
            if not moved:
                break


def _books_balance(p, accounts, ids):
    m = p.market
    internal = sum(m.collateral(a) for a in accounts) + m.collateral(m.address) + m.insurance_fund() + m.protocol_fees()
    assert p.collateral.balanceOf(m.address) * m.collateral_scale() == internal
    for sid in ids:
        assert sum(m.position(a, sid) for a in accounts) + m.position(m.address, sid) == 0


def test_crash__spot_minus_50_and_vol_x3__losses_go_to_accounts_then_insurance_then_pool():
    now = boa.env.evm.patch.timestamp
    # a flatter smile than the default (eta 0.3): x3 on the default wings would pass the registry's 500 % vol cap
    expiries, smiles = risk.default_surface(now, days=(14, 28), eta=0.3)
    p = deploy_local(registry_kwargs={"expiries": expiries, "smiles": smiles})
    m = p.market
    names = ("lp", "insurer", "put_writer", "strangle_writer", "call_buyer", "put_buyer", "keeper")
    who = {n: boa.env.generate_address(n) for n in names}
    e28 = expiries[1]
    put36, put32, call44, call48 = (m.list_series(mk.wad(k), e28, c, sender=p.risk_manager)
                                    for k, c in ((36_000, False), (32_000, False), (44_000, True), (48_000, True)))
    ids = [put36, put32, call44, call48]
    mk.fund_lp(p, who["lp"], 2_000_000)
    mk.fund(p, who["insurer"], 20_000, deposit=False)
    m.fund_insurance(mk.token_amount(p.collateral, 20_000), sender=who["insurer"])
    mk.fund(p, who["put_writer"], 100_000)
    mk.fund(p, who["strangle_writer"], 100_000)
    mk.fund(p, who["call_buyer"], 50_000)
    mk.fund(p, who["put_buyer"], 50_000)
    written = {"put_writer": _write_max(p, who["put_writer"], put36),
               "strangle_writer": _write_max(p, who["strangle_writer"], put32) + _write_max(p, who["strangle_writer"], call48)}
    m.trade(call44, 5 * WAD, 2**256 - 1, mk.deadline(), sender=who["call_buyer"])
    m.trade(put32, 5 * WAD, 2**256 - 1, mk.deadline(), sender=who["put_buyer"])
    accounts = [who[n] for n in names]
    assert written["put_writer"] > 0 and written["strangle_writer"] > 0

    def snapshot():
        return {"spot": p.oracle.peek()[0] / WAD, "pool_value": m.account_value(m.address) / WAD,
                "pool_cash": m.collateral(m.address) / WAD, "insurance_fund": m.insurance_fund() / WAD,
                "share_price": m.account_value(m.address) / m.total_shares(),
                "accounts": {n: {"collateral": m.collateral(who[n]) / WAD, "value": m.account_value(who[n]) / WAD,
                                 "maintenance": m.margin_requirements(who[n])[1] / WAD} for n in names}}

    log = {"written": written, "liquidations": [], "bad_debt": [], "stages": {"before": snapshot()}}
    _books_balance(p, accounts, ids)

    # 1. spot -50 % in oracle-accepted steps of ~9.5 %, five minutes apart; no keeper acts meanwhile
    set_spot(p, 20_000)
    log["stages"]["after crash, before keepers"] = snapshot()
    assert m.is_liquidatable(who["put_writer"])
    _keeper_round(p, accounts, who["keeper"], log)
    _books_balance(p, accounts, ids)
    log["stages"]["after crash and keepers"] = snapshot()

    # 2. vol x 3: six smile changes through the normal delay (each +20 % vol, within the 25 % step), the
    # longer expiry first so the calendar check holds; the keeper acts after each
    reg = p.registry
    for _ in range(VOL_ROUNDS):
        cids = []
        for e in sorted(expiries, reverse=True):
            a, b, rho, mm, sig = reg.smile(e)
            t_old = e - reg.smile_updated_at(e)
            t_new = e - (boa.env.evm.patch.timestamp + reg.delay())
            f = VOL_STEP * VOL_STEP * t_new / t_old     # total variance x step^2 at the new calibration time
            cids.append(reg.queue_smile(e, (int(a * f), int(b * f), rho, mm, sig), risk.reason_hash("crash: vol up"),
                                        sender=p.risk_manager))
        boa.env.time_travel(seconds=reg.delay())
        refresh(p)
        for cid in cids:
            reg.execute(cid)
        _keeper_round(p, accounts, who["keeper"], log)
        _books_balance(p, accounts, ids)
    log["stages"]["after vol x3 and keepers"] = after = snapshot()

    # where the losses went
    before = log["stages"]["before"]
    deficit = sum(b["deficit"] for b in log["bad_debt"])
    from_insurance = sum(b["from_insurance"] for b in log["bad_debt"])
    socialized = sum(b["socialized"] for b in log["bad_debt"])
    assert deficit > 0, "the scenario is meant to leave bad debt"
    assert abs(deficit - from_insurance - socialized) < 1e-9
    penalties_to_insurance = sum(l["penalty"] - l["reward"] for l in log["liquidations"])
    assert abs(after["insurance_fund"] - (before["insurance_fund"] + penalties_to_insurance - from_insurance)) < 1e-9
    # insurance pays first: something is socialized only once the fund is empty
    if socialized > 0:
        assert after["insurance_fund"] < 1e-9
    # every account still holding positions is healthy; the pool is solvent and margined by the same rule
    for n in names:
        if m.open_series(who[n]):
            assert not m.is_liquidatable(who[n]), n
    assert m.account_value(m.address) > 0
    # the on-chain values agree with the independent reference model after the crash
    state = mk.reference_state(p)
    table = mk.series_table(m)
    for a in accounts:
        pos = mk.positions(m, a, table)
        want = ref.account_value(state, m.collateral(a) / WAD, pos)
        assert abs(m.account_value(a) / WAD - want) <= _tol(state.spot, pos.values())

    log.update({"bad_debt_total": deficit, "from_insurance": from_insurance, "socialized": socialized,
                "penalties_to_insurance": penalties_to_insurance,
                "pool_value_change": after["pool_value"] - before["pool_value"],
                "share_price_change": after["share_price"] / before["share_price"] - 1})
    REPORT.mkdir(parents=True, exist_ok=True)
    (REPORT / "crash.json").write_text(json.dumps(log, indent=2))
    rows = ["| stage | spot | pool value | insurance fund | share price |", "|---|---:|---:|---:|---:|"]
    for stage, s in log["stages"].items():
        rows.append(f"| {stage} | {s['spot']:,.0f} | {s['pool_value']:,.0f} | {s['insurance_fund']:,.0f} | {s['share_price']:.6f} |")
    rows.append("")
    rows.append(f"liquidations {len(log['liquidations'])}, bad debt {deficit:,.2f} (insurance {from_insurance:,.2f}, "
                f"socialized {socialized:,.2f}), penalties to insurance {penalties_to_insurance:,.2f}")
    (REPORT / "crash.md").write_text("\n".join(rows) + "\n")
