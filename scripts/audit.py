"""ape run audit --network ethereum:local:foundry [--deployment MANIFEST] [--profile ci|deep] [--backend boa|node|fork]

The auditor's suite against a deployment: checks that the code at the manifest's addresses is a local compile
of these sources (refuses otherwise), runs every property on the chosen back-ends (default: boa, node and fork;
state-changing properties only ever on a fork), and writes reports/audit/<UTC stamp>/ (report.md, report.json,
PNGs, reproducers/).  On a local network without --deployment it deploys the protocol first (as `ape run deploy`).
See docs/AUDITORS.md.
"""
import sys

import click
from ape.cli import ConnectedProviderCommand, network_option

from vyopt.audit.command import run_audit


def _backends(ctx, param, value):
    out = []
    for v in value or ("boa,node,fork",):
        out += [b.strip() for b in v.split(",") if b.strip()]
    bad = [b for b in out if b not in ("boa", "node", "fork")]
    if bad:
        raise click.BadParameter(f"unknown back-end(s) {', '.join(bad)}: choose boa, node, fork")
    return tuple(dict.fromkeys(out))


@click.command(cls=ConnectedProviderCommand)
@network_option()
@click.option("--deployment", "manifest", type=click.Path(exists=True, dir_okay=False), default=None,
              help="deployment manifest written by `ape run deploy` (deployments/<network>.json)")
@click.option("--profile", type=click.Choice(["ci", "deep"]), default="ci", show_default=True,
              help="ci: one process, hypothesis profile ci; deep: all cores (pytest-xdist), hypothesis profile deep")
@click.option("--backend", "backends", multiple=True, callback=_backends,
              help="boa, node or fork; repeat or comma-separate (default: all three)")
@click.option("--db", "database", default=None, help="example database: a directory (default .hypothesis/audit) or a redis:// URL")
@click.option("--out", "out_root", type=click.Path(file_okay=False), default=None, help="report root (default reports/audit)")
@click.option("--examples", "max_examples", type=int, default=None, help="fewer examples per property than the profile (a quick look)")
def cli(network, provider, manifest, profile, backends, database, out_root, max_examples):
    from ape import accounts, chain

    from vyopt.audit.manifest import BytecodeMismatch

    node_url = getattr(provider, "http_uri", None) or getattr(provider, "uri", None)
    if not node_url:
        raise click.ClickException(f"the provider of {provider.network.choice} exposes no HTTP URL")
    is_local = provider.network.name in ("local", "anvil") or chain.chain_id == 31337
    account = None
    if manifest is None:
        if not is_local:
            raise click.ClickException("--deployment is required off a local network")
        account = accounts.test_accounts[0]
    try:
        out_dir, data, code = run_audit(node_url=node_url, network=provider.network.choice, manifest_path=manifest,
                                        deploy_account=account, backends=backends, profile=profile, database=database,
                                        out_root=out_root, max_examples=max_examples,
                                        command="ape run audit " + " ".join(sys.argv[3:] if len(sys.argv) > 3 else []))
    except BytecodeMismatch as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"{data['verdict']}: {out_dir}/report.md")
    if data["verdict"] != "PASS":
        raise click.ClickException(f"the audit found {len(data['failures'])} failing propert(ies); reproducers in {out_dir}/reproducers")
