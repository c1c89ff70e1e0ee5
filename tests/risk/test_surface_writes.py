"""Smile writes: static no-arbitrage checks, butterfly, calendar, vol bounds, fast/slow step, expiry list;
the contract's verdicts against reference.risk_registry."""
import boa
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from reference import risk_registry as ref
from vyopt import risk

from .helpers import ZERO_HASH, events, now, reference_model, scaled_smile, smile_tuple, travel_to, wad
from .strategies import any_smile, default_like_smile, ssvi_smile

DAY = 86400
YEAR = 365 * DAY
VOGT = (-0.0410, 0.1331, 0.3060, 0.3586, 0.4153)   # Vogt's smile: static conditions hold, g(1) < 0


def _queue_expect(registry, model, sender, expiry, smile, reason):
    """Queue a smile and compare with the model; returns the change id or None."""
    out = model.queue_smile(str(sender), expiry, smile, reason, now())
    event(f"verdict: {out.reason}")
    if out.reason is None:
        try:
            cid = registry.queue_smile(expiry, smile, reason, sender=sender)
        except boa.BoaError:
            return None
        return cid
    if out.reason == "ok":
        cid = registry.queue_smile(expiry, smile, reason, sender=sender)
        assert cid == out.change_id
        return cid
    with boa.reverts(out.reason):
        registry.queue_smile(expiry, smile, reason, sender=sender)
    return None


@st.composite
def new_expiry(draw):
    """Days from now of a new expiry: before, between or after the default ones (7..182 days), or odd."""
    return draw(st.one_of(
        st.integers(1, 6), st.integers(8, 13), st.integers(15, 27), st.integers(57, 90),
        st.integers(183, 800), st.sampled_from([0, 730, 731]),
    )) * DAY + draw(st.integers(0, DAY - 1))


@st.composite
def new_expiry_and_smile(draw):
    """A new expiry and a smile: mostly an SSVI slice sized for that expiry (ATM vol 20%..250%, so the
    calendar check against the default 60% surface goes either way), else anything."""
    days = draw(new_expiry())
    t = max(days, DAY) / YEAR
    smile = draw(st.one_of(default_like_smile(t), default_like_smile(t), ssvi_smile(t_years=t), any_smile(t)))
    return days, smile


@given(case=new_expiry_and_smile())
def test_queue_smile__new_expiry__verdict_matches_reference(registry, risk_manager, reason, case):
    days, smile = case
    model = reference_model(registry)
    expiry = now() + days
    cid = _queue_expect(registry, model, risk_manager, expiry, smile, reason)
    if cid is not None:
        c = registry.change(cid)
        assert c.fast is False and c.eta == now() + registry.delay()


@given(i=st.integers(0, 5), factor=st.floats(0.3, 3.0), tweak=st.sampled_from([None, 2, 3, 4]),
       tweak_by=st.floats(0.8, 1.2))
def test_queue_smile__update__verdict_and_fast_flag_match_reference(registry, risk_manager, reason, i, factor, tweak, tweak_by):
    model = reference_model(registry)
    expiry = registry.expiries()[i]
    s = list(scaled_smile(registry.smile(expiry), factor))
    if tweak is not None:
        s[tweak] = int(s[tweak] * tweak_by)
    s = tuple(s)
    cid = _queue_expect(registry, model, risk_manager, expiry, s, reason)
    if cid is not None:
        c = registry.change(cid)
        tau_old = expiry - registry.smile_updated_at(expiry)
        step = ref.vol_step_slack(smile_tuple(registry.smile(expiry)), tau_old, s,
                                  expiry - (now() + registry.surface_delay()), ref.FAST_STEP)
        if abs(step) > 1e-11:
            assert c.fast == (step > 0)
        delay = registry.surface_delay() if c.fast else registry.delay()
        grace = registry.surface_delay() if c.fast else registry.grace_period()
        assert (c.eta, c.deadline) == (now() + delay, now() + delay + grace)
        event(f"fast: {c.fast}")


TINY_VOL = (0, wad("0.0001"), 0, 0, wad("0.001"))   # w(0) = 1e-7: vol 0.4% at 3 days

BROKEN = [
    ((wad("0.04"), wad("0.1"), wad("-0.3"), 0, 0), "risk: sigma must be positive"),
    ((wad("0.04"), wad("0.1"), -10**18, 0, wad("0.2")), "risk: |rho| must be below 1"),
    ((wad("0.04"), wad("0.1"), 10**18 + 5, 0, wad("0.2")), "risk: |rho| must be below 1"),
    ((wad("8.01"), wad("0.1"), 0, 0, wad("0.2")), "risk: a out of bounds"),
    ((wad("0.04"), wad("0.1"), wad("0.9995"), 0, wad("0.2")), "risk: rho out of bounds"),
    ((wad("0.04"), wad("0.1"), 0, wad("2.01"), wad("0.2")), "risk: m out of bounds"),
    ((wad("0.04"), wad("0.1"), 0, 0, wad("0.00009")), "risk: sigma out of bounds"),
    ((wad("0.04"), wad("1.6"), wad("0.3"), 0, wad("0.2")), "risk: lee moment bound"),
    ((wad("0.04"), 2**256 - 1, 0, 0, wad("0.2")), "risk: lee moment bound"),
    ((wad("-0.05"), wad("0.1"), 0, 0, wad("0.2")), "risk: negative minimum variance"),
    (tuple(risk.wad(x) for x in VOGT), "risk: butterfly bound"),
    (TINY_VOL, "risk: vol out of bounds"),
    ((2**255 - 1, 2**256 - 1, -2**255, 2**255 - 1, 2**256 - 1), "risk: |rho| must be below 1"),
    ((-2**255, 2**256 - 1, 0, 2**255 - 1, 2**256 - 1), "risk: a out of bounds"),
]


@pytest.mark.parametrize("smile,why", BROKEN)
def test_queue_smile__broken_rule__fails_with_its_reason(registry, risk_manager, reason, smile, why):
    expiry = now() + 3 * DAY     # before the first listed expiry: only a later neighbour
    with boa.reverts(why):
        registry.queue_smile(expiry, smile, reason, sender=risk_manager)


@pytest.mark.parametrize("smile,why", BROKEN)
def test_reference__broken_rule__names_the_same_rule(registry, risk_manager, reason, smile, why):
    """The reference, written from the spec, names the same rule for each hand-made case."""
    expiry = now() + 3 * DAY
    model = reference_model(registry)
    assert model.queue_smile(str(risk_manager), expiry, smile, reason, now()).reason == why


def test_queue_smile__calendar_violation_with_previous_expiry__fails(registry, risk_manager, reason):
    last = registry.expiries()[-1]
    lower = scaled_smile(registry.smile(last), 0.8)    # less total variance than the previous expiry
    with boa.reverts("risk: calendar arbitrage"):
        registry.queue_smile(last + 30 * DAY, lower, reason, sender=risk_manager)
    registry.queue_smile(last + 30 * DAY, scaled_smile(registry.smile(last), 1.2), reason, sender=risk_manager)


def test_queue_smile__between_two_expiries__must_fit_between_them(registry, risk_manager, reason):
    e1, e2 = registry.expiries()[1], registry.expiries()[2]
    mid = (e1 + e2) // 2
    s1, s2 = smile_tuple(registry.smile(e1)), smile_tuple(registry.smile(e2))
    with boa.reverts("risk: calendar arbitrage"):
        registry.queue_smile(mid, scaled_smile(s2, 1.05), reason, sender=risk_manager)  # above the later one
    with boa.reverts("risk: calendar arbitrage"):
        registry.queue_smile(mid, scaled_smile(s1, 0.95), reason, sender=risk_manager)  # below the earlier one
    avg = tuple((x + y) // 2 for x, y in zip(s1, s2))
    registry.queue_smile(mid, avg, reason, sender=risk_manager)


def test_queue_smile__expiry_times__passed_too_close_too_far(registry, risk_manager, reason):
    s = smile_tuple(registry.smile(registry.expiries()[-1]))
    t = now()
    with boa.reverts("risk: expiry passed"):
        registry.queue_smile(t, s, reason, sender=risk_manager)
    with boa.reverts("risk: expiry passed"):
        registry.queue_smile(t + registry.delay(), s, reason, sender=risk_manager)   # passed by its eta
    with boa.reverts("risk: expiry too close"):
        registry.queue_smile(t + registry.delay() + 3599, s, reason, sender=risk_manager)
    with boa.reverts("risk: expiry too far"):
        registry.queue_smile(t + registry.delay() + 730 * DAY + 1, s, reason, sender=risk_manager)
    with boa.reverts("risk: expiry too far"):
        registry.queue_smile(2**200, s, reason, sender=risk_manager)


def test_update__small_move__fast_path_with_short_delay_and_window(registry, risk_manager, keeper, reason):
    e = registry.expiries()[3]
    old = smile_tuple(registry.smile(e))
    new = scaled_smile(old, 1.05)           # vol x 1.0247: inside 5%
    cid = registry.queue_smile(e, new, reason, sender=risk_manager)
    (ev,) = events(registry, "SmileChange")
    assert (ev.action, ev.fast, smile_tuple(ev.old_smile), smile_tuple(ev.new_smile)) == (risk.ACTION_QUEUED, True, old, new)
    c = registry.change(cid)
    assert c.fast and c.eta == now() + registry.surface_delay() and c.deadline == c.eta + registry.surface_delay()
    travel_to(c.eta - 1)
    with boa.reverts("risk: not yet executable"):
        registry.execute(cid, sender=keeper)
    travel_to(c.eta)
    registry.execute(cid, sender=keeper)
    (ev,) = events(registry, "SmileChange")
    assert (ev.action, ev.fast, smile_tuple(ev.old_smile), smile_tuple(ev.new_smile), ev.reason_hash) == (
        risk.ACTION_EXECUTED, True, old, new, reason)
    assert smile_tuple(registry.smile(e)) == new


def test_update__fast_change_executed_late__fails_grace_over(registry, risk_manager, keeper, reason):
    """A fast (recalibration) change lapses after surface_delay: a stale calibration is never applied."""
    e = registry.expiries()[3]
    cid = registry.queue_smile(e, scaled_smile(registry.smile(e), 1.05), reason, sender=risk_manager)
    travel_to(registry.change(cid).deadline + 1)
    with boa.reverts("risk: grace period over"):
        registry.execute(cid, sender=keeper)


def test_update__medium_move__slow_path(registry, risk_manager, keeper, reason):
    e = registry.expiries()[3]
    new = scaled_smile(registry.smile(e), 1.3)       # vol x 1.14: beyond 5%, within 25%
    cid = registry.queue_smile(e, new, reason, sender=risk_manager)
    c = registry.change(cid)
    assert not c.fast and c.eta == now() + registry.delay()
    travel_to(c.eta)
    registry.execute(cid, sender=keeper)
    assert smile_tuple(registry.smile(e)) == new


def _recalibrated(registry, e, eta, vol_factor):
    """The listed smile of e rescaled so that its vols at eta are vol_factor times the calibrated vols."""
    written = registry.smile_updated_at(e)
    return scaled_smile(registry.smile(e), vol_factor**2 * (e - eta) / (e - written))


def test_update__large_move__fails_vol_step(registry, risk_manager, reason):
    """Last expiry up (no later neighbour), first expiry down (no earlier one): only the step binds.
    Slow path: at most 25% of the calibrated vol."""
    last, first = registry.expiries()[-1], registry.expiries()[0]
    eta = now() + registry.delay()
    with boa.reverts("risk: vol step too large"):
        registry.queue_smile(last, _recalibrated(registry, last, eta, 1.255), reason, sender=risk_manager)
    registry.queue_smile(last, _recalibrated(registry, last, eta, 1.245), reason, sender=risk_manager)
    with boa.reverts("risk: vol step too large"):
        registry.queue_smile(first, _recalibrated(registry, first, eta, 0.745), reason, sender=risk_manager)
    registry.queue_smile(first, _recalibrated(registry, first, eta, 0.755), reason, sender=risk_manager)


def test_update__fast_bound__five_percent_of_calibrated_vol(registry, risk_manager, reason):
    e = registry.expiries()[2]
    eta_fast = now() + registry.surface_delay()
    cid = registry.queue_smile(e, _recalibrated(registry, e, eta_fast, 1.0495), reason, sender=risk_manager)
    assert registry.change(cid).fast
    registry.cancel(cid, sender=risk_manager)
    cid = registry.queue_smile(e, _recalibrated(registry, e, eta_fast, 1.0505), reason, sender=risk_manager)
    assert not registry.change(cid).fast


def test_update__neighbour_changed_meanwhile__calendar_rechecked_at_execute(registry, risk_manager, keeper, reason):
    """Queue a cut of expiry 2 (consistent with expiry 1 now), then a raise of expiry 1 (consistent with
    expiry 2 now).  Both are fine alone; once the raise executes, the cut would put expiry 2 below
    expiry 1 in the wings, and its execution is refused."""
    e1, e2 = registry.expiries()[4:6]     # w2/w1 >= 1.525 on the grid (default surface)
    s1, s2 = smile_tuple(registry.smile(e1)), smile_tuple(registry.smile(e2))
    cut, raise_ = scaled_smile(s2, 0.9), scaled_smile(s1, 1.5)   # 0.9 * 1.525 < 1.5
    c2 = registry.queue_smile(e2, cut, reason, sender=risk_manager)
    c1 = registry.queue_smile(e1, raise_, reason, sender=risk_manager)
    assert not registry.change(c1).fast and not registry.change(c2).fast
    travel_to(registry.change(c1).eta)
    registry.execute(c1, sender=keeper)
    listed = {e: smile_tuple(registry.smile(e)) for e in registry.expiries()}
    assert ref.classify(ref.smile_write_checks(e2, cut, now(), listed)) == "risk: calendar arbitrage"
    with boa.reverts("risk: calendar arbitrage"):
        registry.execute(c2, sender=keeper)


def test_add_expiry__executes_and_keeps_list_sorted(registry, risk_manager, keeper, reason):
    exps = list(registry.expiries())
    mid = (exps[0] + exps[1]) // 2
    s0, s1 = smile_tuple(registry.smile(exps[0])), smile_tuple(registry.smile(exps[1]))
    cid = registry.queue_smile(mid, tuple((x + y) // 2 for x, y in zip(s0, s1)), reason, sender=risk_manager)
    travel_to(registry.change(cid).eta)
    registry.execute(cid, sender=keeper)
    (ev,) = events(registry, "SmileChange")
    assert smile_tuple(ev.old_smile) == (0, 0, 0, 0, 0) and ev.expiry == mid
    assert list(registry.expiries()) == sorted(exps + [mid])


def test_add_expiry__thirteenth__fails_too_many(registry, risk_manager, keeper, reason):
    exps = list(registry.expiries())
    last = exps[-1]
    s = smile_tuple(registry.smile(last))
    ids = []
    for j in range(1, 7):    # six more expiries after the last: 12 in all
        e = last + j * 20 * DAY
        s = scaled_smile(s, 1.1)
        ids.append(registry.queue_smile(e, s, reason, sender=risk_manager))
    travel_to(registry.change(ids[-1]).eta)
    for cid in ids:
        registry.execute(cid, sender=keeper)
    assert len(registry.expiries()) == 12
    with boa.reverts("risk: too many expiries"):
        registry.queue_smile(last + 200 * DAY, scaled_smile(s, 1.1), reason, sender=risk_manager)


def test_remove_expired__drops_passed_expiries_only(registry, keeper):
    exps = list(registry.expiries())
    travel_to(exps[1])
    assert registry.remove_expired(sender=keeper) == 2
    removed = events(registry, "ExpiryRemoved")
    assert [ev.expiry for ev in removed] == exps[:2]
    assert list(registry.expiries()) == exps[2:]
    assert not registry.is_listed(exps[0])
    assert registry.remove_expired(sender=keeper) == 0


def test_update__recalibration_near_expiry__is_a_zero_step(registry, risk_manager, keeper, reason):
    """Five hours before expiry the 7-day smile (written at deployment) implies vols above 500% at some
    strikes (its total variance was meant for 7 days).  Recalibrating at unchanged market vol, i.e.
    scaling w by T_new / T_written, is a zero step against the calibrated vols: fast path, accepted."""
    e = registry.expiries()[0]
    written = registry.smile_updated_at(e)
    travel_to(e - 5 * 3600 - registry.surface_delay())
    eta = now() + registry.surface_delay()
    recal = scaled_smile(registry.smile(e), (e - eta) / (e - written))
    cid = registry.queue_smile(e, recal, reason, sender=risk_manager)
    assert registry.change(cid).fast
    travel_to(eta)
    registry.execute(cid, sender=keeper)
    assert registry.smile_updated_at(e) == eta
    v = registry.implied_vol_at(e, wad(40000), wad(40000))
    assert abs(v - wad("0.6")) <= 10**6     # the calibrated ATM vol (WAD rounding of the scaled params)


def test_update__expiry_reached_before_execution__fails(registry, risk_manager, keeper, reason):
    """Queued so that eta is 2 hours before expiry; executing 30 min before expiry is too close, at
    expiry passed."""
    e = registry.expiries()[0]
    written = registry.smile_updated_at(e)
    travel_to(e - registry.delay() - 2 * 3600)
    eta = now() + registry.delay()
    recal = scaled_smile(registry.smile(e), 1.2 * (e - eta) / (e - written))   # vol +9.5%: slow path
    cid = registry.queue_smile(e, recal, reason, sender=risk_manager)
    assert not registry.change(cid).fast
    travel_to(e - 1800)
    with boa.reverts("risk: expiry too close"):
        registry.execute(cid, sender=keeper)
    travel_to(e)
    with boa.reverts("risk: expiry passed"):
        registry.execute(cid, sender=keeper)


def test_cancel_smile__logs_current_and_proposed(registry, risk_manager, guardian, reason):
    e = registry.expiries()[2]
    old = smile_tuple(registry.smile(e))
    new = scaled_smile(old, 1.2)
    cid = registry.queue_smile(e, new, reason, sender=risk_manager)
    registry.cancel(cid, sender=guardian)
    (ev,) = events(registry, "SmileChange")
    assert (ev.action, smile_tuple(ev.old_smile), smile_tuple(ev.new_smile)) == (risk.ACTION_CANCELLED, old, new)
    assert smile_tuple(registry.queued_smile(cid)) == new


def test_queue_smile__zero_reason__fails(registry, risk_manager):
    e = registry.expiries()[2]
    with boa.reverts("risk: reason hash required"):
        registry.queue_smile(e, smile_tuple(registry.smile(e)), ZERO_HASH, sender=risk_manager)


@st.composite
def raw_svi_in_bounds(draw):
    """Raw SVI inside the hard bounds: the static, Lee, minimum-variance and butterfly rules decide."""
    return risk.encode_smile((
        draw(st.floats(-0.5, 1.0)),
        draw(st.floats(0.01, 1.5)),
        draw(st.floats(-0.99, 0.99)),
        draw(st.floats(-1.0, 1.0)),
        draw(st.floats(0.01, 1.5)),
    ))


@given(smile=raw_svi_in_bounds(), days=st.integers(30, 700))
def test_queue_smile__raw_svi_in_bounds__verdict_matches_reference(registry, risk_manager, reason, smile, days):
    """Placed after the last listed expiry, so only the earlier neighbour constrains the calendar."""
    model = reference_model(registry)
    expiry = max(registry.expiries()[-1] + DAY, now() + days * DAY)
    _queue_expect(registry, model, risk_manager, expiry, smile, reason)


def test_queue_smile__slow_update_of_expiry_passing_before_eta__fails_expiry_passed(registry, risk_manager, reason):
    """Regression (stateful run): 12 hours before expiry a change too big for the fast path would take
    the full delay and mature after the expiry; contract and reference both refuse it as "expiry passed"
    (the reference once evaluated the step at a negative time to expiry)."""
    e = registry.expiries()[0]
    travel_to(e - 12 * 3600)
    eta = now() + registry.delay()
    big = _recalibrated(registry, e, now() + registry.surface_delay(), 1.2)
    model = reference_model(registry)
    assert model.queue_smile(str(risk_manager), e, big, reason, now()).reason == "risk: expiry passed"
    assert eta > e
    with boa.reverts("risk: expiry passed"):
        registry.queue_smile(e, big, reason, sender=risk_manager)
