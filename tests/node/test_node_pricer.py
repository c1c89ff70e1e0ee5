"""The pricer on a real node: deployed through ape to the anvil that ape-foundry starts on loopback; the
same bytecode answers exactly as in the in-process EVM."""
import pytest

from vyopt.demo import demo_chain

pytestmark = pytest.mark.node


@pytest.fixture(scope="module")
def node_pricer():
    from ape import accounts, networks, project

    if networks.active_provider is None or networks.provider.name != "foundry":
        pytest.fail("the ape pytest plugin should have connected to ethereum:local:foundry (ape-config.yaml)")
    return project.BlackScholes.deploy(sender=accounts.test_accounts[0])


def test_node_pricer__demo_chain__answers_exactly_as_in_process(node_pricer):
    from vyopt.deploy import deploy_local

    local = deploy_local().pricer
    for _, s, k, v, t, r, is_call in demo_chain():
        assert node_pricer.call_price(s, k, v, t, r) == local.call_price(s, k, v, t, r)
        assert node_pricer.put_price(s, k, v, t, r) == local.put_price(s, k, v, t, r)
        assert tuple(node_pricer.greeks(s, k, v, t, r, is_call)) == tuple(local.greeks(s, k, v, t, r, is_call))


def test_node_pricer__bad_input__reverts_with_reason_on_the_node(node_pricer):
    import ape

    with ape.reverts("bs: vol out of range"):
        node_pricer.call_price(10**18, 10**18, 0, 86400, 0)
