"""ape run monitor [--network N] [--market ADDRESS | --deployment FILE] (--once | --interval S [--count N])
                  [--chain FILE [--baseline-chain FILE] [--expiry-match exact|tau] [--no-refit] [--reset-baseline]]
                  [--history PATH] [--alerts PATH] [--sample-series N] [--sample-accounts N] [--json]

Monitor the live deployment: registry parameters and their age, the oracle, a production differential check
(contracts against the reference model) and, with --chain, the drift of the deployed surface (PSI, Page-Hinkley,
refit).  Alerts go to stdout, to the JSONL file (default reports/monitor/alerts.jsonl) and to the exit code:
0 ok/info, 1 warning, 2 critical, 3 could not run; every update to the SQLite history (default
reports/monitor/history.sqlite).  Reads only, sends nothing.
"""
import sys
from dataclasses import replace

import click
from ape.cli import ConnectedProviderCommand, network_option

from vyopt.monitor import ERROR_EXIT, History, Monitor, MonitorConfig, json_line
from vyopt.monitor import chain as ch
from vyopt.monitor import drift as dr

LABEL = {"info": "INFO", "warning": "WARNING", "critical": "CRITICAL"}


def _print(r, as_json, verbose):
    if as_json:
        click.echo(json_line(r))
        return
    c = r["chain"]
    click.echo(f"block {c['block']} (time {c['time']}) market {c['market']}: {r['counts']['critical']} critical, "
               f"{r['counts']['warning']} warning, {r['counts']['info']} info")
    for a in r["alerts"]:
        if a["severity"] != "info" or verbose:
            click.echo(f"  [{LABEL[a['severity']]}] {a['code']}: {a['message']}")


@click.command(cls=ConnectedProviderCommand, short_help="Monitor the deployed model: parameters, oracle, contracts "
               "vs reference, surface drift")
@network_option()
@click.option("--market", "market_address", default=None, help="OptionsMarket address (default: the deployment manifest)")
@click.option("--deployment", type=click.Path(exists=True, dir_okay=False), default=None,
              help="deployment manifest JSON naming the OptionsMarket")
@click.option("--once", is_flag=True, help="one update, then exit with its code (the default)")
@click.option("--interval", type=click.FloatRange(min=1.0), default=None, help="seconds between updates (loop)")
@click.option("--count", type=click.IntRange(min=1), default=None, help="with --interval: stop after N updates")
@click.option("--chain", "chain_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="option chain (Deribit export or generic CSV): measure the surface's drift against it")
@click.option("--baseline-chain", type=click.Path(exists=True, dir_okay=False), default=None,
              help="chain whose residuals fix the PSI baseline (default: the first 3 chains seen)")
@click.option("--reset-baseline", is_flag=True, help="forget the stored PSI baseline and Page-Hinkley state")
@click.option("--expiry-match", type=click.Choice(["exact", "tau"]), default="exact", show_default=True,
              help="match chain expiries to deployed ones by date, or by time to expiry")
@click.option("--no-refit", is_flag=True, help="skip the SVI refit of the chain")
@click.option("--history", "history_path", type=click.Path(dir_okay=False), default="reports/monitor/history.sqlite",
              show_default=True)
@click.option("--alerts", "alerts_path", type=click.Path(dir_okay=False), default="reports/monitor/alerts.jsonl",
              show_default=True)
@click.option("--account", "accounts", multiple=True, help="accounts to sample (default: every account in the logs)")
@click.option("--sample-series", type=click.IntRange(min=0), default=8, show_default=True)
@click.option("--sample-accounts", type=click.IntRange(min=0), default=8, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="seed of the samples")
@click.option("--verbose", is_flag=True, help="print info alerts too")
@click.option("--json", "as_json", is_flag=True, help="print each update as one JSON object")
def cli(network, provider, market_address, deployment, once, interval, count, chain_file, baseline_chain,
        reset_baseline, expiry_match, no_refit, history_path, alerts_path, accounts, sample_series, sample_accounts,
        seed, verbose, as_json):
    if once and interval is not None:
        raise click.UsageError("--once and --interval exclude each other")
    try:
        d = ch.resolve(provider.network.choice, market_address, deployment)
        cfg = MonitorConfig(sample_series=sample_series, sample_accounts=sample_accounts, seed=seed,
                            drift=replace(dr.DriftConfig(), expiry_match=expiry_match, refit=not no_refit))
        history = History(history_path)
        mon = Monitor(d, cfg, history, accounts=list(accounts) or None, jsonl=alerts_path)
        if reset_baseline:
            mon.reset_drift()
        if baseline_chain is not None:
            mon.set_baseline(baseline_chain)
        if interval is None:
            r = mon.update(chain=chain_file)
            _print(r, as_json, verbose)
            code = r["exit_code"]
        else:
            code = mon.loop(interval, count=count, chain=chain_file, on_result=lambda r: _print(r, as_json, verbose),
                            on_error=lambda e: click.echo(f"monitor: update failed: {type(e).__name__}: {e}", err=True))
    except Exception as e:  # noqa: BLE001 - whatever stops the monitor is "could not run" (3), never a warning (1)
        click.echo(f"monitor: could not run: {type(e).__name__}: {e}", err=True)
        sys.exit(ERROR_EXIT)
    sys.exit(code)
