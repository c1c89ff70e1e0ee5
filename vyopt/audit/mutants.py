"""Deliberately broken builds, for the suite to test itself: a copy of contracts/ under .build/ with one
injected bug, compiled on demand.  The copy is made at run time from the current sources, so the mutant
follows the code; if its anchor text disappears from the sources, `broken_build` fails loudly and this
catalogue must be updated.

    year-off-by-one-second   price(): r*tau is divided by 31,536,001 s instead of 31,536,000 (an off-by-one
                             in a rounding division).  The price then uses a rate 3.2e-8 too small: a
                             rate-dependent error of ~3e-8 * K * r * tau, far above 1e-14 * spot whenever
                             r * tau is not tiny.  Caught by prices_match_reference and put_call_parity.
    tau-bound-exclusive      check_domain: `tau <= MAX_TAU` becomes `tau < MAX_TAU`, so exactly 10 years,
                             which the spec includes, reverts.  Caught by domain_reverts_with_reason (the
                             strategy samples every bound and its neighbours).

Why not "+1 on the final division" (the issue's example): the price's bar is 1e-14 * spot + 1 wei, where
the 1 wei is the published truncation allowance, so a price one wei high is inside the specification almost
everywhere; only at a clamp (C = S exactly) does it break the bound C <= S, which random examples rarely hit.

API
    MUTANTS: dict[id, Mutant]
    mutant_tree(mutant_id) -> Path          the patched copy of contracts/ (created if needed)
    broken_build(mutant_id) -> dict[name, Artifact]   the deployables compiled from that copy
"""
from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..contracts import CONTRACTS, ROOT, sources_digest
from .artifacts import compile_tree

BUILD = ROOT / ".build" / "audit-mutants"


@dataclass(frozen=True)
class Mutant:
    id: str
    file: str              # relative to contracts/
    old: str
    new: str
    words: str
    caught_by: tuple
    deployables: tuple = ("BlackScholes",)


MUTANTS = {m.id: m for m in [
    Mutant("year-off-by-one-second", "math/black_scholes.vy",
           old="rt = unsafe_div(unsafe_mul(unsafe_mul(rate, convert(tau, int256)), 10**18), 31536000)",
           new="rt = unsafe_div(unsafe_mul(unsafe_mul(rate, convert(tau, int256)), 10**18), 31536001)",
           words="price(): the rate term r*tau is divided by 31,536,001 seconds instead of 31,536,000",
           caught_by=("pricer.prices_match_reference", "pricer.put_call_parity")),
    Mutant("tau-bound-exclusive", "math/black_scholes.vy",
           old='assert tau <= MAX_TAU, "bs: tau out of range"',
           new='assert tau < MAX_TAU, "bs: tau out of range"',
           words="check_domain rejects tau = 10 years, which the specification includes",
           caught_by=("pricer.domain_reverts_with_reason",)),
]}


def mutant_tree(mutant_id: str) -> Path:
    m = MUTANTS[mutant_id]
    src = (CONTRACTS / m.file).read_text()
    count = src.count(m.old)
    if count != 1:
        raise RuntimeError(f"mutant {mutant_id}: expected the anchor once in contracts/{m.file}, found it {count} times; "
                           "update vyopt/audit/mutants.py to the current source")
    key = hashlib.sha256((sources_digest() + mutant_id).encode()).hexdigest()[:16]
    out = BUILD / f"{mutant_id}-{key}" / "contracts"
    if not (out / m.file).exists():
        tmp = out.with_name(f"contracts.tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(CONTRACTS, tmp, ignore=shutil.ignore_patterns("*.json", "__pycache__"))
        (tmp / m.file).write_text(src.replace(m.old, m.new))
        try:
            tmp.rename(out)
        except OSError:  # another worker made it first
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def broken_build(mutant_id: str) -> dict:
    tree = mutant_tree(mutant_id)
    return {name: compile_tree(tree, name) for name in MUTANTS[mutant_id].deployables}
