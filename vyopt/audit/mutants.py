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

    margin-scenario-dropped  market/margin.vy _prepare: the prepared grid counts one scenario less than the
                             registry's (n = i - 1), so the margin engine never revalues the last one (the
                             default grid's last pair is the +33% squeeze with vol +25%, the worst case of a
                             short call).  Caught by market.engine_matches_reference (its first explicit
                             example, a short at-the-money call) and by the market's state machine.
    margin-rounded-down      MarginEngine.evaluate: the worst scenario loss is truncated instead of rounded up
                             (ceil -> floor), a margin one wei short whenever sum q u is not a whole number of
                             wei (whole-contract books are exact): far inside the float reference's bar, caught
                             exactly by market.engine_rounds_for_the_protocol (its fractional-size example).
                             The margin engine's mutants are deployed with the rest of the protocol
                             (properties/_protocol.protocol_build / deploy_build).
    settlement-stamp-at-t-before
                             PriceOracle._find_settlement_round: the gallop's `updatedAt < t` becomes `<= t`, so
                             when it lands on a round stamped exactly at t it proves the round after it (a
                             later price for the expiry).  Caught by oracle.settlement_round_matches_reference
                             (its example t = the stamp of the round before the latest).

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
    Mutant("margin-scenario-dropped", "market/margin.vy",
           old="    g.n = i\n", new="    g.n = i - 1\n",
           words="the margin engine drops the last scenario of the registry's grid",
           caught_by=("market.engine_matches_reference",), deployables=("MarginEngine",)),
    Mutant("settlement-stamp-at-t-before", "PriceOracle.vy",
           old="        if lo.updated_at < t:\n            found = True\n",
           new="        if lo.updated_at <= t:\n            found = True\n",
           words="the settlement search's gallop takes a round stamped exactly at t for one before t",
           caught_by=("oracle.settlement_round_matches_reference",), deployables=("PriceOracle",)),
    Mutant("margin-rounded-down", "MarginEngine.vy",
           old="mm: uint256 = (convert(worst[i], uint256) + WAD - 1) // WAD + self._floor(acc, col, q[i])",
           new="mm: uint256 = convert(worst[i], uint256) // WAD + self._floor(acc, col, q[i])",
           words="evaluate() rounds the worst scenario loss down instead of up",
           caught_by=("market.engine_rounds_for_the_protocol",), deployables=("MarginEngine",)),
]}


def mutant_tree(mutant_id: str) -> Path:
    m = MUTANTS[mutant_id]
    src = (CONTRACTS / m.file).read_text()
    count = src.count(m.old)
    if count != 1:
        raise RuntimeError(f"mutant {mutant_id}: expected the anchor once in contracts/{m.file}, found it {count} times; "
                           "update vyopt/audit/mutants.py to the current source")
    key = hashlib.sha256((sources_digest() + mutant_id + m.file + m.old + m.new).encode()).hexdigest()[:16]
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
