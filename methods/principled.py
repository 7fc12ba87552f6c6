"""Arjovsky & Bottou 2017: train a GAN, freeze G, train a fresh D, and watch the generator's gradient.

Paper: Martin Arjovsky and Léon Bottou, "Towards Principled Methods for
Training Generative Adversarial Networks", ICLR 2017.
https://arxiv.org/abs/1701.04862

The idea. When the supports of P_r and P_g are disjoint (or lie on low-
dimensional manifolds), a perfect discriminator exists and training D
towards it breaks G's learning signal:

    Thm. 2.4  the original cost E_z log(1 - D(G(z))): ||grad_theta|| <= M eps / (1 - eps) -> 0 as D's error eps -> 0
    Thm. 2.5/2.6  the -log D cost E_z -log D(G(z)): its gradient does not vanish, but its updates have
              growing (Cauchy-like) variance as D improves
    Thm. 3.2  instance noise: D sees x + eps and G(z) + eps', eps, eps' ~ N(0, sigma^2 I); the noisy
              distributions overlap, the optimal D is smooth and G's gradient stays informative

The experiment (the paper's Fig. 2-3, the slides' "DCGAN trained for 1, 10, 25
epochs, then, with the generator fixed, train a discriminator from scratch"):

    phase 1   train a DCGAN (methods/baselines.py, `--loss`, default -log D) and keep G after each of
              `--epochs`                                                               -> train
    phase 2   for each kept G, frozen: a fresh D trained `--d-iters` iterations with Adam(2e-4, (0.5,
              0.999)); every `--measure-every` iterations D's error and ||grad_theta C|| of G's cost C
              under both costs on `--grad-batches` fixed latent batches          -> fresh_discriminator_phase,
                                                                                    generator_grad_norm
    noise     with `--d-noise SIGMA`, phase 2 again with instance noise on D's inputs (training and measuring)
    across D  with `--d-seeds N`, N - 1 more fresh Ds per kept G (no noise), each seeded apart; the spread of
              G's final gradient across the N Ds                                    -> across_discriminators

Run
    make digits-principled        digits at 16 px (CPU-sized; about an hour on one core with --d-seeds 3)
    make mnist-principled, make cifar-principled
    python -m methods.principled --dataset digits --image-size 16 --epochs 1,10,25 --d-noise 0.5 --out runs/p
    python -m methods.principled --help

Figures: `d_error.png` and `d_accuracy.png` (the paper's Fig. 1 shows both),
`grad_minimax.png`, `grad_nonsaturating.png` (mean over the latent batches,
band from min to max, log scale), and with `--d-noise`
`noise_grad_minimax.png`, `noise_d_error.png`.

Deviations and decisions
1. D's error is its cross-entropy on one real and one generated batch,
   -E log D(x) - E log(1 - D(G(z))); the paper plots the same quantity.
2. G's gradient is the gradient, over all of G's parameters, of the mean
   cost over one latent batch. Its change from batch to batch is measured on
   `--grad-batches` fixed batches at the same D, two ways: the norms' spread
   (std, min-max band in the figures; `nonsat_cv` in the summary, std/mean)
   and the vectors' spread, mean_b ||g_b - mean g|| / ||mean g||
   (`nonsat_vec_spread`), which also sees changes of direction. The paper's
   Fig. 3 shows the noise of the -log D gradient along the D-iteration axis;
   the slides name no data set (digits, MNIST and CIFAR-10 are our choices).
   How far the original cost's gradient falls is given from its peak
   (`minimax_decades`) and from the first measurement (`_from_first`).
   Both spreads hold D fixed. Thm. 2.6's variance is over D as well, so
   `--d-seeds N` trains N fresh Ds against the same frozen G (the first is
   phase 2's own, the others seeded --seed + 1 + 100 j, each with its own
   initialisation and batches) and compares G's final gradient under each,
   taken as the gradient of the mean cost over all the fixed latent batches:
   the mean of the N norms (`across_d_nonsat_mean`), their coefficient of
   variation (`across_d_nonsat_cv`) and the vectors' spread
   (`across_d_nonsat_vec_spread`), likewise for the original cost. Without
   noise only; the extra Ds' rows (iteration 0 and the last) are not kept.
   Every std here, across batches or across Ds, is the population std
   (ddof 0): with N = 3 Ds the CV is sqrt(2/3) of the sample-std CV.
3. The fresh D is the DCGAN discriminator with BatchNorm, initialised from
   the same seed (`--seed` + 1) for every k, and sees the same batches.
4. Phase 1 trains with baselines.train in chunks of epochs, resuming from
   its checkpoint (bit-identical to one uninterrupted run on the CPU), and
   keeps G after each chunk as `gan/g_step<N>.pt`. An "epoch" is
   ceil(data set size / batch size) generator steps (`--epoch-steps`
   overrides it).
"""

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

import common
import figures
from methods import baselines


@dataclass
class Config(common.RunConfig):
    loss: str = "nonsaturating"  # phase 1: the GAN loss G is trained with (minimax | nonsaturating), the DCGAN optimizer
    epochs: str = "1,10,25"  # phase 1: epochs of training after which G is frozen, comma-separated
    epoch_steps: int = 0  # generator steps per epoch (0: data set size / batch size)
    d_iters: int = 4000  # phase 2: iterations of the fresh discriminator
    measure_every: int = 50  # phase 2: discriminator iterations between measurements
    grad_batches: int = 10  # phase 2: latent batches per measurement of G's gradient norm (mean and spread)
    d_noise: float = 0.0  # if > 0, phase 2 again with instance noise of this std on D's inputs
    d_seeds: int = 1  # phase 2 without noise: fresh Ds per kept G, seeded apart; > 1 adds the spread of G's gradient across them
    dataset: str = "digits"  # data set
    out: str = "runs/principled"  # run folder


def generator_grad(g, d, z, cost, sigma=0.0, gen=None):
    """grad_theta C over all of G's parameters theta, on the latent batch z, as one flat float64 vector.

    C is 'minimax', the original cost E log(1 - D(G(z))) whose gradient Thm. 2.4
    bounds by M eps / (1 - eps), or 'nonsaturating', the -log D cost of Thm. 2.6.
    With sigma > 0, D sees G(z) + eps', eps' ~ N(0, sigma^2 I) drawn from `gen`
    (Thm. 3.2). Uses autograd.grad: no .grad is written.
    """
    params = list(g.parameters())
    x = g(z)
    if sigma > 0:
        x = x + sigma * torch.randn(x.shape, generator=gen).to(x.device)
    grads = torch.autograd.grad(baselines.g_loss(cost, d(x)), params)
    return torch.cat([t.double().flatten() for t in grads])


def generator_grad_norm(g, d, z, cost, sigma=0.0, gen=None):
    """||grad_theta C||_2 (see generator_grad)."""
    return generator_grad(g, d, z, cost, sigma, gen).norm().item()


def gradient_spread(grads):
    """How much G's gradient changes from batch to batch: the norms' mean, std, min, max, and the vectors' spread
    mean_b ||g_b - mean g|| / ||mean g|| (the norm's std alone misses changes of direction)."""
    n = torch.stack([v.norm() for v in grads]).cpu().numpy()
    mean = torch.stack(grads).mean(0)
    spread = torch.stack([(v - mean).norm() for v in grads]).mean() / mean.norm().clamp_min(1e-300)
    return {"mean": n.mean(), "std": n.std(), "min": n.min(), "max": n.max(), "vec_spread": spread.item()}


def discriminator_error(d, real, fake):
    """D's cross-entropy on a real and a generated batch (the two terms of -V), and its accuracy."""
    with torch.no_grad():
        lr, lf = d(real), d(fake)
    return {"err_real": F.softplus(-lr).mean().item(), "err_fake": F.softplus(lf).mean().item(),
            "accuracy": 0.5 * ((lr > 0).float().mean() + (lf < 0).float().mean()).item()}


COSTS = ("minimax", "nonsaturating")


def fixed_latents(cfg, z_dim, device):
    """The `grad_batches` latent batches G's gradient is measured on, the same for every k and every D."""
    gen = torch.Generator().manual_seed(cfg.seed + 7)
    return [torch.randn(cfg.batch_size, z_dim, generator=gen).to(device) for _ in range(cfg.grad_batches)]


def measure(cfg, data, g, d, z_fixed, sigma, it):
    """One row: D's error on a real and a generated batch, and G's gradient under both costs over the latent batches."""
    with common.diagnostic_mode(g, d):
        real = baselines.noisy(data.sample(cfg.batch_size), sigma)
        with torch.no_grad():
            fake = baselines.noisy(g(z_fixed[0]), sigma)
        row = {"iter": it, **discriminator_error(d, real, fake)}
        noise_gen = torch.Generator().manual_seed(cfg.seed + 11)
        for cost in COSTS:
            grads = [generator_grad(g, d, z, cost, sigma, noise_gen) for z in z_fixed]
            row.update({f"{cost}_{k}": v for k, v in gradient_spread(grads).items()})
    return row


def fresh_discriminator_phase(cfg, data, g, d, z_dim, device, sigma, measure_every=None):
    """G frozen (no optimizer; its buffers restored after), D trained from scratch on real vs G(z), Adam(2e-4, (0.5, 0.999)).

    Measured at iteration 0, every `measure_every` (default cfg.measure_every)
    iterations and at the end, with G's gradient on the same `grad_batches`
    fixed latent batches. Measuring does not change D's training (its RNG
    states are put back).
    """
    measure_every = measure_every or cfg.measure_every
    g_buffers = {k: b.clone() for k, b in g.named_buffers()}
    opt = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    z_fixed = fixed_latents(cfg, z_dim, device)
    rows = []
    progress = common.Progress(cfg.d_iters, name=f"[fresh D, sigma {sigma:g}] ")
    guard = common.FiniteGuard(lambda: "phase 2 keeps no checkpoint")  # the NaN guard, on the device
    for it in range(cfg.d_iters + 1):
        if it % measure_every == 0 or it == cfg.d_iters:
            guard.check()  # one host sync, where measuring syncs anyway
            rows.append(measure(cfg, data, g, d, z_fixed, sigma, it))
            progress.update(it, d_error=rows[-1]["err_real"] + rows[-1]["err_fake"], minimax=rows[-1]["minimax_mean"])
        if it == cfg.d_iters:
            break
        real = data.sample(cfg.batch_size)
        with torch.no_grad():
            fake = g(torch.randn(cfg.batch_size, z_dim, device=device))
        # D's step, on noisy inputs when sigma > 0 (Thm. 3.2: both distributions are smoothed).
        loss = baselines.d_loss_gan(d(baselines.noisy(real, sigma)), d(baselines.noisy(fake, sigma)))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        guard.add(it + 1, {"fresh_d_loss": loss})
    with torch.no_grad():
        for k, b in g.named_buffers():
            b.copy_(g_buffers[k])
    return rows


def mean_generator_grads(g, d, z_fixed):
    """Per cost, G's gradient of the mean cost over all the fixed latent batches (the mean of the batches' gradients)."""
    with common.diagnostic_mode(g, d):
        return {cost: torch.stack([generator_grad(g, d, z, cost) for z in z_fixed]).mean(0) for cost in COSTS}


def across_discriminators(cfg, data, g, d, fresh_nets, z_dim, device):
    """The spread of G's final gradient across `d_seeds` fresh Ds trained against the same frozen G, without noise.

    `d` is phase 2's own D, already trained; `fresh_nets(seed)` gives (G, a fresh
    D) with the global RNG seeded, for the others. Per cost, gradient_spread of
    the Ds' mean_generator_grads: `std / mean` of the norms and `vec_spread`.
    """
    z_fixed = fixed_latents(cfg, z_dim, device)
    finals = [mean_generator_grads(g, d, z_fixed)]
    for j in range(1, cfg.d_seeds):
        g_j, d_j = fresh_nets(cfg.seed + 1 + 100 * j)
        print(f"  fresh D {j + 1} of {cfg.d_seeds} (seed {cfg.seed + 1 + 100 * j}), measured at its last iteration")
        fresh_discriminator_phase(cfg, data, g_j, d_j, z_dim, device, 0.0, measure_every=cfg.d_iters)
        finals.append(mean_generator_grads(g_j, d_j, z_fixed))
    return {cost: gradient_spread([f[cost] for f in finals]) for cost in COSTS}


def parse_epochs(text):
    try:
        ks = sorted({int(e) for e in text.split(",")})
    except ValueError:
        ks = []
    if not ks or ks[0] < 1:
        raise common.UserError(f"--epochs must be positive integers separated by commas, got {text!r}")
    return ks


def train(cfg):
    """Phase 1 (train a GAN, keep G after each of --epochs), phase 2 (a fresh D against each frozen G), figures."""
    ks = parse_epochs(cfg.epochs)
    if cfg.loss not in COSTS:
        raise common.UserError(f"--loss {cfg.loss}: must be minimax or nonsaturating")
    common.must(cfg, ">= 0", "d_noise")
    common.must(cfg, ">= 1", "d_seeds")
    t0 = time.time()
    run = common.Run(cfg, "principled")
    spe = cfg.epoch_steps or math.ceil(len(run.data) / cfg.batch_size)
    out = Path(cfg.out)
    shared = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(common.RunConfig)}
    print(f"phase 1: {cfg.loss} GAN for {ks[-1]} epochs ({spe} generator steps each), G kept after {ks}")
    for i, k in enumerate(ks):  # one run, continued with --resume up to each k
        # eval_samples 0: phase 1's sample quality is not part of the experiment (and would train a classifier)
        pre = baselines.Config(**{**shared, "steps": k * spe, "out": str(out / "gan"), "resume": i > 0, "overwrite": True,
                                  "sample_every": min(cfg.sample_every, ks[-1] * spe), "eval_samples": 0},
                               loss=cfg.loss)
        baselines.train(pre)
        g_state = torch.load(out / "gan" / "checkpoint.pt", map_location="cpu", weights_only=False)["modules"]["g"]
        torch.save(g_state, out / "gan" / f"g_step{k * spe}.pt")

    log = common.RunDir(out, cfg, resolved=run.resolved)
    sigmas = [0.0] + ([cfg.d_noise] if cfg.d_noise > 0 else [])
    results, across = {}, {}
    for k in ks:
        def fresh_nets(seed):  # G after k epochs, frozen, and a fresh D from `seed`
            common.seed_everything(seed)
            g, d = run.make_nets()
            g.load_state_dict(torch.load(out / "gan" / f"g_step{k * spe}.pt", map_location=run.device))
            return g, d

        for sigma in sigmas:
            g, d = fresh_nets(cfg.seed + 1)  # the same fresh D and batches for every k
            print(f"phase 2: G after {k} epochs frozen, fresh D for {cfg.d_iters} iterations, noise sigma {sigma}")
            rows = fresh_discriminator_phase(cfg, run.data, g, d, run.z_dim, run.device, sigma)
            for r in rows:
                log.log(r["iter"], epochs=k, sigma=sigma, **r)
            results[(k, sigma)] = rows
            if sigma == 0 and cfg.d_seeds > 1:
                across[k] = across_discriminators(cfg, run.data, g, d, fresh_nets, run.z_dim, run.device)
    figures.principled_figures(out, results, ks, sigmas)
    summary = {"steps": cfg.d_iters, "seconds": round(time.time() - t0, 2), "device": str(run.device),
               "dataset": cfg.dataset, "epochs": cfg.epochs}
    for (k, sigma), rows in results.items():
        summary.update(summarise(rows, f"k{k}" + ("_noise" if sigma > 0 else "")))
    for k, spread in across.items():
        for cost, short in (("minimax", "minimax"), ("nonsaturating", "nonsat")):
            s = spread[cost]
            summary.update({f"k{k}_across_d_{short}_mean": s["mean"], f"k{k}_across_d_{short}_cv": s["std"] / s["mean"],
                            f"k{k}_across_d_{short}_vec_spread": s["vec_spread"]})
    if across:
        summary["d_seeds"] = cfg.d_seeds
    log.summary(**summary)
    common.release_out(out)
    print(f"done: {out}/summary.json")
    return summary


def summarise(rows, tag):
    """The numbers behind the figures: D's error, and each cost's gradient norm at the start, peak and end."""
    first, last = rows[0], rows[-1]
    peak = max(r["minimax_mean"] for r in rows)
    return {
        f"{tag}_d_error_first": first["err_real"] + first["err_fake"],
        f"{tag}_d_error_last": last["err_real"] + last["err_fake"],
        f"{tag}_d_accuracy_last": last["accuracy"],
        f"{tag}_minimax_first": first["minimax_mean"], f"{tag}_minimax_last": last["minimax_mean"],
        f"{tag}_minimax_peak": peak,
        # how far the original cost's gradient falls from its peak (the fresh D starts near constant)
        f"{tag}_minimax_decades": math.log10(peak / max(last["minimax_mean"], 1e-300)),
        f"{tag}_minimax_decades_from_first": math.log10(first["minimax_mean"] / max(last["minimax_mean"], 1e-300)),
        f"{tag}_nonsat_first": first["nonsaturating_mean"], f"{tag}_nonsat_last": last["nonsaturating_mean"],
        f"{tag}_nonsat_cv_first": first["nonsaturating_std"] / first["nonsaturating_mean"],
        f"{tag}_nonsat_cv_last": last["nonsaturating_std"] / last["nonsaturating_mean"],
        f"{tag}_nonsat_vec_spread_first": first["nonsaturating_vec_spread"],
        f"{tag}_nonsat_vec_spread_last": last["nonsaturating_vec_spread"],
    }


def main():
    # --steps and --resume do not apply: phase 1's length comes from --epochs, and it always starts afresh.
    common.cli(train, common.parse_config(Config, __doc__, hide=("steps", "resume")), resumable=False)


if __name__ == "__main__":
    main()
