"""ape run propose --calibration FILE [--registry ADDRESS] [--account ALIAS] [--log FILE] [--why TEXT] [--dry-run]

Queue the calibrated SVI smiles in the risk registry (reason_hash = the calibration report's content hash)
and append one maintenance record per queued change.  Every slice is checked against the registry's rules
(reference/risk_registry.py) and with an eth_call before anything is sent.  Logic: vyopt.maintenance.propose.
"""
import json

import click
from ape.cli import ConnectedProviderCommand, network_option


def _account(alias, registry, accounts, is_local):
    if alias:
        if alias.upper().startswith("TEST::"):
            return accounts.test_accounts[int(alias.split("::", 1)[1])]
        return accounts.load(alias)
    if is_local:  # local node: the test account that holds the risk manager role, if any
        rm = str(registry.risk_manager()).lower()
        for a in accounts.test_accounts:
            if str(a.address).lower() == rm:
                return a
    raise click.ClickException("pass --account: the registry's risk manager must send the queue transactions")


@click.command(cls=ConnectedProviderCommand, short_help="Queue a calibrated volatility surface in the risk registry")
@network_option()
@click.option("--calibration", required=True, type=click.Path(exists=True, dir_okay=False),
              help="calibration.json (or params.json) written by `ape run calibrate`")
@click.option("--registry", "registry_address", default=None,
              help="RiskRegistry address [default: deployments/<network>.json]")
@click.option("--account", "account_alias", default=None,
              help="ape account alias or TEST::N [default on a local node: the test account holding the risk "
                   "manager role]")
@click.option("--log", "log_path", type=click.Path(dir_okay=False), default="reports/maintenance/log.sqlite",
              show_default=True, help="maintenance log (SQLite, created when missing)")
@click.option("--why", default=None, help="reason recorded with every change [default: built from the report]")
@click.option("--who", "who_name", default=None, help="person or desk behind the change, recorded with the address")
@click.option("--rebase-days", default="0", show_default=True,
              help="REHEARSAL ONLY: shift calibrated expiries by N whole days, or 'auto' (nearest to chain time)")
@click.option("--max-age-days", type=float, default=2.0, show_default=True, help="refuse older calibrations")
@click.option("--list-new", is_flag=True, help="also queue calibrated expiries the registry does not list")
@click.option("--split", is_flag=True, help="queue a move beyond the step bound as its largest admissible step")
@click.option("--strict", is_flag=True, help="send nothing if any slice is refused")
@click.option("--dry-run", is_flag=True, help="check with eth_call and print the plan; send and record nothing")
@click.option("--yes", is_flag=True, help="do not ask for confirmation on a live network")
@click.option("--json", "as_json", is_flag=True, help="print the plan and results as JSON")
def cli(network, provider, calibration, registry_address, account_alias, log_path, why, who_name, rebase_days,
        max_age_days, list_new, split, strict, dry_run, yes, as_json):
    from ape import accounts, chain

    from vyopt import report
    from vyopt.maintenance import MaintenanceLog
    from vyopt.maintenance import propose as pr
    from vyopt.maintenance.chain import network_context, registry_at, resolve_registry

    ctx = network_context()
    is_local = ctx["chain_id"] in (31337, 1337)
    try:
        cal = pr.load_calibration(calibration)
        registry = registry_at(resolve_registry(ctx["network"], registry_address))
        now = int(chain.pending_timestamp)
        shift = pr.auto_rebase_days(cal.snapshot, now) if rebase_days == "auto" else int(rebase_days)
        state = pr.read_state(registry, now)
        if list_new:
            state.pending.update(pr.pending_for(registry, [s.expiry + shift * pr.DAY for s in cal.slices], now))
        pl = pr.plan(cal, state, rebase_days=shift, list_new=list_new, split=split, max_age_days=max_age_days)
    except (pr.ProposalError, ValueError) as e:
        raise click.ClickException(str(e)) from e
    account = _account(account_alias, registry, accounts, is_local)
    log = None if dry_run else MaintenanceLog(log_path)  # a dry run creates no file
    out = (lambda s: None) if as_json else click.echo
    out(f"network {ctx['network']} (chain {ctx['chain_id']})  registry {registry.address}  sender {account.address}")
    out(f"calibration {cal.path} ({cal.kind}), reason hash {cal.reason_hash}"
        + (f"; REHEARSAL: expiries rebased by {shift} days" if shift else ""))
    refused = pl.by_status("refuse")
    send = pl.by_status("queue")
    if strict and refused:
        for p in send:
            p.status, p.reason = "skip", "not sent: --strict and another slice is refused"
        send = []
    if send and not dry_run and not is_local and not yes:
        click.confirm(f"Send {len(send)} queue transaction(s)?", abort=True)
    results = pr.queue(registry, account, pl, cal, log, network=ctx["network"], chain_id=ctx["chain_id"],
                       who_name=who_name, why=why, dry_run=dry_run, echo=out) if send else []
    if as_json:
        click.echo(json.dumps({**pr.plan_json(pl, cal), "results": results, "dry_run": dry_run,
                               "log": str(log_path)}, indent=1, sort_keys=True))
    else:
        headers, rows = pr.plan_table(pl)
        click.echo(report.md_table(headers, rows))
        if pl.unlisted_not_calibrated:
            click.echo("listed but not in the calibration (left unchanged): "
                       + ", ".join(pr.key_label("smile", str(e)) for e in pl.unlisted_not_calibrated))
        for r in results:
            if r["status"] == "queued":
                click.echo(f"queued change #{r['change_id']} ({r['path']}) tx {r['tx']} gas {r['gas_used']}")
        n_q = sum(1 for r in results if r["status"] in ("queued", "would queue"))
        click.echo(f"{'dry run: would queue' if dry_run else 'queued'} {n_q}, deferred {len(pl.by_status('defer'))}, "
                   f"refused {len(pl.by_status('refuse'))}; log {log_path}")
    if pl.by_status("refuse"):
        raise SystemExit(1)
