"""Deribit BTC options: the convention that reproduces Deribit's own marks and greeks from its quote fields.

Deribit BTC options are inverse: the payoff is in USD, max(F_T - K, 0) for a call, but premium and settlement
are in BTC, so a price in BTC is the USD value divided by the BTC price.  The snapshot analysed here is
/work/shared/data/market/deribit-btc-options-2022-04-20.csv (384 instruments, one `public/ticker` answer each,
stamped within 31 s; `interest_rate` is 0 on every row, every row has mark_iv > 0).

Mark price (BTC) -- reproduced by:
    F     = underlying_price  (USD; the forward of that expiry: the future's price, or Deribit's synthetic
            forward "SYN.BTC-..." for expiries without a future)
    T     = round((expiration_timestamp - timestamp) / 60 000 ms) minutes / (365 * 1440)
            i.e. WHOLE MINUTES to expiry (nearest) on a 365-day year
    sigma = mark_iv / 100
    mark_price = Black76(F, K, sigma, T, r = 0) / F,  i.e. Black-Scholes with S = F and r = 0, in USD,
                 divided by the same F.
How T was pinned down: (1) 365 days: with 365.25 or 360 the median relative mark error grows from 7.7e-5 to
2.8e-4 and 4.2e-3.  (2) whole minutes: a deep in-the-money put has rho = -K T / 100 almost exactly, so its
printed rho gives T to ~10 s; on those rows the T Deribit used is off the millisecond T by exactly the seconds
past the minute of `timestamp` (flipping to the next minute past the half minute).  The marks agree: on the
22 out-of-the-money rows of the synthetic-forward expiries (whose forward is clean), the implied vol of the
mark is within the 0.005-vol-point print of mark_iv on 21 rows with minute T, 15 rows with millisecond T.
The instant Deribit rounds is ~0.5-0.8 s before `timestamp` (rows stamped 30.505 s and 30.508 s past a minute
still round down, one stamped 30.769 s rounds up); this module rounds `timestamp` itself, so the 12 rows
stamped within 1 s after a half minute may get the neighbouring minute (the tests' budget allows for it).
Rows whose mark is 0 (16 far out-of-the-money short-dated ones) have model values below 1.2e-9 BTC, i.e.
they round to 0 at the 8 decimals Deribit prints.

Greeks -- Deribit reports the greeks of the USD-valued option (Black-Scholes with S = F, r = 0, T as above):
    delta  dV_usd/dF: N(d1) for a call, N(d1) - 1 for a put: the forward delta of the USD option, NOT the
           premium-adjusted (BTC-denominated) delta N(d1) - V/F (misses by 0.07 median, up to 8.5 on deep ITM).
    gamma  d2V_usd/dF2 = n(d1) / (F sigma sqrt T), per USD.  Printed with 5 decimals, so it is 0, 1e-05, ...
           on most rows: only the rounding can be checked.
    vega   dV_usd/dsigma / 100: USD per 1 vol point.
    theta  USD per calendar day: theta_day = max(theta_year / 365 * min(1, T_days), -V_usd) with
           theta_year = -F n(d1) sigma / (2 sqrt T): the linear decay over what is left of the next day (or of
           the option's life, if shorter), never more than the whole option value.  The limit binds on the last
           day (the 21APR22 rows) and wherever a day's decay exceeds V (far OTM); the plain theta_year / 365
           misses those rows by up to 122 USD per day.
    rho    USD per 1 % of rate, with the SPOT Black-Scholes rho: K T N(d2) / 100 (call), -K T N(-d2) / 100
           (put), although the price itself is Black-76 on the forward (whose own rho, -T V / 100, misses by
           up to 401 USD).
All five use `underlying_price` as printed: solving each row for the forward implied by its mark fits the
greeks worse.

Measured agreement on all 384 rows (`agreement_summary` recomputes these):
    mark price   max |diff| 1.45e-3 BTC (BTC-30SEP22-400000-P, worth 8.53 BTC), median 2.7e-6 BTC;
                 relative on the 342 marks >= 1e-4 BTC: max 7.1e-3, median 7.7e-5 (over all 368 positive
                 marks the max is 0.27, on a mark printed as 1e-08)
    implied vol  of the mark vs mark_iv, out-of-the-money rows with marks >= 1e-4 BTC (150): median 0.0034,
                 max 0.16 vol points (mark_iv is printed to 0.01)
    delta        max |diff| 4.4e-5, median 3.4e-6       (5 printed decimals: the print alone is 5e-6)
    gamma        max |diff| 5.0e-6, median 1.9e-6       (all within the 5e-6 of the print)
    vega         max |diff| 1.2e-2 USD, median 3.6e-4; relative max 1.3e-3, median 6.0e-5
    theta        max |diff| 9.1e-2 USD/day, median 7.3e-4; relative max 3.8e-3, median 9.7e-5
    rho          max |diff| 6.9e-3 USD, median 7.8e-5; relative max 1.3e-3, median 9.5e-6
    (relative figures of a greek on rows whose printed value is >= 5e-3)
The residuals are explained by the quote, not by the model: mark_iv is printed with 2 decimals (+-0.005
vol points, i.e. +-vega_btc * 5e-5 BTC on the mark), the mark with 8 decimals and the greeks with 5, and the
underlying moves while the snapshot is taken (index_price spans 41166.70-41187.81 USD, 5.1e-4 relative, over
the 31 s).  Solving each row for the forward that makes the model hit the mark gives offsets of up to ~11 USD
(2.6e-4) from `underlying_price` on futures expiries, but ~0.005 USD (the print's rounding) on the synthetic
SYN.* forwards: on futures expiries Deribit's mark and `underlying_price` are not taken at the same instant.
tests/reference/test_deribit_ref.py bounds every row by that error budget (worst row at 0.50 of it for the
mark, <= 1.0 for each greek) and checks that the rejected alternatives above fall outside it.

API:
    DATA_PATH                         default location of the snapshot (shared/ beside the repo)
    DeribitOption                     one row, clean field names (frozen dataclass)
    load_chain(path=DATA_PATH) -> list[DeribitOption]
    minutes_to_expiry(opt) -> int     whole minutes, nearest
    year_fraction(opt) -> Fraction    T in years as Deribit uses it
    model_value_usd(opt, sigma=None) -> float     Black-76 value of the USD payoff
    model_mark_price(opt) -> float    BTC
    model_greeks(opt) -> Greeks       in Deribit's units (see above)
    implied_vol_of_mark(opt) -> float | None      vol (fraction) that reproduces opt.mark_price in this convention
    agreement_summary(path=DATA_PATH) -> dict     the figures above, JSON-serialisable
"""
from __future__ import annotations

import csv
import math
import statistics
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from mpmath import mp

from reference import black_scholes as bs
from reference.black_scholes import Greeks

DATA_PATH = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "market" / "deribit-btc-options-2022-04-20.csv"
MS_PER_MINUTE = 60_000
MINUTES_PER_YEAR = 365 * 1440
QUOTED_DECIMALS = {"mark_price": 8, "mark_iv": 2, "delta": 5, "gamma": 5, "vega": 5, "theta": 5, "rho": 5}


@dataclass(frozen=True)
class DeribitOption:
    instrument: str
    is_call: bool
    strike: float  # USD
    expiry_ms: int
    timestamp_ms: int
    underlying_index: str  # "BTC-24JUN22" (future) or "SYN.BTC-21APR22" (synthetic forward)
    underlying_price: float  # USD, forward for this expiry
    index_price: float  # USD, spot index
    interest_rate: float
    mark_price: float  # BTC
    mark_iv: float  # percent
    bid_iv: float  # percent
    ask_iv: float  # percent
    best_bid_price: float  # BTC
    best_ask_price: float  # BTC
    open_interest: float  # contracts (1 BTC each)
    settlement_period: str  # day / week / month
    delta: float
    gamma: float  # per USD
    vega: float  # USD per vol point
    theta: float  # USD per day
    rho: float  # USD per 1 %


def _f(x: str) -> float:
    return float(x) if x != "" else math.nan


def load_chain(path=DATA_PATH) -> list[DeribitOption]:
    """Rows of a Deribit ticker dump (csv with the API's dotted column names) as DeribitOption records."""
    out = []
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            out.append(
                DeribitOption(
                    instrument=row["instrument_name"],
                    is_call=row["option_type"] == "call",
                    strike=_f(row["strike"]),
                    expiry_ms=int(row["expiration_timestamp"]),
                    timestamp_ms=int(row["timestamp"]),
                    underlying_index=row["underlying_index"],
                    underlying_price=_f(row["underlying_price"]),
                    index_price=_f(row["index_price"]),
                    interest_rate=_f(row["interest_rate"]),
                    mark_price=_f(row["mark_price"]),
                    mark_iv=_f(row["mark_iv"]),
                    bid_iv=_f(row["bid_iv"]),
                    ask_iv=_f(row["ask_iv"]),
                    best_bid_price=_f(row["best_bid_price"]),
                    best_ask_price=_f(row["best_ask_price"]),
                    open_interest=_f(row["open_interest"]),
                    settlement_period=row["settlement_period"],
                    delta=_f(row["greeks.delta"]),
                    gamma=_f(row["greeks.gamma"]),
                    vega=_f(row["greeks.vega"]),
                    theta=_f(row["greeks.theta"]),
                    rho=_f(row["greeks.rho"]),
                )
            )
    return out


def minutes_to_expiry(opt: DeribitOption) -> int:
    """Time to expiry in whole minutes, rounded to the nearest (half a minute rounds up)."""
    return (opt.expiry_ms - opt.timestamp_ms + MS_PER_MINUTE // 2) // MS_PER_MINUTE


def year_fraction(opt: DeribitOption) -> Fraction:
    """T in years as Deribit uses it: whole minutes to expiry / (365 * 1440)."""
    return Fraction(minutes_to_expiry(opt), MINUTES_PER_YEAR)


def _args(opt: DeribitOption, sigma=None):
    """Black-Scholes arguments with S = F (the forward), r = 0: the Black-76 value of the USD payoff."""
    T = year_fraction(opt)
    vol = opt.mark_iv / 100 if sigma is None else sigma
    return opt.underlying_price, opt.strike, vol, T, 0


def model_value_usd(opt: DeribitOption, sigma=None) -> float:
    return float(bs.price(*_args(opt, sigma), opt.is_call))


def model_mark_price(opt: DeribitOption) -> float:
    """Mark price in BTC: Black-76 USD value on the forward, divided by the forward."""
    v = bs.price(*_args(opt), opt.is_call)
    with mp.workdps(bs.DPS):
        return float(v / opt.underlying_price)


def model_greeks(opt: DeribitOption) -> Greeks:
    """Greeks in Deribit's units: delta, gamma per USD, vega USD/vol point, theta USD/day, rho USD/1 %."""
    args = _args(opt)
    g = bs.greeks(*args, opt.is_call)
    value = model_value_usd(opt)
    t_days = minutes_to_expiry(opt) / 1440
    theta_day = max(float(g.theta) / 365 * min(1.0, t_days), -value)
    return Greeks(float(g.delta), float(g.gamma), float(g.vega) / 100, theta_day, float(g.rho) / 100)


def implied_vol_of_mark(opt: DeribitOption):
    """Vol (fraction) whose Black-76 BTC price equals opt.mark_price; None when the mark is outside the
    strict no-arbitrage bounds (e.g. a mark of 0) or the vol outside [1e-4, 20]."""
    F, K, _, T, _ = _args(opt)
    price_usd = Fraction(str(opt.mark_price)) * Fraction(str(F))
    try:
        return float(bs.implied_vol(price_usd, Fraction(str(F)), Fraction(str(K)), T, 0, opt.is_call))
    except bs.BSDomainError:
        return None


def _stats(diffs, rels):
    return {
        "max_abs": max(diffs),
        "median_abs": statistics.median(diffs),
        "max_rel": max(rels) if rels else None,
        "median_rel": statistics.median(rels) if rels else None,
        "rel_rows": len(rels),
    }


def agreement_summary(path=DATA_PATH) -> dict:
    """Model vs Deribit on every row with mark_iv > 0: mark price, implied vol of the mark and each greek.

    Relative mark differences use marks >= 1e-4 BTC (a smaller mark has at most 4 printed digits; the
    figure over every positive mark is given too).  Implied vols are compared on out-of-the-money rows with
    marks >= 1e-4 BTC, where the mark is all time value (in the money, a few USD of forward noise moves the
    implied vol of a short-dated option by many vol points).  Relative differences of a greek use rows whose
    printed value is at least 5e-3 (so the 5-decimal print contributes <= 1e-3); gamma never reaches that.
    """
    chain = load_chain(path)
    rows = [o for o in chain if o.mark_iv > 0]
    price_abs, price_rel, price_rel_all, iv_abs = [], [], [], []
    greek_abs = {k: [] for k in Greeks._fields}
    greek_rel = {k: [] for k in Greeks._fields}
    worst = None
    for o in rows:
        d = abs(model_mark_price(o) - o.mark_price)
        price_abs.append(d)
        if worst is None or d > worst[1]:
            worst = (o.instrument, d)
        if o.mark_price > 0:
            price_rel_all.append(d / o.mark_price)
        if o.mark_price >= 1e-4:
            price_rel.append(d / o.mark_price)
            otm = o.strike >= o.underlying_price if o.is_call else o.strike <= o.underlying_price
            iv = implied_vol_of_mark(o) if otm else None
            if iv is not None:
                iv_abs.append(abs(iv * 100 - o.mark_iv))
        g = model_greeks(o)
        for k in Greeks._fields:
            quoted = getattr(o, k)
            dg = abs(getattr(g, k) - quoted)
            greek_abs[k].append(dg)
            if abs(quoted) >= 5e-3:
                greek_rel[k].append(dg / abs(quoted))
    return {
        "source": Path(path).name,
        "rows": len(chain),
        "rows_used": len(rows),
        "convention": {
            "price": "Black-76 on underlying_price (forward), r = 0, T = ms to expiry / (365 * 86400000), "
            "sigma = mark_iv / 100, USD value / underlying_price = BTC",
            "delta": "N(d1) (call), N(d1) - 1 (put): forward delta of the USD option, not premium-adjusted",
            "gamma": "n(d1) / (F sigma sqrt T) per USD",
            "vega": "USD per vol point (dV/dsigma / 100)",
            "theta": "USD per calendar day: max(theta_year / 365 * min(1, days to expiry), -V_usd)",
            "rho": "USD per 1 % rate, spot Black-Scholes rho K T N(d2) / 100 (call), -K T N(-d2) / 100 (put)",
        },
        "mark_price_btc": {
            **_stats(price_abs, price_rel),
            "rel_rows_rule": "mark_price >= 1e-4 BTC",
            "max_rel_all_positive_marks": max(price_rel_all),
            "positive_marks": len(price_rel_all),
            "worst_instrument": worst[0],
        },
        "implied_vol_points": {
            "max_abs": max(iv_abs),
            "median_abs": statistics.median(iv_abs),
            "rows": len(iv_abs),
            "rows_rule": "out of the money, mark_price >= 1e-4 BTC",
        },
        "greeks": {
            k: {**_stats(greek_abs[k], greek_rel[k]), "rel_rows_rule": "|quoted| >= 5e-3", "quoted_decimals": QUOTED_DECIMALS[k]}
            for k in Greeks._fields
        },
    }
