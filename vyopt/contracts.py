"""Where the Vyper sources live and how the in-process EVM loads them (one compile per contract per process)."""
from __future__ import annotations

import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = ROOT / "contracts"


def source_path(name: str) -> Path:
    """Path of a deployable or mock by name: 'BlackScholes' or 'testing/MockAggregator'."""
    return CONTRACTS / f"{name}.vy"


@functools.cache
def deployer(name: str):
    """boa deployer (load_partial) for a contract; cached so each source compiles once per process."""
    import boa

    return boa.load_partial(str(source_path(name)))
