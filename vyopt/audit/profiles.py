"""Audit profiles: how a campaign is spread over processes.  The number of examples per property is NOT set
here: it is hypothesis' registered profile of the same name (tests/conftest.py: `ci` 60, `deep` 5000), which
the suite loads through HYPOTHESIS_PROFILE, so the audit and `make test` never disagree on it.

    ci    one process; each property once per back-end, with a fixed seed (the same examples every run);
          state machines 10 steps per example (an example is a whole transaction sequence).
    deep  pytest-xdist across all cores (-n auto); each property is split into as many shards as workers,
          each shard runs its share of the examples in rounds of at most 250 with its own fixed seed; every
          round starts by replaying the example database, so a failure saved by one worker (or, with a
          Redis URL, by another machine) is replayed first by every other worker at its next round.
          State machines 30 steps.

A property's `cost` (registry) divides its example count (implied vol ~2, state machines ~6): it only
lowers the cost of an expensive property, never raises a count.
"""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class AuditProfile:
    name: str
    workers: str | int          # pytest-xdist -n value; 0 = in process
    shards: int                 # test items per (property, back-end)
    round_size: int | None      # examples per hypothesis run inside a shard (None: all at once)
    stateful_steps: int
    seed: int = 20261124


def _cores() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


PROFILES = {
    "ci": AuditProfile("ci", workers=0, shards=1, round_size=None, stateful_steps=10),
    "deep": AuditProfile("deep", workers="auto", shards=_cores(), round_size=250, stateful_steps=30),
}


def get_profile(name: str) -> AuditProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown audit profile {name!r} (choose {', '.join(PROFILES)})") from None
