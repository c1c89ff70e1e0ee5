"""The suite tests itself: a deliberately broken pricer (vyopt/audit/mutants.py, a copy of the sources under
.build/ with one injected off-by-one) must be caught on every back-end, with a reproducer that fails on the
broken bytecode and whose example passes on the real pricer."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vyopt.audit import registry
from vyopt.audit.anvil import Anvil
from vyopt.audit.artifacts import local_artifact
from vyopt.audit.backends import BoaBackend
from vyopt.audit.mutants import MUTANTS, broken_build
from vyopt.audit.registry import Context
from vyopt.audit.runner import summary
from vyopt.audit.suite import AuditSession, Setup
from vyopt.contracts import ROOT

MUTANT = "year-off-by-one-second"


@pytest.fixture(scope="module")
def broken():
    return broken_build(MUTANT)


@pytest.fixture(scope="module")
def node():
    with Anvil() as a:
        yield a


def _load_test_function(path):
    spec = importlib.util.spec_from_file_location(f"repro_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return next(getattr(mod, n) for n in dir(mod) if n.startswith("test_"))


@pytest.fixture(scope="module")
def caught(broken, node, tmp_path_factory):
    """The broken build audited once per back-end (records cached for the tests of this module)."""
    cache = {}

    def run(backend):
        if backend not in cache:
            session = AuditSession(Setup(node_url=node.url, build=broken, label=f"mutant {MUTANT}"), database=None,
                                   reproducer_dir=tmp_path_factory.mktemp(f"repro-{backend}"))
            try:
                cache[backend] = session.run(registry.get("pricer.prices_match_reference"), backend)
            finally:
                session.close()
        return cache[backend]

    return run


@pytest.mark.parametrize("backend", ["boa", "node", "fork"])
def test_broken_pricer__on_every_backend__is_caught_with_a_reproducer(broken, caught, backend):
    prop = registry.get("pricer.prices_match_reference")
    assert prop.id in MUTANTS[MUTANT].caught_by
    record = caught(backend)
    assert record["status"] == "failed", summary(record)
    failure = record["failure"]
    assert failure["example"] is not None and "AssertionError" in failure["message"]
    assert record["target"]["contracts"]["BlackScholes"]["runtime_sha256"] == broken["BlackScholes"].runtime_sha256
    repro = Path(record["reproducer"])
    assert repro.name == f"test_pricer_prices_match_reference__{backend}.py"
    # the reproducer fails on the broken bytecode it carries ...
    with pytest.raises(AssertionError):
        _load_test_function(repro)()
    # ... and its example holds on the real pricer: the failure is the injected bug, not the example
    real = BoaBackend().deploy(local_artifact("BlackScholes"))
    prop.check(Context(backend=real._backend, contracts={"BlackScholes": real}), failure["example"])


def test_reproducer__run_by_pytest_as_a_file__fails_with_the_recorded_message(caught):
    record = caught("fork")  # found on a fork; replayed in process on the bytes the fork ran
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:ape_test", "-p", "no:cacheprovider", "-q",
                          record["reproducer"]], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "VYOPT_AUDIT_RPC": ""})
    assert out.returncode == 1, out.stdout[-2000:] + out.stderr[-2000:]
    assert "1 failed" in out.stdout
    assert record["failure"]["message"].splitlines()[0].split(": ", 1)[1][:40] in out.stdout


def test_tau_bound_mutant__domain_property__catches_the_exclusive_bound(tmp_path):
    prop = registry.get("pricer.domain_reverts_with_reason")
    assert prop.id in MUTANTS["tau-bound-exclusive"].caught_by
    session = AuditSession(Setup(build=broken_build("tau-bound-exclusive")), database=None, reproducer_dir=tmp_path)
    try:
        record = session.run(prop, "boa")
    finally:
        session.close()
    assert record["status"] == "failed", summary(record)
    assert record["failure"]["example"]["tau"] == 10 * 365 * 86400
