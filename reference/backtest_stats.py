"""Backtest statistics for a margin / VaR rule: coverage tests and the Basel traffic light.

An exception ("hit") is a day whose realised loss exceeded the margin posted for it.  With a rule meant to
cover losses with probability `confidence`, hits should be Bernoulli(p), p = 1 - confidence, independent.

    kupiec_pof(n, x, p)            Kupiec (1995) proportion-of-failures, unconditional coverage, ~ chi2(1):
        LR_pof = -2 ln[(1-p)^(n-x) p^x] + 2 ln[(1-x/n)^(n-x) (x/n)^x]
    christoffersen_ind(hits)       Christoffersen (1998) independence against a first-order Markov chain,
                                   ~ chi2(1); from the 2x2 transition counts n_ij (i = yesterday, j = today):
        pi01 = n01/(n00+n01), pi11 = n11/(n10+n11), pi = (n01+n11)/(n00+n01+n10+n11)
        LR_ind = -2 ln[(1-pi)^(n00+n10) pi^(n01+n11)] + 2 ln[(1-pi01)^n00 pi01^n01 (1-pi11)^n10 pi11^n11]
    christoffersen_cc(hits, p)     conditional coverage LR_cc = LR_pof + LR_ind ~ chi2(2)
                                   (LR_pof on all n days, LR_ind on the n-1 transitions — the usual practical
                                   form; Christoffersen's exact identity drops the first day from LR_pof)
    basel_zone(x, n, p)            traffic light: green while the binomial probability of at most x hits is
                                   below 95%, red from 99.99%, yellow between (BCBS 1996).  At p = 1%,
                                   n = 250: green 0-4, yellow 5-9, red >= 10.
    basel_zone_bounds(n, p)        (last green count, last yellow count)

Conventions: 0 ln 0 = 0 (scipy.special.xlogy), so x = 0, x = n and chains with no exception-to-exception
transition are well defined (their LR terms vanish).  p-values are chi2 survival functions.
Imports numpy/scipy only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import xlogy
from scipy.stats import binom, chi2

GREEN_BELOW = 0.95  # cumulative binomial probability where yellow starts
RED_FROM = 0.9999  # cumulative binomial probability where red starts


@dataclass(frozen=True)
class TestResult:
    lr: float
    p_value: float
    dof: int


def _bernoulli_loglik(n_zero: float, n_one: float, prob_one: float) -> float:
    """ln[(1 - q)^n_zero q^n_one] with 0 ln 0 = 0."""
    return float(xlogy(n_zero, 1.0 - prob_one) + xlogy(n_one, prob_one))


def kupiec_pof(n: int, x: int, p: float) -> TestResult:
    """Kupiec's proportion-of-failures LR test: x exceptions in n days, expected rate p."""
    if not (0 < p < 1):
        raise ValueError("backtest_stats: p must be in (0, 1)")
    if not (0 <= x <= n) or n <= 0:
        raise ValueError("backtest_stats: need 0 <= x <= n and n > 0")
    lr = -2.0 * _bernoulli_loglik(n - x, x, p) + 2.0 * _bernoulli_loglik(n - x, x, x / n)
    lr = lr if lr > 0.0 else 0.0  # the unrestricted MLE maximises the likelihood; clamp -1e-15 rounding
    return TestResult(lr=lr, p_value=float(chi2.sf(lr, 1)), dof=1)


def transition_counts(hits) -> tuple[int, int, int, int]:
    """(n00, n01, n10, n11) over consecutive pairs of the hit sequence."""
    h = np.asarray(hits, dtype=bool).astype(int)
    if h.size < 2:
        return (0, 0, 0, 0)
    prev, cur = h[:-1], h[1:]
    return (
        int(np.sum((prev == 0) & (cur == 0))),
        int(np.sum((prev == 0) & (cur == 1))),
        int(np.sum((prev == 1) & (cur == 0))),
        int(np.sum((prev == 1) & (cur == 1))),
    )


def christoffersen_ind(hits) -> TestResult:
    """Christoffersen's independence LR test (first-order Markov alternative)."""
    n00, n01, n10, n11 = transition_counts(hits)
    total = n00 + n01 + n10 + n11
    if total == 0:
        raise ValueError("backtest_stats: need at least two observations")
    pi = (n01 + n11) / total
    pi01 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi11 = n11 / (n10 + n11) if n10 + n11 else 0.0
    l0 = _bernoulli_loglik(n00 + n10, n01 + n11, pi)
    l1 = _bernoulli_loglik(n00, n01, pi01) + _bernoulli_loglik(n10, n11, pi11)
    lr = -2.0 * (l0 - l1)
    lr = lr if lr > 0.0 else 0.0
    return TestResult(lr=lr, p_value=float(chi2.sf(lr, 1)), dof=1)


def christoffersen_cc(hits, p: float) -> TestResult:
    """Conditional coverage: LR_pof + LR_ind, chi2(2)."""
    h = np.asarray(hits, dtype=bool)
    lr = kupiec_pof(h.size, int(h.sum()), p).lr + christoffersen_ind(h).lr
    return TestResult(lr=lr, p_value=float(chi2.sf(lr, 2)), dof=2)


def basel_zone_bounds(n: int = 250, p: float = 0.01) -> tuple[int, int]:
    """(largest green count, largest yellow count) for n observations at exception rate p."""
    cdf = binom.cdf(np.arange(n + 1), n, p)
    green_max = int(np.flatnonzero(cdf < GREEN_BELOW).max()) if np.any(cdf < GREEN_BELOW) else -1
    yellow_max = int(np.flatnonzero(cdf < RED_FROM).max()) if np.any(cdf < RED_FROM) else -1
    return green_max, yellow_max


def basel_zone(x: int, n: int = 250, p: float = 0.01) -> str:
    """'green', 'yellow' or 'red' for x exceptions in n observations."""
    green_max, yellow_max = basel_zone_bounds(n, p)
    if x <= green_max:
        return "green"
    if x <= yellow_max:
        return "yellow"
    return "red"


def rolling_exceptions(hits, window: int) -> np.ndarray:
    """Exception count of every full window of `window` consecutive observations (len = n - window + 1)."""
    h = np.asarray(hits, dtype=float)
    if h.size < window:
        return np.zeros(0, dtype=int)
    c = np.concatenate([[0.0], np.cumsum(h)])
    return np.rint(c[window:] - c[:-window]).astype(int)
