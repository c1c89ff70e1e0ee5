"""The audit refuses a deployment whose bytecode is not a local compile of these sources, or does not match its
own manifest, or sits on another chain; it writes no report then.  A matching deployment is accepted."""
import json

import pytest

from vyopt.audit.anvil import Anvil
from vyopt.audit.artifacts import local_artifact, sha256_hex
from vyopt.audit.backends import RpcBackend
from vyopt.audit.command import run_audit
from vyopt.audit.manifest import BytecodeMismatch, load_manifest, verify_deployment
from vyopt.audit.mutants import broken_build


def _manifest(chain_id, address, code_hash, block=1):
    return {"network": "ethereum:local", "chain_id": chain_id, "block": block,
            "contracts": {"BlackScholes": {"address": address, "runtime_bytecode_sha256": code_hash}}}


@pytest.fixture(scope="module")
def node_with_real_and_broken():
    with Anvil() as node:
        w = RpcBackend(node.url, kind="node", read_only=False)
        real = w.deploy(local_artifact("BlackScholes")).address
        bad = w.deploy(broken_build("year-off-by-one-second")["BlackScholes"]).address
        yield node.url, w.chain_id, {"real": (real, sha256_hex(w.code(real))), "broken": (bad, sha256_hex(w.code(bad)))}
        w.close()


def test_verify_deployment__the_real_pricer__is_accepted_as_the_local_compile(node_with_real_and_broken):
    url, chain_id, c = node_with_real_and_broken
    (check,) = verify_deployment(_manifest(chain_id, *c["real"]), url)
    assert check["matches_local_compile"] and check["manifest_matches_chain"]
    assert check["deployed_sha256"] == local_artifact("BlackScholes").runtime_sha256


def test_verify_deployment__broken_code_with_an_honest_manifest__is_refused(node_with_real_and_broken):
    url, chain_id, c = node_with_real_and_broken
    with pytest.raises(BytecodeMismatch, match="differs from the local compile"):
        verify_deployment(_manifest(chain_id, *c["broken"]), url)


def test_verify_deployment__manifest_hash_not_the_chain_s__is_refused(node_with_real_and_broken):
    url, chain_id, c = node_with_real_and_broken
    address, _ = c["real"]
    with pytest.raises(BytecodeMismatch, match="the manifest says"):
        verify_deployment(_manifest(chain_id, address, c["broken"][1]), url)


def test_verify_deployment__another_chain_or_an_empty_address__is_refused(node_with_real_and_broken):
    url, chain_id, c = node_with_real_and_broken
    with pytest.raises(BytecodeMismatch, match="chain id"):
        verify_deployment(_manifest(chain_id + 1, *c["real"]), url)
    with pytest.raises(BytecodeMismatch, match="no code at the address"):
        verify_deployment(_manifest(chain_id, "0x" + "11" * 20, c["real"][1]), url)


def test_audit_command__mismatching_manifest__refuses_and_writes_no_report(node_with_real_and_broken, tmp_path):
    url, chain_id, c = node_with_real_and_broken
    path = tmp_path / "deployment.json"
    path.write_text(json.dumps(_manifest(chain_id, *c["broken"])))
    assert load_manifest(path)["contracts"]["BlackScholes"]["address"] == c["broken"][0]
    out = tmp_path / "reports"
    with pytest.raises(BytecodeMismatch, match="refusing to audit"):
        run_audit(node_url=url, network="ethereum:local", manifest_path=path, backends=("node",), out_root=out,
                  max_examples=1)
    assert list(out.iterdir()) == []
