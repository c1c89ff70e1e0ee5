"""Reading a live vyopt deployment the same way on titanoboa (in-process) and on an ape network.

The tools take contract handles: anything with the contracts' ABI names (a boa VyperContract or an ape
ContractInstance).  Only the market is needed: it names its registry, oracle and engine, and the oracle its
feed.  What differs between the two back-ends is handled here, nowhere else:
    addresses        boa Address / ape checksummed str            -> checksummed str
    struct returns   boa and ape named tuples                     -> plain tuples
    the clock        boa: the in-process EVM's timestamp; ape: the head block's timestamp (an eth_call at
                     "latest" runs in that block's context, so the reference values at the same instant)
    events           ape: the contracts' logs; boa keeps no history, so the caller gives the account list

API
    Deployment(market, registry, oracle, feed, backend)     .now() -> int  .block() -> int | None  .pool -> str
    deployment(market, *, contract_at=None) -> Deployment    from the market handle (boa, or ape with
                                                              contract_at(address, name) -> handle)
    from_protocol(p) -> Deployment                            from deploy_local()'s (or load_protocol's) handles
    ape_contract_at(address, name) -> ContractInstance        ape handle with the ABI compiled from contracts/<name>.vy
    ape_deployment(market_address) -> Deployment              the whole ape deployment from the market address
    resolve(network_choice, market=None, deployment=None) -> Deployment   what the ape scripts work on: an explicit
                                                              market address, or vyopt.deploy.load_protocol(manifest)
    series_table(d) -> {id: reference.market.Series}
    book(d, account, table) -> (cash, {Series: contracts})    cash in quote units (float), the pool: d.pool
    reference_state(d, now=None, spot=None) -> MarketState    the reference model's view of the chain now
    account_events(d, from_block=0, to_block=None) -> list[str]   accounts seen in Deposit/Trade/Liquidation logs (ape)
    recent_events(d, from_block, to_block=None) -> list[dict]     market and registry logs, oldest first (ape)
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from reference import market as ref
from vyopt.market import pending_smiles
from vyopt.contracts import CONTRACTS, ROOT, sources_digest

WAD = 10**18


def addr(x) -> str:
    """Checksummed address string of a boa Address, an ape str or an account object."""
    from eth_utils import to_checksum_address

    x = getattr(x, "address", x)
    return to_checksum_address(str(x))


def as_tuple(x) -> tuple:
    return tuple(x)


@dataclass
class Deployment:
    market: object
    registry: object
    oracle: object
    feed: object
    backend: str  # "boa" | "ape"
    start_block: int = 0  # the deployment's first block when known (manifest): where log scans begin

    @property
    def pool(self) -> str:
        """The pool's key: the market's own address."""
        return addr(self.market.address)

    def now(self) -> int:
        if self.backend == "boa":
            import boa

            return int(boa.env.evm.patch.timestamp)
        from ape import chain

        return int(chain.blocks.head.timestamp)

    def block_time(self, number: int) -> int:
        """Timestamp of a block (ape)."""
        from ape import chain

        return int(chain.blocks[int(number)].timestamp)

    def block(self) -> int | None:
        if self.backend == "boa":
            import boa

            return int(boa.env.evm.patch.block_number)
        from ape import chain

        return int(chain.blocks.head.number)


def _backend(handle) -> str:
    return "boa" if type(handle).__module__.startswith("boa") else "ape"


def deployment(market, *, contract_at=None) -> Deployment:
    """The deployment behind a market handle.  boa: the other handles are rebuilt with the deployers of
    vyopt.contracts; ape: contract_at(address, name) must give a handle (default: ape_contract_at)."""
    backend = _backend(market)
    if contract_at is None:
        contract_at = _boa_at if backend == "boa" else ape_contract_at
    registry = contract_at(addr(market.registry()), "RiskRegistry")
    oracle = contract_at(addr(market.oracle()), "PriceOracle")
    feed = contract_at(addr(oracle.feed()), "testing/MockAggregator")  # only the AggregatorV3 views are used
    return Deployment(market=market, registry=registry, oracle=oracle, feed=feed, backend=backend)


def from_protocol(p) -> Deployment:
    """From an object with .market .registry .oracle (.feed optional) handles: vyopt.deploy.deploy_local()'s
    LocalProtocol or an ape deployment loaded by vyopt.deploy."""
    if getattr(p, "registry", None) is None or getattr(p, "oracle", None) is None:
        return deployment(p.market)
    feed = getattr(p, "feed", None)
    backend = _backend(p.market)
    if feed is None:
        at = _boa_at if backend == "boa" else ape_contract_at
        feed = at(addr(p.oracle.feed()), "testing/MockAggregator")
    manifest = getattr(p, "manifest", None) or {}
    blocks = [int(c["block"]) for c in (manifest.get("contracts") or {}).values() if isinstance(c, dict) and c.get("block")]
    start = min(blocks, default=0)
    return Deployment(market=p.market, registry=p.registry, oracle=p.oracle, feed=feed, backend=backend,
                      start_block=start)


def _boa_at(address, name):
    from vyopt.contracts import deployer

    return deployer(name).at(address)


@functools.cache
def source_abi(name: str) -> list:
    """ABI of contracts/<name>.vy compiled now (front-end only, ~0.5 s), cached under .build/abi/<sources digest>."""
    cache = ROOT / ".build" / "abi" / sources_digest()[:16] / f"{name.replace('/', '__')}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    from vyper.cli.vyper_compile import compile_files

    path = CONTRACTS / f"{name}.vy"
    out = compile_files([str(path)], ("abi",), paths=[str(CONTRACTS)])
    abi = next(iter(out.values()))["abi"]
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(abi))
    return abi


def ape_contract_at(address, name: str):
    from ape import chain

    return chain.contracts.instance_at(addr(address), abi=source_abi(name), fetch_from_explorer=False)


def ape_deployment(market_address) -> Deployment:
    return deployment(ape_contract_at(market_address, "OptionsMarket"))


def resolve(network_choice: str, market: str | None = None, deployment: str | None = None) -> Deployment:
    """The deployment an ape script works on (connected provider): --market ADDRESS (handles with the ABIs compiled
    from contracts/), else vyopt.deploy.load_protocol of --deployment FILE or of the network's manifest
    (deployments/<network>.json, written by `ape run deploy`)."""
    if market:
        return ape_deployment(market)
    from vyopt.deploy import load_protocol

    try:
        return from_protocol(load_protocol(deployment or network_choice))
    except FileNotFoundError as e:
        raise ValueError(f"{e}; or pass --market ADDRESS") from e


# ------------------------------------------------------------------------------------------------------------
# State as the reference model sees it


def series_table(d: Deployment) -> dict:
    out = {}
    for sid in range(1, int(d.market.series_count()) + 1):
        strike, expiry, is_call = as_tuple(d.market.series(sid))
        out[sid] = ref.series_from_wad(strike, expiry, is_call)
    return out


def book(d: Deployment, account, table: dict) -> tuple[float, dict]:
    """(collateral, {Series: contracts}) of an account or of the pool (d.pool)."""
    a = addr(account)
    cash = int(d.market.collateral(a)) / WAD
    pos = {}
    for sid in d.market.open_series(a):
        pos[table[int(sid)]] = int(d.market.position(a, int(sid))) / WAD
    return cash, pos


def reference_state(d: Deployment, now: int | None = None, spot: int | None = None, table: dict | None = None
                    ) -> ref.MarketState:
    """Oracle price (peek, as the market's views use it), live smiles, the grid, the 11 parameters and the
    recorded settlement prices, at `now` (default: the chain's clock)."""
    reg = d.registry
    now = d.now() if now is None else int(now)
    if spot is None:
        spot = int(as_tuple(d.oracle.peek())[0])
    table = series_table(d) if table is None else table
    expiries = sorted({s.expiry for s in table.values()} | {int(e) for e in reg.expiries()})
    smiles = {e: as_tuple(reg.smile(e)) for e in expiries if e > now and reg.is_listed(e)}
    written = {e: int(reg.smile_updated_at(e)) for e in smiles}
    settlement = {}
    for e in expiries:
        if e <= now:
            sp = int(d.market.settlement_price(e))
            if sp:
                settlement[e] = sp
    params = [int(x) for x in reg.all_params()]
    grid = [as_tuple(s) for s in reg.scenarios()]
    return ref.state_from_wad(spot, now, smiles, grid, params, settlement, written=written,
                              pending=pending_smiles(reg, smiles))


# ------------------------------------------------------------------------------------------------------------
# Events (ape)

ACCOUNT_EVENTS = (("Deposit", "account"), ("Trade", "account"), ("Liquidation", "account"))
MARKET_EVENTS = ("Trade", "Liquidation", "BadDebt", "ExpirySettled", "SeriesListed", "InsuranceFunded",
                 "LpDeposit", "LpWithdraw")
REGISTRY_EVENTS = ("ParamChange", "SmileChange", "ScenariosChange", "RoleChange", "Paused", "Unpaused")


def _logs(contract, event: str, start: int, stop: int):
    return list(getattr(contract, event).range(start, stop + 1))


def account_events(d: Deployment, from_block: int | None = None, to_block: int | None = None) -> list[str]:
    """Every account that deposited, traded or was liquidated in [from_block (default: the deployment's first
    block), to_block] (ape logs), in order of first appearance."""
    if d.backend != "ape":
        raise ValueError("monitor: boa keeps no event history; pass the accounts")
    from_block = d.start_block if from_block is None else from_block
    to_block = d.block() if to_block is None else to_block
    seen = {}
    for event, field in ACCOUNT_EVENTS:
        for log in _logs(d.market, event, from_block, to_block):
            seen.setdefault(addr(log.event_arguments[field]), (log.block_number, log.log_index))
    return [a for a, _ in sorted(seen.items(), key=lambda kv: kv[1])]


def _plain(v):
    if isinstance(v, (bytes, bytearray)):
        return "0x" + bytes(v).hex()
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, int) or isinstance(v, bool):
        return v
    return str(v)


def recent_events(d: Deployment, from_block: int, to_block: int | None = None) -> list[dict]:
    """Market and registry logs in [from_block, to_block], oldest first: {contract, event, block, args}."""
    if d.backend != "ape":
        return []
    to_block = d.block() if to_block is None else to_block
    if to_block < from_block:
        return []
    out = []
    for contract, name, events in ((d.market, "market", MARKET_EVENTS), (d.registry, "registry", REGISTRY_EVENTS)):
        for event in events:
            for log in _logs(contract, event, from_block, to_block):
                out.append({"contract": name, "event": event, "block": int(log.block_number),
                            "log_index": int(log.log_index),
                            "args": {k: _plain(v) for k, v in log.event_arguments.items()}})
    out.sort(key=lambda e: (e["block"], e["log_index"]))
    return out
