"""Roth et al. 2017: the noise-derived gradient-norm regularizer for f-GANs and the JS-GAN.

Paper
  Roth, Lucchi, Nowozin & Hofmann, "Stabilizing Training of Generative Adversarial
  Networks through Regularization", NIPS 2017. https://arxiv.org/abs/1705.09367
  Authors' code (TensorFlow): https://github.com/rothk/Stabilizing_GANs
  (3DGAN/3DGAN.py: the toy; carpedm20_DCGAN/: CIFAR-10; igul222_GANs/gan_64x64.py: CelebA, LSUN).

Training D on inputs convolved with Gaussian noise N(0, gamma I) (eq. 3) is, to first
order in gamma, training it with a weighted penalty on its input gradient. Here psi is
D's statistic (f-GAN), phi its logit and D(x) = sigmoid(phi(x)) (the JS-GAN):

  eq. (19)  F_gamma(P, Q; psi) = E_P[psi] - E_Q[f^c(psi)] - gamma/2 Omega_f(Q; psi)
            Omega_f(Q; psi)    = E_Q[f^c''(psi(x)) ||grad_x psi(x)||^2]         f_regularizer
  eq. (20)  F_gamma(P, Q; D)   = E_P[ln D] + E_Q[ln(1 - D)] - gamma/2 Omega_JS
            Omega_JS           = E_P[(1 - D(x))^2 ||grad_x phi(x)||^2]
                               + E_Q[D(x)^2 ||grad_x phi(x)||^2]                js_regularizer
  Alg. 1    D ascends F - gamma/2 Omega (here: descends BCE + gamma/2 Omega);
            G descends E log(1 - D(G(z))) or the alternative E -log D(G(z))     g_loss_original, g_loss_alternative
  sec. 4.2  gamma_t = gamma0 * alpha^(t/T)  (gamma0 = 2, alpha = 0.01)            annealed_gamma
  sec. 5.4  explicit noise: batch/NSR samples, each seen with NSR noise draws    with_noise
  sec. 5.5  cross-testing: each model's D on the other model's samples          crosstest

Run
    make toy-roth          Figs. 1 and 6: the 7-mode submanifold mixture in 3-D, 1:1 and 5:1
    make digits-roth       the CIFAR-10 comparison (Fig. 4) and the cross-test, CPU-sized, on 8x8 digits
    make cifar-roth cifar-roth-crosstest celeba-roth lsun-roth    the paper's image runs (GPU, data)
    python -m methods.roth_reg --gamma 0.1 --steps 100000 --out runs/roth-toy
    python -m methods.roth_reg --dataset cifar10 --batch-size 64 --gamma 2 --anneal --steps 40000
    python -m methods.roth_reg crosstest RUN_A RUN_B --n 10000      the sec. 5.5 table of two runs
    python -m bench --d-step roth --dataset cifar10   sec. 5.3: the regularizer's cost per D step (bench.py)
    python -m methods.roth_reg --help

Logged every `--log-every` steps beside the harness's D diagnostics: gamma, Omega, and
the mean ||grad_x phi|| on real and generated samples. On toy data, every
`--snapshot-every` steps 10 batches of samples are kept (Figs. 1 and 6): `snapshots.png`
shows them coloured by a Gaussian KDE's density, `modes_over_time.png` the modes and
the high-quality fraction at each snapshot (also in summary.json, `over_time`).

Deviations and decisions
1. D returns logits and the GAN losses are softplus forms of BCE, as the authors'
   sigmoid_cross_entropy_with_logits; the regularizer differentiates the logit, not
   D (sec. 4: "easier to implement and more robust"). The weights (1 - D)^2 and D^2
   are not detached: D's update differentiates through them, as the authors' code.
2. One backward pass gives the input gradients of real and generated samples together
   (`logits_and_grads`): the logits are those of D's loss, nothing is recomputed.
   Each sample's gradient is flattened before its squared norm.
3. BatchNorm in D: the authors keep it ("we use batch normalization also for the
   discriminator", sec. 5.2; app. 7.4), and so does `--arch dcgan` and `resnet`.
   In training mode it couples a batch's samples, so grad_x phi(x_i) is not sample
   i's own: the authors' code computes the same batch gradient. Real and generated
   batches pass through D separately (their own batch statistics), as in their code.
   `--d-norm layer` or `none` gives per-sample gradients (tested); the toy MLP has
   no normalization.
4. The generator loss: `--g-loss auto` is the original cost log(1 - D) on toy data
   (the authors' 3DGAN.py default; Figs. 1 and 6: "unregularized objective for the
   generator") and the alternative -log D on images (Alg. 1's recommendation, sec. 4.1).
5. Toy set-up as 3DGAN.py: MLPs with 2 hidden layers of 128 tanh units, weights
   N(0, 0.1^2) truncated at 2 std, zero biases; z ~ N(0, I_2); batch 512; Adam(1e-3,
   beta1 0.5); gamma 0.1; 100k steps; snapshots of 10 batches every 10k steps. The
   mixture follows the paper's text (7.3: means at angles 2 pi k/7, rotated by +pi/4);
   the authors' code puts the first mean at angle pi/2 and multiplies row vectors by
   the rotation matrix (a rotation by -pi/4): the same mixture up to a rigid motion.
6. Images, as the authors' code: CIFAR-10 (carpedm20_DCGAN) `--arch carpedm20`, 5x5
   kernels, G a linear layer to 2x2x512 then four stride-2 transposed convolutions, D
   four stride-2 convolutions to 2x2x512 then a linear layer (biases kept beside
   BatchNorm, as theirs; DCGAN's N(0, 0.02) init where theirs truncates the conv
   weights at 2 std), z ~ U(-1, 1)^100 (`--prior auto` gives `symmetric` on cifar10);
   CelebA and LSUN (igul222_GANs/gan_64x64.py) z ~ N(0, I_128) (`--z-dim 0` gives 128
   on celeba and folder), CelebA centre-cropped to 178 px before resizing (`--crop`;
   the other methods' targets crop 108) and an image folder to a square of its
   shorter side (data.py). `--arch dcgan` (4x4 kernels, 4x4x256 at 32 px) is the
   DCGAN the other methods use; the digits runs keep it (8 px is below carpedm20's
   16 px minimum). Adam(2e-4, beta1 0.5) and batch 64 as both. The ResNet is
   Gulrajani et al.'s 64 px ResNet (nets.py), scaled to the image size;
   `dcgan-tanh` is their DCGAN with tanh in G and D (BatchNorm on).
7. f-GAN training (`--divergence kl | ...`) uses the f-GAN output activations g_f of
   Nowozin et al. (2016, Table 6), psi = g_f(D's raw output v), D's loss
   -(E_P psi - E_Q f^c(psi)) + gamma/2 Omega_f, and G's alternative loss -E_Q psi
   (their sec. 3.2); `--g-loss minimax` gives the saddle-point cost E_Q f^c(psi)
   maximised by G. Omega_f is computed as E_Q[f^c''(g_f(v)) g_f'(v)^2 ||grad v||^2]
   with the first factor in closed form (CURVATURE): the chain rule makes it equal,
   and it stays finite where the two factors' product overflows in float32 (gan and
   jensen-shannon once v > 17: the product is sigmoid(v)). The paper's experiments all
   use the JS-GAN form (`js`).
8. Explicit noise (sec. 5.4): `--noise-std s` adds N(0, s^2 I) (noise variance
   gamma = s^2) to D's inputs in D's step and, unless `--no-noise-g`, in G's step
   (Fig. 9's top rows); with `--nsr k` each step draws batch/k real and batch/k
   generated samples and sees each with k noise draws. The regularizer is off then
   (`--gamma -1`, the default, is 0.1 without noise and 0 with it; give --gamma to
   combine them). The targets compare noise and regularizer at the same gamma
   (noise std 0.316228, variance 0.1) at NSR 1, 2, 4 and 8; the paper shows the best.
9. Cross-testing (sec. 5.5): D(x) > 1/2 counts as "real"; D runs in training mode
   (batch statistics, as it was trained) on batches of the training batch size. The
   real images are the whole test split, each once, where the data set has one
   (CIFAR-10, MNIST), else the training images (digits: all 1,797; an image folder:
   --n drawn without replacement): the table says which. The table is the paper's:
   each model's confusion matrix, then the cross-testing FP (the other model's
   samples D calls real).
"""

import argparse
import dataclasses
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import common
import data as datasets
import figures
import metrics

ARCHS = ("dcgan", "carpedm20", "dcgan-nonorm", "dcgan-tanh", "resnet")
PRIORS = ("auto", "normal", "symmetric")
G_LOSSES = ("auto", "minimax", "nonsaturating")


@dataclass
class Config(common.RunConfig):
    dataset: str = "submanifold7"  # data set (the paper's toy: the 7-mode submanifold mixture in 3-D)
    gamma: float = -1.0  # gamma: the noise variance the regularizer stands for (gamma0 with --anneal; 0: unregularized; -1: 0.1, or 0 with --noise-std)
    anneal: bool = False  # Alg. 1 annealing gamma_t = gamma * decay^(t/T) (the image runs: --gamma 2 --anneal)
    decay: float = 0.01  # alpha, the annealing decay: gamma ends at decay * gamma
    divergence: str = "js"  # js (the GAN objective with Omega_JS, eq. 20) | an f-GAN with Omega_f (eq. 19): gan | kl | reverse-kl | pearson | hellinger | jensen-shannon
    g_loss: str = "auto"  # minimax (log(1 - D), the original cost) | nonsaturating (-log D) | auto (minimax on toy data, nonsaturating on images)
    arch: str = "dcgan"  # images (sec. 5.2, app. 7.4): dcgan | carpedm20 (their CIFAR-10 code's 5x5 DCGAN) | dcgan-nonorm | dcgan-tanh | resnet; toy data: tanh MLPs
    prior: str = "auto"  # latent z: normal | symmetric (U(-1, 1), carpedm20's) | auto (symmetric on cifar10, normal elsewhere)
    lr: float = 0.0  # Adam learning rate of both nets (0: 1e-3 on toy data, 2e-4 on images)
    betas: tuple = (0.5, 0.999)  # Adam betas (the DCGAN setting the authors use)
    noise_std: float = 0.0  # sec. 5.4 baseline: std s of the Gaussian noise on D's inputs (variance gamma = s^2; 0: off)
    nsr: int = 1  # sec. 5.4 noise-to-signal ratio k: batch/k samples, each with k noise draws
    noise_g: bool = True  # sec. 5.4: G's step sees noisy D inputs too (Fig. 9 top rows; --no-noise-g: bottom rows)
    snapshot_every: int = 10000  # toy data: steps between snapshots of 10 sample batches (Figs. 1 and 6; 0: none)
    batch_size: int = 0  # samples per batch (0: 512 on toy data, app. 7.3; 64 on images, sec. 5.2)
    steps: int = 100000  # generator updates (the authors' toy: 100k; CelebA 100k, LSUN 200k)
    out: str = "runs/roth"  # run folder


# ---------------------------------------------------------------------------
# The regularizers: pure functions
# ---------------------------------------------------------------------------


def logits_and_grads(d, x_real, x_fake):
    """D's logits on a real and a generated batch and each sample's ||grad_x phi(x)||^2, from one backward pass.

    D's real and generated batches go through D separately (as in the
    authors' code); one `autograd.grad` call differentiates both sums, with
    the graph kept so that a penalty built from them trains D.
    Returns (logit_real, logit_fake, sq_grad_real, sq_grad_fake), each of shape (B,).
    """
    x_real, x_fake = x_real.detach().requires_grad_(True), x_fake.detach().requires_grad_(True)
    logit_real, logit_fake = d(x_real).reshape(len(x_real)), d(x_fake).reshape(len(x_fake))
    g_real, g_fake = torch.autograd.grad(logit_real.sum() + logit_fake.sum(), (x_real, x_fake), create_graph=True)
    return logit_real, logit_fake, g_real.flatten(1).pow(2).sum(1), g_fake.flatten(1).pow(2).sum(1)


def omega_js(logit_real, logit_fake, sq_grad_real, sq_grad_fake):
    """Omega_JS of eq. (20) from the logits and the squared input-gradient norms (eq. 28's logit form)."""
    d_real, d_fake = torch.sigmoid(logit_real), torch.sigmoid(logit_fake)
    return ((1 - d_real) ** 2 * sq_grad_real).mean() + (d_fake**2 * sq_grad_fake).mean()


def js_regularizer(d, x_real, x_fake):
    """Omega_JS (eq. 20, Alg. 1): E_P[(1 - D)^2 ||grad phi||^2] + E_Q[D^2 ||grad phi||^2], phi = D's logit.

    `d` returns logits of shape (B,) or (B, 1); inputs are vectors or images.
    Without the gamma/2. Differentiable w.r.t. D's weights (weights not detached).
    """
    return omega_js(*logits_and_grads(d, x_real, x_fake))


# f-divergence -> (output activation g_f, conjugate f^c, its second derivative f^c''):
# Nowozin et al. 2016, Table 6; "gan" is the GAN's f^c = -ln(1 - exp) of Roth et al. eq. (22), f^c'' of eq. (29).
FGAN = {
    "kl": (lambda v: v, lambda t: torch.exp(t - 1), lambda t: torch.exp(t - 1)),
    "reverse-kl": (lambda v: -torch.exp(-v), lambda t: -1 - torch.log(-t), lambda t: 1 / t**2),
    "pearson": (lambda v: v, lambda t: 0.25 * t**2 + t, lambda t: torch.full_like(t, 0.5)),
    "hellinger": (lambda v: 1 - torch.exp(-v), lambda t: t / (1 - t), lambda t: 2 / (1 - t) ** 3),
    "jensen-shannon": (lambda v: math.log(2) - F.softplus(-v), lambda t: -torch.log(2 - torch.exp(t)),
                       lambda t: 2 * torch.exp(t) / (2 - torch.exp(t)) ** 2),
    "gan": (lambda v: -F.softplus(-v), lambda t: -torch.log(1 - torch.exp(t)),
            lambda t: torch.exp(t) / (1 - torch.exp(t)) ** 2),
}


# f^c''(g_f(v)) g_f'(v)^2 in closed form: with psi = g_f(v) the chain rule gives ||grad psi||^2 = g_f'(v)^2 ||grad v||^2,
# so Omega_f = E_Q[CURVATURE(v) ||grad_x v||^2]. Written from v, this stays finite where the product of the two
# factors overflows (gan and jensen-shannon: f^c'' grows as 1/sigmoid(-v)^2 and g_f'^2 falls as sigmoid(-v)^2;
# the product is sigmoid(v), D itself, as in Omega_JS).
CURVATURE = {
    "kl": lambda v: torch.exp(v - 1),
    "reverse-kl": lambda v: torch.ones_like(v),
    "pearson": lambda v: torch.full_like(v, 0.5),
    "hellinger": lambda v: 2 * torch.exp(v),
    "jensen-shannon": torch.sigmoid,
    "gan": torch.sigmoid,
}


def f_regularizer(d, x_fake, divergence):
    """Omega_f(Q; psi) of eq. (19): E_Q[f^c''(psi(x)) ||grad_x psi(x)||^2], psi = g_f(v), v = D's raw output.

    Computed as E_Q[CURVATURE(v) ||grad_x v||^2] (the same by the chain rule, finite for large v). Only generated
    samples enter (the expectation is over Q). Without the gamma/2.
    """
    x = x_fake.detach().requires_grad_(True)
    v = d(x).reshape(len(x))
    (g,) = torch.autograd.grad(v.sum(), x, create_graph=True)
    return (CURVATURE[divergence](v) * g.flatten(1).pow(2).sum(1)).mean()


def annealed_gamma(step, total_steps, gamma0, decay):
    """Sec. 4.2 / Alg. 1: gamma_t = gamma0 * decay^(t/T): gamma0 at t = 0, decay * gamma0 at t = T."""
    return gamma0 * decay ** (step / total_steps)


def with_noise(x, std, nsr=1):
    """Sec. 5.4: each of the len(x) samples `nsr` times, each copy with its own N(0, std^2 I) noise."""
    x = x.repeat_interleave(nsr, 0)
    return x + std * torch.randn_like(x)


# ---------------------------------------------------------------------------
# The losses
# ---------------------------------------------------------------------------


def d_loss_js(logit_real, logit_fake):
    """-F of Alg. 1: -E ln D(x) - E ln(1 - D(G(z))), D = sigmoid(logit)."""
    return F.softplus(-logit_real).mean() + F.softplus(logit_fake).mean()


def g_loss_original(logit_fake):
    """Alg. 1's F for G: E ln(1 - D(G(z))), descended by G (saturates when D wins)."""
    return -F.softplus(logit_fake).mean()


def g_loss_alternative(logit_fake):
    """Alg. 1's F_alt: E -ln D(G(z)) (the "non-saturating" cost, sec. 4.1)."""
    return F.softplus(-logit_fake).mean()


def d_loss_f(out_real, out_fake, divergence):
    """-(E_P psi - E_Q f^c(psi)) of eq. (7), psi = g_f(D's raw output)."""
    act, conj, _ = FGAN[divergence]
    return -(act(out_real).mean() - conj(act(out_fake)).mean())


def g_loss_f(out_fake, divergence, minimax=False):
    """G's f-GAN loss: the alternative -E_Q psi (Nowozin et al. sec. 3.2), or with `minimax` the saddle cost E_Q f^c(psi) negated."""
    act, conj, _ = FGAN[divergence]
    psi = act(out_fake)
    return -conj(psi).mean() if minimax else -psi.mean()


def discriminator_loss(d, real, fake, gamma, divergence="js"):
    """D's loss in Alg. 1 (the negated objective F - gamma/2 Omega) and Omega, on one real and one generated batch.

    js: BCE + gamma/2 Omega_JS (eq. 20); an f-divergence: -(E_P psi - E_Q f^c(psi)) + gamma/2 Omega_f (eq. 19).
    gamma 0 skips the input gradients.
    """
    if divergence == "js":
        if gamma > 0:
            logit_real, logit_fake, sq_real, sq_fake = logits_and_grads(d, real, fake)
            omega = omega_js(logit_real, logit_fake, sq_real, sq_fake)
        else:
            logit_real, logit_fake, omega = d(real), d(fake), torch.zeros((), device=real.device)
        return d_loss_js(logit_real, logit_fake) + gamma / 2 * omega, omega
    omega = f_regularizer(d, fake, divergence) if gamma > 0 else torch.zeros((), device=real.device)
    return d_loss_f(d(real), d(fake), divergence) + gamma / 2 * omega, omega


# ---------------------------------------------------------------------------
# Networks and settings
# ---------------------------------------------------------------------------


def toy_init(module):
    """3DGAN.py's initialisation: weights N(0, 0.1^2) truncated at 2 std, biases 0."""
    for m in module.modules():
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.trunc_normal_(m.weight, std=0.1, a=-0.2, b=0.2)
            torch.nn.init.zeros_(m.bias)


def make_nets(build, toy, arch):
    """Deviation 5 for toy data (tanh MLPs), the sec. 5.2 architectures for images (deviations 3, 6).

    `build(**kw)` is the harness's net builder (`Run.make_nets`).
    """
    if toy:
        g, d = build(act="tanh")
        toy_init(g)
        toy_init(d)
        return g, d
    return build(**{"dcgan": {}, "carpedm20": {"arch": "carpedm20"}, "dcgan-nonorm": {"d_norm": "none", "g_batch_norm": False},
                    "dcgan-tanh": {"act": "tanh"}, "resnet": {"arch": "resnet"}}[arch])


def nets_outside_a_run(cfg, data, z_dim, device):
    """The nets `train` builds for `cfg`, without a Run (the cross-test and the benchmark)."""
    build = lambda **kw: tuple(n.to(device) for n in common.make_nets(cfg, data, z_dim, **kw)[:2])
    return make_nets(build, data.kind == "toy", cfg.arch)


def resolve(cfg):
    """The auto settings, before the harness checks them (the same on every resume): batch size, gamma (deviation 8),
    the latent prior and size, CelebA's crop (deviation 6)."""
    big = cfg.dataset in ("celeba", "folder")  # igul222's 64 px code: z ~ N(0, I_128), CelebA cropped to 178 px
    return dataclasses.replace(
        cfg, batch_size=cfg.batch_size or (512 if cfg.dataset in datasets.TOY else 64),
        gamma=cfg.gamma if cfg.gamma != -1 else 0.0 if cfg.noise_std > 0 else 0.1,
        prior=cfg.prior if cfg.prior != "auto" else "symmetric" if cfg.dataset == "cifar10" else "normal",
        z_dim=cfg.z_dim or (128 if big else 0), crop=cfg.crop or (178 if cfg.dataset == "celeba" else 0))


def check_config(cfg):
    if cfg.divergence != "js" and cfg.divergence not in FGAN:
        raise common.UserError(f"unknown --divergence {cfg.divergence!r}; choose from js, {', '.join(FGAN)}")
    if cfg.g_loss not in G_LOSSES:
        raise common.UserError(f"--g-loss must be one of {', '.join(G_LOSSES)}")
    if cfg.arch not in ARCHS:
        raise common.UserError(f"unknown --arch {cfg.arch!r}; choose from {', '.join(ARCHS)}")
    if cfg.prior not in PRIORS:
        raise common.UserError(f"unknown --prior {cfg.prior!r}; choose from {', '.join(PRIORS)}")
    if cfg.gamma < 0:
        raise common.UserError(f"{common.flag('gamma', cfg.gamma)}: must be >= 0 (-1: 0.1, or 0 with --noise-std)")
    common.must(cfg, ">= 0", "noise_std", "lr")
    common.must(cfg, "in (0, 1]", "decay")
    if cfg.nsr < 1 or cfg.batch_size % cfg.nsr or cfg.batch_size // cfg.nsr < 2:
        raise common.UserError(f"--nsr {cfg.nsr}: must be >= 1 and divide --batch-size {cfg.batch_size} "
                               "into batches of at least 2")
    if cfg.snapshot_every < 0:
        raise common.UserError("--snapshot-every must be >= 0")
    if len(cfg.betas) != 2:
        raise common.UserError("--betas takes two numbers")


# ---------------------------------------------------------------------------
# Training: Algorithm 1
# ---------------------------------------------------------------------------


def train(cfg):
    cfg = resolve(cfg)
    check_config(cfg)
    run = common.Run(cfg, f"roth {cfg.divergence} gamma {cfg.gamma}{' annealed' if cfg.anneal else ''} {cfg.dataset}",
                     prior=cfg.prior)
    toy = run.data.kind == "toy"
    g, d = make_nets(run.make_nets, toy, cfg.arch)
    lr = cfg.lr or (1e-3 if toy else 2e-4)
    opt_g = torch.optim.Adam(g.parameters(), lr=lr, betas=tuple(cfg.betas))
    opt_d = torch.optim.Adam(d.parameters(), lr=lr, betas=tuple(cfg.betas))
    g_loss = cfg.g_loss if cfg.g_loss != "auto" else "minimax" if toy else "nonsaturating"  # deviation 4
    run.resolved.update(lr=lr, g_loss=g_loss, batch_size=cfg.batch_size)
    # --compile: a D whose input gradient is penalized stays eager (torch.compile has no double backward)
    start = run.begin(g=g, d=d, opt_g=opt_g, opt_d=opt_d, eager=("d",) if cfg.gamma > 0 else ())
    m = cfg.batch_size // cfg.nsr  # samples drawn per step; with explicit noise each is seen nsr times
    noise = (lambda x: with_noise(x, cfg.noise_std, cfg.nsr)) if cfg.noise_std > 0 or cfg.nsr > 1 else (lambda x: x)
    if toy and cfg.snapshot_every and start == 0:
        save_snapshot(run, 0)  # Figs. 1 and 6 start at step 0

    for step in range(start, cfg.steps):
        gamma = annealed_gamma(step + 1, cfg.steps, cfg.gamma, cfg.decay) if cfg.anneal else cfg.gamma  # t = 1..T
        # Alg. 1, the discriminator: n_phi ascent steps on F - gamma/2 Omega, each on fresh minibatches.
        d.requires_grad_(True)
        for _ in range(cfg.d_steps):
            real = noise(run.data.sample(m))
            with torch.no_grad():
                fake = noise(g(run.noise(m)))
            loss_d, omega = discriminator_loss(d, real, fake, gamma, cfg.divergence)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
        # Alg. 1, the generator: one descent step on F (the original cost) or F_alt.
        d.requires_grad_(False)
        x_fake = g(run.noise(m))
        out_fake = d(noise(x_fake) if cfg.noise_g else x_fake)
        if cfg.divergence == "js":
            loss_g = g_loss_original(out_fake) if g_loss == "minimax" else g_loss_alternative(out_fake)
        else:
            loss_g = g_loss_f(out_fake, cfg.divergence, g_loss == "minimax")
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        if toy and cfg.snapshot_every and (step + 1) % cfg.snapshot_every == 0:
            save_snapshot(run, step + 1)
        run.end_step(step + 1, {"loss_d": loss_d, "loss_g": loss_g}, gamma=gamma, omega=omega.detach())

    return run.finish(extra_metrics=lambda reals, fakes: grad_stats(d, reals, fakes),
                      gamma=cfg.gamma, anneal=cfg.anneal, divergence=cfg.divergence, g_loss=g_loss,
                      arch=cfg.arch if not toy else "mlp-tanh", noise_std=cfg.noise_std, nsr=cfg.nsr,
                      **(toy_over_time(run) if toy and cfg.snapshot_every else {}))


def grad_stats(d, reals, fakes):
    """Mean ||grad_x phi|| on real and generated samples and Omega_JS on the final batches."""
    d.requires_grad_(True)
    out = {"grad_logit_real": [], "grad_logit_fake": [], "omega_js": []}
    for r, f in zip(reals, fakes):
        lr, lf, sr, sf = logits_and_grads(d, r, f)
        out["grad_logit_real"].append(sr.sqrt().mean().item())
        out["grad_logit_fake"].append(sf.sqrt().mean().item())
        out["omega_js"].append(omega_js(lr, lf, sr, sf).item())
    return {k: float(np.mean(v)) for k, v in out.items()}


# ---------------------------------------------------------------------------
# Figs. 1 and 6: snapshots of the toy generator
# ---------------------------------------------------------------------------


def save_snapshot(run, step, batches=10):
    """10 batches of samples (3DGAN.py's VIZ_BATCHES), drawn without moving the training RNG."""
    with common.diagnostic_mode(run.g), torch.no_grad():
        x = torch.cat([run.g(run.noise()) for _ in range(batches)]).cpu().numpy()
    np.savez(run.dir / f"snapshot_{step}.npz", x=x, step=step)


def toy_over_time(run):
    """Modes and high-quality fraction at every snapshot; the figures of Figs. 1 / 6 and their metrics."""
    snaps = sorted((int(np.load(p)["step"]), np.load(p)["x"]) for p in run.dir.path.glob("snapshot_*.npz"))
    data = run.data
    rows = [{"step": s, **metrics.toy_metrics(x, data.centers, data.std, data.weights)} for s, x in snaps]
    if snaps:
        figures.plot_kde_snapshots(run.dir / "snapshots.png", snaps, run.label)
        figures.plot_over_time(run.dir / "modes_over_time.png", rows, ["modes", "high_quality"], run.label)
    return {"over_time": rows}


# ---------------------------------------------------------------------------
# Sec. 5.5: the cross-testing protocol
# ---------------------------------------------------------------------------


def load_trained(path, device):
    """A finished (or checkpointed) roth_reg run folder -> (cfg, data, g, d, z_dim)."""
    path = Path(path)
    if not (path / "config.json").exists() or not (path / "checkpoint.pt").exists():
        raise common.UserError(f"{path}: no config.json and checkpoint.pt; give the folder of a roth_reg run")
    saved = json.loads((path / "config.json").read_text())
    fields = {f.name for f in dataclasses.fields(Config)}
    cfg = Config(**{k: tuple(v) if isinstance(v, list) else v for k, v in saved.items() if k in fields})
    cfg = resolve(cfg)  # a run from before prior and crop were fields: their auto values
    data = datasets.load(cfg.dataset, cfg.data_root, device, cfg.image_size or None, cfg.scale, cfg.stand_in,
                         download=cfg.download, crop=cfg.crop or None)
    z_dim = saved.get("resolved", {}).get("z_dim") or cfg.z_dim or (2 if data.kind == "toy" else 100)
    g, d = nets_outside_a_run(cfg, data, z_dim, device)
    common.load_checkpoint(path / "checkpoint.pt", {"g": g, "d": d}, device)
    return cfg, data, g, d, z_dim


def predict_real(d, x, batch_size):
    """D(x) > 1/2 for every sample, D in training mode on batches of `batch_size` (deviation 9)."""
    with torch.no_grad():
        return torch.cat([d(b).reshape(-1) > 0 for b in x.split(batch_size)]).float()


def real_images(data, n):
    """The real images of the cross-test, each at most once: the whole set when it has n or fewer, else n drawn
    without replacement."""
    idx = torch.arange(len(data)) if len(data) <= n else torch.randperm(len(data))[:n]
    if getattr(data, "images", None) is not None:
        return data.images[idx.to(data.images.device)]
    return torch.stack([data[i] for i in idx.tolist()]).to(data.device)  # an image folder (CelebA, LSUN)


def crosstest(run_a, run_b, n=10000, device="cpu", seed=0):
    """Sec. 5.5: each model's confusion matrix (the real test images vs n of its own samples), then the cross FP.

    Returns {"A": {...}, "B": {...}, "real_images": "test" | "train", "n_real": ..., "n": n}; for model i, `tp`
    and `fn` are the fractions of the real images D_i calls real and generated, `fp` and `tn` those of G_i's
    samples; `cross_fp` is the fraction of the *other* model's samples D_i calls real (the paper's
    "Cross-testing: FP"). The real images are the whole test split (CIFAR-10, MNIST: 10,000), each once; a set
    without one (digits: its 1,797 images; CelebA, an image folder) gives its training images, n at most.
    """
    device = common.pick_device(device)
    models = {k: load_trained(p, device) for k, p in (("A", run_a), ("B", run_b))}
    cfg = models["A"][0]
    if models["B"][0].dataset != cfg.dataset:
        raise common.UserError(f"the runs were trained on different data sets ({cfg.dataset}, {models['B'][0].dataset})")
    common.seed_everything(seed)  # after loading: a checkpoint restores its own RNG state
    try:
        real = datasets.load(cfg.dataset, cfg.data_root, device, cfg.image_size or None, cfg.scale, split="test",
                             download=cfg.download and not cfg.stand_in)
        split = "test"
    except common.UserError:
        real, split = models["A"][1], "train"
    x_real = real_images(real, n)
    bs = cfg.batch_size
    samples = {k: common.generate(m[2], n, bs, m[4], device, m[0].prior)[:n] for k, m in models.items()}
    out = {"real_images": split, "n_real": len(x_real), "n": n}
    for k, other in (("A", "B"), ("B", "A")):
        d = models[k][3]
        d.train()
        tp = predict_real(d, x_real, bs).mean().item()
        fp = predict_real(d, samples[k], bs).mean().item()
        out[k] = {"run": str((run_a, run_b)[k == "B"]), "tp": tp, "fn": 1 - tp, "fp": fp, "tn": 1 - fp,
                  "cross_fp": predict_real(d, samples[other], bs).mean().item()}
    return out


def crosstest_table(res):
    """The sec. 5.5 tables as markdown: one confusion matrix per model, then the cross-test FP, as the paper's."""
    lines = [f"Cross-testing (Roth et al. sec. 5.5): {res['n_real']} real images (the {res['real_images']} split, "
             f"each once) and {res['n']} samples of each model; positive = real, D(x) > 1/2.", ""]
    for k in ("A", "B"):
        r = res[k]
        lines += [f"Model {k}: `{r['run']}`", "", "| predicted \\ true | real (positive) | generated (negative) |",
                  "|---|---|---|", f"| real | {r['tp']:.4f} | {r['fp']:.4f} |",
                  f"| generated | {r['fn']:.4f} | {r['tn']:.4f} |", ""]
    lines += ["| D of | on samples of | cross-testing FP (the other's samples called real) |", "|---|---|---|",
              f"| A | B | {res['A']['cross_fp']:.4f} |", f"| B | A | {res['B']['cross_fp']:.4f} |"]
    return "\n".join(lines) + "\n"


def crosstest_main(argv):
    ap = argparse.ArgumentParser(prog="python -m methods.roth_reg crosstest",
                                 description="Roth et al. sec. 5.5: cross-test two finished runs (e.g. unregularized "
                                             "vs regularized) on the same data set.")
    ap.add_argument("run_a", help="run folder of model A (config.json, checkpoint.pt)")
    ap.add_argument("run_b", help="run folder of model B")
    ap.add_argument("--n", type=int, default=10000, help="samples per model, and at most this many real images (the "
                                                         "whole test split when it has no more; the paper: 10,000)")
    ap.add_argument("--out", default="", help="folder for crosstest.json and crosstest.md (default: print only)")
    ap.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    ap.add_argument("--seed", type=int, default=0, help="seeds the real images and samples drawn")
    a = ap.parse_args(argv)
    if a.n < 1:
        raise common.UserError("--n must be >= 1")
    res = crosstest(a.run_a, a.run_b, a.n, a.device, a.seed)
    table = crosstest_table(res)
    print(table)
    if a.out:
        Path(a.out).mkdir(parents=True, exist_ok=True)
        common.write_json(Path(a.out) / "crosstest.json", res)
        (Path(a.out) / "crosstest.md").write_text(table)
    return res


def main():
    if sys.argv[1:2] == ["crosstest"]:
        return common.cli(crosstest_main, sys.argv[2:])
    common.cli(train, common.parse_config(Config, __doc__))


if __name__ == "__main__":
    main()
