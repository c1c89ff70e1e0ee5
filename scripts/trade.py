"""ape run trade <command> --network ethereum:local:foundry [--account ALIAS|TEST::N] [--deployment MANIFEST]

A trader's commands on a deployed options market (vyopt.trading):
    quote     [--size N]                       buy/sell premium, mark and vols of every live series
    deposit   AMOUNT [--mint]                  approve + deposit AMOUNT tokens (--mint: mint them first, test token only)
    buy       SERIES CONTRACTS                 at the quote + --slippage (default 1%), before --deadline seconds
    sell      SERIES CONTRACTS                 at the quote - --slippage
    close     SERIES [--size CONTRACTS]        a trade of opposite sign to the position (all of it by default)
    withdraw  AMOUNT|all                       collateral back to the wallet ('all': accounts without positions)
    positions [--of ADDRESS]                   size, mark and value of every open position
    health    [--of ADDRESS]                   collateral, value, initial and maintenance margin, liquidatable
Amounts are human units (tokens, contracts), converted exactly; --json prints machine-readable output.
The deployment is deployments/<network>.json unless --deployment names a manifest.  Off local networks
--account is required and transactions ask for confirmation (--yes skips it).
"""
import json
from decimal import Decimal

import click
from ape.cli import ConnectedProviderCommand, network_option


def _common(f):
    f = click.option("--deployment", default=None, help="deployment manifest (default: deployments/<network>.json)")(f)
    f = click.option("--account", "account_spec", default=None,
                     help="ape account alias, or TEST::N (default on local networks: test account 0)")(f)
    f = network_option()(f)
    return f


def _trading(f):
    f = click.option("--slippage", default="0.01", show_default=True, help="tolerance on the quoted premium (fraction)")(f)
    f = click.option("--deadline", "deadline_s", default=600, show_default=True, help="seconds after the next block's timestamp")(f)
    f = click.option("--yes", is_flag=True, help="do not ask for confirmation (non-local networks)")(f)
    f = click.option("--json", "as_json", is_flag=True, help="print JSON")(f)
    return f


def _quiet():
    """ape logs each confirmation on stdout: keep stdout pure JSON."""
    from ape.logging import LogLevel, logger

    logger.set_level(LogLevel.WARNING)


def _setup(provider, account_spec, deployment, need_account=True, as_json=False):
    from vyopt.trading import ApeBackend, Client, TradingError, ape_account, ape_protocol

    if as_json:
        _quiet()

    try:
        p = ape_protocol(deployment)
        account = ape_account(account_spec, provider.network) if need_account else None
    except (TradingError, FileNotFoundError, ValueError) as err:
        raise click.ClickException(str(err)) from None
    return Client(p, ApeBackend()), account


def _confirm(provider, yes, what):
    if not provider.network.is_dev and not yes:
        click.confirm(f"{what} on {provider.network.choice}?", abort=True)


def _run(fn):
    from vyopt.trading import TradingError

    try:
        return fn()
    except (TradingError, ValueError) as err:
        raise click.ClickException(str(err)) from None


def _out(obj):
    def conv(x):
        if isinstance(x, dict):
            return {k: conv(v) for k, v in x.items() if k != "tx"}
        if isinstance(x, list):
            return [conv(v) for v in x]
        if isinstance(x, (int, str, bool, float)) or x is None:
            return x
        return str(x)
    click.echo(json.dumps(conv(obj), indent=2))


def _trade_text(c, r):
    from vyopt.trading import fmt_units

    side = "bought" if r["size"] > 0 else "sold"
    return (f"{side} {fmt_units(abs(r['size']), 18, 4)} x {r['series']} (series {r['series_id']}): premium "
            f"{fmt_units(r['premium'], 18)} incl. fee {fmt_units(r['fee'], 18)} (quoted {fmt_units(r['quoted'], 18)}, "
            f"limit {fmt_units(r['limit'], 18)}); position now {fmt_units(r['position'], 18, 4)}; "
            f"tx {r['tx'].tx_hash} gas {r['tx'].gas:,}")


@click.group()
def cli():
    """Trade on a deployed vyopt options market."""


@cli.command(cls=ConnectedProviderCommand)
@_common
@click.option("--size", default="1", show_default=True, help="contracts quoted")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def quote(network, provider, account_spec, deployment, size, as_json):
    """Premiums to buy and sell SIZE contracts of every live series, mark and vols."""
    from vyopt.trading import format_quote_table

    c, _ = _setup(provider, account_spec, deployment, need_account=False, as_json=as_json)
    rows = _run(lambda: c.quote_table(size))
    _out(rows) if as_json else click.echo(format_quote_table(rows))


@cli.command(cls=ConnectedProviderCommand)
@_common
@click.argument("amount")
@click.option("--mint", is_flag=True, help="mint AMOUNT first (the open-mint test token of local deployments)")
@click.option("--yes", is_flag=True, help="do not ask for confirmation (non-local networks)")
def deposit(network, provider, account_spec, deployment, amount, mint, yes):
    """Approve and deposit AMOUNT collateral tokens."""
    from vyopt.trading import fmt_units, parse_units

    c, acct = _setup(provider, account_spec, deployment)
    _confirm(provider, yes, f"Deposit {amount} tokens from {acct.address}")
    if mint:
        if "testing/MockERC20" not in c.p.manifest.get("contracts", {}):
            raise click.ClickException("--mint works only with the deployment's test token (testing/MockERC20)")
        units = _run(lambda: parse_units(amount, c.decimals))
        _run(lambda: c.bk.send(c.token, "mint", acct.address, units, sender=acct))
    txs = _run(lambda: c.deposit(acct, amount))
    h = c.health(acct)
    click.echo(f"deposited {amount} ({', '.join(f'{t.fn} gas {t.gas:,}' for t in txs)}); collateral now "
               f"{fmt_units(h['collateral'], 18)}")


def _trade_cmd(name, sign):
    def cmd(network, provider, account_spec, deployment, slippage, deadline_s, yes, as_json, series, contracts):
        c, acct = _setup(provider, account_spec, deployment, as_json=as_json)
        _confirm(provider, yes, f"{name.capitalize()} {contracts} of series {series} as {acct.address}")
        fn = c.buy if sign > 0 else c.sell
        r = _run(lambda: fn(acct, series, contracts, Decimal(slippage), deadline_s))
        _out(r) if as_json else click.echo(_trade_text(c, r))

    # click reads the help text when the command is made: set it first
    cmd.__doc__ = (f"{name.capitalize()} CONTRACTS of SERIES at the quoted premium {'+' if sign > 0 else '-'} "
                   f"the slippage.")
    cmd = click.argument("series", type=int)(click.argument("contracts")(_trading(_common(cmd))))
    return cli.command(name=name, cls=ConnectedProviderCommand)(cmd)


buy = _trade_cmd("buy", +1)
sell = _trade_cmd("sell", -1)


@cli.command(cls=ConnectedProviderCommand)
@_common
@_trading
@click.argument("series", type=int)
@click.option("--size", "contracts", default=None, help="contracts to close (default: the whole position)")
def close(network, provider, account_spec, deployment, slippage, deadline_s, yes, as_json, series, contracts):
    """Close a position (or --size of it) with a trade of opposite sign."""
    c, acct = _setup(provider, account_spec, deployment, as_json=as_json)
    _confirm(provider, yes, f"Close series {series} as {acct.address}")
    r = _run(lambda: c.close(acct, series, contracts, Decimal(slippage), deadline_s))
    _out(r) if as_json else click.echo(_trade_text(c, r))


@cli.command(cls=ConnectedProviderCommand)
@_common
@click.argument("amount")
@click.option("--yes", is_flag=True, help="do not ask for confirmation (non-local networks)")
def withdraw(network, provider, account_spec, deployment, amount, yes):
    """Withdraw AMOUNT tokens of collateral ('all' for an account without positions)."""
    from vyopt.trading import fmt_units

    c, acct = _setup(provider, account_spec, deployment)
    _confirm(provider, yes, f"Withdraw {amount} as {acct.address}")
    tx = _run(lambda: c.withdraw(acct, amount))
    paid = int(tx.event("Withdraw")["amount"])
    click.echo(f"withdrew {fmt_units(paid, c.decimals, c.decimals)} (gas {tx.gas:,}); wallet now "
               f"{fmt_units(c.token.balanceOf(acct.address), c.decimals)}")


def _who(provider, account_spec, of):
    from vyopt.trading import TradingError, ape_account

    if of:
        return of
    try:
        return ape_account(account_spec, provider.network).address
    except TradingError as err:
        raise click.ClickException(str(err)) from None


@cli.command(cls=ConnectedProviderCommand)
@_common
@click.option("--of", default=None, help="any address (default: the --account's)")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def positions(network, provider, account_spec, deployment, of, as_json):
    """Open positions: size, mark and value."""
    from vyopt.trading import format_positions

    _show_account(provider, account_spec, deployment, of, as_json, "positions", format_positions)


@cli.command(cls=ConnectedProviderCommand)
@_common
@click.option("--of", default=None, help="any address (default: the --account's)")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def health(network, provider, account_spec, deployment, of, as_json):
    """Collateral, value, initial and maintenance margin, liquidatable."""
    from vyopt.trading import format_health

    _show_account(provider, account_spec, deployment, of, as_json, "health", format_health)


def _show_account(provider, account_spec, deployment, of, as_json, what, formatter):
    """A read-only view of one account (the client's `what` method), as JSON or through `formatter`."""
    c, _ = _setup(provider, account_spec, deployment, need_account=False, as_json=as_json)
    result = _run(lambda: getattr(c, what)(_who(provider, account_spec, of)))
    _out(result) if as_json else click.echo(formatter(result))
