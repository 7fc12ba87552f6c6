"""Che et al. 2017: manifold-diffusion training (MDGAN): match the manifolds first, then spread the mass on them.

Paper
  Che, Li, Jacob, Bengio & Li, "Mode Regularized Generative Adversarial Networks", ICLR 2017, sec. 3.3,
  app. A (the pseudo-code, Fig. 8) and sec. 4.2 (Table 3). https://arxiv.org/abs/1612.02136
  (https://openreview.net/forum?id=HJKkY35le). The authors published no code, and we know of no other public
  implementation of MDGAN. Reg-GAN, the paper's other method, is methods/mode_reg.py: MDGAN uses its encoder,
  its networks, its settings and its missing-mode evaluation, so that Table 3 compares training schemes only.

A GAN's D sees real data and G(z) on two disjoint manifolds and can shape itself badly in
between (sec. 3). MDGAN splits each iteration into two games, each with its own discriminator.
The manifold step matches G's manifold to the data's through an encoder E: D1 tells real x
from its reconstruction G(E(x)), and G (with E) makes G(E(x)) both close to x and real-looking
to D1. The diffusion step then spreads G's mass over that manifold as the data spread theirs:
D2 tells reconstructions G(E(x)) (which follow the data's modes) from samples G(z), and G makes
G(z) look like reconstructions. D(x) = sigmoid(logit(x)); the pseudo-code's "gradient ascent on
A" is gradient descent on -A below.

  Manifold step
    app. A, line 1   x_1..x_m ~ p_data
            line 2   D1:     max E_x [log D1(x) + log(1 - D1(G(E(x))))]                    d1_loss
            line 3   G (E):  max E_x [lambda log D1(G(E(x))) - ||x - G(E(x))||^2]           manifold_loss
                     written  lambda1 d(x, G(E(x))) - lambda2 log D1(G(E(x)))   (deviation 2)
  Diffusion step
            line 4   x_1..x_m ~ p_data;   line 5   z_1..z_m ~ p(z)
            line 6   D2:     max E [log D2(G(E(x))) + log(1 - D2(G(z)))]  (printed D2(z_i): deviation 1)   d2_loss
            line 7   G:      max E_z log D2(G(z))                                           diffusion_loss
  sec. 3.4, 4.2.1   missing modes by a third-party noisy D (Table 3), Inception and MODE scores, #Miss and KL
                    of the 1,000-mode sets: mode_reg.image_extras and metrics.py        (final evaluation)
  app. B            G's BatchNorm keeps separate statistics for z and E(x) batches     nets.split_batch_norm

Run
    make digits-mdgan     Table 3 at CPU size on compositional_digits: DCGAN, Reg-GAN, MDGAN; #Miss, KL, third-party counts
    make celeba-mdgan     Table 3: DCGAN (z 100, 200), Reg-GAN (z 100, 200), MDGAN (z 200) on CelebA, 20 epochs, sigma 3.5 4.0
    python -m methods.mdgan --dataset celeba --third-party-sigma 3.5 4.0 --out runs/mdgan     Table 3's MDGAN (200)
    python -m methods.mdgan --dataset compositional_digits --image-size 32 --out runs/mdgan-digits
    python -m methods.mdgan --dataset ring6 --out runs/mdgan-ring      the 2-D ring of app. C (not in the paper for MDGAN)
    python -m methods.mdgan table runs/digits-mdgan/* --out runs/digits-mdgan     Table 3 from <model>-z<dim>-s<seed> runs
    python -m methods.mdgan --help

Logged beside the harness's diagnostics (which look at D1 on real data and G(z)): every loss
(loss_d: D1's, line 2; loss_m: line 3; loss_d2: line 6; loss_g: line 7),
the reconstruction distance, -log D1(G(E(x))), and D2's mean output on reconstructions and on
samples (`d2_rec`, `d2_fake`, on line 6's batch before D2's update; the diffusion step has done its
work when D2 cannot tell them apart).
Image runs add what Reg-GAN's do (mode_reg.image_extras): the count of test images the
third-party noisy D places on missing modes for every `--third-party-sigma`, with a grid of the
most confidently missed ones (Fig. 5), and on the 1,000-mode sets #Miss and KL beside the same
numbers for as many real samples.

Deviations and decisions
1. Line 6 prints log(1 - D2(z_i)): D2 would judge latent codes, which have another shape than
   images. Sec. 3.3 says "D2 between distributions G(z) and G(E(x))": we use D2(G(z_i)).
   Tested: D2's negative batch is G of line 5's z.
2. The weights. Line 3 weights the D1 term by lambda and the distance by 1; sec. 3.3 writes
   "log D1(G(E(x))) + lambda d(x, G(E(x)))", the weight on the distance (and the sign of d as
   printed there is that of a loss to maximise, which would push G(E(x)) away from x; line 3's
   sign is the meant one). Neither gives a value. We write lambda1 d - lambda2 log D1(G(E(x)))
   with Reg-GAN's weights (on images lambda1 0.2, lambda2 0.4, the values sec. 4.1.1 gives for
   its MNIST grid, the only ones in the paper; app. C's 0.005 on toy data): the same
   regularizer as Reg-GAN with D1 in D's place, so that Table 3 compares the training
   schemes. With G's own Adam state for line 3 (deviation 4) Adam is nearly invariant to the
   loss's scale, so what matters is lambda2 / lambda1 (2 on images: the pseudo-code's lambda);
   the absolute values matter with `--g-optim shared`. d is Reg-GAN's distance, ||x - y||^2 summed over
   the pixels as line 3 writes it (`--distance mean`: divided by the number of pixels; mode_reg,
   deviation 2, where the scale is measured: with the mean, MDGAN misses 833-925 of the 1,000 numbers
   on compositional digits, with the sum 21-31).
3. E is updated in line 3 on the same loss as G (the pseudo-code names only G, but without
   training E, G(E(x)) is no reconstruction; Reg-GAN's eq. 2 trains E on its regularizer). E is
   not touched by the diffusion step: line 7 does not depend on it, and line 6 is D2's.
4. G takes two steps per iteration, on two different losses (on 32 px digits line 3's loss
   starts above 100 and ends near 5, line 7's stays near 1). The pseudo-code's "SGD" keeps no
   state between them; one Adam state for both would mix them: with beta1 0.5 about half of
   each diffusion update would be the manifold step's momentum, and the second-moment
   estimate would be shared by gradients of different sizes. `--g-optim separate` (our
   default) gives each of G's two steps its own Adam state, so that each step is a step on
   its own loss; `--g-optim shared` keeps one. Measured on compositional digits (README, 3
   seeds): the same mean of missed modes either way, less spread and half the reconstruction
   error with one shared state.
5. Line 7 uses line 5's z (the pseudo-code's z_i), after D2's update; line 3 uses line 1's x.
   With `--d-steps k` each discriminator takes k steps on fresh batches, and G's step uses the
   last of them. D1 sees real data and reconstructions only, D2 reconstructions and samples
   only: no D sees real data against G(z).
6. Networks, prior, optimizer, batch size and evaluation are Reg-GAN's (mode_reg, deviations
   4-6, 9, 10 there): on images DCGAN G, D1 and D2 (BatchNorm in all, as DCGAN), E the generator
   reversed, Adam(2e-4, beta1 0.5) for every net, batch 64, z ~ N(0, I); on toy data MLPs,
   z ~ U[0, 1]^3 and a sigmoid E. z has 200 dimensions on images by default (Table 3's MDGAN
   (200)). Length: app. D trains "our models for only 20 epochs" on CelebA; at batch 64 over
   its 202,599 images that is 63,300 iterations, our default `--steps` and the celeba-mdgan
   target's, for DCGAN and Reg-GAN as well (as generator steps; an MDGAN iteration draws two
   real batches, so it sees the data 40 times). The third-party D's sigma is in our pixel
   units ([-1, 1]); the paper's 3.5 and 4.0 are kept for CelebA. The third-party D scores
   images it never trained on: CelebA's test partition (list_eval_partition.txt), the
   composed sets' held-out digit images (mode_reg, deviation 9).
7. `--steps` counts iterations, each one manifold and one diffusion step (two G updates, one
   per step; two D updates with `--d-steps 1`): an MDGAN step costs about twice a Reg-GAN step.
   The harness's D diagnostics, D histograms and `d_outputs.npz` are those of D1 (the only D
   that sees real data); `d2_rec` and `d2_fake` are logged for D2: its mean output on line 6's
   last batch, before that batch's update.
"""

import argparse
import dataclasses
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import common
import data as datasets
import nets
from methods import mode_reg
from methods.mode_reg import distance  # d(x, y) of sec. 3.1: pixel, mean or D-feature squared L2 per sample

G_OPTIMS = ("separate", "shared")


@dataclass
class Config(common.RunConfig):
    lam1: float = -1.0  # the distance's weight in line 3 (-1: Reg-GAN's 0.2 on images, 0.005 on toy data; deviation 2)
    lam2: float = -1.0  # the weight of -log D1(G(E(x))) in line 3 (-1: 0.4 on images, 0.005 on toy data)
    distance: str = "pixel"  # d(x, G(E(x))) (Reg-GAN's, deviation 2): pixel (||x - y||^2, line 3's norm) | mean (per pixel) | feature (D1's last hidden layer)
    g_optim: str = "separate"  # G's Adam state: separate (one per step, deviation 4) | shared (one for both steps)
    prior: str = "auto"  # z's prior: auto (U[0, 1]^3 on toy data; N(0, I) on images) | normal | uniform
    encoder_out: str = "auto"  # E's output: auto (sigmoid under the uniform prior, linear under N(0, I)) | linear | sigmoid
    g_width: int = 0  # G (and E) hidden units / DCGAN base channels (0: 128 on toy data; 64 DCGAN)
    d_width: int = 0  # D1 and D2 hidden units / DCGAN base channels (0: 128 on toy data; 64 DCGAN)
    lr: float = 0.0  # learning rate of every net (0: 1e-4 on toy data; 2e-4 on images, DCGAN)
    betas: tuple = (0.5, 0.999)  # Adam betas (DCGAN's beta1 0.5)
    heat_steps: tuple = (0, 1000, 5000, 10000, 25000)  # 2-D toy data: steps whose samples are kept (heatmaps, as Reg-GAN's Fig. 9; those past --steps are not reached)
    third_party_sigma: tuple = ()  # image data: input-noise stds of the third-party D counting missing modes (Table 3: 3.5 4.0)
    third_party_steps: int = 2000  # training steps of each third-party D
    third_party_threshold: float = 0.9  # a test image with third-party D(t) above this is on a missing mode
    dataset: str = "celeba"  # data set (Table 3: CelebA)
    z_dim: int = 0  # latent size (0: 200 on images, Table 3's MDGAN (200); 3 on toy data)
    batch_size: int = 0  # samples per batch (0: 64 on images, DCGAN; 512 on toy data)
    steps: int = 63300  # iterations, each a manifold and a diffusion step (app. D: 20 CelebA epochs at batch 64; deviation 6)
    out: str = "runs/mdgan"  # run folder


# ---------------------------------------------------------------------------
# The two steps' losses: pure functions (app. A, Fig. 8)
# ---------------------------------------------------------------------------


def d1_loss(logit_real, logit_rec):
    """Line 2 as a loss D1 descends: -E_x log D1(x) - E_x log(1 - D1(G(E(x))))."""
    return F.softplus(-logit_real).mean() + F.softplus(logit_rec).mean()


def manifold_loss(x, rec, logit_rec, lam1, lam2, kind="pixel", d1=None):
    """Line 3 as a loss G and E descend: E_x [lambda1 d(x, G(E(x))) - lambda2 log D1(G(E(x)))] (deviation 2).

    -log D1 = softplus(-logit). Returns (the loss, mean d, mean -log D1(G(E(x)))).
    """
    dist = distance(x, rec, kind, d1).mean()
    neg_log_d1 = F.softplus(-logit_rec).mean()
    return lam1 * dist + lam2 * neg_log_d1, dist, neg_log_d1


def d2_loss(logit_rec, logit_fake):
    """Line 6 as a loss D2 descends, with D2(G(z)) for the printed D2(z) (deviation 1): reconstructions
    play the real data, -E_x log D2(G(E(x))) - E_z log(1 - D2(G(z)))."""
    return F.softplus(-logit_rec).mean() + F.softplus(logit_fake).mean()


def diffusion_loss(logit_fake):
    """Line 7 as a loss G descends: -E_z log D2(G(z))."""
    return F.softplus(-logit_fake).mean()


# ---------------------------------------------------------------------------
# Networks and settings: Reg-GAN's (deviation 6)
# ---------------------------------------------------------------------------


def as_mode_reg(cfg):
    """The same settings as a resolved mode_reg.Config (Reg-GAN's nets, defaults and evaluation read them)."""
    names = {f.name for f in dataclasses.fields(mode_reg.Config)}
    return mode_reg.resolve(mode_reg.Config(**{k: v for k, v in dataclasses.asdict(cfg).items() if k in names}))


def resolve(cfg):
    """The auto settings: Reg-GAN's (mode_reg.resolve), z 200 on images (Table 3's MDGAN)."""
    toy = cfg.dataset in datasets.TOY
    r = as_mode_reg(dataclasses.replace(cfg, z_dim=cfg.z_dim or (3 if toy else 200)))
    names = {f.name for f in dataclasses.fields(cfg)}
    return dataclasses.replace(cfg, **{f.name: getattr(r, f.name) for f in dataclasses.fields(r) if f.name in names})


def make_nets(cfg, data, z_dim):
    """(G, D1, D2, E, the Ds' normalization): Reg-GAN's G, D and E, and a second D of the same kind."""
    g, d1, e, norm = mode_reg.make_nets(as_mode_reg(cfg), data, z_dim)
    d2 = mode_reg.make_nets(as_mode_reg(cfg), data, z_dim)[1]
    return g, d1, d2, e, norm


def adam(params, cfg):
    return torch.optim.Adam(params, lr=cfg.lr, betas=tuple(cfg.betas))


def check_config(cfg):
    for flag, value, allowed in (("--distance", cfg.distance, mode_reg.DISTANCES), ("--g-optim", cfg.g_optim, G_OPTIMS),
                                 ("--encoder-out", cfg.encoder_out, ("auto", "linear", "sigmoid")),
                                 ("--prior", cfg.prior, ("auto",) + common.PRIORS)):
        if value not in allowed:
            raise common.UserError(f"unknown {flag} {value!r}; choose from {', '.join(allowed)}")
    common.must(cfg, ">= 0", "lr")
    common.must(cfg, ">= 1", "d_steps", "third_party_steps")
    for lam in ("lam1", "lam2"):
        if getattr(cfg, lam) < 0:
            raise common.UserError(f"{common.flag(lam, getattr(cfg, lam))}: must be >= 0 (-1: Reg-GAN's value)")
    if any(s < 0 for s in cfg.third_party_sigma) or not 0 < cfg.third_party_threshold < 1:
        raise common.UserError("--third-party-sigma takes stds >= 0, --third-party-threshold a number in (0, 1)")
    if len(cfg.betas) != 2:
        raise common.UserError("--betas takes two numbers")
    if any(s < 0 or s != int(s) for s in cfg.heat_steps):
        raise common.UserError("--heat-steps takes whole step numbers >= 0")


# ---------------------------------------------------------------------------
# Training: app. A, one manifold and one diffusion step per iteration
# ---------------------------------------------------------------------------


def descend(opt, loss, *more):
    """One step of `opt` (and of the optimizers in `more`, which share the backward pass) on `loss`."""
    for o in (opt, *more):
        o.zero_grad(set_to_none=True)
    loss.backward()
    for o in (opt, *more):
        o.step()


def train(cfg):
    cfg = resolve(cfg)
    check_config(cfg)
    run = common.Run(cfg, f"MDGAN {cfg.dataset}", prior=cfg.prior)
    g, d1, d2, e, run.resolved["d_norm"] = make_nets(cfg, run.data, run.z_dim)
    g, d1, d2, e = g.to(run.device), d1.to(run.device), d2.to(run.device), e.to(run.device)
    opt_g_manifold, opt_d1, opt_d2, opt_e = adam(g.parameters(), cfg), adam(d1.parameters(), cfg), \
        adam(d2.parameters(), cfg), adam(e.parameters(), cfg)
    opt_g_diffusion = adam(g.parameters(), cfg) if cfg.g_optim == "separate" else opt_g_manifold  # deviation 4
    run.resolved.update({k: getattr(cfg, k) for k in ("prior", "encoder_out", "lam1", "lam2", "distance", "g_width",
                                                      "d_width", "lr", "batch_size")})
    # the harness's `d` (its diagnostics, histograms, d_outputs.npz) is D1, the only D that sees real data (deviation 7)
    modules = dict(g=g, d=d1, d2=d2, e=e, opt_g=opt_g_manifold, opt_d=opt_d1, opt_d2=opt_d2, opt_e=opt_e)
    if cfg.g_optim == "separate":
        modules["opt_g_diffusion"] = opt_g_diffusion
    start = run.begin(**modules)
    heat = run.data.kind == "toy" and run.data.shape == (2,)
    heat_steps = {int(s) for s in cfg.heat_steps}
    if heat and start == 0 and 0 in heat_steps:
        mode_reg.save_heat(run, 0)

    for step in range(start, cfg.steps):
        # ---- Manifold step: match G's manifold to the data's through E ----
        d1.requires_grad_(True)
        for _ in range(cfg.d_steps):
            x = run.data.sample(cfg.batch_size)  # line 1
            with torch.no_grad(), nets.batch_norm_stream(g, "encoder"):  # app. B: the encoder batches' statistics
                rec = g(e(x))
            loss_d1 = d1_loss(d1(x), d1(rec))  # line 2
            descend(opt_d1, loss_d1)
        d1.requires_grad_(False)
        with nets.batch_norm_stream(g, "encoder"):
            rec = g(e(x))
        loss_m, dist, neg_log_d1 = manifold_loss(x, rec, d1(rec), cfg.lam1, cfg.lam2, cfg.distance, d1)  # line 3
        descend(opt_g_manifold, loss_m, opt_e)  # G and E (deviation 3)

        # ---- Diffusion step: spread G(z) over the manifold as the reconstructions are spread ----
        d2.requires_grad_(True)
        for _ in range(cfg.d_steps):
            x, z = run.data.sample(cfg.batch_size), run.noise()  # lines 4, 5
            with torch.no_grad():
                with nets.batch_norm_stream(g, "encoder"):
                    rec = g(e(x))
                with nets.batch_norm_stream(g, "noise"):
                    fake = g(z)
            logit_rec, logit_fake = d2(rec), d2(fake)
            loss_d2 = d2_loss(logit_rec, logit_fake)  # line 6, D2(G(z)) for the printed D2(z) (deviation 1)
            descend(opt_d2, loss_d2)
        d2.requires_grad_(False)
        with nets.batch_norm_stream(g, "noise"):
            loss_g = diffusion_loss(d2(g(z)))  # line 7, line 5's z (deviation 5)
        descend(opt_g_diffusion, loss_g)

        if heat and step + 1 in heat_steps:
            mode_reg.save_heat(run, step + 1)
        # loss_d is D1's (line 2), loss_m line 3's, loss_d2 line 6's, loss_g line 7's
        run.end_step(step + 1, {"loss_d": loss_d1, "loss_m": loss_m, "loss_d2": loss_d2, "loss_g": loss_g},
                     rec_distance=dist.detach(), rec_neg_log_d1=neg_log_d1.detach(),
                     d2_rec=torch.sigmoid(logit_rec.detach()).mean(), d2_fake=torch.sigmoid(logit_fake.detach()).mean())

    extra = {}
    if heat:
        extra.update(mode_reg.heat_over_time(run))
    if run.data.kind == "image" and cfg.eval_samples > 0:
        with common.diagnostic_mode(*run.nets()):
            extra.update(mode_reg.image_extras(as_mode_reg(cfg), run, g, e))
    return run.finish(model="mdgan", lam1=cfg.lam1, lam2=cfg.lam2, distance=cfg.distance, g_optim=cfg.g_optim,
                      prior=cfg.prior, encoder_out=cfg.encoder_out, z=run.z_dim,
                      digit_weights=list(getattr(run.data, "digit_weights", [])), **extra)


# ---------------------------------------------------------------------------
# Table 3: DCGAN, Reg-GAN and MDGAN over seeds
# ---------------------------------------------------------------------------

MODEL_NAMES = {"gan": "DCGAN", "reg": "Reg-GAN", "mdgan": "MDGAN"}


def table(run_dirs, out):
    """Table 3 from run folders named <model>-z<dim>-s<seed> (model gan, reg or mdgan): per sigma, the test images
    on missing modes, mean ± std over seeds; on the 1,000-mode sets also #Miss and KL, with a real sample's. table3.md."""
    cols = {}
    for r in map(Path, run_dirs):
        m = re.fullmatch(rf"(gan|reg|mdgan)(?:-({'|'.join(mode_reg.DISTANCES)}))?-z(\d+)-s\d+", r.name)
        if m and (r / "summary.json").exists():
            cols.setdefault((m[1], int(m[3]), m[2] or ""), []).append(json.loads((r / "summary.json").read_text()))
    if not cols:
        raise common.UserError("no <model>[-<distance>]-z<dim>-s<seed> folder (model gan, reg or mdgan) with a "
                               "summary.json")
    order = sorted(cols, key=lambda k: (list(MODEL_NAMES).index(k[0]), k[2], k[1]))
    name = lambda col: f"{MODEL_NAMES[col[0]]} ({col[1]}{', d ' + col[2] if col[2] else ''})"
    runs = [s for v in cols.values() for s in v]
    sigmas = sorted({float(k[len("missing_sigma"):]) for s in runs for k in s if k.startswith("missing_sigma")})

    def cell(key, col, digits=1):
        v = [s[key] for s in cols[col] if isinstance(s.get(key), (int, float))]
        return f"{np.mean(v):.{digits}f} ± {np.std(v):.{digits}f}" if v else ""

    n_test = "/".join(str(n) for n in sorted({s["third_party_images"] for s in runs if "third_party_images" in s}))
    lines = [f"Table 3 (sec. 4.2.1): test images on missing modes by the third-party noisy D (of {n_test} test images), "
             "mean ± std over seeds (numpy's, ddof 0); the number in brackets is z's dimension.", "",
             "| | " + " | ".join(name(c) for c in order) + " |", "|---" * (len(order) + 1) + "|"]
    lines += [f"| sigma {s:g} | " + " | ".join(cell(f"missing_sigma{s:g}", c) for c in order) + " |" for s in sigmas]
    if any("missed_modes" in s for s in runs):  # the 1,000-mode sets: Table 2's measures, not Table 3's
        lines.append("| Table 2's #Miss (of 1,000) | " + " | ".join(cell("missed_modes", c) for c in order) + " |")
        lines.append("| KL (smoothed, train vs generated) | " + " | ".join(cell("kl_train_modes", c, 3) for c in order)
                     + " |")
        real = [s["real_missed_modes"] for s in runs if "real_missed_modes" in s]
        perfect = [s["perfect_missed_modes"] for s in runs if "perfect_missed_modes" in s]
        if real:
            lines += ["", f"A real sample of the same size misses {np.mean(real):.1f} ± {np.std(real):.1f} numbers."]
        if perfect:
            lines += [f"A perfect sampler misses {np.mean(perfect):.2f} on average at that count (sum of (1 - p)^n)."]
    tests = sorted({s["third_party_test"] for s in runs if "third_party_test" in s})
    lines += ["", "Test images: " + "; ".join(tests) + "." if tests else "",
              "Runs per column: " + ", ".join(f"{name(c)}: {len(cols[c])}" for c in order)]
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / "table3.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return cols


def table_main(argv):
    ap = argparse.ArgumentParser(prog="python -m methods.mdgan table",
                                 description="Table 3 from runs named <model>-z<dim>-s<seed> (gan, reg, mdgan).")
    ap.add_argument("runs", nargs="+", help="run folders holding summary.json")
    ap.add_argument("--out", required=True, help="folder for table3.md")
    a = ap.parse_args(argv)
    return table(a.runs, a.out)


def main():
    if sys.argv[1:2] == ["table"]:
        return common.cli(table_main, sys.argv[2:])
    common.cli(train, common.parse_config(Config, __doc__, hide=("width",)))


if __name__ == "__main__":
    main()
