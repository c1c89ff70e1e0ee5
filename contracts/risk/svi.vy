# pragma version 0.4.3
# pragma evm-version cancun
"""
@title svi
@notice Raw SVI total-variance smile (Gatheral 2004): evaluation, implied volatility and the cheap
        no-arbitrage checks the risk registry runs on every write.  Stateless: import, do not initialize.
@dev API (all internal pure)
     _total_variance(s: Smile, k: int256) -> int256     w(k), WAD
     _implied_vol(w: int256, tau: uint256) -> uint256   sqrt(w / T), WAD; T = tau / 365 days
     _min_total_variance(s: Smile) -> int256            a + b sigma sqrt(1 - rho^2), WAD, rounded down
     _check_params(s: Smile)                            static conditions + hard bounds; reverts with a reason
     _check_butterfly(s: Smile)                         w(k) > 0 and Gatheral's g(k) >= 0 on K_GRID
     _pack(s: Smile) -> uint256[2]                      storage layout (two words)
     _unpack(words: uint256[2]) -> Smile
     _grid_k(i: uint256) -> int256                      point i of K_GRID, WAD

     The smile of one expiry, k = ln(K / F):
         w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2))
     w is the total implied variance sigma_BS(k)^2 T.  All five parameters are WAD; a, rho, m signed.
     b >= 0 and sigma >= 0 hold by type (uint256); everything else is checked here.

     Static conditions (reverted with these reasons, in this order):
       sigma > 0                                "risk: sigma must be positive"
       |rho| < 1                                "risk: |rho| must be below 1"
       hard bounds (constants below)            "risk: a out of bounds", "risk: rho out of bounds",
                                                "risk: m out of bounds", "risk: sigma out of bounds"
       Lee's moment bound b (1 + |rho|) <= 2    "risk: lee moment bound"   (also caps b at 2)
       min_k w(k) = a + b sigma sqrt(1-rho^2) >= 0   "risk: negative minimum variance"
     Butterfly (Gatheral & Jacquier 2014, eq. 2.1), on the fixed grid K_GRID:
       w(k) > 0 and g(k) = (1 - k w'/(2w))^2 - (w'^2/4)(1/w + 1/4) + w''/2 >= 0   "risk: butterfly bound"
     The grid check is necessary, not sufficient: a density that dips below zero strictly between grid
     points is not caught.  Calendar checks need two smiles and live in the surface module.

     Precision.  Every division truncates toward zero; isqrt floors.  w(k) is within 2 wei of the exact
     value of the formula at the given k; sqrt((k-m)^2+sigma^2) is exact to the floor.  The minimum total
     variance is rounded down (a borderline smile is rejected, never accepted by rounding).
"""

WAD: constant(int256) = 10**18
UWAD: constant(uint256) = 10**18
YEAR: constant(uint256) = 365 * 86400

struct Smile:
    a: int256       # WAD, total variance level
    b: uint256      # WAD, wing slope scale
    rho: int256     # WAD, skew, |rho| < 1
    m: int256       # WAD, log-moneyness shift
    sigma: uint256  # WAD, ATM curvature, > 0

# Hard bounds on the raw parameters (WAD).  a <= 8 is a total variance of 8 (e.g. 200% vol over two
# years), far above any listed crypto expiry; a >= -2 leaves room for the negative a that fits with a
# large b sigma.  b needs no own bound: Lee's bound b (1 + |rho|) <= 2 caps it at 2.  Every field then
# fits into 64 bits (|x| < 2^63 = 9.2e18), which the two-word storage layout relies on.
A_MIN: constant(int256) = -2 * 10**18
A_MAX: constant(int256) = 8 * 10**18
RHO_MAX: constant(int256) = 999 * 10**15        # |rho| <= 0.999
M_MIN: constant(int256) = -2 * 10**18
M_MAX: constant(int256) = 2 * 10**18
SIGMA_MIN: constant(uint256) = 10**14           # 0.0001
SIGMA_MAX: constant(uint256) = 4 * 10**18

# Log-moneyness grid (WAD) of the butterfly, calendar, vol-bound and vol-step checks:
# K/F from 0.22 to 4.5, denser near the money where options trade.
N_GRID: constant(uint256) = 9
K_GRID: constant(int256[N_GRID]) = [
    -15 * 10**17, -10**18, -5 * 10**17, -25 * 10**16, 0, 25 * 10**16, 5 * 10**17, 10**18, 15 * 10**17
]
# The same grid in quarters, packed one byte per point as (k / 0.25 + 8): iterating over a packed word
# instead of the constant array keeps the deployable small (a constant array is re-materialised at
# every use).  _grid_k(i) == K_GRID[i] is checked by the tests.
K_QUARTERS_PACKED: constant(uint256) = 259121932840238187522  # bytes, lowest first: 02 04 06 07 08 09 0a 0c 0e
K_STEP: constant(int256) = 25 * 10**16

# Storage layout: word 0 = a | b << 64 | rho << 128 | m << 192, word 1 = sigma.  Signed fields are
# stored with an offset of 2^63 so each occupies an unsigned 64-bit lane.
OFFSET: constant(int256) = 2**63
MASK64: constant(uint256) = 2**64 - 1


@internal
@pure
def _grid_k(i: uint256) -> int256:
    """
    @notice Point i (0..8) of the log-moneyness grid K_GRID, WAD.
    """
    return (convert((K_QUARTERS_PACKED >> (8 * i)) & 255, int256) - 8) * K_STEP


@internal
@pure
def _total_variance(s: Smile, k: int256) -> int256:
    """
    @notice Total implied variance w(k) of the smile.
    @param s smile parameters (WAD)
    @param k log-moneyness ln(K/F), WAD, |k| below 1e21 (any k from a price ratio qualifies)
    @return w(k), WAD (within 2 wei; may be a few wei negative only for a smile whose minimum is 0)
    """
    x: int256 = k - s.m
    # sqrt((k-m)^2 + sigma^2): the radicand is WAD^2, so isqrt returns WAD (floor).
    r: int256 = convert(isqrt(convert(x * x, uint256) + s.sigma * s.sigma), int256)
    return s.a + convert(s.b, int256) * (s.rho * x // WAD + r) // WAD


@internal
@pure
def _implied_vol(w: int256, tau: uint256) -> uint256:
    """
    @notice Black-Scholes implied volatility sqrt(w / T) from a total variance.
    @param w total variance, WAD (w <= 0 gives 0)
    @param tau time to expiry in seconds, > 0 (T = tau / 365 days)
    @return annualised implied volatility, WAD, rounded down (relative error below 1e-18)
    """
    if w <= 0:
        return 0
    # vol^2 = w * YEAR / tau (WAD); vol in WAD = isqrt(vol^2 * 1e18).  w < 2^200 here, no overflow.
    return isqrt(convert(w, uint256) * YEAR * UWAD // tau)


@internal
@pure
def _min_total_variance(s: Smile) -> int256:
    """
    @notice min over k of w(k) = a + b sigma sqrt(1 - rho^2), rounded down.
    @dev needs |rho| < 1 and the hard bounds (checked by _check_params first).
    @param s smile parameters (WAD)
    @return minimum total variance, WAD, rounded down
    """
    # sqrt(1 - rho^2) in WAD = isqrt(1e36 - rho^2), floored; b, sigma, that root are >= 0, so each
    # truncating division rounds the product down.
    root: uint256 = isqrt(UWAD * UWAD - convert(s.rho * s.rho, uint256))
    return s.a + convert(s.b * s.sigma // UWAD * root // UWAD, int256)


@internal
@pure
def _check_params(s: Smile):
    """
    @notice Static no-arbitrage conditions and hard bounds of one smile; reverts with the rule broken.
    @param s smile parameters (WAD)
    """
    assert s.sigma > 0, "risk: sigma must be positive"
    assert s.rho > -WAD and s.rho < WAD, "risk: |rho| must be below 1"
    assert s.a >= A_MIN and s.a <= A_MAX, "risk: a out of bounds"
    assert s.rho >= -RHO_MAX and s.rho <= RHO_MAX, "risk: rho out of bounds"
    assert s.m >= M_MIN and s.m <= M_MAX, "risk: m out of bounds"
    assert s.sigma >= SIGMA_MIN and s.sigma <= SIGMA_MAX, "risk: sigma out of bounds"
    # b (1 + |rho|) <= 2  <=>  b <= floor(2e36 / (1e18 + |rho|)) for integers (no overflow for any b)
    assert s.b <= 2 * UWAD * UWAD // (UWAD + convert(abs(s.rho), uint256)), "risk: lee moment bound"
    assert self._min_total_variance(s) >= 0, "risk: negative minimum variance"


@internal
@pure
def _check_butterfly(s: Smile):
    """
    @notice Gatheral's butterfly condition w(k) > 0 and g(k) >= 0 at every point of K_GRID.
    @dev needs _check_params(s) to hold (so |w'| <= 2, sigma >= SIGMA_MIN, all products far inside int256).
    @param s smile parameters (WAD)
    """
    b: int256 = convert(s.b, int256)
    sig: int256 = convert(s.sigma, int256)
    g: int256 = 0
    for i: uint256 in range(N_GRID):
        k: int256 = self._grid_k(i)
        x: int256 = k - s.m
        r: int256 = convert(isqrt(convert(x * x, uint256) + s.sigma * s.sigma), int256)
        w: int256 = s.a + b * (s.rho * x // WAD + r) // WAD
        if w <= 0:
            g = -1
            break
        # w' = b (rho + x / r)
        w1: int256 = b * (s.rho + x * WAD // r) // WAD
        # w'' = b sigma^2 / r^3 = (b / r) (sigma / r)^2
        q: int256 = sig * WAD // r
        w2: int256 = b * WAD // r * q // WAD * q // WAD
        u: int256 = WAD - k * w1 // (2 * w)
        g = u * u // WAD - w1 * w1 // (4 * w) - w1 * w1 // (16 * WAD) + w2 // 2
        if g < 0:
            break
    assert g >= 0, "risk: butterfly bound"


@internal
@pure
def _pack(s: Smile) -> uint256[2]:
    """
    @notice Two-word storage form of a smile that passed _check_params.
    @param s smile parameters (WAD)
    @return [a | b << 64 | rho << 128 | m << 192, sigma], signed fields offset by 2^63
    """
    a: uint256 = convert(s.a + OFFSET, uint256)
    rho: uint256 = convert(s.rho + OFFSET, uint256)
    m: uint256 = convert(s.m + OFFSET, uint256)
    assert a <= MASK64 and s.b <= MASK64 and rho <= MASK64 and m <= MASK64  # dev: smile field too wide
    return [a | (s.b << 64) | (rho << 128) | (m << 192), s.sigma]


@internal
@pure
def _unpack(words: uint256[2]) -> Smile:
    """
    @notice Inverse of _pack.
    @param words the two storage words
    @return the smile (WAD)
    """
    w0: uint256 = words[0]
    return Smile(
        a=convert(w0 & MASK64, int256) - OFFSET,
        b=(w0 >> 64) & MASK64,
        rho=convert((w0 >> 128) & MASK64, int256) - OFFSET,
        m=convert(w0 >> 192, int256) - OFFSET,
        sigma=words[1],
    )
