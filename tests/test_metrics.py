"""Classifier scores (Che et al. eqs. 3-4) against closed forms and scipy, and the digits classifier."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.stats import entropy

import data
import metrics


def test_inception_score_closed_forms():
    k = 7
    one_hot_uniform = np.eye(k)[np.arange(70) % k]  # confident, every class equally often
    assert metrics.inception_score(one_hot_uniform) == pytest.approx(k, rel=1e-12)
    collapsed = np.eye(k)[np.zeros(50, int)]  # confident, one class
    assert metrics.inception_score(collapsed) == pytest.approx(1.0, rel=1e-12)
    unsure = np.full((30, k), 1 / k)  # p(y|x) = p*(y): no information
    assert metrics.inception_score(unsure) == pytest.approx(1.0, rel=1e-12)


def random_probs(n=40, k=5, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(k, 0.3), size=n)
    return p, rng.dirichlet(np.ones(k))


def test_scores_against_scipy_entropy():
    """A second formula: scipy.stats.entropy(p, q) is KL(p || q)."""
    p, train = random_probs()
    marg = p.mean(0)
    is_ = np.exp(np.mean([entropy(r, marg) for r in p]))
    ms = np.exp(np.mean([entropy(r, train) for r in p]) - entropy(marg, train))
    assert metrics.inception_score(p) == pytest.approx(is_, rel=1e-10)
    assert metrics.mode_score(p, train) == pytest.approx(ms, rel=1e-10)
    assert metrics.label_kl(p, train) == pytest.approx(entropy(train, marg), rel=1e-10)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_printed_mode_score_equals_inception_score(seed):
    """The identity the docstring derives: eq. (4) as printed is eq. (3), whatever p(y) is."""
    p, train = random_probs(seed=seed)
    assert metrics.mode_score(p, train) == pytest.approx(metrics.inception_score(p), rel=1e-10)


def test_label_kl_sees_a_missing_class():
    train = np.full(4, 0.25)
    all_classes = np.eye(4)[np.arange(400) % 4] * 0.97 + 0.0075
    three = np.eye(4)[np.arange(400) % 3] * 0.97 + 0.0075
    assert metrics.label_kl(all_classes, train) == pytest.approx(0.0, abs=1e-12)
    # about 0.25 log(0.25 / 0.0075) - 0.75 log(0.33 / 0.25) = 0.67 for the missing class
    assert metrics.label_kl(three, train) > 0.6


def test_digits_classifier_is_trained_once_and_cached(tmp_path, monkeypatch):
    d = data.load("digits", tmp_path, "cpu")
    fits = []
    real_fit = metrics.train_classifier
    monkeypatch.setattr(metrics, "train_classifier",  # a short fit: the real one is checked below, on the cache
                        lambda *a, **kw: fits.append(1) or real_fit(*a, **kw, steps=20))
    torch.manual_seed(123)
    before = torch.get_rng_state()
    clf, acc, dist = metrics.data_classifier(d, tmp_path)
    assert torch.equal(before, torch.get_rng_state())  # training leaves the training RNG alone
    assert (tmp_path / "classifiers" / "digits-1x8px.pt").exists() and fits == [1]
    assert dist.sum() == pytest.approx(1.0) and dist == pytest.approx(np.full(10, 0.1), abs=0.01)
    again, acc_again, _ = metrics.data_classifier(d, tmp_path)  # loads the cache: the same weights, no new fit
    assert fits == [1] and acc_again == acc and torch.equal(before, torch.get_rng_state())
    assert all(torch.equal(p, q) for p, q in zip(clf.parameters(), again.parameters()))
    # the cache is what the fit produced: a fit under the same seed outside data_classifier gives the same weights
    ref, ref_acc = real_fit(d.images, d.labels, 10, steps=20)
    assert ref_acc == acc and all(torch.equal(p, q) for p, q in zip(ref.parameters(), clf.parameters()))


def test_digits_classifier_scores():
    root = Path(__file__).resolve().parent.parent / "data"  # the full fit, cached in data/ as a run would
    d = data.load("digits", root, "cpu")
    torch.manual_seed(123)
    before = torch.get_rng_state()
    real = metrics.image_scores(d, d.images[:1000], root)
    assert torch.equal(before, torch.get_rng_state())  # scoring leaves the training RNG alone
    assert real["classifier_accuracy"] > 0.9
    assert real["mode_score"] > 8 and real["label_kl"] < 0.05 and "inception_score" not in real  # one number, once
    sevens = metrics.image_scores(d, d.images[d.labels == 7], root)
    assert sevens["mode_score"] < 1.5 and sevens["label_kl"] > 1.5


def test_no_scores_without_labels(tmp_path):
    assert metrics.image_scores(data.load("ring8", tmp_path, "cpu"), torch.zeros(3, 2), tmp_path) == {}
    stand_in = data.load("cifar10", tmp_path, "cpu", stand_in=True)
    assert metrics.image_scores(stand_in, stand_in.images[:10], tmp_path) == {}


class HalfSquare(torch.nn.Module):
    """D(x) = ||x||^2 / 2 per sample: its input gradient is x, of norm ||x||."""

    def forward(self, x):
        return 0.5 * (x.flatten(1) ** 2).sum(1)


def test_d_diagnostics_against_a_per_batch_loop():
    torch.manual_seed(0)
    reals = [torch.randn(5, 2, 3, dtype=torch.float64) * s for s in (1.0, 2.0)]
    fakes = [torch.randn(5, 2, 3, dtype=torch.float64) + s for s in (0.5, -1.0)]
    out = lambda x: [0.5 * float((xi ** 2).sum()) for xi in x]
    want = {"d_real_mean": np.mean([np.mean(out(x)) for x in reals]),
            "d_real_std": np.mean([np.std(out(x), ddof=1) for x in reals]),
            "d_fake_mean": np.mean([np.mean(out(x)) for x in fakes]),
            "d_fake_std": np.mean([np.std(out(x), ddof=1) for x in fakes]),
            "grad_norm_fake": np.mean([math.sqrt(float((xi ** 2).sum())) for x in fakes for xi in x])}
    got = metrics.d_diagnostics(HalfSquare(), reals, fakes)
    assert got == pytest.approx(want, rel=1e-10)


# ---------------------------------------------------------------------------
# Stacked and compositional digits: 1,000 modes
# ---------------------------------------------------------------------------


def test_composed_digits_recover_the_three_digit_images_exactly_at_three_times_the_base_size():
    torch.manual_seed(0)
    for name, size in (("stacked_digits", 8), ("compositional_digits", 24)):
        ds = data.load(name, image_size=size)
        x, y = ds.sample_labelled(16)
        parts = metrics.composed_digits(ds, x)
        assert parts.shape == (16, 3, 1, 8, 8)
        # each part is an image of the base set with the part's digit as its label
        base = ds.base.images.flatten(1)
        for i in range(16):
            for j, digit in enumerate((y[i] // 100, y[i] // 10 % 10, y[i] % 10)):
                dist = (base - parts[i, j].flatten()).abs().max(1).values
                k = int(dist.argmin())
                assert dist[k] < 1e-5 and ds.base.labels[k] == digit


def test_composed_modes_count_a_real_sample_and_a_collapsed_generator():
    torch.manual_seed(1)
    ds = data.load("stacked_digits")
    real = metrics.composed_modes(ds, ds.sample(20000), "data")
    assert real["modes"] >= 990 and real["missed_modes"] == 1000 - real["modes"] and real["kl_modes"] < 0.1
    one = metrics.composed_modes(ds, ds.sample(1).repeat(500, 1, 1, 1), "data")
    assert one["modes"] == 1 and one["missed_modes"] == 999
    assert one["kl_modes"] == pytest.approx(np.log(1000), rel=1e-6)  # KL(point mass || uniform over 1,000)
    assert metrics.image_scores(ds, ds.sample(100), "data").keys() == real.keys()
    assert metrics.composed_modes(data.load("digits"), ds.sample(10), "data") == {}


def test_runs_started_together_train_the_classifier_once(tmp_path):
    """Two processes ask for the same uncached classifier at once (make -j, test workers): one fits, the other
    waits on the lock and loads that fit."""
    script = ("import sys, time, data, metrics\n"
              "fit = metrics.train_classifier\n"
              "def slow_short_fit(*a, **kw):\n"
              "    time.sleep(3)  # both processes are past the cache check before the first one saves\n"
              "    return fit(*a, **kw, steps=5)\n"
              "metrics.train_classifier = slow_short_fit\n"
              "_, acc, _ = metrics.data_classifier(data.load('digits', sys.argv[1], 'cpu'), sys.argv[1])\n"
              "print('accuracy', acc)\n")
    root = Path(__file__).resolve().parent.parent
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], cwd=root, stdout=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert sum(o.count("training the digits classifier") for o in outs) == 1, outs
    assert len({o.splitlines()[-1] for o in outs}) == 1  # the same accuracy: the waiting one loaded the fit
