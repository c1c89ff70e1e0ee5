"""The audit's properties: what a property is, and where the suite finds them.

A property is a rule about deployed contracts, stated in words for the report and checked by code that runs
unchanged on every back-end (it only talks to `ctx.contract(name)` handles, see backends.Contract).

    differential(id=..., contracts=(...), words=..., bar=..., strategy=<zero-arg callable -> strategy>,
                 examples=<zero-arg callable -> list of explicit examples, run first>, cost=1.0,
                 gas_samples=None <fewer eth_estimateGas per function on a node: each re-executes the call
                 many times, which dominates a heavy view's time>, backend_cost={} <kind -> extra cost factor>)
        decorates check(ctx, example).  Each hypothesis example is drawn from the strategy; the check
        raises AssertionError when the rule is broken.  Read-only: runs on the node itself.
    stateful(id=..., contracts=(...), words=..., mutates=True)
        decorates a hypothesis RuleBasedStateMachine subclass whose __init__ takes the context.  It sends
        transactions, so it runs on boa or on a fork, never on the audited node.

Plugging in a contract: add a module to vyopt/audit/properties/ that decorates its properties; nothing else
changes.  `properties()` imports every module of that package; `ctx.contract(name)` resolves names from the
deployment manifest (or from a local deployment on boa), so the properties of RiskRegistry, PriceOracle or
Market only name their contract.  A property whose contracts are not part of the audited deployment is
reported as "not deployed" instead of run.

ctx.metric(name, value) records a number per example (e.g. error / bar) for the report's distributions.
ctx.note(text) records a sentence for the report about this run (e.g. "the feed is not the mock: price moves
skipped"); each distinct note is kept once.  ctx.cache is a dict a property may keep per-run data in (read-only
properties see one block, so e.g. the registry's surface is read once per run, not per example).

API
    Property, DifferentialProperty, StatefulProperty
    differential(...), stateful(...)                    decorators (register into REGISTRY)
    properties() -> list[Property]                      every registered property, in a stable order
    get(property_id) -> Property
"""
from __future__ import annotations

import hashlib
import importlib
import inspect
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable

REGISTRY: dict[str, "Property"] = {}


@dataclass
class Property:
    id: str
    contracts: tuple
    words: str
    bar: str = ""
    mutates: bool = False
    cost: float = 1.0                      # relative cost of one example (the ci profile lowers counts by it)
    module: str = ""
    gas_samples: int | None = None         # on a node, eth_estimateGas calls per function (None: the back-end's 30)
    backend_cost: dict = field(default_factory=dict)   # back-end kind -> extra cost factor (e.g. {"boa": 4})

    def cost_on(self, kind: str) -> float:
        """The cost of one example on a back-end: py-evm interprets a market valuation (~1-2M gas) 10-40x slower
        than anvil, so a property may declare that an example costs more on boa."""
        return self.cost * self.backend_cost.get(kind, 1.0)

    @property
    def kind(self) -> str:
        return "stateful" if isinstance(self, StatefulProperty) else "differential"

    def digest(self) -> bytes:
        """The hypothesis database key: the property id and the source of its check, and nothing about the
        back-end, the build or the worker, so a failure saved by one run is replayed first by every other."""
        h = hashlib.sha256(self.id.encode())
        h.update(inspect.getsource(self.target).encode())
        return b"vyopt-audit:" + h.digest()

    def describe(self) -> dict:
        return {"id": self.id, "kind": self.kind, "contracts": list(self.contracts), "words": self.words,
                "bar": self.bar, "mutates": self.mutates, "module": self.module}


@dataclass
class DifferentialProperty(Property):
    strategy: Callable[[], Any] = None
    check: Callable = None
    examples: Callable[[], list] | None = None      # explicit examples run first, on every back-end

    @property
    def target(self):
        return self.check


@dataclass
class StatefulProperty(Property):
    machine: type = None
    step_count: int | None = None

    @property
    def target(self):
        return self.machine


def _register(p: Property):
    if p.id in REGISTRY and REGISTRY[p.id].module != p.module:
        raise ValueError(f"property id {p.id!r} registered twice ({REGISTRY[p.id].module}, {p.module})")
    REGISTRY[p.id] = p
    return p


def differential(*, id: str, contracts, words: str, strategy, bar: str = "", cost: float = 1.0, examples=None,
                 gas_samples: int | None = None, backend_cost: dict | None = None):
    def deco(fn):
        _register(DifferentialProperty(id=id, contracts=tuple(contracts), words=" ".join(words.split()), bar=bar,
                                       mutates=False, cost=cost, module=fn.__module__, strategy=strategy, check=fn,
                                       examples=examples, gas_samples=gas_samples, backend_cost=dict(backend_cost or {})))
        return fn

    return deco


def stateful(*, id: str, contracts, words: str, bar: str = "", cost: float = 1.0, step_count: int | None = None,
             gas_samples: int | None = None, backend_cost: dict | None = None):
    def deco(cls):
        _register(StatefulProperty(id=id, contracts=tuple(contracts), words=" ".join(words.split()), bar=bar,
                                   mutates=True, cost=cost, module=cls.__module__, machine=cls, step_count=step_count,
                                   gas_samples=gas_samples, backend_cost=dict(backend_cost or {})))
        return cls

    return deco


_loaded = False


def properties() -> list[Property]:
    global _loaded
    if not _loaded:
        from . import properties as pkg

        for m in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
            if not m.name.startswith("_"):
                importlib.import_module(f"{pkg.__name__}.{m.name}")
        _loaded = True
    return [REGISTRY[k] for k in sorted(REGISTRY)]


def get(property_id: str) -> Property:
    properties()
    return REGISTRY[property_id]


@dataclass
class Context:
    """What a property sees: contract handles on one back-end, and a sink for per-example metrics."""

    backend: Any
    contracts: dict = field(default_factory=dict)          # name -> backends.Contract
    metrics: dict = field(default_factory=dict)            # name -> [float]
    metric_keys: dict = field(default_factory=dict)        # name -> [key of the example each value belongs to]
    example_key: str = ""                                  # set by the runner before each example
    notes: list = field(default_factory=list)              # sentences for the report, each once
    cache: dict = field(default_factory=dict)              # per-run data a property keeps between examples

    def contract(self, name: str):
        try:
            return self.contracts[name]
        except KeyError:
            raise LookupError(f"{name} is not part of the audited deployment") from None

    def metric(self, name: str, value: float) -> None:
        self.metrics.setdefault(name, []).append(float(value))
        self.metric_keys.setdefault(name, []).append(self.example_key)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)
