"""Fixtures of the risk-registry tests (actors by role and `registry` come from tests/conftest.py)."""
import boa
import pytest

from vyopt import risk


@pytest.fixture(scope="session")
def outsider():
    return boa.env.generate_address("outsider")


@pytest.fixture(scope="session")
def reason():
    return risk.reason_hash("calibration report 2022-04-20 (test)")


@pytest.fixture(scope="session")
def actors(admin, risk_manager, guardian, keeper, outsider):
    """Every actor by role name (use this rather than request.getfixturevalue inside a test: fixtures
    first created inside a test body break titanoboa's anchor nesting)."""
    return {"admin": admin, "risk_manager": risk_manager, "guardian": guardian, "keeper": keeper, "outsider": outsider}
