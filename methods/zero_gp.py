"""Thanh-Tung et al. 2019: the zero-centred gradient penalty on interpolates (0-GP), against 1-GP and 0-GP on samples.

Paper
  Thanh-Tung, Tran & Venkatesh, "Improving Generalization and Stability of Generative
  Adversarial Networks", ICLR 2019. https://arxiv.org/abs/1902.03984
  (https://openreview.net/forum?id=ByxPYjC5KQ)
  Authors' code (PyTorch): https://github.com/htt210/GeneralizationAndStabilityInGANs
  (GradientPenaltiesGAN.py: the toy GANs; GradientPenaltiesGANImage.py: MNIST and stacked
  MNIST; OptimalDiscriminator.py: Fig. 1).

A discriminator trained on finite samples with the GAN loss overfits: it pushes towards
the empirically optimal D (1 on the real points, 0 on the generated ones) instead of
the optimal D* of eq. (2), and its input gradient explodes between close real and
fake points (sec. 2). Pushing the gradient to 0 on the segments between real and fake
samples makes D generalize (sec. 3). D(x) = sigmoid(logit(x)) below:

  eq. (1)   L = E_x log D(x) + E_z log(1 - D(G(z)))                 d_loss (negated), g_loss: -log D (sec. 4)
  eq. (2)   D*(v) = p_r(v) / (p_r(v) + p_g(v))                        optimal_d (Fig. 1f)
  eq. (6)   L_0GP = L - lambda E_x~ ||(grad D)_x~||^2,
            x~ = a x + (1 - a) y, x ~ p_r, y ~ p_g, a ~ U(0, 1)        gradient_penalty(center=0, where="interpolates")
  eq. (7)   1-GP: E_x~ (||(grad D)_x~|| - 1)^2 (Gulrajani et al.)      gradient_penalty(center=1)
  sec. 3.3  0-GP-sample (Mescheder et al. 2018): ||grad D||^2 on the
            real samples only (R1) or the generated ones only (R2)       gradient_penalty(where="real" | "fake")

`--penalty` picks one: none | 0gp | 1gp | 0gp-real | 0gp-fake | 0gp-mean (PENALTIES;
0gp-mean is (R1 + R2)/2, the mean over both batches, a form neither paper uses).

Run
    make toy-zero-gp-surface   Fig. 1: D alone on two Gaussians, every penalty, the gap to D* where the data is
    make toy-zero-gp           Figs. 2 and 5: 8 Gaussians x10, gradient fields and modes over time
    make toy-zero-gp-swissroll Fig. 6: the swiss roll (x1, x10) and the 25-Gaussian grid
    make digits-zero-gp        Figs. 3, 7, 8 CPU-sized: MLP GANs on the 8x8 digits, MODE score
    make mnist-zero-gp stacked-mnist-zero-gp    the paper's MNIST runs (data; GPU advised)
    python -m methods.zero_gp --penalty 0gp --steps 20000 --out runs/zero-gp
    python -m methods.zero_gp --penalty 0gp --lr-g 1e-3 --lr-d 3e-3 --out runs/zero-gp-ttur   (TTUR)
    python -m methods.zero_gp surface --out runs/zero-gp-surface --seeds 0 1 2     Fig. 1
    python -m methods.zero_gp --penalty 0gp-real --layers 2     0-GP-sample (R1) with the paper's text's 2 x 512 nets
    python -m bench --d-step 0-gp,1-gp   the penalty's cost: a penalized D step against a plain one (bench.py)
    python -m methods.zero_gp --help

Logged every `--log-every` steps beside the harness's D diagnostics: the penalty, and
the mean ||grad_x D|| (of the probability) on real, generated and interpolated samples.
On 2-D toy data, at every `--field-steps` step, D's gradient field (the direction that
raises log D, on a 20 x 20 grid) and the samples are kept in `field_<step>.npz`;
`gradient_fields.png` draws them (Figs. 2, 5, 6) and `modes_over_time.png` the modes
and the high-quality fraction at those steps (also `over_time` in summary.json).

Deviations and decisions
1. D returns a logit; the GAN losses are its softplus forms. The penalty differentiates
   the probability D = sigmoid(logit) as the paper and the authors' code (their D ends
   in a sigmoid); `--output logit` penalizes the logit's gradient instead.
2. The penalty, `--lam` lambda times it, is added to D's loss on the batch D's loss
   uses, as the authors' code. One a ~ U(0, 1) per sample; each sample's gradient is
   flattened before its norm. 0-GP uses ||g||^2 itself (no square root: the same value,
   and a finite gradient where g = 0).
3. "0-GP-sample" (Fig. 1d, 2i) penalizes one side at full lambda, as the authors'
   code (it fixes a: `--alpha 1` real only, `--alpha 0` generated only): `0gp-real`
   (Mescheder et al.'s R1; Fig. 3b: "real samples only") and `0gp-fake` (R2). The
   targets run both. `0gp-mean` is neither: the mean over the real and generated
   batch together (each side at lambda/2), kept for comparison with our earlier runs.
4. No normalization in D: the penalty needs each sample's own input gradient (BatchNorm
   in training mode couples a batch's samples). The authors' nets are MLPs without
   BatchNorm ("Batch normalization was not used", Fig. 3); `--arch dcgan` on images has
   no normalization in D either (tested: a sample's input gradient does not depend on
   its batch).
5. Toy set-up: G and D are MLPs of 3 hidden layers of 512 ReLU units (the authors'
   script: `--dnlayers 2` builds an input layer and 2 hidden ones, three ReLU layers;
   the paper's 512 units; its Fig. 3 says the MNIST nets, 3 x 512, have "the same
   architectures" as the toy's). Fig. 2's caption reads "2 hidden layer MLP with 512
   hidden neurons": `--layers 2`. Their script's default width is 64 (`--width 64`).
   One D step per G step, SGD, z ~ N(0, I_2), batch 128, lr 3e-3 and lambda 10 (their
   script's defaults); PyTorch's default initialisation (theirs). TTUR: the paper gives
   no toy rates; `--lr-g 1e-3 --lr-d 3e-3` are their training function's defaults (the
   1:3 ratio of their ImageNet run, Fig. 4).
6. The authors' 8 Gaussians "scaled up by 10" have radius 10/sqrt(2) = 7.07 and std
   0.02/1.414 = 0.0141 (their ToyDataset scales the centres only, then divides by
   1.414). Our ring8 (radius 2, std 0.02) at `--scale 3.5355` has their radius, and
   `--mode-std -1` (the default) gives each mode their std, 0.0141; `--mode-std 0`
   keeps ring8's own std times the scale (0.0707, 5 times wider), our earlier runs. A
   mode counts when 20 of the 2,500 samples lie within 3 std of its centre, so the
   std sets the count's radius: summary.json's `modes_wide` counts the same samples
   within 3 x 0.0707. grid25 at the same scale is theirs (centres and std 0.177); the
   swiss roll is theirs (scikit-learn's, /7.5).
7. Images (Figs. 3, 7, 8): the authors' MNIST nets are MLPs on flattened pixels, 3
   hidden layers of 512 ReLU units, G with a linear output, z ~ N(0, I_50); Adam(3e-4,
   betas (0.5, 0.9)), batch 128, lambda 100 (the paper's figures; their script's
   default is 500) and 5 D steps per G step (their script's default; the paper does
   not say). They normalize MNIST by its mean and std, we scale pixels to [-1, 1].
8. Fig. 1 (`surface`): the authors' two Gaussians (means (0.4, 0.9), (1.3, 1.2), unit
   variances, correlations 0.5 and 0.7), 100 samples each (1,000 for "more samples":
   the paper does not say how many), a 2 x 64 tanh MLP, Adam(1e-3), batch 20, lambda 1,
   shuffled epochs as their script. 2,000 epochs: 10,000 steps at 100 samples (the
   caption's "10,000 iterations"); panel (b) gets the same epochs, 100,000 steps at
   1,000 samples (their script counts epochs: 10,000 of them, `--epochs 10000`).
   Panel (d) is drawn twice, real only and generated only. D is compared with D* on a
   100 x 100 grid of [-2.5, 4.5]^2 (their plot's): the mean |D - D*| weighted by the
   data's density (p_r + p_g)/2, where D is trained and used (`gap`), and the plain
   mean over the grid beside it (`gap_uniform`: 67% of the cells hold 5% of the mass).
9. One gradient penalty per method file: WGAN-GP in methods/baselines.py keeps its own
   four lines (Gulrajani et al.'s 1-GP of the critic value) so that each file reads
   alone; a test holds the two to the same number at the same seed
   (`gradient_penalty(center=1, output="logit")` equals `baselines.gradient_penalty`).
10. Stacked MNIST (`stacked-mnist-zero-gp`): the 1,000 modes are counted as the authors
   count them (count_modes in GradientPenaltiesGANImage.py): among 100,000 samples, a
   number is a mode when generated more than 10 times (`modes_over_10`; a perfect
   sampler's figure beside, `perfect_modes_over_10`, ~1,000 at that count). Each digit
   is read by our MNIST classifier (99.3% on t10k) taking its top class, where theirs
   sends a digit whose top probability is under 0.5 to class 0. `modes` (generated at
   least once) stays beside. `--eval-samples` sets the count (the target: 100,000).
"""

import argparse
import dataclasses
import math
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

# --penalty -> (centre, where) of gradient_penalty; None: no penalty.
PENALTIES = {"none": None, "0gp": (0.0, "interpolates"), "1gp": (1.0, "interpolates"),
             "0gp-real": (0.0, "real"), "0gp-fake": (0.0, "fake"), "0gp-mean": (0.0, "samples")}
WHERE = ("interpolates", "real", "fake", "samples")
RING8_STD = 0.02 / 1.414  # the authors' 8 Gaussians' std (deviation 6)
MIXTURES = ("ring8", "grid25", "ring6", "submanifold7")  # the toy sets made of Gaussian modes
OUTPUTS = ("prob", "logit")
ARCHS = ("mlp", "dcgan")


@dataclass
class Config(common.RunConfig):
    penalty: str = "0gp"  # none | 0gp (eq. 6) | 1gp (eq. 7) | 0gp-real (R1) | 0gp-fake (R2) | 0gp-mean ((R1 + R2)/2)
    lam: float = -1.0  # lambda, the penalty's weight (-1: 10 on toy data, 100 on images, the paper's; 0: no penalty)
    output: str = "prob"  # the gradient penalized: of prob, D = sigmoid(logit) (the paper's D), or of the logit
    optimizer: str = "auto"  # auto (sgd on toy data, Fig. 2; adam on images, Fig. 3) | sgd | adam
    lr_g: float = 0.0  # G's learning rate (0: 3e-3 on toy data, 3e-4 on images; TTUR: give --lr-d larger)
    lr_d: float = 0.0  # D's learning rate (0: the same as G's)
    betas: tuple = (0.5, 0.9)  # Adam betas (the authors' (0.5, 0.9); Fig. 8: 0.9 0.99)
    arch: str = "mlp"  # images: mlp (the authors' MNIST nets) | dcgan (no normalization in D); toy data: mlp
    layers: int = 3  # MLP hidden layers (the authors' toy and MNIST nets; Fig. 2's caption: 2)
    field_steps: tuple = (0, 1000, 2000, 5000, 10000, 20000)  # 2-D toy data: steps at which D's gradient field is kept
    dataset: str = "ring8"  # data set (the paper's toy: ring8 at --scale 3.5355, their 8 Gaussians x10)
    scale: float = 0.0  # toy sets: multiply centres and std (0: 3.5355 for ring8 and grid25, 1 otherwise; deviation 6)
    mode_std: float = -1.0  # toy mixtures: each mode's std (-1: the authors', 0.0141 on ring8, the set's own elsewhere; 0: the set's own times --scale)
    width: int = 0  # MLP hidden units / DCGAN base channels (0: 512 for MLPs, 64 for DCGAN)
    z_dim: int = 0  # latent size (0: 2 on toy data, 50 on images)
    d_steps: int = 0  # D updates per G update (0: 1 on toy data, Fig. 2; 5 on images, the authors' script)
    batch_size: int = 128  # samples per batch (the authors' scripts)
    steps: int = 20000  # generator updates (the authors' toy script: 20k)
    out: str = "runs/zero-gp"  # run folder


# ---------------------------------------------------------------------------
# The penalty: pure functions
# ---------------------------------------------------------------------------


def interpolates(x_real, x_fake):
    """x~ = a x + (1 - a) y with one a ~ U(0, 1) per sample (eq. 6), for vectors or images."""
    a = torch.rand(len(x_real), *([1] * (x_real.dim() - 1)), device=x_real.device)
    return a * x_real + (1 - a) * x_fake


def input_grads(d, x, output="prob"):
    """Each sample's flattened gradient of D (`prob`: sigmoid of the logit) or of the logit w.r.t. x, shape (B, n).

    The graph is kept, so that a penalty built from it trains D.
    """
    x = x.detach().requires_grad_(True)
    logit = d(x).reshape(len(x))
    out = torch.sigmoid(logit) if output == "prob" else logit
    (g,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return g.flatten(1)


def gradient_penalty(d, x_real, x_fake, center=0.0, where="interpolates", output="prob"):
    """mean (||grad_x D(x)|| - center)^2, without lambda (eqs. 6, 7, sec. 3.3).

    where: "interpolates" (x~ of eq. 6), "real" (R1) or "fake" (R2): one side of
    0-GP-sample; "samples": both batches together, the mean over all 2B.
    output: "prob" (D = sigmoid(logit), the paper's) or "logit".
    """
    if where == "interpolates":
        x = interpolates(x_real, x_fake)
    elif where == "samples":
        x = torch.cat([x_real, x_fake])
    elif where == "real":
        x = x_real
    elif where == "fake":
        x = x_fake
    else:
        raise ValueError(f"where must be one of {WHERE}, got {where!r}")
    g = input_grads(d, x, output)
    if center == 0:
        return g.pow(2).sum(1).mean()  # deviation 2: ||g||^2 without a square root
    return ((g.norm(dim=1) - center) ** 2).mean()


def d_loss(logit_real, logit_fake):
    """-L of eq. (1): -E log D(x) - E log(1 - D(G(z))), D = sigmoid(logit)."""
    return F.softplus(-logit_real).mean() + F.softplus(logit_fake).mean()


def g_loss(logit_fake):
    """The non-saturating generator loss E -log D(G(z)) (the authors' BCE against label 1)."""
    return F.softplus(-logit_fake).mean()


def discriminator_loss(d, real, fake, penalty, lam, output="prob"):
    """D's loss -L + lambda GP (eq. 6 negated) on one real and one generated batch; returns (loss, GP).

    No default for lambda: the loop (10 or 100) and Fig. 1 (1) each pass their own.
    """
    loss = d_loss(d(real), d(fake))
    if PENALTIES[penalty] is None:
        return loss, torch.zeros((), device=real.device)
    center, where = PENALTIES[penalty]
    gp = gradient_penalty(d, real, fake, center, where, output)
    return loss + lam * gp, gp


def gaussian_pdf(x, m, c):
    """The density of N(m, c) in 2-D at the rows of x."""
    diff = x - m
    quad = np.einsum("ni,ij,nj->n", diff, np.linalg.inv(c), diff)
    return np.exp(-0.5 * quad) / (2 * np.pi * np.sqrt(np.linalg.det(c)))


def optimal_d(points, means, covs):
    """Eq. (2): D*(v) = p_r(v) / (p_r(v) + p_g(v)) for two Gaussians (means[0], covs[0] real; [1] generated)."""
    pr, pg = gaussian_pdf(points, means[0], covs[0]), gaussian_pdf(points, means[1], covs[1])
    return pr / (pr + pg)


# ---------------------------------------------------------------------------
# Networks and settings
# ---------------------------------------------------------------------------


def resolve(cfg):
    """The auto settings, before the harness checks them (the same on every resume)."""
    toy = cfg.dataset in datasets.TOY
    scale = cfg.scale or (3.5355 if cfg.dataset in ("ring8", "grid25") else 1.0)  # deviation 6
    return dataclasses.replace(
        cfg, scale=scale, lam=cfg.lam if cfg.lam != -1 else 10.0 if toy else 100.0,
        optimizer=cfg.optimizer if cfg.optimizer != "auto" else "sgd" if toy else "adam",
        lr_g=cfg.lr_g or (3e-3 if toy else 3e-4), lr_d=cfg.lr_d or cfg.lr_g or (3e-3 if toy else 3e-4),
        mode_std=cfg.mode_std if cfg.mode_std != -1 else RING8_STD if cfg.dataset == "ring8" else 0.0,
        d_steps=cfg.d_steps or (1 if toy else 5),
        z_dim=cfg.z_dim or (2 if toy else 50))


def make_nets(cfg, data, z_dim, device):
    """MLPs of `layers` x `width` ReLU units (deviations 5, 7), or for `--arch dcgan` the DCGAN pair, D unnormalized.

    Returns (g, d, D's normalization) on `device`.
    """
    if cfg.arch == "dcgan" and data.kind == "image":
        g, d, norm = common.make_nets(cfg, data, z_dim, d_norm="none")  # deviation 4
    else:
        width = cfg.width or 512
        g = nets.MLPGenerator(z_dim, data.shape, width, cfg.layers, "relu")
        d, norm = nets.MLPDiscriminator(data.shape, width, cfg.layers, "relu"), "none (MLP)"
    return g.to(device), d.to(device), norm


def make_optim(cfg, params, lr):
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr)
    return torch.optim.Adam(params, lr=lr, betas=tuple(cfg.betas))


def check_config(cfg):
    if cfg.penalty not in PENALTIES:
        raise common.UserError(f"unknown --penalty {cfg.penalty!r}; choose from {', '.join(PENALTIES)}")
    if cfg.output not in OUTPUTS:
        raise common.UserError(f"--output must be prob or logit, got {cfg.output!r}")
    if cfg.optimizer not in ("auto", "sgd", "adam"):
        raise common.UserError("--optimizer must be auto, sgd or adam")
    if cfg.arch not in ARCHS:
        raise common.UserError(f"unknown --arch {cfg.arch!r}; choose from {', '.join(ARCHS)}")
    if cfg.lam < 0:
        raise common.UserError(f"{common.flag('lam', cfg.lam)}: must be >= 0 (-1: the paper's value)")
    common.must(cfg, ">= 0", "lr_g", "lr_d")
    common.must(cfg, ">= 1", "layers")
    if cfg.mode_std < 0 and cfg.mode_std != -1:
        raise common.UserError(f"{common.flag('mode_std', cfg.mode_std)}: must be >= 0 (-1: the authors' std)")
    if cfg.mode_std > 0 and cfg.dataset not in MIXTURES:
        raise common.UserError(f"--mode-std sets a Gaussian mixture's std ({', '.join(MIXTURES)}), not {cfg.dataset}'s")
    if len(cfg.betas) != 2:
        raise common.UserError("--betas takes two numbers")
    if any(s < 0 or s != int(s) for s in cfg.field_steps):
        raise common.UserError("--field-steps takes whole step numbers >= 0")


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------


def train(cfg):
    cfg = resolve(cfg)
    check_config(cfg)
    ttur = " TTUR" if cfg.lr_d != cfg.lr_g else ""
    run = common.Run(cfg, f"0-GP paper: {cfg.penalty}{ttur} {cfg.dataset}")
    if cfg.mode_std:
        run.data.std = cfg.mode_std  # deviation 6: the authors' std on ring8
    g, d, run.resolved["d_norm"] = make_nets(cfg, run.data, run.z_dim, run.device)
    opt_g, opt_d = make_optim(cfg, g.parameters(), cfg.lr_g), make_optim(cfg, d.parameters(), cfg.lr_d)
    run.resolved.update({k: getattr(cfg, k) for k in ("scale", "mode_std", "lam", "optimizer", "lr_g", "lr_d",
                                                      "layers", "d_steps")})
    # --compile: a D whose input gradient is penalized stays eager (torch.compile has no double backward)
    start = run.begin(g=g, d=d, opt_g=opt_g, opt_d=opt_d, eager=("d",) if cfg.penalty != "none" else ())
    fields = run.data.kind == "toy" and run.data.shape == (2,)
    field_steps = {int(s) for s in cfg.field_steps}
    if fields and start == 0 and 0 in field_steps:
        save_field(run, 0)

    for step in range(start, cfg.steps):
        # The discriminator: d_steps descents on -L + lambda GP (eq. 6), each on fresh batches.
        d.requires_grad_(True)
        for _ in range(cfg.d_steps):
            real = run.data.sample(cfg.batch_size)
            with torch.no_grad():
                fake = g(run.noise())
            loss_d, gp = discriminator_loss(d, real, fake, cfg.penalty, cfg.lam, cfg.output)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
        # The generator: one descent on the non-saturating loss -log D(G(z)).
        d.requires_grad_(False)
        loss_g = g_loss(d(g(run.noise())))
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        if fields and step + 1 in field_steps:
            save_field(run, step + 1)
        run.end_step(step + 1, {"loss_d": loss_d, "loss_g": loss_g}, gp=gp.detach())

    return run.finish(extra_metrics=lambda reals, fakes: grad_stats(d, reals, fakes),
                      penalty=cfg.penalty, lam=cfg.lam, output=cfg.output, optimizer=cfg.optimizer,
                      lr_g=cfg.lr_g, lr_d=cfg.lr_d, betas=list(cfg.betas), arch=cfg.arch, layers=cfg.layers,
                      mode_std=getattr(run.data, "std", None), **modes_wide(run),
                      **(fields_over_time(run) if fields else {}))


def modes_wide(run):
    """On ring8: the final fixed-noise samples' modes counted within 3 x ring8's own std times the scale (deviation 6)."""
    cfg = run.cfg
    if cfg.dataset != "ring8" or cfg.eval_samples == 0:
        return {}
    with torch.no_grad():
        xs = run.g(run.z_fixed[: cfg.eval_samples]).cpu().numpy()
    return {"modes_wide": metrics.toy_metrics(xs, run.data.centers, 0.02 * cfg.scale)["modes"]}


def grad_stats(d, reals, fakes):
    """Mean ||grad_x D|| (of the probability) on real, generated and interpolated samples of the final batches."""
    d.requires_grad_(True)
    norms = {"grad_prob_real": [], "grad_prob_fake": [], "grad_prob_interp": []}
    for r, f in zip(reals, fakes):
        for k, x in (("grad_prob_real", r), ("grad_prob_fake", f), ("grad_prob_interp", interpolates(r, f))):
            norms[k].append(input_grads(d, x, "prob").norm(dim=1).mean().item())
    return {k: float(np.mean(v)) for k, v in norms.items()}


# ---------------------------------------------------------------------------
# Figs. 2, 5, 6: D's gradient field on 2-D toy data
# ---------------------------------------------------------------------------


def gradient_field(d, extent, n=20):
    """grad_v log D(v) on an n x n grid of [-extent, extent]^2: the direction raising log D fastest (Fig. 2)."""
    xs = torch.linspace(-extent, extent, n)
    gx, gy = torch.meshgrid(xs, xs, indexing="xy")
    v = torch.stack([gx.flatten(), gy.flatten()], 1).to(next(d.parameters()).device).requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(F.logsigmoid(d(v).reshape(-1)).sum(), v)
    return v.detach().cpu().numpy(), grad.cpu().numpy()


def save_field(run, step, n_samples=512):
    """D's gradient field, 512 real and 512 generated samples and the fixed-noise samples at `step`."""
    extent = 1.41 * float(np.abs(run.data.centers).max()) if getattr(run.data, "centers", None) is not None else 2.5 * run.cfg.scale
    with common.diagnostic_mode(run.g, run.d):
        xy, grad = gradient_field(run.d, extent)
        with torch.no_grad():
            fake = run.g(run.noise(n_samples)).cpu().numpy()
            fixed = run.g(run.z_fixed[: run.cfg.eval_samples]).cpu().numpy()
        real = run.data.sample(n_samples).cpu().numpy()
    np.savez(run.dir / f"field_{step}.npz", xy=xy, grad=grad, real=real, fake=fake, fixed=fixed, step=step,
             extent=extent)


def fields_over_time(run):
    """Modes and high-quality fraction at every field step; gradient_fields.png and modes_over_time.png."""
    snaps = sorted((int(np.load(p)["step"]), dict(np.load(p))) for p in run.dir.path.glob("field_*.npz"))
    if not snaps:
        return {}
    figures.plot_gradient_fields(run.dir / "gradient_fields.png", [(run.label, snaps)])
    data = run.data
    if getattr(data, "centers", None) is None:
        return {}
    rows = [{"step": s, **metrics.toy_metrics(f["fixed"], data.centers, data.std, data.weights)} for s, f in snaps]
    figures.plot_over_time(run.dir / "modes_over_time.png", rows, ["modes", "high_quality"], run.label)
    return {"over_time": rows}


# ---------------------------------------------------------------------------
# Fig. 1: D alone on two Gaussians
# ---------------------------------------------------------------------------

# The authors' OptimalDiscriminator.py: real ~ N(MEANS[0], COVS[0]), "generated" ~ N(MEANS[1], COVS[1]).
MEANS = np.array([[0.4, 0.9], [1.3, 1.2]])
COVS = np.array([[[1.0, 0.5], [0.5, 1.0]], [[1.0, 0.7], [0.7, 1.0]]])
# Fig. 1's panels (a)-(e): (label, --penalty, samples of each Gaussian); (d) once per side.
SURFACE_PANELS = [("(a) no GP", "none", 100), ("(b) no GP, more samples", "none", 1000), ("(c) 1-GP", "1gp", 100),
                  ("(d) 0-GP-sample, real", "0gp-real", 100), ("(d) 0-GP-sample, generated", "0gp-fake", 100),
                  ("(e) 0-GP", "0gp", 100)]


def surface_d():
    """Fig. 1's discriminator: 2 hidden layers of 64 tanh units, a logit output (sigmoid in the loss)."""
    return nets.MLPDiscriminator((2,), 64, 2, "tanh")


def fit_surface(penalty, n, epochs=2000, lam=1.0, batch_size=20, lr=1e-3, seed=0, device="cpu"):
    """Train Fig. 1's D alone on n samples of each Gaussian for `epochs` shuffled passes of n / batch_size steps, each
    pairing a real and a generated batch (the authors' loop); returns (D, real, fake) (deviation 8)."""
    common.seed_everything(seed)
    rng = np.random.default_rng(seed)
    real = torch.tensor(rng.multivariate_normal(MEANS[0], COVS[0], n), dtype=torch.float32, device=device)
    fake = torch.tensor(rng.multivariate_normal(MEANS[1], COVS[1], n), dtype=torch.float32, device=device)
    d = surface_d().to(device)
    opt = torch.optim.Adam(d.parameters(), lr=lr)
    for _ in range(epochs):
        i, j = torch.randperm(n), torch.randperm(n)
        for b in range(0, n - batch_size + 1, batch_size):
            loss, _ = discriminator_loss(d, real[i[b:b + batch_size]], fake[j[b:b + batch_size]], penalty, lam)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return d, real, fake


def surface_grid(n=100, lo=-2.5, hi=4.5):
    """The n x n grid of [lo, hi]^2 (the authors' plot), as (n*n, 2) points, x fastest."""
    xs = np.linspace(lo, hi, n)
    gx, gy = np.meshgrid(xs, xs, indexing="xy")
    return np.stack([gx.ravel(), gy.ravel()], 1)


def density_weights(points, means=MEANS, covs=COVS):
    """The data's density (p_r + p_g)/2 at `points`, normalized to sum to 1: where Fig. 1's D is trained and used."""
    w = sum(gaussian_pdf(points, m, c) for m, c in zip(means, covs))
    return w / w.sum()


def surface(out, seeds=(0,), epochs=2000, lam=1.0, device="cpu"):
    """Fig. 1 for each seed: every panel's D on the grid, its density-weighted and plain mean |D - D*|; surface.png,
    surface.json, surface.md."""
    device = common.pick_device(device)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pts = surface_grid()
    d_star, w = optimal_d(pts, MEANS, COVS), density_weights(pts)
    gaps = {label: [] for label, _, _ in SURFACE_PANELS}
    uniform = {label: [] for label, _, _ in SURFACE_PANELS}
    panels = []
    t0, work, total = time.time(), 0, len(seeds) * sum(n for _, _, n in SURFACE_PANELS)
    for seed in seeds:
        for label, penalty, n in SURFACE_PANELS:
            d, real, fake = fit_surface(penalty, n, epochs, lam, seed=seed, device=device)
            with torch.no_grad():
                v = torch.sigmoid(d(torch.tensor(pts, dtype=torch.float32, device=device))).cpu().numpy()
            gaps[label].append(float((w * np.abs(v - d_star)).sum()))
            uniform[label].append(float(np.abs(v - d_star).mean()))
            if seed == seeds[0]:
                panels.append((label, v, real.cpu().numpy(), fake.cpu().numpy(), gaps[label][-1]))
            work += n  # a panel's steps are proportional to its samples
            eta = (time.time() - t0) / work * (total - work)
            print(f"[surface] seed {seed} {label}: |D - D*| weighted by the data {gaps[label][-1]:.4f}, "
                  f"uniform {uniform[label][-1]:.4f}  (ETA {eta:.0f} s)", flush=True)
    panels.append(("(f) optimal D*, eq. 2", d_star, None, None, 0.0))
    figures.plot_value_surfaces(out / "surface.png", panels, (-2.5, 4.5))
    res = {"seeds": list(seeds), "epochs": epochs, "steps": {label: epochs * n // 20 for label, _, n in SURFACE_PANELS},
           "lam": lam, "device": str(device), "seconds": round(time.time() - t0, 1), "gap": gaps,
           "gap_uniform": uniform}
    common.write_json(out / "surface.json", res)
    lines = [f"Fig. 1: |D - D*| on a 100 x 100 grid of [-2.5, 4.5]^2, weighted by the data's density (p_r + p_g)/2 and "
             f"plain (uniform); {epochs} epochs of Adam (batch 20), lambda {lam}, seeds {', '.join(map(str, seeds))} "
             "(mean, std over seeds: numpy's, ddof 0).", "",
             "| panel | steps | gap to D*, density-weighted | std | gap to D*, uniform | std |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {label} | {res['steps'][label]} | {np.mean(gaps[label]):.4f} | {np.std(gaps[label]):.4f} | "
              f"{np.mean(uniform[label]):.4f} | {np.std(uniform[label]):.4f} |" for label in gaps]
    (out / "surface.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines) + f"\n\nfigure: {out / 'surface.png'}")
    return res


def surface_main(argv):
    ap = argparse.ArgumentParser(prog="python -m methods.zero_gp surface",
                                 description="Fig. 1: discriminators trained alone on two Gaussians with each penalty, "
                                             "against the optimal D* of eq. (2).")
    ap.add_argument("--out", default="runs/zero-gp-surface", help="folder for surface.png, surface.json, surface.md")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds (samples and D's initialisation)")
    ap.add_argument("--epochs", type=int, default=2000,
                    help="passes over each panel's samples, batch 20 (2,000: the caption's 10,000 steps at 100 samples; "
                         "the authors' script: 10,000)")
    ap.add_argument("--lam", type=float, default=1.0, help="lambda of every penalty (Fig. 1: 1)")
    ap.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    a = ap.parse_args(argv)
    common.must(a, ">= 1", "epochs")
    if not math.isfinite(a.lam):
        raise common.UserError(f"--lam {a.lam}: must be a finite number")
    common.must(a, ">= 0", "lam")
    bad = [s for s in a.seeds if not 0 <= s <= common.SEED_MAX]
    if bad:
        raise common.UserError(f"--seeds {bad[0]}: every seed must be in [0, {common.SEED_MAX}]")
    common.pick_device(a.device, check_only=True)
    return surface(a.out, a.seeds, a.epochs, a.lam, a.device)


def main():
    if sys.argv[1:2] == ["surface"]:
        return common.cli(surface_main, sys.argv[2:])
    common.cli(train, common.parse_config(Config, __doc__))


if __name__ == "__main__":
    main()
