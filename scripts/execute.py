"""ape run execute [--registry ADDRESS] [--account ALIAS] [--log FILE] [--change ID ...] [--dry-run]

Execute every queued registry change whose delay has passed (anyone may) and append its maintenance
record; list the changes still waiting and those that lapsed.  Logic: vyopt.maintenance.execute.
"""
import json
from datetime import timedelta

import click
from ape.cli import ConnectedProviderCommand, network_option


@click.command(cls=ConnectedProviderCommand, short_help="Execute matured risk-registry changes")
@network_option()
@click.option("--registry", "registry_address", default=None,
              help="RiskRegistry address [default: deployments/<network>.json]")
@click.option("--account", "account_alias", default=None,
              help="ape account alias or TEST::N [default on a local node: test account 0]")
@click.option("--log", "log_path", type=click.Path(dir_okay=False), default="reports/maintenance/log.sqlite",
              show_default=True, help="maintenance log (SQLite)")
@click.option("--who", "who_name", default=None, help="person or desk behind the execution")
@click.option("--change", "only", type=int, multiple=True, help="execute only these change ids")
@click.option("--dry-run", is_flag=True, help="list and eth_call only; send and record nothing")
@click.option("--yes", is_flag=True, help="do not ask for confirmation on a live network")
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
def cli(network, provider, registry_address, account_alias, log_path, who_name, only, dry_run, yes, as_json):
    from ape import accounts

    from vyopt.maintenance import MaintenanceLog
    from vyopt.maintenance import execute as ex
    from vyopt.maintenance.chain import network_context, registry_at, resolve_registry

    ctx = network_context()
    is_local = ctx["chain_id"] in (31337, 1337)
    try:
        registry = registry_at(resolve_registry(ctx["network"], registry_address))
    except ValueError as e:
        raise click.ClickException(str(e)) from e
    if account_alias:
        account = (accounts.test_accounts[int(account_alias.split("::", 1)[1])]
                   if account_alias.upper().startswith("TEST::") else accounts.load(account_alias))
    elif is_local:
        account = accounts.test_accounts[0]
    else:
        raise click.ClickException("pass --account (any account may execute)")
    if not dry_run and not is_local and not yes:
        click.confirm("Send the execute transactions of every matured change?", abort=True)
    out = (lambda s: None) if as_json else click.echo
    out(f"network {ctx['network']} (chain {ctx['chain_id']})  registry {registry.address}  sender {account.address}")
    log = None if dry_run else MaintenanceLog(log_path)  # a dry run creates no file
    res = ex.execute(registry, account, log, network=ctx["network"], chain_id=ctx["chain_id"],
                     who_name=who_name, dry_run=dry_run, only=list(only) or None, echo=out)
    if as_json:
        click.echo(json.dumps({**res, "dry_run": dry_run, "log": str(log_path)}, indent=1, sort_keys=True))
    else:
        for r in res["executed"]:
            if r["status"] != "executed":  # executed ones were printed as they were sent
                click.echo(f"{r['status']} #{r['change_id']} {r['kind']} {r['label']}")
        for r in res["reverting"]:
            click.echo(f"NOT executable #{r['change_id']} {r['kind']} {r['label']}: {r['reason']}")
        for r in res["waiting"]:
            click.echo(f"waiting #{r['change_id']} {r['kind']} {r['label']}: eta in "
                       f"{timedelta(seconds=r['eta'] - res['now'])}")
        for r in res["lapsed"]:
            click.echo(f"lapsed #{r['change_id']} {r['kind']} {r['label']}: deadline passed "
                       f"{timedelta(seconds=res['now'] - r['deadline'])} ago; cancel it (guardian or risk manager)")
        n = len(res["executed"])
        click.echo(f"{'dry run: would execute' if dry_run else 'executed'} {n}, waiting {len(res['waiting'])}, "
                   f"lapsed {len(res['lapsed'])}, reverting {len(res['reverting'])}; log {log_path}")
    if res["reverting"]:
        raise SystemExit(1)
