"""ape run demo --network ethereum:local:foundry        (make demo)

The whole life cycle of the options market on a local node: deploys the protocol with vyopt.deploy.deploy_network
(pricer, registry, mock feed, oracle, test token, margin engine, market; a chain of series), prints the pricer's
table next to the reference model, then: LPs fund the pool, traders buy, a writer sells puts, the mock feed falls
30% in steps the oracle accepts, the keeper (vyopt.keeper) liquidates the writer, time passes to the expiry, the
expiry and the accounts settle, and a summary table shows accounts, liquidations, payoffs, the pool and the
token-balance invariant.  The summary is also written as JSON (reports/demo/market.json by default).
Local networks only: it mints test tokens and moves a mock feed.
"""
import json
from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand, network_option


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (int, float, bool, str)) or x is None:
        return x
    return str(x)


@click.command(cls=ConnectedProviderCommand)
@network_option()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="folder of the deployment manifest (default: the repo's deployments/)")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("reports/demo/market.json"), show_default=True, help="where the JSON summary goes")
@click.option("--show-txs", is_flag=True, help="keep ape's line per confirmed transaction")
def cli(network, provider, out_dir, json_path, show_txs):
    from ape import accounts
    from ape.logging import LogLevel, logger

    from vyopt.demo import ACTORS, run_market_demo, run_pricing_demo
    from vyopt.deploy import deploy_network, load_protocol
    from vyopt.keeper import candidates_from_logs

    if not provider.network.is_dev:
        raise click.ClickException("the demo mints test tokens and moves a mock feed: use a local network "
                                   "(ethereum:local:foundry)")
    if not show_txs:
        logger.set_level(LogLevel.WARNING)     # the gas table at the end lists every step
    ta = accounts.test_accounts
    # test accounts 0, 1, 2 are admin, risk manager and guardian (deploy_network's local default); the demo's
    # actors are the next ones; the operator (admin) moves the mock feed
    actors = {"operator": ta[0], **{role: ta[3 + i] for i, role in enumerate(ACTORS[1:])}}
    click.echo(f"network {provider.network.choice} (chain {provider.chain_id}); deployer {ta[0].address}")
    manifest = deploy_network(ta[0], provider.network.choice, out_dir=out_dir, progress=click.echo)
    click.echo(f"manifest {manifest['path']}\n")
    p = load_protocol(manifest)
    click.echo(run_pricing_demo(p.pricer))
    click.echo("")

    start = min(int(c["block"]) for c in manifest["contracts"].values())
    deploy_gas = [("deploy", name.rsplit("/", 1)[-1], int(c["gas_used"])) for name, c in manifest["contracts"].items()]
    deploy_gas += [("deploy", t["method"], int(t["gas_used"])) for t in manifest.get("transactions", [])]
    summary = run_market_demo(p, actors, echo=click.echo, find_accounts=lambda: candidates_from_logs(p.market, start)[0],
                              deployment_gas=deploy_gas)
    summary["network"], summary["chain_id"], summary["manifest"] = provider.network.choice, provider.chain_id, manifest["path"]
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(_jsonable(summary), indent=2) + "\n")
    click.echo(f"\nsummary JSON: {json_path}")
    if not summary["ok"]:
        raise click.ClickException("an invariant failed (see above)")
