"""ABI JSON of every deployable, for wallets and front-ends: abi/<Name>.json (committed to the repository).

    python -m vyopt.abi            (re)write abi/ from contracts/ (make abi; make compile and make setup call it;
                                   skipped when neither contracts/ nor abi/ changed since the last write)
    python -m vyopt.abi --check    exit 1 and name the files that are missing, stale or unexpected

The ABI is what Vyper 0.4.3 reports for contracts/<Name>.vy (its front end only: parsing and type checking,
no code generation, ~1 s a contract).  Files are deterministic: two-space indented JSON, keys sorted inside
every entry, entries in the compiler's order, one trailing newline.  tests/unit/test_abi.py fails when abi/
does not match the sources.

API
    DEPLOYABLES                       the contracts written (vyopt.deploy.PROTOCOL)
    ABI_DIR                           <repo>/abi
    abi_of(name) -> list              the ABI of contracts/<name>.vy
    render(abi) -> str                the file's text
    write(out_dir=ABI_DIR) -> list[Path]
    check(out_dir=ABI_DIR, expected=None) -> list[str]   problems (empty: up to date)
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .contracts import CONTRACTS, ROOT, source_path
from .deploy import PROTOCOL

DEPLOYABLES = PROTOCOL
ABI_DIR = ROOT / "abi"


def abi_of(name: str) -> list:
    from vyper.compiler import compile_from_file_input
    from vyper.compiler.input_bundle import FileInput, FilesystemInputBundle

    src = source_path(name)
    fi = FileInput(contents=src.read_text(), source_id=0, path=Path(f"{name}.vy"), resolved_path=src)
    return compile_from_file_input(fi, input_bundle=FilesystemInputBundle([CONTRACTS]), output_formats=["abi"])["abi"]


def render(abi: list) -> str:
    return json.dumps(abi, indent=2, sort_keys=True) + "\n"


def write(out_dir: Path = ABI_DIR, names=DEPLOYABLES) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        p = out_dir / f"{name}.json"
        text = render(abi_of(name))
        if not p.exists() or p.read_text() != text:
            p.write_text(text)
        written.append(p)
    return written


def check(out_dir: Path = ABI_DIR, names=DEPLOYABLES, expected: dict | None = None) -> list[str]:
    """Problems of the ABI folder: missing, stale or unexpected files (expected: name -> text, else compiled)."""
    out_dir = Path(out_dir)
    problems = []
    for name in names:
        p = out_dir / f"{name}.json"
        if not p.exists():
            problems.append(f"{p.name}: missing")
        elif p.read_text() != (expected[name] if expected else render(abi_of(name))):
            problems.append(f"{p.name}: differs from contracts/{name}.vy")
    expected = {f"{n}.json" for n in names}
    problems += [f"{p.name}: not a deployable" for p in sorted(out_dir.glob("*.json")) if p.name not in expected]
    return problems


STAMP = ROOT / ".build" / "abi.stamp"


def _state(out_dir: Path) -> str:
    """The sources' digest and the ABI files' content: when both are as at the last write, nothing to do."""
    import hashlib

    from .contracts import sources_digest

    h = hashlib.sha256(sources_digest().encode())
    for p in sorted(Path(out_dir).glob("*.json")):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m vyopt.abi", description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="only compare; exit 1 when abi/ is not up to date")
    ap.add_argument("--out", type=Path, default=ABI_DIR, help="folder (default: the repo's abi/)")
    a = ap.parse_args(argv)
    if a.check:
        problems = check(a.out)
        for p in problems:
            print(f"abi: {p}", file=sys.stderr)
        if problems:
            print("abi: run `make abi` (python -m vyopt.abi) and commit abi/", file=sys.stderr)
        return 1 if problems else 0
    stamp = STAMP if a.out.resolve() == ABI_DIR else None
    if stamp and stamp.exists() and stamp.read_text() == _state(a.out):
        print("abi: abi/ is up to date with contracts/")
        return 0
    for p in write(a.out):
        print(f"abi: {p.relative_to(ROOT) if p.is_relative_to(ROOT) else p}")
    if stamp:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(_state(a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
