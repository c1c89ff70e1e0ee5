"""Small helpers every vyopt report uses: a folder with a markdown page, its JSON twin, and PNG figures.

Reproducibility: the JSON is canonical (sorted keys, floats as Python's shortest round-trip repr, NaN and
infinities as null) and carries the SHA-256 of its own content; PNGs are written without the
matplotlib version/date metadata, so the same inputs give byte-identical files.  Reports never contain
wall-clock times or absolute paths.

API
    canonical_json(obj) -> str           deterministic JSON text (no content_hash added)
    content_hash(obj) -> str             "sha256:<hex>" of canonical_json(obj)
    write_json(path, obj) -> str         writes obj plus {"content_hash": ...}; returns the hash
    md_table(headers, rows) -> str       a GitHub-flavoured markdown table
    fmt(x, digits=4) -> str              a number for a table cell ("-" for None/NaN)
    save_png(fig, path) -> None          Agg, fixed dpi, no metadata; closes the figure
    file_sha256(path) -> str             "sha256:<hex>" of a file's bytes (for input provenance)
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

DPI = 110


def _plain(obj):
    """Convert numpy scalars/arrays, tuples and non-finite floats into JSON-ready plain objects."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_plain(v) for v in obj.tolist()]
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    return obj


def canonical_json(obj) -> str:
    return json.dumps(_plain(obj), sort_keys=True, indent=1, allow_nan=False)


def content_hash(obj) -> str:
    text = json.dumps(_plain(obj), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def write_json(path, obj: dict) -> str:
    """Write obj with an added "content_hash" (of obj without it); return the hash."""
    body = {k: v for k, v in _plain(obj).items() if k != "content_hash"}
    h = content_hash(body)
    body["content_hash"] = h
    Path(path).write_text(canonical_json(body) + "\n")
    return h


def file_sha256(path) -> str:
    return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()


def fmt(x, digits: int = 4) -> str:
    """Fixed-point with `digits` decimals; scientific for very large/small magnitudes; "-" for None/NaN."""
    if x is None:
        return "-"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        f = float(x)
        if not math.isfinite(f):
            return "-"
        if f != 0.0 and (abs(f) >= 1e7 or abs(f) < 10.0 ** (-digits)):
            return f"{f:.{digits - 1}e}"
        return f"{f:.{digits}f}"
    return str(x)


def md_table(headers, rows) -> str:
    head = "| " + " | ".join(str(h) for h in headers) + " |"
    sep = "|" + "|".join("---" for _ in headers) + "|"
    body = ["| " + " | ".join(c if isinstance(c, str) else fmt(c) for c in r) + " |" for r in rows]
    return "\n".join([head, sep, *body])


def save_png(fig, path) -> None:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)
