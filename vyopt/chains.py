"""Option-chain readers: the Deribit export format and a documented generic CSV.

Both readers return an :class:`OptionChain`: one row per listed option, columns as numpy arrays, prices
converted to the quote currency (USD) and undiscounted (r = 0), missing quotes as NaN.  Nothing is
filtered here; deciding which quotes are usable is the calibration's job (vyopt.calibration.quotes).

API
    read_chain(path, fmt="auto", underlying=None) -> OptionChain     dispatch on the header
    read_deribit(path, underlying=None) -> OptionChain
    read_generic(path, underlying=None) -> OptionChain
    write_generic(chain, path) -> None                               the generic format, for fixtures/exports
    OptionChain.t_years                                              (expiry - timestamp) / 365 days

Deribit format (a dump of public/get_book_summary + instrument fields, e.g.
../shared/data/market/deribit-btc-options-2022-04-20.csv).  Columns used:
    instrument_name, base_currency, option_type (call|put), strike (USD),
    expiration_timestamp, timestamp (ms since epoch, UTC),
    underlying_price    the forward of that expiry (USD): used as F (Deribit marks options on it, r = 0),
    best_bid_price, best_ask_price (BTC per option: inverse options; USD = BTC price x underlying_price),
    best_bid_amount, best_ask_amount (contracts), bid_iv, ask_iv, mark_iv (percent; 0 = no quote,
    500 = Deribit's cap/placeholder).
  A zero best_bid_price / best_ask_price means "no order on that side" and becomes NaN.  Deribit's IVs are
  kept (as fractions, NaN for 0) only to cross-check our own inversion and to drop placeholder quotes.

Generic CSV format (one header line, comma separated, any column order, extra columns ignored):
    expiry      required  ISO-8601 UTC date-time ("2022-06-24T08:00:00Z", "2022-06-24 08:00") or unix
                          time as a number (seconds; values above 1e11 are taken as milliseconds)
    timestamp   required  quote time, same formats as expiry
    strike      required  in the quote currency
    type        required  call|put|c|p (case-insensitive)
    bid, ask    required  option prices in the quote currency per 1 unit of underlying, undiscounted;
                          empty, 0 or negative = no quote on that side
    forward     required unless `underlying` is present: the forward for that expiry
    underlying  optional  spot; used only when `forward` is absent, then F = spot (r = 0, no carry)
    symbol      optional  underlying symbol, matched by --underlying (case-insensitive)
    bid_size, ask_size, bid_iv, ask_iv   optional (IVs as fractions, e.g. 0.55)
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

YEAR_SECONDS = 365 * 24 * 3600
# Deribit reports a capped IV of 500% where no sensible vol exists; 0 where there is no quote.
DERIBIT_IV_CAP = 5.0


@dataclass(frozen=True)
class OptionChain:
    """Columns of an option chain (all arrays of the same length)."""

    source: str  # "deribit" | "generic"
    instrument: np.ndarray  # str
    symbol: np.ndarray  # str, underlying symbol ("" when unknown)
    expiry: np.ndarray  # float, unix seconds
    timestamp: np.ndarray  # float, unix seconds
    strike: np.ndarray
    is_call: np.ndarray  # bool
    bid: np.ndarray  # quote currency, NaN = no bid
    ask: np.ndarray  # quote currency, NaN = no ask
    forward: np.ndarray
    bid_size: np.ndarray = field(default=None)  # NaN when unknown
    ask_size: np.ndarray = field(default=None)
    source_bid_iv: np.ndarray = field(default=None)  # fraction; NaN = not given / zero
    source_ask_iv: np.ndarray = field(default=None)

    def __post_init__(self):
        n = len(self.strike)
        for name in ("bid_size", "ask_size", "source_bid_iv", "source_ask_iv"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, np.full(n, np.nan))
        for name in ("instrument", "symbol", "expiry", "timestamp", "is_call", "bid", "ask", "forward"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"chains: column {name} has {len(getattr(self, name))} rows, expected {n}")

    def __len__(self) -> int:
        return len(self.strike)

    @property
    def t_years(self) -> np.ndarray:
        return (self.expiry - self.timestamp) / YEAR_SECONDS

    def take(self, mask) -> "OptionChain":
        """Rows where mask is true (or at the given indices)."""
        cols = {
            name: getattr(self, name)[mask]
            for name in (
                "instrument", "symbol", "expiry", "timestamp", "strike", "is_call", "bid", "ask", "forward",
                "bid_size", "ask_size", "source_bid_iv", "source_ask_iv",
            )
        }
        return replace(self, **cols)


def _num(x: str) -> float:
    x = (x or "").strip()
    if x == "":
        return math.nan
    return float(x)


def _quote(x: str) -> float:
    """A price on one side of the book; zero/negative/empty means no quote."""
    v = _num(x)
    return v if v > 0 else math.nan


def _time(x: str) -> float:
    """Unix seconds from ISO-8601 (UTC if no zone) or from a number (s, or ms when > 1e11)."""
    x = (x or "").strip()
    if x == "":
        raise ValueError("chains: empty time field")
    try:
        v = float(x)
    except ValueError:
        text = x[:-1] + "+00:00" if x.endswith("Z") else x
        d = datetime.fromisoformat(text)
        if d.tzinfo is None:
            d = d.replace(tzinfo=timezone.utc)
        return d.timestamp()
    return v / 1000.0 if v > 1e11 else v


def _read_rows(path) -> tuple[list[str], list[dict]]:
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def _filter_symbol(rows: list[dict], key: str, underlying: str | None, path) -> list[dict]:
    if underlying is None:
        return rows
    out = [r for r in rows if (r.get(key) or "").strip().upper() == underlying.upper()]
    if not out:
        raise ValueError(f"chains: no option on underlying {underlying!r} in {Path(path).name}")
    return out


def read_deribit(path, underlying: str | None = None) -> OptionChain:
    """Read a Deribit export (see module docstring); inverse prices converted to USD with the forward."""
    header, rows = _read_rows(path)
    missing = {"instrument_name", "strike", "option_type", "expiration_timestamp", "timestamp",
               "underlying_price", "best_bid_price", "best_ask_price"} - set(header)
    if missing:
        raise ValueError(f"chains: Deribit file lacks columns {sorted(missing)}")
    rows = _filter_symbol(rows, "base_currency", underlying, path)
    fwd = np.array([_num(r["underlying_price"]) for r in rows])
    bid_btc = np.array([_quote(r["best_bid_price"]) for r in rows])
    ask_btc = np.array([_quote(r["best_ask_price"]) for r in rows])

    def iv(col):
        if col not in header:
            return np.full(len(rows), np.nan)
        v = np.array([_num(r[col]) for r in rows]) / 100.0
        return np.where(v > 0, v, np.nan)

    return OptionChain(
        source="deribit",
        instrument=np.array([r["instrument_name"] for r in rows], dtype=object),
        symbol=np.array([(r.get("base_currency") or "").upper() for r in rows], dtype=object),
        expiry=np.array([_num(r["expiration_timestamp"]) / 1000.0 for r in rows]),
        timestamp=np.array([_num(r["timestamp"]) / 1000.0 for r in rows]),
        strike=np.array([_num(r["strike"]) for r in rows]),
        is_call=np.array([r["option_type"].strip().lower() == "call" for r in rows]),
        bid=bid_btc * fwd,
        ask=ask_btc * fwd,
        forward=fwd,
        bid_size=np.array([_num(r.get("best_bid_amount", "")) for r in rows]),
        ask_size=np.array([_num(r.get("best_ask_amount", "")) for r in rows]),
        source_bid_iv=iv("bid_iv"),
        source_ask_iv=iv("ask_iv"),
    )


def _option_type(x: str) -> bool:
    t = (x or "").strip().lower()
    if t in ("call", "c"):
        return True
    if t in ("put", "p"):
        return False
    raise ValueError(f"chains: option type {x!r} is neither call nor put")


def read_generic(path, underlying: str | None = None) -> OptionChain:
    """Read the generic CSV format (see module docstring)."""
    header, rows = _read_rows(path)
    cols = {h.strip().lower(): h for h in header}
    need = {"expiry", "timestamp", "strike", "type", "bid", "ask"}
    if not need <= set(cols):
        raise ValueError(f"chains: generic CSV lacks columns {sorted(need - set(cols))}")
    if "forward" not in cols and "underlying" not in cols:
        raise ValueError("chains: generic CSV needs a forward (or an underlying) column")
    rows = [{k.strip().lower(): v for k, v in r.items()} for r in rows]
    rows = _filter_symbol(rows, "symbol", underlying, path)
    fcol = "forward" if "forward" in cols else "underlying"

    def opt(name):
        if name not in cols:
            return np.full(len(rows), np.nan)
        return np.array([_num(r[name]) for r in rows])

    def name(r):
        kind = "C" if _option_type(r["type"]) else "P"
        return f"{(r.get('symbol') or 'X').upper()}-{int(_time(r['expiry']))}-{_num(r['strike']):g}-{kind}"

    instrument = [name(r) for r in rows]
    return OptionChain(
        source="generic",
        instrument=np.array(instrument, dtype=object),
        symbol=np.array([(r.get("symbol") or "").upper() for r in rows], dtype=object),
        expiry=np.array([_time(r["expiry"]) for r in rows]),
        timestamp=np.array([_time(r["timestamp"]) for r in rows]),
        strike=np.array([_num(r["strike"]) for r in rows]),
        is_call=np.array([_option_type(r["type"]) for r in rows]),
        bid=np.array([_quote(r["bid"]) for r in rows]),
        ask=np.array([_quote(r["ask"]) for r in rows]),
        forward=np.array([_num(r[fcol]) for r in rows]),
        bid_size=opt("bid_size"),
        ask_size=opt("ask_size"),
        source_bid_iv=np.where(opt("bid_iv") > 0, opt("bid_iv"), np.nan),
        source_ask_iv=np.where(opt("ask_iv") > 0, opt("ask_iv"), np.nan),
    )


def detect_format(path) -> str:
    with open(path, newline="") as fh:
        header = next(csv.reader(fh), [])
    names = {h.strip().lower() for h in header}
    if {"instrument_name", "best_bid_price", "underlying_price"} <= names:
        return "deribit"
    if {"expiry", "strike", "type", "bid", "ask"} <= names:
        return "generic"
    raise ValueError(f"chains: {Path(path).name} is neither a Deribit export nor the generic CSV format")


def read_chain(path, fmt: str = "auto", underlying: str | None = None) -> OptionChain:
    """Read an option chain; fmt is "auto" (from the header), "deribit" or "generic"."""
    if fmt == "auto":
        fmt = detect_format(path)
    if fmt == "deribit":
        return read_deribit(path, underlying)
    if fmt == "generic":
        return read_generic(path, underlying)
    raise ValueError(f"chains: unknown format {fmt!r}")


def _iso(t: float) -> str:
    return datetime.fromtimestamp(float(t), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def write_generic(chain: OptionChain, path) -> None:
    """Write a chain in the generic CSV format (times as ISO-8601 UTC with microseconds)."""
    def cell(v):
        return "" if not np.isfinite(v) else repr(float(v))

    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["symbol", "expiry", "timestamp", "strike", "type", "bid", "ask", "forward",
                    "bid_size", "ask_size", "bid_iv", "ask_iv"])
        for i in range(len(chain)):
            w.writerow([
                chain.symbol[i], _iso(chain.expiry[i]), _iso(chain.timestamp[i]), repr(float(chain.strike[i])),
                "call" if chain.is_call[i] else "put", cell(chain.bid[i]), cell(chain.ask[i]),
                repr(float(chain.forward[i])), cell(chain.bid_size[i]), cell(chain.ask_size[i]),
                cell(chain.source_bid_iv[i]), cell(chain.source_ask_iv[i]),
            ])
