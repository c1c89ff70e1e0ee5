"""From raw chain rows to the quotes a smile is fitted to: filters, implied vols, weights.

Filters, applied in this order; each dropped row is counted under the first reason it meets:

    expired         T <= 0
    too_short       T below `min_days` (default 1 day: an expiry that settles within hours carries a smile
                    of pin risk and stale quotes, not of the distribution the registry stores)
    no_bid          no bid (zero, empty or negative)
    no_ask          no ask (one-sided quote)
    crossed         bid >= ask (crossed or locked book)
    placeholder_iv  the source's own IV on either side is a placeholder: missing/0 or the 500% cap in a
                    Deribit export (whose every quote carries IVs), >= 500% in a generic CSV that gives
                    IVs; or our own ask vol is >= 500%
    no_implied_vol  the bid is at or below intrinsic or the ask at or above the price bound (F for a
                    call, K for a put), so one side has no Black vol
    in_the_money    (only with otm_only=True, the default) the ITM side of a strike: it carries the same
                    information as the OTM option of that strike through put-call parity but its vol
                    spread is wider by the ratio of prices (the intrinsic value has no vol); the OTM side
                    is a call for K >= F and a put for K < F
    thin_expiry     fewer than `min_quotes` (default 5) quotes left in the expiry: SVI has 5 parameters

What is kept per quote: k = ln(K/F) (F = the row's forward), T, bid/ask/mid implied vols (the mid vol is
the vol of the mid price) and the half-spread in vol, floored at `min_half_spread` (0.1 vol point) so
that one locked-looking quote cannot outweigh the rest of the smile.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from vyopt.calibration import _black76
from vyopt.chains import OptionChain

REASONS = (
    "expired", "too_short", "no_bid", "no_ask", "crossed", "placeholder_iv", "no_implied_vol",
    "in_the_money", "thin_expiry",
)
PLACEHOLDER_IV_CAP = 5.0  # 500%: Deribit's capped/placeholder IV


@dataclass(frozen=True)
class Quotes:
    """Usable quotes of one chain, sorted by expiry then strike.  Arrays of equal length."""

    instrument: np.ndarray
    expiry: np.ndarray  # unix seconds
    t_years: np.ndarray
    strike: np.ndarray
    forward: np.ndarray
    is_call: np.ndarray
    k: np.ndarray  # ln(K / F)
    vol_bid: np.ndarray
    vol_ask: np.ndarray
    vol_mid: np.ndarray  # vol of the mid price
    half_spread: np.ndarray  # (vol_ask - vol_bid) / 2, floored
    source_vol_bid: np.ndarray  # the source's own IVs (NaN if none), for the cross-check
    source_vol_ask: np.ndarray

    def __len__(self):
        return len(self.k)

    def expiries(self) -> np.ndarray:
        return np.unique(self.expiry)

    def slice(self, expiry) -> np.ndarray:
        return np.flatnonzero(self.expiry == expiry)


@dataclass(frozen=True)
class FilterReport:
    rows: int
    kept: int
    dropped: dict  # reason -> count
    dropped_by_expiry: dict  # expiry (unix s, int) -> {reason: count}

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "kept": self.kept,
            "dropped": {r: int(self.dropped.get(r, 0)) for r in REASONS},
            "dropped_by_expiry": {str(e): {r: int(c) for r, c in d.items()} for e, d in self.dropped_by_expiry.items()},
        }


def prepare_quotes(
    chain: OptionChain,
    *,
    otm_only: bool = True,
    min_days: float = 1.0,
    min_quotes: int = 5,
    min_half_spread: float = 0.001,
) -> tuple[Quotes, FilterReport]:
    """Filter a chain (module docstring) and invert its bid, ask and mid prices to Black-76 vols."""
    n = len(chain)
    t = chain.t_years
    reason = np.full(n, "", dtype=object)

    def mark(cond, why):
        cond = np.asarray(cond, dtype=bool) & (reason == "")
        reason[cond] = why

    mark(~(t > 0), "expired")
    mark(t * 365.0 < min_days, "too_short")
    mark(~np.isfinite(chain.bid), "no_bid")
    mark(~np.isfinite(chain.ask), "no_ask")
    mark(chain.bid >= chain.ask, "crossed")
    bad_src = (chain.source_bid_iv >= PLACEHOLDER_IV_CAP) | (chain.source_ask_iv >= PLACEHOLDER_IV_CAP)
    if chain.source == "deribit":
        bad_src |= ~(chain.source_bid_iv > 0) | ~(chain.source_ask_iv > 0)
    mark(bad_src, "placeholder_iv")

    tt = np.where(t > 0, t, 1.0)
    with np.errstate(invalid="ignore"):
        vb = _black76.implied_vol(chain.bid, chain.forward, chain.strike, tt, chain.is_call)
        va = _black76.implied_vol(chain.ask, chain.forward, chain.strike, tt, chain.is_call)
        vm = _black76.implied_vol(0.5 * (chain.bid + chain.ask), chain.forward, chain.strike, tt, chain.is_call)
    mark(~np.isfinite(vb) | ~np.isfinite(va) | ~np.isfinite(vm), "no_implied_vol")
    # a vol above the placeholder cap is as useless as the placeholder itself
    mark((va >= PLACEHOLDER_IV_CAP) & (reason == ""), "placeholder_iv")
    if otm_only:
        otm = np.where(chain.is_call, chain.strike >= chain.forward, chain.strike < chain.forward)
        mark(~otm, "in_the_money")

    for e in np.unique(chain.expiry):
        sel = (chain.expiry == e) & (reason == "")
        if 0 < sel.sum() < min_quotes:
            reason[sel] = "thin_expiry"

    keep = np.flatnonzero(reason == "")
    order = np.lexsort((chain.strike[keep], ~chain.is_call[keep], chain.expiry[keep]))
    keep = keep[order]
    k = np.log(chain.strike / chain.forward)
    quotes = Quotes(
        instrument=chain.instrument[keep],
        expiry=chain.expiry[keep],
        t_years=t[keep],
        strike=chain.strike[keep],
        forward=chain.forward[keep],
        is_call=chain.is_call[keep],
        k=k[keep],
        vol_bid=vb[keep],
        vol_ask=va[keep],
        vol_mid=vm[keep],
        half_spread=np.maximum(0.5 * (va[keep] - vb[keep]), min_half_spread),
        source_vol_bid=chain.source_bid_iv[keep],
        source_vol_ask=chain.source_ask_iv[keep],
    )
    dropped = Counter(r for r in reason if r)
    by_exp: dict = {}
    for e in np.unique(chain.expiry):
        c = Counter(r for r in reason[chain.expiry == e] if r)
        by_exp[int(e)] = dict(sorted(c.items()))
    return quotes, FilterReport(rows=n, kept=len(keep), dropped=dict(dropped), dropped_by_expiry=by_exp)


def source_iv_agreement(chain: OptionChain) -> dict:
    """Our bid/ask vols against the source's own (Deribit's bid_iv/ask_iv), in vol points, where both exist."""
    t = np.where(chain.t_years > 0, chain.t_years, np.nan)
    out = {}
    for side, price, ref in (("bid", chain.bid, chain.source_bid_iv), ("ask", chain.ask, chain.source_ask_iv)):
        with np.errstate(invalid="ignore"):
            ours = _black76.implied_vol(price, chain.forward, chain.strike, np.nan_to_num(t, nan=1.0), chain.is_call)
        both = np.isfinite(ours) & np.isfinite(ref) & np.isfinite(t) & (ref < PLACEHOLDER_IV_CAP)
        d = np.abs(ours[both] - ref[both]) * 100.0
        out[side] = {
            "compared": int(both.sum()),
            "max_abs_vol_pts": float(d.max()) if d.size else None,
            "median_abs_vol_pts": float(np.median(d)) if d.size else None,
            "within_0.05_vol_pts": float(np.mean(d <= 0.05)) if d.size else None,
        }
    return out
