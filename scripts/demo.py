"""ape run demo --network ethereum:local:foundry

Deploys the pricer to the connected node and prints prices and greeks of a small option chain next to the
independent reference model's numbers.
"""
import click
from ape.cli import ConnectedProviderCommand, network_option

from vyopt.demo import run_pricing_demo


@click.command(cls=ConnectedProviderCommand)
@network_option()
def cli(network, provider):
    from ape import accounts, project

    account = accounts.test_accounts[0]
    pricer = project.BlackScholes.deploy(sender=account)
    click.echo(f"BlackScholes deployed at {pricer.address} on {provider.network.choice}\n")
    click.echo(run_pricing_demo(pricer))
