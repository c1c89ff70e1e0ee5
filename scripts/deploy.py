"""ape run deploy --network ethereum:local:foundry [--account NAME] [--dry-run] [--yes]

Deploys vyopt's contracts through the connected provider and writes deployments/<network>.json.
On a local network the first test account deploys; elsewhere pass --account (an ape account alias).
"""
import click
from ape.cli import ConnectedProviderCommand, network_option

from vyopt.deploy import deploy_network


@click.command(cls=ConnectedProviderCommand)
@network_option()
@click.option("--account", "account_alias", default=None, help="ape account alias (default: test account 0 on local networks)")
@click.option("--dry-run", is_flag=True, help="estimate gas only, send nothing")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def cli(network, provider, account_alias, dry_run, yes):
    from ape import accounts

    is_local = provider.network.name in ("local", "anvil") or provider.network.name.endswith("-fork")
    account = accounts.load(account_alias) if account_alias else accounts.test_accounts[0]
    click.echo(f"network {provider.network.choice}  deployer {account.address}")
    if not dry_run and not is_local and not yes:
        click.confirm("Send the deployment transactions?", abort=True)
    manifest = deploy_network(account, provider.network.choice, dry_run=dry_run, fresh=True)
    for name, info in manifest["contracts"].items():
        click.echo(f"  {name}: {info}")
