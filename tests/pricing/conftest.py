import pytest

from vyopt.contracts import deployer


@pytest.fixture(scope="session")
def pricer():
    return deployer("BlackScholes").deploy()


@pytest.fixture(scope="session")
def math_harness():
    return deployer("testing/MathHarness").deploy()
