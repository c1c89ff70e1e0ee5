"""The liquidation keeper: find accounts, check them, pick the leg to close, liquidate when it pays.

Works with titanoboa and ape contracts (vyopt.trading.Backend).  `ape run keeper` is a thin shell around it.

1. Candidates.  With ape, every account that ever deposited or traded: the market's Deposit and Trade logs
   (`candidates_from_logs`, block ranges, incremental in a loop).  With boa (no log history) the caller
   passes the accounts.
2. Check.  market.is_liquidatable(account) (value < maintenance at the oracle's price).
3. Plan.  For every series the account holds, MarginEngine.plan_liquidation() with the account's legs
   (built from the market's views, at the price liquidate() will use: the oracle price when it passes every
   check, its last accepted price otherwise) gives what liquidate(account, series, |position|) would do:
   the maintenance margin released, hence the penalty min(liquidation_penalty * released, value) and the
   reward liquidator_share * penalty.  A leg whose liquidation the market would refuse (closing it does not
   lower the margin, a failed oracle check on a mildly unhealthy account) is dropped.  Legs are tried in
   order of expected reward, i.e. of margin released; the best one is simulated (boa: inside an anchor;
   ape: eth_call + eth_estimateGas) and a simulation that reverts moves on to the next leg.
4. Profitable rule.  cost = gas * gas_price * native_price, in collateral units: gas from the simulation
   (ape: eth_estimateGas, which includes the 21,000 intrinsic gas; boa: execution gas + 21,000), gas_price
   in wei (the provider's unless given), native_price = collateral units per native coin (e.g. USD per
   ETH; a keeper setting, there is no ETH oracle on chain).  Liquidate iff reward - cost >= min_profit
   (collateral units, default 0).  The reward is credited as collateral in the market (withdraw() it).
5. Repeat on the same account while it is still liquidatable and the last liquidation was profitable
   (a partial liquidation of one leg may not be enough), at most `max_rounds` times.

API
    KeeperConfig(native_price, min_profit, gas_price=None, max_rounds=4)
    candidates_from_logs(market, start_block, stop_block=None) -> (list[address], last_block)   ape only
    plan_account(p, backend, account) -> dict           health, legs with expected rewards (no transaction)
    Keeper(p, sender, config, backend=None)
        .run_once(accounts, progress=None) -> dict     summary (JSON-ready: ints and strings)
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from .trading import Backend, TradingError, _fields, backend_for

WAD = 10**18
INTRINSIC_GAS = 21_000
PLAN_FIELDS = ("value", "maintenance", "full", "close", "maintenance_after", "value_after")


@dataclass
class KeeperConfig:
    native_price: Decimal = Decimal(3000)     # collateral units per native coin (ETH)
    min_profit: Decimal = Decimal(0)          # collateral units
    gas_price: int | None = None              # wei; None: ask the back-end
    max_rounds: int = 4                       # liquidations of one account per pass

    def to_json(self) -> dict:
        return {"native_price": str(self.native_price), "min_profit": str(self.min_profit),
                "gas_price": self.gas_price, "max_rounds": self.max_rounds,
                "rule": "liquidate iff reward - gas * gas_price * native_price >= min_profit (collateral units)"}


def candidates_from_logs(market, start_block: int = 0, stop_block: int | None = None) -> tuple[list[str], int]:
    """ape: accounts in the market's Deposit and Trade logs of blocks [start_block, stop_block] (default: to
    the head), in order of first appearance; and the last block scanned."""
    from ape import chain

    stop = int(chain.blocks.head.number) if stop_block is None else int(stop_block)
    seen: dict[str, None] = {}
    if stop >= start_block:
        for event in (market.Deposit, market.Trade):
            for log in event.range(start_block, stop + 1):
                seen.setdefault(str(log.event_arguments["account"]), None)
    return list(seen), stop


def _word(strike: int, expiry: int, is_call: bool) -> int:
    return int(strike) | (int(expiry) << 128) | ((1 << 192) if is_call else 0)


def plan_account(p, backend: Backend, account) -> dict:
    """What liquidate() would do to `account`, leg by leg, from views only (see the module doc, step 3)."""
    m, engine, oracle, reg = p.market, p.engine, p.oracle, p.registry
    a = backend.address(account)
    now = backend.now()
    price, ok, status = (int(x) for x in oracle.peek())
    spot = price if ok else int(oracle.last_price())
    ids = [int(s) for s in m.open_series(a)]
    legs = []
    for sid in ids:
        strike, expiry, is_call = m.series(sid)
        settle = int(m.settlement_price(expiry)) if int(expiry) <= now else 0
        legs.append((_word(strike, expiry, is_call), settle, int(m.position(a, sid)), 0))
    cash = int(m.collateral(a))
    rate, share = int(reg.liquidation_penalty()), int(reg.liquidator_share())
    out = {"account": a, "spot": spot, "oracle_ok": bool(ok), "oracle_status": status, "collateral": cash,
           "legs": []}
    if not legs:
        out.update(value=cash, maintenance=0, liquidatable=False)
        return out
    for i, sid in enumerate(ids):
        pl = _fields(engine.plan_liquidation(spot, legs, i, abs(legs[i][2]), cash), PLAN_FIELDS)
        value = cash + int(pl["value"])
        mm = int(pl["maintenance"])
        out.update(value=value, maintenance=mm, liquidatable=value < mm)
        leg = {"series_id": sid, "position": legs[i][2], "full": bool(pl["full"]), "close": int(pl["close"])}
        refused = None
        if value >= mm:
            refused = "market: account not liquidatable"
        elif not ok and value * 2 >= mm:
            refused = "oracle price not usable and the account is not clearly unhealthy"
        mm1 = 0 if pl["full"] else int(pl["maintenance_after"])
        if not pl["full"] and pl["close"] == 0:
            refused = refused or "market: no position in series"
        if not pl["full"] and mm1 >= mm:
            refused = refused or "market: liquidation must reduce margin"
        penalty = min((mm - mm1) * rate // WAD, value) if value > 0 else 0
        leg.update(released=mm - mm1, penalty=max(penalty, 0), reward=max(penalty, 0) * share // WAD, refused=refused)
        out["legs"].append(leg)
        if pl["full"]:
            break        # a full liquidation ignores the series: one plan covers the account
    return out


class Keeper:
    """Liquidates unhealthy accounts of one deployment with `sender` (boa: an address; ape: an account)."""

    def __init__(self, p, sender, config: KeeperConfig | None = None, backend: Backend | None = None):
        self.p = p
        self.sender = sender
        self.cfg = config or KeeperConfig()
        self.bk = backend or backend_for(p.market)
        self.address = self.bk.address(sender)

    def gas_cost(self, gas: int) -> int:
        """Collateral units (WAD) that `gas` costs at the configured gas and native-coin prices, rounded up."""
        price = self.cfg.gas_price if self.cfg.gas_price is not None else self.bk.gas_price()
        wei = int(gas) * int(price)
        num = Decimal(wei) * self.cfg.native_price            # wei * (collateral per native) = 1e-18 collateral
        return int(num.to_integral_value(rounding=ROUND_CEILING))

    def _sim_gas(self, sim_gas: int) -> int:
        return sim_gas + (INTRINSIC_GAS if self.bk.kind == "boa" else 0)

    def liquidate_account(self, account, report) -> list[dict]:
        """Liquidate `account` while it stays liquidatable and liquidating pays; entries appended to report."""
        m = self.p.market
        a = self.bk.address(account)
        done = []
        for _ in range(self.cfg.max_rounds):
            if not m.is_liquidatable(a):
                break
            plan = plan_account(self.p, self.bk, a)
            legs = sorted((lg for lg in plan["legs"] if lg["refused"] is None), key=lambda lg: -lg["reward"])
            refused = [{"series_id": lg["series_id"], "reason": lg["refused"]} for lg in plan["legs"] if lg["refused"]]
            chosen = None
            for lg in legs:
                size = abs(lg["position"])
                sim = self.bk.simulate(m, "liquidate", a, lg["series_id"], size, sender=self.sender)
                if not sim.ok:
                    refused.append({"series_id": lg["series_id"], "reason": sim.reason})
                    continue
                gas = self._sim_gas(sim.gas)
                reward = int(sim.value)
                cost = self.gas_cost(gas)
                chosen = dict(lg, size=size, gas_estimate=gas, reward_simulated=reward, gas_cost=cost,
                              profit=reward - cost)
                break
            if chosen is None:
                report["skipped"].append({"account": a, "reason": "every liquidation would revert",
                                          "legs": refused, "value": plan.get("value"),
                                          "maintenance": plan.get("maintenance")})
                break
            if Decimal(chosen["profit"]) < self.cfg.min_profit * WAD:
                report["skipped"].append({"account": a, "reason": "unprofitable", "series_id": chosen["series_id"],
                                          "reward": chosen["reward_simulated"], "gas_cost": chosen["gas_cost"],
                                          "profit": chosen["profit"]})
                break
            try:
                tx = self.bk.send(m, "liquidate", a, chosen["series_id"], chosen["size"], sender=self.sender)
            except TradingError as err:      # the state moved between the simulation and the transaction
                report["skipped"].append({"account": a, "reason": str(err), "series_id": chosen["series_id"]})
                break
            ev = tx.event("Liquidation") or {}
            closed = tx.all("PositionLiquidated")
            bad = tx.event("BadDebt")
            entry = {"account": a, "series_id": chosen["series_id"], "full": bool(ev.get("full", chosen["full"])),
                     "value_before": int(ev.get("value", plan.get("value", 0))),
                     "maintenance_before": int(ev.get("maintenance_before", 0)),
                     "maintenance_after": int(ev.get("maintenance_after", 0)),
                     "penalty": int(ev.get("penalty", 0)), "reward": int(ev.get("reward", chosen["reward_simulated"])),
                     "expected_reward": chosen["reward"], "closed": [{"series_id": int(c["series_id"]), "size": int(c["size"]),
                                                                      "transfer": int(c["transfer"])} for c in closed],
                     "bad_debt": ({k: int(v) for k, v in bad.items() if k != "account"} if bad else None),
                     "gas_estimate": chosen["gas_estimate"], "gas": tx.gas, "gas_cost": chosen["gas_cost"],
                     "tx": tx.tx_hash}
            report["liquidations"].append(entry)
            done.append(entry)
        return done

    def run_once(self, accounts, progress=None) -> dict:
        """One pass over `accounts` (addresses or senders).  progress(i, n, account, status) after each one.
        Returns the summary (JSON-ready)."""
        m = self.p.market
        accounts = [self.bk.address(a) for a in accounts]
        seen = set()
        report = {"keeper": self.address, "config": self.cfg.to_json(), "checked": 0, "healthy": 0,
                  "liquidatable": [], "liquidations": [], "skipped": [], "errors": []}
        for i, a in enumerate(accounts):
            if a in seen or a.lower() in (self.address.lower(), str(m.address).lower()):
                continue
            seen.add(a)
            report["checked"] += 1
            try:
                bad = bool(m.is_liquidatable(a))
            except Exception as err:  # noqa: BLE001 - a view that reverts (no oracle price) is reported, not fatal
                report["errors"].append({"account": a, "error": str(err).splitlines()[0] if str(err) else repr(err)})
                status = "error"
            else:
                if not bad:
                    report["healthy"] += 1
                    status = "healthy"
                else:
                    report["liquidatable"].append(a)
                    n0 = len(report["liquidations"])
                    self.liquidate_account(a, report)
                    status = f"liquidated x{len(report['liquidations']) - n0}" if len(report["liquidations"]) > n0 else "skipped"
            if progress:
                progress(i + 1, len(accounts), a, status)
        report["rewards"] = sum(e["reward"] for e in report["liquidations"])
        return report
