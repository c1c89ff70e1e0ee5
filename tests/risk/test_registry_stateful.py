"""Stateful fuzzing of the registry against reference.risk_registry.RegistryModel.

Random queue / execute / cancel / role changes / pause / accept_admin / remove_expired by random actors,
with time jumps (including jumps onto an eta or a deadline).  After every call the outcome is compared
with the model (same success or the same revert reason; events with the right old/new values, eta and
reason hash), and after every step the invariants are checked:
  - no parameter outside its hard bounds, the grid and every listed smile valid, listed smiles
    calendar-consistent on the grid;
  - contract state == model state (parameters, grid, smiles, roles, pause flag, status of every change),
    which together with the per-call comparison means no change executed before its eta or after its
    deadline, none by a wrong role, none twice, none after a cancel.

Steps: in the ci profile 60 examples x 30 steps (1,800 steps); in the deep profile
(HYPOTHESIS_PROFILE=deep) 1000 examples x 50 steps (50,000 steps).
"""
import boa
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from reference import risk_registry as ref
from vyopt import risk

from .helpers import now, reference_model, smile_tuple, travel_to

ZERO = "0x0000000000000000000000000000000000000000"
DAY = 86400
REASONS = [risk.reason_hash(f"maintenance record {i}") for i in range(3)]
ACTOR_NAMES = ["admin", "risk_manager", "guardian", "pending_admin", "cand0", "cand1", "cand2", "outsider"]


def caller(right):
    """Mostly the role that may make the call, sometimes anyone (wrong-role calls must revert)."""
    return st.one_of(st.just(right), st.just(right), st.just(right), st.sampled_from(ACTOR_NAMES))


def _wad_grid(g):
    return [tuple(int(x) for x in s) for s in g]


class RegistryMachine(RuleBasedStateMachine):
    @initialize()
    def deploy(self):
        self.addr = {n: boa.env.generate_address(n) for n in ("admin0", "rm0", "guardian0", "cand0", "cand1", "cand2", "outsider")}
        # three listed expiries (the machine lists more through the queue); fewer smiles keep each step cheap
        exps, smiles = risk.default_surface(now(), days=(7, 28, 91))
        self.reg = risk.deploy_registry(self.addr["admin0"], self.addr["rm0"], self.addr["guardian0"],
                                        expiries=exps, smiles=smiles)
        self.model = reference_model(self.reg)
        self.touched = set()     # change ids whose status a rule may have changed since the last check

    # ------------------------------------------------------------------ helpers
    def actor(self, name):
        m = self.model
        if name == "admin":
            return m.admin
        if name == "risk_manager":
            return m.risk_manager
        if name == "guardian":
            return m.guardian
        if name == "pending_admin":
            return m.pending_admin if m.pending_admin != ZERO else self.addr["outsider"]
        return str(self.addr[name])

    def call(self, outcome, fn, *args, sender, facts=None):
        """Run a contract call and compare with the model's outcome; commit the model on success.
        Returns (return value, success); self.logs holds the call's events."""
        self.logs = []
        event(f"{fn.fn_ast.name}: {outcome.reason}")
        if outcome.reason in ("ok", None):
            try:
                ret = fn(*args, sender=sender)
            except boa.BoaError as exc:
                assert outcome.reason is None, f"model expected success, contract reverted: {exc}"
                return None, False
            self.logs = self.reg.get_logs()
            outcome.apply(**(facts(ret) if facts else {}))
            return ret, True
        with boa.reverts(outcome.reason):
            fn(*args, sender=sender)
        return None, False

    def pick_change(self, pick):
        """Mostly a queued change (so executions and cancels happen), sometimes any id incl. unknown."""
        queued = [cid for cid, c in sorted(self.model.changes.items()) if c.status == ref.QUEUED]
        if queued and pick % 10 < 8:
            return queued[(pick // 10) % len(queued)]
        return pick % (self.model.change_count + 2)   # includes 0 and one id past the last

    def event(self, name):
        (ev,) = [e for e in self.logs if type(e).__name__ == name]
        return ev

    # ------------------------------------------------------------------ rules
    @rule(who=caller("risk_manager"), param=st.integers(0, 11), mult=st.integers(-3, 3),
          edge=st.sampled_from(["steps", "max", "max+1", "any"]), raw=st.integers(0, 10**27 + 10**26), r=st.integers(0, 2))
    def queue_param(self, who, param, mult, edge, raw, r):
        p = ref.PARAMS[min(param, 10)]
        old = self.model.params[p.id]
        allowed = max(p.step_abs, old * p.step_rel // ref.WAD)
        value = {"steps": max(0, old + mult * p.step_abs), "max": old + allowed, "max+1": old + allowed + 1, "any": raw}[edge]
        sender = self.actor(who)
        out = self.model.queue_param(sender, param, value, REASONS[r], now())
        cid, ok = self.call(out, self.reg.queue_param, param, value, REASONS[r], sender=sender)
        if ok:
            ev = self.event("ParamChange")
            assert (ev.change_id, ev.action, ev.param, ev.old_value, ev.new_value, ev.eta, ev.reason_hash) == (
                cid, 1, param, old, value, now() + self.model.delay, REASONS[r])

    @rule(who=caller("risk_manager"), i=st.integers(0, 11), new=st.booleans(), days=st.integers(0, 800),
          vol=st.sampled_from([0.5, 0.58, 0.6, 0.62, 0.7, 0.9, 1.5]), fast=st.booleans(), r=st.integers(0, 2),
          broken=st.sampled_from([None, None, None, "rho", "sigma"]))
    def queue_smile(self, who, i, new, days, vol, fast, r, broken):
        exps = sorted(self.model.smiles)
        if new or not exps:
            expiry = now() + days * DAY + 8 * 3600
        else:
            expiry = exps[i % len(exps)]
        # an SSVI slice of the default family, calibrated for T at the intended eta
        eta = now() + (self.model.surface_delay if fast else self.model.delay)
        t = max(expiry - eta, 3600) / ref.YEAR
        s = list(risk.encode_smile(risk.ssvi_smile(vol * vol * t, -0.3, 1.0)))
        if broken == "rho":
            s[2] = 10**18
        elif broken == "sigma":
            s[4] = 0
        s = tuple(s)
        sender = self.actor(who)
        out = self.model.queue_smile(sender, expiry, s, REASONS[r], now())
        cid, ok = self.call(out, self.reg.queue_smile, expiry, s, REASONS[r], sender=sender,
                            facts=lambda cid: {"fast": self.reg.change(cid).fast})
        if ok:
            c = self.reg.change(cid)
            ev = self.event("SmileChange")
            assert (ev.change_id, ev.action, ev.expiry, smile_tuple(ev.new_smile), ev.fast, ev.reason_hash) == (
                cid, 1, expiry, s, c.fast, REASONS[r])
            assert smile_tuple(ev.old_smile) == self.model.smiles.get(expiry, (0, 0, 0, 0, 0))

    @rule(who=caller("risk_manager"), i=st.integers(0, 40), ds=st.integers(-6, 6), dv=st.integers(-30, 30),
          cut=st.integers(0, 5), r=st.integers(0, 2))
    def queue_scenarios(self, who, i, ds, dv, cut, r):
        grid = list(self.model.grid)
        j = i % len(grid)
        grid[j] = (grid[j][0] + ds * 10**16, grid[j][1] + dv * 10**16)
        if cut:
            grid = grid[:-cut]
        sender = self.actor(who)
        old = list(self.model.grid)
        out = self.model.queue_scenarios(sender, grid, REASONS[r], now())
        cid, ok = self.call(out, self.reg.queue_scenarios, grid, REASONS[r], sender=sender)
        if ok:
            ev = self.event("ScenariosChange")
            assert _wad_grid(ev.old_scenarios) == old and _wad_grid(ev.new_scenarios) == grid

    @rule(who=caller("admin"), role=st.integers(0, 3),
          account=st.sampled_from(["cand0", "cand1", "cand2", "admin", "risk_manager", "guardian", "zero"]), r=st.integers(0, 2))
    def queue_role(self, who, role, account, r):
        acct = ZERO if account == "zero" else self.actor(account)
        sender = self.actor(who)
        out = self.model.queue_role(sender, role, acct, REASONS[r], now())
        old = self.model.holder(role) if role < 3 else None
        cid, ok = self.call(out, self.reg.queue_role, role, acct, REASONS[r], sender=sender)
        if ok:
            ev = self.event("RoleChange")
            assert (ev.action, ev.role, ev.old_account, ev.new_account) == (1, role, old, acct)

    @rule(pick=st.integers(0, 10**6), who=st.sampled_from(ACTOR_NAMES))
    def execute(self, pick, who):
        self._execute(self.pick_change(pick), who)

    @rule(pick=st.integers(0, 10**6), who=st.sampled_from(ACTOR_NAMES),
          where=st.sampled_from(["eta", "eta", "deadline", "eta-1", "deadline+1"]))
    def execute_at_boundary(self, pick, who, where):
        """Jump to the eta (or deadline, or one second outside the window) of a change, then execute it."""
        cid = self.pick_change(pick)
        c = self.model.changes.get(cid)
        if c is not None:
            t = {"eta-1": c.eta - 1, "eta": c.eta, "deadline": c.deadline, "deadline+1": c.deadline + 1}[where]
            if t >= now():
                travel_to(t)
        self._execute(cid, who)

    def _execute(self, cid, who):
        c = self.model.changes.get(cid)
        # expected event values, taken before the model commits
        if c is not None:
            if c.kind == ref.KIND_PARAM:
                old = self.model.params[c.target]
            elif c.kind == ref.KIND_SMILE:
                old = self.model.smiles.get(c.target, (0, 0, 0, 0, 0))
            elif c.kind == ref.KIND_SCENARIOS:
                old = list(self.model.grid)
            else:
                old = self.model.holder(c.target)
        out = self.model.execute(cid, now())
        self.touched.add(cid)
        _, ok = self.call(out, self.reg.execute, cid, sender=self.actor(who))
        if not ok:
            return
        ch = self.reg.change(cid)
        assert ch.eta <= now() <= ch.deadline and ch.status == ref.EXECUTED
        name = {ref.KIND_PARAM: "ParamChange", ref.KIND_SMILE: "SmileChange", ref.KIND_SCENARIOS: "ScenariosChange",
                ref.KIND_ROLE: "RoleChange"}[c.kind]
        ev = self.event(name)
        assert (ev.change_id, ev.action, ev.eta, ev.reason_hash) == (cid, 2, c.eta, c.reason_hash)
        if c.kind == ref.KIND_PARAM:
            assert (ev.param, ev.old_value, ev.new_value) == (c.target, old, c.payload)
        elif c.kind == ref.KIND_SMILE:
            assert (ev.expiry, smile_tuple(ev.old_smile), smile_tuple(ev.new_smile)) == (c.target, old, c.payload)
        elif c.kind == ref.KIND_SCENARIOS:
            assert _wad_grid(ev.old_scenarios) == old and _wad_grid(ev.new_scenarios) == list(c.payload)
        else:
            assert (ev.role, ev.old_account, ev.new_account) == (c.target, old, c.payload)

    @rule(pick=st.integers(0, 10**6), who=caller("guardian"))
    def cancel(self, pick, who):
        cid = self.pick_change(pick)
        sender = self.actor(who)
        out = self.model.cancel(sender, cid, now())
        self.touched.add(cid)
        _, ok = self.call(out, self.reg.cancel, cid, sender=sender)
        if ok:
            assert self.reg.change(cid).status == ref.CANCELLED

    @rule(who=caller("pending_admin"))
    def accept_admin(self, who):
        sender = self.actor(who)
        self.call(self.model.accept_admin(sender), self.reg.accept_admin, sender=sender)

    @rule(who=caller("guardian"), flag=st.booleans())
    def pause(self, who, flag):
        sender = self.actor(who)
        self.call(self.model.set_paused(sender, flag), self.reg.pause if flag else self.reg.unpause, sender=sender)

    @rule(who=st.sampled_from(ACTOR_NAMES))
    def remove_expired(self, who):
        gone = self.model.prune(now())
        assert self.reg.remove_expired(sender=self.actor(who)) == len(gone)

    @rule(seconds=st.one_of(st.sampled_from([1, 3599, 3600, 3601, DAY - 1, DAY, DAY + 1, 3 * DAY, 4 * DAY + 1]),
                            st.integers(0, 5 * DAY)))
    def time_jump(self, seconds):
        travel_to(now() + seconds)

    @rule(pick=st.integers(0, 10**6), where=st.sampled_from(["eta-1", "eta", "deadline", "deadline+1"]))
    def jump_to_change_boundary(self, pick, where):
        if not self.model.changes:
            return
        c = self.model.changes[max(1, self.pick_change(pick))] if self.pick_change(pick) in self.model.changes else None
        if c is None:
            return
        t = {"eta-1": c.eta - 1, "eta": c.eta, "deadline": c.deadline, "deadline+1": c.deadline + 1}[where]
        if t >= now():
            travel_to(t)

    # ------------------------------------------------------------------ invariants
    @invariant()
    def params_within_hard_bounds_and_equal_to_model(self):
        values = list(self.reg.all_params())
        for p in ref.PARAMS:
            assert p.lo <= values[p.id] <= p.hi
        assert values == self.model.params

    @invariant()
    def grid_valid_and_equal_to_model(self):
        g = _wad_grid(self.reg.scenarios())
        assert ref.grid_violation(g) is None
        assert g == self.model.grid

    @invariant()
    def surface_equal_to_model_and_arbitrage_free(self):
        exps = list(self.reg.expiries())
        assert exps == sorted(self.model.smiles)
        smiles = {e: smile_tuple(self.reg.smile(e)) for e in exps}
        assert smiles == self.model.smiles
        assert {e: self.reg.smile_updated_at(e) for e in exps} == self.model.written_at
        for e, s in smiles.items():
            assert ref.classify(ref.smile_param_checks(s)) in ("ok", None)
        # calendar on the grid between live neighbours (reference evaluation; a tie within tolerance is fine)
        live = [e for e in exps if e > now()]
        for e1, e2 in zip(live, live[1:]):
            p1, p2 = ref.smile_floats(smiles[e1]), ref.smile_floats(smiles[e2])
            for k in ref.K_GRID:
                w1, w2 = float(ref.svi_ref.total_variance(p1, k)), float(ref.svi_ref.total_variance(p2, k))
                assert w2 - w1 >= -(ref.w_tol(p1, k) + ref.w_tol(p2, k))

    @invariant()
    def roles_and_changes_equal_to_model(self):
        m = self.model
        assert (str(self.reg.admin()), str(self.reg.risk_manager()), str(self.reg.guardian()), str(self.reg.pending_admin())) == (
            m.admin, m.risk_manager, m.guardian, m.pending_admin)
        assert len({m.admin, m.risk_manager, m.guardian}) == 3
        assert self.reg.paused() == m.paused
        assert self.reg.change_count() == m.change_count
        # every queued change once (just after its queue call) and every change an execute/cancel touched
        self.touched.add(m.change_count)
        for cid in self.touched:
            c = m.changes.get(cid)
            ch = self.reg.change(cid)
            if c is None:
                assert ch.status == 0
                continue
            assert (ch.kind, ch.status, ch.target, ch.eta, ch.deadline, ch.fast, ch.reason_hash) == (
                c.kind, c.status, c.target, c.eta, c.deadline, c.fast, c.reason_hash)
        self.touched = set()


# ci: 60 examples (the profile) x 30 steps = 1,800 steps, about a minute.  deep: the profile's 5000
# examples would be ~250k steps (hours); lowered to 1000 examples x 50 steps = 50,000 steps per run.
_deep = settings.default.max_examples > 1000
RegistryMachine.TestCase.settings = settings(
    settings.default,
    max_examples=1000 if _deep else settings.default.max_examples,
    stateful_step_count=50 if _deep else 30,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
TestRegistryMachine = RegistryMachine.TestCase
