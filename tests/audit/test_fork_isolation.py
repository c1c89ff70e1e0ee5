"""The fork back-end never touches the node it forks from: after state-changing properties and a deployment
on the fork, the original node's head (number, hash, state root), its accounts' balances and nonces and the
audited contract's code are exactly as before, while the fork itself did move."""
from vyopt.audit import registry
from vyopt.audit.anvil import Anvil
from vyopt.audit.artifacts import local_artifact
from vyopt.audit.backends import RpcBackend
from vyopt.audit.mutants import broken_build
from vyopt.audit.runner import summary
from vyopt.audit.suite import AuditSession, Setup


def _state(node: RpcBackend, address: str) -> dict:
    accounts = node.accounts(10)
    return {"head": node.head(),
            "balances": {a: node.balance(a) for a in accounts},
            "nonces": {a: int(node.rpc("eth_getTransactionCount", a, "latest"), 16) for a in accounts},
            "code": node.code(address)}


def test_fork_backend__state_changing_properties__leave_the_original_node_unchanged():
    with Anvil() as origin:
        writer = RpcBackend(origin.url, kind="node", read_only=False)
        try:
            address = writer.deploy(local_artifact("BlackScholes")).address
            block = writer.head()["number"]
            before = _state(writer, address)
            # 12 examples (4 transaction sequences per run, cost 3) lower the cost: the subject is the origin
            session = AuditSession(Setup(node_url=origin.url, deployment={"BlackScholes": address}, block=block,
                                         label="fork isolation"), database=None, max_examples=12)
            try:
                prop = registry.get("pricer.transactions_change_nothing_but_fees")
                assert prop.mutates
                for kind in ("fork", "node"):  # on the node back-end a state-changing property runs on a fork too
                    record = session.run(prop, kind)
                    assert record["status"] == "passed", summary(record)
                    assert record["target"]["ran_on"] in ("fork", "node>fork")
                fork = session.targets["fork"].backend
                fork.deploy(broken_build("year-off-by-one-second")["BlackScholes"])
                sender = fork.accounts(1)[0]
                fork.send(sender, b"", sender=fork.accounts(2)[1], value=10**18)
                fork_head = fork.head()
            finally:
                session.close()
            after = _state(writer, address)
        finally:
            writer.close()
    assert fork_head["number"] > block  # the fork did mine our transactions
    assert after == before
