"""Variance Regularizing Adversarial Learning (VRAL): meta-discriminators keep D's output spread.

Paper: Karan Grewal, R Devon Hjelm, Yoshua Bengio, "Variance Regularizing
Adversarial Learning", ICLR 2018 submission (anonymous at review),
https://openreview.net/forum?id=SyuWNMZ0W . The authors' Theano/Lasagne code:
https://github.com/karangrewal/mixing-generator-data (no PyTorch version existed).

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
    make digits-vral            the Figs. 2-4 grid at CPU size (every method at 1:1, 10:1, 25:1, 50:1;
                                also VRAL with mu_f 0 and with the authors' CelebA choices)
    make cifar-vral             Figs. 2-4 on CIFAR-10 (GPU-sized)
    make mnist-vral             the ratio grid on MNIST as the authors' MNIST scripts ran it (--arch grewal;
                                see deviation 12), at CPU length, over SEEDS
    make celeba-vral            Fig. 5;  make celeba-vral-lipschitz: Fig. 6
    python -m figures vral-grid runs/digits-vral   the Figs. 2-4 composites from finished grid runs
    python -m methods.vral --dataset digits --variant vral-sub --d-steps 50 --steps 500 --out runs/vral-sub
    python -m methods.vral --help

Deviations and decisions (each names the flag that restores the paper's or the authors' behaviour)
1. The meta-discriminators have one hidden layer of 28 ReLU units (`--meta-hidden`)
   and a linear output (a logit; the sigmoid is inside the loss), as in the
   authors' code (Lasagne's DenseLayer default nonlinearity is the rectifier).
   They see the whole batch as one m-vector, in batch order, as the paper says
   ("comparisons are performed batch-wise") and the authors' scripts do from
   August 2017 on (only their June 2017 CIFAR-10 and LSUN scripts look at each
   output separately); a batch of another size than m is an error. They use
   PyTorch's default initialisation; `--meta-init glorot` gives the authors'
   (Lasagne's default: Glorot-uniform weights, zero biases).
2. D's loss, eq. (10), is the non-saturating form the paper writes (D minimises
   -log F - log R, rather than maximising log(1 - F) + log(1 - R)).
3. The paper gives mu_r and mu_f only implicitly; the defaults mu_r = 1,
   mu_f = -1 are the authors' CelebA script's and final (January 2018) CIFAR-10
   script's. Their pre-submission CIFAR-10 and MNIST scripts use mu_f = 0
   (`--mu-fake 0`, the `vral-mu0` column of `make digits-vral`): with it VRAL
   collapses on digits at 10:1 (README).
   The least-squares generator loss is the paper's eq. (12), without the 1/2
   the authors' code puts in front (the same minimiser, twice the step size).
4. Adam beta1 = 0.5 as in Algorithm 1; the authors' CelebA and January 2018
   CIFAR-10 scripts use 0.1: `--betas 0.1 0.999`.
5. Mean subtraction (`--variant vral-sub`) centres the generated batch in both
   F's loss and D's loss, and F's reference draws come from N(0, 1) instead of
   N(mu_f, 1). The real batch is not centred (the paper centres only fakes).
   The authors' mean-subtraction script (October 2017) departs from the paper,
   and we follow the text: there F's fake term is f_fake - mean(f_fake), which is
   identically 0 for an F with one output per batch, so F never affects D; R is
   trained to misclassify; D's loss is r_fake^2 plus an unclipped critic term
   E phi(G(z)) - E phi(x); and G uses the IPM loss.
   Two consequences of the text as written, which we keep but name: (a) after
   centring, eq. (10) does not change when a constant is added to phi on
   generated data, so nothing in D's loss pushes the generated mean away from
   the real one (sec. 2.3 says D's goal is to separate the means);
   `--d-critic` adds the authors' critic term E phi(G(z)) - E phi(x) to D's
   loss. (b) A centred batch sums to exactly 0, an N(0, 1) reference batch does
   not, so F can tell them apart whatever D does; we do not centre the
   reference batch (neither does the authors' code).
6. Networks: the DCGAN defaults (BatchNorm in G and D, z 100, D's leaky-ReLU
   slope 0.2) for every data set. The authors' BatchNorm: in G only in their
   pre-submission CIFAR-10 script (`--d-norm none`), in both in the January 2018
   one, in neither for CelebA (`--no-batch-norm`, and z 128: `--z-dim 128`; the
   celeba targets use their CelebA settings, with our DCGAN widths, which their
   script does not match layer for layer). Their leaky-ReLU slope is 0.02:
   `--lrelu-slope 0.02`. `--arch grewal` builds the authors' MNIST nets (28 px:
   nets.GrewalGenerator, nets.GrewalDiscriminator; BatchNorm in both, Lasagne's
   initialisation); `--lrelu-slope` applies to them too, so give their 0.01.
7. Lipschitz variant (`--variant lipschitz`): eq. (13) gives M's objective and
   says D tries to fool M, but a D whose only aim is to look K-Lipschitz gives G
   nothing to follow. We read sec. 2.4 as the WGAN critic with its Lipschitz
   constraint enforced by M: D minimises E phi(G(z)) - E phi(x) - E log M(slopes),
   and G uses eq. (11). Each real sample is paired with the generated sample at
   the same batch index; d_X is the Euclidean distance of the flattened images.
   The authors' Lipschitz script confirms the critic term and G's sign, and
   differs from the paper elsewhere (signed slopes without |.|, D fooling M by
   minimising M's squared logit, M's reference N(0, 1) instead of N(K, sigma*));
   we follow the paper.
8. The IPM generator loss (`--g-loss ipm`) has the opposite sign of the printed
   eq. (11) and Alg. 1 line 14 (`E phi(G(z)) - E phi(x)`): G minimises
   E phi(x) - E phi(G(z)), i.e. raises D's output on its samples. As printed,
   with mu_r > mu_f (the paper's real/fake coding) or with the critic of
   sec. 2.4 (which raises phi on real data), minimising L_G would push
   phi(G(z)) away from the real outputs, and in the Lipschitz variant G and D
   would minimise the same objective. The authors' Lipschitz script uses our
   sign (G_loss = mean phi(real) - mean phi(fake)); their variance scripts use
   eq. (12), our default. D's outputs on real samples are computed without
   gradient in G's step (they do not depend on G).
9. Each of F's, R's and D's steps draws its own batches (Alg. 1 lines 4-12);
   the authors' code reuses R's real batch in D's step: `--share-real`.
10. Logged diagnostics are the baselines': D's raw-output mean and within-batch
   std on real and generated batches, and the mean per-sample ||grad_x phi(x)||
   on generated samples, averaged over `--diag-batches` (50, as Fig. 4) batches.
   The authors' scripts log the squared norm of the gradient of D's loss
   instead; we log the gradient of D's output, the quantity that reaches G.
   Lipschitz variant: the summary also holds the mean and std of the final
   slopes over the same paired batches (`slope_stats`; M's target N(K, sigma*)).
   M sees chords between paired real and generated samples only; it does not
   bound D's local gradient norm, which `grad_norm_fake` reports beside it.
11. Sample quality (the paper shows samples only): on labelled image sets the
   summary holds the MODE score of `--eval-samples` generated images with our
   own classifier, and the label KL (metrics.py).
12. MNIST as the authors ran it (`make mnist-vral`; their mnist/ folder, August
   2017: model.py, real_fake.py, variance.py, main.py, least_squares.py,
   wasserstein.py, data.py). Their nets (`--arch grewal`: G z 100 -> 1,024 ->
   128 x 7 x 7 -> 64 x 14 x 14 -> 28 x 28, sigmoid; D two 5x5 stride-2
   convolutions of 64 and 128 channels, a dense layer of 1,024, leaky ReLU
   0.01; BatchNorm in both), z ~ N(0, I_100), pixels in [0, 1] (the nets map
   them to and from our [-1, 1]), every net on Adam(1e-4, (0.5, 0.999),
   eps 3e-6), batch 64, F and R as here with Glorot weights (Lasagne's), the
   references N(1, 1) and N(0, 1) (`--mu-fake 0`), G's loss (1/2)(phi - 1)^2,
   D's step on R's real batch (`--share-real`), and per generator step n steps
   of F, R and D. Their baselines there: the same nets and Adam, -log D (main.py,
   its minimax generator loss commented out beside it), LSGAN with D's targets
   1 and -1 (`--lsgan-a -1`), and WGAN clipping at 0.1 every Adam update,
   the optimiser's state included (`--clip 0.1 --clip-adam-state`, baselines
   deviation 9), none with a critic warm-up. Their length: 35 epochs (GAN, -log D,
   VRAL) or 30 (LSGAN, WGAN) of 937 generator steps, whatever the ratio (each
   generator step draws its D batches from a freshly shuffled pass), which the
   target runs; `MNIST_VRAL_STEPS=N` runs N instead (reproduce-mnist: 2,000,
   the Makefile says why). Their batches are drawn without replacement within a
   generator step; ours, as everywhere here, at random with replacement.
"""

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

import common

VARIANTS = ("vral", "vral-sub", "lipschitz")


@dataclass
class Config(common.RunConfig):
    variant: str = "vral"  # vral (eqs. 8-10) | vral-sub (sec. 2.3 mean subtraction) | lipschitz (sec. 2.4, eq. 13)
    g_loss: str = "ls"  # ls: eq. 12, (phi(G(z)) - mu_r)^2 (the authors' choice) | ipm: eq. 11, E phi(x) - E phi(G(z)) (lipschitz: always ipm)
    mu_real: float = 1.0  # mu_r, mean of R's reference Gaussian N(mu_r, 1)
    mu_fake: float = -1.0  # mu_f, mean of F's reference Gaussian N(mu_f, 1) (the authors' final scripts; vral-sub uses N(0, 1))
    meta_init: str = "pytorch"  # F, R, M initialisation: pytorch | glorot (Glorot-uniform weights, zero biases: Lasagne's, the authors')
    share_real: bool = False  # D's step reuses R's real batch (the authors' scripts) instead of drawing its own (Alg. 1)
    lrelu_slope: float = 0.2  # D's leaky-ReLU slope (the DCGAN's, Radford et al.: 0.2; the authors' CIFAR-10 and CelebA scripts: 0.02, MNIST: 0.01)
    arch: str = "dcgan"  # image nets: dcgan | grewal (the authors' 28 px MNIST nets, deviations 6 and 12)
    d_critic: bool = False  # vral, vral-sub: add the critic term E phi(G(z)) - E phi(x) to D's loss (eq. 10), as the authors' mean-subtraction script does
    lip_k: float = 1.0  # lipschitz: K, mean of M's reference Gaussian
    lip_sigma: float = 0.1  # lipschitz: sigma*, std of M's reference Gaussian
    meta_hidden: int = 28  # hidden units of each meta-discriminator
    lr: float = 1e-4  # Adam learning rate of every net (Alg. 1: alpha)
    betas: tuple = (0.5, 0.999)  # Adam betas (Alg. 1)
    adam_eps: float = 3e-6  # Adam epsilon (Alg. 1)
    dataset: str = "cifar10"  # data set
    steps: int = 20000  # generator updates
    d_steps: int = 1  # n: updates of F, R and D per generator update (the training ratio)
    batch_size: int = 64  # m: samples per batch, and the meta-discriminators' input size
    diag_batches: int = 50  # batches averaged in each D diagnostic (Fig. 4: 50)
    out: str = "runs/vral"  # run folder


# ---------------------------------------------------------------------------
# The method
# ---------------------------------------------------------------------------


def glorot(module):
    """Lasagne's default initialisation (the authors'): Glorot-uniform weights, zero biases."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return module


def set_lrelu_slope(module, slope):
    """Every leaky ReLU of `module` gets negative slope `slope` (the authors' D: 0.02)."""
    for m in module.modules():
        if isinstance(m, nn.LeakyReLU):
            m.negative_slope = slope
    return module


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

    The paper prints the opposite sign; see deviation 8.
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


def slope_stats(d, reals, fakes):
    """Mean and std of the slopes of D over lists of paired real and generated batches (what M is shown)."""
    with torch.no_grad():
        s = torch.cat([slopes(d(x), d(y), x, y) for x, y in zip(reals, fakes)])
    return {"slope_mean": s.mean().item(), "slope_std": s.std().item()}


# ---------------------------------------------------------------------------
# Training (Algorithm 1)
# ---------------------------------------------------------------------------


def check_config(cfg):
    if cfg.variant not in VARIANTS:
        raise common.UserError(f"unknown --variant {cfg.variant!r}; choose from {', '.join(VARIANTS)}")
    if cfg.g_loss not in ("ls", "ipm"):
        raise common.UserError("--g-loss must be ls or ipm")
    if cfg.meta_init not in ("pytorch", "glorot"):
        raise common.UserError("--meta-init must be pytorch or glorot")
    if cfg.arch not in ("dcgan", "grewal"):
        raise common.UserError(f"unknown --arch {cfg.arch!r}; choose dcgan or grewal")
    if cfg.lrelu_slope < 0:
        raise common.UserError("--lrelu-slope must be >= 0")
    common.must(cfg, ">= 1", "d_steps", "meta_hidden")
    common.must(cfg, "> 0", "lr", "lip_sigma")
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
    run = common.Run(cfg, f"{cfg.variant} {cfg.dataset} {cfg.d_steps}:1")
    m, device, data = cfg.batch_size, run.device, run.data
    g, d = run.make_nets(arch=cfg.arch)
    set_lrelu_slope(d, cfg.lrelu_slope)
    metas = ["m"] if cfg.variant == "lipschitz" else ["f", "r"]
    init = glorot if cfg.meta_init == "glorot" else (lambda net: net)
    nets = {"g": g, "d": d, **{k: init(MetaDiscriminator(m, cfg.meta_hidden)).to(device) for k in metas}}
    opts = {k: adam(cfg, v.parameters()) for k, v in nets.items()}
    start = run.begin(**nets, **{"opt_" + k: o for k, o in opts.items()})
    mu_f = 0.0 if cfg.variant == "vral-sub" else cfg.mu_fake
    prep_fake = centred if cfg.variant == "vral-sub" else (lambda o: o)
    g_uses_ipm = cfg.variant == "lipschitz" or cfg.g_loss == "ipm"

    def fake_batch(grad=False):
        with torch.set_grad_enabled(grad):
            return g(run.noise())

    for it in range(start, cfg.steps):
        losses = {}
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
            real_r = data.sample(m)
            with torch.no_grad():
                out_r = d(real_r)
            losses["loss_r"] = meta_loss(nets["r"], reference_batch(m, cfg.mu_real, 1.0, device), out_r)
            step(opts["r"], losses["loss_r"])
            # Lines 10-12: D fools both (eq. 10). F and R get gradients here but only D steps.
            fake_out, real_out = d(fake_batch()), d(real_r if cfg.share_real else data.sample(m))
            losses["loss_d"] = d_loss_vral(nets["f"], nets["r"], prep_fake(fake_out), real_out)
            if cfg.d_critic:  # optional: D also separates the means (the authors' mean-subtraction script)
                losses["loss_d"] = losses["loss_d"] + critic_term(fake_out, real_out)
            step(opts["d"], losses["loss_d"])
        # Lines 13-15: G (eq. 12, or eq. 11 with our sign).
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
        run.end_step(it + 1, losses)

    extra = (lambda reals, fakes: slope_stats(d, reals, fakes)) if cfg.variant == "lipschitz" else None
    return run.finish(extra, variant=cfg.variant, d_steps=cfg.d_steps)


def main():
    common.cli(train, common.parse_config(Config, __doc__))


if __name__ == "__main__":
    main()
