"""The audit's plumbing: one call interface on every back-end (same answers, same revert reasons), the node
back-end's read-only guard, and the bytecode comparison (Vyper's CBOR metadata, immutables)."""
import pytest

from vyopt.audit.anvil import Anvil
from vyopt.audit.artifacts import code_matches, local_artifact, split_initcode
from vyopt.audit.backends import BoaBackend, Reverted, RpcBackend, decode_revert
from vyopt.demo import demo_chain

WAD = 10**18
YEAR = 365 * 86400


@pytest.fixture(scope="module")
def pricer_art():
    return local_artifact("BlackScholes")


@pytest.fixture(scope="module")
def own_node(pricer_art):
    """An anvil of this module's own, with the pricer deployed on it (a node this test may write to)."""
    with Anvil() as node:
        writer = RpcBackend(node.url, kind="node", read_only=False)
        address = writer.deploy(pricer_art).address
        writer.close()
        yield node.url, address


def test_decode_revert__error_panic_and_bare__map_to_reason_panic_code_and_none():
    from eth_abi import encode

    assert decode_revert(bytes.fromhex("08c379a0") + encode(["string"], ["bs: vol out of range"])) == "bs: vol out of range"
    assert decode_revert(bytes.fromhex("4e487b71") + encode(["uint256"], [0x11])) == "panic: 0x11"
    assert decode_revert(b"") is None


def test_contract_handle__boa_and_node__same_answers_and_same_revert_reasons(pricer_art, own_node):
    node_url, address = own_node
    boa_pricer = BoaBackend().deploy(pricer_art)
    node = RpcBackend(node_url, kind="node")
    try:
        node_pricer = node.at(pricer_art, address)
        for _, s, k, v, t, r, is_call in demo_chain():
            for fn, args in (("call_price", (s, k, v, t, r)), ("put_price", (s, k, v, t, r)),
                             ("greeks", (s, k, v, t, r, is_call))):
                assert node_pricer.outcome(fn, *args).value == boa_pricer.outcome(fn, *args).value
        bad = [(10**18, 10**18, 0, YEAR, 0), (0, 10**18, WAD, YEAR, 0), (10**18, 10**18, WAD, 11 * YEAR, 0),
               (10**18, 10**18, WAD, YEAR, 2 * WAD)]
        reasons = ["bs: vol out of range", "bs: spot out of range", "bs: tau out of range", "bs: rate out of range"]
        for args, reason in zip(bad, reasons):
            for handle in (boa_pricer, node_pricer):
                with pytest.raises(Reverted) as e:
                    handle.call_price(*args)
                assert e.value.reason == reason
    finally:
        node.close()


def test_node_backend__read_only__refuses_transactions_and_deployments(pricer_art, own_node):
    node_url, address = own_node
    node = RpcBackend(node_url, kind="node")
    try:
        with pytest.raises(PermissionError):
            node.deploy(pricer_art)
        with pytest.raises(PermissionError):
            node.send(address, b"", sender=node.accounts(1)[0])
    finally:
        node.close()


def test_initcode_metadata__vyper_043__names_the_compiler_and_the_runtime_size(pricer_art):
    meta, n = split_initcode(pricer_art.initcode)
    assert meta["compiler"] == "vyper 0.4.3"
    assert meta["runtime_size"] == len(pricer_art.runtime)
    assert meta["immutables_size"] == 0
    # the runtime sits in the initcode just before the metadata tail, which never reaches the chain
    assert pricer_art.initcode[-n - len(pricer_art.runtime):-n] == pricer_art.runtime


def test_code_matches__runtime_identical__accepted_and_any_other_code_refused(pricer_art, own_node):
    node_url, address = own_node
    node = RpcBackend(node_url, kind="node")
    try:
        deployed = node.code(address)
    finally:
        node.close()
    assert code_matches(deployed, pricer_art) == (True, "runtime identical")
    flipped = bytearray(deployed)
    flipped[100] ^= 0xFF
    ok, why = code_matches(bytes(flipped), pricer_art)
    assert not ok and "from byte 100" in why
    ok, why = code_matches(deployed + b"\x00" * 32, pricer_art)  # 32 bytes the compile does not declare
    assert not ok and "immutables" in why
    assert code_matches(b"", pricer_art) == (False, "no code at the address")
