"""Helpers of the registry, oracle and market properties (a helper module: registry.properties() does not import
it as a property module).

    PROTOCOL, FEED, TOKEN        the manifest's contract names (vyopt.deploy.deploy_network: the mocks are
                                 "testing/MockAggregator" and "testing/MockERC20")
    artifact(name) -> Artifact   the local compile of a manifest name
    protocol_build(overrides)    every protocol contract's artifact, some replaced (a mutant's)
    deploy_build(backend, artifacts, feed=None) -> {name: address}
                                 deploys a build on a writable back-end with the protocol's wiring and the
                                 constructor arguments of vyopt.deploy.deploy_local (vyopt.risk defaults, a mock
                                 feed at 40,000 or the given feed, a 6-decimal mock collateral), then records the
                                 first oracle price (refuses a feed whose answer the oracle does not accept)
    fund(backend, contracts, who, tokens, deposit=True, lp=False), list_series(backend, contracts, ...)
                                 actors and series on a writable back-end (open mint; the risk manager
                                 impersonated on a fork)
    ROLES                        which of backend.accounts(10) hold which role in deploy_build
    feed_history(backend, contracts)
                                 ~40 rounds of the mock feed (small moves, a round more than a heartbeat late, a
                                 +12% jump and its return, back to 40,000), none accepted by the oracle until
                                 the next update: the settlement property then has every case to prove
    populate(backend, contracts) -> dict
                                 feed_history, then a small trading history on a writable back-end: 12 series,
                                 an LP, a buyer and a writer (the read-only market properties then have series
                                 and accounts to read)
    MarketReader(ctx)            on-chain state through the Contract handles, as the reference sees it:
                                 .state() -> reference.market.MarketState, .table, .positions(account),
                                 .accounts() (every account that ever held collateral, from the market's logs)

Nothing here decides a property: the properties (registry.py, oracle.py, market.py) state the rules and bars.
"""
from __future__ import annotations

from decimal import Decimal

from reference import market as ref
from vyopt.market import pending_smiles

from ..artifacts import Artifact, local_artifact
from ..backends import event_topic

WAD = 10**18
YEAR = 365 * 86400
# the names a deployment manifest gives the contracts (vyopt.deploy.deploy_network: vyopt.contracts names, so the
# mocks are "testing/..."): each is the source contracts/<name>.vy
FEED, TOKEN = "testing/MockAggregator", "testing/MockERC20"
PROTOCOL = ("BlackScholes", "RiskRegistry", FEED, "PriceOracle", TOKEN, "MarginEngine", "OptionsMarket")
# backend.accounts(10): 0 deploys, 1..6 are the audit's actors, 7..9 the roles (distinct, as the registry requires)
ROLES = {"deployer": 0, "admin": 7, "risk_manager": 8, "guardian": 9}
ACTORS = (1, 2, 3, 4, 5, 6)
SPOT = 40_000
FEED_DECIMALS = 8
COLLATERAL_DECIMALS = 6


def artifact(name: str) -> Artifact:
    """The local compile of contracts/<name>.vy, named as the manifest names it."""
    return local_artifact(name)


def protocol_build(overrides: dict | None = None) -> dict:
    """Every protocol contract's local compile, with `overrides` (name -> Artifact) in place."""
    out = {n: artifact(n) for n in PROTOCOL}
    for n, a in (overrides or {}).items():
        out[n] = a
    return out


def deploy_build(backend, artifacts: dict, feed: str | None = None) -> dict:
    """Deploy `artifacts` (name -> Artifact) on a writable back-end; returns name -> address.  The protocol's
    contracts get their wiring (registry -> oracle -> engine -> market); any other contract is deployed with no
    constructor arguments (the stand-alone pricer).  feed: an existing Chainlink-style feed for the oracle
    instead of the mock (then no testing/MockAggregator is deployed)."""
    from vyopt import risk

    acc = backend.accounts(10)
    deployer = acc[ROLES["deployer"]]
    out = {}
    for name, art in artifacts.items():
        if name not in PROTOCOL or name == "BlackScholes":
            out[name] = backend.deploy(art, sender=deployer).address
    if not set(artifacts) & (set(PROTOCOL) - {"BlackScholes"}):
        return out
    missing = set(PROTOCOL) - {"BlackScholes"} - ({FEED} if feed else set()) - set(artifacts)
    if missing:
        raise ValueError(f"a protocol build needs every contract; missing {', '.join(sorted(missing))}")
    args = risk.registry_constructor_args(acc[ROLES["admin"]], acc[ROLES["risk_manager"]], acc[ROLES["guardian"]],
                                          now=backend.timestamp())
    reg = backend.deploy(artifacts["RiskRegistry"], *args, sender=deployer)
    if feed is None:
        out[FEED] = backend.deploy(artifacts[FEED], FEED_DECIMALS, SPOT * 10**FEED_DECIMALS, sender=deployer).address
    oracle = backend.deploy(artifacts["PriceOracle"], feed or out[FEED], reg.address, sender=deployer)
    token = backend.deploy(artifacts[TOKEN], "Test USD Coin", "tUSDC", COLLATERAL_DECIMALS, sender=deployer)
    engine = backend.deploy(artifacts["MarginEngine"], reg.address, sender=deployer)
    market = backend.deploy(artifacts["OptionsMarket"], reg.address, oracle.address, token.address, engine.address,
                            sender=deployer)
    _ok(oracle.transact("update", sender=deployer), "oracle.update")
    price, ok, status = oracle.peek()
    if not ok:
        raise RuntimeError(f"the oracle refused the feed's answer (status {status}): the market could not value anything")
    out.update({"RiskRegistry": reg.address, "PriceOracle": oracle.address, TOKEN: token.address,
                "MarginEngine": engine.address, "OptionsMarket": market.address})
    return out


def _ok(tx, what: str):
    if not tx.success:
        raise RuntimeError(f"{what} reverted: {tx.reason}")
    return tx


def token_units(token, whole) -> int:
    return int(Decimal(str(whole)) * 10 ** int(token.decimals()))


def fund(backend, contracts: dict, who: str, whole_tokens, *, deposit: bool = True, lp: bool = False) -> int:
    """Mint (the mock collateral's open mint), approve the market and deposit (or lp_deposit); token units."""
    token, market = contracts[TOKEN], contracts["OptionsMarket"]
    amount = token_units(token, whole_tokens)
    _ok(token.transact("mint", who, amount, sender=who), "mint")
    _ok(token.transact("approve", market.address, 2**256 - 1, sender=who), "approve")
    if lp:
        _ok(market.transact("lp_deposit", amount, sender=who), "lp_deposit")
    elif deposit:
        _ok(market.transact("deposit", amount, sender=who), "deposit")
    return amount


def list_series(backend, contracts: dict, strikes_rel=(0.9, 1.0, 1.1), n_expiries: int = 2) -> list[int]:
    """List calls and puts at strikes_rel x spot (rounded to 1,000) on the first live expiries, as the registry's
    risk manager (impersonated on a fork); returns the new series ids."""
    reg, market, oracle = contracts["RiskRegistry"], contracts["OptionsMarket"], contracts["PriceOracle"]
    rm = backend.impersonate(reg.risk_manager())
    now = backend.timestamp()
    spot = oracle.peek()[0]
    expiries = [e for e in reg.expiries() if e > now + 86400][:n_expiries]
    ids = []
    for e in expiries:
        for r in strikes_rel:
            strike = round(spot * r / WAD / 1000) * 1000 * WAD
            for is_call in (True, False):
                before = market.series_count()
                tx = market.transact("list_series", strike, e, is_call, sender=rm)
                if tx.success:
                    ids.append(before + 1)
                elif tx.reason != "market: series exists":
                    raise RuntimeError(f"list_series reverted: {tx.reason}")
    return ids


# (seconds after the previous round, answer as a multiple of SPOT): small moves a minute apart, a round two
# hours late (stale for a t just after the one before), a +12% jump and its return (beyond the 10% max
# deviation), then back to SPOT.  Moves within the band never need the oracle to accept them.
FEED_HISTORY = ([(60, 1 + 0.003 * ((-1) ** k) * (k % 4)) for k in range(30)] + [(7_200, 1.002)]
                + [(60, 1.12), (60, 1.0)] + [(60 + k, 1 + 0.001 * k) for k in range(5)] + [(60, 1.0)])


def feed_history(backend, contracts: dict) -> None:
    """Write FEED_HISTORY to the mock feed (one round per block, its timestamp set by the clock moves)."""
    feed, sender = contracts[FEED], backend.accounts(10)[ROLES["deployer"]]
    for seconds, mult in FEED_HISTORY:
        backend.time_travel(seconds - 1)          # the round's own block comes one second later
        _ok(feed.transact("set_answer", int(round(SPOT * mult, 2) * 10**FEED_DECIMALS), sender=sender),
            "feed round")


def populate(backend, contracts: dict) -> dict:
    """The mock feed's history (feed_history), then a small trading history: 12 series, an LP (2,000,000 tokens), a
    buyer (200,000) who buys calls and puts, a writer (100,000) who writes a call and a put.  Returns the actors'
    addresses by role."""
    if FEED in contracts:                          # the mock feed (another feed's rounds are not ours to write)
        feed_history(backend, contracts)
    acc = backend.accounts(10)
    lp, buyer, writer = acc[ACTORS[0]], acc[ACTORS[1]], acc[ACTORS[2]]
    ids = list_series(backend, contracts)
    fund(backend, contracts, lp, 2_000_000, lp=True)
    fund(backend, contracts, buyer, 200_000)
    fund(backend, contracts, writer, 100_000)
    market = contracts["OptionsMarket"]
    for who, sid, size in ((buyer, ids[0], 3 * WAD // 2), (buyer, ids[3], WAD), (buyer, ids[7], 2 * WAD),
                           (writer, ids[2], -WAD), (writer, ids[5], -WAD // 2), (writer, ids[9], -3 * WAD // 4)):
        limit = 2**256 - 1 if size > 0 else 0
        _ok(market.transact("trade", sid, size, limit, 2**64, sender=who), f"trade {sid} {size}")
    return {"lp": lp, "buyer": buyer, "writer": writer, "series": ids}


class MarketReader:
    """The market's on-chain state through a property's Contract handles, as reference.market sees it (the
    bridge of vyopt/market.py reference_state, for handles on any back-end).  Every value comes from a view
    of the audited contracts at the block the back-end calls at; `now` is that block's timestamp."""

    def __init__(self, ctx):
        self.backend = ctx.backend
        self.market = ctx.contract("OptionsMarket")
        self.registry = ctx.contract("RiskRegistry")
        self.oracle = ctx.contract("PriceOracle")
        self._table = None
        self._registry = None

    @property
    def table(self) -> dict:
        """series id -> (reference.market.Series, (strike, expiry, is_call) as WAD integers)."""
        if self._table is None or len(self._table) != self.market.series_count():
            self._table = {}
            for sid in range(1, self.market.series_count() + 1):
                strike, expiry, is_call = self.market.series(sid)
                self._table[sid] = (ref.series_from_wad(strike, expiry, is_call), (strike, expiry, is_call))
        return self._table

    def registry_state(self) -> dict:
        """The registry's part of the state (smiles of the listed expiries, grid, parameters), read once per reader:
        nothing the audit's properties do changes the registry."""
        if self._registry is None:
            reg = self.registry
            expiries = sorted({int(e) for e in reg.expiries()})
            listed = [e for e in expiries if reg.is_listed(e)]
            self._registry = {"smiles": {e: tuple(reg.smile(e)) for e in listed},
                              "written": {e: int(reg.smile_updated_at(e)) for e in listed},
                              "pending": pending_smiles(reg, listed),
                              "grid": [tuple(s) for s in reg.scenarios()], "params": list(reg.all_params())}
        return self._registry

    def state(self, spot: int | None = None) -> ref.MarketState:
        """The reference's MarketState now: the oracle's price to use (peek), the block's timestamp, the live
        smiles, grid and parameters, and the recorded settlement prices of the series' expiries."""
        r = self.registry_state()
        now = self.backend.timestamp()
        if spot is None:
            spot = self.oracle.peek()[0]
        series_expiries = sorted({raw[1] for _, raw in self.table.values() if raw[1] <= now})
        settlement = {e: p for e in series_expiries if (p := self.market.settlement_price(e))}
        return ref.state_from_wad(spot, now, {e: s for e, s in r["smiles"].items() if e > now}, r["grid"], r["params"],
                                  settlement, written=r["written"],
                                  pending={e: q for e, q in r["pending"].items() if e > now})

    def positions(self, account: str) -> dict:
        """{reference Series: contracts} of an account (the pool: the market's address)."""
        table = self.table
        return {table[int(sid)][0]: self.market.position(account, sid) / WAD for sid in self.market.open_series(account)}

    def accounts(self) -> list[str]:
        """Every address that can hold collateral in the market: depositors, traders, liquidated accounts and
        keepers (rewards are paid as collateral), from the market's logs; sorted, the pool not included."""
        art = self.market.artifact
        seen = set()
        for ev, idx in (("Deposit", (1,)), ("Trade", (1,)), ("Liquidation", (1, 2)), ("Withdraw", (1,))):
            for lg in self.backend.logs(self.market.address, event_topic(art, ev)):
                for i in idx:
                    seen.add("0x" + lg.topics[i][-20:].hex())
        from eth_utils import to_checksum_address

        return sorted(to_checksum_address(a) for a in seen)
