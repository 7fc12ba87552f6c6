"""Evaluation shared by every method: the toy-data mode metrics.

Toy mixtures (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018):

- a generated sample is *high quality* when it lies within 3 std of the
  nearest mode centre;
- a mode is *captured* when at least `min_count` high-quality samples have it
  as their nearest centre;
- the *reverse KL* is KL(q || p) between q, the histogram over modes of the
  nearest centre of every generated sample, and p, the true mode weights.

Decisions: 2,500 samples and `min_count` = 20 by default (a mode must hold
at least 20 of the 2,500 samples, a fifth of its expected share on the
25-mode grid, so a few stray points do not count as a captured mode).
Every sample, high quality or not, enters q, so the reverse KL is defined
even for a generator with no high-quality sample; modes with q = 0 add 0.
"""

import numpy as np


def nearest_mode(x, centers):
    """Index of, and distance to, the nearest centre for each row of x."""
    d = np.linalg.norm(x[:, None, :] - centers[None, :, :], axis=2)
    k = d.argmin(1)
    return k, d[np.arange(len(x)), k]


def toy_metrics(x, centers, std, weights=None, min_count=20):
    """`modes` captured, fraction of `high_quality` samples and `reverse_kl` of the mode histogram."""
    x, centers = np.asarray(x, np.float64), np.asarray(centers, np.float64)
    K = len(centers)
    p = np.full(K, 1.0 / K) if weights is None else np.asarray(weights, np.float64) / np.sum(weights)
    k, dist = nearest_mode(x, centers)
    good = dist <= 3 * std
    hq_counts = np.bincount(k[good], minlength=K)
    q = np.bincount(k, minlength=K) / len(x)
    nz = q > 0
    return {
        "modes": int((hq_counts >= min_count).sum()),
        "high_quality": float(good.mean()),
        "reverse_kl": float(np.sum(q[nz] * np.log(q[nz] / p[nz]))),
    }
