# pragma version 0.4.3
# pragma evm-version cancun
"""
@title surface
@notice Volatility surface of one underlying: a sorted list of listed expiries and one raw SVI smile per
        expiry, with the checks every write must pass.  Stateful module: the registry initializes it.
@dev API
     _implied_vol_at(expiry, strike, forward) -> uint256   internal view   sigma_BS(K, T), WAD
     _total_variance_at(expiry, k) -> int256              internal view   w(k), WAD
     _listed(expiry) -> bool                              internal view
     _smile(expiry) -> svi.Smile                          internal view   zeros when not listed
     _check_smile(expiry, s, at)                          internal view   every rule of a smile write, as of time `at`
     _written_at(expiry) -> uint256                       internal view   time the listed smile was written
     _vol_step_ok(old, tau_old, new, tau_new, rel, abs_)  internal pure   max implied-vol move on the grid
     _check_vol_step(old, tau_old, new, tau_new, fast)    internal pure   the same, reverting
     _write(expiry, s)                                    internal        insert (sorted) or overwrite
     _remove_expired() -> uint256                         internal        drop expiries <= now, log each
     expiry_list: DynArray[uint256, 12]                   storage         listed expiries, ascending

     Rules of a smile write for expiry E as of time `at` (the execution time; at queue time, the earliest
     execution time eta):
       E - at >= MIN_TIME_TO_EXPIRY                       "risk: expiry too close"
       E - at <= MAX_EXPIRY_HORIZON                       "risk: expiry too far"
       svi._check_params, svi._check_butterfly            (static conditions, see svi.vy)
       VOL_MIN <= sigma_BS(k) <= VOL_MAX at every grid k, with T = (E - at) / 365 days
                                                          "risk: vol out of bounds"
       calendar: w_prev(k) <= w_E(k) <= w_next(k) at every grid k, against the live neighbours
                 (listed expiries > at)                   "risk: calendar arbitrage"
     Total variance at a fixed k does not depend on time, so a calendar-consistent list stays consistent.

     Step of an update.  The vols compared are the ones each calibration asserts: the new smile at the
     write time (T = E - at), the current smile at the time it was written (T = E - written_at).  A
     stored smile's implied vol sqrt(w / T) drifts up as T shrinks; measuring the step against that
     drifted vol would freeze a stale smile near expiry (a correction back to the calibrated level
     would look like a large cut).  Against the calibrated vol, an hourly recalibration at unchanged
     market vol is a zero step however close the expiry.
     Storage: word 0 as svi._pack; word 1 = sigma | written_at << 64.
"""

from . import svi
from ..math import fixed_ln

WAD: constant(uint256) = 10**18
MAX_EXPIRIES: constant(uint256) = 12
MIN_TIME_TO_EXPIRY: constant(uint256) = 3600            # seconds: no smile writes in the last hour
MAX_EXPIRY_HORIZON: constant(uint256) = 730 * 86400     # seconds: expiries at most two years out
VOL_MIN: constant(uint256) = 10**16                     # 1% annualised
VOL_MAX: constant(uint256) = 5 * 10**18                 # 500% annualised
MAX_PRICE: constant(uint256) = 10**36                   # strike and forward at most 1e18 units (WAD)
# Smile step per change, at every grid k: |vol_new - vol_old| <= max(REL * vol_old, ABS) (WAD).
# Fast path (surface_delay): 5% of the vol or 1 vol point.  Slow path (delay): 25% or 5 vol points.
FAST_STEP_REL: constant(uint256) = 5 * 10**16
FAST_STEP_ABS: constant(uint256) = 10**16
SLOW_STEP_REL: constant(uint256) = 25 * 10**16
SLOW_STEP_ABS: constant(uint256) = 5 * 10**16

event ExpiryRemoved:
    expiry: indexed(uint256)
    smile: svi.Smile

expiry_list: DynArray[uint256, MAX_EXPIRIES]
smile_words: HashMap[uint256, uint256[2]]


@internal
@pure
def _unpack_stored(words: uint256[2]) -> svi.Smile:
    return svi._unpack([words[0], words[1] & svi.MASK64])


@internal
@view
def _listed(expiry: uint256) -> bool:
    # sigma >= SIGMA_MIN > 0 for every stored smile, so a zero second word means "not listed"
    return self.smile_words[expiry][1] != 0


@internal
@view
def _smile(expiry: uint256) -> svi.Smile:
    words: uint256[2] = self.smile_words[expiry]
    if words[1] == 0:
        return empty(svi.Smile)
    return self._unpack_stored(words)


@internal
@view
def _written_at(expiry: uint256) -> uint256:
    return self.smile_words[expiry][1] >> 64


@internal
@view
def _listed_words(expiry: uint256) -> uint256[2]:
    words: uint256[2] = self.smile_words[expiry]
    assert words[1] != 0, "risk: no surface for expiry"
    return words


@internal
@view
def _implied_vol_at(expiry: uint256, strike: uint256, forward: uint256) -> uint256:
    """
    @notice Implied volatility of the listed smile at strike K for forward F.
    @param expiry unix timestamp (seconds) of a listed expiry, in the future
    @param strike K, WAD, 0 < K <= 1e36
    @param forward F, WAD, 0 < F <= 1e36
    @return sqrt(w(ln(K/F)) / T), WAD, T = (expiry - now) / 365 days, rounded down
    """
    assert expiry > block.timestamp, "risk: expiry passed"
    words: uint256[2] = self._listed_words(expiry)
    assert strike != 0 and forward != 0, "risk: price must be positive"
    assert strike <= MAX_PRICE and forward <= MAX_PRICE, "risk: price out of range"
    # K/F in WAD, truncated: an error below 1 wei of the ratio, so below 1e-18 / (K/F) in k.
    ratio: uint256 = strike * WAD // forward
    assert ratio != 0, "risk: strike/forward out of range"
    k: int256 = fixed_ln.ln_wad(ratio)
    w: int256 = svi._total_variance(self._unpack_stored(words), k)
    return svi._implied_vol(w, expiry - block.timestamp)


@internal
@view
def _total_variance_at(expiry: uint256, k: int256) -> int256:
    words: uint256[2] = self._listed_words(expiry)
    assert k >= -10**21 and k <= 10**21, "risk: k out of range"
    return svi._total_variance(self._unpack_stored(words), k)


@internal
@pure
def _check_vol_step(old: svi.Smile, tau_old: uint256, new: svi.Smile, tau_new: uint256, fast: bool):
    """
    @notice Step bound of a smile update: fast (surface_delay) or slow (delay) bound; see _vol_step_ok.
    """
    ok: bool = False
    if fast:
        ok = self._vol_step_ok(old, tau_old, new, tau_new, FAST_STEP_REL, FAST_STEP_ABS)
    else:
        ok = self._vol_step_ok(old, tau_old, new, tau_new, SLOW_STEP_REL, SLOW_STEP_ABS)
    assert ok, "risk: vol step too large"


@internal
@pure
def _vol_step_ok(old: svi.Smile, tau_old: uint256, new: svi.Smile, tau_new: uint256, rel: uint256, abs_: uint256) -> bool:
    """
    @notice True when, at every grid k, |vol_new(k) - vol_old(k)| <= max(rel * vol_old(k), abs_).
    @param old current smile; its vols are taken at tau_old = expiry - written_at (seconds, > 0)
    @param new proposed smile; its vols are taken at tau_new = expiry - write time (seconds, > 0)
    @param rel relative step, WAD fraction of the old vol
    @param abs_ absolute step, WAD vol
    """
    for i: uint256 in range(svi.N_GRID):
        k: int256 = svi._grid_k(i)
        v_old: uint256 = svi._implied_vol(svi._total_variance(old, k), tau_old)
        v_new: uint256 = svi._implied_vol(svi._total_variance(new, k), tau_new)
        # allowed step rounded down: a borderline step is refused
        allowed: uint256 = max(v_old * rel // WAD, abs_)
        if v_new > v_old + allowed or v_old > v_new + allowed:
            return False
    return True


@internal
@view
def _check_smile(expiry: uint256, s: svi.Smile, at: uint256):
    """
    @notice Every rule a smile for `expiry` must satisfy when written at time `at` (see module doc).
    @param expiry unix timestamp (seconds)
    @param s smile parameters (WAD)
    @param at time of the write (seconds); >= block.timestamp
    """
    assert expiry > at, "risk: expiry passed"
    tau: uint256 = expiry - at
    assert tau >= MIN_TIME_TO_EXPIRY, "risk: expiry too close"
    assert tau <= MAX_EXPIRY_HORIZON, "risk: expiry too far"
    svi._check_params(s)
    svi._check_butterfly(s)

    # live neighbours in the sorted list (expiries <= at no longer constrain anything)
    prev: uint256 = 0
    nxt: uint256 = 0
    for e: uint256 in self.expiry_list:
        if e <= at or e == expiry:
            continue
        if e < expiry:
            prev = e
        elif nxt == 0:
            nxt = e
    p: svi.Smile = empty(svi.Smile)
    n: svi.Smile = empty(svi.Smile)
    if prev != 0:
        p = self._unpack_stored(self.smile_words[prev])
    if nxt != 0:
        n = self._unpack_stored(self.smile_words[nxt])

    for i: uint256 in range(svi.N_GRID):
        k: int256 = svi._grid_k(i)
        w: int256 = svi._total_variance(s, k)
        v: uint256 = svi._implied_vol(w, tau)
        assert v >= VOL_MIN and v <= VOL_MAX, "risk: vol out of bounds"
        calendar_ok: bool = True
        if prev != 0:
            calendar_ok = svi._total_variance(p, k) <= w
        if nxt != 0:
            calendar_ok = calendar_ok and w <= svi._total_variance(n, k)
        assert calendar_ok, "risk: calendar arbitrage"


@internal
def _write(expiry: uint256, s: svi.Smile):
    """
    @notice Store the smile of `expiry` stamped with the current time, inserting the expiry in sorted
            position when new.
    """
    if not self._listed(expiry):
        n: uint256 = len(self.expiry_list)
        assert n < MAX_EXPIRIES, "risk: too many expiries"
        out: DynArray[uint256, MAX_EXPIRIES] = []
        placed: bool = False
        for e: uint256 in self.expiry_list:
            if not placed and expiry < e:
                out.append(expiry)
                placed = True
            out.append(e)
        if not placed:
            out.append(expiry)
        self.expiry_list = out
    words: uint256[2] = svi._pack(s)
    # block.timestamp < 2^64 for the next 5e11 years; sigma < 2^64 (hard bound)
    words[1] = words[1] | (block.timestamp << 64)
    self.smile_words[expiry] = words


@internal
def _remove_expired() -> uint256:
    """
    @notice Drop every listed expiry <= now (a prefix of the sorted list) and its smile.
    @return number of expiries removed
    """
    keep: DynArray[uint256, MAX_EXPIRIES] = []
    removed: uint256 = 0
    for e: uint256 in self.expiry_list:
        if e <= block.timestamp:
            log ExpiryRemoved(expiry=e, smile=self._unpack_stored(self.smile_words[e]))
            self.smile_words[e] = empty(uint256[2])
            removed += 1
        else:
            keep.append(e)
    if removed != 0:
        self.expiry_list = keep
    return removed
