"""Near-minimax rational approximation by iteratively re-weighted linear least squares (mpmath).

Used offline to derive the polynomial/rational coefficients baked into the Vyper math modules
(see vyopt/approx/coefficients.py, which regenerates and checks them).  Method: Loeb's linearisation
f*Q - P = 0 solved by least squares on Chebyshev-spaced samples, re-weighted by 1/Q_prev (Sanathanan-Koerner),
then Lawson weights to push the error toward equi-oscillation.  Not fast, not fancy: good to ~1e-20 for the
small degrees we need, which the check in coefficients.py confirms on a fine grid at 50 digits.
"""
from __future__ import annotations

import mpmath as mp


def _horner(c, x):
    acc = mp.mpf(0)
    for a in reversed(c):
        acc = acc * x + a
    return acc


def fit_rational(f, a, b, n, m, samples=400, iters=30, lawson=60, weight=None, dps=50):
    """Coefficients (p[0..n], q[0..m]) with q[0] = 1 minimising max |(f - P/Q) * weight| on [a, b].

    Returns (p, q, max_weighted_error) measured on the fitting samples.
    """
    with mp.workdps(dps):
        a, b = mp.mpf(a), mp.mpf(b)
        xs = [(a + b) / 2 + (b - a) / 2 * mp.cos(mp.pi * (i + mp.mpf(1) / 2) / samples) for i in range(samples)]
        fs = [f(x) for x in xs]
        ws = [mp.mpf(1) if weight is None else weight(x) for x in xs]
        qprev = [mp.mpf(1)] * samples
        lw = [mp.mpf(1)] * samples
        best = None
        for it in range(iters + lawson):
            rows, rhs = [], []
            for x, fx, w, qp, l in zip(xs, fs, ws, qprev, lw):
                s = w * mp.sqrt(l) / qp
                # unknowns: p0..pn, q1..qm ;  f*Q - P = 0 with q0 = 1  ->  P - f*(q1 x + ...) = f
                row = [s * x**j for j in range(n + 1)] + [-s * fx * x**j for j in range(1, m + 1)]
                rows.append(row)
                rhs.append(s * fx)
            A = mp.matrix(rows)
            y = mp.matrix(rhs)
            sol, _ = mp.qr_solve(A, y)
            p = [sol[j] for j in range(n + 1)]
            q = [mp.mpf(1)] + [sol[n + j] for j in range(1, m + 1)]
            qv = [_horner(q, x) for x in xs]
            errs = [abs((fx - _horner(p, x) / qx) * w) for x, fx, qx, w in zip(xs, fs, qv, ws)]
            emax = max(errs)
            if best is None or emax < best[2]:
                best = (p, q, emax)
            if it < iters:
                qprev = qv
            else:
                tot = sum(l * e for l, e in zip(lw, errs))
                lw = [l * e / tot * samples for l, e in zip(lw, errs)]
        return best
