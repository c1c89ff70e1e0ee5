"""Helpers shared by the registry tests (no fixtures here)."""
import boa

from reference import risk_registry as ref
from vyopt import risk

wad = risk.wad
ZERO_HASH = b"\x00" * 32


def events(contract, name):
    """Events called `name` logged by the contract's last call, in order."""
    return [e for e in contract.get_logs() if type(e).__name__ == name]


def now():
    return boa.env.evm.patch.timestamp


def travel_to(t):
    """Move the block timestamp to t (forward only)."""
    dt = t - now()
    assert dt >= 0
    if dt:
        boa.env.time_travel(seconds=dt)


def queue_and_execute_param(registry, risk_manager, param, value, reason):
    """Queue, wait for the eta, execute; returns the ParamChange events of the execute call."""
    cid = registry.queue_param(param, value, reason, sender=risk_manager)
    travel_to(registry.change(cid).eta)
    registry.execute(cid)
    return events(registry, "ParamChange")


def smile_tuple(s):
    """Contract struct -> plain int tuple."""
    return tuple(int(x) for x in tuple(s))


def scaled_smile(s_wad, factor):
    """The same smile with total variance scaled by `factor` (a and b scaled: vol moves by sqrt(factor))."""
    a, b, rho, m, sigma = smile_tuple(s_wad)
    return (int(a * factor), int(b * factor), rho, m, sigma)


def reference_model(registry):
    """A RegistryModel mirroring the registry's current state."""
    exps = list(registry.expiries())
    return ref.RegistryModel(
        admin=str(registry.admin()),
        risk_manager=str(registry.risk_manager()),
        guardian=str(registry.guardian()),
        delay=registry.delay(),
        surface_delay=registry.surface_delay(),
        grace=registry.grace_period(),
        params=[registry.param(i) for i in range(ref.N_PARAMS)],
        grid=[tuple(int(x) for x in s) for s in registry.scenarios()],
        smiles={e: smile_tuple(registry.smile(e)) for e in exps},
        written_at={e: registry.smile_updated_at(e) for e in exps},
    )
