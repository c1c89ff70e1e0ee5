# pragma version 0.4.3
# pragma evm-version cancun
"""
@title FalseERC20
@notice A token whose transfers return false without moving anything (old-token failure mode).  Test only.
"""

decimals: public(uint8)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])


@deploy
def __init__(decimals_: uint8):
    self.decimals = decimals_


@external
def mint(to: address, amount: uint256):
    self.balanceOf[to] += amount


@external
def transfer(receiver: address, amount: uint256) -> bool:
    return False


@external
def transferFrom(sender: address, receiver: address, amount: uint256) -> bool:
    return False


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    return True
