"""Shared set-up of the node tests: the session's anvil (started by ape's pytest plugin) and a deployment on it."""
from __future__ import annotations

import pytest


def node_url(provider) -> str:
    """The JSON-RPC URL of an ape provider."""
    return getattr(provider, "http_uri", None) or provider.uri


def deploy_on_session_node(tmp_path_factory, name: str):
    """(manifest, out folder, provider): the whole protocol deployed by vyopt.deploy.deploy_network on the
    session's anvil (ethereum:local:foundry, ape-config.yaml) from test account 0."""
    from ape import accounts, networks

    from vyopt.deploy import deploy_network

    provider = networks.active_provider
    if provider is None or provider.name != "foundry":
        pytest.fail("the ape pytest plugin should have connected to ethereum:local:foundry (ape-config.yaml)")
    out = tmp_path_factory.mktemp(name)
    manifest = deploy_network(accounts.test_accounts[0], provider.network.choice, out_dir=out)
    return manifest, out, provider
