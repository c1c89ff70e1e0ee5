"""SDK for the options market: units, listing a chain, funding actors, reading positions, and the bridge from
on-chain state to the reference model (reference/market.py).

Works with titanoboa contracts (deploy_local) and, where noted, with ape contracts (the ape scripts): both
expose the same ABI names; the sender keyword differs (boa: sender=address, ape: sender=account).

API
    WAD, YEAR, wad(x), unwad(n)
    token_amount(collateral, x) -> int                  x whole tokens -> token units (decimals())
    list_chain(p, strikes, expiries=None, kinds=(True, False)) -> list[int]   boa: list series as the risk manager
    fund(p, account, tokens, deposit=True)             boa: mint, approve, deposit
    fund_lp(p, account, tokens)                        boa: mint, approve, lp_deposit
    series_table(market) -> dict[int, reference.market.Series]
    positions(market, account) -> dict[Series, float]  open positions, contracts
    reference_state(p) -> reference.market.MarketState the registry/oracle state as the reference sees it
    account_summary(market, account) -> dict          collateral, value, margins, health (WAD ints and floats)
    deadline(seconds=600) -> int                       now + seconds (boa clock)
"""
from __future__ import annotations

from decimal import Decimal

from reference import market as ref

WAD = 10**18
YEAR = 365 * 86400
MAX_UINT = 2**256 - 1


def wad(x) -> int:
    """A number as a WAD integer (decimal strings exact)."""
    if isinstance(x, int):
        return x * WAD
    return int((Decimal(str(x)) * WAD).to_integral_value())


def unwad(n) -> float:
    return int(n) / WAD


def token_amount(collateral, x) -> int:
    """Whole tokens (float/str/int) -> the token's own units."""
    d = int(collateral.decimals())
    return int((Decimal(str(x)) * (10**d)).to_integral_value())


def now() -> int:
    import boa

    return boa.env.evm.patch.timestamp


def deadline(seconds: int = 600) -> int:
    return now() + seconds


def list_chain(p, strikes, expiries=None, kinds=(True, False)) -> list[int]:
    """boa: list every (strike, expiry, call/put) as the registry's risk manager; strikes in whole units."""
    expiries = list(expiries if expiries is not None else p.registry.expiries())
    ids = []
    for e in expiries:
        for k in strikes:
            for is_call in kinds:
                ids.append(p.market.list_series(wad(k), e, is_call, sender=p.risk_manager))
    return ids


def fund(p, account, tokens, deposit: bool = True) -> int:
    """boa: mint `tokens` whole collateral tokens to `account`, approve the market, deposit them (token units)."""
    amount = token_amount(p.collateral, tokens)
    p.collateral.mint(account, amount)
    p.collateral.approve(p.market.address, MAX_UINT, sender=account)
    if deposit:
        p.market.deposit(amount, sender=account)
    return amount


def fund_lp(p, account, tokens) -> int:
    """boa: mint, approve and lp_deposit `tokens` whole collateral tokens; returns the shares minted."""
    amount = token_amount(p.collateral, tokens)
    p.collateral.mint(account, amount)
    p.collateral.approve(p.market.address, MAX_UINT, sender=account)
    return p.market.lp_deposit(amount, sender=account)


def series_table(market) -> dict:
    """Every listed series: id -> reference.market.Series."""
    out = {}
    for sid in range(1, int(market.series_count()) + 1):
        strike, expiry, is_call = market.series(sid)
        out[sid] = ref.series_from_wad(strike, expiry, is_call)
    return out


def positions(market, account, table=None) -> dict:
    """Open positions of `account` (or of the pool: the market's address) as {Series: contracts}."""
    table = table or series_table(market)
    out = {}
    for sid in market.open_series(account):
        out[table[int(sid)]] = unwad(market.position(account, sid))
    return out


KIND_SMILE = 2   # contracts/risk/timelock.vy


def pending_smiles(registry, expiries) -> dict:
    """{expiry: (queued smile tuple, eta)} of the smile changes queued in the registry for `expiries` (the engine
    quotes from the worse of the current and the queued smile while one is pending).  Works with any contract
    handle (boa, ape, the audit's) whose struct returns are tuples or have an `eta` field."""
    out = {}
    for e in expiries:
        cid = int(registry.pending_change(KIND_SMILE, e))
        if cid:
            c = registry.change(cid)
            eta = c.eta if hasattr(c, "eta") else tuple(c)[3]
            out[int(e)] = (tuple(int(x) for x in registry.queued_smile(cid)), int(eta))
    return out


def reference_state(p, spot: int | None = None, at: int | None = None) -> ref.MarketState:
    """The reference model's view of the market now: oracle price (peek), registry smiles, grid, parameters,
    and the recorded settlement prices of every expiry with series."""
    reg = p.registry
    if spot is None:
        spot = p.oracle.peek()[0]
    t = now() if at is None else at
    table = series_table(p.market)
    expiries = sorted({s.expiry for s in table.values()} | set(int(e) for e in reg.expiries()))
    smiles, written = {}, {}
    for e in expiries:
        if e > t and reg.is_listed(e):
            smiles[e] = tuple(reg.smile(e))
            written[e] = reg.smile_updated_at(e)
    settlement = {}
    for e in expiries:
        sp = p.market.settlement_price(e)
        if sp:
            settlement[e] = sp
    params = [reg.param(i) for i in range(11)]
    return ref.state_from_wad(spot, t, smiles, [tuple(s) for s in reg.scenarios()], params, settlement,
                              written=written, pending=pending_smiles(reg, smiles))


def account_summary(market, account) -> dict:
    """Collateral, value, initial and maintenance margin (WAD ints) and the health ratio value / maintenance."""
    cash, value, im, mm = market.account_state(account)
    return {
        "collateral": int(cash),
        "value": int(value),
        "initial": int(im),
        "maintenance": int(mm),
        "health": (int(value) / int(mm)) if int(mm) else float("inf"),
        "liquidatable": int(value) < int(mm),
    }
