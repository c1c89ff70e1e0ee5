"""The auditor's suite: every registered property (vyopt/audit/properties/) of a deployed contract, on every
selected back-end.

One test per (property, back-end[, shard]); a failure message carries the shrunk example and the path of its
reproducer.  Back-end selection, the audited deployment and the example database: see conftest.py.
"""
from vyopt.audit import registry
from vyopt.audit.runner import summary


def test_property__on_backend__holds_for_every_example(audit_session, audit_property, audit_backend, audit_shard):
    record = audit_session.run(registry.get(audit_property), audit_backend, shard=audit_shard)
    assert record["status"] == "passed", summary(record)
    assert record["examples"] > 0, summary(record)
