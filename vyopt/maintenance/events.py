"""The registry's change events in one plain form, whatever decoded them (ape on a node, titanoboa in process).

RiskRegistry emits ParamChange, SmileChange, ScenariosChange and RoleChange with (change_id, action, target,
old value, new value, eta, reason_hash); action 0 is the constructor's genesis entry, 1 queue, 2 execute,
3 cancel.  `normalize(name, args, ...)` turns one into a ChainEvent whose values are JSON-able contract
units, the same form the maintenance log stores, so a record and its event compare field by field.

    kind        key                          from / to
    param       parameter name (im_ratio...) integer (WAD or seconds)
    smile       expiry, unix seconds         {"a", "b", "rho", "m", "sigma"} WAD integers ({} = no smile)
    scenarios   "grid"                       [[spot_shock, vol_shock], ...] WAD integers
    role        admin | risk_manager | guardian   address, lower case
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

PARAM_NAMES = (
    "im_ratio", "min_margin", "liquidation_penalty", "liquidator_share", "dust_threshold", "fee_rate",
    "vol_spread", "max_open_interest", "oracle_heartbeat", "oracle_max_deviation", "oracle_jump_cooldown",
)
ROLE_NAMES = ("admin", "risk_manager", "guardian")
ACTION_NAMES = {0: "genesis", 1: "queue", 2: "execute", 3: "cancel"}
EVENT_KINDS = {"ParamChange": "param", "SmileChange": "smile", "ScenariosChange": "scenarios", "RoleChange": "role"}
SMILE_FIELDS = ("a", "b", "rho", "m", "sigma")
ZERO_ADDRESS = "0x" + "0" * 40


@dataclass(frozen=True)
class ChainEvent:
    kind: str
    action: str
    change_id: int
    key: str
    from_value: object
    to_value: object
    eta: int
    reason_hash: str
    tx_hash: str
    block: int
    log_index: int
    fast: bool = False
    block_time: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def hex32(x) -> str:
    """bytes32 (bytes, HexBytes or hex str) -> '0x' + 64 lower-case hex digits."""
    if isinstance(x, str):
        h = x[2:] if x.startswith(("0x", "0X")) else x
        return "0x" + h.lower().rjust(64, "0")
    return "0x" + bytes(x).hex().rjust(64, "0")


def _field(obj, name: str, index: int):
    if isinstance(obj, dict):
        return obj[name]
    if hasattr(obj, name):
        return getattr(obj, name)
    return obj[index]


def smile_value(s) -> dict:
    """A decoded svi.Smile (namedtuple, ape struct, dict or 5-tuple) -> {a, b, rho, m, sigma} ints; the
    all-zero smile (no previous smile) -> {}."""
    d = {f: int(_field(s, f, i)) for i, f in enumerate(SMILE_FIELDS)}
    return {} if not any(d.values()) else d


def smile_tuple(v: dict) -> tuple:
    """{a, b, rho, m, sigma} -> the contract tuple (all zero for {})."""
    return tuple(int(v.get(f, 0)) for f in SMILE_FIELDS)


def grid_value(grid) -> list:
    return [[int(_field(s, "spot_shock", 0)), int(_field(s, "vol_shock", 1))] for s in grid]


def address_value(a) -> str:
    return str(a).lower()


def key_label(kind: str, key: str) -> str:
    """A human label for a change key: the expiry of a smile as an ISO date-time."""
    if kind == "smile":
        from datetime import datetime, timezone

        return datetime.fromtimestamp(int(key), tz=timezone.utc).strftime("%Y-%m-%dT%H:%MZ")
    return key


def normalize(name: str, args, *, tx_hash, block: int, log_index: int,
              block_time: int | None = None) -> ChainEvent | None:
    """One decoded registry event -> ChainEvent (None for events that are not parameter changes)."""
    kind = EVENT_KINDS.get(name)
    if kind is None:
        return None
    g = (lambda k: args[k]) if isinstance(args, dict) else (lambda k: getattr(args, k))
    action = ACTION_NAMES[int(g("action"))]
    if kind == "param":
        p = int(g("param"))
        key = PARAM_NAMES[p] if p < len(PARAM_NAMES) else str(p)
        old, new = int(g("old_value")), int(g("new_value"))
    elif kind == "smile":
        key = str(int(g("expiry")))
        old, new = smile_value(g("old_smile")), smile_value(g("new_smile"))
    elif kind == "scenarios":
        key = "grid"
        old, new = grid_value(g("old_scenarios")), grid_value(g("new_scenarios"))
    else:
        r = int(g("role"))
        key = ROLE_NAMES[r] if r < len(ROLE_NAMES) else str(r)
        old, new = address_value(g("old_account")), address_value(g("new_account"))
    fast = bool(g("fast")) if kind == "smile" else False
    return ChainEvent(kind=kind, action=action, change_id=int(g("change_id")), key=key, from_value=old, to_value=new,
                      eta=int(g("eta")), reason_hash=hex32(g("reason_hash")), tx_hash=hex32(tx_hash),
                      block=int(block), log_index=int(log_index), fast=fast,
                      block_time=None if block_time is None else int(block_time))


def from_boa_logs(logs, *, tx_hash, block: int, block_time: int | None = None) -> list[ChainEvent]:
    """Events of one titanoboa computation (contract.get_logs()), given the tx hash to file them under."""
    out = []
    for i, ev in enumerate(logs):
        e = normalize(type(ev).__name__, ev._asdict(), tx_hash=tx_hash, block=block, log_index=i, block_time=block_time)
        if e is not None:
            out.append(e)
    return out


def from_ape_log(log) -> ChainEvent | None:
    """An ape ContractLog -> ChainEvent (None for non-change events)."""
    return normalize(log.event_name, dict(log.event_arguments), tx_hash=log.transaction_hash,
                     block=log.block_number, log_index=log.log_index)
