"""Where the Vyper sources live and how the in-process EVM loads them (one compile per contract per process).

titanoboa 0.2.8 caches compiler output on disk, and its cache key can miss an edit in a module imported two
levels down (seen here: a changed normal.vy still ran the old bytecode).  We therefore point the cache at a
directory named after a hash of every .vy file in contracts/, so any source change starts a fresh cache.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = ROOT / "contracts"


def sources_digest() -> str:
    """sha256 over the path and content of every Vyper source under contracts/."""
    h = hashlib.sha256()
    for p in sorted(CONTRACTS.rglob("*.vy")):
        h.update(str(p.relative_to(CONTRACTS)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def source_path(name: str) -> Path:
    """Path of a deployable or mock by name: 'BlackScholes' or 'testing/MockAggregator'."""
    return CONTRACTS / f"{name}.vy"


@functools.cache
def _boa():
    import boa
    import boa.interpret

    boa.interpret.set_cache_dir(str(ROOT / ".build" / "boa-cache" / sources_digest()[:16]))
    return boa


@functools.cache
def deployer(name: str):
    """boa deployer (load_partial) for a contract; cached so each source compiles once per process."""
    return _boa().load_partial(str(source_path(name)))


def load(name: str, *args, **kwargs):
    """Deploy a contract in the in-process EVM (titanoboa)."""
    return deployer(name).deploy(*args, **kwargs)
