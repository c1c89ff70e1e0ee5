"""Deep campaigns share hypothesis' example database through Redis: a failure found by one worker is the first
example every other worker runs.  A real redis-server (Debian package redis-server) is started here on
loopback and stopped at the end.

Worker pool A: the suite under pytest-xdist (-n 2, deep profile) with the broken pricer on a node, the one
property sharded over both workers, the database on Redis.  Worker B: a fresh process state (new Redis
client, empty local directory, another seed) replays A's saved failure as its very first example, where the
same run without the database starts with a passing example.
"""
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from vyopt.audit import registry
from vyopt.audit.anvil import Anvil, free_port
from vyopt.audit.database import example_database
from vyopt.audit.mutants import broken_build
from vyopt.audit.profiles import AuditProfile
from vyopt.audit.suite import AuditSession, Setup
from vyopt.contracts import ROOT

PROPERTY = "pricer.prices_match_reference"
MUTANT = "year-off-by-one-second"


def _redis_missing() -> str | None:
    if shutil.which("redis-server") is None:
        return "redis-server not found (Debian: apt-get install redis-server)"
    try:
        import redis  # noqa: F401
    except ImportError:
        return "the redis Python client is not installed (pip install redis)"
    return None


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    missing = _redis_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Redis test: {missing}")
        pytest.skip(missing)
    import redis

    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(workdir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = redis.Redis(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 20
        while True:
            try:
                if client.ping():
                    break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_redis_database__failure_found_by_one_worker__is_replayed_first_by_another(redis_url, tmp_path):
    import redis

    with Anvil() as node:
        # A: two xdist workers, one property in two shards, deep profile, the database on Redis
        cfg = {"backends": ["node"], "node_url": node.url, "mutant": MUTANT, "properties": [PROPERTY], "shards": 2,
               "profile": "deep", "database": redis_url, "database_dir": str(tmp_path / "a-local"),
               "record_dir": str(tmp_path / "records"),
               "reproducer_dir": str(tmp_path / "repro")}
        (tmp_path / "cfg.json").write_text(json.dumps(cfg))
        out = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "tests" / "audit" / "test_suite.py"), "-p", "no:ape_test",
                              "-p", "no:cacheprovider", "-q", "-n", "2", "--audit-config", str(tmp_path / "cfg.json")],
                             cwd=ROOT, capture_output=True, text=True, timeout=600,
                             env={**os.environ, "HYPOTHESIS_PROFILE": "deep"})
        assert out.returncode == 1, out.stdout[-3000:] + out.stderr[-3000:]
        records = [json.loads(p.read_text()) for p in (tmp_path / "records").rglob("*.json")]
        assert sorted(tuple(r["shard"]) for r in records) == [(0, 2), (1, 2)]
        assert all(r["status"] == "failed" for r in records)
        assert len({r["target"]["url"] for r in records}) == 1
        found = [r["failure"]["example"] for r in records]
        client = redis.Redis.from_url(redis_url)
        assert client.keys("vyopt-audit:*"), "nothing was saved to Redis"
        client.close()

        # B: a new client, an empty local directory and another seed: the saved failure comes first
        broken = broken_build(MUTANT)
        other = AuditProfile("ci", workers=0, shards=1, round_size=None, stateful_steps=10, seed=777)
        prop = registry.get(PROPERTY)

        def run_b(database, max_examples=None):
            s = AuditSession(Setup(node_url=node.url, build=broken), database=database, profile=other,
                             max_examples=max_examples)
            try:
                return s.run(prop, "node")
            finally:
                s.close()

        # without the database, B's first example (its seed's own) passes: what fails first below is A's find
        first_alone = run_b(None, max_examples=1)
        assert first_alone["status"] == "passed" and first_alone["examples"] == 1
        replayed = run_b(example_database(redis_url, local_dir=tmp_path / "b-local"))
    assert replayed["status"] == "failed"
    assert replayed["first_failure_at"] == 1
    assert replayed["first_example"] in found
