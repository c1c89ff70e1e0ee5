"""The pricing demo table: a small BTC-like option chain priced on-chain next to the reference model."""
from __future__ import annotations

from reference import black_scholes as ref

WAD = 10**18
DAY = 86400


def demo_chain():
    """(label, spot, strike, vol, tau, rate, is_call) rows: spot 40,000, 30 days, a smile of strikes."""
    spot = 40_000 * WAD
    rows = []
    for strike, vol in [(32_000, 0.78), (36_000, 0.70), (40_000, 0.65), (44_000, 0.66), (48_000, 0.70)]:
        for is_call in (True, False):
            rows.append((f"{strike} {'C' if is_call else 'P'}", spot, strike * WAD, int(vol * WAD), 30 * DAY, 3 * WAD // 100, is_call))
    return rows


def run_pricing_demo(pricer) -> str:
    """Price the demo chain with `pricer` (a boa or ape contract) and return a text table."""
    lines = [f"{'option':>9} {'price':>12} {'reference':>12} {'|diff|':>9} {'delta':>8} {'gamma':>10} "
             f"{'vega':>10} {'theta/yr':>11} {'rho':>10} {'iv':>8}"]
    for label, s, k, v, t, r, is_call in demo_chain():
        p = pricer.call_price(s, k, v, t, r) if is_call else pricer.put_price(s, k, v, t, r)
        want = ref.price_wad(s, k, v, t, r, is_call)
        d, g, vg, th, rh = pricer.greeks(s, k, v, t, r, is_call)
        iv = pricer.implied_vol(p, s, k, t, r, is_call)
        diff = abs(p - int(want))
        lines.append(f"{label:>9} {p / WAD:12.4f} {float(want) / WAD:12.4f} {diff:7d}wei {d / WAD:8.4f} "
                     f"{g / WAD:10.3e} {vg / WAD:10.2f} {th / WAD:11.2f} {rh / WAD:10.2f} {iv / WAD:8.4f}")
    lines.append("\nprices in USD (WAD on-chain); |diff| against the 50-digit reference in wei (1e-18 USD)")
    return "\n".join(lines)
