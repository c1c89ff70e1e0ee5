"""Option-chain readers: the Deribit export and the generic CSV."""
import numpy as np
import pytest

from vyopt.chains import YEAR_SECONDS, read_chain, read_deribit, read_generic, write_generic

from .calib_helpers import DERIBIT_CHAIN, synthetic_chain


@pytest.fixture(scope="module")
def deribit():
    return read_deribit(DERIBIT_CHAIN)


def _row(chain, name):
    i = np.flatnonzero(chain.instrument == name)
    assert i.size == 1
    return int(i[0])


def test_read_deribit__reads_every_row_with_the_forward_and_times(deribit):
    assert len(deribit) == 384
    assert deribit.source == "deribit"
    i = _row(deribit, "BTC-29APR22-40000-C")
    # from the CSV: underlying_price 41183.46, expiration 1651219200000 ms, timestamp 1650479475399 ms
    assert deribit.forward[i] == 41183.46
    assert deribit.expiry[i] == 1651219200.0
    assert deribit.t_years[i] == pytest.approx((1651219200000 - 1650479475399) / 1000 / YEAR_SECONDS, rel=1e-15)
    assert deribit.is_call[i]
    assert deribit.strike[i] == 40000.0


def test_read_deribit__converts_inverse_btc_prices_to_usd_with_the_forward(deribit):
    i = _row(deribit, "BTC-29APR22-40000-C")
    # best_bid_price 0.049 BTC, best_ask_price 0.05 BTC, underlying_price 41183.46
    assert deribit.bid[i] == pytest.approx(0.049 * 41183.46, rel=1e-15)
    assert deribit.ask[i] == pytest.approx(0.05 * 41183.46, rel=1e-15)
    assert deribit.source_bid_iv[i] == pytest.approx(0.5422)
    assert deribit.source_ask_iv[i] == pytest.approx(0.5598)


def test_read_deribit__zero_quotes_and_zero_ivs_become_missing(deribit):
    i = _row(deribit, "BTC-29APR22-49000-P")  # no bid, no ask in the export
    assert np.isnan(deribit.bid[i]) and np.isnan(deribit.ask[i])
    assert np.isnan(deribit.source_bid_iv[i]) and np.isnan(deribit.source_ask_iv[i])
    j = _row(deribit, "BTC-29APR22-50000-C")  # ask only
    assert np.isnan(deribit.bid[j]) and deribit.ask[j] > 0


def test_read_chain__detects_the_deribit_format_and_filters_the_underlying():
    chain = read_chain(DERIBIT_CHAIN, underlying="btc")
    assert chain.source == "deribit" and len(chain) == 384
    with pytest.raises(ValueError, match="no option on underlying 'ETH'"):
        read_chain(DERIBIT_CHAIN, underlying="ETH")


def test_write_then_read_generic__round_trips_a_chain(tmp_path):
    chain = synthetic_chain(noise=1.0)
    path = tmp_path / "chain.csv"
    write_generic(chain, path)
    back = read_chain(path)
    assert back.source == "generic"
    assert len(back) == len(chain)
    for col in ("strike", "bid", "ask", "forward"):
        np.testing.assert_array_equal(getattr(back, col), getattr(chain, col))
    np.testing.assert_array_equal(back.is_call, chain.is_call)
    # ISO timestamps carry microseconds: T is kept to ~1e-6 s out of days
    np.testing.assert_allclose(back.t_years, chain.t_years, rtol=1e-12)


def test_read_generic__accepts_iso_seconds_and_milliseconds_and_spot_as_forward(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text(
        "symbol,expiry,timestamp,strike,type,bid,ask,underlying\n"
        "BTC,2022-06-24T08:00:00Z,2022-04-20 08:00,40000,C,2000,2100,41000\n"
        "BTC,1656057600,1650441600,40000,p,1000,,41000\n"
        "ETH,1656057600000,1650441600000,3000,PUT,0,10,3100\n"
    )
    c = read_generic(path)
    assert np.all(c.expiry == 1656057600.0)
    assert np.all(c.timestamp == 1650441600.0)
    np.testing.assert_array_equal(c.is_call, [True, False, False])
    np.testing.assert_array_equal(c.forward, [41000.0, 41000.0, 3100.0])
    assert np.isnan(c.ask[1]) and np.isnan(c.bid[2])  # empty and zero mean "no quote"
    only_eth = read_generic(path, underlying="eth")
    assert len(only_eth) == 1 and only_eth.strike[0] == 3000.0


@pytest.mark.parametrize("header,match", [
    ("expiry,timestamp,strike,bid,ask,forward", "lacks columns"),
    ("expiry,timestamp,strike,type,bid,ask", "needs a forward"),
])
def test_read_generic__missing_columns__fails_with_a_reason(tmp_path, header, match):
    path = tmp_path / "bad.csv"
    path.write_text(header + "\n")
    with pytest.raises(ValueError, match=match):
        read_generic(path)


def test_read_chain__unknown_header__fails_with_a_reason(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(ValueError, match="neither a Deribit export nor the generic CSV"):
        read_chain(path)
