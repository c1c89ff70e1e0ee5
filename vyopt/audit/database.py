"""Hypothesis' example database for audit campaigns: a directory by default, Redis when a URL is given.

    example_database(None)                      .hypothesis/audit in the repo (git-ignored)
    example_database("/some/dir")               that directory
    example_database("redis://127.0.0.1:6379/0")  hypothesis.extra.redis.RedisExampleDatabase on that server,
                                                mirrored into the local directory (MultiplexedDatabase), so
                                                a machine keeps what it found even when Redis goes away.
    local_dir=...                               another local directory than .hypothesis/audit

Every property uses one database key for all back-ends, builds and workers (registry.Property.digest), so a
failing example saved by any of them is the first example the others run.  Needs the `redis` Python
client (pip package `redis`) for URLs; a directory needs nothing.
"""
from __future__ import annotations

from pathlib import Path

from ..contracts import ROOT

DEFAULT_DIR = ROOT / ".hypothesis" / "audit"


def is_redis_url(spec: str | None) -> bool:
    return bool(spec) and str(spec).startswith(("redis://", "rediss://", "unix://"))


def example_database(spec: str | None = None, local_dir: Path | None = None):
    from hypothesis.database import DirectoryBasedExampleDatabase, MultiplexedDatabase

    if not is_redis_url(spec):
        return DirectoryBasedExampleDatabase(str(Path(spec) if spec else (local_dir or DEFAULT_DIR)))
    try:
        from hypothesis.extra.redis import RedisExampleDatabase
        from redis import Redis
    except ImportError as e:  # pragma: no cover - depends on the install
        raise RuntimeError("a Redis example database needs the `redis` Python package (pip install redis)") from e
    shared = RedisExampleDatabase(Redis.from_url(str(spec)), key_prefix=b"vyopt-audit:")
    return MultiplexedDatabase(DirectoryBasedExampleDatabase(str(local_dir or DEFAULT_DIR)), shared)


def redact(url: str) -> str:
    """The URL without its password (reports are archived; credentials are not)."""
    from urllib.parse import urlsplit, urlunsplit

    u = urlsplit(url)
    if u.password is None:
        return url
    netloc = (u.username or "") + ":***@" + (u.hostname or "") + (f":{u.port}" if u.port else "")
    return urlunsplit((u.scheme, netloc, u.path, u.query, u.fragment))


def describe(spec: str | None) -> str:
    if is_redis_url(spec):
        return f"redis {redact(str(spec))}, mirrored in {DEFAULT_DIR.relative_to(ROOT)}"
    return f"directory {spec or DEFAULT_DIR.relative_to(ROOT)}"
