"""Reproducers: a failing property's shrunk example as a ready-to-run pytest file, and the replay it calls.

A reproducer is written next to the report (reproducers/test_<property>__<back-end>.py) together with one
JSON file per contract holding the ABI, the address and the exact runtime code the failure was found on
(read back from the back-end, so a reproducer found on a node or a fork carries the deployed bytes).
Running it needs no node:

    pytest -p no:ape_test reports/audit/<stamp>/reproducers/test_<property>__<back-end>.py

replays the example once in titanoboa on those bytes, at the same address.  With VYOPT_AUDIT_RPC=<url> it
replays on that node instead (read-only properties call it directly; state machines run on a fork of it
started for the replay), at the recorded addresses.

API
    write_reproducer(record, prop, ctx, out_dir) -> Path
    replay(property_id, contracts, example=None, program=None)      raises the property's AssertionError
"""
from __future__ import annotations

import hashlib
import json
import os
import pprint
import re
from pathlib import Path

TEMPLATE = '''"""Reproducer written by `vyopt audit` for a failed property.

property   {pid}
           {words}
back-end   {backend} (chain id {chain_id}, block {block}{client})
contracts  {contracts}
failure    {message}

Replays in process on the runtime bytecode that failed (the JSON files beside this one), no node needed:
    pytest -p no:ape_test {relpath}
On a node instead (the addresses below must hold that code):
    VYOPT_AUDIT_RPC=http://127.0.0.1:8545 pytest -p no:ape_test {relpath}
"""
from pathlib import Path

from vyopt.audit.reproducer import replay

HERE = Path(__file__).resolve().parent
CONTRACTS = {contracts_map}
{payload}


def {fname}():
    replay({pid!r}, CONTRACTS, {call_args})
'''


def _slug(s: str) -> str:
    return re.sub(r"[^a-zA-Z0-9]+", "_", s).strip("_").lower()


def write_reproducer(record: dict, prop, ctx, out_dir: Path) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t = record["target"]
    backend = t.get("backend", "?")
    contracts_map = {}
    for name, c in ctx.contracts.items():
        if name not in prop.contracts:
            continue
        code = ctx.backend.code(c.address)
        sha = "0x" + hashlib.sha256(code).hexdigest()
        fname = f"{_slug(name)}-{sha[2:14]}.json"
        (out_dir / fname).write_text(json.dumps({"name": name, "address": c.address, "runtime_sha256": sha,
                                                 "runtime": "0x" + code.hex(), "abi": c.artifact.abi}, indent=1))
        contracts_map[name] = fname
    f = record["failure"] or {}
    shard = record.get("shard") or [0, 1]
    stem = f"test_{_slug(prop.id)}__{_slug(backend)}" + (f"_shard{shard[0] + 1}of{shard[1]}" if shard[1] > 1 else "")
    path = out_dir / f"{stem}.py"
    if f.get("steps"):
        payload = "PROGRAM = '''\n" + "\n".join(f["steps"]).replace("'''", "\\'\\'\\'") + "\n'''"
        call_args = "program=PROGRAM"
    else:
        payload = "EXAMPLE = " + pprint.pformat(f.get("example"), width=110, sort_dicts=False)
        call_args = "example=EXAMPLE"
    try:
        relpath = str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        relpath = str(path)
    client = f", {t['client']}" if t.get("client") else ""
    text = TEMPLATE.format(
        pid=prop.id, words=prop.words[:300], backend=backend, chain_id=t.get("chain_id"), block=t.get("block"),
        client=client, message=(f.get("message") or "").splitlines()[0][:300] if f.get("message") else "",
        contracts=", ".join(f"{n} at {ctx.contracts[n].address}" for n in contracts_map),
        relpath=relpath, contracts_map="{" + ", ".join(f"{n!r}: HERE / {v!r}" for n, v in contracts_map.items()) + "}",
        payload=payload, fname=f"{stem}__shrunk_example_fails", call_args=call_args)
    path.write_text(text)
    return path


def _load(contracts: dict):
    from .artifacts import Artifact

    out = {}
    for name, p in contracts.items():
        d = json.loads(Path(p).read_text())
        art = Artifact(name=d["name"], abi=d["abi"], initcode=b"", runtime=bytes.fromhex(d["runtime"][2:]), metadata={},
                       source=str(p), sources_sha256="")
        out[name] = (art, d["address"])
    return out


def replay(property_id: str, contracts: dict, example=None, program: str | None = None):
    """Run one property once on the recorded example (or state-machine program); raises what the check raises."""
    from . import registry
    from .backends import BoaBackend, RpcBackend, open_fork
    from .registry import Context, StatefulProperty
    from .runner import bind_machine

    prop = registry.get(property_id)
    arts = _load(contracts)
    url = os.environ.get("VYOPT_AUDIT_RPC")
    if url:
        backend = open_fork(url) if isinstance(prop, StatefulProperty) else RpcBackend(url, kind="node")
        handles = {n: backend.at(a, addr) for n, (a, addr) in arts.items()}
    else:
        backend = BoaBackend()
        handles = {n: backend.place(a, addr, a.runtime) for n, (a, addr) in arts.items()}
    ctx = Context(backend=backend, contracts=handles)
    try:
        if isinstance(prop, StatefulProperty):
            _run_program(bind_machine(prop, ctx), prop.machine.__name__, program, property_id)
        else:
            prop.check(ctx, example)
    finally:
        backend.close()


def _run_program(machine, name: str, program: str, label: str):
    """Execute hypothesis' printed program statement by statement, checking the machine's invariants after
    the constructor and after every step, as hypothesis did when it found the failure."""
    import ast
    from collections import defaultdict

    from hypothesis import settings

    namespace = {name: machine}
    tree = ast.parse(program)
    try:
        for stmt in tree.body:
            code = compile(ast.Module(body=[stmt], type_ignores=[]), f"<{label} program>", "exec")
            exec(code, namespace)  # noqa: S102 - the program this audit recorded
            if "teardown()" in ast.unparse(stmt):
                continue
            state = namespace.get("state")
            if state is not None:
                state.check_invariants(settings(), lambda *_: None, defaultdict(float))
    finally:
        state = namespace.get("state")
        if state is not None:
            state._audit_state.close()  # leave the back-end as it was (teardown may not have run)
