"""Compiled contracts as the audit sees them, and the check that deployed code is the audited code.

What is compared (Vyper 0.4.3).  The compiler appends a CBOR metadata tail to the *initcode*, not to the
runtime code: [integrity sum of all sources, runtime size, data-section sizes, immutables size,
{"vyper": [0, 4, 3]}], followed by its own 2-byte length.  What the chain stores at the address is the
runtime code (which ends with its data section, e.g. the selector table) followed by the values of the
immutables.  `code_matches` therefore compares the deployed code byte for byte with the local runtime and
requires the remainder to be exactly the immutables' size (0 for the pricer); the immutables' values are
constructor arguments, so they are reported, not compared.  The metadata itself never reaches the chain: we
decode it from the local initcode and record the compiler version and the integrity sum in the report,
which pins the sources the runtime was compiled from.

API
    Artifact                         name, abi, initcode, runtime, metadata (decoded CBOR), source, ...
    Artifact.runtime_sha256          "0x" + sha256 of the runtime code (the same hash as the manifest's)
    local_artifact(name) -> Artifact         contracts/<name>.vy compiled by titanoboa (cached per process)
    compile_tree(root, name) -> Artifact     contracts/<name>.vy of another source tree (e.g. a mutant copy)
    split_initcode(initcode) -> (metadata: dict, cbor_len: int)
    code_matches(deployed, artifact) -> (bool, why)
    sha256_hex(code) -> str
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..contracts import ROOT, deployer


def sha256_hex(code: bytes) -> str:
    return "0x" + hashlib.sha256(bytes(code)).hexdigest()


def split_initcode(initcode: bytes) -> tuple[dict, int]:
    """Decode Vyper's CBOR tail of an initcode: ({integrity_sum, runtime_size, data_sizes, immutables_size,
    compiler}, bytes taken by the tail including its 2-byte length)."""
    import cbor2

    n = int.from_bytes(initcode[-2:], "big")
    items = cbor2.loads(initcode[-n:-2])
    integrity, runtime_size, data_sizes, immutables, compiler = items
    version = ".".join(str(x) for x in compiler.get("vyper", []))
    return ({"integrity_sum": "0x" + bytes(integrity).hex(), "runtime_size": int(runtime_size),
             "data_section_sizes": [int(x) for x in data_sizes], "immutables_size": int(immutables),
             "compiler": f"vyper {version}"}, n)


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list
    initcode: bytes
    runtime: bytes
    metadata: dict
    source: str                      # path of the main source, relative to the repo when inside it
    sources_sha256: str              # sha256 over the source tree it was compiled from
    extra: dict = field(default_factory=dict)

    @property
    def runtime_sha256(self) -> str:
        return sha256_hex(self.runtime)

    @property
    def immutables_size(self) -> int:
        return self.metadata.get("immutables_size", 0)

    def describe(self) -> dict:
        return {"name": self.name, "source": self.source, "sources_sha256": self.sources_sha256,
                "runtime_sha256": self.runtime_sha256, "runtime_bytes": len(self.runtime), **self.metadata}


def code_matches(deployed: bytes, art: Artifact) -> tuple[bool, str]:
    """True when `deployed` is the artifact's runtime followed by exactly its immutables section."""
    deployed = bytes(deployed)
    if not deployed:
        return False, "no code at the address"
    if deployed[: len(art.runtime)] != art.runtime:
        # find the first differing byte to make the refusal concrete
        i = next((i for i, (a, b) in enumerate(zip(deployed, art.runtime)) if a != b), min(len(deployed), len(art.runtime)))
        return False, (f"deployed code ({len(deployed)} bytes, {sha256_hex(deployed)}) differs from the local compile "
                       f"of {art.source} ({len(art.runtime)} bytes, {art.runtime_sha256}) from byte {i}")
    tail = len(deployed) - len(art.runtime)
    if tail != art.immutables_size:
        return False, f"deployed code carries {tail} bytes after the runtime; the compile declares {art.immutables_size} of immutables"
    return True, "runtime identical" + (f", {tail} bytes of immutables" if tail else "")


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.vy")):
        h.update(str(p.relative_to(root)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _rel(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(ROOT))
    except ValueError:
        return str(p)


def _from_compiler_data(name: str, cd, source: Path, tree: Path) -> Artifact:
    from vyper.compiler.output import build_abi_output

    meta, _ = split_initcode(cd.bytecode)
    return Artifact(name=name, abi=build_abi_output(cd), initcode=bytes(cd.bytecode), runtime=bytes(cd.bytecode_runtime),
                    metadata=meta, source=_rel(source), sources_sha256=_tree_digest(tree))


@functools.cache
def local_artifact(name: str) -> Artifact:
    """The repo's own contracts/<name>.vy, through titanoboa's compile cache (vyopt.contracts)."""
    d = deployer(name)
    return _from_compiler_data(name, d.compiler_data, ROOT / "contracts" / f"{name}.vy", ROOT / "contracts")


def compile_tree(root: Path, name: str) -> Artifact:
    """contracts/<name>.vy of the source tree `root` (a directory laid out like contracts/), compiled by vyper
    directly.  The result is cached on disk next to the tree, keyed by the tree's digest (a compile of the
    pricer takes ~3 s), and never through titanoboa's cache, which can miss edits two imports down."""
    from vyper.compiler.input_bundle import FileInput, FilesystemInputBundle
    from vyper.compiler.phases import CompilerData
    from vyper.compiler.settings import Settings

    root = Path(root).resolve()
    digest = _tree_digest(root)
    cache = root.parent / f".artifact-{name.replace('/', '_')}-{digest[:16]}.json"
    src = root / f"{name}.vy"
    if cache.exists():
        d = json.loads(cache.read_text())
        return Artifact(name=name, abi=d["abi"], initcode=bytes.fromhex(d["initcode"]), runtime=bytes.fromhex(d["runtime"]),
                        metadata=d["metadata"], source=_rel(src), sources_sha256=digest)
    fi = FileInput(contents=src.read_text(), source_id=0, path=Path(f"{name}.vy"), resolved_path=src)
    cd = CompilerData(fi, FilesystemInputBundle([root]), Settings())
    art = _from_compiler_data(name, cd, src, root)
    tmp = cache.with_name(cache.name + f".{os.getpid()}")
    tmp.write_text(json.dumps({"abi": art.abi, "initcode": art.initcode.hex(), "runtime": art.runtime.hex(),
                               "metadata": art.metadata}))
    tmp.replace(cache)  # atomic: parallel workers never read half a file
    return art
