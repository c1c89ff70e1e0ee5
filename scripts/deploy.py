"""ape run deploy --network ethereum:local:foundry                       (make deploy)
ape run deploy --network ethereum:sepolia:node --account NAME --feed 0x... \\
               --admin 0x... --risk-manager 0x... --guardian 0x... [--dry-run] [--yes]

Deploys the whole protocol with vyopt.deploy.deploy_network (pricer, risk registry, feed, oracle, collateral,
margin engine, options market, a small chain of series) and writes deployments/<network>.json (chain id,
block, addresses, bytecode hashes, constructor arguments, gas).

Local networks (and forks): the deployer defaults to test account 0, the roles to test accounts 0/1/2, the
feed and the collateral to the mocks (MockAggregator at --spot, MockERC20 tUSDC with 6 decimals).
Other networks: --account, the three roles (pairwise distinct: RiskRegistry refuses otherwise) and --feed (a
Chainlink aggregator; or --mock-feed) are required, and the script asks before sending anything (--yes
skips the question).  --dry-run sends nothing: every step runs on an anvil fork of the network, the gas of
each deployment and transaction is printed and written to deployments/<network>.dryrun.json.
A keyfile account asks for its passphrase unless APE_ACCOUNTS_<alias>_PASSPHRASE is set (ape's own rule).
"""
from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand, network_option


def _account(alias, provider):
    from ape import accounts

    if alias is None:
        if not provider.network.is_dev:
            raise click.UsageError(f"--account is required on {provider.network.choice} (an ape account alias)")
        return accounts.test_accounts[0]
    if alias.upper().startswith("TEST::"):
        return accounts.test_accounts[int(alias.split("::", 1)[1])]
    try:
        return accounts.load(alias)
    except KeyError as e:
        raise click.BadParameter(f"no ape account {alias!r} (see `ape accounts list`)", param_hint="--account") from e


def _eth(wei: int) -> str:
    return f"{wei / 10**18:.6f}"


@click.command(cls=ConnectedProviderCommand)
@network_option()
@click.option("--account", "account_alias", default=None,
              help="ape account alias, or TEST::<i> (default: test account 0 on local networks)")
@click.option("--dry-run", is_flag=True, help="estimate the gas of every step on a fork; send nothing")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@click.option("--feed", default=None, help="Chainlink aggregator address (required on non-local networks)")
@click.option("--mock-feed", is_flag=True, help="deploy the mock feed even on a non-local network")
@click.option("--spot", type=int, default=40_000, show_default=True, help="the mock feed's price, whole units")
@click.option("--collateral", default=None, help="ERC-20 collateral address (default: deploy the tUSDC mock)")
@click.option("--admin", default=None, help="admin address (default on local networks: test account 0)")
@click.option("--risk-manager", default=None, help="risk manager address (default on local networks: test account 1)")
@click.option("--guardian", default=None, help="guardian address (default on local networks: test account 2)")
@click.option("--heartbeat", type=int, default=None,
              help="oracle heartbeat in seconds for the registry (default vyopt.risk: 3600; bounds 60..90000)")
@click.option("--confirmations", type=int, default=None,
              help="blocks to wait for after each transaction (default: the network's required_confirmations)")
@click.option("--no-series", is_flag=True, help="do not list the initial chain of series")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="folder of the manifest (default: the repo's deployments/)")
def cli(network, provider, account_alias, dry_run, yes, feed, mock_feed, spot, collateral, admin, risk_manager,
        guardian, heartbeat, confirmations, no_series, out_dir):
    from vyopt import risk
    from vyopt.deploy import DeploymentError, deploy_network

    net = provider.network
    if feed and mock_feed:
        raise click.UsageError("--feed and --mock-feed exclude each other")
    if not net.is_dev and not feed and not mock_feed:
        raise click.UsageError(f"on {net.choice} pass the Chainlink feed address with --feed (or --mock-feed)")
    account = _account(account_alias, provider)
    roles = {"admin": admin, "risk_manager": risk_manager, "guardian": guardian}
    roles = roles if any(roles.values()) else None
    registry_kwargs = None
    if heartbeat is not None:
        params = risk.default_params()
        params[risk.PARAM_NAMES.index("oracle_heartbeat")] = heartbeat
        registry_kwargs = {"params": params}

    click.echo(f"network   {net.choice} (chain {provider.chain_id}){'' if net.is_dev else '  [live]'}")
    click.echo(f"deployer  {account.address}  balance {_eth(int(account.balance))}")
    click.echo(f"roles     {roles or 'test accounts 0, 1, 2 (local default)'}")
    click.echo(f"feed      {feed or 'MockAggregator at ' + str(spot)}")
    click.echo(f"collateral {collateral or 'MockERC20 tUSDC (6 decimals)'}")
    if not dry_run and not net.is_dev and not yes:
        click.confirm(f"Send the deployment from {account.address} on {net.choice} (about 30 transactions; "
                      "--dry-run shows their gas)?", abort=True)
    try:
        m = deploy_network(account, net.choice, out_dir=out_dir, dry_run=dry_run, feed=feed, collateral=collateral,
                           roles=roles, spot=spot, list_series=not no_series, registry_kwargs=registry_kwargs,
                           confirmations=confirmations, progress=click.echo)
    except DeploymentError as e:
        raise click.ClickException(str(e)) from e

    click.echo("")
    if dry_run:
        click.echo(f"dry run (nothing sent), fork of block {m['block']}; deployer nonce {m['nonce']}")
        for name, c in m["contracts"].items():
            onnet = f"  (on the network: {c['gas_estimate_network']:,})" if "gas_estimate_network" in c else ""
            click.echo(f"  {name:<24} gas {c['gas_used']:>10,}  estimate {c['gas_estimate']:>10,}{onnet}  -> {c['expected_address']}")
        for t in m["transactions"][:1]:
            click.echo(f"  {t['contract'] + '.' + t['method']:<24} gas {t['gas_used']:>10,}")
        if len(m["transactions"]) > 1:
            rest = m["transactions"][1:]
            click.echo(f"  {len(rest)} x list_series{'':<9} gas {sum(t['gas_used'] for t in rest):>10,}")
        click.echo(f"total gas {m['gas']['total']:,} at {m['gas_price_wei'] / 1e9:.3f} gwei = "
                   f"{_eth(m['estimated_cost_wei'])} (balance {_eth(m['deployer_balance_wei'])}"
                   f"{'' if m['balance_sufficient'] else ', NOT ENOUGH'})")
        click.echo(f"estimates written to {m['path']}")
        return
    click.echo(f"deployed on chain {m['chain_id']} at block {m['block']}:")
    for comp, address in m["components"].items():
        click.echo(f"  {comp:<11} {address}")
    click.echo(f"series listed: {len(m['series'])}" + (f" ({m['series_note']})" if m.get("series_note") else ""))
    click.echo(f"gas: {m['gas']['deployments']:,} deployments + {m['gas']['transactions']:,} transactions")
    click.echo(f"manifest written to {m['path']}")
