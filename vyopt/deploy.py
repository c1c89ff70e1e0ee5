"""Deploying vyopt: in process (titanoboa) for tests and tools, and on an ape network for users.

API
    deploy_local(...) -> LocalProtocol          the whole protocol in titanoboa's in-process EVM (tests, tools)
    deploy_network(account, network_name, out_dir=None, dry_run=False, fresh=True, *, feed=None,
                   collateral=None, roles=None, spot=40_000, list_series=True, ...) -> dict (the manifest)
                                                 what `ape run deploy` calls: the whole protocol through the
                                                 connected ape provider, manifest deployments/<network>.json;
                                                 dry_run: every step on an anvil fork, gas estimates only
    load_protocol(manifest_or_network=None) -> NetworkProtocol   ape instances of a deployment (scripts attach)
    read_manifest(manifest_or_network=None) -> dict
    resolve_roles(network, roles) -> dict        admin / risk_manager / guardian (pairwise distinct)
    series_strikes(spot_wad, factors) -> list    the initial chain's strikes
    compiled(name) -> {abi, initcode, runtime}   the current sources' compile (disk-cached per sources digest)
    fresh_containers(names) -> dict              ape containers compiled by ape-vyper now (no ape cache)
    bytecode_hash(code) -> str                   "0x" + sha256 (the manifest's runtime_bytecode_sha256)
    PROTOCOL, DEPLOYABLES, COMPONENTS, MOCK_FEED, MOCK_TOKEN, DeploymentError

Manifest contract names are the names vyopt.contracts compiles ('OptionsMarket', 'testing/MockAggregator'),
so the audit's bytecode check (vyopt.audit.manifest.verify_deployment) finds each one's source.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from .contracts import ROOT, deployer

# what the audit deploys without constructor arguments and audits (tests/audit, vyopt.audit): the pricer
DEPLOYABLES = ("BlackScholes",)
# every deployable of the protocol, in deployment order (ABI files in abi/, deploy_network)
PROTOCOL = ("BlackScholes", "RiskRegistry", "PriceOracle", "MarginEngine", "OptionsMarket")
# the mocks deploy_network uses when no feed / collateral address is given
MOCK_FEED, MOCK_TOKEN = "testing/MockAggregator", "testing/MockERC20"
# component of a deployment -> the contract it is (the ABI load_protocol uses; a given feed or token is
# attached with the mock's ABI, whose read functions are the Chainlink / ERC-20 ones)
COMPONENTS = {"pricer": "BlackScholes", "registry": "RiskRegistry", "feed": MOCK_FEED, "oracle": "PriceOracle",
              "collateral": MOCK_TOKEN, "engine": "MarginEngine", "market": "OptionsMarket"}


class _Roles:
    """Role addresses by name, from `self.roles` (admin, risk_manager, guardian, deployer)."""

    @property
    def admin(self):
        return self.roles.get("admin")

    @property
    def risk_manager(self):
        return self.roles.get("risk_manager")

    @property
    def guardian(self):
        return self.roles.get("guardian")


@dataclass
class LocalProtocol(_Roles):
    """Handles of an in-process deployment.  `pricer` is the stand-alone BlackScholes; `roles` maps a role
    name (admin, risk_manager, guardian, deployer) to its address."""

    pricer: object
    roles: dict = field(default_factory=dict)
    registry: object = None
    feed: object = None
    oracle: object = None
    collateral: object = None
    engine: object = None
    market: object = None


def deploy_local(*, collateral_decimals: int = 6, spot: int = 40_000, feed_decimals: int = 8,
                 registry_kwargs: dict | None = None) -> LocalProtocol:
    """The whole protocol in titanoboa's in-process EVM: pricer, risk registry (vyopt.risk defaults: SSVI
    surface at 60% ATM vol over six expiries, the 29-scenario grid), a Chainlink-style mock feed at `spot`
    (whole units), the guarded oracle (first price recorded), a `collateral_decimals` test token
    (testing/MockERC20, open mint), the margin engine and the options market.  No series are listed: see
    vyopt.market.list_chain()."""
    import boa

    from . import risk

    admin = boa.env.generate_address("admin")
    risk_manager = boa.env.generate_address("risk_manager")
    guardian = boa.env.generate_address("guardian")
    deployer_address = boa.env.eoa
    pricer = deployer("BlackScholes").deploy()
    registry = risk.deploy_registry(admin, risk_manager, guardian, **(registry_kwargs or {}))
    feed = risk.deploy_mock_feed(feed_decimals, spot * 10**feed_decimals)
    oracle = risk.deploy_oracle(feed, registry)
    oracle.update()
    collateral = deployer("testing/MockERC20").deploy("Test USD Coin", "tUSDC", collateral_decimals)
    engine = deployer("MarginEngine").deploy(registry.address)
    market = deployer("OptionsMarket").deploy(registry.address, oracle.address, collateral.address, engine.address)
    roles = {"admin": admin, "risk_manager": risk_manager, "guardian": guardian, "deployer": deployer_address}
    return LocalProtocol(pricer=pricer, roles=roles, registry=registry, feed=feed, oracle=oracle,
                         collateral=collateral, engine=engine, market=market)


def bytecode_hash(code: bytes) -> str:
    return "0x" + hashlib.sha256(bytes(code)).hexdigest()


def fresh_containers(names=DEPLOYABLES) -> dict:
    """ape contract containers compiled now from contracts/<name>.vy, bypassing ape's compile cache: ape-vyper
    0.8.12 does not notice an edit in an imported module (e.g. contracts/math/black_scholes.vy), so
    `project.BlackScholes` can be stale bytecode (seen: the audit's bytecode check refused such a deployment)."""
    from ape import project

    out = {}
    for name in names:
        out.update(project.load_contracts(f"contracts/{name}.vy", use_cache=False))
    return {name: out[name.rsplit("/", 1)[-1]] for name in names}


# ---------------------------------------------------------------------------------------------------------------
# Network deployment (ape)

FEED_DECIMALS = 8                                   # the mock feed's decimals (Chainlink USD pairs use 8)
SERIES_STRIKES = ("0.8", "0.9", "1", "1.1", "1.2")  # listed strikes as fractions of the oracle's spot
SERIES_EXPIRIES = 2                                 # listed on the first N registry expiries
ROLE_NAMES = ("admin", "risk_manager", "guardian")
_ZERO = "0x" + "00" * 20


class DeploymentError(Exception):
    """Refused before anything was sent (bad roles, feed, collateral), or a step failed (message says which)."""


def manifest_path(network_name: str, out_dir: Path | None = None, dry_run: bool = False) -> Path:
    """deployments/<network with ':' -> '_'>.json (or .dryrun.json) under out_dir (default: the repo's deployments/)."""
    stem = network_name.replace(":", "_")
    return Path(out_dir or ROOT / "deployments") / (f"{stem}.dryrun.json" if dry_run else f"{stem}.json")


def _jsonable(x):
    """Constructor arguments as JSON: bytes -> 0x hex, tuples -> lists, addresses -> checksummed strings."""
    if isinstance(x, (bytes, bytearray)):
        return "0x" + bytes(x).hex()
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, bool) or x is None or isinstance(x, (int, float)):
        return x
    return str(x)


def series_strikes(spot_wad: int, factors=SERIES_STRIKES) -> list[int]:
    """Strikes (WAD) at `factors` x spot, rounded to two significant digits of spot (40,000 -> steps of 1,000),
    distinct and increasing."""
    from fractions import Fraction

    spot_wad = int(spot_wad)
    if spot_wad <= 0:
        raise DeploymentError("no spot price to place strikes around")
    step = 10 ** max(len(str(spot_wad)) - 2, 0)
    out = []
    for f in factors:
        k = round(Fraction(spot_wad) * Fraction(str(f)) / step) * step
        if k > 0 and k not in out:
            out.append(k)
    return sorted(out)


def _checksum(a) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(str(getattr(a, "address", a)))


def resolve_roles(network, roles: dict | None) -> dict:
    """admin / risk_manager / guardian addresses.  RiskRegistry requires them non-zero and pairwise distinct
    (risk/roles.vy: the guardian is a real second key), so there is no 'all = the deployer' default: on a local
    network (or a fork) the default is ape's test accounts 0, 1, 2; elsewhere all three must be given."""
    if roles is None or not any(roles.get(r) for r in ROLE_NAMES):
        if not network.is_dev:
            raise DeploymentError(f"on {network.choice} pass the roles explicitly (--admin, --risk-manager, --guardian): "
                                  "three distinct addresses; the test accounts are only a default on local networks")
        from ape import accounts

        roles = {r: accounts.test_accounts[i].address for i, r in enumerate(ROLE_NAMES)}
    missing = [r for r in ROLE_NAMES if not roles.get(r)]
    if missing:
        raise DeploymentError(f"roles missing: {', '.join(missing)} (give all three or none)")
    out = {r: _checksum(roles[r]) for r in ROLE_NAMES}
    if _ZERO in {a.lower() for a in out.values()}:
        raise DeploymentError("a role is the zero address")
    if len({a.lower() for a in out.values()}) != 3:
        raise DeploymentError(f"roles must be pairwise distinct (RiskRegistry refuses otherwise): {out}")
    return out


_CONTAINERS: dict = {}


def compiled(name: str) -> dict:
    """{abi, initcode, runtime} of contracts/<name>.vy as the in-process EVM compiles it (vyopt.contracts: the
    same compile the audit's local_artifact compares a deployment with), kept on disk under
    .build/deploy-artifacts/<digest of contracts/> so that another process (the `ape run deploy` script)
    does not compile again; any source change gives a new digest, hence a fresh compile."""
    from .contracts import sources_digest

    digest = sources_digest()
    key = (digest, name)
    if key in _CONTAINERS:
        return _CONTAINERS[key]
    cache = ROOT / ".build" / "deploy-artifacts" / digest[:16] / (name.replace("/", "__") + ".json")
    if cache.exists():
        out = json.loads(cache.read_text())
    else:
        from vyper.compiler.output import build_abi_output

        before = deployer.cache_info().currsize
        cd = deployer(name).compiler_data
        out = {"abi": build_abi_output(cd), "initcode": "0x" + bytes(cd.bytecode).hex(),
               "runtime": "0x" + bytes(cd.bytecode_runtime).hex()}
        # vyopt.contracts compiles once per process (and keys titanoboa's cache by the digest of its first
        # use): keep the result on disk only when it was compiled now, from the sources of this digest
        if deployer.cache_info().currsize > before and _boa_cache_digest() == digest[:16] == sources_digest()[:16]:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_name(cache.name + f".{os.getpid()}")
            tmp.write_text(json.dumps(out))
            tmp.replace(cache)  # atomic: a parallel process never reads half a file
            _prune(cache.parent.parent, keep=8)
    _CONTAINERS[key] = out
    return out


def _prune(folder: Path, keep: int) -> None:
    """Remove all but the `keep` most recent digest folders (each is a few hundred kB)."""
    import shutil

    dirs = sorted((d for d in folder.iterdir() if d.is_dir()), key=lambda d: d.stat().st_mtime, reverse=True)
    for d in dirs[keep:]:
        shutil.rmtree(d, ignore_errors=True)


def _boa_cache_digest() -> str | None:
    """The name of the titanoboa cache folder vyopt.contracts chose (a sources digest prefix), if any."""
    import boa.interpret

    c = getattr(boa.interpret, "_disk_cache", None)
    return Path(c.cache_dir).name if c is not None else None


def _containers(names, fresh: bool) -> dict:
    """ape contract containers by name.  fresh: built from compiled() (the current sources, compiled once per
    state of contracts/); otherwise ape's project containers (its compile cache can be stale, see
    fresh_containers)."""
    from ape import project

    if not fresh:
        return {n: getattr(project, n.rsplit("/", 1)[-1]) for n in names}
    from ape.contracts import ContractContainer
    from ethpm_types import ContractType

    out = {}
    for n in names:
        a = compiled(n)
        ct = ContractType.model_validate({"contractName": n.rsplit("/", 1)[-1], "sourceId": _source(n), "abi": a["abi"],
                                          "deploymentBytecode": {"bytecode": a["initcode"]},
                                          "runtimeBytecode": {"bytecode": a["runtime"]}})
        out[n] = ContractContainer(ct)
    return out


def _source(name: str) -> str:
    return f"contracts/{name}.vy"


class _ApeSender:
    """Sends the deployment through the connected ape provider, signed by `account`."""

    def __init__(self, account, containers: dict, confirmations: int | None = None):
        from ape import chain

        self.account, self.containers, self.chain = account, containers, chain
        # ape waits for the network's required_confirmations (Sepolia: 2) unless told otherwise
        self.tx_kw = {} if confirmations is None else {"required_confirmations": int(confirmations)}
        self.address = _checksum(account.address)
        self._at: dict = {}

    def now(self) -> int:
        return int(self.chain.blocks.head.timestamp)

    def instance(self, name: str, address: str):
        key = (name, address)
        if key not in self._at:
            self._at[key] = self.containers[name].at(address)
        return self._at[key]

    def deploy(self, name: str, args: tuple) -> dict:
        inst = self.containers[name].deploy(*args, sender=self.account, **self.tx_kw)
        r = self.chain.provider.get_receipt(inst.txn_hash)
        address = _checksum(inst.address)
        self._at[(name, address)] = inst
        return {"address": address, "tx": str(inst.txn_hash), "block": int(r.block_number), "gas_used": int(r.gas_used)}

    def transact(self, name: str, address: str, method: str, args: tuple = ()) -> dict:
        r = getattr(self.instance(name, address), method)(*args, sender=self.account, **self.tx_kw)
        return {"tx": str(r.txn_hash), "block": int(r.block_number), "gas_used": int(r.gas_used)}

    def call(self, name: str, address: str, method: str, args: tuple = ()):
        return getattr(self.instance(name, address), method)(*args)

    def code(self, address: str) -> bytes:
        return bytes(self.chain.provider.get_code(address))


class _ForkSender:
    """The dry run: the same steps on an anvil fork of the network (at its head), sent from the deployer's
    address impersonated there, through web3.  Nothing reaches the network itself; since the fork starts at
    the deployer's real nonce, the addresses it yields are the ones a real deployment made next would get."""

    def __init__(self, account, containers: dict, node_url: str, block: int):
        from web3 import HTTPProvider, Web3

        from .audit.anvil import Anvil, rpc

        self.containers = containers
        self.address = _checksum(account.address)
        self.anvil = Anvil(fork_url=node_url, fork_block=block)
        try:
            rpc(self.anvil.url, "anvil_impersonateAccount", [self.address])
            self.w3 = Web3(HTTPProvider(self.anvil.url, request_kwargs={"timeout": 60}))
            self.balance = int(self.w3.eth.get_balance(self.address))
            self.topped_up = False
            if self.balance < 10**20:  # estimates must not stop at "insufficient funds": the shortfall is reported
                rpc(self.anvil.url, "anvil_setBalance", [self.address, hex(10**21)])
                self.topped_up = True
        except Exception:
            self.anvil.close()
            raise
        self._abi: dict = {}

    def close(self):
        self.anvil.close()

    def abi(self, name: str) -> list:
        if name not in self._abi:
            self._abi[name] = self.containers[name].contract_type.model_dump(mode="json", by_alias=True)["abi"]
        return self._abi[name]

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def _send(self, fn, deploy: bool) -> dict:
        tx = {"from": self.address}
        estimate = int(fn.estimate_gas(tx))
        h = fn.transact({**tx, "gas": estimate})
        r = self.w3.eth.wait_for_transaction_receipt(h, timeout=60)
        if r["status"] != 1:
            raise DeploymentError(f"dry run: transaction {h.hex()} reverted on the fork")
        out = {"gas_estimate": estimate, "gas_used": int(r["gasUsed"]), "block": int(r["blockNumber"])}
        if deploy:
            out["address"] = _checksum(r["contractAddress"])
        return out

    def deploy(self, name: str, args: tuple) -> dict:
        c = self.w3.eth.contract(abi=self.abi(name), bytecode=self.containers[name].contract_type.deployment_bytecode.bytecode)
        return self._send(c.constructor(*args), deploy=True)

    def transact(self, name: str, address: str, method: str, args: tuple = ()) -> dict:
        c = self.w3.eth.contract(address=address, abi=self.abi(name))
        return self._send(c.functions[method](*args), deploy=False)

    def call(self, name: str, address: str, method: str, args: tuple = ()):
        c = self.w3.eth.contract(address=address, abi=self.abi(name))
        return c.functions[method](*args).call()

    def code(self, address: str) -> bytes:
        return bytes(self.w3.eth.get_code(address))


def _check_feed(s, feed: str, heartbeat: int) -> dict:
    """A given Chainlink feed must answer decimals() <= 18 and a positive, complete, fresh latestRoundData,
    or the oracle's first update() would fail after five contracts were paid for."""
    if not s.code(feed):
        raise DeploymentError(f"feed {feed}: no contract at this address on this network")
    try:
        decimals = int(s.call(MOCK_FEED, feed, "decimals"))
        round_id, answer, _, updated_at, answered_in = (int(v) for v in s.call(MOCK_FEED, feed, "latestRoundData"))
    except DeploymentError:
        raise
    except Exception as e:
        raise DeploymentError(f"feed {feed}: not a Chainlink aggregator (decimals/latestRoundData failed: {e})") from e
    now = s.now()
    if decimals > 18:
        raise DeploymentError(f"feed {feed}: {decimals} decimals (the oracle takes at most 18)")
    if answer <= 0:
        raise DeploymentError(f"feed {feed}: non-positive answer {answer}")
    if answered_in < round_id:
        raise DeploymentError(f"feed {feed}: incomplete round {round_id} (answered in {answered_in})")
    if now - updated_at > heartbeat:
        raise DeploymentError(f"feed {feed}: last update {now - updated_at} s ago, above the oracle heartbeat of "
                              f"{heartbeat} s (raise oracle_heartbeat through registry_kwargs / --heartbeat)")
    info = {"address": feed, "decimals": decimals, "answer": answer, "updated_at": updated_at}
    try:
        info["description"] = str(s.call(MOCK_FEED, feed, "description"))
    except Exception:
        pass
    return info


def _check_collateral(s, token: str) -> dict:
    if not s.code(token):
        raise DeploymentError(f"collateral {token}: no contract at this address on this network")
    try:
        decimals = int(s.call(MOCK_TOKEN, token, "decimals"))
    except Exception as e:
        raise DeploymentError(f"collateral {token}: decimals() failed ({e})") from e
    if decimals > 18:
        raise DeploymentError(f"collateral {token}: {decimals} decimals (the market takes at most 18)")
    info = {"address": token, "decimals": decimals}
    for k in ("symbol", "name"):
        try:
            info[k] = str(s.call(MOCK_TOKEN, token, k))
        except Exception:
            pass
    return info


def _run_steps(s, containers: dict, *, roles: dict, feed, collateral, spot: int, list_series: bool,
               registry_kwargs: dict, strikes, series_expiries: int, progress) -> dict:
    """The deployment, step by step, on a sender (_ApeSender: for real; _ForkSender: the dry run)."""
    from . import risk

    say = progress or (lambda msg: None)
    out = {"contracts": {}, "external": {}, "components": {}, "transactions": [], "series": [], "_args": {}}

    def deploy(component: str, name: str, args: tuple) -> str:
        say(f"deploying {name} ({component}) ...")
        r = s.deploy(name, args)
        entry = {"component": component, "source": _source(name), "constructor_args": _jsonable(args),
                 "constructor_args_encoded": "0x" + bytes(containers[name].constructor.encode_input(*args)).hex()
                 if args else "0x"}
        entry.update(r)
        out["contracts"][name] = entry
        out["_args"][name] = args
        out["components"][component] = r["address"]
        say(f"  {name} at {r['address']}: gas {r['gas_used']:,}")
        return r["address"]

    def transact(label: str, name: str, address: str, method: str, args: tuple = ()) -> dict:
        r = s.transact(name, address, method, args)
        out["transactions"].append({"step": label, "contract": name, "method": method, "args": _jsonable(args), **r})
        return r

    now = s.now()
    reg_args = risk.registry_constructor_args(roles["admin"], roles["risk_manager"], roles["guardian"], now=now,
                                             **(registry_kwargs or {}))
    params = reg_args[7]
    heartbeat = int(params[risk.PARAM_NAMES.index("oracle_heartbeat")])
    # refuse bad external addresses before anything is sent
    if feed is not None:
        out["external"]["feed"] = _check_feed(s, _checksum(feed), heartbeat)
    if collateral is not None:
        out["external"]["collateral"] = _check_collateral(s, _checksum(collateral))

    deploy("pricer", "BlackScholes", ())
    registry = deploy("registry", "RiskRegistry", reg_args)
    if feed is None:
        feed_address = deploy("feed", MOCK_FEED, (FEED_DECIMALS, int(spot) * 10**FEED_DECIMALS))
    else:
        feed_address = out["components"]["feed"] = out["external"]["feed"]["address"]
    oracle = deploy("oracle", "PriceOracle", (feed_address, registry))
    say("oracle.update() ...")
    transact("first oracle price", "PriceOracle", oracle, "update")
    price = int(s.call("PriceOracle", oracle, "last_price"))
    if price == 0:
        status = s.call("PriceOracle", oracle, "peek")[2]
        raise DeploymentError(f"the oracle refused the feed's first price (status {status}, see PriceOracle.vy)")
    out["spot"] = price
    if collateral is None:
        collateral_address = deploy("collateral", MOCK_TOKEN, ("Test USD Coin", "tUSDC", 6))
    else:
        collateral_address = out["components"]["collateral"] = out["external"]["collateral"]["address"]
    engine = deploy("engine", "MarginEngine", (registry,))
    market = deploy("market", "OptionsMarket", (registry, oracle, collateral_address, engine))

    if not list_series:
        out["series_note"] = "not listed (list_series=False)"
    elif s.address.lower() not in (roles["admin"].lower(), roles["risk_manager"].lower()):
        out["series_note"] = ("not listed: the deployer is neither admin nor risk manager; the risk manager lists "
                              "series with OptionsMarket.list_series")
    else:
        ks = series_strikes(price, strikes)
        expiries = [int(e) for e in s.call("RiskRegistry", registry, "expiries")][:series_expiries]
        say(f"listing {len(ks) * len(expiries) * 2} series (strikes {[k // 10**18 for k in ks]}, "
            f"{len(expiries)} expiries, calls and puts) ...")
        sid = 0
        for e in expiries:
            for k in ks:
                for is_call in (True, False):
                    transact("list series", "OptionsMarket", market, "list_series", (k, e, is_call))
                    sid += 1
                    out["series"].append({"id": sid, "strike": k, "expiry": e, "is_call": is_call})
        count = int(s.call("OptionsMarket", market, "series_count"))
        if count != sid:
            raise DeploymentError(f"listed {sid} series but the market counts {count}")
    return out


def _gas_summary(rec: dict) -> dict:
    deploys = {n: c["gas_used"] for n, c in rec["contracts"].items()}
    tx = sum(t["gas_used"] for t in rec["transactions"])
    return {"deployments": sum(deploys.values()), "transactions": tx, "total": sum(deploys.values()) + tx}


def deploy_network(account, network_name: str, out_dir: Path | None = None, dry_run: bool = False,
                   fresh: bool = True, *, feed=None, collateral=None, roles: dict | None = None, spot: int = 40_000,
                   list_series: bool = True, registry_kwargs: dict | None = None, strikes=SERIES_STRIKES,
                   series_expiries: int = SERIES_EXPIRIES, confirmations: int | None = None, progress=None) -> dict:
    """Deploy the whole protocol through the connected ape provider, signed by `account`; write and return the
    manifest deployments/<network_name with ':' -> '_'>.json (out_dir overrides the folder).

    Steps: BlackScholes; RiskRegistry (vyopt.risk defaults: surface relative to the chain's head time, the
    29-scenario grid; `registry_kwargs` go to risk.registry_constructor_args); the feed (`feed`: a Chainlink
    aggregator address, checked first: decimals <= 18, positive complete fresh answer; else
    testing/MockAggregator at `spot` whole units, 8 decimals); PriceOracle and its first update(); the
    collateral (`collateral`: an ERC-20 address, decimals <= 18; else testing/MockERC20 "Test USD Coin"/tUSDC,
    6 decimals, open mint); MarginEngine; OptionsMarket.  Roles: see resolve_roles (pairwise distinct; test
    accounts 0/1/2 by default on local networks).  When list_series and the deployer is admin or risk
    manager: calls and puts at `strikes` x the oracle price on the first `series_expiries` registry expiries.

    Manifest: network, chain_id, block, timestamp, deployer, roles, time, components (component -> address),
    contracts (name as vyopt.contracts names it, e.g. 'testing/MockAggregator' -> address, component, source,
    runtime_bytecode_sha256, runtime_bytes, constructor_args (JSON) and their ABI encoding, tx, block,
    gas_used), external (a given feed/collateral: address and what it answered), transactions (oracle update,
    listings: gas), series, gas totals.

    dry_run: nothing is sent to the network: every step runs on an anvil fork of it at its head, from the
    deployer's address impersonated (_ForkSender), so every deployment and transaction has an eth_estimateGas
    and the gas it used there, with its real constructor arguments and the addresses a real deployment made
    next would get; the contracts that depend on no other address are also estimated on the network itself
    (gas_estimate_network).  Writes <network>.dryrun.json (never the manifest) and returns the estimates.
    confirmations: blocks ape waits for after each transaction (None: the network's required_confirmations).
    progress: a callable taking one line of text (e.g. click.echo).
    fresh=True deploys the contracts compiled from the current sources (compiled(): the compile the audit
    checks deployments against); False uses ape's project containers."""
    from ape import chain

    provider = chain.provider
    network = provider.network
    roles = resolve_roles(network, roles)
    names = list(PROTOCOL) + ([MOCK_FEED] if feed is None else []) + ([MOCK_TOKEN] if collateral is None else [])
    containers = _containers(names, fresh)
    if MOCK_FEED not in containers or MOCK_TOKEN not in containers:  # their ABIs read a given feed / token
        containers.update(_containers([MOCK_FEED, MOCK_TOKEN], fresh))
    head = chain.blocks.head
    deployer_address = _checksum(account.address)
    manifest = {"network": network_name, "chain_id": int(chain.chain_id), "deployer": deployer_address,
                "roles": dict(roles), "time": int(time.time())}
    kw = dict(roles=roles, feed=feed, collateral=collateral, spot=spot, list_series=list_series,
              registry_kwargs=registry_kwargs, strikes=strikes, series_expiries=series_expiries, progress=progress)
    if dry_run:
        url = getattr(provider, "http_uri", None) or getattr(provider, "uri", None)
        if not url or not str(url).startswith("http"):
            raise DeploymentError(f"a dry run forks the network over HTTP; the provider has no HTTP URI ({url!r})")
        nonce = int(provider.get_nonce(deployer_address))
        if progress:
            kw["progress"] = lambda msg: progress(f"[dry run on a fork] {msg}")
        s = _ForkSender(account, containers, url, int(head.number))
        try:
            rec = _run_steps(s, containers, **kw)
            args_of = rec.pop("_args")
            balance, topped_up = s.balance, s.topped_up
        finally:
            s.close()
        # the contracts whose constructors need no other new contract: estimated on the network itself too
        for name, c in rec["contracts"].items():
            if name in ("BlackScholes", "RiskRegistry", MOCK_FEED, MOCK_TOKEN):
                txn = containers[name].constructor.serialize_transaction(*args_of[name])
                c["gas_estimate_network"] = int(provider.web3.eth.estimate_gas(
                    {"from": deployer_address, "data": "0x" + bytes(txn.data).hex()}, block_identifier="pending"))
            c["expected_address"] = c.pop("address")
        gas = _gas_summary(rec)
        gas_price = int(provider.gas_price)
        manifest.update({
            "dry_run": True, "block": int(head.number), "timestamp": int(head.timestamp), "nonce": nonce,
            "method": ("every step executed on an anvil fork of the network at `block`, sent from the deployer's "
                       "address impersonated there (web3): gas_estimate = eth_estimateGas and gas_used = the receipt "
                       "on the fork; gas_estimate_network = eth_estimateGas on the network itself for the "
                       "contracts that need no other new contract; expected_address holds if the deployer sends "
                       "nothing else first"),
            **rec, "gas": gas, "gas_price_wei": gas_price, "estimated_cost_wei": gas["total"] * gas_price,
            "deployer_balance_wei": balance, "balance_sufficient": balance >= gas["total"] * gas_price,
        })
        if topped_up:
            manifest["note"] = "the deployer's balance was raised on the fork so that every step could be estimated"
        path = manifest_path(network_name, out_dir, dry_run=True)
    else:
        s = _ApeSender(account, containers, confirmations)
        rec = _run_steps(s, containers, **kw)
        rec.pop("_args")
        for name, c in rec["contracts"].items():
            code = s.code(c["address"])
            c["runtime_bytecode_sha256"] = bytecode_hash(code)
            c["runtime_bytes"] = len(code)
        last = chain.blocks.head
        manifest.update({"block": int(last.number), "timestamp": int(last.timestamp), **rec,
                         "gas": _gas_summary(rec)})
        path = manifest_path(network_name, out_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    manifest["path"] = str(path)
    return manifest


# ---------------------------------------------------------------------------------------------------------------
# Attaching to a deployment


@dataclass
class NetworkProtocol(_Roles):
    """ape contract instances of a deployment (from its manifest); the same attribute names as LocalProtocol.
    A given (external) feed or collateral is attached with the mock's ABI: use only its standard functions."""

    pricer: object
    registry: object
    feed: object
    oracle: object
    collateral: object
    engine: object
    market: object
    roles: dict
    manifest: dict

    @property
    def deployer(self):
        return self.manifest.get("deployer")

    @property
    def series(self) -> list[dict]:
        return self.manifest.get("series", [])


def read_manifest(manifest_or_network=None, out_dir: Path | None = None) -> dict:
    """A manifest: the dict itself, a path to a JSON file, or a network name (deployments/<network>.json;
    None: the connected network's)."""
    if isinstance(manifest_or_network, dict):
        return manifest_or_network
    if manifest_or_network is None:
        from ape import chain

        manifest_or_network = chain.provider.network.choice
    p = Path(str(manifest_or_network))
    if not (p.suffix == ".json" and p.exists()):
        p = manifest_path(str(manifest_or_network), out_dir)
    if not p.exists():
        raise FileNotFoundError(f"no deployment manifest {p} (run `ape run deploy --network ...` first)")
    m = json.loads(p.read_text())
    if m.get("dry_run"):
        raise ValueError(f"{p} is a dry run: nothing was deployed")
    return m


def load_protocol(manifest_or_network=None, *, out_dir: Path | None = None, fresh: bool = True,
                  check_chain: bool = True) -> NetworkProtocol:
    """Attach to an existing deployment on the connected ape network: ape contract instances with the ABIs
    of the contracts compiled from the current sources (compiled(); fresh=False: ape's project containers).  check_chain: the provider's chain id must be
    the manifest's."""
    from ape import chain

    m = read_manifest(manifest_or_network, out_dir)
    if check_chain and int(chain.chain_id) != int(m["chain_id"]):
        raise ValueError(f"the connected chain is {chain.chain_id}, the manifest {m.get('network')} is for {m['chain_id']}")
    containers = _containers(list(COMPONENTS.values()), fresh)
    handles = {comp: containers[name].at(m["components"][comp]) for comp, name in COMPONENTS.items()}
    return NetworkProtocol(**handles, roles=dict(m["roles"]), manifest=m)
