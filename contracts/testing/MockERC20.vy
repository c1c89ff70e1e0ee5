# pragma version 0.4.3
# pragma evm-version cancun
"""
@title MockERC20
@notice Test collateral with configurable decimals, open minting, and two misbehaviours the market must
        survive: a fee on transfer (the receiver gets less than sent) and a hook that calls an arbitrary
        contract in the middle of a transfer (a reentrant malicious token).  Never deploy it where real
        money depends on it.
@dev ERC-20: name, symbol, decimals, totalSupply, balanceOf, allowance, transfer, transferFrom, approve.
     Test controls (owner only): set_fee_bps(bps), set_hook(target, data).  mint(to, amount) is open.
     The hook runs before the balances move, with revert_on_failure=False; its outcome is recorded in
     last_hook_ok / last_hook_result so a test can see that the reentrant call was refused.
"""

name: public(String[32])
symbol: public(String[16])
decimals: public(uint8)
totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])

owner: public(address)
fee_bps: public(uint256)
hook_target: public(address)
hook_data: public(Bytes[512])
hook_armed: public(bool)
last_hook_ok: public(bool)
last_hook_result: public(Bytes[256])
hook_calls: public(uint256)

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256


@deploy
def __init__(name_: String[32], symbol_: String[16], decimals_: uint8):
    self.name = name_
    self.symbol = symbol_
    self.decimals = decimals_
    self.owner = msg.sender


@external
def mint(to: address, amount: uint256):
    self.balanceOf[to] += amount
    self.totalSupply += amount
    log Transfer(sender=empty(address), receiver=to, value=amount)


@external
def set_fee_bps(bps: uint256):
    assert msg.sender == self.owner, "mock: not owner"
    assert bps <= 10000, "mock: fee above 100%"
    self.fee_bps = bps


@external
def set_hook(target: address, data: Bytes[512]):
    """
    @notice Call `target` with `data` inside the next transfers (empty target disarms).
    """
    assert msg.sender == self.owner, "mock: not owner"
    self.hook_target = target
    self.hook_data = data
    self.hook_armed = target != empty(address)


@internal
def _run_hook():
    if not self.hook_armed:
        return
    self.hook_armed = False  # one shot: the hooked call cannot recurse through this token again
    ok: bool = False
    out: Bytes[256] = b""
    ok, out = raw_call(self.hook_target, self.hook_data, max_outsize=256, revert_on_failure=False)
    self.last_hook_ok = ok
    self.last_hook_result = out
    self.hook_calls += 1


@internal
def _move(sender: address, receiver: address, amount: uint256):
    self._run_hook()
    self.balanceOf[sender] -= amount
    fee: uint256 = amount * self.fee_bps // 10000
    self.balanceOf[receiver] += amount - fee
    self.totalSupply -= fee
    log Transfer(sender=sender, receiver=receiver, value=amount - fee)


@external
def transfer(receiver: address, amount: uint256) -> bool:
    self._move(msg.sender, receiver, amount)
    return True


@external
def transferFrom(sender: address, receiver: address, amount: uint256) -> bool:
    self.allowance[sender][msg.sender] -= amount
    self._move(sender, receiver, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True
