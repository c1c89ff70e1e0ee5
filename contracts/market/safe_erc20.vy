# pragma version 0.4.3
# pragma evm-version cancun
"""
@title safe_erc20
@notice Collateral transfers that work with tokens returning no bool (USDT style), fail with a reason on
        tokens returning false, and refuse tokens that move a different amount than asked (fee-on-transfer,
        rebasing).  Stateless: import, do not initialize.
@dev API (internal)
     _pull(token, sender, amount)    transferFrom(sender, self, amount); this contract's balance must grow by
                                     exactly `amount`                "market: fee-on-transfer token"
     _push(token, receiver, amount)  transfer(receiver, amount); this contract's balance must fall by exactly
                                     `amount`                        "market: fee-on-transfer token"
     A call that reverts, or returns a word that is not true, fails with "market: token transfer failed".
     The token must be a contract (checked once by the market's constructor): a call to an address without
     code succeeds with empty return data.
     The market holds its nonreentrant lock around every call into these functions.
"""

from ethereum.ercs import IERC20


@internal
def _call(token: address, data: Bytes[100]):
    ok: bool = False
    resp: Bytes[32] = b""
    ok, resp = raw_call(token, data, max_outsize=32, revert_on_failure=False)
    assert ok, "market: token transfer failed"
    if len(resp) != 0:
        assert len(resp) == 32 and extract32(resp, 0, output_type=uint256) == 1, "market: token transfer failed"


@internal
def _pull(token: address, sender: address, amount: uint256):
    """
    @notice Move `amount` token units from `sender` to this contract.
    """
    before: uint256 = staticcall IERC20(token).balanceOf(self)
    self._call(token, abi_encode(sender, self, amount, method_id=method_id("transferFrom(address,address,uint256)")))
    after: uint256 = staticcall IERC20(token).balanceOf(self)
    assert after >= before and after - before == amount, "market: fee-on-transfer token"


@internal
def _push(token: address, receiver: address, amount: uint256):
    """
    @notice Move `amount` token units from this contract to `receiver`.
    """
    before: uint256 = staticcall IERC20(token).balanceOf(self)
    self._call(token, abi_encode(receiver, amount, method_id=method_id("transfer(address,uint256)")))
    after: uint256 = staticcall IERC20(token).balanceOf(self)
    assert before >= after and before - after == amount, "market: fee-on-transfer token"
