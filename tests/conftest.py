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
