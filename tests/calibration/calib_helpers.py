"""Helpers for the calibration tests: synthetic chains from known SVI smiles, and the shared BTC chain path.

Synthetic chain: for each (T, SVI) the true Black-76 price at every strike; a half-spread in price equal
to vega x h_vol (h_vol = 0.5 vol point at the money widening to 2 vol points at |k| = 0.8), so bid and
ask vols sit about h_vol either side of the true vol; with noise, the mid price is moved by u x the
half-spread, u ~ U(-1/2, 1/2) from a seeded generator, so the true price always stays inside the quote.
Prices are computed with vyopt.calibration's own Black-76, whose accuracy is tested separately against
mpmath (test_black76.py).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from reference.svi import SVI, total_variance
from vyopt.calibration import _black76
from vyopt.chains import YEAR_SECONDS, OptionChain

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "market"
DERIBIT_CHAIN = SHARED / "deribit-btc-options-2022-04-20.csv"

FORWARD = 40_000.0
NOW = 1_650_000_000.0  # unix seconds
# A BTC-like term structure: downside skew, smiles flattening and rising with T; calendar-consistent.
TRUE_SMILES = [
    (30 / 365, SVI(a=0.010, b=0.080, rho=-0.25, m=0.02, sigma=0.12)),
    (90 / 365, SVI(a=0.030, b=0.140, rho=-0.30, m=0.03, sigma=0.20)),
    (180 / 365, SVI(a=0.060, b=0.200, rho=-0.30, m=0.05, sigma=0.28)),
]


def half_spread_vol(k):
    return 0.005 + 0.015 * np.minimum(np.abs(k) / 0.8, 1.0)


def synthetic_chain(smiles=TRUE_SMILES, *, noise: float = 1.0, seed: int = 7, n_strikes: int = 25,
                    forward: float = FORWARD) -> OptionChain:
    """A chain quoting both calls and puts at n_strikes per expiry (see module docstring)."""
    rng = np.random.default_rng(seed)
    cols = {c: [] for c in ("instrument", "symbol", "expiry", "timestamp", "strike", "is_call", "bid", "ask", "forward")}
    for t, p in smiles:
        half_width = 1.6 * np.sqrt(t) + 0.1  # quoted range grows like sqrt(T)
        k = np.linspace(-half_width, half_width, n_strikes)
        strikes = forward * np.exp(k)
        vol = np.sqrt(total_variance(p, k) / t)
        for is_call in (True, False):
            price = _black76.price(forward, strikes, t, vol, is_call)
            hs = _black76.vega(forward, strikes, t, vol) * half_spread_vol(k)
            intrinsic = np.maximum(0.0, (forward - strikes) if is_call else (strikes - forward))
            hs = np.minimum(hs, 0.45 * (price - intrinsic))  # keep the bid above intrinsic
            u = rng.uniform(-0.5, 0.5, k.size) * noise
            mid = price + u * hs
            expiry = NOW + t * YEAR_SECONDS
            cols["instrument"] += [f"SYN-{t * 365:.0f}D-{s:.0f}-{'C' if is_call else 'P'}" for s in strikes]
            cols["symbol"] += ["SYN"] * k.size
            cols["expiry"] += [expiry] * k.size
            cols["timestamp"] += [NOW] * k.size
            cols["strike"] += list(strikes)
            cols["is_call"] += [is_call] * k.size
            cols["bid"] += list(mid - hs)
            cols["ask"] += list(mid + hs)
            cols["forward"] += [forward] * k.size
    return OptionChain(source="generic", **{c: np.array(v, dtype=object if c in ("instrument", "symbol") else None)
                                            for c, v in cols.items()})
