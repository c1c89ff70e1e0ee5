"""Risk registry, price oracle and mock feed: defaults, encoders and in-process deployment (titanoboa).

API
    WAD, YEAR, PARAM_NAMES, ROLE_*, KIND_*, STATUS_*, ACTION_*
    wad(x) -> int                                  float/str/Decimal -> WAD integer (exact for decimal strings)
    encode_smile(svi_or_tuple) -> tuple            raw SVI (floats) -> (a, b, rho, m, sigma) WAD ints
    decode_smile(t) -> reference.svi.SVI           contract tuple -> floats
    ssvi_smile(theta, rho, eta, gamma) -> SVI      an SSVI slice (Gatheral & Jacquier 2014) in raw SVI form
    default_params() -> list[int]                  the 11 scalar parameters (id order), contract units
    default_scenarios() -> list[tuple[int, int]]   Deribit-like grid: +-16% in 4% steps x vol {+25%, 0, -20%}, tails
    default_surface(now, days=...) -> (expiries, smiles)  calendar- and butterfly-consistent SSVI surface
    reason_hash(text) -> bytes                     keccak256 of a maintenance record (utf-8)
    registry_constructor_args(...) -> tuple        the RiskRegistry constructor arguments (for ape or boa)
    deploy_registry(...)                           boa: RiskRegistry with defaults
    deploy_mock_feed(decimals=8, answer=...)       boa: testing/MockAggregator
    deploy_oracle(feed, registry)                  boa: PriceOracle
    deploy_risk_stack(...) -> RiskStack            boa: registry + mock feed + oracle
    read_params(registry) -> dict                  every current parameter, by name, contract units
    gas_report(out_dir=None) -> dict               gas of implied_vol_at / queue_* / execute (boa), md+json

Units follow the contracts: WAD (1e18) for vols, fractions, prices and contract counts; seconds for time.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from reference.svi import SVI

WAD = 10**18
YEAR = 365 * 86400

PARAM_NAMES = (
    "im_ratio",
    "min_margin",
    "liquidation_penalty",
    "liquidator_share",
    "dust_threshold",
    "fee_rate",
    "vol_spread",
    "max_open_interest",
    "oracle_heartbeat",
    "oracle_max_deviation",
    "oracle_jump_cooldown",
)
ROLE_ADMIN, ROLE_RISK_MANAGER, ROLE_GUARDIAN = 0, 1, 2
KIND_PARAM, KIND_SMILE, KIND_SCENARIOS, KIND_ROLE = 1, 2, 3, 4
STATUS_NONE, STATUS_QUEUED, STATUS_EXECUTED, STATUS_CANCELLED = 0, 1, 2, 3
ACTION_GENESIS, ACTION_QUEUED, ACTION_EXECUTED, ACTION_CANCELLED = 0, 1, 2, 3

DEFAULT_DELAY = 86400            # 1 day (the hard minimum)
DEFAULT_SURFACE_DELAY = 3600     # 1 hour (the hard minimum)
DEFAULT_GRACE = 3 * 86400        # 3 days


def wad(x) -> int:
    """A number as a WAD integer; decimal strings are converted exactly."""
    if isinstance(x, int):
        return x * WAD
    return int((Decimal(str(x)) * WAD).to_integral_value())


def encode_smile(p) -> tuple[int, int, int, int, int]:
    """Raw SVI (an SVI or a 5-tuple of floats) -> (a, b, rho, m, sigma) WAD integers for the contract."""
    a, b, rho, m, sigma = p.as_tuple() if isinstance(p, SVI) else p
    return (wad(a), wad(b), wad(rho), wad(m), wad(sigma))


def decode_smile(t) -> SVI:
    """(a, b, rho, m, sigma) WAD integers (a contract struct/tuple) -> floats."""
    return SVI(*(int(v) / WAD for v in tuple(t)))


def ssvi_smile(theta: float, rho: float, eta: float, gamma: float = 0.5) -> SVI:
    """SSVI slice with power-law phi(theta) = eta / theta^gamma, written as raw SVI.

    w(k) = theta/2 (1 + rho phi k + sqrt((phi k + rho)^2 + 1 - rho^2))  <=>
    a = theta (1 - rho^2) / 2, b = theta phi / 2, m = -rho / phi, sigma = sqrt(1 - rho^2) / phi.
    Free of butterfly arbitrage when eta^2 (1 + |rho|) <= 4 and eta sqrt(theta) (1 + |rho|) < 4 (gamma = 1/2),
    and of calendar arbitrage when theta increases with T (Gatheral & Jacquier 2014, Thm 4.1, Cor. 4.1).
    """
    phi = eta / theta**gamma
    return SVI(
        a=theta * (1.0 - rho * rho) / 2.0,
        b=theta * phi / 2.0,
        rho=rho,
        m=-rho / phi,
        sigma=math.sqrt(1.0 - rho * rho) / phi,
    )


def default_params() -> list[int]:
    """The 11 scalar parameters in id order (see contracts/risk/params.vy for units and bounds)."""
    return [
        wad("1.3"),      # im_ratio: IM = 1.3 x MM
        wad("0.02"),     # min_margin: 2% of spot per short contract
        wad("0.1"),      # liquidation_penalty: 10% of the liquidated maintenance margin
        wad("0.5"),      # liquidator_share: half of the penalty
        wad(10),         # dust_threshold: 10 collateral units
        wad("0.0003"),   # fee_rate: 0.03% of spot per contract
        wad("0.01"),     # vol_spread: 1 vol point
        wad(1000),       # max_open_interest: 1000 contracts per series
        3600,            # oracle_heartbeat: 1 hour
        wad("0.1"),      # oracle_max_deviation: 10% per update
        3600,            # oracle_jump_cooldown: 1 hour
    ]


def default_scenarios() -> list[tuple[int, int]]:
    """Deribit-like grid: spot -16%..+16% in 4% steps x vol {+25%, 0, -20%} (relative), plus two tails, the same
    as the backtested reference rule (reference/scenario_margin.default_grid): crash -33% with vol x1.5, squeeze
    +50% with vol x1.5."""
    out = []
    for spot in ("-0.16", "-0.12", "-0.08", "-0.04", "0", "0.04", "0.08", "0.12", "0.16"):
        for vol in ("0.25", "0", "-0.2"):
            out.append((wad(spot), wad(vol)))
    out.append((wad("-0.33"), wad("0.5")))   # crash with a vol spike
    out.append((wad("0.5"), wad("0.5")))     # squeeze (the reference rule's tail: reference/scenario_margin.py, backtested)
    return out


def default_surface(now: int, days=(7, 14, 28, 56, 91, 182), atm_vol: float = 0.6, rho: float = -0.3,
                    eta: float = 1.0) -> tuple[list[int], list[tuple]]:
    """An SSVI surface (theta = atm_vol^2 T) at expiries now + days, each at 08:00 UTC; WAD tuples."""
    expiries, smiles = [], []
    for d in days:
        e = (now + d * 86400) // 86400 * 86400 + 8 * 3600
        t = (e - now) / YEAR
        expiries.append(e)
        smiles.append(encode_smile(ssvi_smile(atm_vol * atm_vol * t, rho, eta)))
    return expiries, smiles


def reason_hash(text: str) -> bytes:
    """keccak256 of a maintenance record (the reason_hash every change carries)."""
    from eth_utils import keccak

    return keccak(text.encode())


def registry_constructor_args(admin, risk_manager, guardian, *, now: int, market: str = "BTC-USD",
                              delay: int = DEFAULT_DELAY, surface_delay: int = DEFAULT_SURFACE_DELAY,
                              grace_period: int = DEFAULT_GRACE, params=None, scenarios=None,
                              expiries=None, smiles=None, genesis_reason: bytes | None = None) -> tuple:
    """RiskRegistry constructor arguments, defaults filled in (expiries relative to `now`)."""
    if expiries is None and smiles is None:
        expiries, smiles = default_surface(now)
    return (
        market,
        admin,
        risk_manager,
        guardian,
        delay,
        surface_delay,
        grace_period,
        list(params if params is not None else default_params()),
        list(scenarios if scenarios is not None else default_scenarios()),
        list(expiries or []),
        list(smiles or []),
        genesis_reason or reason_hash(f"genesis {market}: vyopt.risk defaults"),
    )


def deploy_registry(admin, risk_manager, guardian, **kwargs):
    """boa: deploy RiskRegistry (see registry_constructor_args for the keyword arguments)."""
    import boa

    from vyopt.contracts import deployer

    args = registry_constructor_args(admin, risk_manager, guardian, now=boa.env.evm.patch.timestamp, **kwargs)
    return deployer("RiskRegistry").deploy(*args)


def deploy_mock_feed(decimals: int = 8, answer: int | None = None):
    """boa: deploy the Chainlink-compatible mock feed (answer in feed units; default 40,000 units)."""
    from vyopt.contracts import deployer

    if answer is None:
        answer = 40_000 * 10**decimals
    return deployer("testing/MockAggregator").deploy(decimals, answer)


def deploy_oracle(feed, registry):
    """boa: deploy PriceOracle on a feed, reading heartbeat/deviation/cooldown from the registry."""
    from vyopt.contracts import deployer

    return deployer("PriceOracle").deploy(feed, registry)


@dataclass
class RiskStack:
    registry: object
    feed: object
    oracle: object


def deploy_risk_stack(admin, risk_manager, guardian, *, feed_decimals: int = 8, **kwargs) -> RiskStack:
    """boa: registry (defaults) + mock feed + oracle."""
    registry = deploy_registry(admin, risk_manager, guardian, **kwargs)
    feed = deploy_mock_feed(feed_decimals)
    oracle = deploy_oracle(feed, registry)
    return RiskStack(registry, feed, oracle)


def read_params(registry) -> dict:
    """Every current registry parameter by name (contract units), plus roles, delays and surface."""
    out = {name: registry.param(i) for i, name in enumerate(PARAM_NAMES)}
    out["paused"] = registry.paused()
    out["admin"] = str(registry.admin())
    out["risk_manager"] = str(registry.risk_manager())
    out["guardian"] = str(registry.guardian())
    out["delay"] = registry.delay()
    out["surface_delay"] = registry.surface_delay()
    out["grace_period"] = registry.grace_period()
    out["scenarios"] = [tuple(s) for s in registry.scenarios()]
    out["expiries"] = list(registry.expiries())
    out["smiles"] = {e: tuple(registry.smile(e)) for e in out["expiries"]}
    return out


def gas_report(out_dir: str | Path | None = None) -> dict:
    """Execution gas of the registry's and oracle's hot paths in titanoboa (md + json when out_dir is given).

    "cold": every storage slot and account is first touched by the measured call, as in a transaction
    that does nothing else (boa's warm/cold counters are reset before the call).  "warm": the same call
    again with the counters kept, as when the margin engine reads several strikes of one expiry in one
    transaction.  Execution gas only: add 21,000 + calldata for a standalone transaction; a call from
    another contract adds ~2,600 (cold account) or ~100 (warm) for the CALL itself.
    Deploys into the current boa environment and moves its clock (resetting boa's access counters
    cannot be done inside an anchor); run it in its own process: python -m vyopt.risk.
    """
    import boa

    from vyopt.report import md_table, write_json

    rows = {}
    admin = boa.env.generate_address("admin")
    rm = boa.env.generate_address("risk_manager")
    guardian = boa.env.generate_address("guardian")
    reg = deploy_registry(admin, rm, guardian)
    feed = deploy_mock_feed(8)
    oracle = deploy_oracle(feed, reg)

    def gas_of(contract, fn, *args, warm=False, **kw):
        if not warm:
            boa.env._reset_access_counters()
        fn(*args, **kw)
        return contract._computation.get_gas_used()

    e = reg.expiries()[2]
    rows["implied_vol_at, ATM, cold"] = gas_of(reg, reg.implied_vol_at, e, wad(40000), wad(40000))
    rows["implied_vol_at, ATM, warm"] = gas_of(reg, reg.implied_vol_at, e, wad(40000), wad(40000), warm=True)
    rows["implied_vol_at, K/F = 0.7, cold"] = gas_of(reg, reg.implied_vol_at, e, wad(28000), wad(40000))
    rows["implied_vol_at, K/F = 0.7, warm"] = gas_of(reg, reg.implied_vol_at, e, wad(28000), wad(40000), warm=True)
    rows["im_ratio (a scalar getter), cold"] = gas_of(reg, reg.im_ratio)
    rows["scenarios (29), cold"] = gas_of(reg, reg.scenarios)
    r = reason_hash("gas report")
    rows["queue_param"] = gas_of(reg, reg.queue_param, 0, wad("1.35"), r, sender=rm)
    cid_param = reg.change_count()
    s = decode_smile(reg.smile(e))
    bumped = SVI(s.a * 1.02, s.b * 1.02, s.rho, s.m, s.sigma)
    rows["queue_smile, update (fast)"] = gas_of(reg, reg.queue_smile, e, encode_smile(bumped), r, sender=rm)
    cid_smile = reg.change_count()
    new_e = reg.expiries()[-1] + 30 * 86400
    t_new = (new_e - boa.env.evm.patch.timestamp - DEFAULT_DELAY) / YEAR
    rows["queue_smile, new expiry"] = gas_of(
        reg, reg.queue_smile, new_e, encode_smile(ssvi_smile(0.36 * t_new * 1.05, -0.3, 1.0)), r, sender=rm)
    cid_new = reg.change_count()
    grid = default_scenarios()
    grid[0] = (grid[0][0] - wad("0.01"), grid[0][1])
    rows["queue_scenarios (29)"] = gas_of(reg, reg.queue_scenarios, grid, r, sender=rm)
    cid_grid = reg.change_count()
    rows["queue_role"] = gas_of(reg, reg.queue_role, 2, boa.env.generate_address("guardian2"), r, sender=admin)
    cid_role = reg.change_count()
    reg.queue_param(1, wad("0.021"), r, sender=rm)
    rows["cancel (param)"] = gas_of(reg, reg.cancel, reg.change_count(), sender=guardian)
    boa.env.time_travel(seconds=reg.surface_delay())
    rows["execute smile update (fast)"] = gas_of(reg, reg.execute, cid_smile)
    boa.env.time_travel(seconds=reg.delay())
    rows["execute param"] = gas_of(reg, reg.execute, cid_param)
    rows["execute new expiry"] = gas_of(reg, reg.execute, cid_new)
    rows["execute scenarios (29)"] = gas_of(reg, reg.execute, cid_grid)
    rows["execute role"] = gas_of(reg, reg.execute, cid_role)
    feed.set_answer(40_100 * 10**8)
    rows["oracle update (first accept), cold"] = gas_of(oracle, oracle.update)
    feed.set_answer(40_200 * 10**8)
    rows["oracle update (accept), cold"] = gas_of(oracle, oracle.update)
    rows["oracle update (same round), cold"] = gas_of(oracle, oracle.update)
    rows["oracle price_for_risk_increase, cold"] = gas_of(oracle, oracle.price_for_risk_increase)
    boa.env.time_travel(seconds=10)
    feed.set_answer(40_200 * 10**8)
    t_settle = boa.env.evm.patch.timestamp - 5            # this round is the first stamped at or after it
    rows["oracle settlement_round, 1 round since t, cold"] = gas_of(oracle, oracle.settlement_round, t_settle)
    since = 1
    for k in (48, 1000):                                  # more rounds since t: the reads grow with log2(k)
        for _ in range(k - since):
            boa.env.time_travel(seconds=1)
            feed.set_answer(40_200 * 10**8)
        since = k
        rows[f"oracle settlement_round, {k} rounds since t, cold"] = gas_of(oracle, oracle.settlement_round, t_settle)

    report = {"tool": "titanoboa 0.2.8 (py-evm, cancun), Vyper 0.4.3",
              "unit": "execution gas (no 21000 intrinsic, no calldata)", "gas": rows}
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_json(out / "gas.json", report)
        table = md_table(["call", "gas"], [[k, v] for k, v in rows.items()])
        (out / "gas.md").write_text(f"# Risk registry and oracle gas\n\n{report['unit']}; {report['tool']}.\n\n{table}\n")
    return report


if __name__ == "__main__":  # python -m vyopt.risk  -> reports/risk/gas.{md,json}
    import json

    root = Path(__file__).resolve().parent.parent
    print(json.dumps(gas_report(root / "reports" / "risk"), indent=1))
