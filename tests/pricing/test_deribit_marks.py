"""The contract reproduces Deribit's BTC marks from Deribit's own mark IVs (convention: reference/deribit.py:
Black-76 on underlying_price, r = 0, T in whole minutes / 365 days; BTC price = USD value / F).

The contract is compared with the reference at the same integer inputs (tau = whole minutes * 60 s), and
with Deribit's printed mark within the quote's own error budget.
"""
import math

import pytest

from reference import black_scholes as ref
from reference import deribit

WAD = 10**18
pytestmark = pytest.mark.skipif(not deribit.DATA_PATH.exists(), reason="shared market data not beside the repo")


def test_contract_marks__shared_deribit_chain__match_the_reference_convention(pricer):
    rows = deribit.load_chain()
    assert len(rows) > 300
    worst = 0.0
    for o in rows:
        f = int(round(o.underlying_price * 1e6)) * 10**12
        k = int(o.strike) * WAD
        tau = deribit.minutes_to_expiry(o) * 60  # Deribit's T: whole minutes (reference/deribit.py)
        vol = int(round(o.mark_iv * 1e4)) * 10**12  # percent with 2 decimals -> exact WAD
        usd = pricer.call_price(f, k, vol, tau, 0) if o.is_call else pricer.put_price(f, k, vol, tau, 0)
        want = ref.price_wad(f, k, vol, tau, 0, o.is_call)
        worst = max(worst, abs(usd - float(want)) / f)
        # and Deribit's own mark, within the reference's error budget of the quote (2-decimal IV print,
        # 8-decimal mark, forward drift): 1.5e-3 BTC absolute on this chain (reference/deribit.py)
        assert abs(usd / f - o.mark_price) < 1.5e-3
    # same integers in: the contract's bar is 1e-14 of the forward per unit; in BTC that is 1e-14
    assert worst < 1e-14, worst
