"""Baseline GAN losses: the standard (minimax) GAN, the -log D GAN, LSGAN, WGAN, WGAN-GP, and instance noise.

Papers
- Goodfellow et al. 2014, "Generative Adversarial Nets", NIPS. https://arxiv.org/abs/1406.2661
- Arjovsky & Bottou 2017, "Towards Principled Methods for Training Generative
  Adversarial Networks", ICLR (the -log D cost's instability, Sec. 2.2;
  instance noise, Sec. 3). https://arxiv.org/abs/1701.04862
- Mao et al. 2017, "Least Squares Generative Adversarial Networks", ICCV.
  https://arxiv.org/abs/1611.04076 (code: xudonmao/LSGAN)
- Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN", ICML.
  https://arxiv.org/abs/1701.07875 (code: martinarjovsky/WassersteinGAN)
- Gulrajani et al. 2017, "Improved Training of Wasserstein GANs", NIPS.
  https://arxiv.org/abs/1704.00028 (code: igul222/improved_wgan_training)

Every loss takes D's raw, linear output (a logit for the GAN losses, a critic
value for WGAN), so D never ends in a sigmoid; sigma(.) below is the logistic
function and D(x) = sigma(logit).

    value of the game (Goodfellow eq. 1):  V(D, G) = E_x log D(x) + E_z log(1 - D(G(z)))
    d_loss_gan            -V: softplus(-logit_real) + softplus(logit_fake)   (both GAN variants)
    g_loss_minimax        E_z log(1 - D(G(z))) = -E softplus(logit_fake)     (the "original cost")
    g_loss_nonsaturating  E_z -log D(G(z))     =  E softplus(-logit_fake)    (the "-log D" cost)
    d_loss_lsgan          1/2 E (D(x) - 1)^2 + 1/2 E (D(G(z)) - a)^2        (Mao et al. eq. 8; a = 0: eq. 9's 0-1 coding)
    g_loss_lsgan          1/2 E (D(G(z)) - 1)^2
    d_loss_wgan           E f(G(z)) - E f(x)  with weights clipped to [-c, c]  (WGAN Alg. 1)
    g_loss_wgan           -E f(G(z))
    gradient_penalty      E_xhat (||grad f(xhat)||_2 - 1)^2, xhat = a x + (1 - a) G(z), a ~ U(0,1) per
                          sample (Gulrajani et al. eq. 3, Alg. 1)
    noisy                 instance noise: D sees x + eps and G(z) + eps', eps, eps' ~ N(0, sigma^2 I), in the
                          D step and in the G step (Arjovsky & Bottou, the corollary of Thm. 3.2)

Run
    make demo                     four losses on ring8, side by side (a few minutes on 2 cores)
    make toy-baselines            every loss on ring8 and grid25, with and without instance noise
    make digits-baselines         every loss with DCGAN nets on the bundled 8x8 digits
    make mnist-vral               GAN, -log D, LSGAN and WGAN beside VRAL on MNIST, the VRAL authors' MNIST set-up
    python -m methods.baselines --loss wgan-gp --dataset ring8 --steps 5000 --out runs/wgan-gp
    python -m methods.baselines --help

The Arjovsky & Bottou experiment (train, freeze G, train a fresh D) is
methods/principled.py; it reuses these losses.

Logged every `--log-every` steps (the other papers plot them): the mean and
std of D's raw output on real and generated batches and the mean per-sample
norm ||grad_x D(x)|| on generated ones (`grad_norm_fake`). At the end: D's
output histograms (`d_hist.png`, `d_outputs.npz`), on toy data the mode
metrics and D's output surface, on labelled images the MODE score with our
own classifier (metrics.py).

Deviations and decisions
1. D outputs logits and the losses apply the sigmoid inside (softplus forms):
   numerically stable, the same functions of D's output as in the papers.
2. LSGAN uses the 0-1 coding (a = 0, b = c = 1) with the 1/2 factors of Mao
   et al. eq. (9). The VRAL authors' MNIST script (mnist/least_squares.py) gives
   D the target -1 on generated samples (a = -1, b = c = 1): `--lsgan-a -1`.
3. Optimizers (`OPTIM`), each value with its source; `--optimizer`, `--lr`,
   `--betas`, `--d-steps` override them (the VRAL training-ratio study does):
   - minimax and -log D GAN: Adam(2e-4, betas (0.5, 0.999)), 1 D step, the
     DCGAN setting (Radford et al. sec. 4), not Goodfellow et al.'s SGD with
     momentum and a decaying rate (their pylearn2 scripts; no flag).
   - LSGAN: Adam(2e-4, (0.5, 0.999)), as the authors' stability-comparison
     and handwritten-character scripts (xudonmao/LSGAN stability_comparison/,
     train_chn.py); their LSUN script uses `--lr 1e-3`.
   - WGAN: RMSprop(5e-5), clip 0.01, 5 critic steps, 100 for the first 25
     generator steps and every 500th (WGAN Alg. 1 and the authors' main.py;
     `--no-wgan-boost` turns the warm-up off).
   - WGAN-GP: Adam(1e-4, (0.5, 0.9)), lambda 10, 5 critic steps, as the
     authors' 32 px scripts (gan_cifar.py, gan_mnist.py); the paper's
     Alg. 1 and their 64 px script use beta1 = 0: `--betas 0 0.9`.
4. The gradient penalty draws one interpolation coefficient per sample and
   flattens each sample's gradient before its norm. methods/zero_gp.py has the
   general form (0- or 1-centred, on interpolates or samples, of the logit or the
   probability); these four lines stay here so the file reads alone, and a test
   holds them equal to zero_gp's 1-GP of the logit at the same seed.
5. D is the DCGAN discriminator with BatchNorm on images, except WGAN-GP's
   critic, which has no normalization (Gulrajani et al. sec. 4, "no critic
   batch normalization", and their 32 px code gan_cifar.py): with BatchNorm a
   sample's input gradient, which the penalty constrains, depends on the rest
   of its batch. `--d-norm layer` gives the LayerNorm critic of their 64 px
   code (gan_64x64.py), `--d-norm batch` the BatchNorm critic this project
   used for WGAN-GP before (the README says which numbers came from it).
6. Instance noise is off unless `--instance-noise SIGMA` is given; with
   `--noise-anneal linear` sigma falls linearly to 0 at the last step.
7. The latent is N(0, I): 100-d for images (DCGAN), 2-d for toy data (Roth et
   al.'s choice for their toy; `--z-dim` changes it).
8. Image nets: the DCGAN, or with `--arch grewal` the VRAL authors' MNIST nets
   (28 px, 5x5 kernels, dense layers of 1,024 units, BatchNorm in G and D,
   leaky ReLU 0.01, a sigmoid G in their [0, 1] pixels; nets.GrewalGenerator,
   nets.GrewalDiscriminator), for `make mnist-vral`.
9. `--clip-adam-state` (WGAN with Adam, off by default): the VRAL authors' Theano
   WGAN clips every update of D's Adam to [-c, c], the optimiser's own state
   with the weights: its first and second moments and its step count, which
   then stays at c, so that every step's bias correction is that of step
   1 + c (at c = 0.1 and Adam's (0.5, 0.999), 0.062 times the learning rate).
   This flag clamps the moments and the step count after each critic step, as
   their script did; without it only the weights are clipped (WGAN Alg. 1).
   Not reproduced: Lasagne adds Adam's eps to the uncorrected sqrt(v), PyTorch
   to the corrected one, so with the step count held at 1 + c their eps acts
   as eps / sqrt(1 - beta2^(1 + c)) of ours (30 times at c = 0.1), which
   matters only where sqrt(v) is that small.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F

import common

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
class Config(common.RunConfig):
    loss: str = "nonsaturating"  # minimax (original cost) | nonsaturating (-log D) | lsgan | wgan | wgan-gp
    d_steps: int = 0  # discriminator updates per generator update (0: the loss's default: 5 for wgan and wgan-gp, 1 otherwise)
    optimizer: str = "auto"  # auto (the loss's paper default: rmsprop for wgan, adam otherwise) | adam | rmsprop
    lr: float = 0.0  # learning rate of both nets (0: the loss's default: 2e-4 minimax, nonsaturating, lsgan; 5e-5 wgan; 1e-4 wgan-gp)
    betas: tuple = ()  # Adam betas, e.g. --betas 0.5 0.999 (empty: 0.5 0.9 for wgan-gp, 0.5 0.999 otherwise)
    adam_eps: float = 1e-8  # Adam epsilon
    clip: float = 0.01  # WGAN: weight clipping c
    clip_adam_state: bool = False  # WGAN with Adam: also clamp Adam's moments and step count to [-c, c] after each critic step (the VRAL authors' MNIST script; deviation 9)
    lsgan_a: float = 0.0  # LSGAN: D's target on generated samples (Mao et al. eq. 9: 0; the VRAL authors' MNIST script: -1)
    arch: str = "dcgan"  # image nets: dcgan | grewal (the VRAL authors' 28 px MNIST nets, deviation 8)
    wgan_boost: bool = True  # WGAN: 100 critic steps for the first 25 generator steps and every 500th
    gp_lambda: float = 10.0  # WGAN-GP: penalty weight lambda
    instance_noise: float = 0.0  # sigma, std of the Gaussian noise added to D's inputs (0: off)
    noise_anneal: str = "none"  # none | linear (sigma -> 0 at the last step)
    out: str = "runs/baselines"  # run folder


# ---------------------------------------------------------------------------
# The losses: pure functions of D's raw outputs
# ---------------------------------------------------------------------------


def d_loss_gan(real_logits, fake_logits):
    """-V(D, G) (Goodfellow eq. 1): -E log D(x) - E log(1 - D(G(z))), D = sigmoid(logit)."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def g_loss_minimax(fake_logits):
    """The original generator cost E log(1 - D(G(z))) (eq. 1), minimised by G; saturates when D wins."""
    return -F.softplus(fake_logits).mean()


def g_loss_nonsaturating(fake_logits):
    """The -log D alternative: E -log D(G(z)) (Goodfellow sec. 3; Arjovsky & Bottou Thm. 2.5)."""
    return F.softplus(-fake_logits).mean()


def d_loss_lsgan(real_out, fake_out, a=0.0):
    """LSGAN discriminator: 1/2 E (D(x) - 1)^2 + 1/2 E (D(G(z)) - a)^2 (Mao et al. eq. 8, b = 1; a = 0: eq. 9's
    0-1 coding; the VRAL authors' MNIST script: a = -1)."""
    return 0.5 * ((real_out - 1) ** 2).mean() + 0.5 * ((fake_out - a) ** 2).mean()


def g_loss_lsgan(fake_out):
    """LSGAN generator: 1/2 E (D(G(z)) - 1)^2 (Mao et al. eq. 9)."""
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


def clip_adam_state(opt, c):
    """Clamp Adam's moments and step count to [-c, c], as a Theano script that clips every update of Lasagne's
    Adam does (deviation 9): the step count then stays at c, and each step's bias correction is step 1 + c's."""
    with torch.no_grad():
        for state in opt.state.values():
            for k in ("exp_avg", "exp_avg_sq", "step"):
                if torch.is_tensor(state.get(k)):
                    state[k].clamp_(-c, c)


def noisy(x, sigma):
    """Instance noise: x + eps, eps ~ N(0, sigma^2 I) (Arjovsky & Bottou sec. 3)."""
    return x + sigma * torch.randn_like(x) if sigma > 0 else x


D_LOSS = {"minimax": d_loss_gan, "nonsaturating": d_loss_gan, "lsgan": d_loss_lsgan, "wgan": d_loss_wgan,
          "wgan-gp": d_loss_wgan}
G_LOSS = {"minimax": g_loss_minimax, "nonsaturating": g_loss_nonsaturating, "lsgan": g_loss_lsgan,
          "wgan": g_loss_wgan, "wgan-gp": g_loss_wgan}


def d_loss(loss, real_out, fake_out, lsgan_a=0.0):
    if loss == "lsgan":
        return d_loss_lsgan(real_out, fake_out, lsgan_a)
    return D_LOSS[loss](real_out, fake_out)


def g_loss(loss, fake_out):
    return G_LOSS[loss](fake_out)


# ---------------------------------------------------------------------------
# Schedules and optimizers
# ---------------------------------------------------------------------------


def noise_sigma(cfg, step):
    """Instance-noise std at generator step `step` (0-based)."""
    if cfg.noise_anneal == "linear":
        return cfg.instance_noise * max(0.0, 1.0 - step / cfg.steps)
    return cfg.instance_noise


def critic_steps(cfg, step):
    """Discriminator updates before generator update `step` (0-based)."""
    if cfg.loss == "wgan" and cfg.wgan_boost and (step < 25 or step % 500 == 0):
        return 100
    return cfg.d_steps or OPTIM[cfg.loss][3]


def optim_settings(cfg):
    """The optimizer, learning rate and Adam betas a run uses: the flags, or the loss's paper defaults (OPTIM)."""
    kind, lr, betas, _ = OPTIM[cfg.loss]
    kind = kind if cfg.optimizer == "auto" else cfg.optimizer
    return kind, cfg.lr or lr, (tuple(cfg.betas) or betas or (0.5, 0.999)) if kind == "adam" else None


def make_optim(cfg, params):
    kind, lr, betas = optim_settings(cfg)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch.optim.Adam(params, lr=lr, betas=betas, eps=cfg.adam_eps)


def check_config(cfg):
    if cfg.loss not in LOSSES:
        raise common.UserError(f"unknown --loss {cfg.loss!r}; choose from {', '.join(LOSSES)}")
    if cfg.optimizer not in ("auto", "adam", "rmsprop"):
        raise common.UserError("--optimizer must be auto, adam or rmsprop")
    if cfg.noise_anneal not in ("none", "linear"):
        raise common.UserError("--noise-anneal must be none or linear")
    if cfg.arch not in ("dcgan", "grewal"):
        raise common.UserError(f"unknown --arch {cfg.arch!r}; choose dcgan or grewal")
    if cfg.clip_adam_state and (cfg.loss != "wgan" or optim_settings(cfg)[0] != "adam"):
        raise common.UserError("--clip-adam-state is for --loss wgan with --optimizer adam")
    common.must(cfg, ">= 0", "instance_noise", "lr", "gp_lambda")
    common.must(cfg, "> 0", "clip")
    if cfg.betas and len(cfg.betas) != 2:
        raise common.UserError("--betas takes two numbers")


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------


def train(cfg):
    check_config(cfg)
    run = common.Run(cfg, f"{cfg.loss} {cfg.dataset}")
    g, d = run.make_nets(d_norm="none" if cfg.loss == "wgan-gp" else None, arch=cfg.arch)  # deviations 5, 8
    opt_g, opt_d = make_optim(cfg, g.parameters()), make_optim(cfg, d.parameters())
    kind, lr, betas = optim_settings(cfg)
    run.resolved.update(optimizer=kind, lr=lr, betas=betas, d_steps=cfg.d_steps or OPTIM[cfg.loss][3])
    # --compile: a D whose input gradient is penalized stays eager (torch.compile has no double backward)
    start = run.begin(g=g, d=d, opt_g=opt_g, opt_d=opt_d, eager=("d",) if cfg.loss == "wgan-gp" else ())

    for step in range(start, cfg.steps):
        sigma = noise_sigma(cfg, step)
        # The discriminator (critic): critic_steps updates on fresh batches.
        d.requires_grad_(True)
        for _ in range(critic_steps(cfg, step)):
            real = run.data.sample(cfg.batch_size)
            with torch.no_grad():
                fake = g(run.noise())
            real_in, fake_in = noisy(real, sigma), noisy(fake, sigma)  # instance noise on both
            loss_d = d_loss(cfg.loss, d(real_in), d(fake_in), cfg.lsgan_a)
            if cfg.loss == "wgan-gp":
                loss_d = loss_d + cfg.gp_lambda * gradient_penalty(d, real_in, fake_in)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            if cfg.loss == "wgan":
                clip_weights(d, cfg.clip)
                if cfg.clip_adam_state:  # deviation 9: the VRAL authors' Theano WGAN
                    clip_adam_state(opt_d, cfg.clip)
        # The generator, through D's noisy input (Arjovsky & Bottou, corollary of Thm. 3.2).
        d.requires_grad_(False)
        loss_g = g_loss(cfg.loss, d(noisy(g(run.noise()), sigma)))
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        run.end_step(step + 1, {"loss_d": loss_d, "loss_g": loss_g}, sigma=sigma)

    return run.finish(loss=cfg.loss, instance_noise=cfg.instance_noise)


def main():
    common.cli(train, common.parse_config(Config, __doc__))


if __name__ == "__main__":
    main()
