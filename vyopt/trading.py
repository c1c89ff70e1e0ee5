"""What a trader does with the options market, for titanoboa contracts (vyopt.deploy.deploy_local) and ape
contracts (vyopt.deploy.load_protocol) alike: quotes, collateral, trades with a slippage limit and a
deadline, closing, positions and health.  `ape run trade` is a thin shell around this module.

The two back-ends differ in how a transaction is sent (boa: sender=address, the return value comes back;
ape: sender=account, a receipt comes back) and in how the chain's clock is read; `Backend` hides that, and
results are read from the market's events, which both back-ends decode.

Amounts the user types are human units (tokens, contracts) given as text or Decimal; they are converted to
integers exactly (`parse_units`): an amount with more decimals than the unit has is refused, never rounded.

API
    Backend, BoaBackend, ApeBackend, backend_for(contract) -> Backend
    Tx (fn, events, gas, tx_hash, value), Sim (ok, value, gas, reason), TradingError
    parse_units(text, decimals) -> int               exact human -> integer units (ValueError otherwise)
    fmt_units(n, decimals, places) -> str            integer units -> human text
    series_label(strike, expiry, is_call) -> str     "40000 C 2026-12-11 08:00" (UTC)
    Client(p, backend=None)                          p: a protocol handle with .market and .collateral
        .quote_table(contracts="1") -> list[dict]    buy/sell premium, mark, vols of every live series
        .deposit(sender, tokens) -> list[Tx]         approve (if needed) + deposit
        .withdraw(sender, tokens | "all") -> Tx
        .buy(sender, series_id, contracts, slippage, deadline_s) -> dict
        .sell(sender, series_id, contracts, slippage, deadline_s) -> dict
        .close(sender, series_id, contracts=None, slippage, deadline_s) -> dict
        .positions(account) -> list[dict]            series, size, mark, value
        .health(account) -> dict                     collateral, value, initial, maintenance, liquidatable
    format_quote_table(rows), format_positions(rows), format_health(h) -> str
    ape_account(spec, network), ape_protocol(manifest_path_or_None)   for the ape scripts
Slippage limit: buy pays at most quote * (1 + s) (rounded up), sell receives at least quote * (1 - s) (rounded
down); the deadline is the next block's timestamp + deadline_s.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation

WAD = 10**18
DEFAULT_SLIPPAGE = Decimal("0.01")      # 1% of the quoted premium
DEFAULT_DEADLINE = 600                  # seconds after the next block's timestamp


class TradingError(Exception):
    """A refused action: a revert (its reason), or an input the client refuses before sending."""


@dataclass
class Tx:
    """A sent transaction: decoded events [(name, {field: value})], gas (ape: the receipt's gas_used; boa:
    execution gas of the call, without the 21,000 intrinsic gas), hash (ape only), return value (boa only)."""

    fn: str
    events: list = field(default_factory=list)
    gas: int | None = None
    tx_hash: str | None = None
    value: object = None

    def event(self, name: str) -> dict | None:
        for n, args in self.events:
            if n == name:
                return args
        return None

    def all(self, name: str) -> list[dict]:
        return [args for n, args in self.events if n == name]


@dataclass
class Sim:
    """A simulated transaction (nothing recorded): ok, return value, gas, revert reason."""

    ok: bool
    value: object = None
    gas: int | None = None
    reason: str | None = None


# ---------------------------------------------------------------------------------------------
# Back-ends


class Backend:
    kind = "?"

    def address(self, sender) -> str:
        return str(getattr(sender, "address", sender))

    def now(self) -> int:
        raise NotImplementedError

    def send(self, contract, fn: str, *args, sender) -> Tx:
        raise NotImplementedError

    def simulate(self, contract, fn: str, *args, sender) -> Sim:
        raise NotImplementedError

    def gas_price(self) -> int:
        raise NotImplementedError

    def travel_to(self, timestamp: int) -> None:
        """Let the chain's clock reach `timestamp` (local chains only)."""
        raise NotImplementedError


def _boa_reason(contract, err) -> str:
    from eth_abi import decode

    comp = getattr(contract, "_computation", None)
    out = bytes(getattr(comp, "output", b"") or b"")
    if out[:4] == bytes.fromhex("08c379a0"):
        try:
            return decode(["string"], out[4:])[0]
        except Exception:  # noqa: BLE001 - a malformed reason is still a revert
            pass
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


class BoaBackend(Backend):
    """titanoboa's in-process EVM (boa.env)."""

    kind = "boa"

    def __init__(self, gas_price: int = 0):
        self._gas_price = gas_price

    def now(self) -> int:
        import boa

        return boa.env.evm.patch.timestamp

    def send(self, contract, fn, *args, sender) -> Tx:
        import boa

        method = getattr(contract, fn)
        try:
            ret = method(*args, sender=sender)
        except boa.BoaError as err:
            raise TradingError(f"{fn}: {_boa_reason(contract, err)}") from None
        events = []
        for e in contract.get_logs(strict=False):
            if hasattr(e, "_asdict"):
                d = e._asdict()
                d.pop("address", None)
                events.append((type(e).__name__, d))
        return Tx(fn=fn, events=events, gas=contract._computation.get_gas_used(), value=ret)

    def simulate(self, contract, fn, *args, sender) -> Sim:
        import boa

        with boa.env.anchor():
            try:
                ret = getattr(contract, fn)(*args, sender=sender)
            except boa.BoaError as err:
                return Sim(False, reason=_boa_reason(contract, err))
            return Sim(True, value=ret, gas=contract._computation.get_gas_used())

    def gas_price(self) -> int:
        return self._gas_price

    def travel_to(self, timestamp: int) -> None:
        import boa

        dt = timestamp - self.now()
        if dt > 0:
            boa.env.time_travel(seconds=dt)


def _rpc_reason(err) -> str:
    """The revert reason of a web3 eth_call / eth_estimateGas error (Error(string) decoded when present)."""
    from eth_abi import decode

    data = getattr(err, "data", None)
    if isinstance(data, str) and data.startswith("0x08c379a0"):
        try:
            return decode(["string"], bytes.fromhex(data[10:]))[0]
        except Exception:  # noqa: BLE001 - fall back to the message
            pass
    msg = str(getattr(err, "message", None) or err).strip()
    for prefix in ("execution reverted: ", "revert: "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    return msg.splitlines()[0] if msg else type(err).__name__


class ApeBackend(Backend):
    """A connected ape provider (anvil, a testnet node, ...).

    Every transaction is first run as an eth_call from the sender on the pending block (through web3, not ape: ape's
    revert handling asks the node for a full trace, which on anvil can take minutes for a margin-heavy
    call): a transaction that would revert is refused with its reason and never sent, so it costs no gas."""

    kind = "ape"

    def now(self) -> int:
        """The timestamp the next block will carry (the pending block's; the head's if the node has none): on an
        idle local chain the head can be far behind the clock, and a deadline counted from it would be past."""
        from ape import chain

        try:
            return int(chain.pending_timestamp)
        except Exception:  # noqa: BLE001 - nodes without a pending block
            return int(chain.blocks.head.timestamp)

    def _rpc(self, contract, fn, args, sender) -> tuple[dict, object]:
        from ape import chain

        method = getattr(contract, fn)
        tx = {"from": self.address(sender), "to": str(contract.address), "data": method.encode_input(*args).hex()}
        if not tx["data"].startswith("0x"):
            tx["data"] = "0x" + tx["data"]
        return tx, chain.provider.web3

    def _decode(self, contract, fn, raw: bytes):
        from eth_abi import decode

        abi = getattr(contract, fn).abis[0]
        types = [o.canonical_type for o in abi.outputs]
        if not types:
            return None
        out = decode(types, bytes(raw))
        return out[0] if len(out) == 1 else out

    def send(self, contract, fn, *args, sender) -> Tx:
        from ape.exceptions import ApeException

        tx, w3 = self._rpc(contract, fn, args, sender)
        try:
            w3.eth.call(tx, "pending")
        except Exception as err:  # noqa: BLE001 - web3 raises several types for a revert
            raise TradingError(f"{fn}: {_rpc_reason(err)}") from None
        try:
            receipt = getattr(contract, fn)(*args, sender=sender)
        except ApeException as err:       # the state moved since the eth_call (a real network)
            msg = getattr(err, "revert_message", None) or getattr(err, "message", None) or str(err)
            raise TradingError(f"{fn}: {str(msg).strip().splitlines()[0] if str(msg).strip() else type(err).__name__}") from None
        events = [(log.event_name, dict(log.event_arguments)) for log in receipt.events]
        return Tx(fn=fn, events=events, gas=int(receipt.gas_used), tx_hash=str(receipt.txn_hash))

    def simulate(self, contract, fn, *args, sender) -> Sim:
        tx, w3 = self._rpc(contract, fn, args, sender)
        try:
            raw = w3.eth.call(tx, "pending")
            gas = int(w3.eth.estimate_gas(tx, "pending"))
        except Exception as err:  # noqa: BLE001 - web3 raises several types for a revert
            return Sim(False, reason=_rpc_reason(err))
        return Sim(True, value=self._decode(contract, fn, raw), gas=gas)

    def gas_price(self) -> int:
        from ape import chain

        return int(chain.provider.gas_price)

    def travel_to(self, timestamp: int) -> None:
        from ape import chain
        from ape.exceptions import APINotImplementedError

        if timestamp <= self.now():
            return
        try:
            chain.mine(timestamp=timestamp)
        except APINotImplementedError:
            # providers without set_timestamp (e.g. the generic node provider on an anvil): the anvil RPC
            chain.provider.make_request("evm_setNextBlockTimestamp", [timestamp])
            chain.provider.make_request("evm_mine", [])


def backend_for(contract) -> Backend:
    """The back-end a contract handle belongs to (titanoboa or ape)."""
    if type(contract).__module__.startswith("boa"):
        return BoaBackend()
    return ApeBackend()


# ---------------------------------------------------------------------------------------------
# Units


def parse_units(text, decimals: int, *, allow_zero: bool = False) -> int:
    """Human units (text, int or Decimal; e.g. "1.5") -> integer units of 10^-decimals, exactly.
    Refuses negative amounts, non-numbers and more decimals than the unit has (no silent rounding)."""
    try:
        d = Decimal(str(text).strip().replace("_", ""))
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None
    if not d.is_finite():
        raise ValueError(f"not a finite number: {text!r}")
    if d < 0 or (d == 0 and not allow_zero):
        raise ValueError(f"amount must be positive: {text!r}")
    scaled = d.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{text} has more than {decimals} decimals")
    return int(scaled)


def fmt_units(n: int, decimals: int = 18, places: int = 2) -> str:
    """Integer units -> human text with `places` decimals (rounded half-even) and thousands separators."""
    q = Decimal(int(n)).scaleb(-decimals).quantize(Decimal(1).scaleb(-places))
    return f"{q:,}"


def series_label(strike: int, expiry: int, is_call: bool) -> str:
    k = Decimal(int(strike)).scaleb(-18).normalize()
    day = datetime.fromtimestamp(int(expiry), tz=timezone.utc).strftime("%Y-%m-%d %H:%M")
    return f"{k:f} {'C' if is_call else 'P'} {day}"


def _fields(obj, names):
    """A struct returned by boa (tuple-like) or ape (attribute access) as a dict."""
    out = {}
    for i, n in enumerate(names):
        try:
            out[n] = getattr(obj, n)
        except AttributeError:
            out[n] = obj[i]
    return out


# ---------------------------------------------------------------------------------------------
# The client


class Client:
    """A trader's view of one deployment.  `p` has .market and .collateral (contract handles of one back-end)."""

    def __init__(self, p, backend: Backend | None = None):
        self.p = p
        self.market = p.market
        self.token = p.collateral
        self.bk = backend or backend_for(p.market)
        self.decimals = int(self.token.decimals())
        self.scale = 10 ** (18 - self.decimals)          # WAD per token unit
        self._series: dict[int, tuple] = {}

    # -- reads ---------------------------------------------------------------------------------

    def series(self, sid: int) -> tuple:
        if sid not in self._series:
            strike, expiry, is_call = self.market.series(sid)
            self._series[sid] = (int(strike), int(expiry), bool(is_call))
        return self._series[sid]

    def label(self, sid: int) -> str:
        return series_label(*self.series(sid))

    def series_ids(self, live_only: bool = True) -> list[int]:
        now = self.bk.now()
        ids = range(1, int(self.market.series_count()) + 1)
        return [s for s in ids if not live_only or self.series(s)[1] > now]

    def quote_table(self, contracts="1") -> list[dict]:
        """Every live series: premium to buy and to sell `contracts` (fee included), mark and vols, WAD ints."""
        size = parse_units(contracts, 18)
        rows = []
        for sid in self.series_ids():
            buy, mark, vol_ask = self.market.quote(sid, size)
            sell, _, vol_bid = self.market.quote(sid, -size)
            _, vol = self.market.mark(sid)
            rows.append({"series_id": sid, "series": self.label(sid), "size": size, "buy": int(buy),
                         "sell": int(sell), "mark": int(mark), "vol": int(vol), "vol_bid": int(vol_bid),
                         "vol_ask": int(vol_ask)})
        return rows

    def positions(self, account) -> list[dict]:
        """Open positions of `account` (an address or a sender): size and value at mark (WAD ints)."""
        a = self.bk.address(account)
        now = self.bk.now()
        rows = []
        for sid in self.market.open_series(a):
            sid = int(sid)
            q = int(self.market.position(a, sid))
            mark, vol = self.market.mark(sid)
            rows.append({"series_id": sid, "series": self.label(sid), "size": q, "mark": int(mark),
                         "vol": int(vol), "value": q * int(mark) // WAD, "expired": self.series(sid)[1] <= now})
        return rows

    def health(self, account) -> dict:
        """Collateral, value, initial and maintenance margin (WAD ints), free margin, liquidatable."""
        a = self.bk.address(account)
        cash, value, im, mm = (int(x) for x in self.market.account_state(a))
        return {"account": a, "collateral": cash, "value": value, "initial": im, "maintenance": mm,
                "free": value - im, "health": (value / mm) if mm else None,
                "liquidatable": bool(self.market.is_liquidatable(a)),
                "wallet": int(self.token.balanceOf(a))}

    # -- collateral ----------------------------------------------------------------------------

    def deposit(self, sender, tokens) -> list[Tx]:
        """Approve the market for exactly the amount (when the allowance is short) and deposit it."""
        amount = parse_units(tokens, self.decimals)
        a = self.bk.address(sender)
        if int(self.token.balanceOf(a)) < amount:
            raise TradingError(f"deposit: wallet holds {fmt_units(self.token.balanceOf(a), self.decimals)} "
                               f"tokens, less than {tokens}")
        txs = []
        if int(self.token.allowance(a, self.market.address)) < amount:
            txs.append(self.bk.send(self.token, "approve", self.market.address, amount, sender=sender))
        txs.append(self.bk.send(self.market, "deposit", amount, sender=sender))
        return txs

    def withdraw(self, sender, tokens) -> Tx:
        """Withdraw `tokens` (human units), or "all" of the collateral of an account without positions."""
        a = self.bk.address(sender)
        if str(tokens).lower() == "all":
            if len(self.market.open_series(a)):
                raise TradingError("withdraw: 'all' needs an account without positions; give an amount "
                                   "(see `health` for the free margin)")
            amount = int(self.market.collateral(a)) // self.scale   # the dust below one token unit stays
            if amount == 0:
                raise TradingError("withdraw: no collateral")
        else:
            amount = parse_units(tokens, self.decimals)
        return self.bk.send(self.market, "withdraw", amount, sender=sender)

    # -- trading -------------------------------------------------------------------------------

    def limit_for(self, premium: int, size: int, slippage) -> int:
        """The slippage limit around a quote: buy pays at most premium (1 + s) rounded up, sell receives at
        least premium (1 - s) rounded down."""
        s = Decimal(str(slippage))
        if not Decimal(0) <= s < Decimal(1):
            raise ValueError("slippage must be in [0, 1)")
        if size > 0:
            return int((Decimal(premium) * (1 + s)).to_integral_value(rounding=ROUND_CEILING))
        return int((Decimal(premium) * (1 - s)).to_integral_value(rounding=ROUND_FLOOR))

    def trade(self, sender, sid: int, size: int, slippage=DEFAULT_SLIPPAGE, deadline_s: int = DEFAULT_DEADLINE) -> dict:
        """Trade `size` WAD contracts (+ buy, - sell) at the quote within `slippage`, before now + deadline_s."""
        if size == 0:
            raise ValueError("size must not be zero")
        sid = int(sid)
        self.series(sid)
        quoted, mark, vol = (int(x) for x in self.market.quote(sid, size))
        limit = self.limit_for(quoted, size, slippage)
        deadline = self.bk.now() + int(deadline_s)
        tx = self.bk.send(self.market, "trade", sid, size, limit, deadline, sender=sender)
        ev = tx.event("Trade") or {}
        return {"account": self.bk.address(sender), "series_id": sid, "series": self.label(sid), "size": size,
                "quoted": quoted, "limit": limit,
                "deadline": deadline, "premium": int(ev.get("premium", tx.value or 0)), "fee": int(ev.get("fee", 0)),
                "mark": int(ev.get("mark", mark)), "vol": int(ev.get("vol", vol)),
                "position": int(ev.get("position", self.market.position(self.bk.address(sender), sid))), "tx": tx}

    def buy(self, sender, sid, contracts, slippage=DEFAULT_SLIPPAGE, deadline_s=DEFAULT_DEADLINE) -> dict:
        return self.trade(sender, sid, parse_units(contracts, 18), slippage, deadline_s)

    def sell(self, sender, sid, contracts, slippage=DEFAULT_SLIPPAGE, deadline_s=DEFAULT_DEADLINE) -> dict:
        return self.trade(sender, sid, -parse_units(contracts, 18), slippage, deadline_s)

    def close(self, sender, sid, contracts=None, slippage=DEFAULT_SLIPPAGE, deadline_s=DEFAULT_DEADLINE) -> dict:
        """A trade of opposite sign to the position: all of it, or `contracts` of it (at most the position)."""
        q = int(self.market.position(self.bk.address(sender), int(sid)))
        if q == 0:
            raise TradingError(f"close: no position in series {sid}")
        n = abs(q) if contracts is None else parse_units(contracts, 18)
        if n > abs(q):
            raise TradingError(f"close: {contracts} contracts exceed the position "
                               f"{fmt_units(abs(q), 18, 4)}")
        return self.trade(sender, sid, -n if q > 0 else n, slippage, deadline_s)


# ---------------------------------------------------------------------------------------------
# Text tables


def _w(n, places=2) -> str:
    return fmt_units(n, 18, places)


def format_quote_table(rows: list[dict]) -> str:
    if not rows:
        return "no live series"
    size = rows[0]["size"]
    head = (f"{'id':>3} {'series':<25} {'buy ' + _w(size, 2):>14} {'sell ' + _w(size, 2):>14} {'mark':>12} "
            f"{'vol bid':>8} {'vol':>7} {'vol ask':>8}")
    lines = [head]
    for r in rows:
        lines.append(f"{r['series_id']:>3} {r['series']:<25} {_w(r['buy']):>14} {_w(r['sell']):>14} {_w(r['mark']):>12} "
                     f"{r['vol_bid'] / WAD:8.2%} {r['vol'] / WAD:7.2%} {r['vol_ask'] / WAD:8.2%}")
    lines.append("premiums for the size shown, fee included (quote currency = collateral units); vols annualised")
    return "\n".join(lines)


def format_positions(rows: list[dict]) -> str:
    if not rows:
        return "no open positions"
    lines = [f"{'id':>3} {'series':<25} {'size':>12} {'mark':>12} {'value':>14}"]
    for r in rows:
        tag = " (expired)" if r["expired"] else ""
        lines.append(f"{r['series_id']:>3} {r['series']:<25} {_w(r['size'], 4):>12} {_w(r['mark']):>12} "
                     f"{_w(r['value']):>14}{tag}")
    return "\n".join(lines)


def format_health(h: dict) -> str:
    ratio = "n/a (no margin)" if h["health"] is None else f"{h['health']:.3f}"
    return "\n".join([
        f"account      {h['account']}",
        f"collateral   {_w(h['collateral'])}",
        f"value        {_w(h['value'])}",
        f"initial      {_w(h['initial'])}",
        f"maintenance  {_w(h['maintenance'])}",
        f"free margin  {_w(h['free'])}",
        f"value / maintenance  {ratio}",
        f"liquidatable {'YES' if h['liquidatable'] else 'no'}",
    ])



# ---------------------------------------------------------------------------------------------
# ape scripts: accounts and deployments


def ape_account(spec: str | None, network):
    """An ape account from --account: an alias of `ape accounts` (asks for its passphrase when it signs), or
    TEST::N (ape's test account N, local networks).  Default: test account 0 on a local network; elsewhere
    --account is required."""
    from ape import accounts

    if spec is None:
        if not network.is_dev:
            raise TradingError(f"on {network.choice} pass --account ALIAS (see `ape accounts list`)")
        return accounts.test_accounts[0]
    s = spec.strip()
    if s.upper().startswith("TEST::"):
        try:
            return accounts.test_accounts[int(s[6:])]
        except (ValueError, IndexError):
            raise TradingError(f"no test account {s!r}") from None
    return accounts.load(s)


def ape_protocol(deployment):
    """The deployment to use: a manifest path, or None for the connected network's deployments/<network>.json."""
    from .deploy import load_protocol

    return load_protocol(str(deployment) if deployment else None)
