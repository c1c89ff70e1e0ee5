"""ape run calibrate --chain FILE [--underlying BTC] [--out DIR] [--json]

Fit the SVI surface to an option chain (Deribit export or the generic CSV of vyopt.chains), check it
for arbitrage and write the report folder (default reports/calibration/<chain file stem>/).  No network.
"""
import json
import sys

import click

from vyopt.calibration import calibrate


def _progress(items, label):
    with click.progressbar(items, label=label, file=sys.stderr, show_pos=True) as bar:
        yield from bar


@click.command(short_help="Calibrate the SVI volatility surface to an option chain")
@click.option("--chain", "chain", required=True, type=click.Path(exists=True, dir_okay=False),
              help="option chain CSV: Deribit export or the generic format (see vyopt/chains.py)")
@click.option("--format", "fmt", type=click.Choice(["auto", "deribit", "generic"]), default="auto", show_default=True)
@click.option("--underlying", default=None, help="keep only this underlying (e.g. BTC)")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="report folder [default: reports/calibration/<chain file stem>]")
@click.option("--all-quotes", is_flag=True, help="fit the in-the-money side too (default: out-of-the-money quotes)")
@click.option("--min-days", type=float, default=1.0, show_default=True, help="drop expiries closer than this")
@click.option("--no-plots", is_flag=True, help="skip the PNG figures")
@click.option("--json", "as_json", is_flag=True, help="print the JSON summary to stdout")
def cli(chain, fmt, underlying, out_dir, all_quotes, min_days, no_plots, as_json):
    try:
        summary = calibrate(chain, out_dir=out_dir, fmt=fmt, underlying=underlying, otm_only=not all_quotes,
                            min_days=min_days, plots=not no_plots, progress=_progress)
    except ValueError as e:  # bad input file: a one-line reason, no traceback, no report
        raise click.ClickException(str(e)) from e
    if as_json:
        click.echo(json.dumps(summary, indent=1, sort_keys=True))
        return
    ov = summary["overall"]
    for r in summary["expiries"]:
        click.echo(f"{r['expiry'][:10]}  quotes {r['quotes']:3d}  RMSE {r['rmse_vol_pts']:.3f} vol pts  "
                   f"inside bid-ask {100 * r['share_inside_bid_ask']:.1f}%")
    click.echo(f"overall: {ov['inside_bid_ask']}/{ov['quotes']} = {100 * ov['share_inside_bid_ask']:.1f}% inside "
               f"(bar {100 * ov['bar']:.0f}%: {'met' if ov['meets_bar'] else 'NOT met'}); "
               f"arbitrage-free: {summary['arbitrage']['ok']}; params {summary['params_hash']}")
