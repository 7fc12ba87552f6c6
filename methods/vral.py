"""Variance Regularizing Adversarial Learning (VRAL): meta-discriminators keep D's output spread.

Paper: "Variance Regularizing Adversarial Learning", anonymous ICLR 2018
submission (Grewal, Hjelm, Bengio), https://openreview.net/forum?id=SyuWNMZ0W ;
text in ../shared/papers/vral.md. No public PyTorch implementation existed;
facts from the authors' Theano code are in ../shared/DESIGN.md.

D = phi is a network with a linear output. Two meta-discriminators look at a
whole minibatch of D's m outputs as one m-dimensional vector: R tells a batch
{phi(x_i)}, x ~ P, from a batch of m draws of N(mu_r, 1); F tells a batch
{phi(G(z_i))} from m draws of N(mu_f, 1). D is trained to fool both, so its
outputs on real and on generated data stay Gaussian with unit spread: D never
becomes flat over the data or the samples, and G keeps a gradient.

    eq. (7)   target output distribution p*(y) = 1/2 N(y; mu_f, 1) + 1/2 N(y; mu_r, 1)
    eq. (8)   R maximises E log R({y_i} ~ N(mu_r, 1)) + E log(1 - R({phi(x_i)}))   -> meta_loss(R, ...)
    eq. (9)   F maximises E log F({y_i} ~ N(mu_f, 1)) + E log(1 - F({phi(G(z_i))}))   -> meta_loss(F, ...)
    eq. (10)  L_phi = -E log F({phi(G(z_i))}) - E log R({phi(x_i)})                  -> d_loss_vral
    eq. (11)  L_G = E phi(x) - E phi(G(z))            (an IPM generator loss; sign: see
              Deviations)                                                          -> g_loss_ipm
    eq. (12)  L'_G = E (phi(G(z)) - mu_r)^2            (least squares to mu_r)          -> g_loss_ls
    sec. 2.3  mean subtraction: every batch {phi(G(z_i))} in eqs. (9)-(10) becomes
              {phi(G(z_i)) - mean_j phi(G(z_j))} and F compares it with N(0, 1)       -> centred
    eq. (13)  Lipschitz variant, one meta-discriminator M: M tells m draws of
              N(K, sigma*) from the slopes {|phi(x_i) - phi(y_i)| / ||x_i - y_i||},
              x_i ~ P paired with y_i ~ Q_theta; D tries to fool M                    -> slopes, d_loss_lipschitz
    Alg. 1    per generator update, n times: one step of F, one of R, one of D; then one step of G;
              Adam(1e-4, betas (0.5, 0.999), eps 3e-6), m = 64                        -> train

Run
    make digits-vral            the Figs. 2-4 grid at CPU size (every method at 1:1, 10:1, 25:1, 50:1)
    make cifar-vral             Figs. 2-4 on CIFAR-10 (GPU-sized)
    make celeba-vral            Fig. 5;  make celeba-vral-lipschitz: Fig. 6
    python -m methods.vral --dataset digits --variant vral-sub --d-steps 50 --steps 500 --out runs/vral-sub
    python -m methods.vral --help

Deviations and decisions
- The meta-discriminators have one hidden layer of 28 ReLU units and a linear
  output (a logit; the sigmoid is inside the loss), as in the authors' code
  (Lasagne's DenseLayer default nonlinearity is the rectifier). They see the
  batch in batch order; a batch of another size than m is an error.
- D's loss, eq. (10), is the non-saturating form the paper writes (D minimises
  -log F - log R, rather than maximising log(1 - F) + log(1 - R)).
- The paper gives mu_r and mu_f only implicitly; the defaults mu_r = 1, mu_f = 0
  are the authors' code's (their CIFAR-10 and CelebA scripts also use mu_f = -1:
  `--mu-fake -1`). The least-squares generator loss uses the paper's eq. (12)
  without the 1/2 the authors' code puts in front.
- Adam beta1 = 0.5 as in Algorithm 1 (some of the authors' scripts use 0.1).
- Mean subtraction (`--variant vral-sub`) centres the generated batch in both
  F's loss and D's loss, and F's reference draws come from N(0, 1) instead of
  N(mu_f, 1). The real batch is not centred (the paper centres only fakes).
  The authors' mean-subtraction script departs further from the paper (squared
  meta-discriminator outputs, an IPM term in D's loss); we follow the paper's text.
  Two consequences of the text as written, which we keep but name: (1) after
  centring, eq. (10) does not change when a constant is added to phi on
  generated data, so nothing in D's loss pushes the generated mean away from
  the real one (sec. 2.3 says D's goal is to separate the means);
  `--d-critic` adds the authors' critic term E phi(G(z)) - E phi(x) to D's
  loss. (2) A centred batch sums to exactly 0, an N(0, 1) reference batch does
  not, so F can tell them apart whatever D does; we do not centre the
  reference batch (neither does the authors' code).
- The authors' scripts are inconsistent about the meta-discriminator's input:
  their CelebA one sees the batch as one vector, their CIFAR-10 one each
  output separately. We follow the paper ("comparisons are performed
  batch-wise") and DESIGN.md. The meta-discriminators use PyTorch's default
  initialisation (Lasagne's default is Glorot uniform). Their CelebA runs use
  no BatchNorm and a 128-d latent; ours use the DCGAN defaults (BatchNorm, z
  100) for every data set (`--no-batch-norm`, `--z-dim` change them).
- Lipschitz variant (`--variant lipschitz`): eq. (13) gives M's objective and
  says D tries to fool M, but a D whose only aim is to look K-Lipschitz gives G
  nothing to follow. We read sec. 2.4 as the WGAN critic with its Lipschitz
  constraint enforced by M: D minimises E phi(G(z)) - E phi(x) - E log M(slopes),
  and G uses eq. (11). Each real sample is paired with the generated sample at the
  same batch index; d_X is the Euclidean distance of the flattened images.
  The authors' Lipschitz script confirms the critic term and G's sign, and
  differs from the paper elsewhere (signed slopes without |.|, D fooling M by
  minimising M's squared logit, M's reference N(0, 1) instead of N(K, sigma*));
  we follow the paper.
- The IPM generator loss has the opposite sign of the printed eq. (11) and
  Alg. 1 line 14 (`E phi(G(z)) - E phi(x)`): G minimises E phi(x) - E phi(G(z)),
  i.e. raises D's output on its samples. As printed, with mu_r > mu_f (the
  paper's real/fake coding) or with the critic of sec. 2.4 (which raises phi on
  real data), minimising L_G would push phi(G(z)) away from the real outputs,
  and in the Lipschitz variant G and D would minimise the same objective. The
  authors' Lipschitz script uses our sign (G_loss = mean phi(real) - mean
  phi(fake)); their variance scripts use eq. (12), our default. tests/test_vral.py
  checks the sign on a linear D. D's outputs on real samples are computed
  without gradient in G's step (they do not depend on G).
- Logged diagnostics are the baselines': D's raw-output mean and within-batch
  std on real and generated batches, and the mean per-sample ||grad_x phi(x)||
  on generated samples, averaged over `--diag-batches` (50, as Fig. 4) batches.
  The authors' scripts log the squared norm of the gradient of D's loss
  instead; we log the gradient of D's output, the quantity that reaches G.
- Lipschitz variant: the summary also holds the mean and std of the final
  slopes |phi(x_i) - phi(y_i)| / ||x_i - y_i|| over `--diag-batches` paired
  batches (M's target: N(K, sigma*)). M sees chords between paired real and
  generated samples only; it does not bound D's local gradient norm, which
  the summary's `grad_norm_fake` reports beside it.
- Sample quality (the paper shows samples only): on labelled image sets the
  summary holds the MODE / Inception score of `--eval-samples` generated images
  with our own classifier, and the label KL (metrics.py).
"""

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import common
import data as datasets
from metrics import image_scores, toy_metrics

VARIANTS = ("vral", "vral-sub", "lipschitz")


@dataclass
class Config:
    variant: str = "vral"  # vral (eqs. 8-10) | vral-sub (sec. 2.3 mean subtraction) | lipschitz (sec. 2.4, eq. 13)
    g_loss: str = "ls"  # ls: eq. 12, (phi(G(z)) - mu_r)^2 (the authors' choice) | ipm: eq. 11, E phi(x) - E phi(G(z)) (lipschitz: always ipm)
    mu_real: float = 1.0  # mu_r, mean of R's reference Gaussian N(mu_r, 1)
    mu_fake: float = 0.0  # mu_f, mean of F's reference Gaussian N(mu_f, 1) (vral-sub uses N(0, 1))
    d_critic: bool = False  # vral, vral-sub: add the critic term E phi(G(z)) - E phi(x) to D's loss (eq. 10), as the authors' mean-subtraction script does
    lip_k: float = 1.0  # lipschitz: K, mean of M's reference Gaussian
    lip_sigma: float = 0.1  # lipschitz: sigma*, std of M's reference Gaussian
    meta_hidden: int = 28  # hidden units of each meta-discriminator
    dataset: str = "cifar10"  # see data.NAMES
    data_root: str = "data"  # where MNIST, CIFAR-10, CelebA or an image folder live
    image_size: int = 0  # resize image sets to this many px (0: the data set's default)
    scale: float = 1.0  # multiply a toy set (centres and std)
    arch: str = "auto"  # mlp | dcgan | auto (mlp for toy data, dcgan for images)
    width: int = 0  # MLP hidden units / DCGAN base channels (0: 128 / 64)
    batch_norm: bool = True  # BatchNorm in the DCGAN nets
    z_dim: int = 0  # latent size (0: 2 for toy data, 100 for images)
    steps: int = 20000  # generator updates
    d_steps: int = 1  # n: updates of F, R and D per generator update (the training ratio)
    batch_size: int = 64  # m: samples per batch, and the meta-discriminators' input size
    lr: float = 1e-4  # Adam learning rate (Alg. 1: alpha)
    betas: tuple = (0.5, 0.999)  # Adam betas (Alg. 1)
    adam_eps: float = 3e-6  # Adam epsilon (Alg. 1)
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    out: str = "runs/vral"  # run folder
    resume: bool = False  # continue from out/checkpoint.pt
    log_every: int = 100  # steps between metric lines (with D diagnostics)
    diag_batches: int = 50  # batches averaged in each D diagnostic (Fig. 4: 50)
    sample_every: int = 1000  # steps between sample figures
    ckpt_every: int = 1000  # steps between checkpoints
    eval_samples: int = 2500  # samples for the final toy metrics
    stand_in: bool = False  # replace a missing image set by random images (SMOKE runs only)
    report: str = ""  # instead of training: build the Figs. 2-4 composites from the runs <method>-<ratio> in this folder


# ---------------------------------------------------------------------------
# The method
# ---------------------------------------------------------------------------


class MetaDiscriminator(nn.Module):
    """F, R or M: a whole minibatch of m discriminator outputs, as one m-vector, to one logit.

    One hidden layer of `hidden` ReLU units; the output is a logit (the
    meta-discriminator's probability is its sigmoid). Input shape (m,) for one
    batch, or (k, m) for k batches; output shape () or (k,).
    """

    def __init__(self, batch_size=64, hidden=28):
        super().__init__()
        self.batch_size = batch_size
        self.net = nn.Sequential(nn.Linear(batch_size, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, y):
        if y.shape[-1] != self.batch_size:
            raise ValueError(f"the meta-discriminator takes batches of exactly {self.batch_size} discriminator "
                             f"outputs (m = --batch-size), got {y.shape[-1]}")
        return self.net(y).squeeze(-1)


def reference_batch(m, mean, std, device):
    """m draws of N(mean, std^2): what a meta-discriminator learns to call 'real'."""
    return mean + std * torch.randn(m, device=device)


def meta_loss(meta, reference, d_outputs):
    """Eqs. (8)/(9), negated for minimisation: -log meta(reference) - log(1 - meta(d_outputs)).

    `d_outputs` is one batch of D's outputs (detach it when updating only the
    meta-discriminator).
    """
    return F.softplus(-meta(reference)) + F.softplus(meta(d_outputs))


def d_loss_vral(f_meta, r_meta, fake_out, real_out):
    """Eq. (10): L_phi = -log F({phi(G(z_i))}) - log R({phi(x_i)}): D makes its outputs look Gaussian to F and R."""
    return F.softplus(-f_meta(fake_out)) + F.softplus(-r_meta(real_out))


def centred(fake_out):
    """Sec. 2.3: phi(G(z_i)) - mean_j phi(G(z_j)), the generated batch with its mean subtracted."""
    return fake_out - fake_out.mean()


def g_loss_ipm(fake_out, real_out):
    """Eq. (11), signed so G raises D's output on its samples: L_G = E phi(x) - E phi(G(z)).

    The paper prints the opposite sign; see "Deviations and decisions".
    """
    return real_out.mean() - fake_out.mean()


def g_loss_ls(fake_out, mu_real):
    """Eq. (12): L'_G = E (phi(G(z)) - mu_r)^2, least squares towards the real mean."""
    return ((fake_out - mu_real) ** 2).mean()


def slopes(real_out, fake_out, real, fake):
    """Eq. (13)'s M input: |phi(x_i) - phi(y_i)| / ||x_i - y_i||_2, the i-th real sample paired with the i-th generated one."""
    dist = (real - fake).flatten(1).norm(dim=1)
    return (real_out - fake_out).abs() / dist.clamp_min(1e-12)


def critic_term(fake_out, real_out):
    """The WGAN critic loss E phi(G(z)) - E phi(x): minimising it separates D's means on generated and real data."""
    return fake_out.mean() - real_out.mean()


def d_loss_lipschitz(m_meta, real_out, fake_out, real, fake):
    """Sec. 2.4: the critic loss E phi(G(z)) - E phi(x) plus -log M(slopes): D fools M into seeing N(K, sigma*) slopes."""
    return critic_term(fake_out, real_out) + F.softplus(-m_meta(slopes(real_out, fake_out, real, fake)))


# ---------------------------------------------------------------------------
# Training (Algorithm 1)
# ---------------------------------------------------------------------------


def check_config(cfg):
    if cfg.variant not in VARIANTS:
        raise common.UserError(f"unknown --variant {cfg.variant!r}; choose from {', '.join(VARIANTS)}")
    if cfg.g_loss not in ("ls", "ipm"):
        raise common.UserError("--g-loss must be ls or ipm")
    if cfg.steps < 1 or cfg.d_steps < 1 or cfg.batch_size < 2:
        raise common.UserError("--steps and --d-steps must be >= 1, --batch-size >= 2")
    if len(cfg.betas) != 2:
        raise common.UserError("--betas takes two numbers")


def adam(cfg, params):
    return torch.optim.Adam(params, lr=cfg.lr, betas=tuple(cfg.betas), eps=cfg.adam_eps)


def step(opt, loss):
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def train(cfg):
    check_config(cfg)
    common.seed_everything(cfg.seed)
    device = common.pick_device(cfg.device)
    data = datasets.load(cfg.dataset, cfg.data_root, device, cfg.image_size or None, cfg.scale, cfg.stand_in)
    z_dim = cfg.z_dim or (2 if data.kind == "toy" else 100)
    m = cfg.batch_size
    g, d = common.make_nets(data, z_dim, cfg.arch, cfg.width or None, cfg.batch_norm)
    metas = ["m"] if cfg.variant == "lipschitz" else ["f", "r"]
    nets = {"g": g, "d": d, **{k: MetaDiscriminator(m, cfg.meta_hidden) for k in metas}}
    nets = {k: v.to(device) for k, v in nets.items()}
    opts = {k: adam(cfg, v.parameters()) for k, v in nets.items()}
    modules = {**nets, **{"opt_" + k: o for k, o in opts.items()}}
    z_fixed = torch.randn(max(64, cfg.eval_samples if data.kind == "toy" else 64), z_dim,
                          generator=torch.Generator().manual_seed(cfg.seed + 1)).to(device)
    mu_f = 0.0 if cfg.variant == "vral-sub" else cfg.mu_fake
    prep_fake = centred if cfg.variant == "vral-sub" else (lambda o: o)
    g_uses_ipm = cfg.variant == "lipschitz" or cfg.g_loss == "ipm"
    if cfg.variant == "lipschitz" and cfg.g_loss != "ipm":
        print("note: the lipschitz variant's generator uses eq. (11), the IPM loss; --g-loss is ignored")

    ckpt_path = Path(cfg.out) / "checkpoint.pt"
    start, seconds = 0, 0.0
    if cfg.resume and ckpt_path.exists():
        start, extra = common.load_checkpoint(ckpt_path, modules, device)
        seconds = extra["seconds"]
        print(f"resumed from {ckpt_path} at step {start}")
    run = common.RunDir(cfg.out, cfg, resume_step=start)

    def fake_batch(grad=False):
        with torch.set_grad_enabled(grad):
            return g(torch.randn(m, z_dim, device=device))

    progress = common.Progress(cfg.steps, start, name=f"[{cfg.variant} {cfg.dataset} {cfg.d_steps}:1] ")
    t0 = time.time() - seconds
    losses = {}
    for it in range(start, cfg.steps):
        for _ in range(cfg.d_steps):
            if cfg.variant == "lipschitz":
                # Eq. (13), M's side: N(K, sigma*) draws against the slopes of the current D.
                real, fake = data.sample(m), fake_batch()
                with torch.no_grad():
                    s = slopes(d(real), d(fake), real, fake)
                losses["loss_m"] = meta_loss(nets["m"], reference_batch(m, cfg.lip_k, cfg.lip_sigma, device), s)
                step(opts["m"], losses["loss_m"])
                # D: the critic loss plus fooling M (new batches, Alg. 1 line 10).
                real, fake = data.sample(m), fake_batch()
                losses["loss_d"] = d_loss_lipschitz(nets["m"], d(real), d(fake), real, fake)
                step(opts["d"], losses["loss_d"])
                continue
            # Alg. 1 lines 4-6: F against N(mu_f, 1) (N(0, 1) for vral-sub).
            with torch.no_grad():
                out_f = prep_fake(d(fake_batch()))
            losses["loss_f"] = meta_loss(nets["f"], reference_batch(m, mu_f, 1.0, device), out_f)
            step(opts["f"], losses["loss_f"])
            # Lines 7-9: R against N(mu_r, 1).
            with torch.no_grad():
                out_r = d(data.sample(m))
            losses["loss_r"] = meta_loss(nets["r"], reference_batch(m, cfg.mu_real, 1.0, device), out_r)
            step(opts["r"], losses["loss_r"])
            # Lines 10-12: D fools both (eq. 10). F and R get gradients here but only D steps.
            fake_out, real_out = d(fake_batch()), d(data.sample(m))
            losses["loss_d"] = d_loss_vral(nets["f"], nets["r"], prep_fake(fake_out), real_out)
            if cfg.d_critic:  # optional: D also separates the means (the authors' mean-subtraction script)
                losses["loss_d"] = losses["loss_d"] + critic_term(fake_out, real_out)
            step(opts["d"], losses["loss_d"])
        # Lines 13-15: G (eq. 11 or eq. 12).
        d.requires_grad_(False)
        fake_out = d(fake_batch(grad=True))
        if g_uses_ipm:
            with torch.no_grad():
                real_out = d(data.sample(m))
            losses["loss_g"] = g_loss_ipm(fake_out, real_out)
        else:
            losses["loss_g"] = g_loss_ls(fake_out, cfg.mu_real)
        step(opts["g"], losses["loss_g"])
        d.requires_grad_(True)
        values = {k: v.item() for k, v in losses.items()}
        common.check_finite(it + 1, **values)

        done = it + 1
        if done % cfg.log_every == 0 or done == cfg.steps:
            with common.diagnostic_mode(*nets.values()):
                diag = common.d_diagnostics(d, [data.sample(m) for _ in range(cfg.diag_batches)],
                                            [fake_batch() for _ in range(cfg.diag_batches)])
            run.log(done, **values, **diag)
            progress.update(done, **values)
        if done % cfg.sample_every == 0:
            common.save_samples(run / f"samples_{done}.png", data, g, z_fixed)
        if done % cfg.ckpt_every == 0 or done == cfg.steps:
            common.save_checkpoint(ckpt_path, done, modules, {"seconds": time.time() - t0})

    return evaluate(cfg, run, data, g, d, nets, z_fixed, z_dim, device, time.time() - t0)


def evaluate(cfg, run, data, g, d, nets, z_fixed, z_dim, device, seconds):
    """Final figures and summary.json: samples, D-output histograms over `diag_batches` batches (Fig. 3), gradient norm (Fig. 4)."""
    m = cfg.batch_size
    with common.diagnostic_mode(*nets.values()):
        common.save_samples(run / "samples_final.png", data, g, z_fixed)
        reals = [data.sample(m) for _ in range(cfg.diag_batches)]
        fakes = [g(torch.randn(m, z_dim, device=device)).detach() for _ in range(cfg.diag_batches)]
        with torch.no_grad():
            out_r = torch.cat([d(x) for x in reals]).cpu().numpy()
            out_f = torch.cat([d(x) for x in fakes]).cpu().numpy()
        diag = common.d_diagnostics(d, reals, fakes)
        if cfg.variant == "lipschitz":
            # Eq. (13)'s M input at the end: the slopes of D between the i-th real and i-th generated sample.
            with torch.no_grad():
                s = torch.cat([slopes(d(x), d(y), x, y) for x, y in zip(reals, fakes)])
            diag.update(slope_mean=s.mean().item(), slope_std=s.std().item())
        with torch.no_grad():
            xs = g(z_fixed[: cfg.eval_samples]).cpu().numpy() if data.kind == "toy" else None
        imgs = common.generate(g, cfg.eval_samples, m, z_dim, device) if data.kind == "image" else None
    np.savez(run / "d_outputs.npz", real=out_r, fake=out_f)
    common.plot_hist_grid(run / "d_hist.png", [[(out_r, out_f)]], col_labels=[f"{cfg.variant} {cfg.d_steps}:1: D raw output"])
    common.plot_grad_norm_history(run, cfg.variant)
    summary = {"steps": cfg.steps, "seconds": round(seconds, 2), "device": str(device), "variant": cfg.variant,
               "d_steps": cfg.d_steps, "dataset": cfg.dataset, **diag}
    if data.kind == "toy" and getattr(data, "centers", None) is not None:
        summary.update(toy_metrics(xs, data.centers, data.std, data.weights))
    if imgs is not None:
        summary.update(image_scores(data, imgs, cfg.data_root))  # MODE / Inception score with our own classifier
    run.summary(**summary)
    print(f"done: {run.path}/summary.json")
    return summary


# ---------------------------------------------------------------------------
# Figs. 2-4: every method at every training ratio
# ---------------------------------------------------------------------------

GRID_METHODS = ("minimax", "nonsaturating", "lsgan", "wgan", "vral", "vral-sub")
GRID_LABELS = {"minimax": "GAN", "nonsaturating": "-log D GAN", "lsgan": "LSGAN", "wgan": "WGAN",
               "vral": "VRAL", "vral-sub": "VRAL (mean sub.)"}


def grid_report(root):
    """Composite figures and a table from the runs `root/<method>-<ratio>/` (rows: ratios, columns: methods)."""
    root = Path(root)
    cells = {}
    for p in root.iterdir():
        if (p / "summary.json").exists() and "-" in p.name:
            method, ratio = p.name.rsplit("-", 1)
            if method in GRID_METHODS and ratio.isdigit():
                cells[(method, int(ratio))] = p
    if not cells:
        raise common.UserError(f"no finished runs named <method>-<ratio> under {root}")
    methods = [mt for mt in GRID_METHODS if any(mt == c[0] for c in cells)]
    ratios = sorted({c[1] for c in cells})
    plt = common.plt()
    # Fig. 2: samples
    fig, axes = plt.subplots(len(ratios), len(methods), figsize=(2.2 * len(methods), 2.3 * len(ratios)), squeeze=False)
    for i, r in enumerate(ratios):
        for j, mt in enumerate(methods):
            ax = axes[i][j]
            ax.axis("off")
            if (mt, r) in cells:
                ax.imshow(plt.imread(cells[(mt, r)] / "samples_final.png"))
            if i == 0:
                ax.set_title(GRID_LABELS[mt], fontsize=9)
            if j == 0:
                ax.text(-0.1, 0.5, f"{r}:1", transform=ax.transAxes, ha="right", va="center", fontsize=10)
    fig.tight_layout()
    fig.savefig(root / "samples.png", dpi=130)
    plt.close(fig)
    # Fig. 3: histograms of D's raw output
    grid = []
    for r in ratios:
        row = []
        for mt in methods:
            f = cells.get((mt, r))
            row.append((np.load(f / "d_outputs.npz")["real"], np.load(f / "d_outputs.npz")["fake"]) if f else None)
        grid.append(row)
    common.plot_hist_grid(root / "hist.png", grid, [f"{r}:1" for r in ratios], [GRID_LABELS[mt] for mt in methods])
    # Fig. 4: D's gradient norm on generated samples during training
    fig, axes = plt.subplots(1, len(methods), figsize=(2.8 * len(methods), 2.8), squeeze=False, sharey=True)
    for ax, mt in zip(axes[0], methods):
        for r in ratios:
            if (mt, r) in cells:
                rows = common.read_jsonl(cells[(mt, r)] / "metrics.jsonl")
                ax.plot([x["step"] for x in rows], [max(x["grad_norm_fake"], 1e-12) for x in rows], label=f"{r}:1")
        ax.set_yscale("log")
        ax.set_title(GRID_LABELS[mt], fontsize=9)
        ax.set_xlabel("generator step", fontsize=8)
    axes[0][0].set_ylabel("mean ||grad_x D(G(z))||")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(root / "grad_norm.png", dpi=120)
    plt.close(fig)
    # The numbers behind them
    import json
    fmt = lambda s, k: f"{s[k]:.3g}" if k in s else "-"
    lines = ["| method | ratio | D std on real | D std on generated | mean grad norm, generated | MODE score | "
             "label KL | seconds |", "|---|---|---|---|---|---|---|---|"]
    for r in ratios:
        for mt in methods:
            if (mt, r) in cells:
                s = json.loads((cells[(mt, r)] / "summary.json").read_text())
                lines.append(f"| {GRID_LABELS[mt]} | {r}:1 | {s['d_real_std']:.3g} | {s['d_fake_std']:.3g} | "
                             f"{s['grad_norm_fake']:.3g} | {fmt(s, 'mode_score')} | {fmt(s, 'label_kl')} | "
                             f"{s['seconds']:.0f} |")
    (root / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nfigures: {root / 'samples.png'}, {root / 'hist.png'}, {root / 'grad_norm.png'}; table: {root / 'table.md'}")


def main():
    cfg = common.parse_config(Config, __doc__)
    if cfg.report:
        common.cli(lambda c: grid_report(c.report), cfg)
    else:
        common.cli(train, cfg)


if __name__ == "__main__":
    main()
