"""Drift statistics for model monitoring: the Population Stability Index and the Page-Hinkley change detector.

Both are written from their textbook definitions (no monitoring library), in float64 with numpy only.

Population Stability Index (PSI)
    Compare the distribution of a quantity now ("actual") with a baseline ("expected") over fixed bins:

        PSI = sum_i (a_i - e_i) ln(a_i / e_i)

    a_i, e_i the shares of the actual and the baseline sample in bin i.  PSI is the symmetrised
    Kullback-Leibler divergence J(a, e) = KL(a || e) + KL(e || a); it is >= 0 and 0 iff a = e.
    Conventional reading (credit-scoring practice, e.g. Siddiqi, "Credit Risk Scorecards", 2006):
        PSI < 0.10           no significant shift                      -> band "stable"
        0.10 <= PSI < 0.25   moderate shift, investigate               -> band "moderate"
        PSI >= 0.25          significant shift, the model needs action -> band "significant"
    Binning (fixed from the baseline, never re-estimated on the actual sample):
        quantile_edges(baseline, n_bins) gives the n_bins - 1 interior edges at the baseline's
        j / n_bins quantiles (numpy's linear interpolation), duplicates removed; the outer bins are open
        (-inf and +inf), so every value falls in a bin.  Bin i holds edge_{i-1} <= x < edge_i.
    Empty bins: a share below EPS = 1e-4 is raised to EPS (not renormalised) before the logarithm, so an
    empty bin contributes a large but finite term.
    Sampling noise: for two samples of sizes n and n0 drawn from one distribution, PSI is approximately
    (1/n + 1/n0) chi^2_{B-1} (B bins), mean (B - 1)(1/n + 1/n0): the bands are meaningful only when the
    samples are large against the number of bins (e.g. B = 10 and n >= 300 keeps the mean below 0.03).

Page-Hinkley test (Page 1954, "Continuous inspection schemes"; Hinkley 1971; the online form surveyed by
Gama et al. 2014, "A survey on concept drift adaptation") for an increase in the mean of a series x_t:

        xbar_t = (x_1 + ... + x_t) / t                       running mean
        m_t    = sum_{s <= t} (x_s - xbar_s - delta)           cumulative deviation above the mean
        M_t    = min_{s <= t} m_s
        PH_t   = m_t - M_t          alarm when PH_t > lambda

    delta is the size of a change tolerated without alarm (the drift allowance), lambda the alarm
    threshold, both in the units of x.  A step of size J > delta in the mean after a long stable stretch
    makes PH grow by about J - delta per observation, so it alarms after about lambda / (J - delta)
    observations (one when J - delta > lambda).  After an alarm the detector restarts from scratch
    (reset()), so a persisting shift raises one alarm, not one per observation.

API
    EPS, PSI_MODERATE (0.1), PSI_SIGNIFICANT (0.25)
    quantile_edges(baseline, n_bins=10) -> np.ndarray          interior edges (<= n_bins - 1, ascending)
    bin_shares(sample, edges) -> np.ndarray                    share of the sample in each of len(edges)+1 bins
    psi(expected, actual, eps=EPS) -> float                    from two share vectors of the same bins
    psi_samples(baseline, sample, edges) -> float              bin both samples with `edges`, then psi
    psi_band(value) -> "stable" | "moderate" | "significant"
    PageHinkley(delta, threshold)                              .update(x) -> bool (alarm), .last (PH_t of the
                                                               latest x), .statistic, .reset(),
                                                               .state() / PageHinkley.from_state(d)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = 1e-4
PSI_MODERATE = 0.10
PSI_SIGNIFICANT = 0.25


def quantile_edges(baseline, n_bins: int = 10) -> np.ndarray:
    """Interior bin edges at the baseline's j / n_bins quantiles, j = 1 .. n_bins - 1 (duplicates removed)."""
    x = np.asarray(baseline, dtype=float)
    if x.size == 0:
        raise ValueError("drift: empty baseline")
    if n_bins < 2:
        raise ValueError("drift: at least two bins")
    if not np.all(np.isfinite(x)):
        raise ValueError("drift: non-finite baseline value")
    q = np.quantile(x, np.arange(1, n_bins) / n_bins)
    return np.unique(q)


def bin_shares(sample, edges) -> np.ndarray:
    """Share of `sample` in each bin: (-inf, e_0), [e_0, e_1), ..., [e_last, +inf)."""
    x = np.asarray(sample, dtype=float)
    if x.size == 0:
        raise ValueError("drift: empty sample")
    idx = np.searchsorted(np.asarray(edges, dtype=float), x, side="right")
    counts = np.bincount(idx, minlength=len(edges) + 1)
    return counts / x.size


def psi(expected, actual, eps: float = EPS) -> float:
    """Population Stability Index of two share vectors over the same bins (shares below eps raised to eps)."""
    e = np.maximum(np.asarray(expected, dtype=float), eps)
    a = np.maximum(np.asarray(actual, dtype=float), eps)
    if e.shape != a.shape:
        raise ValueError("drift: share vectors of different lengths")
    return float(np.sum((a - e) * np.log(a / e)))


def psi_samples(baseline, sample, edges) -> float:
    return psi(bin_shares(baseline, edges), bin_shares(sample, edges))


def psi_band(value: float) -> str:
    if value >= PSI_SIGNIFICANT:
        return "significant"
    if value >= PSI_MODERATE:
        return "moderate"
    return "stable"


@dataclass
class PageHinkley:
    """One-sided Page-Hinkley detector of an increase in the mean (module docstring)."""

    delta: float
    threshold: float
    n: int = 0
    mean: float = 0.0
    cum: float = 0.0        # m_t
    cum_min: float = 0.0    # M_t
    last: float = 0.0       # PH_t of the latest observation (kept across the restart after an alarm)

    def reset(self) -> None:
        self.n, self.mean, self.cum, self.cum_min = 0, 0.0, 0.0, 0.0

    @property
    def statistic(self) -> float:
        """PH_t = m_t - M_t of the current run (0 before the first observation and right after an alarm)."""
        return self.cum - self.cum_min

    def update(self, x: float) -> bool:
        """Add one observation; True when PH_t > threshold (the detector then restarts)."""
        x = float(x)
        if not np.isfinite(x):
            raise ValueError("drift: non-finite observation")
        self.n += 1
        self.mean += (x - self.mean) / self.n
        self.cum += x - self.mean - self.delta
        self.cum_min = self.cum if self.n == 1 else min(self.cum_min, self.cum)
        self.last = self.statistic
        if self.last > self.threshold:
            self.reset()
            return True
        return False

    def state(self) -> dict:
        return {"delta": self.delta, "threshold": self.threshold, "n": self.n, "mean": self.mean,
                "cum": self.cum, "cum_min": self.cum_min, "last": self.last}

    @classmethod
    def from_state(cls, d: dict) -> "PageHinkley":
        return cls(float(d["delta"]), float(d["threshold"]), int(d["n"]), float(d["mean"]), float(d["cum"]),
                   float(d["cum_min"]), float(d.get("last", 0.0)))
