import boa
import pytest

from vyopt import risk

from .helpers import scaled, ssvi_slices


@pytest.fixture(scope="module")
def calibrated_registry(admin, risk_manager, guardian):
    """A registry listing the calibration's four expiries with 'yesterday's' smiles (vols 2.5% lower than the
    calibrated ones: total variance x 0.95), and the calibration's slices.  Deployed once per module;
    titanoboa's plugin anchors every fixture, so what a test does is rolled back after it."""
    now = boa.env.evm.patch.timestamp
    slices = ssvi_slices(now)
    reg = risk.deploy_registry(admin, risk_manager, guardian, expiries=[e for e, _, _ in slices],
                               smiles=[risk.encode_smile(scaled(p, 0.95)) for _, _, p in slices])
    return reg, slices, now
