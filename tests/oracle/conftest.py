"""Fixtures of the oracle tests: a registry with the default limits, a mock feed (8 decimals) and the oracle."""
import boa
import pytest

from vyopt import risk


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
    return boa.env.generate_address("keeper")


@pytest.fixture(scope="module")
def registry(admin, risk_manager, guardian):
    return risk.deploy_registry(admin, risk_manager, guardian)


@pytest.fixture(scope="module")
def feed():
    """Chainlink-like mock, 8 decimals, answer 40,000.00000000 stamped at deployment."""
    return risk.deploy_mock_feed(8, 40_000 * 10**8)


@pytest.fixture(scope="module")
def oracle(feed, registry):
    return risk.deploy_oracle(feed, registry)
