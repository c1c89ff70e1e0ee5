"""Fixtures for the calibration tests (helpers live in calib_helpers.py, imported relatively by the tests)."""
import pytest
from .calib_helpers import DERIBIT_CHAIN


@pytest.fixture(scope="session")
def real_chain_report(tmp_path_factory):
    """The shared BTC chain calibrated once per session (plots on, as the command does)."""
    from vyopt.calibration import calibrate

    out = tmp_path_factory.mktemp("calibration_btc")
    return calibrate(DERIBIT_CHAIN, out_dir=out), out
