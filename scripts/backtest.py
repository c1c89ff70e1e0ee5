"""ape run backtest [--prices FILE] [--confidence 0.99] [--window 250] [--horizon 1] [--out DIR] [--json]

Backtest the protocol's scenario margin rule on daily prices (default: the shared BTC-USD history) for
the representative portfolios of vyopt.backtest; write reports/backtest/.  No network.
"""
import json
import sys

import click

from vyopt.backtest import PORTFOLIOS, MarginParams, ScenarioGrid, Settings, VolProxy, backtest


def _progress(items, label):
    with click.progressbar(items, label=label, file=sys.stderr, show_pos=True) as bar:
        yield from bar


@click.command(short_help="Backtest the scenario margin rule against price history")
@click.option("--prices", type=click.Path(exists=True, dir_okay=False), default=None,
              help="daily CSV with Date and Close columns [default: shared BTC-USD 2014-2022]")
@click.option("--confidence", type=click.FloatRange(0.5, 1.0, min_open=True, max_open=True), default=0.99, show_default=True)
@click.option("--window", type=click.IntRange(min=10), default=250, show_default=True, help="traffic-light window (days)")
@click.option("--horizon", type=click.IntRange(min=1), default=1, show_default=True, help="liquidation horizon (days)")
@click.option("--markup", type=float, default=1.10, show_default=True, help="implied-vol markup on the EWMA vol")
@click.option("--lambda", "lam", type=float, default=0.94, show_default=True, help="EWMA decay")
@click.option("--min-margin-fraction", type=float, default=0.01, show_default=True, help="floor per short contract, x spot")
@click.option("--tail-cover", type=click.FloatRange(0.0, 1.0), default=1.0, show_default=True,
              help="fraction of a tail scenario's loss that counts (CME SPAN: 0.35)")
@click.option("--portfolio", "names", multiple=True, type=click.Choice(sorted(PORTFOLIOS)), help="run only these")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="report folder [default: reports/backtest]")
@click.option("--no-plots", is_flag=True, help="skip the PNG figures")
@click.option("--json", "as_json", is_flag=True, help="print the JSON summary to stdout")
def cli(prices, confidence, window, horizon, markup, lam, min_margin_fraction, tail_cover, names, out_dir, no_plots,
        as_json):
    settings = Settings(confidence=confidence, window=window, horizon_days=horizon,
                        vol=VolProxy(lam=lam, markup=markup),
                        margin=MarginParams(grid=ScenarioGrid(tail_cover=tail_cover), min_margin_fraction=min_margin_fraction))
    portfolios = {n: PORTFOLIOS[n] for n in names} if names else None
    try:
        summary = backtest(prices, settings=settings, portfolios=portfolios, out_dir=out_dir, plots=not no_plots,
                           progress=_progress)
    except ValueError as e:  # bad input file: a one-line reason, no traceback, no report
        raise click.ClickException(str(e)) from e
    if as_json:
        click.echo(json.dumps(summary, indent=1, sort_keys=True))
        return
    for n, r in summary["portfolios"].items():
        click.echo(f"{n:16s} exceptions {r['exceptions']:3d}/{r['observations']}  Kupiec p {r['kupiec']['p_value']:.3g}  "
                   f"IND p {r['christoffersen_ind']['p_value']:.3g}  CC p {r['christoffersen_cc']['p_value']:.3g}  "
                   f"zone {r['zone']} (worst window {r['rolling_windows']['worst_zone']})")
