"""ape run maintenance-log verify | show | record

verify   every registry change event has its maintenance record and every record its event (same tx hash,
         change id and action; then reason hash and values must agree), and the log's hash chain is intact;
         writes reports/maintenance/verify/verify.{md,json}; exit code 1 on any mismatch.
show     print the log (no node needed).
record   append the records of a registry transaction made outside the tools (backfill): --tx HASH --why TEXT
         [--report FILE, whose hash must equal the event's reason hash].
The file is named maintenance-log.py because `ape run` names a script's command after its file name.
Logic: vyopt.maintenance.{verify,log,chain}.
"""
import json

import click
from ape.cli import ConnectedProviderCommand, network_option

LOG_OPTION = click.option("--log", "log_path", type=click.Path(dir_okay=False),
                          default="reports/maintenance/log.sqlite", show_default=True, help="maintenance log (SQLite)")
REGISTRY_OPTION = click.option("--registry", "registry_address", default=None,
                               help="RiskRegistry address [default: deployments/<network>.json]")


@click.group(short_help="Verify, show or backfill the maintenance log")
def cli():
    pass


@cli.command(cls=ConnectedProviderCommand, short_help="Prove every change event has its record and vice versa")
@network_option()
@REGISTRY_OPTION
@LOG_OPTION
@click.option("--from-block", type=int, default=0, show_default=True, help="first block to read events from")
@click.option("--to-block", type=int, default=None, help="last block [default: head]")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="reports/maintenance/verify",
              show_default=True, help="report folder (verify.md + verify.json)")
@click.option("--json", "as_json", is_flag=True, help="print the JSON verdict")
def verify(network, provider, registry_address, log_path, from_block, to_block, out_dir, as_json):
    from pathlib import Path

    from vyopt import report
    from vyopt.maintenance import MaintenanceLog
    from vyopt.maintenance import verify as vf
    from vyopt.maintenance.chain import network_context, registry_at, resolve_registry

    if not Path(log_path).exists():
        raise click.ClickException(f"no maintenance log at {log_path}")
    try:
        registry = registry_at(resolve_registry(network_context()["network"], registry_address))
    except ValueError as e:
        raise click.ClickException(str(e)) from e
    res = vf.verify(registry, MaintenanceLog(log_path, readonly=True), start_block=from_block, stop_block=to_block)
    md, js = vf.write_report(res, out_dir)
    if as_json:
        click.echo(json.dumps(res, indent=1, sort_keys=True))
    else:
        if res["mismatches"]:
            click.echo(report.md_table(
                ["type", "change", "action", "key", "tx", "block", "record", "detail"],
                [[m["type"], report.fmt(m["change_id"]), m["action"] or "-", m["key_label"] or "-",
                  (m["tx_hash"] or "-")[:12], report.fmt(m["block"]), report.fmt(m["record_id"]), m["detail"]]
                 for m in res["mismatches"]]))
            for t, text in res["remedies"].items():
                click.echo(f"- {t}: {text}")
        click.echo(f"{res['verdict']}: {res['events']} change events, {res['records_checked']} records, "
                   f"{res['matched']} matched, {len(res['mismatches'])} mismatches; hash chain "
                   f"{'intact' if res['log']['chain_intact'] else 'BROKEN'} ({res['log']['records_total']} records, "
                   f"head {res['log']['head_hash'][:16]}…); report {md}")
    if not res["ok"]:
        raise SystemExit(1)


@cli.command(short_help="Print the maintenance log")
@LOG_OPTION
@click.option("--json", "as_json", is_flag=True, help="print the records as JSON")
def show(log_path, as_json):
    from dataclasses import asdict
    from pathlib import Path

    from vyopt import report
    from vyopt.maintenance import MaintenanceLog
    from vyopt.maintenance.events import key_label

    if not Path(log_path).exists():
        raise click.ClickException(f"no maintenance log at {log_path}")
    log = MaintenanceLog(log_path, readonly=True)
    recs = log.records()
    problems = log.verify_chain()
    if as_json:
        click.echo(json.dumps({"records": [asdict(r) for r in recs], "chain_problems": problems}, indent=1,
                              sort_keys=True))
        return
    click.echo(report.md_table(
        ["id", "time (UTC)", "action", "change", "kind", "key", "who", "report hash", "tx", "block", "why"],
        [[r.id, r.time_utc, r.action, r.change_id, r.kind, key_label(r.kind, r.key),
          (r.who_name + " " if r.who_name else "") + r.who_address[:10], r.report_sha256[:12] + "…",
          r.tx_hash[:12] + "…", r.block, r.why if len(r.why) < 90 else r.why[:87] + "..."] for r in recs]))
    n, head = log.head()
    click.echo(f"{n} records, head {head}; hash chain {'intact' if not problems else 'BROKEN: ' + str(problems)}")


@cli.command(cls=ConnectedProviderCommand, short_help="Backfill the records of a registry transaction")
@network_option()
@REGISTRY_OPTION
@LOG_OPTION
@click.option("--tx", "tx_hash", required=True, help="transaction hash of the queue/execute/cancel")
@click.option("--why", required=True, help="why the change was made (and why it was not recorded at the time)")
@click.option("--report", "report_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="the report behind the change: its hash must equal the change's reason hash")
@click.option("--who", "who_name", default=None, help="person or desk behind the change")
def record(network, provider, registry_address, log_path, tx_hash, why, report_path, who_name):
    from vyopt.maintenance import MaintenanceLog
    from vyopt.maintenance.chain import backfill, network_context, registry_at, resolve_registry

    try:
        registry = registry_at(resolve_registry(network_context()["network"], registry_address))
        recs = backfill(registry, tx_hash, MaintenanceLog(log_path), why=why, report_path=report_path,
                        who_name=who_name)
    except ValueError as e:
        raise click.ClickException(str(e)) from e
    for r in recs:
        click.echo(f"recorded #{r.id}: {r.action} change {r.change_id} ({r.kind} {r.key}) tx {r.tx_hash}")
    if not recs:
        click.echo("nothing to add: every change event of this transaction already has its record")
