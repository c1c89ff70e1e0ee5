"""Run one property on one back-end with hypothesis, and record what happened for the report.

`run_property` drives hypothesis programmatically (the same engine `@given` uses in tests): examples are
drawn from the property's strategy, a failing example is shrunk, and the shrunk example (or, for a state
machine, the shrunk sequence of steps) is captured on hypothesis' final replay and written as a
ready-to-run pytest reproducer.  It returns a plain dict (the record), which the pytest suite saves per test
and the report merges:

    property, target (back-end info, contracts, bytecode hashes), status passed|failed, examples
    (executions of the check, shrinking included), invalid (rejected by assume), seconds, timeline
    [(examples, seconds)], metrics {name: [values]}, gas {contract.fn: [gas]}, notes [str], failure, reproducer

Settings come from hypothesis' loaded profile (settings.default) with: the example count divided by the
property's cost on that back-end (Property.cost_on), no deadline, one bug per property, no `explain` phase (it
re-runs the failing example many times), the example database given by the caller, and a fixed seed per
(property, shard, round) instead of `derandomize` (which would forbid the database): the same examples on every
back-end and every run (fewer on a back-end where the property costs more), after the database's saved failures.
"""
from __future__ import annotations

import contextlib
import hashlib
import time
import traceback
from pathlib import Path

from hypothesis import HealthCheck, Phase, example, given, seed, settings
from hypothesis.control import current_build_context
from hypothesis.errors import UnsatisfiedAssumption
from hypothesis.reporting import with_reporter
from hypothesis.stateful import run_state_machine_as_test

from .registry import Context, DifferentialProperty, Property, StatefulProperty

MAX_POINTS = 4000


def _settings(n: int, database, steps: int | None):
    base = settings.default
    # never derandomize (that forbids a database): runs are made reproducible by an explicit seed instead
    kw = dict(max_examples=max(1, n), deadline=None, database=database, derandomize=False,
              report_multiple_bugs=False, print_blob=False,
              phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
              suppress_health_check=list(set(base.suppress_health_check) | {HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                             HealthCheck.filter_too_much}))
    if steps is not None:
        kw["stateful_step_count"] = steps
    return settings(base, **kw)


def _message(e: BaseException) -> str:
    out = "".join(traceback.format_exception_only(type(e), e)).strip()
    for sub in getattr(e, "exceptions", ())[:3]:   # a Flaky (exception group): what failed in the first place
        out += "\n  caused by: " + "".join(traceback.format_exception_only(type(sub), sub)).strip()
    return out


class _Recorder:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.n = 0
        self.invalid = 0
        self.t0 = time.perf_counter()
        self.timeline = [(0, 0.0)]
        self.failure = None
        self.first_failure_at = None
        self.first_example = None

    def tick(self):
        self.n += 1
        self.timeline.append((self.n, time.perf_counter() - self.t0))


def _is_final() -> bool:
    try:
        return bool(current_build_context().is_final)
    except Exception:
        return False


def _run_differential(prop: DifferentialProperty, ctx: Context, rec: _Recorder, s, seed_value):
    def test(example):
        if rec.first_example is None:
            rec.first_example = example
        ctx.example_key = hashlib.sha256(repr(example).encode()).hexdigest()[:16]
        try:
            prop.check(ctx, example)
        except UnsatisfiedAssumption:
            rec.invalid += 1
            raise
        except BaseException as e:
            if rec.first_failure_at is None:
                rec.first_failure_at = rec.n + 1
            failure = {"example": example, "message": _message(e), "error": type(e).__name__,
                       "traceback": traceback.format_exc(limit=-6)}
            # the shrunk example is the one hypothesis replays last (is_final); an explicit example fails as is
            if _is_final() or rec.failure is None or not rec.failure.get("final"):
                rec.failure = {**failure, "final": _is_final()}
            raise
        finally:
            rec.tick()

    test.__name__ = prop.id.replace(".", "__")
    wrapped = given(prop.strategy())(test)
    for ex in (prop.examples() if prop.examples else []):
        wrapped = example(ex)(wrapped)
    if seed_value is not None:
        wrapped = seed(seed_value)(wrapped)
    wrapped = s(wrapped)
    # one key per property (not per back-end or build): see registry.Property.digest
    wrapped._hypothesis_internal_database_key = prop.digest()
    wrapped()


def bind_machine(prop: StatefulProperty, ctx: Context):
    """The property's state machine class bound to a context: each run starts in a snapshot of the back-end
    (anvil evm_snapshot / boa anchor) that teardown reverts, so runs do not see each other's transactions."""
    base = prop.machine

    class Bound(base):
        def __init__(self):
            self._audit_state = contextlib.ExitStack()
            self._audit_state.enter_context(ctx.backend.snapshot())
            try:
                super().__init__(ctx)
            except BaseException:
                self._audit_state.close()
                raise

        def teardown(self):
            try:
                super().teardown()
            finally:
                self._audit_state.close()

    Bound.__name__ = Bound.__qualname__ = base.__name__
    return Bound


def _run_stateful(prop: StatefulProperty, ctx: Context, rec: _Recorder, s, seed_value):
    machine = bind_machine(prop, ctx)
    lines: list[str] = []

    def factory():
        rec.tick()
        return machine()

    factory._hypothesis_internal_add_digest = prop.digest()
    if seed_value is not None:
        factory._hypothesis_internal_use_seed = seed_value
    with with_reporter(lines.append):
        try:
            run_state_machine_as_test(factory, settings=s)
        except BaseException as e:
            steps = _program(lines)
            rec.failure = {"steps": steps, "message": _message(e), "error": type(e).__name__,
                           "traceback": traceback.format_exc(limit=-6), "machine": prop.machine.__name__}
            raise


def _program(lines: list[str]) -> list[str]:
    """The falsifying program hypothesis printed on its final run: from `state = Machine()` to
    `state.teardown()`, with multi-line steps kept whole."""
    text = "\n".join(lines)
    start = text.find("state = ")
    end = text.find("state.teardown()", start)
    if start < 0:
        return []
    body = text[start:end + len("state.teardown()")] if end >= 0 else text[start:]
    return body.splitlines()


def _thin(points, k=MAX_POINTS):
    if len(points) <= k:
        return points
    step = len(points) / k
    return [points[int(i * step)] for i in range(k)] + [points[-1]]


def property_seed(prop_id: str, base_seed: int, shard: int, round_: int) -> int:
    """A fixed seed per (property, shard, round): the same examples on every back-end and every run."""
    h = int.from_bytes(hashlib.sha256(prop_id.encode()).digest()[:4], "big")
    return base_seed * 1_000_003 + h + 7919 * shard + round_


class _Failed(Exception):
    pass


def _run_rounds(prop, ctx, rec, sizes, database, base_seed, i_shard, stateful_steps):
    """Run the rounds of one property; raises _Failed (the failure recorded in rec) at the first failing round."""
    for r, size in enumerate(sizes):
        seed_value = property_seed(prop.id, base_seed, i_shard, r)
        s = _settings(size, database, stateful_steps if isinstance(prop, StatefulProperty) else None)
        try:
            if isinstance(prop, StatefulProperty):
                _run_stateful(prop, ctx, rec, s, seed_value)
            else:
                _run_differential(prop, ctx, rec, s, seed_value)
        except BaseException as e:  # noqa: BLE001 - every failure is recorded; KeyboardInterrupt re-raised
            if isinstance(e, KeyboardInterrupt):
                raise
            if rec.failure is None:  # e.g. Flaky, or an error outside the check
                rec.failure = {"example": None, "message": _message(e), "error": type(e).__name__,
                               "traceback": traceback.format_exc(limit=-6)}
            raise _Failed() from e


def run_property(prop: Property, ctx: Context, *, target_info: dict, max_examples: int, database=None,
                 base_seed: int = 20261124, round_size: int | None = None,
                 stateful_steps: int | None = 10, reproducer_dir: Path | None = None, shard: tuple[int, int] = (0, 1)) -> dict:
    """Run `prop` against the contracts in `ctx`; return the record (see the module docstring)."""
    cost = prop.cost_on(ctx.backend.kind)
    n_total = max(1, int(max_examples / cost))
    i_shard, n_shards = shard
    n_mine = max(1, n_total // n_shards + (1 if i_shard < n_total % n_shards else 0))
    sizes = [n_mine] if not round_size else [min(round_size, n_mine - k) for k in range(0, n_mine, round_size)]
    ctx.metrics, ctx.metric_keys, ctx.notes, ctx.cache = {}, {}, [], {}
    ctx.backend.gas_log = {}  # gas samples (and the node's per-function estimate budget) are per property run
    saved_samples = ctx.backend.gas_samples
    if prop.gas_samples is not None and not ctx.backend.free_gas:
        ctx.backend.gas_samples = min(saved_samples, prop.gas_samples)
    rec = _Recorder(ctx)
    status = "passed"
    try:
        _run_rounds(prop, ctx, rec, sizes, database, base_seed, i_shard, stateful_steps)
    except _Failed:
        status = "failed"
    finally:
        ctx.backend.gas_samples = saved_samples
    seconds = time.perf_counter() - rec.t0
    record = {
        "property": prop.describe(),
        "target": target_info,
        "shard": list(shard),
        "status": status,
        "examples": rec.n,
        "examples_requested": n_mine,
        "max_examples": max_examples,
        "cost": cost,
        "invalid": rec.invalid,
        "first_failure_at": rec.first_failure_at,
        "first_example": rec.first_example,
        "seconds": seconds,
        "timeline": _thin(rec.timeline),
        "metrics": {k: v[-20000:] for k, v in ctx.metrics.items()},
        "metric_keys": {k: v[-20000:] for k, v in ctx.metric_keys.items()},
        "gas": {k: v for k, v in ctx.backend.gas_log.items()},
        "notes": list(ctx.notes),
        "failure": rec.failure,
        "reproducer": None,
    }
    if status == "failed" and reproducer_dir is not None:
        from .reproducer import write_reproducer

        try:
            record["reproducer"] = str(write_reproducer(record, prop, ctx, Path(reproducer_dir)))
        except Exception as e:  # the failure stays recorded even if the reproducer cannot be written
            record["reproducer_error"] = _message(e)
    return record


def summary(record: dict) -> str:
    """One paragraph for a pytest assertion message."""
    p, t = record["property"], record["target"]
    head = f"{p['id']} on {t.get('backend')}: {record['status']} after {record['examples']} examples"
    f = record.get("failure")
    if not f:
        return head
    what = f"example {f['example']!r}" if f.get("example") is not None else ("steps:\n    " + "\n    ".join(f.get("steps") or []))
    out = f"{head}\n  {f['message']}\n  shrunk {what}"
    if record.get("reproducer"):
        out += f"\n  reproducer: {record['reproducer']}"
    return out
