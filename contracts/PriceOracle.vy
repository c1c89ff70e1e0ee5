# pragma version 0.4.3
# pragma evm-version cancun
"""
@title PriceOracle
@notice Guarded spot price of one underlying from a Chainlink-compatible feed (AggregatorV3Interface),
        scaled to WAD.  Heartbeat, maximum deviation and jump cooldown come from the RiskRegistry, so
        they change only through its time lock.
@dev API
     update() -> (uint256, bool)        nonpayable, anyone   read the feed, record an accepted price
     peek() -> (uint256, bool, uint256) view                 what update() would return now, and the status
     price_for_risk_increase() -> uint256  view              the price, or a revert naming the failed check
     settlement_round(t) -> (uint256, uint256, uint256)  view  the feed's first round stamped at or after t
     settlement_round_unchecked(t) -> (uint256, uint256, uint256)  view  the same round, or the first after it
                                        confirmed by its successor (the guardian's late settlement)
     last_price(), last_updated_at(), last_round_id(), candidate_price(), candidate_since()   views
     feed(), registry(), feed_decimals()                     immutables

     How the market uses it (the semantics this contract guarantees):
       price, ok = oracle.update()
       - risk-increasing actions (open or increase a position, withdraw collateral, borrow): require ok.
         ok means the feed answered, with positive in-range data from a complete round updated within the
         heartbeat, not older than the last accepted answer, and within max deviation of the last accepted
         price (or the jump has persisted for the cooldown, see below).
       - closing/reducing positions and deposits: allowed whatever ok says; use `price`, which is the
         current feed answer when it passed every integrity check (only the jump check failed), otherwise
         the last accepted price (0 if none was ever accepted: the market must then refuse to value).
       - liquidations are the market's call; this contract only reports.
     Checks, in order, with the status update()/peek() report and the revert reason of
     price_for_risk_increase():
       1 FEED_CALL_FAILED   latestRoundData()/decimals() reverted, ran out of gas (200k cap), returned
                            fewer than 5 words, or a round id >= 2^80      "oracle: feed call failed"
       2 DECIMALS_CHANGED   decimals() differs from the value at deployment  "oracle: decimals changed"
       3 NON_POSITIVE       answer <= 0                                       "oracle: non-positive answer"
       4 OUT_OF_RANGE       scaled price 0 or above 1e36 (1e18 units)        "oracle: answer out of range"
       5 INCOMPLETE_ROUND   updatedAt == 0 or answeredInRound < roundId      "oracle: incomplete round"
       6 FUTURE_TIMESTAMP   updatedAt > now                                  "oracle: timestamp in the future"
       7 STALE              now - updatedAt > heartbeat                      "oracle: stale price"
       8 OUT_OF_ORDER       updatedAt < last accepted updatedAt              "oracle: older than last accepted"
       9 JUMP               |p - last| > max_deviation * last                "oracle: price jump too large"
     The first price ever read is accepted without the jump check.  Jump recovery: when a jumped price p
     is seen, it becomes the candidate (time stamped now); a later price within max_deviation of the
     candidate, seen at least oracle_jump_cooldown after it, is accepted (a genuine move persists, a
     glitch does not).  A price that leaves the candidate's band restarts the candidate.  Keepers should
     call update() at least once per heartbeat so that slow drifts are followed step by step.
     Scaling: answer * 10^(18 - decimals), or answer / 10^(decimals - 18) rounded down for decimals > 18
     (a sub-wei difference).  Decimals 0..36 are supported.
     Gas (titanoboa, execution gas): see vyopt.risk.gas_report().
"""

interface RiskParams:
    def oracle_heartbeat() -> uint256: view
    def oracle_max_deviation() -> uint256: view
    def oracle_jump_cooldown() -> uint256: view

WAD: constant(uint256) = 10**18
MAX_DECIMALS: constant(uint256) = 36
MAX_PRICE: constant(uint256) = 10**36
FEED_CALL_GAS: constant(uint256) = 200_000
# a feed call is made only with gas for its full FEED_CALL_GAS (the 63/64 rule: FEED_CALL_GAS * 64 / 63, and
# the call's own cost), so that a caller who starves this contract of gas cannot pass for a failing feed
FEED_CALL_MIN_GAS: constant(uint256) = FEED_CALL_GAS * 64 // 63 + 10_000
SETTLEMENT_CONFIRM_ROUNDS: constant(uint256) = 4     # candidates settlement_round_unchecked tries from R
ROUND_ID_LIMIT: constant(uint256) = 2**80

STATUS_OK: constant(uint256) = 0
STATUS_FEED_CALL_FAILED: constant(uint256) = 1
STATUS_DECIMALS_CHANGED: constant(uint256) = 2
STATUS_NON_POSITIVE: constant(uint256) = 3
STATUS_OUT_OF_RANGE: constant(uint256) = 4
STATUS_INCOMPLETE_ROUND: constant(uint256) = 5
STATUS_FUTURE_TIMESTAMP: constant(uint256) = 6
STATUS_STALE: constant(uint256) = 7
STATUS_OUT_OF_ORDER: constant(uint256) = 8
STATUS_JUMP: constant(uint256) = 9

struct FeedRound:
    round_id: uint256
    answer: int256       # raw feed answer
    updated_at: uint256  # unix seconds
    answered_in_round: uint256

struct Reading:
    status: uint256      # STATUS_*
    price: uint256       # WAD; meaningful when status is OK or JUMP
    round_id: uint256
    updated_at: uint256  # unix seconds
    answer: int256       # raw feed answer

event PriceAccepted:
    price: uint256
    round_id: indexed(uint256)
    updated_at: uint256
    after_jump: bool

event PriceRejected:
    status: indexed(uint256)
    answer: int256
    round_id: uint256
    updated_at: uint256

event JumpCandidate:
    price: uint256
    since: uint256

feed: public(immutable(address))
registry: public(immutable(RiskParams))
feed_decimals: public(immutable(uint256))

last_price: public(uint256)
last_updated_at: public(uint256)
last_round_id: public(uint256)
candidate_price: public(uint256)
candidate_since: public(uint256)


@deploy
def __init__(feed_: address, registry_: address):
    """
    @param feed_ AggregatorV3Interface address (the mock locally, a Chainlink proxy on a testnet)
    @param registry_ RiskRegistry of the market (heartbeat, max deviation, jump cooldown)
    """
    assert feed_.is_contract, "oracle: feed is not a contract"
    assert registry_.is_contract, "oracle: registry is not a contract"
    ok: bool = False
    response: Bytes[32] = b""
    ok, response = raw_call(feed_, method_id("decimals()"), max_outsize=32, gas=FEED_CALL_GAS, is_static_call=True, revert_on_failure=False)
    assert ok and len(response) == 32, "oracle: feed call failed"
    d: uint256 = extract32(response, 0, output_type=uint256)
    assert d <= MAX_DECIMALS, "oracle: unsupported decimals"
    feed = feed_
    registry = RiskParams(registry_)
    feed_decimals = d
    # the registry must answer (reverts otherwise)
    heartbeat_probe: uint256 = staticcall RiskParams(registry_).oracle_heartbeat()


@internal
@view
def _feed_round(latest: bool, round_id: uint256) -> (bool, FeedRound):
    """
    @notice latestRoundData() (latest) or getRoundData(round_id); false when the call failed, returned
            fewer than five words, or a round id does not fit 80 bits.
    """
    r: FeedRound = empty(FeedRound)
    ok: bool = False
    data: Bytes[160] = b""
    if msg.gas < FEED_CALL_MIN_GAS:
        raw_revert(b"")                        # starved by the caller: no verdict on the feed
    if latest:
        ok, data = raw_call(feed, method_id("latestRoundData()"), max_outsize=160, gas=FEED_CALL_GAS, is_static_call=True, revert_on_failure=False)
    else:
        # round_id < 2^80 here: settlement searches read ids between a phase's first round and a round id the
        # feed returned that passed the check below, or one more than such an id, checked < 2^80
        ok, data = raw_call(feed, abi_encode(convert(round_id, uint80), method_id=method_id("getRoundData(uint80)")), max_outsize=160, gas=FEED_CALL_GAS, is_static_call=True, revert_on_failure=False)
    if not ok or len(data) < 160:
        return False, r
    r.round_id = extract32(data, 0, output_type=uint256)
    r.answer = extract32(data, 32, output_type=int256)
    r.updated_at = extract32(data, 96, output_type=uint256)
    r.answered_in_round = extract32(data, 128, output_type=uint256)
    if r.round_id >= ROUND_ID_LIMIT or r.answered_in_round >= ROUND_ID_LIMIT:
        return False, r
    return True, r


@internal
@view
def _scale(answer: int256) -> (uint256, uint256):
    """
    @notice (status, WAD price) of a raw answer: NON_POSITIVE, OUT_OF_RANGE or OK.
    """
    if answer <= 0:
        return STATUS_NON_POSITIVE, 0
    a: uint256 = convert(answer, uint256)
    if feed_decimals <= 18:
        factor: uint256 = 10 ** (18 - feed_decimals)
        if a > MAX_PRICE // factor:
            return STATUS_OUT_OF_RANGE, 0
        return STATUS_OK, a * factor          # a * factor <= MAX_PRICE
    p: uint256 = a // 10 ** (feed_decimals - 18)   # rounded down: a sub-wei difference
    if p == 0 or p > MAX_PRICE:
        return STATUS_OUT_OF_RANGE, 0
    return STATUS_OK, p


@internal
@view
def _read() -> Reading:
    """
    @notice Read the feed and run checks 1-8 (everything but the jump check).
    """
    r: Reading = empty(Reading)
    ok: bool = False
    fr: FeedRound = empty(FeedRound)
    ok, fr = self._feed_round(True, 0)
    if not ok:
        r.status = STATUS_FEED_CALL_FAILED
        return r
    r.round_id = fr.round_id
    r.answer = fr.answer
    r.updated_at = fr.updated_at

    dec: Bytes[32] = b""
    ok, dec = raw_call(feed, method_id("decimals()"), max_outsize=32, gas=FEED_CALL_GAS, is_static_call=True, revert_on_failure=False)
    if not ok or len(dec) < 32:
        r.status = STATUS_FEED_CALL_FAILED
        return r
    if extract32(dec, 0, output_type=uint256) != feed_decimals:
        r.status = STATUS_DECIMALS_CHANGED
        return r

    r.status, r.price = self._scale(r.answer)
    if r.status != STATUS_OK:
        r.price = 0
        return r

    if r.updated_at == 0 or fr.answered_in_round < r.round_id:
        r.status = STATUS_INCOMPLETE_ROUND
    elif r.updated_at > block.timestamp:
        r.status = STATUS_FUTURE_TIMESTAMP
    elif block.timestamp - r.updated_at > staticcall registry.oracle_heartbeat():
        r.status = STATUS_STALE
    elif r.updated_at < self.last_updated_at:
        r.status = STATUS_OUT_OF_ORDER
    return r


@internal
@pure
def _within(p: uint256, ref: uint256, max_dev: uint256) -> bool:
    # |p - ref| <= max_dev * ref (WAD fraction); p, ref <= 1e36 so the products stay below 2^256
    diff: uint256 = 0
    if p > ref:
        diff = p - ref
    else:
        diff = ref - p
    return diff * WAD <= max_dev * ref


@internal
@view
def _evaluate() -> (Reading, bool):
    """
    @notice Checks 1-9; returns the reading and whether an OK came from jump recovery.
    """
    r: Reading = self._read()
    if r.status != STATUS_OK:
        return r, False
    last: uint256 = self.last_price
    if last == 0:
        return r, False
    max_dev: uint256 = staticcall registry.oracle_max_deviation()
    if self._within(r.price, last, max_dev):
        return r, False
    cand: uint256 = self.candidate_price
    if cand != 0 and self._within(r.price, cand, max_dev):
        if block.timestamp >= self.candidate_since + staticcall registry.oracle_jump_cooldown():
            return r, True
    r.status = STATUS_JUMP
    return r, False


@internal
@view
def _price_to_use(r: Reading) -> uint256:
    if r.status == STATUS_OK or r.status == STATUS_JUMP:
        return r.price
    return self.last_price


@external
def update() -> (uint256, bool):
    """
    @notice Read the feed; record the price when every check passes (anyone may call).
    @return (price, ok_for_risk_increase): price in WAD (see the module doc for which price), ok true
            only when every check passed
    """
    r: Reading = empty(Reading)
    recovered: bool = False
    r, recovered = self._evaluate()
    if r.status == STATUS_OK:
        if r.updated_at != self.last_updated_at or r.price != self.last_price or self.candidate_price != 0:
            self.last_price = r.price
            self.last_updated_at = r.updated_at
            self.last_round_id = r.round_id
            self.candidate_price = 0
            self.candidate_since = 0
            log PriceAccepted(price=r.price, round_id=r.round_id, updated_at=r.updated_at, after_jump=recovered)
        return r.price, True
    if r.status == STATUS_JUMP:
        cand: uint256 = self.candidate_price
        if cand == 0 or not self._within(r.price, cand, staticcall registry.oracle_max_deviation()):
            self.candidate_price = r.price
            self.candidate_since = block.timestamp
            log JumpCandidate(price=r.price, since=block.timestamp)
    log PriceRejected(status=r.status, answer=r.answer, round_id=r.round_id, updated_at=r.updated_at)
    return self._price_to_use(r), False


@view
@external
def peek() -> (uint256, bool, uint256):
    """
    @notice What update() would return now, without recording anything.
    @return (price WAD, ok_for_risk_increase, status 0..9 as in the module doc)
    """
    r: Reading = empty(Reading)
    recovered: bool = False
    r, recovered = self._evaluate()
    return self._price_to_use(r), r.status == STATUS_OK, r.status


@internal
@pure
def _reason(status: uint256) -> String[40]:
    if status == STATUS_FEED_CALL_FAILED:
        return "oracle: feed call failed"
    if status == STATUS_DECIMALS_CHANGED:
        return "oracle: decimals changed"
    if status == STATUS_NON_POSITIVE:
        return "oracle: non-positive answer"
    if status == STATUS_OUT_OF_RANGE:
        return "oracle: answer out of range"
    if status == STATUS_INCOMPLETE_ROUND:
        return "oracle: incomplete round"
    if status == STATUS_FUTURE_TIMESTAMP:
        return "oracle: timestamp in the future"
    if status == STATUS_STALE:
        return "oracle: stale price"
    if status == STATUS_OUT_OF_ORDER:
        return "oracle: older than last accepted"
    return "oracle: price jump too large"


@view
@external
def price_for_risk_increase() -> uint256:
    """
    @notice The current feed price when every check passes; reverts naming the failed check otherwise.
            A view: it does not record the price (call update() in the same transaction for that).
    @return price, WAD
    """
    r: Reading = empty(Reading)
    recovered: bool = False
    r, recovered = self._evaluate()
    if r.status != STATUS_OK:
        raise self._reason(r.status)
    return r.price


@view
@external
def settlement_round(t: uint256) -> (uint256, uint256, uint256):
    """
    @notice The feed's first round stamped at or after `t`, proven from the feed's own history: that round
            (R) has updatedAt >= t and the round before it (P = R - 1) has updatedAt < t.  Found in the
            latest round's phase by a galloping search back from the latest round (ids L-1, L-3, L-7, ...)
            then a bisection: at most 2 * log2(L - P) + 1 getRoundData calls, and never more than 127, so
            every round of the phase is within reach and the result does not depend on how many rounds
            came after R.  The market settles an expiry at R's price.
            Checks, in order, and their revert reasons:
              the latest round and decimals() read             "oracle: feed call failed"
              decimals() as at deployment                      "oracle: decimals changed"
              latest updatedAt >= t                            "oracle: no round since t"
              every round the search reads is present, with
              its id and updatedAt != 0; R is not the first
              round of its phase                               "oracle: round history unavailable"
              R complete (answeredInRound >= roundId)          "oracle: incomplete round"
              R updatedAt <= now                               "oracle: timestamp in the future"
              R updatedAt - t <= heartbeat                     "oracle: stale price"
              R's answer positive and in range                 "oracle: non-positive answer" / "... out of range"
              P's answer positive and in range                 "oracle: round history unavailable"
              |R - P| <= max_deviation * P                     "oracle: price jump too large"
            Rounds are assumed stamped in id order within a phase (Chainlink's are); the proof itself is
            local (P and R are consecutive ids either side of t).  The search does not cross a proxy phase
            change: a phase whose first round is stamped at or after t has history unavailable.
    @param t unix seconds (an expiry)
    @return (price WAD of R, updatedAt of R in unix seconds, round id of R)
    """
    r: FeedRound = empty(FeedRound)
    p: FeedRound = empty(FeedRound)
    r, p = self._find_settlement_round(t)
    return self._settlement_checks(r, p, t, True)


@view
@external
def settlement_round_unchecked(t: uint256) -> (uint256, uint256, uint256):
    """
    @notice For the market's late settlement by the guardian, when the feed's first round after an expiry
            came late or moved far (a real crash) and settlement_round(t) refuses it.  The first round R is
            found and proven as there; its heartbeat and jump-from-P checks are replaced by confirmation:
            starting at R, the first of at most SETTLEMENT_CONFIRM_ROUNDS (4) consecutive rounds C that is
            complete, not in the future, with a valid answer, and whose next round C + 1 has a valid answer
            within max_deviation of C's ("a genuine move persists, a glitch does not").  A one-round glitch
            after the expiry is thus passed over for the round after it.  The price is still the feed's,
            fixed by t and the feed's history, not by the caller or the time of the call.
            Reverts: as settlement_round up to the proof of R; "oracle: settlement round not confirmed"
            when no candidate is confirmed (a successor missing, e.g. C is the latest round, or every
            candidate is followed by a jump or is invalid).
    @param t unix seconds (an expiry)
    @return (price WAD of C, updatedAt of C in unix seconds, round id of C)
    """
    r: FeedRound = empty(FeedRound)
    p: FeedRound = empty(FeedRound)
    r, p = self._find_settlement_round(t)
    max_dev: uint256 = staticcall registry.oracle_max_deviation()
    for i: uint256 in range(SETTLEMENT_CONFIRM_ROUNDS):
        ok: bool = False
        nxt: FeedRound = empty(FeedRound)
        assert r.round_id + 1 < ROUND_ID_LIMIT, "oracle: settlement round not confirmed"
        ok, nxt = self._feed_round(False, r.round_id + 1)
        assert ok and nxt.round_id == r.round_id + 1 and nxt.updated_at != 0, "oracle: settlement round not confirmed"
        status: uint256 = 0
        price: uint256 = 0
        after: uint256 = 0
        status, price = self._scale(r.answer)
        valid: bool = status == STATUS_OK and r.answered_in_round >= r.round_id and r.updated_at <= block.timestamp
        status, after = self._scale(nxt.answer)
        if valid and status == STATUS_OK and self._within(after, price, max_dev):
            return price, r.updated_at, r.round_id
        r = nxt
    raise "oracle: settlement round not confirmed"


@internal
@view
def _history_round(round_id: uint256) -> FeedRound:
    """
    @notice getRoundData(round_id), which must answer with that id and a non-zero updatedAt.
    """
    ok: bool = False
    r: FeedRound = empty(FeedRound)
    ok, r = self._feed_round(False, round_id)
    assert ok and r.round_id == round_id and r.updated_at != 0, "oracle: round history unavailable"
    return r


@internal
@view
def _find_settlement_round(t: uint256) -> (FeedRound, FeedRound):
    """
    @notice (R, P): consecutive rounds of the latest round's phase with P.updatedAt < t <= R.updatedAt.
    """
    ok: bool = False
    hi: FeedRound = empty(FeedRound)
    ok, hi = self._feed_round(True, 0)
    assert ok, "oracle: feed call failed"
    dec: Bytes[32] = b""
    ok, dec = raw_call(feed, method_id("decimals()"), max_outsize=32, gas=FEED_CALL_GAS, is_static_call=True, revert_on_failure=False)
    assert ok and len(dec) == 32, "oracle: feed call failed"
    assert extract32(dec, 0, output_type=uint256) == feed_decimals, "oracle: decimals changed"
    assert hi.updated_at >= t, "oracle: no round since t"
    # a proxy round id is phase << 64 | the aggregator's round id, which counts from 1 in each phase
    first: uint256 = (hi.round_id >> 64 << 64) | 1
    assert hi.round_id > first, "oracle: round history unavailable"
    # gallop: hi is stamped at or after t; read back 1, 2, 4, ... ids (never below the phase's first round)
    # until a round stamped before t.  After k reads hi.round_id >= L - 2^k + 1, so 64 reads reach `first`.
    lo: FeedRound = empty(FeedRound)
    found: bool = False
    step: uint256 = 1
    for i: uint256 in range(64):
        rid: uint256 = first
        if hi.round_id - first > step:         # hi.round_id > first here
            rid = hi.round_id - step
        lo = self._history_round(rid)
        if lo.updated_at < t:
            found = True
            break
        assert rid != first, "oracle: round history unavailable"   # the phase's first round is at or after t
        hi = lo
        step = unsafe_mul(step, 2)             # at most 2^64: i < 64
    assert found, "oracle: round history unavailable"    # unreachable: the loop reaches `first` (see above)
    # bisect: lo.updatedAt < t <= hi.updatedAt, lo.round_id < hi.round_id, the gap at most 2^63
    for i: uint256 in range(64):
        if hi.round_id - lo.round_id == 1:
            break
        mid: FeedRound = self._history_round(unsafe_add(lo.round_id, hi.round_id) // 2)   # ids < 2^80
        if mid.updated_at < t:
            lo = mid
        else:
            hi = mid
    return hi, lo


@internal
@view
def _settlement_checks(r: FeedRound, p: FeedRound, t: uint256, checked: bool) -> (uint256, uint256, uint256):
    assert r.answered_in_round >= r.round_id, "oracle: incomplete round"
    assert r.updated_at <= block.timestamp, "oracle: timestamp in the future"
    status: uint256 = 0
    price: uint256 = 0
    if checked:
        # r.updated_at >= t: the search only returns rounds stamped at or after t
        assert r.updated_at - t <= staticcall registry.oracle_heartbeat(), "oracle: stale price"
    status, price = self._scale(r.answer)
    if status != STATUS_OK:
        raise self._reason(status)
    if checked:
        before: uint256 = 0
        status, before = self._scale(p.answer)
        assert status == STATUS_OK, "oracle: round history unavailable"
        assert self._within(price, before, staticcall registry.oracle_max_deviation()), "oracle: price jump too large"
    return price, r.updated_at, r.round_id
