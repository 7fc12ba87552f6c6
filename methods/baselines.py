"""Baseline GAN losses: the standard (minimax) GAN, the -log D GAN, LSGAN, WGAN, WGAN-GP, and instance noise.

Papers
- Goodfellow et al. 2014, Generative Adversarial Nets. https://arxiv.org/abs/1406.2661
- Arjovsky & Bottou 2017, Towards Principled Methods for Training GANs (instance
  noise, Sec. 3). https://arxiv.org/abs/1701.04862 ; slides in
  ../shared/papers/principled_methods_slides.md
- Mao et al. 2017, Least Squares GANs. https://arxiv.org/abs/1611.04076
- Arjovsky, Chintala & Bottou 2017, Wasserstein GAN. https://arxiv.org/abs/1701.07875
- Gulrajani et al. 2017, Improved Training of Wasserstein GANs. https://arxiv.org/abs/1704.00028

Every loss takes D's raw, linear output (a logit for the GAN losses, a critic
value for WGAN), so D never ends in a sigmoid; sigma(.) below is the logistic
function and D(x) = sigma(logit).

    value of the game (slides eq. 1, 4):  V(D, G) = E_x log D(x) + E_z log(1 - D(G(z)))
    d_loss_gan            -V: softplus(-logit_real) + softplus(logit_fake)   (both GAN variants)
    g_loss_minimax        E_z log(1 - D(G(z))) = -E softplus(logit_fake)     (the "original cost")
    g_loss_nonsaturating  E_z -log D(G(z))     =  E softplus(-logit_fake)    (the "-log D" cost)
    d_loss_lsgan          1/2 E (D(x) - 1)^2 + 1/2 E D(G(z))^2               (Mao et al. eq. 9, 0-1 coding)
    g_loss_lsgan          1/2 E (D(G(z)) - 1)^2
    d_loss_wgan           E f(G(z)) - E f(x)  with weights clipped to [-c, c]
    g_loss_wgan           -E f(G(z))
    gradient_penalty      E_xhat (||grad f(xhat)||_2 - 1)^2, xhat = a x + (1 - a) G(z), a ~ U(0,1) per sample
    instance noise        D sees x + eps and G(z) + eps', eps, eps' ~ N(0, sigma^2 I), in the D step and in
                          the G step (the corollary of Thm. 3.2: backprop through the noisy samples)

Run
    make toy-baselines            every loss on ring8 and grid25, with and without instance noise
    make demo                     four losses on ring8, side by side (a few minutes on 2 cores)
    python -m methods.baselines --loss wgan-gp --dataset ring8 --steps 5000 --out runs/wgan-gp
    python -m methods.baselines --help

Diagnostics logged for every run (the other papers plot them): the mean and
std of D's raw output on a real and a generated batch, and the mean over a
generated batch of the per-sample norm ||grad_x D(x)|| of D's raw output
(`grad_norm_fake`); the final histograms of D's output, over `--diag-batches`
batches, are in `d_hist.png` and `d_outputs.npz`. On labelled image sets (digits, MNIST, CIFAR-10) the
summary also holds the MODE and Inception scores of `--eval-samples`
generated images with our own classifier (metrics.py).

Deviations and decisions
- D outputs logits and the losses apply the sigmoid inside (softplus forms):
  numerically stable and the same functions of D's output as in the papers.
- LSGAN uses the 0-1 coding (a = 0, b = c = 1) with the 1/2 factors of Mao et al. eq. (9).
- Optimizers follow each paper: GAN, -log D GAN and LSGAN use the DCGAN
  setting Adam(2e-4, betas (0.5, 0.999)); WGAN RMSprop(5e-5), clip 0.01, 5
  critic steps, 100 for the first 25 generator steps and every 500th
  (`--wgan-boost`, WGAN only, as in the authors' code); WGAN-GP Adam(1e-4,
  betas (0.5, 0.9)), lambda 10, 5 critic steps. `--lr`, `--betas`,
  `--d-steps` override them; the VRAL training-ratio study sets `--d-steps`.
- The gradient penalty draws one interpolation coefficient per sample and
  flattens each sample's gradient before the norm.
- Instance noise is off unless `--instance-noise SIGMA` is given; with
  `--noise-anneal linear` sigma falls linearly to 0 at the last step.
- The generator's latent is N(0, I): 100-d for images (DCGAN), 2-d for toy
  data (Roth et al.'s choice for their toy; `--z-dim` changes it).
- Logged diagnostics draw their own batches inside `common.diagnostic_mode`,
  which restores the RNG and BatchNorm statistics: logging more or less often
  does not change the run.
"""

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import common
import data as datasets
from metrics import image_scores, toy_metrics

LOSSES = ("minimax", "nonsaturating", "lsgan", "wgan", "wgan-gp")
# loss -> (optimizer, lr, betas, d_steps): each paper's default.
OPTIM = {
    "minimax": ("adam", 2e-4, (0.5, 0.999), 1),
    "nonsaturating": ("adam", 2e-4, (0.5, 0.999), 1),
    "lsgan": ("adam", 2e-4, (0.5, 0.999), 1),
    "wgan": ("rmsprop", 5e-5, None, 5),
    "wgan-gp": ("adam", 1e-4, (0.5, 0.9), 5),
}


@dataclass
class Config:
    loss: str = "nonsaturating"  # minimax | nonsaturating | lsgan | wgan | wgan-gp
    dataset: str = "ring8"  # see data.NAMES
    data_root: str = "data"  # where MNIST, CIFAR-10, CelebA or an image folder live
    image_size: int = 0  # resize image sets to this many px (0: the data set's default)
    scale: float = 1.0  # multiply a toy set (centres and std)
    arch: str = "auto"  # mlp | dcgan | auto (mlp for toy data, dcgan for images)
    width: int = 0  # MLP hidden units / DCGAN base channels (0: 128 / 64)
    batch_norm: bool = True  # BatchNorm in the DCGAN nets
    z_dim: int = 0  # latent size (0: 2 for toy data, 100 for images)
    steps: int = 5000  # generator updates
    d_steps: int = 0  # discriminator updates per generator update (0: the loss's default)
    wgan_boost: bool = True  # WGAN: 100 critic steps for the first 25 generator steps and every 500th
    batch_size: int = 64  # m, samples per batch
    optimizer: str = "auto"  # auto (the loss's paper default) | adam | rmsprop
    lr: float = 0.0  # learning rate of both nets (0: the loss's default)
    betas: tuple = ()  # Adam betas (empty: the loss's default)
    adam_eps: float = 1e-8  # Adam epsilon
    clip: float = 0.01  # WGAN weight clipping c
    gp_lambda: float = 10.0  # WGAN-GP penalty weight lambda
    instance_noise: float = 0.0  # std sigma of the Gaussian noise added to D's inputs (0: off)
    noise_anneal: str = "none"  # none | linear (sigma -> 0 at the last step)
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    out: str = "runs/baselines"  # run folder
    resume: bool = False  # continue from out/checkpoint.pt
    log_every: int = 100  # steps between metric lines (with D diagnostics)
    diag_batches: int = 1  # batches averaged in each D diagnostic (VRAL Fig. 4 uses 50)
    sample_every: int = 1000  # steps between sample figures
    ckpt_every: int = 1000  # steps between checkpoints
    eval_samples: int = 2500  # samples for the final toy metrics
    stand_in: bool = False  # replace a missing image set by random images (SMOKE runs only)
    # Arjovsky & Bottou's experiment (--experiment principled)
    experiment: str = "train"  # train: train a GAN | principled: train, freeze G, train a fresh D, measure G's gradient
    epochs: str = "1,10,25"  # principled: epochs of DCGAN training after which G is frozen
    epoch_steps: int = 0  # principled: generator steps per epoch (0: data set size / batch size)
    d_iters: int = 4000  # principled: iterations of the fresh discriminator
    measure_every: int = 50  # principled: discriminator iterations between measurements
    grad_batches: int = 10  # principled: batches per measurement of G's gradient norm (mean and spread)
    d_noise: float = 0.0  # principled: if > 0, repeat the fresh-D phase with instance noise of this std


# ---------------------------------------------------------------------------
# The losses: pure functions of D's raw outputs
# ---------------------------------------------------------------------------


def d_loss_gan(real_logits, fake_logits):
    """-V(D, G) (slides eq. 1/4): -E log D(x) - E log(1 - D(G(z))), D = sigmoid(logit)."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def g_loss_minimax(fake_logits):
    """The original generator cost E log(1 - D(G(z))) (eq. 1), minimised by G; saturates when D wins."""
    return -F.softplus(fake_logits).mean()


def g_loss_nonsaturating(fake_logits):
    """The -log D alternative: E -log D(G(z)) (slides, Thm. 2.5)."""
    return F.softplus(-fake_logits).mean()


def d_loss_lsgan(real_out, fake_out):
    """LSGAN discriminator, 0-1 coding: 1/2 E (D(x) - 1)^2 + 1/2 E D(G(z))^2 (Mao et al. eq. 9)."""
    return 0.5 * ((real_out - 1) ** 2).mean() + 0.5 * (fake_out**2).mean()


def g_loss_lsgan(fake_out):
    """LSGAN generator: 1/2 E (D(G(z)) - 1)^2."""
    return 0.5 * ((fake_out - 1) ** 2).mean()


def d_loss_wgan(real_out, fake_out):
    """WGAN critic: minimise E f(G(z)) - E f(x), the negative of the dual estimate of W(P_r, P_g)."""
    return fake_out.mean() - real_out.mean()


def g_loss_wgan(fake_out):
    """WGAN generator: -E f(G(z))."""
    return -fake_out.mean()


def gradient_penalty(d, real, fake):
    """WGAN-GP: E (||grad f(xhat)||_2 - 1)^2 at xhat = a x + (1 - a) G(z), one a ~ U(0, 1) per sample.

    Each sample's gradient is flattened before its norm; the graph is kept so
    the penalty trains D.
    """
    a = torch.rand(len(real), *([1] * (real.dim() - 1)), device=real.device)
    xhat = (a * real + (1 - a) * fake).requires_grad_(True)
    (g,) = torch.autograd.grad(d(xhat).sum(), xhat, create_graph=True)
    return ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()


def clip_weights(d, c):
    """WGAN: clamp every critic parameter to [-c, c] after each critic update."""
    with torch.no_grad():
        for p in d.parameters():
            p.clamp_(-c, c)


def d_loss(loss, real_out, fake_out):
    if loss in ("minimax", "nonsaturating"):
        return d_loss_gan(real_out, fake_out)
    if loss == "lsgan":
        return d_loss_lsgan(real_out, fake_out)
    return d_loss_wgan(real_out, fake_out)


def g_loss(loss, fake_out):
    return {"minimax": g_loss_minimax, "nonsaturating": g_loss_nonsaturating, "lsgan": g_loss_lsgan,
            "wgan": g_loss_wgan, "wgan-gp": g_loss_wgan}[loss](fake_out)


def noise_sigma(cfg, step):
    """Instance-noise std at generator step `step` (0-based)."""
    if cfg.noise_anneal == "linear":
        return cfg.instance_noise * max(0.0, 1.0 - step / cfg.steps)
    return cfg.instance_noise


def critic_steps(cfg, step):
    """Discriminator updates before generator update `step` (0-based)."""
    n = cfg.d_steps or OPTIM[cfg.loss][3]
    if cfg.loss == "wgan" and cfg.wgan_boost and (step < 25 or step % 500 == 0):
        return 100
    return n


def noisy(x, sigma):
    return x + sigma * torch.randn_like(x) if sigma > 0 else x


def make_optim(cfg, params):
    kind, lr, betas, _ = OPTIM[cfg.loss]
    kind = kind if cfg.optimizer == "auto" else cfg.optimizer
    lr = cfg.lr or lr
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch.optim.Adam(params, lr=lr, betas=tuple(cfg.betas) or betas or (0.5, 0.999), eps=cfg.adam_eps)


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------


def check_config(cfg):
    if cfg.loss not in LOSSES:
        raise common.UserError(f"unknown --loss {cfg.loss!r}; choose from {', '.join(LOSSES)}")
    if cfg.optimizer not in ("auto", "adam", "rmsprop"):
        raise common.UserError("--optimizer must be auto, adam or rmsprop")
    if cfg.noise_anneal not in ("none", "linear"):
        raise common.UserError("--noise-anneal must be none or linear")
    if cfg.steps < 1 or cfg.batch_size < 2:
        raise common.UserError("--steps must be >= 1 and --batch-size >= 2")
    if cfg.instance_noise < 0 or cfg.d_noise < 0:
        raise common.UserError("--instance-noise and --d-noise must be >= 0")
    if cfg.experiment not in ("train", "principled"):
        raise common.UserError("--experiment must be train or principled")
    try:
        epochs = [int(e) for e in cfg.epochs.split(",")]
    except ValueError:
        epochs = []
    if not epochs or min(epochs) < 1:
        raise common.UserError(f"--epochs must be positive integers separated by commas, got {cfg.epochs!r}")


def train(cfg, g_snapshots=()):
    """Train a GAN with `cfg.loss`; G's weights are also saved as g_step<N>.pt after each step N in `g_snapshots`."""
    check_config(cfg)
    common.seed_everything(cfg.seed)
    device = common.pick_device(cfg.device)
    data = datasets.load(cfg.dataset, cfg.data_root, device, cfg.image_size or None, cfg.scale, cfg.stand_in)
    z_dim = cfg.z_dim or (2 if data.kind == "toy" else 100)
    g, d = common.make_nets(data, z_dim, cfg.arch, cfg.width or None, cfg.batch_norm)
    g, d = g.to(device), d.to(device)
    opt_g, opt_d = make_optim(cfg, g.parameters()), make_optim(cfg, d.parameters())
    # Fixed noise for sample figures, from its own generator: it does not move the training RNG.
    z_fixed = torch.randn(max(64, cfg.eval_samples if data.kind == "toy" else 64), z_dim,
                          generator=torch.Generator().manual_seed(cfg.seed + 1)).to(device)

    ckpt_path = Path(cfg.out) / "checkpoint.pt"
    modules = {"g": g, "d": d, "opt_g": opt_g, "opt_d": opt_d}
    start, seconds = 0, 0.0
    if cfg.resume and ckpt_path.exists():
        start, extra = common.load_checkpoint(ckpt_path, modules, device)
        seconds = extra["seconds"]
        print(f"resumed from {ckpt_path} at step {start}")
    run = common.RunDir(cfg.out, cfg, resume_step=start)

    progress = common.Progress(cfg.steps, start, name=f"[{cfg.loss} {cfg.dataset}] ")
    t0 = time.time() - seconds
    for step in range(start, cfg.steps):
        sigma = noise_sigma(cfg, step)
        # Discriminator (critic) updates.
        d.requires_grad_(True)
        for _ in range(critic_steps(cfg, step)):
            real = data.sample(cfg.batch_size)
            with torch.no_grad():
                fake = g(torch.randn(cfg.batch_size, z_dim, device=device))
            real_in, fake_in = noisy(real, sigma), noisy(fake, sigma)
            loss_d = d_loss(cfg.loss, d(real_in), d(fake_in))
            if cfg.loss == "wgan-gp":
                loss_d = loss_d + cfg.gp_lambda * gradient_penalty(d, real_in, fake_in)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            if cfg.loss == "wgan":
                clip_weights(d, cfg.clip)
        # Generator update, through D's noisy input (Arjovsky & Bottou, corollary of Thm. 3.2).
        d.requires_grad_(False)
        fake = g(torch.randn(cfg.batch_size, z_dim, device=device))
        loss_g = g_loss(cfg.loss, d(noisy(fake, sigma)))
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        common.check_finite(step + 1, loss_d=loss_d.item(), loss_g=loss_g.item())

        done = step + 1
        if done % cfg.log_every == 0 or done == cfg.steps:
            with common.diagnostic_mode(g, d):
                diag = common.d_diagnostics(
                    d, [data.sample(cfg.batch_size) for _ in range(cfg.diag_batches)],
                    [g(torch.randn(cfg.batch_size, z_dim, device=device)).detach() for _ in range(cfg.diag_batches)])
            run.log(done, loss_d=loss_d.item(), loss_g=loss_g.item(), sigma=sigma, **diag)
            progress.update(done, loss_d=loss_d.item(), loss_g=loss_g.item())
        if done in g_snapshots:
            torch.save(g.state_dict(), run / f"g_step{done}.pt")
        if done % cfg.sample_every == 0:
            common.save_samples(run / f"samples_{done}.png", data, g, z_fixed)
        if done % cfg.ckpt_every == 0 or done == cfg.steps:
            common.save_checkpoint(ckpt_path, done, modules, {"seconds": time.time() - t0})

    seconds = time.time() - t0
    return evaluate(cfg, run, data, g, d, z_fixed, z_dim, device, seconds)


def evaluate(cfg, run, data, g, d, z_fixed, z_dim, device, seconds):
    """Final figures and summary.json: samples, D-output histograms, gradient-norm curve, toy metrics.

    D's outputs and diagnostics are taken on `diag_batches` real and generated
    batches (of 1,000 samples for toy data, `batch_size` for images).
    """
    n = max(cfg.batch_size, 1000 if data.kind == "toy" else cfg.batch_size)
    with common.diagnostic_mode(g, d):
        reals = [data.sample(n) for _ in range(cfg.diag_batches)]
        fakes = [g(torch.randn(n, z_dim, device=device)).detach() for _ in range(cfg.diag_batches)]
        real, fake = reals[0], fakes[0]
        common.save_samples(run / "samples_final.png", data, g, z_fixed, real)
        with torch.no_grad():
            out_r = torch.cat([d(x) for x in reals]).cpu().numpy()
            out_f = torch.cat([d(x) for x in fakes]).cpu().numpy()
        diag = common.d_diagnostics(d, reals, fakes)
        if data.kind == "toy" and data.shape[0] == 2:
            common.plot_d_surface(run / "d_surface.png", d, real.cpu().numpy(), fake.cpu().numpy(), device,
                                  title=f"{cfg.loss}: D's output and input gradient")
        with torch.no_grad():
            xs = g(z_fixed[: cfg.eval_samples]).cpu().numpy() if data.kind == "toy" else None
        imgs = common.generate(g, cfg.eval_samples, cfg.batch_size, z_dim, device) if data.kind == "image" else None
    np.savez(run / "d_outputs.npz", real=out_r, fake=out_f)
    common.plot_hist_grid(run / "d_hist.png", [[(out_r, out_f)]], col_labels=[f"{cfg.loss}: D raw output"])
    common.plot_grad_norm_history(run, cfg.loss)
    summary = {"steps": cfg.steps, "seconds": round(seconds, 2), "device": str(device), "loss": cfg.loss,
               "dataset": cfg.dataset, "instance_noise": cfg.instance_noise, **diag}
    if data.kind == "toy" and getattr(data, "centers", None) is not None:
        summary.update(toy_metrics(xs, data.centers, data.std, data.weights))
    if imgs is not None:
        summary.update(image_scores(data, imgs, cfg.data_root))
    run.summary(**summary)
    print(f"done: {run.path}/summary.json")
    return summary


# ---------------------------------------------------------------------------
# Arjovsky & Bottou 2017: train, freeze G, train a fresh D, watch G's gradient
# ---------------------------------------------------------------------------


def generator_grad_norm(g, d, z, cost, sigma=0.0, gen=None):
    """||grad_theta C||_2 over all of G's parameters theta, on the batch z.

    C is 'minimax', the original cost E log(1 - D(G(z))) whose gradient Thm. 2.4
    bounds by M eps / (1 - eps), or 'nonsaturating', the -log D cost of Thm. 2.6.
    With sigma > 0, D sees G(z) + eps', eps' ~ N(0, sigma^2 I) drawn from `gen`
    (the corollary of Thm. 3.2). Uses autograd.grad: no .grad is written.
    """
    params = list(g.parameters())
    x = g(z)
    if sigma > 0:
        x = x + sigma * torch.randn(x.shape, generator=gen).to(x.device)
    grads = torch.autograd.grad(g_loss(cost, d(x)), params)
    return torch.sqrt(sum((t.double() ** 2).sum() for t in grads)).item()


def discriminator_error(d, real, fake):
    """D's cross-entropy on a real and a generated batch (the terms of -V), and its accuracy."""
    with torch.no_grad():
        lr, lf = d(real), d(fake)
    return {"err_real": F.softplus(-lr).mean().item(), "err_fake": F.softplus(lf).mean().item(),
            "accuracy": 0.5 * ((lr > 0).float().mean() + (lf < 0).float().mean()).item()}


def fresh_discriminator_phase(cfg, data, g, d, z_dim, device, sigma):
    """G frozen (no optimizer; its buffers restored), D trained from scratch on real vs G(z) with Adam(2e-4, (0.5, 0.999)).

    Every `measure_every` iterations (and at 0 and the end): D's error on a real
    and a generated batch, and G's gradient norm under both costs on the same
    `grad_batches` fixed latent batches (mean, std, min and max over them).
    """
    g_buffers = {k: b.clone() for k, b in g.named_buffers()}
    opt = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    gen = torch.Generator().manual_seed(cfg.seed + 7)
    z_fixed = [torch.randn(cfg.batch_size, z_dim, generator=gen).to(device) for _ in range(cfg.grad_batches)]
    rows = []
    progress = common.Progress(cfg.d_iters, name=f"[fresh D, sigma {sigma:g}] ")
    for it in range(cfg.d_iters + 1):
        if it % cfg.measure_every == 0 or it == cfg.d_iters:
            with common.diagnostic_mode(g, d):
                real = noisy(data.sample(cfg.batch_size), sigma)
                with torch.no_grad():
                    fake = noisy(g(z_fixed[0]), sigma)
                row = {"iter": it, **discriminator_error(d, real, fake)}
                noise_gen = torch.Generator().manual_seed(cfg.seed + 11)
                for cost in ("minimax", "nonsaturating"):
                    n = np.array([generator_grad_norm(g, d, z, cost, sigma, noise_gen) for z in z_fixed])
                    row.update({f"{cost}_mean": n.mean(), f"{cost}_std": n.std(), f"{cost}_min": n.min(),
                                f"{cost}_max": n.max()})
            rows.append(row)
            progress.update(it, d_error=row["err_real"] + row["err_fake"], minimax=row["minimax_mean"])
        if it == cfg.d_iters:
            break
        real = data.sample(cfg.batch_size)
        with torch.no_grad():
            fake = g(torch.randn(cfg.batch_size, z_dim, device=device))
        loss = d_loss_gan(d(noisy(real, sigma)), d(noisy(fake, sigma)))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        common.check_finite(it + 1, fresh_d_loss=loss.item())
    with torch.no_grad():
        for k, b in g.named_buffers():
            b.copy_(g_buffers[k])
    return rows


def principled(cfg):
    """Train a GAN for each k in --epochs, freeze G, train a fresh D from scratch, and log its error and G's gradient."""
    check_config(cfg)
    t0 = time.time()
    ks = sorted({int(e) for e in cfg.epochs.split(",")})
    common.seed_everything(cfg.seed)
    device = common.pick_device(cfg.device)
    data = datasets.load(cfg.dataset, cfg.data_root, device, cfg.image_size or None, cfg.scale, cfg.stand_in)
    spe = cfg.epoch_steps or math.ceil(len(data) / cfg.batch_size)
    out = Path(cfg.out)
    pre = dataclasses.replace(cfg, experiment="train", steps=ks[-1] * spe, instance_noise=0.0, out=str(out / "gan"),
                              sample_every=min(cfg.sample_every, ks[-1] * spe))
    print(f"phase 1: {cfg.loss} GAN for {ks[-1]} epochs ({spe} generator steps each), G saved after {ks}")
    train(pre, g_snapshots=[k * spe for k in ks])

    run = common.RunDir(out, cfg)
    z_dim = cfg.z_dim or (2 if data.kind == "toy" else 100)
    sigmas = [0.0] + ([cfg.d_noise] if cfg.d_noise > 0 else [])
    results = {}
    for k, sigma in ((k, s) for k in ks for s in sigmas):
        common.seed_everything(cfg.seed + 1)  # the same fresh D and batches for every k
        g, d = common.make_nets(data, z_dim, cfg.arch, cfg.width or None, cfg.batch_norm)
        g.load_state_dict(torch.load(out / "gan" / f"g_step{k * spe}.pt", map_location="cpu"))
        g, d = g.to(device), d.to(device)
        print(f"phase 2: G after {k} epochs frozen, fresh D for {cfg.d_iters} iterations, noise sigma {sigma}")
        rows = fresh_discriminator_phase(cfg, data, g, d, z_dim, device, sigma)
        for r in rows:
            run.log(r["iter"], epochs=k, sigma=sigma, **r)
        results[(k, sigma)] = rows
    return principled_report(cfg, run, ks, sigmas, results, device, time.time() - t0)


def principled_report(cfg, run, ks, sigmas, results, device, seconds):
    """The slides' figures and summary.json."""
    def curve(rows, key, band=True):
        x = [r["iter"] for r in rows]
        pos = lambda v: max(v, 1e-30)  # log axes
        if not band:
            return (x, [pos(r[key]) for r in rows])
        return (x, [pos(r[key + "_mean"]) for r in rows], [pos(r[key + "_min"]) for r in rows],
                [pos(r[key + "_max"]) for r in rows])

    clean = {k: results[(k, 0.0)] for k in ks}
    for rows in clean.values():
        for r in rows:
            r["d_error"] = r["err_real"] + r["err_fake"]
    common.plot_curves(run / "d_error.png", {f"{k} epochs": curve(clean[k], "d_error", False) for k in ks},
                       xlabel="discriminator iterations", ylabel="D's error  -E log D(x) - E log(1 - D(G(z)))",
                       title="Fresh discriminator against a frozen generator")
    common.plot_curves(run / "grad_minimax.png", {f"{k} epochs": curve(clean[k], "minimax") for k in ks},
                       xlabel="discriminator iterations", ylabel="||grad_theta E log(1 - D(G(z)))||",
                       title="Original cost: the generator's gradient (band: min-max over batches)")
    common.plot_curves(run / "grad_nonsaturating.png", {f"{k} epochs": curve(clean[k], "nonsaturating") for k in ks},
                       xlabel="discriminator iterations", ylabel="||grad_theta E -log D(G(z))||",
                       title="-log D cost: the generator's gradient (band: min-max over batches)")
    summary = {"steps": cfg.d_iters, "seconds": round(seconds, 2), "device": str(device), "dataset": cfg.dataset,
               "epochs": cfg.epochs}
    for (k, sigma), rows in results.items():
        tag = f"k{k}" + ("_noise" if sigma > 0 else "")
        first, last = rows[0], rows[-1]
        summary.update({
            f"{tag}_d_error_first": first["err_real"] + first["err_fake"],
            f"{tag}_d_error_last": last["err_real"] + last["err_fake"],
            f"{tag}_d_accuracy_last": last["accuracy"],
            f"{tag}_minimax_first": first["minimax_mean"], f"{tag}_minimax_last": last["minimax_mean"],
            f"{tag}_minimax_peak": max(r["minimax_mean"] for r in rows),
            # how far the original cost's gradient falls from its peak (the fresh D starts near constant)
            f"{tag}_minimax_decades": math.log10(max(r["minimax_mean"] for r in rows) / max(last["minimax_mean"], 1e-300)),
            f"{tag}_nonsat_first": first["nonsaturating_mean"], f"{tag}_nonsat_last": last["nonsaturating_mean"],
            f"{tag}_nonsat_cv_first": first["nonsaturating_std"] / first["nonsaturating_mean"],
            f"{tag}_nonsat_cv_last": last["nonsaturating_std"] / last["nonsaturating_mean"],
        })
    if len(sigmas) > 1:
        s = sigmas[1]
        curves_g, curves_e = {}, {}
        for k in ks:
            for sig, lab in ((0.0, f"{k} epochs"), (s, f"{k} epochs, noise {s:g}")):
                rows = results[(k, sig)]
                curves_g[lab] = curve(rows, "minimax")
                curves_e[lab] = ([r["iter"] for r in rows], [max(r["err_real"] + r["err_fake"], 1e-30) for r in rows])
        common.plot_curves(run / "noise_grad_minimax.png", curves_g, xlabel="discriminator iterations",
                           ylabel="||grad_theta E log(1 - D(G(z)))||", title="Instance noise on D's inputs: original cost")
        common.plot_curves(run / "noise_d_error.png", curves_e, xlabel="discriminator iterations",
                           ylabel="D's error", title="Instance noise on D's inputs: D's error")
    run.summary(**summary)
    print(f"done: {run.path}/summary.json")
    return summary


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

HELP = {
    "loss": "GAN loss: minimax (original cost), nonsaturating (-log D), lsgan, wgan, wgan-gp",
    "dataset": "data set: " + ", ".join(datasets.NAMES),
    "betas": "Adam betas, e.g. --betas 0.5 0.999",
    "stand_in": "if the image set is missing, use random images of its shape (SMOKE runs only)",
}


def main():
    cfg = common.parse_config(Config, __doc__, HELP)
    common.cli(principled if cfg.experiment == "principled" else train, cfg)


if __name__ == "__main__":
    main()
