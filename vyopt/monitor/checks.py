"""The monitor's on-chain checks: registry parameters and their age, the oracle, the production differential check
(contracts against the reference model) and recent events.  Each check returns (alerts, observation).

Severity rules (thresholds in MonitorConfig, vyopt/monitor/run.py)
    registry.paused              warning   the guardian's pause is on: risk-increasing trading is stopped
    registry.smile_age           warning   a live smile older than smile_age_warning (1 day);
                                 critical  older than smile_age_critical (3 days): margins rest on an old calibration
    registry.expired_listed      info      an expiry passed but is still listed: call remove_expired()
    (observation only)                     param_age: seconds since each scalar parameter was written (genesis or
                                           executed change; ape, from the ParamChange logs the monitor has scanned)
    registry.pending_change      info      a queued change (eta, deadline); past its deadline: info "lapsed"
    registry.surface_changed     info      the surface differs from the last run and smile_updated_at moved (an
                                           executed change);
                                 critical  it differs but no smile_updated_at moved: a change that bypassed the
                                           registry's queue, or a monitor reading the wrong contract
    oracle.status                critical  peek() reports a failed check other than a jump (stale, broken feed, ...):
                                           risk-increasing actions revert
    oracle.feed_age              warning   the feed's answer is older than feed_age_warning (80%) of the heartbeat
    oracle.deviation             warning   feed vs last accepted price beyond deviation_warning (50%) of the max
                                           deviation (a keeper should update the oracle now, in steps);
                                 critical  beyond the max deviation: a jump the oracle holds back until it persists
                                           for the cooldown; risk-increasing actions revert meanwhile
    diff.mark / diff.quote / diff.margin / diff.value
                                 critical  the contracts and the reference model disagree beyond the tolerance
    account.liquidatable         warning   a sampled account is below maintenance: keepers should act
    events.bad_debt              warning   BadDebt covered by the insurance fund; critical when socialized to the pool
    events.paused                warning   a Paused event in the scanned blocks
    events.summary               info      counts of the scanned events (ape only)

Differential tolerances (argued, not tuned).  The market's mark, quote, value and margins are compared with
reference/market.py evaluated on the state read in the same block (boa: one instant; ape: the head block, whose
timestamp eth_call uses; the check is retried once if a block arrives meanwhile).  tests/market shows the
engine within 1e-17 x spot + 1 wei per contract and scenario of the exact value and the float64 reference within
~1e-15 relative, so agreement to 1e-12 x spot per contract is the tested level.  The monitor alarms at
price_rel_tol = 1e-9 x spot per contract (margins and values: x sum |q|, + 1e-9): 1000 times the tested level,
so a float64 wobble never pages anyone, and 1e-5 USD per contract at a 10,000 USD spot, so any real disagreement
(another smile, another spot, another grid or rule) is far above it.  Annualised vols (mark and quote side):
relative 1e-9, for the same reason.
"""
from __future__ import annotations

import hashlib

import numpy as np

from reference import market as ref
from reference import oracle as ro
from vyopt.monitor import chain as ch

WAD = 10**18
STATUS_NAMES = {0: "ok", 1: "feed call failed", 2: "decimals changed", 3: "non-positive answer", 4: "answer out of range",
                5: "incomplete round", 6: "timestamp in the future", 7: "stale price", 8: "older than last accepted",
                9: "price jump too large"}
STATUS_QUEUED = 1
ACTION_GENESIS, ACTION_EXECUTED = 0, 2
KIND_NAMES = {1: "param", 2: "smile", 3: "scenarios", 4: "role"}
PARAM_NAMES = ("im_ratio", "min_margin", "liquidation_penalty", "liquidator_share", "dust_threshold", "fee_rate",
               "vol_spread", "max_open_interest", "oracle_heartbeat", "oracle_max_deviation", "oracle_jump_cooldown")
MAX_CHANGES_SCANNED = 64


def alert(severity, code, message, **data) -> dict:
    return {"severity": severity, "code": code, "message": message, "data": data}


def _age(seconds: int) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds} s"


def surface_fingerprint(smiles: dict) -> str:
    text = ";".join(f"{e}:{','.join(str(int(x)) for x in t)}" for e, t in sorted(smiles.items()))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


# ------------------------------------------------------------------------------------------------------------


def registry(d: ch.Deployment, now: int, cfg, last: dict | None) -> tuple[list, dict]:
    """Parameters, smile ages, pending changes and surface changes since the last run (`last`: its observation)."""
    reg = d.registry
    alerts = []
    params = {n: int(v) for n, v in zip(PARAM_NAMES, reg.all_params())}
    paused = bool(reg.paused())
    if paused:
        alerts.append(alert("warning", "registry.paused", "the registry is paused: risk-increasing trading is stopped"))
    smiles, updated, ages = {}, {}, {}
    expired = []
    for e in (int(x) for x in reg.expiries()):
        if e <= now:
            expired.append(e)
            continue
        smiles[e] = tuple(int(x) for x in ch.as_tuple(reg.smile(e)))
        updated[e] = int(reg.smile_updated_at(e))
        ages[e] = now - updated[e]
        if ages[e] > cfg.smile_age_critical:
            alerts.append(alert("critical", "registry.smile_age", f"smile of expiry {e} is {_age(ages[e])} old "
                                f"(> {_age(cfg.smile_age_critical)}): recalibrate and propose", expiry=e, age=ages[e]))
        elif ages[e] > cfg.smile_age_warning:
            alerts.append(alert("warning", "registry.smile_age", f"smile of expiry {e} is {_age(ages[e])} old "
                                f"(> {_age(cfg.smile_age_warning)})", expiry=e, age=ages[e]))
    if expired:
        alerts.append(alert("info", "registry.expired_listed", f"{len(expired)} expired expiries still listed: "
                            "call remove_expired()", expiries=expired))
    pending = []
    count = int(reg.change_count())
    for cid in range(max(1, count - MAX_CHANGES_SCANNED + 1), count + 1):
        c = ch.as_tuple(reg.change(cid))
        kind, status, target, eta, deadline = (int(x) for x in c[:5])
        if status != STATUS_QUEUED:
            continue
        what = KIND_NAMES.get(kind, str(kind))
        if kind == 1 and target < len(PARAM_NAMES):
            what = f"param {PARAM_NAMES[target]}"
        elif kind == 2:
            what = f"smile {target}"
        lapsed = now > deadline
        pending.append({"id": cid, "what": what, "eta": eta, "deadline": deadline, "lapsed": lapsed})
        state = "lapsed (past its deadline)" if lapsed else (f"executable now (until {deadline})" if now >= eta
                                                             else f"executable from {eta}")
        alerts.append(alert("info", "registry.pending_change", f"change #{cid} ({what}) queued: {state}",
                            id=cid, eta=eta, deadline=deadline))
    fp = surface_fingerprint(smiles)
    hashes = {str(e): surface_fingerprint({e: t}) for e, t in smiles.items()}
    obs = {"params": params, "paused": paused, "smile_age": {str(e): a for e, a in ages.items()},
           "smile_updated_at": {str(e): u for e, u in updated.items()},
           "oldest_smile_age": max(ages.values(), default=None),
           "expired_listed": expired, "pending_changes": pending, "surface": fp, "smile_hashes": hashes,
           "change_count": count}
    if last and last.get("smile_hashes"):
        # compare expiry by expiry: an expiry that passed or was newly listed is no change of a smile
        before_hash, before_at = last["smile_hashes"], last.get("smile_updated_at", {})
        changed = [int(e) for e, h in hashes.items() if e in before_hash and before_hash[e] != h]
        listed = [int(e) for e in hashes if e not in before_hash]
        explained = [e for e in changed if before_at.get(str(e)) != updated[e]]
        unexplained = [e for e in changed if e not in explained]
        if explained or listed:
            alerts.append(alert("info", "registry.surface_changed", f"the deployed surface changed since the last run "
                                f"(smiles updated: {explained}, newly listed: {listed}); the drift baseline still "
                                "describes the previous fit", expiries=explained, listed=listed))
        if unexplained:
            alerts.append(alert("critical", "registry.surface_changed", f"smiles of {unexplained} changed since the last "
                                "run but their smile_updated_at did not: not a registry change; check the contract "
                                "addresses", expiries=unexplained))
    return alerts, obs


def oracle(d: ch.Deployment, now: int, cfg, params: dict) -> tuple[list, dict]:
    """peek() status, the feed's age against the heartbeat, the feed price against the last accepted price."""
    alerts = []
    price, ok, status = (int(x) for x in ch.as_tuple(d.oracle.peek()))
    heartbeat = params["oracle_heartbeat"]
    max_dev = params["oracle_max_deviation"] / WAD
    last_price = int(d.oracle.last_price())
    last_at = int(d.oracle.last_updated_at())
    obs = {"price": price / WAD, "ok": bool(ok), "status": STATUS_NAMES.get(status, str(status)),
           "last_price": last_price / WAD, "last_updated_at": last_at, "last_accepted_age": now - last_at,
           "heartbeat": heartbeat, "max_deviation": max_dev}
    try:
        rnd = ch.as_tuple(d.feed.latestRoundData())
        decimals = int(d.feed.decimals())
        feed_price = ro.scale_to_wad(int(rnd[1]), decimals) / WAD
        feed_at = int(rnd[3])
    except Exception as e:  # a broken feed is itself the finding; peek() reports it too
        feed_price, feed_at = None, None
        obs["feed_error"] = str(e)[:200]
    obs.update({"feed_price": feed_price, "feed_updated_at": feed_at,
                "feed_age": None if feed_at is None else now - feed_at})
    if status not in (0, 9):
        alerts.append(alert("critical", "oracle.status", f"oracle check failed: {STATUS_NAMES.get(status, status)} "
                            "(risk-increasing actions revert)", status=status))
    if feed_at is not None and status != 7 and now - feed_at > cfg.feed_age_warning * heartbeat:
        alerts.append(alert("warning", "oracle.feed_age", f"feed answer is {_age(now - feed_at)} old "
                            f"({(now - feed_at) / heartbeat:.0%} of the {heartbeat} s heartbeat)", age=now - feed_at))
    if feed_price is not None and last_price:
        dev = feed_price / (last_price / WAD) - 1.0
        obs["deviation"] = dev
        if abs(dev) > max_dev:
            alerts.append(alert("critical", "oracle.deviation", f"feed {feed_price:,.2f} is {dev:+.2%} from the last "
                                f"accepted {last_price / WAD:,.2f} (max {max_dev:.0%}): held back as a jump until it "
                                "persists for the cooldown; risk-increasing actions revert meanwhile", deviation=dev))
        elif abs(dev) > cfg.deviation_warning * max_dev:
            alerts.append(alert("warning", "oracle.deviation", f"feed is {dev:+.2%} from the last accepted price "
                                f"({abs(dev) / max_dev:.0%} of the max deviation): a keeper should call update()",
                                deviation=dev))
    return alerts, obs


def _sample(items, n: int, rng) -> list:
    items = list(items)
    if len(items) <= n:
        return items
    pick = rng.choice(len(items), size=n, replace=False)
    return [items[i] for i in sorted(pick)]


def differential(d: ch.Deployment, m: ref.MarketState, table: dict, accounts, cfg) -> tuple[list, dict]:
    """Contracts against the reference model on a seeded sample of live series and accounts (module docstring)."""
    rng = np.random.default_rng(cfg.seed)
    alerts = []
    spot = m.spot
    live = [sid for sid, s in sorted(table.items()) if s.expiry > m.now and s.expiry in m.smiles]
    series_ids = _sample(live, cfg.sample_series, rng)
    tol_p = cfg.price_rel_tol * spot
    worst = {"mark": 0.0, "quote": 0.0, "vol": 0.0, "margin": 0.0, "value": 0.0}
    rows = []
    for sid in series_ids:
        s = table[sid]
        price, vol = (int(x) / WAD for x in ch.as_tuple(d.market.mark(sid)))
        want_p, want_v = ref.mark(m, s), ref.surface_vol(m, s)
        dp, dv = abs(price - want_p), abs(vol / want_v - 1.0)
        worst["mark"] = max(worst["mark"], dp / spot)
        worst["vol"] = max(worst["vol"], dv)
        row = {"series": sid, "mark": price, "ref_mark": want_p, "vol": vol, "ref_vol": want_v}
        if dp > tol_p or dv > cfg.vol_rel_tol:
            name = f"{s.strike:g} {'C' if s.is_call else 'P'} {s.expiry}"
            alerts.append(alert("critical", "diff.mark", f"series {sid} ({name}): "
                                f"contract mark {price:.6f} vol {vol:.8f} vs reference {want_p:.6f} / {want_v:.8f}",
                                series=sid, contract=[price, vol], reference=[want_p, want_v]))
        for size in (1.0, -1.0):
            premium, _, side = (int(x) / WAD for x in ch.as_tuple(d.market.quote(sid, int(size * WAD))))
            want_q, _, want_side = ref.quote(m, s, size)
            dq, ds = abs(premium - want_q), abs(side / want_side - 1.0)
            worst["quote"] = max(worst["quote"], dq / spot)
            worst["vol"] = max(worst["vol"], ds)
            row["buy" if size > 0 else "sell"] = [premium, want_q]
            if dq > tol_p or ds > cfg.vol_rel_tol:
                alerts.append(alert("critical", "diff.quote", f"series {sid} {'buy' if size > 0 else 'sell'} 1: contract "
                                    f"premium {premium:.6f} (vol {side:.8f}) vs reference {want_q:.6f} ({want_side:.8f})",
                                    series=sid, size=size, contract=[premium, side], reference=[want_q, want_side]))
        rows.append(row)
    # the pool always, then a seeded sample of the accounts: sample_accounts books in all (0: no book checked)
    accs = [d.pool] if cfg.sample_accounts > 0 else []
    accs += _sample(dict.fromkeys(ch.addr(a) for a in accounts if ch.addr(a) != d.pool), max(cfg.sample_accounts - 1, 0),
                    rng)
    acc_rows = []
    liquidatable = []
    for a in accs:
        cash, pos = ch.book(d, a, table)
        _, value, im, mm = (int(x) / WAD for x in ch.as_tuple(d.market.account_state(a)))
        want_v = ref.account_value(m, cash, pos)
        want_mm = ref.maintenance(m, pos)
        want_im = want_mm * m.params.im_ratio
        tol = cfg.price_rel_tol * spot * sum(abs(q) for q in pos.values()) + 1e-9
        dv, dm, di = abs(value - want_v), abs(mm - want_mm), abs(im - want_im)
        scale = spot * max(1.0, sum(abs(q) for q in pos.values()))
        worst["value"] = max(worst["value"], dv / scale)
        worst["margin"] = max(worst["margin"], max(dm, di) / scale)
        who = "pool" if a == d.pool else a
        acc_rows.append({"account": who, "value": value, "ref_value": want_v, "maintenance": mm, "ref_maintenance": want_mm,
                         "initial": im, "ref_initial": want_im, "positions": len(pos)})
        if dv > tol:
            alerts.append(alert("critical", "diff.value", f"{who}: contract value {value:,.6f} vs reference {want_v:,.6f}",
                                account=who, contract=value, reference=want_v))
        if dm > tol or di > tol * m.params.im_ratio:
            alerts.append(alert("critical", "diff.margin", f"{who}: contract maintenance/initial {mm:,.6f} / {im:,.6f} vs "
                                f"reference {want_mm:,.6f} / {want_im:,.6f}", account=who, contract=[mm, im],
                                reference=[want_mm, want_im]))
        if a != d.pool and pos and value < mm:
            liquidatable.append(a)
            alerts.append(alert("warning", "account.liquidatable", f"{a} is below maintenance ({value:,.2f} < {mm:,.2f}): "
                                "keepers should liquidate", account=a, value=value, maintenance=mm))
    obs = {"series_checked": series_ids, "accounts_checked": [r["account"] for r in acc_rows],
           "max_rel_error": worst, "tolerance": {"price_rel": cfg.price_rel_tol, "vol_rel": cfg.vol_rel_tol},
           "series": rows, "accounts": acc_rows, "liquidatable": liquidatable}
    return alerts, obs


def events(d: ch.Deployment, from_block: int, to_block: int) -> tuple[list, dict]:
    """Market and registry events in [from_block, to_block] (ape; boa keeps none)."""
    if d.backend != "ape":
        return [], {"scanned": None}
    evs = ch.recent_events(d, from_block, to_block)
    counts = {}
    alerts = []
    for e in evs:
        key = f"{e['contract']}.{e['event']}"
        counts[key] = counts.get(key, 0) + 1
        a = e["args"]
        if e["event"] == "BadDebt":
            sev = "critical" if int(a.get("socialized", 0)) > 0 else "warning"
            alerts.append(alert(sev, "events.bad_debt", f"bad debt of {a['account']}: {int(a['deficit']) / WAD:,.2f} "
                                f"({int(a['from_insurance']) / WAD:,.2f} from insurance, {int(a['socialized']) / WAD:,.2f} "
                                f"socialized) at block {e['block']}", block=e["block"], **a))
        elif e["event"] == "ExpirySettled" and (a.get("unchecked") or a.get("fallback")):
            # a late settlement by the guardian that did not pass every check: a person should compare the
            # recorded price with the feed's history and the market's own record of that hour
            how = ("no feed round could be proven; the oracle's accepted price at the call was recorded"
                   if a.get("fallback") else
                   f"feed round {int(a['round_id'])} was recorded without its heartbeat and jump checks "
                   "(confirmed by its successor instead)")
            alerts.append(alert("warning", "events.settlement_unchecked",
                                f"expiry {int(a['expiry'])} settled late at {int(a['price']) / WAD:,.2f} "
                                f"(stamped {int(a['price_time'])}): {how}; block {e['block']}",
                                block=e["block"], **a))
        elif e["event"] == "Paused":
            alerts.append(alert("warning", "events.paused", f"registry paused at block {e['block']}", block=e["block"]))
    if evs:
        alerts.append(alert("info", "events.summary", f"blocks {from_block}-{to_block}: " +
                            ", ".join(f"{v} {k}" for k, v in sorted(counts.items())), counts=counts))
    # scalar parameters written in these blocks (genesis or an executed change): their age, next to the smiles'
    written = [{"param": PARAM_NAMES[int(e["args"]["param"])], "block": e["block"], "value": int(e["args"]["new_value"])}
               for e in evs if e["event"] == "ParamChange" and int(e["args"]["action"]) in (ACTION_GENESIS, ACTION_EXECUTED)
               and int(e["args"]["param"]) < len(PARAM_NAMES)]
    return alerts, {"scanned": [from_block, to_block], "counts": counts, "params_written": written,
                    "liquidations": [e for e in evs if e["event"] == "Liquidation"][-20:]}
