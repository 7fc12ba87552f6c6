"""Evaluation shared by every method: D's diagnostics, the toy-data mode metrics and the classifier scores.

D's diagnostics (logged during training, and in every summary): the mean and
within-batch std of D's raw output on real and on generated batches, and the
mean per-sample norm of its input gradient on generated samples.

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

Labelled image sets (Che et al. 2017, "Mode Regularized Generative Adversarial
Networks", ICLR, https://arxiv.org/abs/1612.02136, sec. 3.4, eqs. 3-4), with our own
classifier instead of the Inception network; a summary holds both scores:

- `inception_score`, eq. (3): exp(E_x KL(p(y|x) || p*(y))), p*(y) the label
  marginal of the generated samples.
- Eq. (4) as printed, exp(E_x KL(p(y|x) || p(y)) - KL(p*(y) || p(y))) with p(y)
  the training label distribution, equals the Inception score for every p(y):
  E_x KL(p(y|x) || p(y)) = -E_x H(p(y|x)) - sum_y p*(y) log p(y) and
  KL(p*(y) || p(y)) = -H(p*) - sum_y p*(y) log p(y), so their difference is
  H(p*) - E_x H(p(y|x)) = E_x KL(p(y|x) || p*(y)) (`printed_mode_score`, kept for
  the test of this identity; no summary reports it).
- `mode_score`: what the paper says the MODE score is for ("the inception score
  ... can have a perfect score" for a collapsed model; the MODE score should
  penalise a generated label distribution far from the training one), our
  choice: IS * exp(-KL(p*(y) || p(y))) = exp(E_x KL(p(y|x) || p*(y)) -
  KL(p*(y) || p(y))), eq. (4) with its first KL taken against p*(y), the
  Inception score's, so that the second term is a penalty and not cancelled.
  Why this one: it keeps eq. (4)'s second term as printed, direction included
  (KL(p* || p): finite when the generator misses classes, so a score and not 0
  for every model that misses one); it equals the Inception score when the
  generated marginal is the training one (a perfect sampler loses nothing); and
  it falls by the factor p(y) of the one class a generator collapses onto
  (KL(onehot_c || p) = -log p(c)), however confident the classifier is.
- `label_kl` KL(p(y) || p*(y)): 0 when every class is generated as often as
  in the training data, infinite when a class is missing (reported, not in a score).

The classifier is a 4-layer CNN (Che et al. use a 4-layer CNN on MNIST): three
3x3 convolutions and a linear read-out, trained with Adam on 90% of the data
set's labelled images; its accuracy on the other 10% is reported beside the
scores. It is trained once per data set and size, with its own seed and the
global RNG restored afterwards (so scoring never changes a run), and cached in
`<data-root>/classifiers/`. Runs started side by side (`make -j`, test workers)
train it once: the first takes a lock file beside the cache, the others wait for it and
load its result. Stand-in data (random labels) gets no scores.
"""

import contextlib
import fcntl
import math
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import data as datasets
import runfiles


# --------------------------------------------------------------------------
# Discriminator diagnostics (Arjovsky & Bottou, VRAL Figs. 3-4)
# --------------------------------------------------------------------------


def input_grad_norm(d, x):
    """Per-sample L2 norm of the gradient of D's raw output w.r.t. its input, shape (B,).

    Each sample's gradient is flattened before the norm; D's parameters get no gradient.
    """
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(d(x).sum(), x)
    return g.flatten(1).norm(dim=1)


def d_diagnostics(d, reals, fakes):
    """Mean and within-batch std of D's raw output on lists of real and generated batches, averaged over the
    batches, and `grad_norm_fake`, the mean over all generated samples of ||grad_x D(x)||."""
    with torch.no_grad():
        r, f = [d(x) for x in reals], [d(x) for x in fakes]
    avg = lambda outs, fn: float(np.mean([fn(o).item() for o in outs]))
    return {"d_real_mean": avg(r, torch.mean), "d_real_std": avg(r, torch.std),
            "d_fake_mean": avg(f, torch.mean), "d_fake_std": avg(f, torch.std),
            "grad_norm_fake": torch.cat([input_grad_norm(d, x) for x in fakes]).mean().item()}


# --------------------------------------------------------------------------
# Toy mixtures
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Classifier scores for labelled image sets (Che et al. eqs. 3-4)
# --------------------------------------------------------------------------


def _kl_rows(p, q):
    """KL(p_i || q) for every row p_i of p; terms with p = 0 add 0."""
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(p > 0, p * (np.log(p) - np.log(q)), 0.0)
    return t.sum(-1)


def inception_score(probs):
    """Eq. (3): exp(E_x KL(p(y|x) || p*(y))), p*(y) the mean of the rows of `probs` (N, K)."""
    probs = np.asarray(probs, np.float64)
    return float(np.exp(_kl_rows(probs, probs.mean(0)).mean()))


def printed_mode_score(probs, train_dist):
    """Eq. (4) as printed: exp(E_x KL(p(y|x) || p(y)) - KL(p*(y) || p(y))), p(y) = `train_dist`, p*(y) the generated
    marginal. It equals inception_score(probs) for any `train_dist` (module docstring): no summary reports it."""
    probs = np.asarray(probs, np.float64)
    return float(np.exp(_kl_rows(probs, train_dist).mean() - _kl_rows(probs.mean(0), train_dist)))


def mode_score(probs, train_dist):
    """The MODE score as the paper means it (our reading of eq. 4, module docstring): the Inception score times
    exp(-KL(p*(y) || p(y))), p*(y) the generated label marginal, p(y) = `train_dist` the training one."""
    probs = np.asarray(probs, np.float64)
    return inception_score(probs) * float(np.exp(-_kl_rows(probs.mean(0), train_dist)))


def label_kl(probs, train_dist):
    """KL(p(y) || p*(y)): the training label distribution against the generated label marginal."""
    return float(_kl_rows(np.asarray(train_dist, np.float64), np.asarray(probs, np.float64).mean(0)))


class Classifier(nn.Module):
    """A 4-layer CNN for (C, H, W) images: three 3x3 convolutions (the last two with stride 2), average pool, linear."""

    def __init__(self, channels, n_classes, width=32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 3, 1, 1), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, 2, 1), nn.ReLU(),
            nn.Conv2d(2 * width, 4 * width, 3, 2, 1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * width, n_classes))

    def forward(self, x):
        return self.net(x)


class TestSplitClassifier(nn.Module):
    """The classifier of the sets with a test split (MNIST, CIFAR-10), fit to all training images and scored on the
    test split: two 3x3 convolutions per scale, max-pooling, a hidden layer of 128 with dropout. On MNIST at 32 px,
    3,000 steps of batch 128 (6.4 epochs) give 99.2-99.3% on t10k (2,000 steps: 99.16%, measured)."""

    def __init__(self, channels, n_classes, size, width=32):
        super().__init__()
        conv = lambda a, b: [nn.Conv2d(a, b, 3, 1, 1), nn.ReLU()]
        self.net = nn.Sequential(
            *conv(channels, width), *conv(width, width), nn.MaxPool2d(2),
            *conv(width, 2 * width), *conv(2 * width, 2 * width), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(2 * width * (size // 4) ** 2, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, n_classes))

    def forward(self, x):
        return self.net(x)


def train_test_split_classifier(images, labels, test_images, test_labels, n_classes, steps=3000, batch_size=128,
                                seed=0):
    """Fit a TestSplitClassifier to every training image; returns (model in eval mode, accuracy on the test split).
    Inside torch.random.fork_rng, seeded by `seed`: the caller's RNG is untouched."""
    device = images.device
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        clf = TestSplitClassifier(images.shape[1], n_classes, images.shape[-1]).to(device)
        fit(clf, images, labels, torch.arange(len(images), device=device), steps, batch_size)
    with torch.no_grad():
        acc = (predict_probs(clf, test_images).argmax(1) == test_labels.cpu().numpy()).mean()
    return clf, float(acc)


def fit(clf, images, labels, pool, steps, batch_size):
    """Adam(1e-3) on the cross-entropy, `steps` batches drawn from the indices `pool`; leaves clf in eval mode."""
    opt = torch.optim.Adam(clf.parameters(), lr=1e-3)
    for _ in range(steps):
        i = pool[torch.randint(len(pool), (batch_size,)).to(images.device)]
        loss = F.cross_entropy(clf(images[i]), labels[i])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    clf.eval()


def train_classifier(images, labels, n_classes, steps=2000, batch_size=128, seed=0):
    """Fit a Classifier on 90% of (images, labels); returns (model in eval mode, accuracy on the other 10%).

    Runs inside torch.random.fork_rng, seeded by `seed`: the caller's RNG is untouched.
    """
    device = images.device
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        perm = torch.randperm(len(images)).to(device)
        n_test = max(1, len(images) // 10)
        test, train = perm[:n_test], perm[n_test:]
        clf = Classifier(images.shape[1], n_classes).to(device)
        fit(clf, images, labels, train, steps, batch_size)
    with torch.no_grad():
        acc = (predict_probs(clf, images[test]).argmax(1) == labels[test].cpu().numpy()).mean()
    return clf, float(acc)


def predict_probs(clf, x, batch=1000):
    """Softmax outputs p(y|x) of the classifier, as a numpy array (N, K)."""
    with torch.no_grad():
        return torch.cat([F.softmax(clf(x[i:i + batch]), 1) for i in range(0, len(x), batch)]).cpu().numpy()


def data_classifier(data, root):
    """The classifier for a labelled image set (trained once, cached under root/classifiers/), or None.

    Returns (classifier, held-out accuracy, training label distribution). MNIST and CIFAR-10 get the larger
    TestSplitClassifier, fit to every training image and scored on their test split (MNIST: t10k, 99.2%);
    the other sets (digits) the small Classifier, scored on a held-out tenth of their images.
    None for toy data, unlabelled folders and stand-in images.
    """
    if data.kind != "image" or getattr(data, "labels", None) is None or isinstance(data, datasets.StandIn):
        return None
    n = data.n_classes
    c, h, _ = data.shape
    train_dist = np.bincount(data.labels.cpu().numpy(), minlength=n) / len(data.labels)
    test = test_split(data, root)  # scored on the test split the data set has (MNIST's t10k), else a held-out tenth
    path = Path(root) / "classifiers" / f"{data.name}-{c}x{h}px{'-test' if test is not None else ''}.pt"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # held until the file closes; another run may have trained it meanwhile
            if not path.exists():
                print(f"training the {data.name} classifier for the MODE score ({c}x{h} px, once; cached in {path})",
                      flush=True)
                clf, acc = (train_classifier(data.images, data.labels, n) if test is None else
                            train_test_split_classifier(data.images, data.labels, test.images, test.labels, n))
                tmp = path.with_suffix(f".{os.getpid()}.tmp")  # whole or absent, even if this run is stopped
                torch.save({"model": clf.state_dict(), "accuracy": acc}, tmp)
                tmp.replace(path)
    state = torch.load(path, map_location=data.images.device)
    with torch.random.fork_rng(devices=[]):  # the initialisation it overwrites draws random numbers
        clf = (Classifier(c, n) if test is None else TestSplitClassifier(c, n, h)).to(data.images.device)
    clf.load_state_dict(state["model"])
    clf.eval()
    return clf, state["accuracy"], train_dist


def test_split(data, root):
    """MNIST's or CIFAR-10's test split at the run's size; None for the other sets or when its files are missing."""
    if data.name not in ("mnist", "cifar10"):
        return None
    try:
        return datasets.load(data.name, root, data.images.device, data.shape[1], split="test")
    except runfiles.UserError:
        return None


def image_scores(data, samples, root):
    """`inception_score`, `mode_score`, `label_kl` and `classifier_accuracy` for generated `samples` of a labelled
    image set, the 1,000-mode scores (`composed_modes`) for a stacked or compositional set, {} otherwise.

    Beside them, `real_inception_score` and `real_mode_score`: a perfect sampler's figures at the same sample
    count, the same scores of as many real images drawn at random (with replacement, by a generator of its own:
    the run's RNG untouched) from the test split where the set has one (MNIST's t10k: images the classifier
    never saw), else from the training images (digits: the classifier saw nine tenths of them)."""
    if isinstance(data, datasets.Composed):
        return composed_modes(data, samples, root)
    found = data_classifier(data, root)
    if found is None:
        return {}
    clf, acc, train_dist = found
    probs = predict_probs(clf, samples)
    ref = test_split(data, root)
    ref = (data if ref is None else ref).images
    draw = torch.randint(len(ref), (len(samples),), generator=torch.Generator().manual_seed(0))
    real = predict_probs(clf, ref[draw.to(ref.device)])
    # eq. (4) as printed is the Inception score: reported under that name, beside the MODE score as the paper means it
    return {"inception_score": inception_score(probs), "mode_score": mode_score(probs, train_dist),
            "label_kl": label_kl(probs, train_dist), "classifier_accuracy": acc,
            "real_inception_score": inception_score(real), "real_mode_score": mode_score(real, train_dist)}


# --------------------------------------------------------------------------
# Stacked and compositional digits: 1,000 modes, each digit through the per-digit classifier
# --------------------------------------------------------------------------


def composed_digits(data, x):
    """The three digit images in each sample of a stacked / compositional set, as (N, 3, 1, h, w) at the base
    set's size: the colour channels (stacked), or the three thirds of the image's middle band (compositional,
    the layout `data.Composed` builds: digits side by side, padded to a square)."""
    h = data.base.shape[-1]
    if data.how == "stacked":
        return F.interpolate(x, size=(h, h), mode="bilinear", antialias=True, align_corners=False).unsqueeze(2)
    x = F.interpolate(x, size=(3 * h, 3 * h), mode="bilinear", antialias=True, align_corners=False)
    band = x[:, :, h:2 * h]
    return torch.stack([band[..., i * h:(i + 1) * h] for i in range(3)], 1)


def composed_modes(data, samples, root):
    """`modes` (numbers 0..999 generated at least once), `missed_modes` (1000 - modes) and `kl_modes` of a
    stacked / compositional set's samples, each digit classified by the base set's classifier ({} otherwise).

    Che et al. 2017 Table 2: "#Miss ... the set of numbers that the model never generates", and a KL between
    the generated and the training distribution of numbers. KL(train || generated) is infinite as soon as one
    number is missed, yet their table reports finite KLs beside hundreds of missed numbers: we compute
    KL(generated || train), `kl_modes`, finite for every generator.

    `modes_over_10`: the numbers generated more than 10 times, the 0-GP authors' stacked-MNIST count (their
    count_modes, on 100,000 samples), with `perfect_modes_over_10`, a perfect sampler's at the same count, beside.
    Their code sends a digit whose top class probability is under 0.5 to class 0; we take the top class.
    """
    if not isinstance(data, datasets.Composed):
        return {}
    found = data_classifier(data.base, root)
    if found is None:
        return {}
    clf = found[0]
    parts = composed_digits(data, samples)
    digits = predict_probs(clf, parts.flatten(0, 1)).argmax(1).reshape(-1, 3)
    numbers = digits @ np.array([100, 10, 1])
    counts = np.bincount(numbers, minlength=1000)
    q = counts / len(numbers)
    p = np.asarray(data.mode_weights, np.float64)
    nz = q > 0
    return {"modes": int(nz.sum()), "missed_modes": int(1000 - nz.sum()),
            "kl_modes": float(np.sum(q[nz] * np.log(q[nz] / p[nz]))),
            "kl_train_modes": kl_train_smoothed(counts, p), "digit_accuracy": found[1],
            "perfect_missed_modes": expected_missed(p, len(numbers)),
            "modes_over_10": int((counts > 10).sum()), "perfect_modes_over_10": expected_over(p, len(numbers), 10)}


def expected_missed(p, n):
    """The number of modes a perfect sampler misses on average in n samples: sum_k (1 - p_k)^n, p the true mode
    probabilities (each mode is missed by all n independent draws with probability (1 - p_k)^n). The floor of
    #Miss at n samples: a model's #Miss is read beside it."""
    p = np.asarray(p, np.float64)
    return float(np.sum((1.0 - p) ** n))


def expected_over(p, n, k):
    """The number of modes a perfect sampler gives more than k of n samples, on average: sum_m P(Binomial(n, p_m)
    > k), one minus the lower tail summed term by term in log space (to about 1e-12 a mode). The 0-GP authors'
    stacked-MNIST count (GradientPenaltiesGANImage.py, count_modes: more than 10 of 100,000 samples) is read
    beside it."""
    p = np.clip(np.asarray(p, np.float64), 1e-300, 1.0)
    j = np.arange(k + 1)[:, None]
    log_choose = np.array([math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) for i in range(k + 1)])
    log_terms = log_choose[:, None] + j * np.log(p) + (n - j) * np.log1p(-np.minimum(p, 1 - 1e-16))
    return float(np.sum(np.clip(1.0 - np.exp(log_terms).sum(0), 0.0, 1.0)))


def kl_train_smoothed(counts, p):
    """KL(p || q~), p the training distribution of modes, q~ = (counts + 1) / (N + K) the generated histogram with
    one pseudo-count per mode (add-one smoothing): the direction of Che et al.'s Table 2 caption (training against
    generated), finite when modes are missed and growing with the mass they hold."""
    counts, p = np.asarray(counts, np.float64), np.asarray(p, np.float64)
    q = (counts + 1) / (counts.sum() + len(counts))
    nz = p > 0
    return float(np.sum(p[nz] * np.log(p[nz] / q[nz])))


# --------------------------------------------------------------------------
# The third-party noisy discriminator (Che et al. 2017, sec. 3.4 and 4.2.1)
# --------------------------------------------------------------------------


def missing_mode_estimate(d, train, fake, test, sigma, steps=2000, batch_size=64, lr=2e-4, threshold=0.9, seed=0):
    """Count the test images a third-party discriminator places on missing modes (Che et al. sec. 3.4, Table 3).

    `d` is a fresh network (Che et al.: the GAN's D architecture and
    hyper-parameters), trained here, never used to train a generator, to tell
    the training images `train` (label 1) from the generated ones `fake`
    (label 0), with Gaussian noise of std `sigma` added to its inputs while it
    trains (so it cannot separate the two perfectly). Its output
    D(t) = sigmoid(logit) then estimates p_d / (p_d + p_g) (eq. 5, written
    with the labels the other way round); a test image with D(t) > `threshold`
    lies where the generator puts almost no mass: on a missing mode. Adam(lr,
    betas (0.5, 0.999)), `steps` steps of one real and one generated batch.
    Runs under its own seed, the caller's RNG untouched.

    Returns {"missing": count, "fraction": count / len(test), "scores": D(t) per test image}.
    """
    device = train.device
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        d.train()
        opt = torch.optim.Adam(d.parameters(), lr=lr, betas=(0.5, 0.999))
        for _ in range(steps):
            r = train[torch.randint(len(train), (batch_size,), device=device)]
            f = fake[torch.randint(len(fake), (batch_size,), device=device)]
            r, f = r + sigma * torch.randn_like(r), f + sigma * torch.randn_like(f)
            loss = F.softplus(-d(r)).mean() + F.softplus(d(f)).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    d.eval()
    with torch.no_grad():
        scores = torch.cat([torch.sigmoid(d(test[i:i + 500])) for i in range(0, len(test), 500)]).cpu().numpy()
    count = int((scores > threshold).sum())
    return {"missing": count, "fraction": count / len(test), "scores": scores}


# --------------------------------------------------------------------------
# FID, Inception score and KID with torch-fidelity (image runs, --fid-samples)
# --------------------------------------------------------------------------

FIDELITY_EXTRACTOR = "inception-v3-compat"  # torch-fidelity's port of the TensorFlow FID Inception (2015-12-05)
FIDELITY_LAYERS = None  # its default features: 2048-d pool for FID and KID, the logits for IS
WEIGHTS_ENV = "INCEPTION_WEIGHTS"
WEIGHTS_FILE = "weights-inception-2015-12-05-6726825d.pth"
WEIGHTS_HELP = (f"the Inception weights ({WEIGHTS_FILE}) are neither cached nor downloadable here: on a machine with "
                "internet, torch-fidelity downloads them once into torch's hub cache; else fetch them from "
                "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/" + WEIGHTS_FILE +
                f" and give the file with --inception-weights PATH or the {WEIGHTS_ENV} environment variable")


class FidelityUnavailable(Exception):
    """torch-fidelity or its Inception weights are missing: one line says what to do."""


class _Uint8Images(torch.utils.data.Dataset):
    """Images (N, C, H, W) in [-1, 1] as the uint8 RGB tensors torch-fidelity reads (grey repeated to 3 channels)."""

    def __init__(self, x):
        x = ((x.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        self.x = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i]


def fidelity(fake, real, weights="", device="cpu", extractor=None, layers=None, batch_size=64):
    """FID, Inception score and KID of `fake` against `real` (N, C, H, W in [-1, 1]) by torch-fidelity.

    `weights`: a local file of the extractor's weights ("" : $INCEPTION_WEIGHTS,
    else the library's download into torch's hub cache). `extractor`, `layers`
    ({"fid": name, "kid": ..., "isc": ...}): another registered torch-fidelity
    extractor and its feature names (None: FIDELITY_EXTRACTOR, FIDELITY_LAYERS;
    the tests use a stand-in). KID uses subsets of min(1,000, N) samples, IS 10
    splits. Raises FidelityUnavailable.
    """
    extractor, layers = extractor or FIDELITY_EXTRACTOR, layers or FIDELITY_LAYERS
    try:
        import torch_fidelity
    except ImportError:
        raise FidelityUnavailable("torch-fidelity is not installed (pip install -r requirements.txt)") from None
    weights = weights or os.environ.get(WEIGHTS_ENV, "")
    if weights and not Path(weights).is_file():
        raise FidelityUnavailable(f"--inception-weights / ${WEIGHTS_ENV}: no file at {weights}")
    n = min(len(fake), len(real))
    kw = dict(input1=_Uint8Images(fake), input2=_Uint8Images(real), fid=True, kid=True, isc=True, cache=False,
              cuda=torch.device(device).type == "cuda", batch_size=batch_size, verbose=False,
              feature_extractor=extractor, kid_subset_size=min(1000, n), samples_shuffle=False,
              save_cpu_ram=True)  # no DataLoader workers: the images are in memory already
    kw.update({f"feature_layer_{m}": name for m, name in (layers or {}).items()})
    if weights:
        kw["feature_extractor_weights_path"] = weights
    try:
        on_gpu = torch.cuda.device(device) if torch.device(device).type == "cuda" else contextlib.nullcontext()
        with torch.random.fork_rng(devices=[]), on_gpu:  # the library's .cuda() means the current device
            out = torch_fidelity.calculate_metrics(**kw)
    except OSError as e:  # the download (URLError is an OSError) or a cache write failed
        raise FidelityUnavailable(f"{WEIGHTS_HELP} ({type(e).__name__}: {e})") from None
    # the Inception network's IS under its own name: `inception_score` is eq. (3) with our classifier (image_scores)
    return {"fid": out["frechet_inception_distance"], "inception_v3_score": out["inception_score_mean"],
            "inception_v3_score_std": out["inception_score_std"], "kid": out["kernel_inception_distance_mean"],
            "kid_std": out["kernel_inception_distance_std"],
            "fidelity": {"library": f"torch-fidelity {torch_fidelity.__version__}", "extractor": extractor,
                         "weights": weights or "torch hub cache", "fake_samples": len(fake), "real_samples": len(real),
                         "kid_subset_size": min(1000, n), "isc_splits": 10}}


def reference_images(data, n, seed=0):
    """n real images of an image set: distinct ones (a fixed permutation) where the set is held in memory."""
    images = getattr(data, "images", None)
    if images is not None:
        g = torch.Generator().manual_seed(seed)
        return images[torch.randperm(len(images), generator=g)[:n].to(images.device)]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.cat([data.sample(min(n, 500)) for _ in range(-(-n // 500))])[:n]
