"""Back-ends the audit runs every property on, behind one call interface.

    boa   titanoboa's in-process EVM (py-evm).  Fastest to start; the default.
    node  a JSON-RPC node (the anvil that ape-foundry starts, or any node holding a deployment).  Read-only:
          calls are eth_call pinned to one block; it refuses to send a transaction or deploy.
    fork  an anvil started here with --fork-url <node> --fork-block-number <block>: the deployment's state,
          in a throw-away node where transactions and deployments are allowed.  The node it forks from is
          never written to (tests/audit/test_fork_isolation.py compares its state root before and after).

A `Contract` handle is the same on every back-end and looks like a titanoboa contract to property code:
`pricer.call_price(spot, strike, vol, tau, rate)` returns the decoded value (a tuple for several outputs) or
raises `Reverted(reason)`, where the reason is the decoded Error(string) ("bs: vol out of range"), "panic:
0x11" for a Panic(uint256), or None for a bare revert.  Arguments are ABI-encoded here (eth_abi) and sent
as raw calls on every back-end, so the encoding, the decoding and the revert mapping are one code path.

Gas: each call can log its execution gas (boa: the computation's gas; node/fork: eth_estimateGas minus
the 21,000 + calldata intrinsic cost, for at most `gas_samples` calls per function, because an estimate is
a second round trip).

API
    Reverted(reason, data)                       exception; .reason is a str or None
    decode_revert(data) -> str | None
    Contract(backend, artifact, address)         .<fn>(*args), .outcome(fn, *args) -> Outcome,
                                                 .transact(fn, *args, sender=, value=0) -> TxResult
    Backend                                      .kind, .deploy(artifact, *ctor_args) -> Contract, .at(artifact, address),
                                                 .place(artifact, address, code) (boa only), .accounts(),
                                                 .balance(a), .code(a), .storage(a, slot), .snapshot() (context),
                                                 .timestamp() (block.timestamp a call sees), .impersonate(a),
                                                 .logs(address, topic0) -> [Log], .info() -> dict, .gas_log, .close()
    encode_constructor(artifact, args) -> bytes  ABI-encoded constructor arguments (appended to the initcode)
    event_topic(artifact, name) -> bytes         topic0 of an event of the artifact's ABI
    Log(address, topics, data)                   one log entry (topics as 32-byte values)
    BoaBackend(fork_url=None, block=None)        the global boa.env, or a private Env forked from a node
    RpcBackend(url, kind="node"|"fork", block=None, read_only=None, process=None)
    open_fork(upstream_url, block=None) -> RpcBackend   starts the anvil fork (its clock stopped at the fork block's
                                                        time); closed with the backend
"""
from __future__ import annotations

import contextlib
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

ERROR_SELECTOR = bytes.fromhex("08c379a0")
PANIC_SELECTOR = bytes.fromhex("4e487b71")
TX_GAS = 15_000_000          # a transaction's gas limit: the risk registry's deployment takes ~6.8M, trades several M


class Reverted(Exception):
    """A call or transaction reverted; `reason` is the decoded revert string (or None)."""

    def __init__(self, reason: str | None, data: bytes = b""):
        super().__init__(reason if reason is not None else f"revert without reason (data 0x{bytes(data).hex()})")
        self.reason = reason
        self.data = bytes(data)


def decode_revert(data: bytes) -> str | None:
    data = bytes(data or b"")
    if data[:4] == ERROR_SELECTOR:
        try:
            return abi_decode(["string"], data[4:])[0]
        except Exception:
            return None
    if data[:4] == PANIC_SELECTOR and len(data) >= 36:
        return f"panic: {hex(int.from_bytes(data[4:36], 'big'))}"
    return None


def _type_str(p: dict) -> str:
    t = p["type"]
    if t.startswith("tuple"):
        return "(" + ",".join(_type_str(c) for c in p["components"]) + ")" + t[5:]
    return t


@dataclass
class Log:
    address: str
    topics: list            # bytes32 each
    data: bytes


# the runtime of `TIMESTAMP PUSH0 MSTORE PUSH1 32 PUSH0 RETURN`, run as the initcode of an eth_call without a
# recipient: it answers the block.timestamp that calls at that block see (a node's eth_call at a mined block
# uses that block's header; the "latest" tag the last mined block)
_TIMESTAMP_PROBE = bytes.fromhex("425f5260205ff3")


def encode_constructor(artifact, args) -> bytes:
    ctor = next((i for i in artifact.abi if i.get("type") == "constructor"), None)
    types = [_type_str(i) for i in (ctor or {}).get("inputs", [])]
    if len(types) != len(args):
        raise TypeError(f"{artifact.name}: the constructor takes {len(types)} arguments, {len(args)} given")
    return abi_encode(types, list(args)) if types else b""


def event_topic(artifact, name: str) -> bytes:
    from eth_utils import keccak

    ev = next(i for i in artifact.abi if i.get("type") == "event" and i["name"] == name)
    return keccak(f"{name}({','.join(_type_str(i) for i in ev['inputs'])})".encode())


@dataclass
class Outcome:
    ok: bool
    value: Any = None
    reason: str | None = None
    gas: int | None = None


@dataclass
class TxResult:
    success: bool
    gas_used: int
    gas_price: int
    reason: str | None = None
    tx_hash: str | None = None
    logs: list = field(default_factory=list)       # Log entries the transaction emitted

    @property
    def fee(self) -> int:
        return self.gas_used * self.gas_price


class Contract:
    """ABI-level handle on a deployed contract; the same on every back-end."""

    def __init__(self, backend: "Backend", artifact, address: str):
        self._backend = backend
        self.artifact = artifact
        self.name = artifact.name
        self.address = to_checksum_address(address)
        self._fns = {}
        for item in artifact.abi:
            if item.get("type") != "function":
                continue
            ins = [_type_str(i) for i in item["inputs"]]
            outs = [_type_str(o) for o in item["outputs"]]
            sig = f"{item['name']}({','.join(ins)})"
            self._fns[item["name"]] = (function_signature_to_4byte_selector(sig), ins, outs)

    def encode(self, fn: str, args) -> bytes:
        sel, ins, _ = self._fns[fn]
        return sel + abi_encode(ins, list(args))

    def decode(self, fn: str, output: bytes):
        outs = self._fns[fn][2]
        vals = abi_decode(outs, output)
        return vals[0] if len(vals) == 1 else tuple(vals)

    def outcome(self, fn: str, *args) -> Outcome:
        data = self.encode(fn, args)
        ok, out, gas = self._backend.call(self.address, data, fn=f"{self.name}.{fn}")
        if ok:
            return Outcome(True, self.decode(fn, out), None, gas)
        return Outcome(False, None, decode_revert(out), gas)

    def transact(self, fn: str, *args, sender: str, value: int = 0) -> TxResult:
        return self._backend.send(self.address, self.encode(fn, args), sender=sender, value=value)

    def __getattr__(self, fn: str):
        if fn.startswith("_") or fn not in self._fns:
            raise AttributeError(fn)

        def call(*args):
            o = self.outcome(fn, *args)
            if not o.ok:
                raise Reverted(o.reason)
            return o.value

        call.__name__ = fn
        return call

    def __repr__(self):
        return f"<{self.name} at {self.address} on {self._backend.kind}>"


class Backend:
    kind = "?"
    free_gas = False        # True when every answered call reports its gas at no cost (boa)

    def __init__(self, gas_samples: int = 30):
        self.gas_log: dict[str, list[int]] = {}
        self.gas_samples = gas_samples

    def _log_gas(self, fn: str | None, gas: int | None):
        if fn is not None and gas is not None:
            self.gas_log.setdefault(fn, []).append(int(gas))

    def _want_gas(self, fn: str | None) -> bool:
        return fn is not None and len(self.gas_log.get(fn, ())) < self.gas_samples

    def at(self, artifact, address: str) -> Contract:
        return Contract(self, artifact, address)

    def impersonate(self, address: str) -> str:
        """Make `address` a sender this back-end can transact from (with ether for gas); returns it."""
        raise PermissionError(f"the {self.kind} back-end cannot send from arbitrary addresses")

    def close(self):
        pass


# ----------------------------------------------------------------------------------------------- boa
class BoaBackend(Backend):
    """titanoboa's in-process EVM: the global boa.env, or with fork_url a private Env forked from that node at
    `block` (state fetched lazily over RPC, code and storage alike, so a deployment runs in process exactly as
    deployed; the global env other tests use is left alone).  Gas is free to measure here: every answered call
    is logged."""

    kind = "boa"
    free_gas = True

    def __init__(self, gas_samples: int = 10**9, fork_url: str | None = None, block: int | None = None):
        super().__init__(gas_samples)
        import boa

        if fork_url is None:
            self.env = boa.env
        else:
            from boa.environment import Env
            from boa.vm.fork import CachingRPC

            # an RPC cache of this back-end's own, in memory.  titanoboa 0.2.8's on-disk cache is one sqlite file
            # per process whatever cache_dir says (SqliteCache.create is a singleton), keyed by (method, params)
            # only, and its RPC wrappers are memoized by URL: two local anvils (chain 31337, the same addresses and
            # block numbers, possibly a reused port) were served each other's code (seen: a second broken margin
            # engine audited as the first)
            for key in [k for k in CachingRPC._loaded if k[0] == fork_url]:
                del CachingRPC._loaded[key]
            self.env = Env()
            self.env.fork(url=fork_url, block_identifier=block if block is not None else "latest", deprecated=False,
                          cache_dir=None)
        self.forked_from = fork_url
        self.fork_block = block
        self._funded: list[str] = []
        self._logs: list[Log] = []       # logs of the transactions sent through this back-end (a snapshot rolls back)

    def call(self, to: str, data: bytes, fn: str | None = None):
        c = self.env.execute_code(to, data=data, is_modifying=False)
        gas = c.get_gas_used()
        if not c.is_error:  # the gas table describes answers, not reverts
            self._log_gas(fn, gas)
        return (not c.is_error), bytes(c.output or b""), gas

    def send(self, to: str, data: bytes, sender: str, value: int = 0) -> TxResult:
        c = self.env.execute_code(to, sender=sender, value=value, data=data, is_modifying=True, gas=TX_GAS)
        reason = decode_revert(c.output) if c.is_error else None
        logs = [] if c.is_error else [Log(to_checksum_address(a), [int(t).to_bytes(32, "big") for t in topics], bytes(payload))
                                      for a, topics, payload in c.get_log_entries()]
        self._logs += logs
        return TxResult(not c.is_error, c.get_gas_used(), self.env.get_gas_price(), reason, logs=logs)

    def deploy(self, artifact, *args, sender: str | None = None) -> Contract:
        kw = {"sender": sender} if sender else {}
        address, comp = self.env.deploy(bytecode=artifact.initcode + encode_constructor(artifact, args), **kw)
        if comp.is_error:
            raise Reverted(decode_revert(comp.output), comp.output)
        return Contract(self, artifact, str(address))

    def timestamp(self) -> int:
        return int(self.env.evm.patch.timestamp)

    def time_travel(self, seconds: int) -> None:
        self.env.time_travel(seconds=seconds)

    def impersonate(self, address: str) -> str:
        if self.env.get_balance(address) < 10**21:
            self.env.set_balance(address, 10**22)
        return to_checksum_address(address)

    def logs(self, address: str, topic0: bytes | None = None) -> list[Log]:
        """Logs of `address`: on a fork, those of the node up to the fork block (eth_getLogs), then those of
        the transactions sent through this back-end (titanoboa keeps no log index of its own)."""
        out = []
        if self.forked_from:
            out = _rpc_logs(self.forked_from, address, topic0, hex(self.fork_block) if self.fork_block is not None else "latest")
        out += [lg for lg in self._logs if lg.address == to_checksum_address(address) and (topic0 is None or lg.topics[:1] == [topic0])]
        return out

    def place(self, artifact, address: str, code: bytes) -> Contract:
        """Put `code` (e.g. fetched from a node) at `address` in the in-process EVM and return a handle."""
        self.env.set_code(address, bytes(code))
        return Contract(self, artifact, address)

    def accounts(self, n: int = 3) -> list[str]:
        """n funded senders (topped up on every call: a snapshot revert may have undone an earlier top-up)."""
        while len(self._funded) < n:
            self._funded.append(str(self.env.generate_address(f"audit-trader-{len(self._funded)}")))
        for a in self._funded[:n]:
            if self.env.get_balance(a) < 10**21:
                self.env.set_balance(a, 10**22)
        return self._funded[:n]

    def balance(self, a: str) -> int:
        return self.env.get_balance(a)

    def code(self, a: str) -> bytes:
        return bytes(self.env.get_code(a))

    def storage(self, a: str, slot: int) -> int:
        return self.env.get_storage(a, slot)

    @contextlib.contextmanager
    def snapshot(self):
        n = len(self._logs)
        try:
            with self.env.anchor():
                yield
        finally:
            del self._logs[n:]

    def close(self):
        if self.forked_from:
            from boa.vm.fork import CachingRPC

            for key in [k for k in CachingRPC._loaded if k[0] == self.forked_from]:
                del CachingRPC._loaded[key]

    def info(self) -> dict:
        p = self.env.evm.patch
        return {"backend": "boa", "client": f"titanoboa {_version('titanoboa')} (py-evm {_version('py-evm')})",
                "chain_id": int(p.chain_id), "block": int(p.block_number), "url": None,
                **({"forked_from": self.forked_from} if self.forked_from else {})}


# ----------------------------------------------------------------------------------------------- rpc
class RpcBackend(Backend):
    """A JSON-RPC node.  kind "node" is read-only (eth_call at a pinned block); kind "fork" may transact."""

    def __init__(self, url: str, kind: str = "node", block: int | None = None, read_only: bool | None = None,
                 process=None, gas_samples: int = 30):
        super().__init__(gas_samples)
        import requests

        self.url, self.kind, self.process = url, kind, process
        self.read_only = (kind == "node") if read_only is None else read_only
        self._s = requests.Session()
        self._ids = itertools.count(1)
        self.block = block
        self.chain_id = int(self.rpc("eth_chainId"), 16)

    # JSON-RPC -------------------------------------------------------------------------------
    def rpc_raw(self, method: str, params=()):
        r = self._s.post(self.url, json={"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)},
                         timeout=120)
        r.raise_for_status()
        return r.json()

    def rpc(self, method: str, *params):
        out = self.rpc_raw(method, params)
        if "error" in out:
            raise RuntimeError(f"{method} failed on {self.url}: {out['error']}")
        return out["result"]

    def _tag(self):
        return hex(self.block) if self.block is not None else "latest"

    # calls ----------------------------------------------------------------------------------
    def call(self, to: str, data: bytes, fn: str | None = None):
        tx = {"to": to, "data": "0x" + data.hex()}
        out = self.rpc_raw("eth_call", [tx, self._tag()])
        if "error" in out:
            err = out["error"]
            raw = err.get("data")
            if isinstance(raw, dict):  # some clients nest it
                raw = raw.get("data")
            if not (isinstance(raw, str) and raw.startswith("0x")) and "revert" not in str(err.get("message", "")):
                raise RuntimeError(f"eth_call failed on {self.url}: {err}")
            return False, bytes.fromhex(raw[2:]) if isinstance(raw, str) and raw.startswith("0x") else b"", None
        gas = None
        if self._want_gas(fn):
            est = self.rpc_raw("eth_estimateGas", [tx, self._tag()])
            if "result" in est:
                gas = int(est["result"], 16) - 21000 - sum(4 if b == 0 else 16 for b in data)
                self._log_gas(fn, gas)
        return True, bytes.fromhex(out["result"][2:]), gas

    def _writable(self, what: str):
        if self.read_only:
            raise PermissionError(f"the {self.kind} back-end at {self.url} is read-only: {what} belongs on a fork")

    def send(self, to: str | None, data: bytes, sender: str, value: int = 0) -> TxResult:
        self._writable("a transaction")
        tx = {"from": sender, "data": "0x" + data.hex(), "value": hex(value), "gas": hex(TX_GAS)}
        if to is not None:
            tx["to"] = to
        h = self.rpc("eth_sendTransaction", tx)
        rc = self._receipt(h)
        ok = int(rc["status"], 16) == 1
        reason = None
        if not ok:  # replay on the parent state for the reason
            parent = hex(int(rc["blockNumber"], 16) - 1)
            out = self.rpc_raw("eth_call", [{k: v for k, v in tx.items() if k != "gas"}, parent])
            raw = (out.get("error") or {}).get("data")
            reason = decode_revert(bytes.fromhex(raw[2:])) if isinstance(raw, str) and raw.startswith("0x") else None
        logs = [Log(to_checksum_address(e["address"]), [bytes.fromhex(t[2:]) for t in e["topics"]], bytes.fromhex(e["data"][2:]))
                for e in rc.get("logs") or []]
        res = TxResult(ok, int(rc["gasUsed"], 16), int(rc["effectiveGasPrice"], 16), reason, h, logs=logs)
        res.receipt = rc
        return res

    def _receipt(self, h: str, timeout: float = 60.0) -> dict:
        """The receipt of `h` (anvil mines on arrival, but a fork may answer the hash before the block)."""
        deadline = time.monotonic() + timeout
        while True:
            rc = self.rpc("eth_getTransactionReceipt", h)
            if rc is not None:
                return rc
            if time.monotonic() > deadline:
                raise TimeoutError(f"no receipt for {h} on {self.url} after {timeout} s")
            time.sleep(0.002)

    def deploy(self, artifact, *args, sender: str | None = None) -> Contract:
        self._writable("a deployment")
        sender = sender or self.accounts(1)[0]
        r = self.send(None, artifact.initcode + encode_constructor(artifact, args), sender=sender)
        if not r.success:
            raise Reverted(r.reason)
        return Contract(self, artifact, r.receipt["contractAddress"])

    def timestamp(self) -> int:
        return int(self.rpc("eth_call", {"data": "0x" + _TIMESTAMP_PROBE.hex()}, self._tag()), 16)

    def time_travel(self, seconds: int) -> None:
        """Mine an empty block `seconds` after the latest (works with the fork's stopped clock, see open_fork)."""
        self._writable("moving the clock")
        latest = int(self.rpc("eth_getBlockByNumber", "latest", False)["timestamp"], 16)
        self.rpc("evm_setNextBlockTimestamp", hex(latest + int(seconds)))
        self.rpc("evm_mine")

    def impersonate(self, address: str) -> str:
        """anvil: send from `address` without its key (a role holder of the forked deployment), with ether for gas."""
        self._writable("impersonating an account")
        address = to_checksum_address(address)
        if address not in self.accounts(100):
            self.rpc("anvil_impersonateAccount", address)
        if self.balance(address) < 10**21:
            self.rpc("anvil_setBalance", address, hex(10**22))
        return address

    def logs(self, address: str, topic0: bytes | None = None) -> list[Log]:
        return _rpc_logs(self, address, topic0, self._tag())

    def place(self, artifact, address: str, code: bytes) -> Contract:
        self._writable("setting code")
        self.rpc("anvil_setCode", address, "0x" + bytes(code).hex())
        return Contract(self, artifact, address)

    # state ----------------------------------------------------------------------------------
    def accounts(self, n: int = 3) -> list[str]:
        return [to_checksum_address(a) for a in self.rpc("eth_accounts")[:n]]

    def balance(self, a: str) -> int:
        return int(self.rpc("eth_getBalance", a, self._tag()), 16)

    def code(self, a: str) -> bytes:
        return bytes.fromhex(self.rpc("eth_getCode", a, self._tag())[2:])

    def storage(self, a: str, slot: int) -> int:
        return int(self.rpc("eth_getStorageAt", a, hex(slot), self._tag()), 16)

    def head(self) -> dict:
        b = self.rpc("eth_getBlockByNumber", "latest", False)
        return {"number": int(b["number"], 16), "hash": b["hash"], "stateRoot": b["stateRoot"]}

    @contextlib.contextmanager
    def snapshot(self):
        self._writable("a snapshot")
        sid = self.rpc("evm_snapshot")
        try:
            yield
        finally:
            self.rpc("evm_revert", sid)

    def info(self) -> dict:
        try:
            client = self.rpc("web3_clientVersion")
        except Exception:
            client = None
        block = self.block if self.block is not None else int(self.rpc("eth_blockNumber"), 16)
        out = {"backend": self.kind, "client": client, "chain_id": self.chain_id, "block": block, "url": self.url}
        if self.process is not None and getattr(self.process, "fork_url", None):
            out["forked_from"] = self.process.fork_url
            out["fork_block"] = self.process.fork_block
        return out

    def close(self):
        self._s.close()
        if self.process is not None:
            self.process.close()


def _rpc_logs(node, address: str, topic0: bytes | None, to_block: str) -> list[Log]:
    """eth_getLogs of one address from the genesis block to `to_block` (node: an RpcBackend or a URL)."""
    own = not isinstance(node, RpcBackend)
    if own:
        node = RpcBackend(node, kind="node")
    try:
        flt = {"address": to_checksum_address(address), "fromBlock": "0x0", "toBlock": to_block}
        if topic0 is not None:
            flt["topics"] = ["0x" + bytes(topic0).hex()]
        return [Log(to_checksum_address(e["address"]), [bytes.fromhex(t[2:]) for t in e["topics"]], bytes.fromhex(e["data"][2:]))
                for e in node.rpc("eth_getLogs", flt)]
    finally:
        if own:
            node.close()


def open_fork(upstream_url: str, block: int | None = None, gas_samples: int = 30) -> RpcBackend:
    """Start `anvil --fork-url upstream_url [--fork-block-number block]` and return a writable back-end on it."""
    from .anvil import Anvil

    proc = Anvil(fork_url=upstream_url, fork_block=block)
    try:
        b = RpcBackend(proc.url, kind="fork", read_only=False, process=proc, gas_samples=gas_samples)
        # the fork's clock stands still at the fork block's time: every transaction is mined at the timestamp the
        # calls before it saw (a view and the transaction it predicts agree; a run replays exactly, which
        # hypothesis' shrinking needs); time moves only by time_travel
        b.rpc("anvil_setBlockTimestampInterval", 0)
        return b
    except Exception:
        proc.close()
        raise


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"
