"""Helpers of the monitor tests (no fixtures here): a synthetic option chain quoted around the deployed surface.

market_chain: for every live deployed expiry, n_strikes strikes with k = ln(K/F) evenly spread over
+-(1.6 sqrt(T) + 0.1); the market's true total variance is the deployed smile's w(k) shifted by `vol_shift`
(vol points added to the vol: sigma = sqrt(w / T) + vol_shift / 100); bid and ask are the true price -+ a
half-spread of vega x h(k) (h = 0.5 vol point at the money widening to 2 vol points), and the mid is moved by
u x half-spread, u ~ U(-1/2, 1/2) from a seeded generator: residuals of an unshifted surface are pure
bid-ask noise, stationary from one chain to the next.  Only the out-of-the-money side of each strike is quoted
(a call for K >= F, a put below: what the monitor keeps, so no time goes into inverting quotes it drops).
Prices from reference.black_scholes (float64), forward = spot, r = 0.
"""
from __future__ import annotations

import numpy as np

from reference import black_scholes as bs
from reference.svi import total_variance
from vyopt.chains import YEAR_SECONDS, OptionChain


def half_spread_vol(k):
    return 0.005 + 0.015 * np.minimum(np.abs(k) / 0.8, 1.0)


def market_chain(smiles: dict, now: int, forward: float, *, seed: int, vol_shift: float = 0.0,
                 n_strikes: int = 41) -> OptionChain:
    """smiles: {expiry: reference.svi.SVI} (the deployed ones); now: the quote time (unix s)."""
    rng = np.random.default_rng(seed)
    cols = {c: [] for c in ("instrument", "symbol", "expiry", "timestamp", "strike", "is_call", "bid", "ask", "forward")}
    for e, p in sorted(smiles.items()):
        t = (e - now) / YEAR_SECONDS
        if t * 365 < 1.5:
            continue
        half_width = 1.6 * np.sqrt(t) + 0.1
        k = np.linspace(-half_width, half_width, n_strikes)
        strikes = forward * np.exp(k)
        vol = np.sqrt(np.maximum(total_variance(p, k), 1e-12) / t) + vol_shift / 100.0
        for is_call in (True, False):
            keep = strikes >= forward if is_call else strikes < forward
            kk, strikes_, vol_ = k[keep], strikes[keep], vol[keep]
            price = bs.price_f64(forward, strikes_, vol_, t, 0.0, is_call)
            vega = forward * np.sqrt(t) * np.exp(-0.5 * ((np.log(forward / strikes_) + 0.5 * vol_ * vol_ * t)
                                                         / (vol_ * np.sqrt(t))) ** 2) / np.sqrt(2 * np.pi)
            hs = vega * half_spread_vol(kk)
            intrinsic = np.maximum(0.0, (forward - strikes_) if is_call else (strikes_ - forward))
            hs = np.minimum(hs, 0.45 * (price - intrinsic))
            mid = price + rng.uniform(-0.5, 0.5, kk.size) * hs
            cols["instrument"] += [f"SYN-{e}-{s:.0f}-{'C' if is_call else 'P'}" for s in strikes_]
            cols["symbol"] += ["SYN"] * kk.size
            cols["expiry"] += [float(e)] * kk.size
            cols["timestamp"] += [float(now)] * kk.size
            cols["strike"] += list(strikes_)
            cols["is_call"] += [is_call] * kk.size
            cols["bid"] += list(mid - hs)
            cols["ask"] += list(mid + hs)
            cols["forward"] += [forward] * kk.size
    return OptionChain(source="generic", **{c: np.array(v, dtype=object if c in ("instrument", "symbol") else None)
                                            for c, v in cols.items()})
