"""Shared test set-up: hypothesis profiles and the in-process EVM.

HYPOTHESIS_PROFILE=ci (default) is the fast profile `make test` runs; HYPOTHESIS_PROFILE=deep is for
long campaigns.  Seeds are derived from the test (derandomize) in ci so CI runs are reproducible.
"""
import os

import boa
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "deep",
    max_examples=5000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session", autouse=True)
def _fast_boa():
    boa.env.enable_fast_mode()
    yield


# Actors by role and a registry with the vyopt defaults: shared by the risk, oracle and market tests.
@pytest.fixture(scope="session")
def admin():
    return boa.env.generate_address("admin")


@pytest.fixture(scope="session")
def risk_manager():
    return boa.env.generate_address("risk_manager")


@pytest.fixture(scope="session")
def guardian():
    return boa.env.generate_address("guardian")


@pytest.fixture(scope="session")
def keeper():
    """Anyone: executes matured changes, updates the oracle, liquidates."""
    return boa.env.generate_address("keeper")


@pytest.fixture(scope="module")
def registry(admin, risk_manager, guardian):
    from vyopt import risk

    return risk.deploy_registry(admin, risk_manager, guardian)
