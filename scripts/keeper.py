"""ape run keeper --network ethereum:local:foundry (--once | --interval SECONDS) [--json] [--account ALIAS|TEST::N]

Liquidation keeper (vyopt.keeper): finds accounts from the market's Deposit and Trade logs (from the deployment
block, then incrementally), checks which are liquidatable, picks for each the leg whose close releases the most
margin (MarginEngine.plan_liquidation; a liquidation that would revert is skipped), and liquidates when
    reward - gas * gas_price * native_price >= min_profit          (collateral units)
--native-price is the collateral value of one native coin (e.g. USD per ETH), --gas-price overrides the node's.
Progress goes to the terminal (stderr with --json); --json prints the summary of every pass as one JSON object.
"""
import json
import sys
import time
from decimal import Decimal

import click
from ape.cli import ConnectedProviderCommand, network_option


@click.command(cls=ConnectedProviderCommand)
@network_option()
@click.option("--account", "account_spec", default=None,
              help="ape account alias, or TEST::N (default on local networks: test account 0)")
@click.option("--deployment", default=None, help="deployment manifest (default: deployments/<network>.json)")
@click.option("--once", is_flag=True, help="one pass, then exit")
@click.option("--interval", type=float, default=None, help="seconds between passes (a loop; Ctrl-C stops it)")
@click.option("--passes", type=int, default=0, help="stop after this many passes (0: no limit)")
@click.option("--from-block", type=int, default=None, help="first block to scan for accounts (default: the deployment's)")
@click.option("--native-price", default="3000", show_default=True, help="collateral units per native coin")
@click.option("--min-profit", default="0", show_default=True, help="collateral units a liquidation must earn net of gas")
@click.option("--gas-price", type=int, default=None, help="wei (default: the node's)")
@click.option("--json", "as_json", is_flag=True, help="print the summary as JSON on stdout")
def cli(network, provider, account_spec, deployment, once, interval, passes, from_block, native_price, min_profit,
        gas_price, as_json):
    from ape import chain

    from vyopt.keeper import Keeper, KeeperConfig, candidates_from_logs
    from vyopt.trading import ApeBackend, TradingError, ape_account, ape_protocol

    if once == (interval is not None):
        raise click.UsageError("give exactly one of --once and --interval SECONDS")
    if as_json:
        from ape.logging import LogLevel, logger

        logger.set_level(LogLevel.WARNING)      # ape logs confirmations on stdout: keep it pure JSON
    try:
        p = ape_protocol(deployment)
        acct = ape_account(account_spec, provider.network)
    except (TradingError, FileNotFoundError, ValueError) as err:
        raise click.ClickException(str(err)) from None
    cfg = KeeperConfig(native_price=Decimal(native_price), min_profit=Decimal(min_profit), gas_price=gas_price)
    keeper = Keeper(p, acct, cfg, backend=ApeBackend())
    err = (lambda msg: click.echo(msg, err=True)) if as_json else click.echo

    start = from_block if from_block is not None else min(
        int(c.get("block", 0)) for c in p.manifest.get("contracts", {}).values()) if p.manifest.get("contracts") else 0
    known: list[str] = []
    summary = {"network": provider.network.choice, "chain_id": int(chain.chain_id), "market": str(p.market.address),
               "keeper": str(acct.address), "config": cfg.to_json(), "from_block": start, "passes": []}
    next_block = start
    n = 0
    try:
        while True:
            found, last = candidates_from_logs(p.market, next_block)
            for a in found:
                if a not in known:
                    known.append(a)
            next_block = last + 1
            err(f"pass {n + 1}: block {last}, {len(known)} accounts known ({len(found)} seen in new logs)")

            def progress(i, total, account, status):
                err(f"  [{i}/{total}] {account} {status}")

            rep = keeper.run_once(known, progress=progress)
            rep["block"] = last
            summary["passes"].append(rep)
            for e in rep["liquidations"]:
                err(f"  liquidated {e['account']} series {e['series_id']} ({'full' if e['full'] else 'partial'}): "
                    f"penalty {e['penalty'] / 1e18:,.2f}, reward {e['reward'] / 1e18:,.2f}, gas {e['gas']:,}, tx {e['tx']}")
            for s in rep["skipped"]:
                err(f"  skipped {s['account']}: {s['reason']}")
            err(f"  checked {rep['checked']}, healthy {rep['healthy']}, liquidatable {len(rep['liquidatable'])}, "
                f"liquidations {len(rep['liquidations'])}, rewards {rep['rewards'] / 1e18:,.2f}")
            n += 1
            if once or (passes and n >= passes):
                break
            time.sleep(interval)
    except KeyboardInterrupt:
        err("stopped")
    summary["to_block"] = next_block - 1
    summary["totals"] = {"passes": n, "accounts": len(known),
                         "liquidations": sum(len(r["liquidations"]) for r in summary["passes"]),
                         "rewards": sum(r["rewards"] for r in summary["passes"])}
    if as_json:
        click.echo(json.dumps(summary, indent=2, default=str))
    sys.stdout.flush()
