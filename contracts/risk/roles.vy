# pragma version 0.4.3
# pragma evm-version cancun
"""
@title roles
@notice Who may do what in the risk registry, and the guardian's pause flag.  Stateful module: the
        registry initializes it.  Role changes themselves go through the registry's time lock.
@dev API
     admin, pending_admin, risk_manager, guardian: public(address)    storage
     paused: public(bool)                                             storage
     _init(admin, risk_manager, guardian)                             internal
     _check_new_holder(role, account)                                 internal view
     _set(role, account)                                              internal   (ROLE_ADMIN sets pending_admin)
     _accept_admin() -> address                                       internal   returns the previous admin

     Roles (one address each, pairwise distinct so that the guardian is a real second key):
       admin         queues role changes; may cancel any queued change; pause/unpause
       risk_manager  queues parameter, smile and scenario changes; may cancel those
       guardian      may cancel any queued change except one that replaces the guardian; pause/unpause
     Admin transfer is two-step: a time-locked change nominates `pending_admin`, who then calls
     accept_admin.  No role can move funds: the registry holds none and has no payable function.
"""

ROLE_ADMIN: constant(uint256) = 0
ROLE_RISK_MANAGER: constant(uint256) = 1
ROLE_GUARDIAN: constant(uint256) = 2
N_ROLES: constant(uint256) = 3

admin: public(address)
pending_admin: public(address)
risk_manager: public(address)
guardian: public(address)
paused: public(bool)


@internal
def _init(admin: address, risk_manager: address, guardian: address):
    # each holder is checked against the ones already set (all start empty)
    self._check_new_holder(ROLE_ADMIN, admin)
    self.admin = admin
    self._check_new_holder(ROLE_RISK_MANAGER, risk_manager)
    self.risk_manager = risk_manager
    self._check_new_holder(ROLE_GUARDIAN, guardian)
    self.guardian = guardian


@internal
@view
def _holder(role: uint256) -> address:
    if role == ROLE_ADMIN:
        return self.admin
    if role == ROLE_RISK_MANAGER:
        return self.risk_manager
    return self.guardian


@internal
@view
def _check_new_holder(role: uint256, account: address):
    """
    @notice `account` may take `role`: a known role, a non-zero address, distinct from the holders
            (and the nominee) of the other roles.
    """
    assert role < N_ROLES, "risk: unknown role"
    assert account != empty(address), "risk: zero address"
    clash: bool = False
    if role != ROLE_ADMIN:
        clash = account == self.admin or account == self.pending_admin
    if role != ROLE_RISK_MANAGER:
        clash = clash or account == self.risk_manager
    if role != ROLE_GUARDIAN:
        clash = clash or account == self.guardian
    assert not clash, "risk: roles must be distinct"


@internal
def _set(role: uint256, account: address):
    if role == ROLE_ADMIN:
        self.pending_admin = account
    elif role == ROLE_RISK_MANAGER:
        self.risk_manager = account
    else:
        self.guardian = account


@internal
def _accept_admin() -> address:
    assert msg.sender == self.pending_admin and msg.sender != empty(address), "risk: caller is not the pending admin"
    self._check_new_holder(ROLE_ADMIN, msg.sender)
    old: address = self.admin
    self.admin = msg.sender
    self.pending_admin = empty(address)
    return old
