"""ape run stress [--network N] [--market ADDRESS | --deployment FILE] [--scenarios FILE] [--no-grid]
                 [--account ADDRESS ...] [--from-block N] [--out DIR] [--no-plots] [--json]

Revalue every open account of the live deployment (found in the market's Deposit/Trade/Liquidation logs) and the
pool under the extended grid (-66% .. +500% x vol x1, x1.5, x2) and the YAML scenarios (format: vyopt/stress.py),
with the reference model; write reports/stress/{report.md, report.json, heatmap.png}.  Reads only, sends nothing.
"""
import json
import sys

import click
from ape.cli import ConnectedProviderCommand, network_option

from vyopt import stress
from vyopt.monitor import chain as ch


def _progress(items, label):
    with click.progressbar(items, label=label, file=sys.stderr, show_pos=True) as bar:
        yield from bar


def _brief(r: dict) -> dict:
    """The JSON the command prints: everything but the per-scenario arrays of every account."""
    keep = ("tool", "chain", "method", "per_scenario", "worst", "min_pool_value_after", "conservation", "figures",
            "content_hash", "input", "report")
    out = {k: r[k] for k in keep if k in r}
    out["accounts"] = [{k: a[k] for k in ("address", "value_now", "maintenance_now", "onchain", "worst_scenario",
                                          "worst_value", "max_shortfall", "scenarios_liquidated")} for a in r["accounts"]]
    return out


@click.command(cls=ConnectedProviderCommand, short_help="Stress-test the live book under extreme scenarios")
@network_option()
@click.option("--market", "market_address", default=None, help="OptionsMarket address (default: the deployment manifest)")
@click.option("--deployment", type=click.Path(exists=True, dir_okay=False), default=None,
              help="deployment manifest JSON naming the OptionsMarket")
@click.option("--scenarios", "scenarios_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="YAML file of user scenarios (format: vyopt/stress.py)")
@click.option("--no-grid", is_flag=True, help="run only the user scenarios")
@click.option("--account", "accounts", multiple=True, help="revalue only these accounts (repeatable)")
@click.option("--from-block", type=click.IntRange(min=0), default=None,
              help="first block searched for accounts [default: the deployment's first block, from the manifest]")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="report folder [default: reports/stress]")
@click.option("--no-plots", is_flag=True, help="skip the heat map")
@click.option("--json", "as_json", is_flag=True, help="print the JSON summary to stdout")
def cli(network, provider, market_address, deployment, scenarios_file, no_grid, accounts, from_block, out_dir, no_plots,
        as_json):
    try:
        d = ch.resolve(provider.network.choice, market_address, deployment)
        r = stress.stress(d, list(accounts) or None, scenarios_file=scenarios_file, include_grid=not no_grid,
                          out_dir=out_dir, plots=not no_plots, from_block=from_block, progress=_progress)
    except ValueError as e:  # bad input: a one-line reason, no traceback
        raise click.ClickException(str(e)) from e
    if as_json:
        click.echo(json.dumps(_brief(r), indent=1, sort_keys=True))
        return
    c = r["chain"]
    click.echo(f"market {c['market']} block {c['block']}: spot {c['spot']:,.2f}, {c['accounts']} accounts, "
               f"insurance {c['insurance_fund']:,.2f}, pool value {c['pool']['value_now']:,.2f}")
    for s in sorted(r["per_scenario"], key=lambda s: -s["total_shortfall"])[:10]:
        click.echo(f"  {s['name']:18s} shortfall {s['total_shortfall']:>14,.2f}  insurance pays "
                   f"{s['covered_by_insurance']:>12,.2f}  pool after {s['pool_value_after']:>14,.2f}  "
                   f"liquidated {s['accounts_liquidated']}")
    w = r["worst"]
    click.echo(f"worst: {w['scenario']}: shortfall {w['total_shortfall']:,.2f} vs insurance {w['insurance_fund']:,.2f}; "
               f"pool {'solvent' if w['pool_solvent'] else 'INSOLVENT'} ({w['pool_value_after']:,.2f})")
    if not r["conservation"]["complete_account_list"]:
        click.echo("warning: the account list does not hold every position (see report.md)", err=True)
