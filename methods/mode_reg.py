"""Che et al. 2017: mode-regularized GANs (Reg-GAN): an encoder, the metric regularizer and the mode regularizer.

Paper
  Che, Li, Jacob, Bengio & Li, "Mode Regularized Generative Adversarial Networks", ICLR 2017.
  https://arxiv.org/abs/1612.02136 (https://openreview.net/forum?id=HJKkY35le)
  The authors published no code. Manifold-diffusion training (sec. 3.3, MDGAN) is methods/mdgan.py.

A GAN's generator learns only through D's gradient, which pushes every sample towards
the nearest high-D region: small modes that G never visits attract nothing (sec. 3, Fig. 2).
Reg-GAN trains an encoder E: X -> Z beside G and adds two terms on real data x: a
geometric distance between x and its reconstruction G(E(x)) (every real x, so every
mode, pulls on G) and D's verdict on G(E(x)) (reconstructions of missing modes must
look real). D(x) = sigmoid(logit(x)) below:

  eq. (1)   T_G = -E_z log D(G(z)) + E_x [lambda1 d(x, G(E(x))) + lambda2 log D(G(E(x)))]   (as printed)
  eq. (2)   T_E =                    E_x [lambda1 d(x, G(E(x))) + lambda2 log D(G(E(x)))]   (as printed)
  implemented, with the mode term's sign as the paper means it (deviation 1):
            R   = E_x [lambda1 d(x, G(E(x))) - lambda2 log D(G(E(x)))]                     regularizer
            T_G = -E_z log D(G(z)) + R,  T_E = R                                           generator_losses
  sec. 3.1  d: pixel-wise squared L2, or a distance between D's features                    distance
  D: -E_x log D(x) - E_z log(1 - D(G(z))), the GAN's (unchanged by Reg-GAN)                  d_loss
  sec. 3.4  the Inception score (eq. 3; eq. 4 as printed equals it) and a MODE score that penalises
            the generated label distribution's distance from the training one; missed modes and KL of the
            1,000-mode sets (Table 2); the third-party noisy discriminator (Table 3): metrics.py (final evaluation)
  app. B    G's BatchNorm keeps separate statistics for noise and encoder batches         nets.split_batch_norm

Run
    make toy-mode-reg              app. C, Fig. 9: 6 Gaussians, GAN vs Reg-GAN, density heatmaps over training
    make digits-mode-reg           the sec. 4.1.1 grid subset and the sec. 4.1.2 compositional runs, CPU-sized
    make mnist-mode-reg-grid       sec. 4.1.1, Table 1, Fig. 3: MODE scores over the hyper-parameter grid (GRID=small)
    make compositional-mnist-mode-reg   sec. 4.1.2, Table 2: four digit distributions, DCGAN vs Reg-DCGAN
    python -m methods.mode_reg --dataset ring6 --out runs/mode-reg            Reg-GAN on the toy ring
    python -m methods.mode_reg --model gan --dataset ring6 --out runs/gan     the same nets and loop, no regularizer
    python -m methods.mode_reg grid --dataset digits --grid small --out runs/grid    Fig. 3 (GAN and Reg-GAN per point)
    python -m methods.mode_reg table runs/comp/* --out runs/comp              Table 2 from <set>-<model>-s<seed> runs
    python -m methods.mode_reg --help

Logged beside the harness's D diagnostics: the reconstruction distance and D's output
on G(E(x)). On 2-D toy data the samples at every `--heat-steps` step are kept in
heat_<step>.npz; heatmaps.png draws their densities beside the target (Fig. 9) and
`over_time` in summary.json holds the modes captured at those steps. Image runs add,
for each `--third-party-sigma`, the count of test images the third-party noisy D places
on missing modes (`missing_sigma<s>`), and a grid of the test images it flags most
confidently (missing_sigma<s>.png, as Fig. 5).

Deviations and decisions
1. The sign of the mode regularizer. Eqs. (1)-(2) print `+ lambda2 log D(G(E(x)))` in
   losses G and E minimise, which would push reconstructions to look fake. The text
   ("encourage G(E(x)) to move towards a nearby mode") and the MDGAN pseudo-code
   (app. A: ascent on lambda log D1(G(E(x))) - ||x - G(E(x))||^2) say the opposite: we
   minimise lambda2 * (-log D(G(E(x)))), the non-saturating form of the GAN loss G
   already uses on G(z). Tested: a step on the regularizer raises D(G(E(x))).
2. d(x, y), the metric of lambda1 d (sec. 3.1: "the pixel-wise L2 distance"), per sample, averaged over
   the batch. `--distance pixel` (the default): ||x - y||^2 summed over all pixels, the norm app. A's
   MDGAN line 3 writes (weight 1 against lambda on log D1); `mean`: the same divided by the number of
   pixels; `feature`: ||f(x) - f(y)||^2 with f D's last hidden layer (the "distance of learned features
   by the discriminator" of sec. 3.1). The paper states no scale for d beside its lambdas (0.2, 0.4 on
   images; 0.005 on the toy). Measured (issue 36; 32 px compositional digits, width 16, batch 64,
   2,000 steps, seeds 0-2, `make reproduce-cpu`'s Table 2 and 3 runs; lambda1 d over the GAN term
   -log D(G(z)), from the logged `metric_term` and `gan_term`): with `pixel` it is about 22 at step 50,
   4.4 at 250, 2.4 at 500, 1.1-1.6 at 1,000 and 0.65 at 2,000: Reg-DCGAN starts as an autoencoder and
   ends a GAN with a regularizer of the GAN term's size. With `mean` it is 0.01-0.04 throughout: the
   regularizer is a few percent of the objective, and the models behave as the plain DCGAN. #Miss of
   10,000 samples (of 1,000 numbers; seeds 0/1/2): Table 2 set 1 (z 100), DCGAN 79/79/47, Reg-DCGAN
   pixel 37/45/56, mean 22/97/30; Table 3 (z 200), DCGAN 103/48/27, Reg-GAN pixel 24/23/39, mean
   133/56/29, MDGAN pixel 31/21/28, mean 882/925/833 (with d 1,024 times smaller, line 3 is a GAN step
   against D1 and MDGAN collapses). So the paper's lambdas fit d summed over the pixels: the default on
   images and, as the squared distance of the 2-D points, on toy data. `--distance mean` keeps the
   per-pixel mean (MREG_ALT_DIST=mean runs it beside the default in the Table 2 and 3 targets).
   `rec_distance`, `gan_term`, `metric_term` and `mode_term` are logged. With `--distance feature` and
   `--dropout`, x and G(E(x)) pass through different dropout masks.
3. One backward pass updates G and E: T_G and T_E share the regularizer and T_G's
   first term does not depend on E, so d T_G / d theta_E = d T_E / d theta_E (tested).
   D is the GAN's: it sees real data and G(z), never G(E(x)) (the paper trains no D on
   reconstructions in Reg-GAN; MDGAN's D1 does).
4. Toy set-up (app. C, "following Metz et al. 2016"): G with 2 hidden layers of 128
   ReLU units from z ~ U[0, 1]^3; D with one hidden layer of ReLU units (128: the width
   is not given); E the generator's mirror (2 x 128 ReLU; output: deviation 10); Adam(1e-4) for
   all three with beta1 0.5 and batch 512 (Metz et al.'s; the paper gives neither);
   lambda1 = lambda2 = 0.005; 25,000 generator steps (the paper plots "epochs" without
   a count). The data are the paper's: 6 Gaussians of std 0.1 on a circle of radius 5.
5. Images (sec. 4.1.2, 4.2, app. B): DCGAN G and D (BatchNorm in both, as DCGAN),
   z ~ N(0, I_100) (our choice: the paper names no prior, DCGAN drew U[-1, 1]),
   Adam(2e-4, beta1 0.5), batch 64; E the generator reversed
   (nets.DCGANEncoder: convolutions for deconvolutions, BatchNorm where G has it,
   ReLU, a linear output). lambda1 = 0.2, lambda2 = 0.4, the only values the paper
   gives (sec. 4.1.1); Table 2's and Fig. 6's are not given.
6. Separate batch statistics (app. B): every BatchNorm of G becomes a SplitBatchNorm2d
   with shared scale and offset and two sets of running statistics, "noise" for G(z)
   and "encoder" for G(E(x)); the two kinds of batches never share a forward pass, so
   each is normalized by its own batch statistics (tested). Our runs draw samples with G
   in training mode (batch statistics, as DCGAN's code), so the running statistics the
   split keeps apart matter to a user who samples G in eval mode, not to our numbers.
7. The grid (sec. 4.1.1, Table 1): MLP G and D of nLayer hidden layers of size ReLU
   units, G's output linear, dropoutD = dropout 0.5 on D's hidden layers, optimG/optimD
   Adam (betas 0.5, 0.999) or plain SGD, one lr for both nets, z ~ N(0, I_100) (our
   choice); the Table 1 values. Run folders are named by Table 1's sizes (before
   `--size-scale`); config.json holds the sizes run.
   `--grid full` is every one of its 2,592 points, `--grid small` 24 points drawn from
   them without replacement by a fixed seed (0), each run as GAN and as Reg-GAN at the
   same seed. `--size-scale` multiplies sizeG and sizeD (0.25 for the 8 x 8 digits on a
   CPU). The paper trains each point for an unstated time; we give `--steps`.
   A grid run whose loss goes NaN or inf (on MNIST at full sizes: Reg-GAN at the point
   G2x3200-D4x256, SGD for both nets, lr 1e-2, at step 7) is a failed point, not an
   error: its runs carry `--record-divergence`, so the run ends with a summary.json that
   says where it diverged and scores it at each score's floor (MODE 0, Inception 1), and
   Fig. 3's distributions and the paired count keep every point. Without the flag (any
   single run) a NaN loss stops the run with an error, as in every method here; to leave
   the failed points out instead, read grid.json's `diverged`.
8. Table 2 (sec. 4.1.2): the paper says only that the three digits are "sampled with
   different probabilities" in four sets. Ours (`--digit-weights`, the ten digit
   probabilities up to a constant; SETS): set 1 uniform; set 2 p(d) ~ d + 10; set 3
   p(d) ~ 0.92^d; set 4 digits 0 and 1 at 0.55 of the others' probability: skewed sets,
   each with fewer often-drawn numbers, yet skewed only so far that a perfect sampler
   misses almost none at the count scored. #Miss counts the numbers 0-999 never generated
   in `--eval-samples` samples (TABLE2_SAMPLES, 10,000, in the targets), each digit read
   by our per-digit classifier (metrics.composed_modes). A perfect sampler's expected #Miss
   at the count scored, sum_k (1 - p_k)^n (`perfect_missed_modes`, the floor of #Miss), is
   0.05, 1.08, 1.79 and 2.87 for sets 1-4 at 10,000 samples (tested: below 5 in every
   target). The former sets (p ~ d + 1, 0.7^d, digits 0 and 1 ten times rarer) left a
   perfect sampler 89, 262 and 151 missed numbers at 10,000 samples, and uniform digits 82
   at 2,500: #Miss measured the sample count, not the model. A number drawn n p_k times on
   average is missed with probability exp(-n p_k): below 5 of 1,000 missed at 10,000
   samples allows only mild skews (the rarest number about 1/4,500); more skew needs more
   samples (the floor falls fast: set 4 at 20,000 leaves 0.13). Beside it, the same count
   on as many real samples (`real_missed_modes`). KL: Table 2's caption compares the
   generated with the training distribution; KL(train || generated) is infinite once
   one number is missed, yet the table prints finite values, so we report
   `kl_train_modes` (add-one smoothed, metrics.kl_train_smoothed) and `kl_modes`
   (KL(generated || train)). The table's magnitudes (60-78) fit neither. Both, and
   #Miss, depend on the number of samples (add-one smoothing over 1,000 modes puts
   9% of the smoothed mass on pseudo-counts at 10,000 samples): compare at equal N.
9. The third-party discriminator (sec. 3.4, 4.2.1): metrics.missing_mode_estimate with a
   fresh copy of the run's D architecture without normalization (a BatchNorm D trained
   on noisy inputs would score clean ones with the noisy inputs' running statistics),
   Adam(2e-4), `--third-party-steps` steps, input noise of std sigma while it trains,
   none when it scores. Eq. (5) writes D* ~ p_g / (p_g + p_d) yet reads D(t) near 1 as
   a missing mode: we label the training images 1, so D(t) ~ p_d / (p_d + p_g) is near
   1 where the generator puts no mass. The paper names no threshold for "close to 1":
   `--third-party-threshold` (0.9). Sigma is in our pixel units ([-1, 1]); the paper's
   3.5 and 4.0 (CelebA, pixel range unstated) are kept for the 64 px targets, smaller
   values for the small digits. The test images are images the third-party D never
   trained on ("we then apply the mode estimator to the test data", third_party_data):
   the stacked and compositional sets compose them from a held-out fifth of each digit
   class's base images (fixed by seed 0), and the D's real images from the other four
   fifths (data.Composed.split); MNIST and CIFAR-10 use their test splits; CelebA the
   test partition of its list_eval_partition.txt when the file is beside
   img_align_celeba/ (the D's real images then come from the train and validation
   partitions; the generators still train on every image, as DCGAN's CelebA code);
   any other set, fresh draws of its training images. The summary says which:
   `third_party_test`. `--eval-samples` images of each kind (`third_party_images`),
   where Table 3 counts over CelebA's whole test partition (19,962). The paper uses it
   on CelebA only (Table 3); we also report it on the 1,000-mode sets.
10. E's output (not given in the paper): under the uniform prior of app. C a sigmoid
   keeps E(x) in U[0, 1]^3's support, so that G must reconstruct every mode from codes
   it also draws as G(z); a linear E could reconstruct from codes the prior never
   draws and leave G(z) collapsed. Linear under N(0, I) (`--encoder-out` overrides).
"""

import argparse
import dataclasses
import itertools
import json
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import common
import data as datasets
import figures
import metrics
import nets
import reproduce

MODELS = ("reg", "gan")
DISTANCES = ("pixel", "mean", "feature")
ARCHS = ("auto", "dcgan", "mlp")
OPTIMIZERS = ("adam", "sgd")
# Table 2's four digit distributions (deviation 8): p(digit) up to a constant, for digits 0-9. A perfect sampler
# misses 0.05, 1.08, 1.79 and 2.87 of the 1,000 numbers on average in TABLE2_SAMPLES samples (tested).
SETS = {"set1": [1.0] * 10, "set2": [float(k + 10) for k in range(10)], "set3": [0.92**k for k in range(10)],
        "set4": [0.55, 0.55] + [1.0] * 8}
TABLE2_SAMPLES = 10000  # samples Table 2's targets score (--eval-samples): the sets' floors are computed there


@dataclass
class Config(common.RunConfig):
    model: str = "reg"  # reg (Reg-GAN: eqs. 1-2, G and E regularized) | gan (the same nets and loop, E untrained, no regularizer)
    lam1: float = -1.0  # lambda1, the metric regularizer's weight (-1: 0.005 on toy data, app. C; 0.2 on images, sec. 4.1.1)
    lam2: float = -1.0  # lambda2, the mode regularizer's weight (-1: 0.005 on toy data; 0.4 on images)
    distance: str = "pixel"  # d(x, G(E(x))) (deviation 2): pixel (||x - y||^2, the norm app. A writes) | mean (per pixel) | feature (D's last hidden layer)
    prior: str = "auto"  # z's prior: auto (U[0, 1]^3 on toy data, app. C; N(0, I) on images) | normal | uniform
    encoder_out: str = "auto"  # E's output: auto (sigmoid under the uniform prior, linear under N(0, I)) | linear | sigmoid
    arch: str = "auto"  # auto (mlp on toy data, dcgan on images) | dcgan (app. B) | mlp (the sec. 4.1.1 grid's nets)
    g_layers: int = 0  # MLP G (and E) hidden layers (0: 2 on toy data, app. C; 3 on images)
    d_layers: int = 0  # MLP D hidden layers (0: 1 on toy data, app. C; 3 on images)
    g_width: int = 0  # MLP G (and E) hidden units / DCGAN base channels (0: 128 toy; 800 MLP; 64 DCGAN)
    d_width: int = 0  # MLP D hidden units / DCGAN base channels (0: 128 toy; 512 MLP; 64 DCGAN)
    dropout: float = 0.0  # dropout on the MLP D's hidden layers (Table 1's dropoutD: 0.5)
    opt_g: str = "adam"  # G's and E's optimizer: adam | sgd (Table 1's optimG)
    opt_d: str = "adam"  # D's optimizer: adam | sgd (Table 1's optimD)
    lr: float = 0.0  # learning rate of every net (0: 1e-4 on toy data, app. C; 2e-4 on images, DCGAN)
    betas: tuple = (0.5, 0.999)  # Adam betas (DCGAN's and Metz et al.'s beta1 0.5)
    heat_steps: tuple = (0, 1000, 5000, 10000, 25000)  # 2-D toy data: steps whose samples are kept (Fig. 9's heatmaps; those past --steps are not reached)
    third_party_sigma: tuple = ()  # image data: input-noise stds of the third-party D counting missing modes (sec. 3.4)
    third_party_steps: int = 2000  # training steps of each third-party D
    third_party_threshold: float = 0.9  # a test image with third-party D(t) above this is on a missing mode
    record_divergence: bool = False  # a NaN or inf loss ends the run as a result, not an error (the grid's runs, deviation 7): summary.json records it, the MODE and Inception scores at their floors (0 and 1)
    dataset: str = "ring6"  # data set (app. C's toy: ring6, 6 Gaussians of std 0.1 on a circle of radius 5)
    batch_size: int = 0  # samples per batch (0: 512 on toy data, Metz et al.; 64 on images, DCGAN)
    steps: int = 25000  # generator updates
    out: str = "runs/mode-reg"  # run folder


# ---------------------------------------------------------------------------
# The regularizers: pure functions
# ---------------------------------------------------------------------------


def d_features(d, x):
    """D's last hidden layer for x, flattened per sample (an MLP or DCGAN discriminator of nets.py)."""
    body = d.net[:-1]
    return body(x.flatten(1) if isinstance(d, nets.MLPDiscriminator) else x).flatten(1)


def distance(x, y, kind="pixel", d=None):
    """d(x, y) of sec. 3.1 per sample, shape (B,): ||x - y||^2 over all pixels ("pixel", deviation 2), its mean
    per pixel ("mean"), or ||f(x) - f(y)||^2 with f D's last hidden layer ("feature")."""
    if kind == "feature":
        x, y = d_features(d, x), d_features(d, y)
    sq = (x - y).flatten(1).pow(2)
    return sq.mean(1) if kind == "mean" else sq.sum(1)


def regularizer(x, rec, logit_rec, lam1, lam2, kind="pixel", d=None):
    """E_x [lambda1 d(x, G(E(x))) - lambda2 log D(G(E(x)))]: the metric and the mode regularizer of eqs. (1)-(2).

    The mode term's sign is the paper's intent, not its print (deviation 1):
    -log D(G(E(x))) = softplus(-logit), lowered by making reconstructions look real.
    Returns (the regularizer, mean d, mean -log D(G(E(x)))).
    """
    dist = distance(x, rec, kind, d).mean()
    mode = F.softplus(-logit_rec).mean()
    return lam1 * dist + lam2 * mode, dist, mode


def d_loss(logit_real, logit_fake):
    """The GAN discriminator's loss -E log D(x) - E log(1 - D(G(z))), D = sigmoid(logit)."""
    return F.softplus(-logit_real).mean() + F.softplus(logit_fake).mean()


def g_loss(logit_fake):
    """-E_z log D(G(z)), T_G's first term (eq. 1)."""
    return F.softplus(-logit_fake).mean()


def generator_losses(logit_fake, x, rec, logit_rec, lam1, lam2, kind="pixel", d=None):
    """(T_G, T_E, mean d, mean -log D(G(E(x)))) of eqs. (1)-(2): T_G = -E log D(G(z)) + R, T_E = R."""
    r, dist, mode = regularizer(x, rec, logit_rec, lam1, lam2, kind, d)
    return g_loss(logit_fake) + r, r, dist, mode


# ---------------------------------------------------------------------------
# Networks and settings
# ---------------------------------------------------------------------------


def resolve(cfg):
    """The auto settings (deviations 2, 4, 5), before the harness checks them (the same on every resume)."""
    toy = cfg.dataset in datasets.TOY
    if toy and cfg.arch == "dcgan":
        raise common.UserError("--arch dcgan is for image sets; toy data uses MLPs")
    arch = "mlp" if toy else ("dcgan" if cfg.arch == "auto" else cfg.arch)
    mlp_img = arch == "mlp" and not toy
    prior = cfg.prior if cfg.prior != "auto" else "uniform" if toy else "normal"
    return dataclasses.replace(
        cfg, arch=arch, prior=prior,
        encoder_out=cfg.encoder_out if cfg.encoder_out != "auto" else "sigmoid" if prior == "uniform" else "linear",
        lam1=cfg.lam1 if cfg.lam1 != -1 else 0.005 if toy else 0.2,
        lam2=cfg.lam2 if cfg.lam2 != -1 else 0.005 if toy else 0.4,
        g_layers=cfg.g_layers or (2 if toy else 3), d_layers=cfg.d_layers or (1 if toy else 3),
        g_width=cfg.g_width or (128 if toy else 800 if mlp_img else 64),
        d_width=cfg.d_width or (128 if toy else 512 if mlp_img else 64),
        lr=cfg.lr or (1e-4 if toy else 2e-4), batch_size=cfg.batch_size or (512 if toy else 64),
        z_dim=cfg.z_dim or (3 if toy else 100))


def make_nets(cfg, data, z_dim):
    """(G, D, E, D's normalization) for the data set and `cfg.arch`, on the CPU (deviations 4-7)."""
    if cfg.arch == "dcgan":
        c, size, _ = data.shape
        try:
            g = nets.DCGANGenerator(z_dim, size, c, cfg.g_width, cfg.batch_norm)
            norm = cfg.d_norm if cfg.d_norm != "auto" else ("batch" if cfg.batch_norm else "none")
            d = nets.DCGANDiscriminator(size, c, cfg.d_width, norm)
            e = nets.DCGANEncoder(z_dim, size, c, cfg.g_width, cfg.batch_norm)
        except ValueError as err:
            raise common.UserError(f"--image-size: {err}") from None
        for m in (g, d, e):
            nets.dcgan_init(m)
        g = nets.split_batch_norm(g)  # deviation 6
    else:
        g = nets.MLPGenerator(z_dim, data.shape, cfg.g_width, cfg.g_layers, "relu")
        d = nets.MLPDiscriminator(data.shape, cfg.d_width, cfg.d_layers, "relu", cfg.dropout)
        e, norm = nets.MLPEncoder(data.shape, z_dim, cfg.g_width, cfg.g_layers, "relu"), "none (MLP)"
    if cfg.encoder_out == "sigmoid":  # deviation 10: E(x) inside the uniform prior's support
        e = torch.nn.Sequential(e, torch.nn.Sigmoid())
    return g, d, e, norm


def make_optim(name, params, cfg):
    if name == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr)
    return torch.optim.Adam(params, lr=cfg.lr, betas=tuple(cfg.betas))


def check_config(cfg):
    for flag, value, allowed in (("--model", cfg.model, MODELS), ("--distance", cfg.distance, DISTANCES),
                                 ("--encoder-out", cfg.encoder_out, ("auto", "linear", "sigmoid")),
                                 ("--arch", cfg.arch, ARCHS), ("--opt-g", cfg.opt_g, OPTIMIZERS),
                                 ("--opt-d", cfg.opt_d, OPTIMIZERS), ("--prior", cfg.prior, ("auto",) + common.PRIORS)):
        if value not in allowed:
            raise common.UserError(f"unknown {flag} {value!r}; choose from {', '.join(allowed)}")
    common.must(cfg, ">= 0", "lr")
    common.must(cfg, "in [0, 1)", "dropout")
    common.must(cfg, ">= 1", "third_party_steps", "d_steps")
    for lam in ("lam1", "lam2"):
        if getattr(cfg, lam) < 0:
            raise common.UserError(f"{common.flag(lam, getattr(cfg, lam))}: must be >= 0 (-1: the paper's value)")
    if any(s < 0 for s in cfg.third_party_sigma) or not 0 < cfg.third_party_threshold < 1:
        raise common.UserError("--third-party-sigma takes stds >= 0, --third-party-threshold a number in (0, 1)")
    if len(cfg.betas) != 2:
        raise common.UserError("--betas takes two numbers")
    if any(s < 0 or s != int(s) for s in cfg.heat_steps):
        raise common.UserError("--heat-steps takes whole step numbers >= 0")


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------


def train(cfg):
    cfg = resolve(cfg)
    check_config(cfg)
    regularized = cfg.model == "reg"
    run = common.Run(cfg, f"{'Reg-GAN' if regularized else 'GAN'} {cfg.dataset}", prior=cfg.prior)
    g, d, e, run.resolved["d_norm"] = make_nets(cfg, run.data, run.z_dim)
    g, d, e = g.to(run.device), d.to(run.device), e.to(run.device)
    opt_g, opt_d = make_optim(cfg.opt_g, g.parameters(), cfg), make_optim(cfg.opt_d, d.parameters(), cfg)
    opt_e = make_optim(cfg.opt_g, e.parameters(), cfg)
    run.resolved.update({k: getattr(cfg, k) for k in ("arch", "prior", "encoder_out", "lam1", "lam2", "distance", "g_layers",
                                                      "d_layers", "g_width", "d_width", "lr", "batch_size")})
    start = run.begin(g=g, d=d, e=e, opt_g=opt_g, opt_d=opt_d, opt_e=opt_e)
    heat = run.data.kind == "toy" and run.data.shape == (2,)
    heat_steps = {int(s) for s in cfg.heat_steps}
    if heat and start == 0 and 0 in heat_steps:
        save_heat(run, 0)
    dist = mode = torch.zeros(())

    try:  # the grid's runs (--record-divergence): a NaN loss is a failed point, recorded
        for step in range(start, cfg.steps):
            # D: the GAN's update on real data against G(z) (deviation 3), d_steps times on fresh batches.
            d.requires_grad_(True)
            for _ in range(cfg.d_steps):
                real = run.data.sample(cfg.batch_size)
                with torch.no_grad(), nets.batch_norm_stream(g, "noise"):
                    fake = g(run.noise())
                loss_d = d_loss(d(real), d(fake))
                opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                opt_d.step()
            # G (and E): one descent on T_G (eq. 1) and, for E, on T_E (eq. 2).
            d.requires_grad_(False)
            with nets.batch_norm_stream(g, "noise"):
                logit_fake = d(g(run.noise()))
            if regularized:
                x = run.data.sample(cfg.batch_size)
                with nets.batch_norm_stream(g, "encoder"):  # app. B: the encoder batches' own BN statistics
                    rec = g(e(x))
                loss_g, loss_e, dist, mode = generator_losses(logit_fake, x, rec, d(rec), cfg.lam1, cfg.lam2,
                                                              cfg.distance, d)
            else:
                loss_g, loss_e = g_loss(logit_fake), torch.zeros(())
            opt_g.zero_grad(set_to_none=True)
            opt_e.zero_grad(set_to_none=True)
            loss_g.backward()  # deviation 3: E's gradient of T_G is its gradient of T_E
            opt_g.step()
            if regularized:
                opt_e.step()
            if heat and step + 1 in heat_steps:
                save_heat(run, step + 1)
            # the scale of each term of T_G (deviation 2): the GAN term -log D(G(z)) (g_loss's value, not a second
            # call of it) beside lambda1 d and lambda2 (-log D(G(E(x))))
            run.end_step(step + 1, {"loss_d": loss_d, "loss_g": loss_g, "loss_e": loss_e},
                         rec_distance=dist.detach(), rec_neg_log_d=mode.detach(),
                         gan_term=F.softplus(-logit_fake.detach()).mean(), metric_term=cfg.lam1 * dist.detach(),
                         mode_term=cfg.lam2 * mode.detach())
    except common.NonFiniteLoss as err:
        if not cfg.record_divergence:
            raise
        return diverged(run, str(err), model=cfg.model)

    extra = {}
    if heat:
        extra.update(heat_over_time(run))
    if run.data.kind == "image" and cfg.eval_samples > 0:
        with common.diagnostic_mode(*run.nets()):
            extra.update(image_extras(cfg, run, g, e if regularized else None))
    return run.finish(model=cfg.model, lam1=cfg.lam1 if regularized else 0.0, lam2=cfg.lam2 if regularized else 0.0,
                      distance=cfg.distance, arch=cfg.arch, prior=cfg.prior, encoder_out=cfg.encoder_out,
                      digit_weights=list(getattr(run.data, "digit_weights", [])), **extra)


def diverged(run, error, **labels):
    """End a run whose loss went NaN or inf as a result (--record-divergence, deviation 7): summary.json with
    `diverged` (the error: which loss, at which step) and the MODE and Inception scores at their floors, 0 and 1 (a
    generator of no image: its samples are NaN). A grid point where a model diverged is a failed point of Fig. 3."""
    cfg = run.cfg
    summary = {"steps": cfg.steps, "seconds": round(time.time() - run.t0, 2), "device": str(run.device),
               "dataset": cfg.dataset, **labels, "diverged": error, "mode_score": 0.0, "inception_score": 1.0}
    run.dir.summary(**summary)
    common.release_out(cfg.out)
    print(f"diverged: {error}; recorded in {run.dir.path}/summary.json (MODE score 0, Inception score 1)", flush=True)
    return summary


def image_extras(cfg, run, g, e):
    """Composed sets: the 1,000-mode scores of as many real samples (`real_*`); the reconstruction error on
    real data (Reg-GAN); the third-party counts for every `--third-party-sigma` (deviations 8, 9), with a grid of the
    test images it places most confidently on missing modes (missing_sigma<s>.png, Fig. 5)."""
    out, data = {}, run.data
    if isinstance(data, datasets.Composed):
        # as many as the harness scores: common.generate draws whole batches
        real = torch.cat([data.sample(cfg.batch_size) for _ in range(-(-cfg.eval_samples // cfg.batch_size))])
        scores = metrics.composed_modes(data, real, cfg.data_root)
        out.update({f"real_{k}": v for k, v in scores.items() if k != "digit_accuracy"})
    if e is not None:
        x = data.sample(cfg.batch_size)
        with torch.no_grad(), nets.batch_norm_stream(g, "encoder"):
            out["rec_distance_final"] = float(distance(x, g(e(x)), cfg.distance, run.d).mean())
    if cfg.third_party_sigma:
        n = max(cfg.eval_samples, cfg.batch_size)
        fit, test, out["third_party_test"] = third_party_data(cfg, data, run.device, n)
        train = torch.cat([fit.sample(cfg.batch_size) for _ in range(-(-n // cfg.batch_size))])[:n]
        fake = common.generate(g, n, cfg.batch_size, run.z_dim, run.device, run.prior)[:n]
        for sigma in cfg.third_party_sigma:
            # deviation 9: the run's D architecture, without normalization
            third = make_nets(dataclasses.replace(cfg, d_norm="none"), data, run.z_dim)[1].to(run.device)
            est = metrics.missing_mode_estimate(third, train, fake, test, sigma, cfg.third_party_steps,
                                                cfg.batch_size, 2e-4, cfg.third_party_threshold, cfg.seed)
            out[f"missing_sigma{sigma:g}"] = est["missing"]
            # Fig. 5: the test images most confidently on missing modes (up to 32, those above the threshold)
            top = np.argsort(-est["scores"], kind="stable")[:32]
            top = top[est["scores"][top] > cfg.third_party_threshold]
            if len(top):
                figures.save_image_grid(run.dir / f"missing_sigma{sigma:g}.png", test[torch.as_tensor(top)])
        out["third_party_images"] = n
    return out


def third_party_data(cfg, data, device, n):
    """(the sampler of the real images the third-party D trains on, the n test images it scores, what they are):
    test images it never trained on (deviation 9). Composed sets: digits composed from a held-out fifth of each
    class's base images, the D's real images from the rest (data.Composed.split); MNIST and CIFAR-10: the test
    split; CelebA with its list_eval_partition.txt: n images of the test partition, the D's real images from the
    other two; any other set: fresh draws from the training images (said so in the summary)."""
    def draw(sampler):
        return torch.cat([sampler.sample(cfg.batch_size) for _ in range(-(-n // cfg.batch_size))])[:n]

    if isinstance(data, datasets.Composed):
        rest, held = data.split(0.2, seed=0)
        return rest, draw(held), "held-out digit images (a fifth of each class)"
    load = lambda split: datasets.load(cfg.dataset, cfg.data_root, device, cfg.image_size or None, split=split,
                                       crop=cfg.crop or None)
    try:
        test = load("test")
    except common.UserError:
        return data, draw(data), "fresh samples (no test split)"
    if isinstance(test, datasets.FolderImages):  # CelebA: n test images, distinct, chosen by a fixed seed
        pick = torch.randperm(len(test), generator=torch.Generator().manual_seed(0))[:n].tolist()
        images = torch.stack(list(test.pool.map(test.__getitem__, pick))).to(device)
        return load("trainval"), images, "test partition (list_eval_partition.txt)"
    return data, test.images[:n], "test split"


# ---------------------------------------------------------------------------
# Fig. 9: the generator's density over training on the 2-D ring
# ---------------------------------------------------------------------------


def save_heat(run, step):
    """The `eval_samples` fixed-noise samples at `step`, in heat_<step>.npz."""
    with common.diagnostic_mode(run.g), torch.no_grad():
        fixed = run.g(run.z_fixed[: max(run.cfg.eval_samples, 1)]).cpu().numpy()
    np.savez(run.dir / f"heat_{step}.npz", fixed=fixed, step=step)


def heat_over_time(run):
    """heatmaps.png (Fig. 9's row for this run, the target last) and the modes captured at every kept step."""
    snaps = sorted((int(np.load(p)["step"]), np.load(p)["fixed"]) for p in run.dir.path.glob("heat_*.npz"))
    if not snaps:
        return {}
    target = run.data.sample(max(run.cfg.eval_samples, 1)).cpu().numpy()
    figures.plot_heatmaps(run.dir / "heatmaps.png", [(run.label, snaps)], target)
    data = run.data
    rows = [{"step": s, **metrics.toy_metrics(x, data.centers, data.std, data.weights)} for s, x in snaps]
    return {"over_time": rows}


# ---------------------------------------------------------------------------
# Sec. 4.1.1: the hyper-parameter grid (Table 1, Fig. 3)
# ---------------------------------------------------------------------------

# Table 1, in its order.
GRID = {"g_layers": [2, 3, 4], "d_layers": [2, 3, 4], "g_width": [400, 800, 1600, 3200], "d_width": [256, 512, 1024],
        "dropout": [True, False], "opt_g": ["sgd", "adam"], "opt_d": ["sgd", "adam"], "lr": [1e-2, 1e-3, 1e-4]}


def grid_points(kind="small", n=24, seed=0):
    """Table 1's grid: every point ("full", 2,592) or `n` of them drawn without replacement by `seed` ("small")."""
    points = [dict(zip(GRID, values)) for values in itertools.product(*GRID.values())]
    if kind == "full":
        return points
    pick = np.random.default_rng(seed).choice(len(points), size=min(n, len(points)), replace=False)
    return [points[i] for i in sorted(pick)]


def point_config(point, model, size_scale, base):
    """The Config of one grid point (deviation 7) for `model`, on top of `base` (data set, steps, seed, ...)."""
    return dataclasses.replace(
        base, model=model, arch="mlp", g_layers=point["g_layers"], d_layers=point["d_layers"],
        g_width=max(1, round(point["g_width"] * size_scale)), d_width=max(1, round(point["d_width"] * size_scale)),
        dropout=0.5 if point["dropout"] else 0.0, opt_g=point["opt_g"], opt_d=point["opt_d"], lr=point["lr"],
        record_divergence=True)


def point_name(i, point):
    return (f"p{i:04d}-G{point['g_layers']}x{point['g_width']}-D{point['d_layers']}x{point['d_width']}"
            f"{'-drop' if point['dropout'] else ''}-{point['opt_g']}-{point['opt_d']}-lr{point['lr']:g}")


def grid(out, base, kind="small", n=24, size_scale=1.0, print_only=False, only=None, list_only=False):
    """Run GAN and Reg-GAN at every grid point into out/<point>-<model>; grid.json, grid.md (with a sign test on
    the paired points and the real data's MODE score) and fig3.png.

    A point whose summary.json exists is skipped, one with a checkpoint resumed:
    a stopped grid continues where it stopped. A run whose loss goes NaN or inf
    ends as a failed point (--record-divergence: deviation 7), scored at the floor.
    `print_only` prints one command per run instead (for xargs -P or a cluster's array job), `list_only` the run
    folders, and `only` (a run folder's name) runs that one run: make's file
    target for each run, so `make -j N` runs N of a grid at once.
    """
    listed, out = str(out), Path(out)  # --list prints the folders as make spells them (OUT unnormalised)
    runs = [(f"{point_name(i, p)}-{model}", i, p, model) for i, p in enumerate(grid_points(kind, n))
            for model in ("gan", "reg")]
    if only is not None and only not in {name for name, *_ in runs}:
        raise common.UserError(f"--only {only}: no such run in this grid (--list lists them)")
    scores = {m: [] for m in MODELS}
    for name, i, p, model in runs:
        folder = out / name
        if list_only:
            print(f"{listed}/{name}")
            continue
        if only not in (None, name):
            continue
        cfg = dataclasses.replace(point_config(p, model, size_scale, base), out=str(folder))
        if print_only:
            print(command(cfg))
            continue
        if not (folder / "summary.json").exists():
            print(f"[grid] point {i + 1}/{len(runs) // 2} {model}: {folder}", flush=True)
            train(dataclasses.replace(cfg, resume=(folder / "checkpoint.pt").exists(), overwrite=True))
        s = json.loads((folder / "summary.json").read_text())
        scores[model].append({"point": point_name(i, p), **{k: s.get(k) for k in ("mode_score", "inception_score", "label_kl",
                                                                                  "diverged", "real_mode_score")}})
    if print_only or list_only or only is not None:
        return None
    n_points = len(runs) // 2
    res = {"grid": kind, "points": n_points, "size_scale": size_scale, "steps": base.steps, "seed": base.seed,
           "dataset": base.dataset, "runs": scores}
    common.write_json(out / "grid.json", res)
    ms = {m: np.array([r["mode_score"] for r in scores[m] if r["mode_score"] is not None], float) for m in ("gan", "reg")}
    lines = [f"Sec. 4.1.1 grid ({kind}: {n_points} points of Table 1, sizes x {size_scale:g}), {base.dataset}, "
             f"{base.steps} steps, seed {base.seed}: MODE score over the points.", "",
             "| model | points | mean | median | 25% | 75% | max | points with MODE score > 5 | diverged (MODE score 0) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for m, label in (("gan", "GAN"), ("reg", "Reg-GAN")):
        v, n_diverged = ms[m], sum(1 for r in scores[m] if r.get("diverged"))
        if len(v):
            lines.append(f"| {label} | {len(v)} | {v.mean():.2f} | {np.median(v):.2f} | {np.quantile(v, .25):.2f} | "
                         f"{np.quantile(v, .75):.2f} | {v.max():.2f} | {int((v > 5).sum())} | {n_diverged} |")
    if len(ms["gan"]) == len(ms["reg"]) and len(ms["gan"]):
        wins, untied, chance = reproduce.paired_sign_test(ms["reg"], ms["gan"])
        lines += ["", f"Reg-GAN above GAN at {wins} of {len(ms['gan'])} points (same point, same seed); if the "
                      f"regularizers changed nothing, {wins} or more of the {untied} untied points would "
                      f"occur with probability {chance:.3f} (one-sided sign test)."]
    real = next((r["real_mode_score"] for m in scores for r in scores[m] if r.get("real_mode_score") is not None), None)
    if real is not None:  # the data's own figure: as many held-out images as each run's samples
        lines += ["", f"Real {base.dataset} (as many held-out images as a run's samples): MODE score {real:.2f}."]
    (out / "grid.md").write_text("\n".join(lines) + "\n")
    figures.plot_score_distributions(out / "fig3.png", {"GAN": ms["gan"], "Reg-GAN": ms["reg"]}, "MODE score",
                                     f"{base.dataset}: MODE score over {n_points} grid points",
                                     refs={f"real {base.dataset}": real} if real is not None else {})
    print("\n".join(lines) + f"\n\nfigure: {out / 'fig3.png'}")
    return res


def command(cfg):
    """The command line that runs `cfg` with this interpreter, with --resume: a rerun continues a stopped run."""
    default = Config()
    flags = [] if cfg.resume else ["--resume"]
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        if v != getattr(default, f.name):
            flag = "--" + f.name.replace("_", "-")
            if isinstance(v, bool):
                flags.append(flag if v else f"--no-{flag[2:]}")
            elif isinstance(v, tuple):
                flags.append(f"{flag} {' '.join(shlex.quote(str(x)) for x in v)}")
            else:
                flags.append(f"{flag} {shlex.quote(str(v))}")
    return f"{shlex.quote(sys.executable)} -m methods.mode_reg " + " ".join(flags)


def grid_main(argv):
    ap = argparse.ArgumentParser(prog="python -m methods.mode_reg grid",
                                 description="Sec. 4.1.1: GAN and Reg-GAN over Table 1's hyper-parameter grid (Fig. 3).")
    ap.add_argument("--grid", default="small", help="small (24 points drawn by seed 0) | full (all 2,592)")
    ap.add_argument("--points", type=int, default=24, help="points of the small grid")
    ap.add_argument("--size-scale", type=float, default=1.0, help="multiply sizeG and sizeD (0.25 for digits)")
    ap.add_argument("--print", action="store_true", help="print one command per run instead of running")
    ap.add_argument("--list", action="store_true", help="print the grid's run folders, one per line, and run nothing")
    ap.add_argument("--only", metavar="RUN", help="run only this run of the grid (a folder name --list prints)")
    if "-h" in argv or "--help" in argv:  # the grid's own flags, then the training flags every run of it takes
        ap.print_help()
        print("\nEvery run of the grid also takes the training flags of python -m methods.mode_reg (the grid sets "
              "each point's own):\n")
        common.parse_config(Config, __doc__, ["--help"], hide=("width",))
    a, rest = ap.parse_known_args(argv)
    if a.grid not in ("small", "full"):
        raise common.UserError(f"--grid {a.grid}: must be small or full")
    common.must(a, ">= 1", "points")
    common.must(a, "> 0", "size_scale")
    base = common.parse_config(Config, __doc__, rest, hide=("width",))
    return grid(base.out, base, a.grid, a.points, a.size_scale, a.print, a.only, a.list)


# ---------------------------------------------------------------------------
# Table 2: the compositional runs over sets and seeds
# ---------------------------------------------------------------------------


def table(run_dirs, out):
    """Table 2 from run folders named <set>-<model>-s<seed> (model gan, reg, or reg-<distance> for a Reg-GAN run with
    another --distance): #Miss and the KLs, mean ± std over seeds, with the same numbers for as many real samples
    and a perfect sampler's expected #Miss at the same count (the floor); table2.md."""
    import re

    rows = {}
    models = "|".join(["gan", "reg"] + [f"reg-{k}" for k in DISTANCES])
    for r in map(Path, run_dirs):
        m = re.fullmatch(rf"(.+)-({models})-s\d+", r.name)
        if m and (r / "summary.json").exists():
            rows.setdefault((m[1], m[2]), []).append(json.loads((r / "summary.json").read_text()))
    if not rows:
        raise common.UserError("no <set>-<model>-s<seed> folder with a summary.json among the given runs")
    sets = sorted({s for s, _ in rows})
    fmt = lambda v, d=1: f"{np.mean(v):.{d}f} ± {np.std(v):.{d}f}" if len(v) else ""
    lines = ["Table 2 (sec. 4.1.2): missed numbers (#Miss, of 1,000) and KL (smoothed KL(train || generated); "
             "KL(generated || train) in brackets), mean ± std over seeds (numpy's, ddof 0). A perfect sampler's "
             "#Miss is its expected count at the runs' sample count, sum over the numbers of (1 - p)^n.", "",
             "| model | " + " | ".join(f"{s} #Miss | {s} KL" for s in sets) + " |", "|---" * (2 * len(sets) + 1) + "|"]
    # the real-data and perfect-sampler rows read the numbers every run carries (the GAN runs' here)
    variants = sorted({m for _, m in rows if m.startswith("reg-")})
    for model, label, pre in (("gan", "DCGAN", ""), ("reg", "Reg-DCGAN", ""),
                              *((v, f"Reg-DCGAN (d {v[4:]})", "") for v in variants),
                              ("gan", "real data", "real_"), ("gan", "perfect sampler", "perfect_")):
        cells = []
        for s in sets:
            runs = rows.get((s, model), [])
            miss = [r[pre + "missed_modes"] for r in runs if pre + "missed_modes" in r]
            kl = [r[pre + "kl_train_modes"] for r in runs if pre + "kl_train_modes" in r]
            klg = [r[pre + "kl_modes"] for r in runs if pre + "kl_modes" in r]
            cells += [fmt(miss, 2 if pre == "perfect_" else 1), f"{fmt(kl, 3)} ({np.mean(klg):.3f})" if kl else ""]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    n = {k: len(v) for k, v in rows.items()}
    lines += ["", "Runs per cell: " + ", ".join(f"{s} {m}: {c}" for (s, m), c in sorted(n.items()))]
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / "table2.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return rows


def table_main(argv):
    ap = argparse.ArgumentParser(prog="python -m methods.mode_reg table",
                                 description="Table 2 from compositional runs named <set>-<model>-s<seed>.")
    ap.add_argument("runs", nargs="+", help="run folders holding summary.json")
    ap.add_argument("--out", required=True, help="folder for table2.md")
    a = ap.parse_args(argv)
    return table(a.runs, a.out)


def main():
    if sys.argv[1:2] == ["grid"]:
        return common.cli(grid_main, sys.argv[2:])
    if sys.argv[1:2] == ["table"]:
        return common.cli(table_main, sys.argv[2:])
    common.cli(train, common.parse_config(Config, __doc__, hide=("width",)))


if __name__ == "__main__":
    main()
