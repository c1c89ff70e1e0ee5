"""Quote filters and the implied vols the fit sees."""
import numpy as np
import pytest

from vyopt.calibration import prepare_quotes, source_iv_agreement
from vyopt.calibration import _black76
from vyopt.chains import OptionChain, read_deribit

from .calib_helpers import DERIBIT_CHAIN

NOW = 1_650_000_000.0
F = 40_000.0


def _chain(rows, source="generic", expiry_days=30.0, bid_iv=None, ask_iv=None):
    """rows: (strike, is_call, bid, ask); one expiry."""
    n = len(rows)
    strike, is_call, bid, ask = (np.array(c, dtype=float if i != 1 else bool) for i, c in enumerate(zip(*rows)))
    return OptionChain(
        source=source,
        instrument=np.array([f"X-{s:.0f}-{'C' if c else 'P'}" for s, c in zip(strike, is_call)], dtype=object),
        symbol=np.array(["X"] * n, dtype=object),
        expiry=np.full(n, NOW + expiry_days * 86400.0),
        timestamp=np.full(n, NOW),
        strike=strike, is_call=is_call, bid=bid, ask=ask, forward=np.full(n, F),
        source_bid_iv=None if bid_iv is None else np.array(bid_iv, dtype=float),
        source_ask_iv=None if ask_iv is None else np.array(ask_iv, dtype=float),
    )


def _price(strike, is_call, vol, days=30.0):
    return float(_black76.price(F, strike, days / 365, vol, is_call))


GOOD = [(K, K >= F, 0.98 * _price(K, K >= F, 0.6), 1.02 * _price(K, K >= F, 0.6)) for K in (30e3, 35e3, 40e3, 45e3, 50e3)]


def test_prepare_quotes__clean_otm_quotes__are_all_kept_with_their_vols():
    q, rep = prepare_quotes(_chain(GOOD))
    assert rep.kept == 5 and sum(rep.dropped.values()) == 0
    assert np.all(q.vol_bid < 0.6) and np.all(q.vol_ask > 0.6)
    # the vol of the mid price: mid = true price, so the mid vol is the true vol
    np.testing.assert_allclose(q.vol_mid, 0.6, rtol=1e-12)
    np.testing.assert_allclose(q.k, np.log(q.strike / F), rtol=0, atol=0)


@pytest.mark.parametrize("bad,reason", [
    ((42e3, True, np.nan, 900.0), "no_bid"),
    ((42e3, True, 900.0, np.nan), "no_ask"),
    ((42e3, True, 950.0, 900.0), "crossed"),
    ((42e3, True, 900.0, 900.0), "crossed"),  # locked
    ((35e3, True, 4000.0, 5500.0), "no_implied_vol"),  # ITM call bid below intrinsic (5000)
    ((45e3, False, 3000.0, 45e3), "no_implied_vol"),  # put ask at the strike, its upper bound
    ((35e3, True, 5200.0, 5400.0), "in_the_money"),
])
def test_prepare_quotes__bad_quote__is_dropped_for_its_reason(bad, reason):
    q, rep = prepare_quotes(_chain(GOOD + [bad]))
    assert rep.kept == 5
    assert rep.dropped == {reason: 1}


def test_prepare_quotes__deribit_placeholder_ivs__are_dropped():
    rows = GOOD + [(55e3, True, 10.0, 5000.0), (60e3, True, 5.0, 20.0)]
    bid_iv = [0.5] * 5 + [0.8, 0.0]  # a zero source IV: Deribit's "no vol"
    ask_iv = [0.7] * 5 + [5.0, 0.9]  # 500%: Deribit's cap
    q, rep = prepare_quotes(_chain(rows, source="deribit", bid_iv=np.where(np.array(bid_iv) > 0, bid_iv, np.nan),
                                   ask_iv=ask_iv))
    assert rep.kept == 5 and rep.dropped == {"placeholder_iv": 2}


def test_prepare_quotes__generic_chain_with_capped_source_iv__is_dropped():
    rows = GOOD + [(55e3, True, 10.0, 5000.0)]
    q, rep = prepare_quotes(_chain(rows, bid_iv=[0.5] * 6, ask_iv=[0.7] * 5 + [5.0]))
    assert rep.kept == 5 and rep.dropped == {"placeholder_iv": 1}


def test_prepare_quotes__short_expiry_and_thin_expiry__are_dropped():
    q, rep = prepare_quotes(_chain(GOOD, expiry_days=0.5))
    assert rep.kept == 0 and rep.dropped == {"too_short": 5}
    q, rep = prepare_quotes(_chain(GOOD[:4]))
    assert rep.kept == 0 and rep.dropped == {"thin_expiry": 4}


def test_prepare_quotes__all_quotes_mode__keeps_the_itm_side():
    itm = (35e3, True, 0.99 * _price(35e3, True, 0.6), 1.01 * _price(35e3, True, 0.6))
    q, rep = prepare_quotes(_chain(GOOD + [itm]), otm_only=False)
    assert rep.kept == 6
    assert q.vol_bid[q.strike == 35e3].min() < 0.6 < q.vol_ask[q.strike == 35e3].max()


def test_source_iv_agreement__our_vols_match_deribits_on_the_shared_chain():
    # Deribit publishes IVs rounded to 0.01 vol points and computes them at its own instant within the
    # ~30 s snapshot; 0.06 vol points covers both for every quote with a 1-day-or-longer expiry, where a
    # few seconds of T move a vol by well under 0.01 point.  The 13-hour expiry (21APR22) is the worst case.
    ag = source_iv_agreement(read_deribit(DERIBIT_CHAIN))
    assert ag["bid"]["compared"] == 197 and ag["ask"]["compared"] == 275
    assert ag["bid"]["max_abs_vol_pts"] <= 0.02
    assert ag["ask"]["max_abs_vol_pts"] <= 0.06
    assert ag["bid"]["median_abs_vol_pts"] <= 0.005 and ag["ask"]["median_abs_vol_pts"] <= 0.005
