"""Fixtures of the market tests: the whole protocol from vyopt.deploy_local(), a small listed chain, actors by
role, and funded accounts.  titanoboa's pytest plugin anchors every fixture and test, so each test starts
from this state."""
from types import SimpleNamespace

import boa
import pytest

from vyopt import market as mk
from vyopt.deploy import deploy_local

STRIKES = (36_000, 40_000, 44_000)   # spot 40,000; two expiries (7 and 14 days), calls and puts: 12 series


@pytest.fixture(scope="session")
def actors():
    return SimpleNamespace(**{n: boa.env.generate_address(n) for n in
                              ("lp", "lp2", "trader", "writer", "keeper", "outsider", "attacker")})


@pytest.fixture(scope="session")
def env(actors):
    """Protocol with 12 series, a 2,000,000 tUSDC pool, a trader (200,000) and a writer (100,000)."""
    p = deploy_local()
    ids = mk.list_chain(p, STRIKES, p.registry.expiries()[:2])
    mk.fund_lp(p, actors.lp, 2_000_000)
    mk.fund(p, actors.trader, 200_000)
    mk.fund(p, actors.writer, 100_000)
    return SimpleNamespace(p=p, m=p.market, ids=ids, a=actors, table=mk.series_table(p.market))


@pytest.fixture
def m(env):
    return env.m
