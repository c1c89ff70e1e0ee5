"""The input domain of the on-chain ABI: every limit accepted exactly at its value, rejected one wei beyond
with its own reason, and the reasons reported in the specified order."""
import mpmath
import pytest
from mpmath import mp

from reference import black_scholes as bs

ONE = 10**18
OK = dict(spot=ONE, strike=ONE, vol=ONE // 2, tau=bs.YEAR_SECONDS, rate=ONE // 20)  # a valid point


def _err(**over):
    args = {**OK, **over}
    return bs.domain_error(args["spot"], args["strike"], args["vol"], args["tau"], args["rate"])


def test_e8__constant__is_floor_of_e_to_the_8_times_wad():
    with mp.workdps(80):
        assert bs.E8 == int(mpmath.floor(mpmath.exp(8) * 10**18))


@pytest.mark.parametrize(
    "field, accepted, rejected, reason",
    [
        ("spot", [10**12, 10**30], [10**12 - 1, 10**30 + 1, 0], bs.REASON_SPOT),
        ("strike", [10**12, 10**30], [10**12 - 1, 10**30 + 1, 0], bs.REASON_STRIKE),
        ("vol", [10**14, 20 * ONE], [10**14 - 1, 20 * ONE + 1, 0], bs.REASON_VOL),
        ("tau", [0, 10 * 31_536_000], [-1, 10 * 31_536_000 + 1], bs.REASON_TAU),
        ("rate", [-5 * 10**17, ONE, 0], [-5 * 10**17 - 1, ONE + 1], bs.REASON_RATE),
    ],
)
def test_domain_error__each_limit__inclusive_and_one_wei_beyond_rejected(field, accepted, rejected, reason):
    for value in accepted:
        over = {field: value}
        if field in ("spot", "strike"):  # keep the moneyness band satisfied: the other one equal
            over = {"spot": value, "strike": value}
        assert _err(**over) is None, (field, value)
    for value in rejected:
        over = {field: value}
        if field == "strike":
            over = {"spot": min(max(value, 10**12), 10**30), "strike": value}
        if field == "spot":
            over = {"spot": value, "strike": min(max(value, 10**12), 10**30)}
        assert _err(**over) == reason, (field, value)


@pytest.mark.parametrize("spot", [10**12, ONE, 7 * 10**23, 10**30 // bs.E8 * 10**17])
def test_domain_error__moneyness_band__exact_integer_limits(spot):
    # strike * 1e18 <= spot * E8  <=>  strike <= floor(spot * E8 / 1e18)
    hi = spot * bs.E8 // ONE
    # spot * 1e18 <= strike * E8  <=>  strike >= ceil(spot * 1e18 / E8)
    lo = -(-spot * ONE // bs.E8)
    for strike, expected in ((hi, None), (hi + 1, bs.REASON_MONEYNESS), (lo, None), (lo - 1, bs.REASON_MONEYNESS)):
        if not 10**12 <= strike <= 10**30:
            continue  # that side of the band is cut by the strike range at this spot
        assert _err(spot=spot, strike=strike) == expected, (spot, strike)


def test_domain_error__moneyness_at_spot_one__strike_limits_are_e8_and_its_inverse():
    # Worked by hand: spot = 1e18 (1.0): strike <= E8 (e^8 = 2980.957987...) and
    # strike >= ceil(1e36 / E8) ~ 3.3546262790251e14 (e^-8 = 0.00033546262790251...)
    assert _err(strike=bs.E8) is None
    assert _err(strike=bs.E8 + 1) == bs.REASON_MONEYNESS
    lo = -(-(10**36) // bs.E8)
    assert lo == 335462627902512  # ceil(e^-8 * 1e18) = ceil(335462627902511.838...)
    assert _err(strike=lo) is None
    assert _err(strike=lo - 1) == bs.REASON_MONEYNESS


@pytest.mark.parametrize(
    "over, reason",
    [
        (dict(spot=0, strike=0, vol=0, tau=-1, rate=-(10**18)), bs.REASON_SPOT),
        (dict(strike=0, vol=0, tau=-1, rate=-(10**18)), bs.REASON_STRIKE),
        (dict(strike=10**30, vol=0, tau=-1, rate=-(10**18)), bs.REASON_MONEYNESS),
        (dict(vol=0, tau=-1, rate=-(10**18)), bs.REASON_VOL),
        (dict(tau=-1, rate=-(10**18)), bs.REASON_TAU),
        (dict(rate=-(10**18)), bs.REASON_RATE),
    ],
)
def test_domain_error__several_violations__first_in_spec_order_wins(over, reason):
    assert _err(**over) == reason


def test_price_and_greeks_wad__out_of_domain__raise_with_the_reason():
    with pytest.raises(bs.BSDomainError, match="bs: vol out of range") as info:
        bs.call_price_wad(ONE, ONE, 10**14 - 1, 3600, 0)
    assert info.value.reason == bs.REASON_VOL
    with pytest.raises(bs.BSDomainError, match="bs: moneyness out of range"):
        bs.greeks_wad(ONE, bs.E8 + 1, ONE, 3600, 0, True)
    with pytest.raises(bs.BSDomainError, match="bs: rate out of range"):
        bs.put_price_wad(ONE, ONE, ONE, 3600, ONE + 1)


def test_price_wad__at_every_limit_corner__returns_a_price():
    # all domain corners at once: extreme spot with the farthest strikes, extreme vol, tau and rate
    for spot in (10**12, 10**30):
        for strike in (max(10**12, -(-spot * ONE // bs.E8)), min(10**30, spot * bs.E8 // ONE)):
            for vol in (10**14, 20 * ONE):
                for tau in (1, 10 * 31_536_000):
                    for rate in (-5 * 10**17, ONE):
                        assert bs.domain_error(spot, strike, vol, tau, rate) is None
                        c = bs.call_price_wad(spot, strike, vol, tau, rate)
                        p = bs.put_price_wad(spot, strike, vol, tau, rate)
                        assert c > 0 and p > 0


def test_domain_error__non_integer_argument__is_a_type_error():
    with pytest.raises(TypeError):
        bs.domain_error(1.0e18, ONE, ONE, 3600, 0)
