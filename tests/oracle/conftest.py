"""Fixtures of the oracle tests: a mock feed (8 decimals) and the oracle on the shared default registry
(actors and `registry` come from tests/conftest.py)."""
import pytest

from vyopt import risk


@pytest.fixture(scope="module")
def feed():
    """Chainlink-like mock, 8 decimals, answer 40,000.00000000 stamped at deployment."""
    return risk.deploy_mock_feed(8, 40_000 * 10**8)


@pytest.fixture(scope="module")
def oracle(feed, registry):
    return risk.deploy_oracle(feed, registry)
