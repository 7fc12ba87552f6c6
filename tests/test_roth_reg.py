"""Roth et al.'s regularizers against independent computations, and how train() wires them
(the run contract, test_run_contract.py, covers seeding, logging, resume and bad input)."""

import copy
import dataclasses
import json
import math

import numpy as np
import pytest
import torch
import torch.nn as nn

import common
import nets
from methods import roth_reg as R

torch.set_default_dtype(torch.float32)


def small_mlp_d(in_dim=3, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(in_dim, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1)).double()


def small_conv_d(seed=0):
    torch.manual_seed(seed)
    return nets.DCGANDiscriminator(size=8, channels=1, width=4, norm="none").double()


def omega_js_by_loop(d, x_real, x_fake):
    """Omega_JS one sample at a time: each sample alone through D, its own gradient, math-module weights."""
    total_r, total_f = 0.0, 0.0
    for x in x_real:
        xi = x.unsqueeze(0).clone().requires_grad_(True)
        logit = d(xi).reshape(())
        (g,) = torch.autograd.grad(logit, xi, create_graph=True)
        total_r = total_r + (1 - torch.sigmoid(logit)) ** 2 * (g**2).sum()
    for x in x_fake:
        xi = x.unsqueeze(0).clone().requires_grad_(True)
        logit = d(xi).reshape(())
        (g,) = torch.autograd.grad(logit, xi, create_graph=True)
        total_f = total_f + torch.sigmoid(logit) ** 2 * (g**2).sum()
    return total_r / len(x_real) + total_f / len(x_fake)


@pytest.mark.parametrize("kind", ["mlp", "conv"])
def test_js_regularizer_matches_a_per_sample_loop_value_and_weight_gradient(kind):
    torch.manual_seed(1)
    if kind == "mlp":
        d, xr, xf = small_mlp_d(), torch.randn(7, 3).double(), torch.randn(5, 3).double()  # different batch sizes
    else:
        d, xr, xf = small_conv_d(), torch.randn(6, 1, 8, 8).double(), torch.randn(6, 1, 8, 8).double()
    got = R.js_regularizer(d, xr, xf)
    want = omega_js_by_loop(d, xr, xf)
    assert got.item() == pytest.approx(want.item(), rel=1e-10)
    g_got = torch.autograd.grad(got, list(d.parameters()))
    g_want = torch.autograd.grad(want, list(d.parameters()))
    for a, b in zip(g_got, g_want):
        assert torch.allclose(a, b, rtol=1e-9, atol=1e-12)


def test_js_regularizer_on_a_linear_d_is_the_closed_form():
    """phi(x) = w.x + b: grad phi = w for every sample, so Omega = ||w||^2 (E(1 - D)^2 + E D^2)."""
    torch.manual_seed(2)
    lin = nn.Linear(4, 1).double()
    xr, xf = torch.randn(9, 4).double(), torch.randn(9, 4).double()
    w2 = float((lin.weight.detach()**2).sum())
    dr = [1 / (1 + math.exp(-float(lin(x).detach()))) for x in xr]
    df = [1 / (1 + math.exp(-float(lin(x).detach()))) for x in xf]
    want = w2 * (np.mean([(1 - v) ** 2 for v in dr]) + np.mean([v**2 for v in df]))
    assert R.js_regularizer(lin, xr, xf).item() == pytest.approx(want, rel=1e-12)
    # d returning (B,) instead of (B, 1) gives the same
    assert R.js_regularizer(lambda x: lin(x).squeeze(1), xr, xf).item() == pytest.approx(want, rel=1e-12)


def test_js_regularizer_weights_are_not_detached():
    """The gradient w.r.t. D's bias flows only through the weights (1 - D)^2, D^2 for a linear D (grad phi = w)."""
    torch.manual_seed(3)
    lin = nn.Linear(3, 1).double()
    xr, xf = torch.randn(8, 3).double(), torch.randn(8, 3).double()
    (gb,) = torch.autograd.grad(R.js_regularizer(lin, xr, xf), [lin.bias])
    w2 = float((lin.weight.detach()**2).sum())
    s = lambda x: torch.sigmoid(lin(x)).squeeze(1)
    # d/db [(1 - s)^2] = -2 (1 - s) s (1 - s); d/db [s^2] = 2 s s (1 - s)
    want = w2 * ((-2 * (1 - s(xr)) ** 2 * s(xr)).mean() + (2 * s(xf) ** 2 * (1 - s(xf))).mean())
    assert gb.item() == pytest.approx(want.item(), rel=1e-10)
    assert abs(gb.item()) > 1e-3


def test_omega_js_logit_form_equals_the_gradients_of_log_d_and_log_one_minus_d():
    """App. 7.1: eq. 26 (E_P ||grad ln D||^2 + E_Q ||grad ln(1 - D)||^2) is eq. 28's logit form, per sample."""
    torch.manual_seed(8)
    d = small_mlp_d()
    xr, xf = torch.randn(5, 3).double(), torch.randn(4, 3).double()
    want = 0.0
    for xs, fn in ((xr, lambda l: torch.log(torch.sigmoid(l))), (xf, lambda l: torch.log(1 - torch.sigmoid(l)))):
        for x in xs:
            xi = x.unsqueeze(0).clone().requires_grad_(True)
            (g,) = torch.autograd.grad(fn(d(xi).reshape(())), xi)
            want += (g**2).sum().item() / len(xs)
    assert R.js_regularizer(d, xr, xf).item() == pytest.approx(want, rel=1e-10)


# --- the f-GAN regularizer ------------------------------------------------------------------------------


def fd2(f, t, h=1e-4):
    return (f(t + h) - 2 * f(t) + f(t - h)) / h**2


@pytest.mark.parametrize("div", sorted(R.FGAN))
def test_conjugate_second_derivatives_match_finite_differences(div):
    act, conj, conj2 = R.FGAN[div]
    v = torch.linspace(-1.5, 1.5, 7).double()
    t = act(v)  # points in the conjugate's domain
    assert torch.allclose(conj2(t), fd2(conj, t), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("div", sorted(R.FGAN))
def test_conjugates_are_the_fenchel_duals_of_their_f(div):
    """f^c(t) = sup_u (u t - f(u)), by a grid search over u, for the generator functions f of Nowozin et al. Table 1."""
    f = {"kl": lambda u: u * np.log(u), "reverse-kl": lambda u: -np.log(u), "pearson": lambda u: (u - 1) ** 2,
         "hellinger": lambda u: (np.sqrt(u) - 1) ** 2,
         "jensen-shannon": lambda u: -(u + 1) * np.log((1 + u) / 2) + u * np.log(u),
         "gan": lambda u: u * np.log(u) - (u + 1) * np.log(u + 1)}[div]
    act, conj, _ = R.FGAN[div]
    u = np.exp(np.linspace(-12, 8, 400001))
    for v in (-1.0, -0.2, 0.4):
        t = float(act(torch.tensor(v)))
        assert float(conj(torch.tensor(t).double())) == pytest.approx(np.max(u * t - f(u)), abs=2e-5)


@pytest.mark.parametrize("div", ["kl", "reverse-kl", "hellinger", "gan"])
def test_f_regularizer_matches_a_per_sample_loop(div):
    torch.manual_seed(4)
    d = small_mlp_d()
    xf = torch.randn(6, 3).double()
    act, _, conj2 = R.FGAN[div]
    want = 0.0
    for x in xf:
        xi = x.unsqueeze(0).clone().requires_grad_(True)
        psi = act(d(xi).reshape(()))
        (g,) = torch.autograd.grad(psi, xi, create_graph=True)
        want = want + conj2(psi) * (g**2).sum()
    want = want / len(xf)
    got = R.f_regularizer(d, xf, div)
    assert got.item() == pytest.approx(want.item(), rel=1e-10)
    params = list(d.parameters())  # reverse-kl: the output bias leaves Omega_f unchanged (curvature 1): no gradient
    for p, a, b in zip(params, torch.autograd.grad(got, params, allow_unused=True),
                       torch.autograd.grad(want, params, allow_unused=True)):
        a, b = (torch.zeros_like(p) if t is None else t for t in (a, b))
        assert torch.allclose(a, b, rtol=1e-9, atol=1e-12)


def test_gan_f_regularizer_at_the_optimum_equals_omega_js():
    """App. 7.1, eqs. 29-32: at D* = p/(p+q), E_Q[f^c''(ln D) ||grad ln D||^2] = E_P ||grad ln D||^2 + E_Q ||grad ln(1-D)||^2.

    1-D check by quadrature: P = N(1, 1), Q = N(-1, 1), D*(x) = sigmoid(2x); then phi = 2x, grad phi = 2.
    """
    xs = np.linspace(-12, 12, 200001)
    dx = xs[1] - xs[0]
    p = np.exp(-((xs - 1) ** 2) / 2) / np.sqrt(2 * np.pi)
    q = np.exp(-((xs + 1) ** 2) / 2) / np.sqrt(2 * np.pi)
    D = 1 / (1 + np.exp(-2 * xs))
    psi = torch.tensor(np.log(D))
    conj2 = R.FGAN["gan"][2](psi).numpy()
    grad_lnD = 2 * (1 - D)  # d/dx ln sigmoid(2x)
    lhs = np.sum(q * conj2 * grad_lnD**2) * dx
    rhs = np.sum(p * ((1 - D) * 2) ** 2) * dx + np.sum(q * (D * 2) ** 2) * dx  # Omega_JS, eq. 28 (grad phi = 2)
    assert lhs == pytest.approx(rhs, rel=1e-6)


# --- schedule, noise, losses ----------------------------------------------------------------------------


def test_annealed_gamma_endpoints_and_midpoint():
    assert R.annealed_gamma(0, 1000, 2.0, 0.01) == pytest.approx(2.0)
    assert R.annealed_gamma(1000, 1000, 2.0, 0.01) == pytest.approx(0.02)
    assert R.annealed_gamma(500, 1000, 2.0, 0.01) == pytest.approx(0.2)


@pytest.mark.parametrize("nsr", [1, 2, 4, 8])
def test_explicit_noise_batch_has_the_batch_size_and_nsr_draws_per_sample(nsr):
    torch.manual_seed(5)
    x = torch.randn(64 // nsr, 3, 8, 8)
    y = R.with_noise(x, 0.5, nsr)
    assert y.shape == (64, 3, 8, 8)
    copies = y.view(64 // nsr, nsr, -1)
    centre = x.view(64 // nsr, 1, -1)
    assert torch.allclose(copies.mean(1), centre[:, 0], atol=4 * 0.5 / math.sqrt(nsr) * 3)  # same sample underneath
    if nsr > 1:
        assert not torch.allclose(copies[:, 0], copies[:, 1])  # each copy its own noise
    assert (y - x.repeat_interleave(nsr, 0)).std().item() == pytest.approx(0.5, rel=0.05)


def test_generator_costs_are_log_one_minus_d_and_minus_log_d():
    lf = torch.tensor([-2.0, 0.3, 4.0]).double()
    s = torch.sigmoid(lf)
    assert R.g_loss_original(lf).item() == pytest.approx(torch.log(1 - s).mean().item(), rel=1e-12)
    assert R.g_loss_alternative(lf).item() == pytest.approx((-torch.log(s)).mean().item(), rel=1e-12)
    lr = torch.tensor([1.0, -0.5, 2.0]).double()
    want = -(torch.log(torch.sigmoid(lr)).mean() + torch.log(1 - s).mean())
    assert R.d_loss_js(lr, lf).item() == pytest.approx(want.item(), rel=1e-12)


def test_f_gan_d_loss_with_gan_divergence_is_the_bce_loss():
    """With f^c = -ln(1 - exp) and psi = ln sigmoid(v), eq. (7) is the GAN's value (Roth et al. sec. 2)."""
    lr, lf = torch.tensor([1.0, -0.5, 2.0]).double(), torch.tensor([-2.0, 0.3, 1.5]).double()
    assert R.d_loss_f(lr, lf, "gan").item() == pytest.approx(R.d_loss_js(lr, lf).item(), rel=1e-10)


# --- per-sample independence of the critics whose gradients we regularize ------------------------------------


@pytest.mark.parametrize("norm,independent", [("none", True), ("layer", True), ("batch", False)])
def test_a_samples_input_gradient_depends_on_its_batch_only_under_batchnorm(norm, independent):
    torch.manual_seed(6)
    d = nets.DCGANDiscriminator(size=16, channels=1, width=4, norm=norm).double().train()
    x = torch.randn(8, 1, 16, 16).double()
    other = torch.cat([x[:1], torch.randn(7, 1, 16, 16).double()])
    g1 = R.logits_and_grads(d, x, x)[2][0]
    g2 = R.logits_and_grads(d, other, other)[2][0]
    assert torch.isclose(g1, g2, rtol=1e-10).item() == independent


def test_resnet_discriminator_without_norm_is_per_sample():
    torch.manual_seed(7)
    d = nets.ResNetDiscriminator(size=16, channels=1, width=4, norm="none").double()
    x = torch.randn(6, 1, 16, 16).double()
    got = R.logits_and_grads(d, x, x)[2]
    for i in range(3):
        xi = x[i : i + 1].clone().requires_grad_(True)
        (g,) = torch.autograd.grad(d(xi).sum(), xi)
        assert got[i].item() == pytest.approx((g**2).sum().item(), rel=1e-10)


# --- train() wiring ----------------------------------------------------------------------------------------


def cfg(tmp_path, **kw):
    base = dict(dataset="submanifold7", steps=6, batch_size=16, log_every=3, sample_every=100, ckpt_every=100,
                eval_samples=200, snapshot_every=3, device="cpu", out=str(tmp_path / "run"), overwrite=True)
    base.update(kw)
    return R.Config(**base)


def test_train_uses_the_regularizer_with_gamma_over_two(tmp_path, monkeypatch):
    """D's loss is BCE + gamma/2 Omega: with Omega replaced by a constant c, loss_d moves by gamma c / 2."""
    seen = {}
    real_omega = R.omega_js

    def fake_omega(*a):
        seen["called"] = True
        return real_omega(*a) * 0 + 3.0

    monkeypatch.setattr(R, "omega_js", fake_omega)
    s = R.train(cfg(tmp_path, gamma=0.4, steps=1, log_every=1))
    rows = common.read_jsonl(tmp_path / "run" / "metrics.jsonl")
    monkeypatch.setattr(R, "omega_js", real_omega)
    s0 = R.train(cfg(tmp_path, gamma=0.0, steps=1, log_every=1, out=str(tmp_path / "run0")))
    rows0 = common.read_jsonl(tmp_path / "run0" / "metrics.jsonl")
    assert seen["called"]
    assert rows[0]["loss_d"] - rows0[0]["loss_d"] == pytest.approx(0.4 / 2 * 3.0, rel=1e-5)
    assert rows[0]["omega"] == pytest.approx(3.0)


def test_annealing_reaches_decay_times_gamma_at_the_last_step(tmp_path):
    R.train(cfg(tmp_path, gamma=2.0, anneal=True, decay=0.01, steps=4, log_every=1))
    rows = common.read_jsonl(tmp_path / "run" / "metrics.jsonl")
    assert [r["gamma"] for r in rows] == pytest.approx([2.0 * 0.01 ** (t / 4) for t in (1, 2, 3, 4)])


def test_toy_run_keeps_snapshots_and_reports_modes_over_time(tmp_path):
    s = R.train(cfg(tmp_path, steps=6, snapshot_every=3))
    assert [r["step"] for r in s["over_time"]] == [0, 3, 6]
    assert (tmp_path / "run" / "snapshots.png").exists() and (tmp_path / "run" / "modes_over_time.png").exists()
    x = np.load(tmp_path / "run" / "snapshot_3.npz")["x"]
    assert x.shape == (10 * 16, 3)
    assert s["g_loss"] == "minimax" and s["arch"] == "mlp-tanh"


def test_toy_nets_are_the_authors_tanh_mlps(tmp_path, on_nets):
    kept = {}
    on_nets(lambda g, d: kept.update(g=g, d=d))
    R.train(cfg(tmp_path, steps=1))
    acts = {type(m) for m in kept["d"].modules()} | {type(m) for m in kept["g"].modules()}
    assert nn.Tanh in acts and nn.ReLU not in acts


@pytest.mark.parametrize("arch", R.ARCHS)
def test_every_architecture_trains_on_images(tmp_path, arch):
    size = 16 if arch == "carpedm20" else 8  # carpedm20's four stride-2 layers need 16 px or more
    s = R.train(cfg(tmp_path, dataset="digits", arch=arch, steps=2, batch_size=8, eval_samples=0, gamma=2.0,
                    anneal=True, image_size=size))
    assert s["arch"] == arch and math.isfinite(s["omega_js"])


def test_cifar_nets_are_carpedm20s_layers():
    """The authors' CIFAR-10 nets (carpedm20's DCGAN-tensorflow model.py at 32 px): layer by layer."""
    import nets
    g, d = nets.Carpedm20Generator(100, 32, 3), nets.Carpedm20Discriminator(32, 3)
    layers = lambda net: [(type(m).__name__, getattr(m, "in_channels", getattr(m, "in_features", None)),
                           getattr(m, "out_channels", getattr(m, "out_features", None)), getattr(m, "kernel_size", None),
                           getattr(m, "stride", None)) for m in net.modules() if isinstance(m, (nn.Linear, nn.Conv2d,
                                                                                                nn.ConvTranspose2d))]
    # their G: linear z -> 2x2x512, deconv2d 5x5 stride 2 to 4x4x256, 8x8x128, 16x16x64, 32x32x3
    assert layers(g) == [("Linear", 100, 2048, None, None), ("ConvTranspose2d", 512, 256, (5, 5), (2, 2)),
                         ("ConvTranspose2d", 256, 128, (5, 5), (2, 2)), ("ConvTranspose2d", 128, 64, (5, 5), (2, 2)),
                         ("ConvTranspose2d", 64, 3, (5, 5), (2, 2))]
    # their D: conv2d 5x5 stride 2 to 16x16x64, 8x8x128, 4x4x256, 2x2x512, then a linear layer to one logit
    assert layers(d) == [("Conv2d", 3, 64, (5, 5), (2, 2)), ("Conv2d", 64, 128, (5, 5), (2, 2)),
                         ("Conv2d", 128, 256, (5, 5), (2, 2)), ("Conv2d", 256, 512, (5, 5), (2, 2)),
                         ("Linear", 2048, 1, None, None)]
    bns = lambda net: [m.num_features for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns(g) == [512, 256, 128, 64] and bns(d) == [128, 256, 512]  # d_bn1-3: none after D's first conv
    z = torch.rand(4, 100) * 2 - 1
    assert g(z).shape == (4, 3, 32, 32) and d(g(z)).shape == (4,)
    assert g(z).abs().max() <= 1 and isinstance(list(g.modules())[-1], nn.Tanh)


def test_image_runs_resolve_the_authors_latent_and_crop():
    """CIFAR-10 draws z ~ U(-1, 1)^100 (carpedm20), CelebA and LSUN N(0, I_128) with CelebA cropped to 178 px (igul222)."""
    c = R.resolve(R.Config(dataset="cifar10"))
    assert (c.prior, c.z_dim, c.crop, c.gamma) == ("symmetric", 0, 0, 0.1)
    c = R.resolve(R.Config(dataset="celeba"))
    assert (c.prior, c.z_dim, c.crop) == ("normal", 128, 178)
    c = R.resolve(R.Config(dataset="folder"))
    assert (c.prior, c.z_dim, c.crop) == ("normal", 128, 0)
    assert R.resolve(R.Config(noise_std=0.3)).gamma == 0.0 and R.resolve(R.Config(noise_std=0.3, gamma=0.5)).gamma == 0.5
    torch.manual_seed(0)
    import nets
    z = nets.latent(10000, 4, "cpu", "symmetric")
    assert -1 <= z.min() < -0.99 and 0.99 < z.max() <= 1 and abs(z.mean()) < 0.02


def test_celeba_is_cropped_to_the_given_size_before_resizing(tmp_path):
    """igul222's CelebA loader: a centre crop of 178 px, then the resize (a crop of 108 keeps less of the face)."""
    import numpy as np
    from PIL import Image
    import data as datasets
    folder = tmp_path / "celeba" / "img_align_celeba"
    folder.mkdir(parents=True)
    img = np.zeros((218, 178, 3), np.uint8)  # CelebA's aligned size; a white frame 35 px wide inside the 178 px crop
    img[20:198, :] = 255
    img[55:163, 35:143] = 0  # the centre 108x108 is black
    Image.fromarray(img).save(folder / "000001.jpg", quality=100)
    wide = datasets.load("celeba", tmp_path, image_size=8, crop=178).sample(1)
    tight = datasets.load("celeba", tmp_path, image_size=8).sample(1)
    assert wide.mean() > -0.5 and tight.mean() < -0.9


def test_explicit_noise_run_sees_nsr_copies(tmp_path, on_nets):
    sizes = []
    on_nets(lambda g, d: d.register_forward_pre_hook(lambda m, a: sizes.append(len(a[0]))))
    R.train(cfg(tmp_path, gamma=0.0, noise_std=0.3, nsr=4, steps=1, log_every=100, eval_samples=0,
                snapshot_every=0, diag_batches=1))
    assert sizes[:3] == [16, 16, 16]  # D's real, fake and G-step batches: the full batch size


@pytest.mark.parametrize("div", ["kl", "pearson", "gan"])
def test_f_gan_training_runs(tmp_path, div):
    s = R.train(cfg(tmp_path, divergence=div, steps=3, snapshot_every=0))
    assert s["divergence"] == div and math.isfinite(s["d_real_mean"])


# --- cross-testing -----------------------------------------------------------------------------------------


def test_crosstest_rates_against_a_hand_count(tmp_path, monkeypatch):
    for name, gamma in (("a", 0.0), ("b", 0.5)):
        R.train(cfg(tmp_path, dataset="digits", gamma=gamma, steps=2, batch_size=8, eval_samples=0,
                    out=str(tmp_path / name)))
    res = R.crosstest(tmp_path / "a", tmp_path / "b", n=40, device="cpu")
    assert res["real_images"] == "train" and res["n"] == 40 and res["n_real"] == 40
    for k in ("A", "B"):
        r = res[k]
        assert r["tp"] + r["fn"] == pytest.approx(1) and r["fp"] + r["tn"] == pytest.approx(1)
        for v in ("tp", "fp", "cross_fp"):
            assert 0 <= r[v] <= 1 and (r[v] * 40) == pytest.approx(round(r[v] * 40))
    # recount model A's cross FP by hand: D_A on B's samples, same seed and order as crosstest draws them
    common.seed_everything(0)
    _, data, ga, da, z = R.load_trained(tmp_path / "a", torch.device("cpu"))
    _, _, gb, db, _ = R.load_trained(tmp_path / "b", torch.device("cpu"))
    common.seed_everything(0)
    x_real = R.real_images(data, 40)
    xa = common.generate(ga, 40, 8, z, torch.device("cpu"))[:40]
    xb = common.generate(gb, 40, 8, z, torch.device("cpu"))[:40]
    da.train()
    with torch.no_grad():
        calls = torch.cat([da(b) for b in xb.split(8)]) > 0
        tp = torch.cat([da(b) for b in x_real.split(8)]) > 0
    assert res["A"]["cross_fp"] == pytest.approx(calls.float().mean().item())
    assert res["A"]["tp"] == pytest.approx(tp.float().mean().item())
    table = R.crosstest_table(res)
    assert "cross-testing FP" in table and f"{res['B']['cross_fp']:.4f}" in table and "cross FN" not in table


def test_crosstest_real_images_are_the_whole_split_each_once():
    """Sec. 5.5 classifies the test set: all of it, without replacement (not 10,000 draws covering 63% of it)."""
    import data as datasets
    digits = datasets.load("digits", image_size=8)
    whole = R.real_images(digits, 10000)
    assert torch.equal(whole, digits.images)  # every image once, in order
    torch.manual_seed(0)
    part = R.real_images(digits, 500)
    assert len({tuple(x.flatten().tolist()) for x in digits.images}) == 1797  # the 1,797 images are distinct
    assert len(part) == 500 and len({tuple(x.flatten().tolist()) for x in part}) == 500  # so none drawn twice


def test_crosstest_command_writes_its_table(tmp_path):
    import subprocess
    import sys
    for name in ("a", "b"):
        R.train(cfg(tmp_path, dataset="digits", steps=1, batch_size=8, eval_samples=0, out=str(tmp_path / name)))
    p = subprocess.run([sys.executable, "-m", "methods.roth_reg", "crosstest", str(tmp_path / "a"),
                        str(tmp_path / "b"), "--n", "16", "--out", str(tmp_path / "ct"), "--device", "cpu"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert json.loads((tmp_path / "ct" / "crosstest.json").read_text())["n"] == 16
    bad = subprocess.run([sys.executable, "-m", "methods.roth_reg", "crosstest", str(tmp_path / "a"),
                          str(tmp_path / "nope")], capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stderr.startswith("error:") and "Traceback" not in bad.stderr


def test_d_steps_discriminator_updates_per_generator_update(tmp_path, monkeypatch):
    calls = []
    real = R.d_loss_js
    monkeypatch.setattr(R, "d_loss_js", lambda *a: calls.append(1) or real(*a))
    R.train(cfg(tmp_path, steps=2, d_steps=3, snapshot_every=0))
    assert len(calls) == 6


@pytest.mark.parametrize("g_loss,sign", [("minimax", -1), ("nonsaturating", 1)])
def test_generator_cost_is_the_chosen_one(tmp_path, g_loss, sign):
    """log(1 - D) < 0 and -log D > 0: the logged generator loss has the sign of the cost in use."""
    R.train(cfg(tmp_path, g_loss=g_loss, steps=3, log_every=1, snapshot_every=0))
    assert all(r["loss_g"] * sign > 0 for r in common.read_jsonl(tmp_path / "run" / "metrics.jsonl"))


# ---------------------------------------------------------------------------
# Call sites: train()'s steps (tests/tap.py records the real loop's optimizer steps)
# ---------------------------------------------------------------------------

from tests import tap  # noqa: E402

DIVS = ["js", "kl", "reverse-kl", "pearson", "hellinger", "jensen-shannon", "gan"]

# Nowozin et al. 2016, Table 6, written out again: output activation g_f and conjugate f^c. f^c'' below is
# autograd's second derivative of f^c, not a table.
ORACLE_FGAN = {
    "kl": (lambda v: v, lambda t: torch.exp(t - 1)),
    "reverse-kl": (lambda v: -torch.exp(-v), lambda t: -1 - torch.log(-t)),
    "pearson": (lambda v: v, lambda t: t * t / 4 + t),
    "hellinger": (lambda v: 1 - torch.exp(-v), lambda t: t / (1 - t)),
    "jensen-shannon": (lambda v: math.log(2) - torch.log1p(torch.exp(-v)), lambda t: -torch.log(2 - torch.exp(t))),
    "gan": (lambda v: -torch.log1p(torch.exp(-v)), lambda t: -torch.log(1 - torch.exp(t))),
}


def roth_steps(tmp_path, n_steps, name="r", **kw):
    base = dict(steps=50, batch_size=32, lr=1e-3, snapshot_every=0, log_every=1000, sample_every=1000,
                ckpt_every=1000, device="cpu", out=str(tmp_path / name))
    return tap.record(R, R.Config(**{**base, **kw}), n_steps)


def per_sample_grad_sq(net, x):
    """||grad_x net(x_i)||^2 of each sample alone (the toy D has no normalization), with the graph kept."""
    out = []
    for xi in x:
        xi = xi.unsqueeze(0).clone().requires_grad_(True)
        (g,) = torch.autograd.grad(net(xi).sum(), xi, create_graph=True)
        out.append((g**2).sum())
    return torch.stack(out)


def conj2(conj, t):
    """f^c''(t) by autograd, per element."""
    t = t.detach().requires_grad_(True) if not t.requires_grad else t
    (d1,) = torch.autograd.grad(conj(t).sum(), t, create_graph=True)
    (d2,) = torch.autograd.grad(d1.sum(), t, create_graph=True)
    return d2


def oracle_d_loss(d, real, fake, gamma, div):
    """The paper's D loss written from eqs. (19), (20): the negated objective plus gamma/2 Omega, per sample."""
    raw_r, raw_f = d(real).reshape(-1), d(fake).reshape(-1)
    if div == "js":
        p_r, p_f = torch.sigmoid(raw_r), torch.sigmoid(raw_f)
        loss = -(torch.log(p_r).mean() + torch.log(1 - p_f).mean())
        omega = ((1 - p_r) ** 2 * per_sample_grad_sq(d, real)).mean() + (p_f**2 * per_sample_grad_sq(d, fake)).mean()
    else:
        act, conj = ORACLE_FGAN[div]
        loss = -(act(raw_r).mean() - conj(act(raw_f)).mean())
        psi = lambda x: act(d(x).reshape(-1))
        omega = (conj2(conj, psi(fake)) * per_sample_grad_sq(psi, fake)).mean()  # over Q only
    return loss + gamma / 2 * omega


def oracle_g_loss(d, x_fake, div, minimax):
    raw = d(x_fake).reshape(-1)
    if div == "js":
        p = torch.sigmoid(raw)
        return torch.log(1 - p).mean() if minimax else -torch.log(p).mean()
    act, conj = ORACLE_FGAN[div]
    return -conj(act(raw)).mean() if minimax else -act(raw).mean()


@pytest.mark.parametrize("div,g_loss", [("js", "minimax"), ("js", "nonsaturating"), ("kl", "minimax"),
                                        ("reverse-kl", "nonsaturating"), ("pearson", "minimax"),
                                        ("hellinger", "nonsaturating"), ("jensen-shannon", "minimax"),
                                        ("gan", "nonsaturating")])
def test_every_step_moves_its_net_the_papers_way_and_has_the_papers_gradient(tmp_path, div, g_loss):
    """Labels swapped at D's call, Omega_f over P, gamma instead of gamma/2, a side path's sign: red here.

    D's step raises D's margin on the step's own real and generated batches; G's step raises D's output on
    G's samples (every f-GAN activation and conjugate is increasing); both steps' gradients equal the
    paper's loss written above on the batches the loop drew (named by value: tap.py)."""
    steps = roth_steps(tmp_path, 2, divergence=div, g_loss=g_loss, gamma=0.5)
    sd, sg = tap.first(steps, "d"), tap.first(steps, "g")
    real, fake = tap.one(sd, "d", "real"), tap.one(sd, "d", "fake")
    margin = lambda d: (d(real).mean() - d(fake).mean()).item()
    assert margin(sd.after) > margin(sd.before)
    want = tap.grads_of(sd.before, lambda d: oracle_d_loss(d, real.double(), fake.double(), 0.5, div))
    tap.assert_grads_close(sd.grads, want, rtol=2e-3)
    z = tap.one(sg, "g", "z")
    d_now = sd.after  # 1:1: G's step sees D as D's step left it
    assert tap.batches(sg, "d", "fake"), "G's step must judge G's samples"
    with torch.no_grad():
        assert d_now(sg.after(z)).mean() > d_now(sg.before(z)).mean()
    want = tap.grads_of(sg.before, lambda g: oracle_g_loss(d_now.double(), g(z.double()), div, g_loss == "minimax"))
    tap.assert_grads_close(sg.grads, want, rtol=2e-3)
    assert not tap.changed(sd.grads, sg.others["d"]), "G's loss must add nothing to D's gradients (D is frozen)"


def test_annealed_gamma_at_the_call_site_is_gamma0_decay_to_the_t_over_T(tmp_path):
    """gamma_t = gamma0 * decay^(t/T) with t = 1 at the first step, reaching D's loss (a wrong step count,
    a linear schedule or an unannealed gamma are red)."""
    steps = roth_steps(tmp_path, 4, gamma=2.0, anneal=True, decay=0.01, steps=4)
    for k in (0, 1):
        s = tap.first(steps, "d", k)
        real, fake = tap.one(s, "d", "real"), tap.one(s, "d", "fake")
        gamma_t = 2.0 * 0.01 ** ((k + 1) / 4)
        want = tap.grads_of(s.before, lambda d: oracle_d_loss(d, real.double(), fake.double(), gamma_t, "js"))
        tap.assert_grads_close(s.grads, want, rtol=2e-3)


@pytest.mark.parametrize("nsr,noise_g", [(1, True), (4, False)])
def test_explicit_noise_has_the_flag_std_on_both_batches_and_nsr_copies(tmp_path, nsr, noise_g):
    """Sec. 5.4: D sees batch/k real and batch/k generated samples, each k times with N(0, s^2) noise (the variance
    used as the std, noise on one side only, or G's step without the noise it was asked for: red)."""
    s_ = 0.3
    steps = roth_steps(tmp_path, 2, name=f"n{nsr}", gamma=0.0, noise_std=s_, nsr=nsr, noise_g=noise_g, batch_size=512)
    sd, sg = tap.first(steps, "d"), tap.first(steps, "g")
    d_in = [x for _, x in sd.calls["d"]]  # D's real then generated input, both noisy: the tap names neither
    assert [kd for kd, _ in sd.calls["d"]] == ["?", "?"] and all(len(x) == 512 for x in d_in)
    clean = {"real": sd.drawn[0], "fake": sd.outputs["g"][0]}
    for x, kind in zip(d_in, ("real", "fake")):
        assert len(clean[kind]) == 512 // nsr
        diff = x - clean[kind].repeat_interleave(nsr, 0)
        assert abs(diff.std().item() - s_) < 0.02 and abs(diff.mean().item()) < 0.02, kind
    (g_in,) = [x for _, x in sg.calls["d"]]
    fake_g = sg.outputs["g"][0]
    if noise_g:
        assert abs((g_in - fake_g).std().item() - s_) < 0.03
    else:
        assert torch.equal(g_in, fake_g)


def test_grad_stats_reads_real_and_generated_gradients_from_their_own_batches():
    """The logged ||grad phi|| of real and generated samples on a D whose gradient is the input itself
    (phi(x) = |x|^2 / 2): real at norm 1, generated at norm 3 (computed from the wrong batch: red)."""
    class Quadratic(nn.Module):
        def forward(self, x):
            return 0.5 * (x**2).sum(1, keepdim=True)
    real = nn.functional.normalize(torch.randn(64, 3), dim=1)
    fake = 3 * nn.functional.normalize(torch.randn(64, 3), dim=1)
    out = R.grad_stats(Quadratic(), [real], [fake])
    assert out["grad_logit_real"] == pytest.approx(1.0, rel=1e-5)
    assert out["grad_logit_fake"] == pytest.approx(3.0, rel=1e-5)
    want = ((1 - torch.sigmoid(torch.tensor(0.5))) ** 2 * 1 + torch.sigmoid(torch.tensor(4.5)) ** 2 * 9).item()
    assert out["omega_js"] == pytest.approx(want, rel=1e-5)


@pytest.mark.parametrize("div", sorted(R.FGAN))
def test_curvature_is_the_conjugates_second_derivative_times_the_activations_slope_squared(div):
    """CURVATURE(v) = f^c''(g_f(v)) g_f'(v)^2, against the Table-6 product by autograd in float64."""
    act, _, conj2 = R.FGAN[div]
    v = torch.linspace(-3, 3, 13).double().requires_grad_(True)
    (slope,) = torch.autograd.grad(act(v).sum(), v)
    assert torch.allclose(R.CURVATURE[div](v.detach()), conj2(act(v.detach())) * slope**2, rtol=1e-9)


@pytest.mark.parametrize("div", ["gan", "jensen-shannon"])
def test_f_regularizer_stays_finite_where_the_product_form_overflows_in_float32(div):
    """D's raw output 20-25 on generated samples: f^c''(psi) ||grad psi||^2 in float32 is inf or nan (1 - exp(t)
    rounds to 0); the float32 regularizer equals the float64 product form, and stays finite at 60."""
    torch.manual_seed(0)
    lin = nn.Linear(3, 1)
    x = torch.randn(8, 3)
    for target in (20.0, 25.0, 60.0):
        with torch.no_grad():
            lin.bias.fill_(target - float(lin(x).mean() - lin.bias))
        got = R.f_regularizer(lin, x, div)
        assert torch.isfinite(got)
        act, _, conj2 = R.FGAN[div]
        if target < 30:
            lin64 = copy.deepcopy(lin).double()
            xd = x.double().requires_grad_(True)
            psi = act(lin64(xd).reshape(-1))
            (g,) = torch.autograd.grad(psi.sum(), xd)
            want = (conj2(psi) * g.pow(2).sum(1)).mean()
            assert got.item() == pytest.approx(want.item(), rel=1e-3)
            with torch.no_grad():
                assert not torch.isfinite(conj2(act(lin(x).reshape(-1)))).all()  # the float32 product form fails here


def test_a_celeba_run_reads_its_images_at_the_authors_crop(tmp_path, monkeypatch):
    """train() hands the resolved crop (178 px, igul222's) to the data set: a dropped argument would crop 108."""
    import numpy as np
    from PIL import Image
    import data as datasets
    folder = tmp_path / "celeba" / "img_align_celeba"
    folder.mkdir(parents=True)
    for i in range(4):
        Image.fromarray(np.zeros((218, 178, 3), np.uint8)).save(folder / f"{i:06d}.jpg")
    crops, load = [], datasets.load
    monkeypatch.setattr(datasets, "load", lambda *a, **kw: crops.append(kw.get("crop")) or load(*a, **kw))
    R.train(R.Config(dataset="celeba", data_root=str(tmp_path), image_size=8, steps=1, batch_size=4, eval_samples=0,
                     log_every=100, sample_every=100, ckpt_every=100, device="cpu", out=str(tmp_path / "r")))
    assert crops[0] == 178
