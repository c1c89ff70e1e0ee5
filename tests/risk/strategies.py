"""Hypothesis strategies for raw SVI smiles (WAD integer tuples) and surfaces."""
import math

from hypothesis import strategies as st

from reference import risk_registry as ref
from vyopt import risk

WAD = 10**18
YEAR = 365 * 86400


@st.composite
def ssvi_smile(draw, t_years=None):
    """An SSVI slice (free of butterfly arbitrage: eta^2 (1+|rho|) <= 4, eta sqrt(theta)(1+|rho|) < 4)
    as a WAD tuple; ATM vol 20%..250% for an expiry t_years out."""
    if t_years is None:
        t_years = draw(st.floats(1 / 365, 1.5))
    vol = draw(st.floats(0.2, 2.5))
    theta = vol * vol * t_years
    rho = draw(st.floats(-0.9, 0.9))
    eta_max = min(2.0 / math.sqrt(1 + abs(rho)), 3.9 / (math.sqrt(theta) * (1 + abs(rho))))
    eta = draw(st.floats(0.2, 1.0)) * eta_max
    return risk.encode_smile(risk.ssvi_smile(theta, rho, eta))


@st.composite
def default_like_smile(draw, t_years):
    """The default surface's SSVI family (rho -0.3, eta 1) at ATM vol 50%..70%: against the default 60%
    surface a new expiry between two listed ones is calendar-consistent for some vols and not others."""
    vol = draw(st.floats(0.5, 0.7))
    return risk.encode_smile(risk.ssvi_smile(vol * vol * t_years, -0.3, 1.0))


@st.composite
def perturbed(draw, base):
    """Multiply each field of a WAD smile by a random factor near 1 (can break any rule a little)."""
    s = list(draw(base))
    for i in range(5):
        if draw(st.booleans()):
            f = draw(st.floats(0.7, 1.3))
            s[i] = int(s[i] * f)
    return tuple(s)


def _int_in(lo, hi):
    return st.integers(lo, hi)


raw_smile = st.tuples(
    _int_in(-3 * WAD, 9 * WAD),          # a around its bounds
    _int_in(0, 3 * WAD),                 # b
    _int_in(-WAD - 10**15, WAD + 10**15),  # rho around +-1
    _int_in(-3 * WAD, 3 * WAD),          # m
    _int_in(0, 5 * WAD),                 # sigma
)

garbage_smile = st.tuples(
    st.integers(-2**255, 2**255 - 1),
    st.integers(0, 2**256 - 1),
    st.integers(-2**255, 2**255 - 1),
    st.integers(-2**255, 2**255 - 1),
    st.integers(0, 2**256 - 1),
)

boundary_smile = st.tuples(
    st.sampled_from([ref.A_BOUNDS[0] - 1, ref.A_BOUNDS[0], 0, ref.A_BOUNDS[1], ref.A_BOUNDS[1] + 1]),
    st.sampled_from([0, 1, WAD, 2 * WAD, 2 * WAD + 1]),
    st.sampled_from([-WAD, -ref.RHO_MAX - 1, -ref.RHO_MAX, 0, ref.RHO_MAX, ref.RHO_MAX + 1, WAD]),
    st.sampled_from([ref.M_BOUNDS[0] - 1, ref.M_BOUNDS[0], 0, ref.M_BOUNDS[1], ref.M_BOUNDS[1] + 1]),
    st.sampled_from([0, ref.SIGMA_BOUNDS[0] - 1, ref.SIGMA_BOUNDS[0], WAD, ref.SIGMA_BOUNDS[1], ref.SIGMA_BOUNDS[1] + 1]),
)


def any_smile(t_years=None):
    valid = ssvi_smile(t_years)
    return st.one_of(valid, perturbed(valid), raw_smile, boundary_smile, garbage_smile)
