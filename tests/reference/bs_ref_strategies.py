"""Hypothesis strategies over the on-chain Black-Scholes ABI domain (WAD integers, tau in seconds).

Magnitudes are drawn on a log scale (a decade, then an integer inside it) so that every corner of the
domain is visited, and the exact boundary values are mixed in.
"""
from fractions import Fraction

from hypothesis import strategies as st

from reference import black_scholes as bs


def _log_int(lo: int, hi: int):
    """Integers in [lo, hi] spread over the decades, with both ends."""
    decades = []
    d = lo
    while d <= hi:
        decades.append((d, min(hi, d * 10)))
        d *= 10
    return st.one_of(
        st.sampled_from([lo, hi]),
        st.sampled_from(decades).flatmap(lambda ab: st.integers(ab[0], ab[1])),
    )


spots = _log_int(bs.SPOT_MIN, bs.SPOT_MAX)
vols = _log_int(bs.VOL_MIN, bs.VOL_MAX)
taus = st.one_of(
    st.sampled_from([0, 1, bs.TAU_MAX]),
    st.integers(1, 3600),
    st.integers(3600, 86_400 * 30),
    st.integers(0, bs.TAU_MAX),
)
positive_taus = taus.filter(lambda t: t > 0)
rates = st.one_of(st.sampled_from([bs.RATE_MIN, 0, bs.RATE_MAX]), st.integers(bs.RATE_MIN, bs.RATE_MAX))


@st.composite
def strikes_for(draw, spot: int):
    """A strike inside both the strike range and the moneyness band |ln(K/S)| <= 8 of this spot."""
    lo = max(bs.STRIKE_MIN, -(-spot * bs.WAD // bs.E8))  # ceil(S * 1e18 / E8): spot*1e18 <= strike*E8
    hi = min(bs.STRIKE_MAX, spot * bs.E8 // bs.WAD)  # floor(S * E8 / 1e18): strike*1e18 <= spot*E8
    near = st.integers(max(lo, spot - spot // 5), min(hi, spot + spot // 5))
    return draw(st.one_of(st.sampled_from([lo, hi, min(max(spot, lo), hi)]), near, _log_int(lo, hi)))


@st.composite
def wad_inputs(draw, tau_strategy=taus):
    """(spot, strike, vol, tau, rate, is_call), always inside the domain."""
    spot = draw(spots)
    strike = draw(strikes_for(spot))
    vol = draw(vols)
    tau = draw(tau_strategy)
    rate = draw(rates)
    is_call = draw(st.booleans())
    assert bs.domain_error(spot, strike, vol, tau, rate) is None
    return spot, strike, vol, tau, rate, is_call


def real_args(spot, strike, vol, tau, rate):
    """Exact real-unit arguments (Fractions) of WAD inputs: S, K, sigma, T (years), r."""
    return (
        Fraction(spot, bs.WAD),
        Fraction(strike, bs.WAD),
        Fraction(vol, bs.WAD),
        Fraction(tau, bs.YEAR_SECONDS),
        Fraction(rate, bs.WAD),
    )


def floor_int(x) -> int:
    """floor of an mpf as a Python int (mpmath.floor rounds its result to the working precision: use 100)."""
    import mpmath
    from mpmath import mp

    with mp.workdps(100):
        return int(mpmath.floor(x))


def ceil_int(x) -> int:
    import mpmath
    from mpmath import mp

    with mp.workdps(100):
        return int(mpmath.ceil(x))
