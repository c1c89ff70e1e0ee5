"""Margin scenario grid: bounds, coverage, step rule, getters; contract against the reference."""
import boa
from hypothesis import given
from hypothesis import strategies as st

from reference import risk_registry as ref
from vyopt import risk

from .helpers import events, travel_to, wad


def test_default_grid__getters_agree(registry):
    grid = [tuple(s) for s in registry.scenarios()]
    assert grid == risk.default_scenarios()
    assert registry.scenario_count() == len(grid) == 29
    for i, s in enumerate(grid):
        assert tuple(registry.scenario(i)) == s
    with boa.reverts("risk: no such scenario"):
        registry.scenario(len(grid))


shock = st.one_of(
    st.integers(-10**18, 3 * 10**18 + 10**17),
    st.sampled_from([ref.SPOT_BOUNDS[0] - 1, ref.SPOT_BOUNDS[0], ref.SPOT_BOUNDS[1], ref.SPOT_BOUNDS[1] + 1,
                     ref.VOL_SHOCK_BOUNDS[0] - 1, ref.VOL_SHOCK_BOUNDS[0], ref.VOL_SHOCK_BOUNDS[1] + 1]),
    st.integers(-2**255, 2**255 - 1),
)
nudge = st.integers(-6 * 10**16, 6 * 10**16) | st.integers(-3 * 10**17, 3 * 10**17)


@st.composite
def new_grid(draw):
    """A grid derived from the default: nudged entries, removals, appended and garbage scenarios."""
    grid = list(risk.default_scenarios())
    for _ in range(draw(st.integers(0, 6))):
        i = draw(st.integers(0, len(grid) - 1))
        s, v = grid[i]
        grid[i] = (s + draw(nudge), v + draw(nudge))
    if draw(st.booleans()):
        cut = draw(st.integers(0, 8))
        del grid[len(grid) - cut:]
    if draw(st.booleans()):
        grid += draw(st.lists(st.tuples(shock, shock), max_size=32 - len(grid)))
    if draw(st.integers(0, 9)) == 0:
        grid = draw(st.lists(st.tuples(shock, shock), max_size=32))
    return grid


@given(grid=new_grid())
def test_queue_scenarios__any_grid__accepted_iff_reference_accepts(registry, risk_manager, reason, grid):
    old = [tuple(s) for s in registry.scenarios()]
    expected = ref.grid_violation(grid) or ref.grid_step_violation(old, grid)
    if expected is None:
        cid = registry.queue_scenarios(grid, reason, sender=risk_manager)
        (ev,) = events(registry, "ScenariosChange")
        assert [tuple(s) for s in ev.old_scenarios] == old
        assert [tuple(s) for s in ev.new_scenarios] == grid
        assert [tuple(s) for s in registry.queued_scenarios(cid)] == grid
    else:
        with boa.reverts(expected):
            registry.queue_scenarios(grid, reason, sender=risk_manager)


def test_execute_scenarios__applies_and_logs(registry, risk_manager, keeper, reason):
    old = [tuple(s) for s in registry.scenarios()]
    grid = old[:-2] + [(wad("-0.30"), wad("0.6"))]
    cid = registry.queue_scenarios(grid, reason, sender=risk_manager)
    travel_to(registry.change(cid).eta)
    registry.execute(cid, sender=keeper)
    (ev,) = events(registry, "ScenariosChange")
    assert [tuple(s) for s in ev.old_scenarios] == old and [tuple(s) for s in ev.new_scenarios] == grid
    assert ev.action == risk.ACTION_EXECUTED and ev.reason_hash == reason
    assert [tuple(s) for s in registry.scenarios()] == grid


def test_grid_step__spot_moved_by_more_than_5pct__fails(registry, risk_manager, reason):
    grid = risk.default_scenarios()
    grid[27] = (grid[27][0] + wad("0.05"), grid[27][1])   # -33% -> -28%: exactly the step
    registry.queue_scenarios(grid, reason, sender=risk_manager)
    grid[27] = (grid[27][0] + 1, grid[27][1])
    with boa.reverts("risk: scenario step too large"):
        registry.queue_scenarios(grid, reason, sender=risk_manager)


def test_grid__removing_five_scenarios__fails_four_allowed(registry, risk_manager, reason):
    grid = risk.default_scenarios()
    with boa.reverts("risk: too many scenarios removed"):
        registry.queue_scenarios(grid[:-5], reason, sender=risk_manager)
    registry.queue_scenarios(grid[:-4], reason, sender=risk_manager)


def test_grid__without_down_move__fails(registry, risk_manager, reason):
    """Coverage is a hard bound: a grid whose largest down move is -4.99% is refused (reached from a
    grid where only small down moves remain)."""
    grid = [(wad("-0.0499"), wad("0.2")), (0, 0), (wad("0.1"), 0)]
    assert ref.grid_violation(grid) == "risk: grid lacks down move"
    with boa.reverts("risk: grid lacks down move"):
        registry.queue_scenarios(grid, reason, sender=risk_manager)
