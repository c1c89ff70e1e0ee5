# pragma version 0.4.3
# pragma evm-version cancun
"""
@title timelock
@notice The change queue of the risk registry: ids, status, earliest execution time (eta), deadline
        (eta + grace) and the reason hash of every queued change.  Stateful module: the registry
        initializes it.  Payloads live in the registry.
@dev API
     change_count: public(uint256)                                 storage   last id issued (ids start at 1)
     _get(id) -> Change                                            internal view
     _pending_id(kind, target) -> uint256                          internal view   live queued change or 0
     _queue(kind, target, eta, deadline, fast, reason_hash) -> id  internal
     _consume(id) -> Change                                        internal   queued, eta <= now <= deadline
     _cancel(id) -> Change                                         internal   queued (a lapsed change too)

     At most one live (queued, deadline not passed) change per (kind, target): "risk: change already
     pending".  So a change cannot be split into several pieces that all mature together: each piece
     has to wait for the previous one to execute (or be cancelled, or lapse) and then for its own delay.
     Storage: one packed word per change
       kind [0,8) | status [8,16) | fast [16,24) | target [24,88) | eta [88,152) | deadline [152,216)
     plus the reason hash.
"""

KIND_PARAM: constant(uint256) = 1
KIND_SMILE: constant(uint256) = 2
KIND_SCENARIOS: constant(uint256) = 3
KIND_ROLE: constant(uint256) = 4

STATUS_NONE: constant(uint256) = 0
STATUS_QUEUED: constant(uint256) = 1
STATUS_EXECUTED: constant(uint256) = 2
STATUS_CANCELLED: constant(uint256) = 3

MASK8: constant(uint256) = 2**8 - 1
MASK64: constant(uint256) = 2**64 - 1

struct Change:
    kind: uint256           # KIND_*
    status: uint256         # STATUS_*
    target: uint256         # param id, expiry (unix seconds), role id; 0 for the scenario grid
    eta: uint256            # unix seconds, earliest execution
    deadline: uint256       # unix seconds, latest execution (eta + grace)
    fast: bool              # smile change on the short surface delay (tight step bound)
    reason_hash: bytes32    # hash of the off-chain maintenance record that justifies the change

change_count: public(uint256)
change_meta: HashMap[uint256, uint256]
change_reason: HashMap[uint256, bytes32]
pending: HashMap[bytes32, uint256]


@internal
@pure
def _key(kind: uint256, target: uint256) -> bytes32:
    return keccak256(abi_encode(kind, target))


@internal
@pure
def _decode(meta: uint256, reason_hash: bytes32) -> Change:
    return Change(
        kind=meta & MASK8,
        status=(meta >> 8) & MASK8,
        target=(meta >> 24) & MASK64,
        eta=(meta >> 88) & MASK64,
        deadline=(meta >> 152) & MASK64,
        fast=((meta >> 16) & MASK8) != 0,
        reason_hash=reason_hash,
    )


@internal
@view
def _get(change_id: uint256) -> Change:
    return self._decode(self.change_meta[change_id], self.change_reason[change_id])


@internal
@view
def _pending_id(kind: uint256, target: uint256) -> uint256:
    cid: uint256 = self.pending[self._key(kind, target)]
    if cid == 0:
        return 0
    c: Change = self._get(cid)
    if c.status != STATUS_QUEUED or block.timestamp > c.deadline:
        return 0
    return cid


@internal
def _queue(kind: uint256, target: uint256, eta: uint256, deadline: uint256, fast: bool, reason_hash: bytes32) -> uint256:
    assert reason_hash != empty(bytes32), "risk: reason hash required"
    assert target <= MASK64, "risk: target out of range"
    # eta and deadline are now + bounded delays: far below 2^64
    assert self._pending_id(kind, target) == 0, "risk: change already pending"
    cid: uint256 = self.change_count + 1
    self.change_count = cid
    f: uint256 = 0
    if fast:
        f = 1
    self.change_meta[cid] = kind | (STATUS_QUEUED << 8) | (f << 16) | (target << 24) | (eta << 88) | (deadline << 152)
    self.change_reason[cid] = reason_hash
    self.pending[self._key(kind, target)] = cid
    return cid


@internal
def _set_status(change_id: uint256, c: Change, status: uint256):
    meta: uint256 = self.change_meta[change_id]
    self.change_meta[change_id] = (meta & ~(MASK8 << 8)) | (status << 8)
    key: bytes32 = self._key(c.kind, c.target)
    if self.pending[key] == change_id:
        self.pending[key] = 0


@internal
@view
def _get_known(change_id: uint256) -> Change:
    c: Change = self._get(change_id)
    assert c.status != STATUS_NONE, "risk: unknown change"
    return c


@internal
def _consume(change_id: uint256) -> Change:
    c: Change = self._get_known(change_id)
    assert c.status != STATUS_EXECUTED, "risk: change already executed"
    assert c.status != STATUS_CANCELLED, "risk: change cancelled"
    assert block.timestamp >= c.eta, "risk: not yet executable"
    assert block.timestamp <= c.deadline, "risk: grace period over"
    self._set_status(change_id, c, STATUS_EXECUTED)
    c.status = STATUS_EXECUTED
    return c


@internal
def _cancel(change_id: uint256) -> Change:
    c: Change = self._get_known(change_id)
    assert c.status == STATUS_QUEUED, "risk: change not queued"
    self._set_status(change_id, c, STATUS_CANCELLED)
    c.status = STATUS_CANCELLED
    return c
