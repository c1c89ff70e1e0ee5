"""Helpers of the market tests (no fixtures here)."""
import boa
from eth_abi import decode

from reference import market as ref
from vyopt import market as mk

WAD = 10**18
MAX = 2**255 - 1


def now():
    return boa.env.evm.patch.timestamp


def reason(fn, *args, **kwargs):
    """Call and return the revert reason string (None if the call succeeded)."""
    try:
        fn(*args, **kwargs)
    except boa.BoaError:
        out = fn.contract._computation.output if hasattr(fn, "contract") else b""
        if out[:4] == bytes.fromhex("08c379a0"):
            return decode(["string"], out[4:])[0]
        return out.hex()
    return None


def set_spot(p, price, wait=300):
    """Move the feed to `price` (whole units) in steps the oracle accepts (each within 95% of its max deviation),
    `wait` seconds before each update; returns the oracle price (WAD)."""
    dev = p.registry.oracle_max_deviation() / WAD * 0.95
    cur = p.oracle.peek()[0] / WAD
    dec = p.feed.decimals()
    while True:
        boa.env.time_travel(seconds=wait)
        cur = min(price, cur * (1 + dev)) if price > cur else max(price, cur * (1 - dev))
        p.feed.set_answer(int(round(cur * 10**dec)))
        p.oracle.update()
        if cur == price:
            return p.oracle.peek()[0]


def jump_feed(p, price):
    """Post a jumped answer without letting the oracle accept it (status 'jump')."""
    p.feed.set_answer(int(round(price * 10**p.feed.decimals())))


def refresh(p, wait=0):
    """Let `wait` seconds pass and re-post the current answer (keeps the oracle fresh)."""
    if wait:
        boa.env.time_travel(seconds=wait)
    p.feed.set_answer(p.feed.answer())
    p.oracle.update()


def buy(env, who, sid, size, limit=MAX):
    return env.m.trade(sid, int(size * WAD), limit, mk.deadline(), sender=who)


def sell(env, who, sid, size, limit=0):
    return env.m.trade(sid, -int(size * WAD), limit, mk.deadline(), sender=who)


def ref_state(env):
    return mk.reference_state(env.p)


def ref_positions(env, who):
    return mk.positions(env.m, who, env.table)


def storage_snapshot(env, accounts):
    """Everything an action could change: balances, positions, lists, pool, funds, shares, series count."""
    m = env.m
    snap = {
        "token": env.p.collateral.balanceOf(m.address),
        "insurance": m.insurance_fund(),
        "fees": m.protocol_fees(),
        "shares": m.total_shares(),
        "series": m.series_count(),
        "pool": (m.collateral(m.address), tuple(m.open_series(m.address))),
    }
    for a in accounts:
        snap[str(a)] = (m.collateral(a), tuple(m.open_series(a)), m.lp_shares(a),
                        tuple(m.position(a, s) for s in env.ids), env.p.collateral.balanceOf(a))
    snap["oi"] = tuple(m.open_interest(s) for s in env.ids)
    snap["pool_pos"] = tuple(m.position(m.address, s) for s in env.ids)
    return snap


def internal_total(env, accounts):
    """Sum of every internal balance (WAD): accounts + pool cash + insurance + fees."""
    m = env.m
    return sum(m.collateral(a) for a in accounts) + m.collateral(m.address) + m.insurance_fund() + m.protocol_fees()


def write_to(env, who, sid, fraction=0.9, first=64, smallest=1):
    """Write `sid` in halving chunks (from `first` contracts down to `smallest`) until the account's initial
    margin reaches about `fraction` of its value (the margin is not linear in the size once other legs are
    held, so sizes are found by trying); returns the contracts written."""
    total, chunk = 0, first
    while chunk >= smallest:
        try:
            sell(env, who, sid, chunk)
        except boa.BoaError:
            chunk = chunk / 2 if isinstance(chunk, float) else chunk // 2
            continue
        total += chunk
        _, value, im, _ = env.m.account_state(who)
        if im >= fraction * value:
            break
    return total
