"""Closed forms off the symmetric case (issue 33, item 5): the toy sets and mixtures with unequal weights sampled
against their definitions, and the perfect sampler's mode counts against direct sums. (Fig. 1's optimal D with
unequal covariances is in test_zero_gp.py.) Each check is on statistics the code under test does not compute."""

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation
from scipy.stats import binom

import data
import metrics

P_HQ_2D = 1 - np.exp(-4.5)  # P(|N(0, s^2 I_2)| <= 3 s): the chi-square(2) distribution function at 9


def nearest(x, centers):
    return np.linalg.norm(x[:, None, :] - centers[None], axis=2).argmin(1)


def check_components(x, centers, weights, std, embed=None):
    """Each component's share of the samples, mean and spread against the definition (5 standard errors)."""
    n = len(x)
    k = nearest(x, centers)
    share = np.bincount(k, minlength=len(centers)) / n
    assert np.all(np.abs(share - weights) < 5 * np.sqrt(weights * (1 - weights) / n) + 1e-12), share
    resid = []
    for j, c in enumerate(centers):
        xs = x[k == j]
        assert np.abs(xs.mean(0) - c).max() < 5 * std / np.sqrt(len(xs)), j
        resid.append(xs - c)
    resid = np.concatenate(resid)
    if embed is not None:  # back into the mixture's own plane: A has orthonormal columns
        resid = resid @ embed
    assert resid.std(0) == pytest.approx(np.full(resid.shape[1], std), rel=0.05)
    c = np.corrcoef(resid.T)
    assert np.abs(c - np.eye(len(c))).max() < 0.05  # independent coordinates (isotropic)


def test_a_mixture_with_unequal_weights_draws_each_component_at_its_weight_mean_and_std():
    """Catches weights ignored (uniform draws), a weight paired with another centre, std used as a variance, one
    noise draw shared by the coordinates, an embedding transposed or its shift dropped."""
    torch.manual_seed(0)
    centers = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 5.0], [-3.0, -4.0]])
    weights = np.array([0.1, 0.2, 0.3, 0.4])
    mix = data.GaussianMixture("t", centers, 0.3, "cpu", weights=weights)
    check_components(mix.sample(20000).numpy(), centers, weights, 0.3)
    # embedded in 3-D: the plane of two orthonormal columns, shifted
    A = Rotation.from_rotvec([0.3, -0.5, 0.8]).as_matrix()[:, :2]
    t = np.array([1.0, -2.0, 0.5])
    emb = data.GaussianMixture("e", centers, 0.3, "cpu", weights=weights[::-1].copy(), embed=(A, t))
    assert np.allclose(emb.centers, centers @ A.T + t)
    check_components(emb.sample(20000).numpy(), centers @ A.T + t, weights[::-1], 0.3, embed=A)


def ring_def(k, r):
    a = 2 * np.pi * np.arange(k) / k
    return np.stack([r * np.cos(a), r * np.sin(a)], 1)


@pytest.mark.parametrize("name", ["ring8", "grid25", "ring6", "submanifold7"])
def test_toy_sets_are_their_definitions_at_a_scale(name):
    """Catches a toy set's centre, radius or std off its definition, or --scale applied to centres or std only."""
    torch.manual_seed(1)
    s, embed = 1.7, None
    if name == "ring8":
        centers, std = ring_def(8, 2.0) * s, 0.02 * s
    elif name == "grid25":
        g = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
        centers, std = np.array([[a, b] for a in g for b in g]) * s, 0.05 * s
    elif name == "ring6":
        centers, std = ring_def(6, 5.0) * s, 0.1 * s
    else:  # Roth et al. 7.3: the unit circle's 7 points, rotated pi/4 about (1, -1, 0)/sqrt2, shifted (1,1,1)/sqrt3
        embed = Rotation.from_rotvec(np.pi / 4 * np.array([1.0, -1.0, 0.0]) / np.sqrt(2)).as_matrix()[:, :2]
        centers, std = ring_def(7, 1.0) * s @ embed.T + np.ones(3) / np.sqrt(3), 0.01 * s
    ds = data.load(name, scale=s)
    k = len(centers)
    assert ds.std == pytest.approx(std) and np.allclose(ds.weights, 1 / k)  # what toy_metrics reads
    assert np.abs(ds.centers[nearest(centers, ds.centers)] - centers).max() < 1e-6 and len(ds.centers) == k
    check_components(ds.sample(400 * k).numpy(), centers, np.full(k, 1 / k), std, embed)


def test_swiss_roll_has_its_definitions_moments():
    """Catches the swiss roll's parameter range, noise, 1/7.5 or --scale off scikit-learn's definition
    (t ~ U(1.5 pi, 4.5 pi), (t cos t, t sin t) + N(0, 0.25^2 I), / 7.5): moments by quadrature."""
    torch.manual_seed(2)
    s, n = 2.0, 40000
    x = data.load("swissroll", scale=s).sample(n).numpy().astype(np.float64) * 7.5 / s
    t = np.linspace(1.5 * np.pi, 4.5 * np.pi, 200001)
    mean = lambda f: np.trapezoid(f, t) / (t[-1] - t[0])
    c, sn, var = t * np.cos(t), t * np.sin(t), 0.25**2
    stats = {"x": (x[:, 0], mean(c)), "y": (x[:, 1], mean(sn)), "xx": (x[:, 0] ** 2, mean(c * c) + var),
             "yy": (x[:, 1] ** 2, mean(sn * sn) + var), "xy": (x[:, 0] * x[:, 1], mean(c * sn)),
             "r2": ((x**2).sum(1), mean(t * t) + 2 * var)}
    for key, (v, want) in stats.items():
        assert abs(v.mean() - want) < 5 * v.std() / np.sqrt(n), key
    # the noise: the distance to the noise-free spiral (its nearest point on a grid of t, 0.07 apart at most) is
    # the noise's component normal to the spiral, of std 0.25 (the arms are 2 pi apart, the radius of curvature > 4)
    curve = np.stack([c, sn], 1)[::100]
    d2 = np.min(((x[:1000, None, :] - curve[None]) ** 2).sum(2), 1)
    assert np.sqrt(d2.mean()) == pytest.approx(0.25, rel=0.1)


def test_toy_metrics_of_a_perfect_sampler_with_unequal_weights_match_the_binomial_sums():
    """Catches toy_metrics' weights ignored or unnormalized, the reverse KL's direction swapped, the high-quality
    radius off 3 std, or the capture threshold off min_count: a perfect sampler against direct sums."""
    torch.manual_seed(3)
    centers = ring_def(8, 3.0)
    w = np.array([0.004, 0.007, 0.009, 0.05, 0.13, 0.2, 0.25, 0.35])  # three modes near 20 of 2,500 samples
    mix = data.GaussianMixture("w", centers, 0.05, "cpu", weights=w)
    given = np.array([1.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 3.0])  # unnormalized, and not the sampler's weights
    n, reps = 2500, 60
    x = mix.sample(n).numpy()
    # the threshold at each mode's own count of high-quality samples (per-sample distances written here)
    near = nearest(x, centers)
    hq = np.bincount(near[np.linalg.norm(x - centers[near], axis=1) <= 3 * 0.05], minlength=8)
    for c in np.unique(hq[hq > 0]):
        assert metrics.toy_metrics(x, centers, 0.05, given, min_count=c)["modes"] == (hq >= c).sum()
    rows = [metrics.toy_metrics(mix.sample(n).numpy(), centers, 0.05, given) for _ in range(reps)]
    p_mode = binom.sf(19, n, w * P_HQ_2D)  # P(at least 20 high-quality samples in mode k)
    modes = np.array([r["modes"] for r in rows])
    assert abs(modes.mean() - p_mode.sum()) < 5 * np.sqrt((p_mode * (1 - p_mode)).sum() / reps)
    assert 4 < p_mode.sum() < 8  # the rare modes sit at the threshold: a count of 0 or 8 would not pass
    hq = np.array([r["high_quality"] for r in rows])
    assert abs(hq.mean() - P_HQ_2D) < 5 * np.sqrt(P_HQ_2D * (1 - P_HQ_2D) / (n * reps))
    p = given / given.sum()
    kl = np.sum(w * np.log(w / p))  # KL(sampler || given): q -> w as n grows; the bias is about (K-1)/(2n)
    got = np.array([r["reverse_kl"] for r in rows])
    assert abs(got.mean() - kl - 7 / (2 * n)) < 5 * got.std() / np.sqrt(reps) + 5e-4
    assert abs(kl - np.sum(p * np.log(p / w))) > 0.1 and abs(kl - np.sum(w * np.log(w * 8))) > 0.1  # swaps show


class NearestDigit(torch.nn.Module):
    """A perfect digit reader for the base set's own images: the label of the nearest base image, as logits."""

    def __init__(self, images, labels):
        super().__init__()
        self.images, self.labels = images.flatten(1), labels

    def forward(self, x):
        k = torch.cdist(x.flatten(1), self.images).argmin(1)
        return 50.0 * torch.nn.functional.one_hot(self.labels[k], 10).float()


def test_perfect_sampler_misses_the_expected_numbers_with_unequal_digit_weights(monkeypatch):
    """Catches the composed sets' digit weights unnormalized, ignored or mis-combined into the 1,000 numbers'
    weights, and composed_modes counting or reading its samples wrong: the data's own sample (`real_missed_modes`)
    against sum_m (1 - p_m)^N with p_abc = w_a w_b w_c."""
    torch.manual_seed(4)
    raw = 0.7 ** np.arange(10)  # Table 2's set 3, unnormalized as --digit-weights takes it
    ds = data.load("stacked_digits", digit_weights=raw)
    monkeypatch.setattr(metrics, "data_classifier", lambda base, root: (NearestDigit(base.images, base.labels), 1.0))
    w = raw / raw.sum()
    p = (w[:, None, None] * w[None, :, None] * w[None, None, :]).reshape(-1)  # number 100 a + 10 b + c
    assert np.allclose(ds.mode_weights, p)
    n, reps, missed = 2500, 12, []
    for _ in range(reps):
        x, y = ds.sample_labelled(n)
        res = metrics.composed_modes(ds, x, "unused")
        counts = np.bincount(y.numpy(), minlength=1000)
        q = counts / n
        nz = q > 0
        assert res["missed_modes"] == (counts == 0).sum() and res["modes"] == 1000 - res["missed_modes"]
        assert res["kl_modes"] == pytest.approx(np.sum(q[nz] * np.log(q[nz] / p[nz])), rel=1e-9)
        missed.append(res["missed_modes"])
    expect = np.sum((1 - p) ** n)
    var = np.sum((1 - p) ** n * (1 - (1 - p) ** n))  # missed indicators are negatively correlated: a bound
    assert abs(np.mean(missed) - expect) < 5 * np.sqrt(var / reps)
    assert abs(np.sum((1 - 1 / 1000) ** n) - expect) > 50  # uniform numbers would miss far fewer
