"""methods/mode_reg.py: the regularizers of eqs. (1)-(2) against hand computations, the mode regularizer's sign,
the encoder's gradient, the separate batch statistics of app. B, the loop's wiring, the grid and Table 2; the
missing-mode metrics (metrics.py) on sets with known answers."""

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn

import common
import data as datasets
import metrics
import nets
from methods import mode_reg as M


def fixed_tensors():
    x = torch.tensor([[1.0, -2.0], [0.5, 0.0], [-1.0, 3.0]])
    rec = torch.tensor([[0.0, -1.0], [0.5, 2.0], [1.0, 1.0]])
    logit_rec = torch.tensor([0.3, -1.2, 2.0])
    logit_fake = torch.tensor([-0.5, 0.7, 0.1])
    return x, rec, logit_rec, logit_fake


# ---------------------------------------------------------------------------
# Eqs. (1)-(2)
# ---------------------------------------------------------------------------


def test_regularizer_matches_a_hand_computation():
    x, rec, logit_rec, _ = fixed_tensors()
    # ||x - rec||^2 per sample: 1 + 1, 0 + 4, 4 + 4 -> mean 14 / 3
    dist = (2.0 + 4.0 + 8.0) / 3
    neg_log_d = np.mean([-math.log(1 / (1 + math.exp(-l))) for l in (0.3, -1.2, 2.0)])
    reg, d_mean, mode = M.regularizer(x, rec, logit_rec, lam1=0.2, lam2=0.4)
    assert float(d_mean) == pytest.approx(dist)
    assert float(mode) == pytest.approx(neg_log_d)
    assert float(reg) == pytest.approx(0.2 * dist + 0.4 * neg_log_d)


def test_t_g_adds_the_generators_gan_loss_and_t_e_is_the_regularizer_alone():
    x, rec, logit_rec, logit_fake = fixed_tensors()
    t_g, t_e, _, _ = M.generator_losses(logit_fake, x, rec, logit_rec, 0.2, 0.4)
    gan = np.mean([math.log(1 + math.exp(-l)) for l in (-0.5, 0.7, 0.1)])  # -log sigmoid(l)
    r = 0.2 * 14 / 3 + 0.4 * np.mean([math.log(1 + math.exp(-l)) for l in (0.3, -1.2, 2.0)])
    assert float(t_e) == pytest.approx(r)
    assert float(t_g) == pytest.approx(gan + r)


def test_distances_pixel_mean_and_features():
    torch.manual_seed(0)
    x, y = torch.randn(4, 1, 8, 8), torch.randn(4, 1, 8, 8)
    loop = torch.tensor([float(((x[i] - y[i]) ** 2).sum()) for i in range(4)])
    assert torch.allclose(M.distance(x, y, "pixel"), loop)
    assert torch.allclose(M.distance(x, y, "mean"), loop / 64)
    d = nets.MLPDiscriminator((1, 8, 8), 16, 2)
    f = lambda v: torch.relu(d.net[2](torch.relu(d.net[0](v.flatten(1)))))  # the last hidden layer, by hand
    assert torch.allclose(M.distance(x, y, "feature", d), ((f(x) - f(y)) ** 2).sum(1), atol=1e-6)
    dc = nets.DCGANDiscriminator(8, 1, 8, "none")
    x16 = torch.randn(3, 1, 8, 8)
    assert M.d_features(dc, x16).shape == (3, 8 * 4 * 4)  # one stride-2 conv of 8 channels at 8 px


def step_on_regularizer(g, e, d, x, lam1, lam2, lr):
    """One SGD step of G and E on the regularizer alone."""
    opt = torch.optim.SGD(list(g.parameters()) + list(e.parameters()), lr=lr)
    rec = g(e(x))
    reg, _, _ = M.regularizer(x, rec, d(rec), lam1=lam1, lam2=lam2)
    opt.zero_grad()
    reg.backward()
    opt.step()


def test_a_step_on_the_mode_regularizer_raises_d_on_the_reconstructions():
    """Deviation 1: the sign the paper means. Descending lambda2 * (-log D(G(E(x)))) makes G(E(x)) look more real."""
    torch.manual_seed(0)
    g, e = nets.MLPGenerator(3, (2,), 16), nets.MLPEncoder((2,), 3, 16)
    d = nets.MLPDiscriminator((2,), 16, 1)
    x = torch.randn(64, 2)
    before = torch.sigmoid(d(g(e(x)))).mean().item()
    step_on_regularizer(g, e, d, x, lam1=0.0, lam2=1.0, lr=0.5)
    assert torch.sigmoid(d(g(e(x)))).mean().item() > before + 1e-3


def test_a_step_on_the_metric_regularizer_lowers_the_reconstruction_error():
    torch.manual_seed(0)
    g, e, d = nets.MLPGenerator(3, (2,), 16), nets.MLPEncoder((2,), 3, 16), nets.MLPDiscriminator((2,), 16, 1)
    x = torch.randn(64, 2)
    err = lambda: float(M.distance(x, g(e(x))).mean().detach())
    before = err()
    step_on_regularizer(g, e, d, x, lam1=1.0, lam2=0.0, lr=0.01)
    assert err() < before


def test_one_backward_of_t_g_gives_e_the_gradient_of_t_e_and_g_the_gradient_of_t_g():
    """Deviation 3: T_G's GAN term does not depend on E."""
    torch.manual_seed(1)
    g, e, d = nets.MLPGenerator(3, (2,), 16), nets.MLPEncoder((2,), 3, 16), nets.MLPDiscriminator((2,), 16, 1)
    x, z = torch.randn(32, 2), torch.rand(32, 3)

    def losses():
        rec = g(e(x))
        return M.generator_losses(d(g(z)), x, rec, d(rec), 0.3, 0.7)[:2]

    t_g, t_e = losses()
    ge = torch.autograd.grad(t_e, list(e.parameters()))
    t_g, _ = losses()
    gg_e = torch.autograd.grad(t_g, list(e.parameters()))
    assert all(torch.allclose(a, b, atol=1e-7) for a, b in zip(ge, gg_e))
    # G's gradient of T_G is that of the GAN term plus that of the regularizer
    t_g, t_e = losses()
    total = torch.autograd.grad(t_g, list(g.parameters()))
    gan = torch.autograd.grad(M.g_loss(d(g(z))), list(g.parameters()))
    rec = g(e(x))
    regg = torch.autograd.grad(M.regularizer(x, rec, d(rec), 0.3, 0.7)[0], list(g.parameters()))
    assert all(torch.allclose(a, b + c, atol=1e-6) for a, b, c in zip(total, gan, regg))


# ---------------------------------------------------------------------------
# App. B: separate batch statistics, the encoder
# ---------------------------------------------------------------------------


def test_split_batch_norm_keeps_each_streams_running_statistics_apart():
    torch.manual_seed(0)
    g = nets.split_batch_norm(nets.DCGANGenerator(8, 16, 1, 8))
    layers = [m for m in g.modules() if isinstance(m, nets.SplitBatchNorm2d)]
    assert len(layers) == 2 and not any(isinstance(m, nn.BatchNorm2d) for m in g.modules())
    snap = lambda s: [getattr(m, f"running_mean_{s}").clone() for m in layers]
    enc0, noise0 = snap("encoder"), snap("noise")
    with nets.batch_norm_stream(g, "noise"):
        g(torch.randn(16, 8) * 3 + 1)
    assert all(torch.equal(a, b) for a, b in zip(enc0, snap("encoder")))  # a noise batch leaves the encoder's alone
    assert not all(torch.equal(a, b) for a, b in zip(noise0, snap("noise")))
    noise1 = snap("noise")
    with nets.batch_norm_stream(g, "encoder"):
        g(torch.randn(16, 8))
    assert all(torch.equal(a, b) for a, b in zip(noise1, snap("noise")))  # and the other way round
    assert not all(torch.equal(a, b) for a, b in zip(enc0, snap("encoder")))
    assert all(m.stream == "noise" for m in layers)  # the block restores the stream


def test_split_batch_norm_in_training_mode_is_batch_norm_with_shared_parameters():
    torch.manual_seed(0)
    bn = nn.BatchNorm2d(4)
    nn.init.normal_(bn.weight, 1.0, 0.3)
    nn.init.normal_(bn.bias, 0.0, 0.3)
    holder = nets.split_batch_norm(nn.Sequential(bn))
    split = holder[0]
    x = torch.randn(8, 4, 3, 3)
    ref = nn.BatchNorm2d(4)
    ref.load_state_dict(bn.state_dict())
    with nets.batch_norm_stream(holder, "encoder"):
        out = split(x)
    assert torch.allclose(out, ref(x), atol=1e-6)
    assert torch.allclose(split.running_mean_encoder, ref.running_mean) and split.weight is not bn.weight
    assert torch.equal(split.weight, bn.weight)
    # eval mode: each stream normalizes with its own running statistics
    split.eval()
    with nets.batch_norm_stream(holder, "noise"):
        out_noise = split(x)
    with nets.batch_norm_stream(holder, "encoder"):
        out_enc = split(x)
    ref.eval()
    assert torch.allclose(out_enc, ref(x), atol=1e-6) and not torch.allclose(out_noise, out_enc)


def test_dcgan_encoder_mirrors_the_generator():
    for size in (8, 16, 32):
        g, e = nets.DCGANGenerator(20, size, 3, 8), nets.DCGANEncoder(20, size, 3, 8)
        assert e(torch.randn(5, 3, size, size)).shape == (5, 20)
        bn = lambda m: sum(isinstance(k, nn.BatchNorm2d) for k in m.modules())
        convs = lambda m, t: sum(isinstance(k, t) for k in m.modules())
        assert bn(e) == bn(g) and convs(e, nn.Conv2d) == convs(g, nn.ConvTranspose2d)


def test_generator_batches_use_their_own_streams_in_the_loop(tmp_path, monkeypatch):
    seen = []
    real_forward = nets.SplitBatchNorm2d.forward

    def spy(self, x):
        seen.append((self.stream, len(x)))
        return real_forward(self, x)

    monkeypatch.setattr(nets.SplitBatchNorm2d, "forward", spy)
    M.train(M.Config(dataset="digits", steps=1, batch_size=8, g_width=8, d_width=8, log_every=1, eval_samples=0,
                     out=str(tmp_path / "r")))
    # step 1: D's fake batch (noise), G's noise batch, G(E(x)) (encoder); one BN layer in G at 8 px
    assert seen[:3] == [("noise", 8), ("noise", 8), ("encoder", 8)]  # never a mixed batch


# ---------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------


def toy_config(tmp_path, **kw):
    base = dict(steps=6, batch_size=32, g_width=16, d_width=16, heat_steps=(0, 3, 6), log_every=3,
                eval_samples=200, out=str(tmp_path / "r"))
    return M.Config(**{**base, **kw})


def test_resolve_gives_the_papers_toy_and_image_settings():
    t = M.resolve(M.Config())
    assert (t.arch, t.prior, t.lam1, t.lam2, t.g_layers, t.d_layers, t.g_width, t.d_width, t.lr, t.batch_size,
            t.z_dim) == ("mlp", "uniform", 0.005, 0.005, 2, 1, 128, 128, 1e-4, 512, 3)
    i = M.resolve(M.Config(dataset="mnist"))
    assert (i.arch, i.prior, i.lam1, i.lam2, i.lr, i.batch_size, i.z_dim) == ("dcgan", "normal", 0.2, 0.4, 2e-4, 64,
                                                                               100)
    m = M.resolve(M.Config(dataset="mnist", arch="mlp"))
    assert (m.g_layers, m.d_layers, m.g_width, m.d_width) == (3, 3, 800, 512)
    assert M.resolve(M.Config(lam1=0.0, lam2=0.0)).lam1 == 0.0  # 0 is a weight, -1 the default


def test_d_is_the_squared_distance_summed_over_the_pixels_by_default():
    """Deviation 2, measured: with the per-pixel mean, lambda1 d stays a few percent of the GAN term and MDGAN
    collapses; the paper's lambdas fit the sum (app. A's ||x - G(E(x))||^2). `--distance mean` keeps the other;
    MDGAN resolves as Reg-GAN."""
    from methods import mdgan
    assert M.resolve(M.Config()).distance == "pixel"  # ring6: ||x - y||^2 of 2-D points
    for name in ("digits", "mnist", "compositional_digits", "celeba"):
        assert M.resolve(M.Config(dataset=name)).distance == "pixel", name
        assert mdgan.resolve(mdgan.Config(dataset=name)).distance == "pixel", name
    assert M.resolve(M.Config(dataset="mnist", distance="mean")).distance == "mean"
    assert mdgan.resolve(mdgan.Config(dataset="mnist", distance="mean")).distance == "mean"


def test_the_gan_term_and_each_regularizer_term_are_logged(tmp_path):
    """gan_term = -E log D(G(z)), metric_term = lambda1 d, mode_term = lambda2 (-log D(G(E(x)))): T_G = gan_term +
    T_E, and the two regularizer terms add up to T_E, at every logged step (the scale measurement of deviation 2)."""
    M.train(M.Config(dataset="compositional_digits", image_size=16, g_width=8, d_width=8, steps=3, batch_size=8,
                     log_every=1, eval_samples=0, out=str(tmp_path / "r")))
    rows = [json.loads(l) for l in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 3
    for r in rows:
        assert r["gan_term"] == pytest.approx(r["loss_g"] - r["loss_e"], rel=1e-5, abs=1e-5)
        assert r["metric_term"] == pytest.approx(0.2 * r["rec_distance"], rel=1e-6)
        assert r["mode_term"] == pytest.approx(0.4 * r["rec_neg_log_d"], rel=1e-6)
        assert r["metric_term"] + r["mode_term"] == pytest.approx(r["loss_e"], rel=1e-5)
        assert r["rec_distance"] > 4  # summed over 256 pixels of images in [-1, 1], not their mean


def test_a_short_toy_run_keeps_heatmaps_and_modes_over_time(tmp_path):
    s = M.train(toy_config(tmp_path))
    assert [r["step"] for r in s["over_time"]] == [0, 3, 6]
    for step in (0, 3, 6):
        assert np.load(tmp_path / "r" / f"heat_{step}.npz")["fixed"].shape == (200, 2)
    assert (tmp_path / "r" / "heatmaps.png").exists()
    assert s["model"] == "reg" and s["lam1"] == 0.005 and s["prior"] == "uniform"
    logged = [json.loads(l) for l in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert all(r["rec_distance"] > 0 and r["rec_neg_log_d"] > 0 and r["loss_e"] > 0 for r in logged)
    fixed = np.load(tmp_path / "r" / "heat_0.npz")["fixed"]
    assert s["over_time"][0] == {"step": 0, **metrics.toy_metrics(fixed, datasets.toy("ring6", "cpu").centers, 0.1)}


def test_the_uniform_prior_reaches_the_generator(tmp_path, monkeypatch):
    zs = []
    real_forward = nets.MLPGenerator.forward
    monkeypatch.setattr(nets.MLPGenerator, "forward", lambda self, z: zs.append(z) or real_forward(self, z))
    M.train(toy_config(tmp_path, steps=2, heat_steps=()))
    noise = [z for z in zs if z.grad_fn is None]  # not E's outputs
    assert len(noise) >= 4
    assert noise and all(float(z.min()) >= 0 and float(z.max()) <= 1 for z in noise)


def test_the_encoder_stays_in_the_uniform_priors_support(tmp_path):
    cfg = M.resolve(M.Config(g_width=16, d_width=16))
    assert cfg.encoder_out == "sigmoid" and M.resolve(M.Config(dataset="digits")).encoder_out == "linear"
    _, _, e, _ = M.make_nets(cfg, datasets.toy("ring6", "cpu"), cfg.z_dim)
    codes = e(torch.randn(500, 2) * 10).detach()
    assert codes.shape == (500, 3) and float(codes.min()) >= 0 and float(codes.max()) <= 1
    _, _, e, _ = M.make_nets(M.resolve(M.Config(g_width=16, encoder_out="linear")), datasets.toy("ring6", "cpu"), 3)
    assert float(e(torch.randn(500, 2) * 10).detach().abs().max()) > 1


def test_each_network_is_updated_by_its_own_loss(tmp_path, monkeypatch):
    """D by the GAN loss on real and G(z) only; G by T_G; E by T_E (and not at all in the GAN)."""
    record = []
    real_make_optim = M.make_optim

    def spy(name, params, cfg):
        params = list(params)
        opt = real_make_optim(name, params, cfg)
        step = opt.step
        opt.step = lambda *a, **k: record.append((params[0].shape, [p.grad.clone() for p in params])) or step(*a, **k)
        return opt

    calls = {"d": [], "g": []}
    real_d_loss, real_gl = M.d_loss, M.generator_losses
    monkeypatch.setattr(M, "make_optim", spy)
    monkeypatch.setattr(M, "d_loss", lambda r, f: calls["d"].append((r.shape, f.shape)) or real_d_loss(r, f))
    monkeypatch.setattr(M, "generator_losses", lambda *a, **k: calls["g"].append((a[4], a[5])) or real_gl(*a, **k))
    M.train(toy_config(tmp_path, steps=2, d_steps=3, heat_steps=(), lam1=0.25, lam2=0.5))
    assert calls["d"] == [(torch.Size([32]), torch.Size([32]))] * 6 and calls["g"] == [(0.25, 0.5)] * 2
    shapes = [s for s, _ in record]
    d_in, g_in, e_in = torch.Size([16, 2]), torch.Size([16, 3]), torch.Size([16, 2])
    # per step: 3 D steps, then G and E (E's first layer is 2 -> 16, as D's: told apart by order)
    assert shapes == [d_in] * 3 + [g_in, e_in] + [d_in] * 3 + [g_in, e_in]
    record.clear()
    M.train(toy_config(tmp_path, steps=2, heat_steps=(), model="gan", overwrite=True))
    assert [s for s, _ in record] == [d_in, g_in, d_in, g_in]  # the GAN never steps E


def test_g_and_e_steps_use_the_gradients_of_t_g_and_t_e(tmp_path, monkeypatch):
    expected, used, params_of = [], [], {}
    real_gl, real_make_optim = M.generator_losses, M.make_optim

    def spy_gl(*a, **k):
        t_g, t_e, dist, mode = real_gl(*a, **k)
        expected.append({"g": [x.clone() for x in torch.autograd.grad(t_g, params_of["g"], retain_graph=True)],
                         "e": [x.clone() for x in torch.autograd.grad(t_e, params_of["e"], retain_graph=True)]})
        return t_g, t_e, dist, mode

    def spy_optim(name, params, cfg):
        params = list(params)
        key = ["g", "d", "e"][len(params_of)]  # train() builds G's, D's, then E's optimizer
        params_of[key] = params
        opt = real_make_optim(name, params, cfg)
        step = opt.step
        opt.step = lambda *a, **k: used.append((key, [p.grad.clone() for p in params])) or step(*a, **k)
        return opt

    monkeypatch.setattr(M, "generator_losses", spy_gl)
    monkeypatch.setattr(M, "make_optim", spy_optim)
    M.train(toy_config(tmp_path, steps=3, heat_steps=()))
    steps = [dict(used[i:i + 3][1:]) for i in range(0, len(used), 3)]  # per step: D, then G and E
    assert [k for k, _ in used] == ["d", "g", "e"] * 3 and len(expected) == 3
    for got, want in zip(steps, expected):
        for k in ("g", "e"):
            assert all(torch.allclose(a, b, atol=1e-7) for a, b in zip(got[k], want[k]))


def test_the_loop_passes_real_data_its_reconstruction_and_d_on_it(tmp_path, monkeypatch):
    """generator_losses gets (D(G(z)), x, G(E(x)), D(G(E(x))), lambda1, lambda2, --distance, D) from the loop."""
    built, checked = {}, []
    real_make_nets, real_gl = M.make_nets, M.generator_losses

    def spy_nets(*a):
        built["g"], built["d"], built["e"], norm = real_make_nets(*a)
        return built["g"], built["d"], built["e"], norm

    def spy_gl(logit_fake, x, rec, logit_rec, lam1, lam2, kind, d):
        g, e = built["g"], built["e"]
        with torch.no_grad():
            assert torch.allclose(rec, g(e(x)), atol=1e-6) and torch.allclose(logit_rec, d(rec), atol=1e-6)
            assert d is built["d"] and logit_fake.shape == (32,) and not torch.allclose(logit_fake, logit_rec)
        ring = datasets.toy("ring6", "cpu")
        assert metrics.nearest_mode(x.numpy(), ring.centers)[1].max() < 1.0  # x is real data
        checked.append(kind)
        return real_gl(logit_fake, x, rec, logit_rec, lam1, lam2, kind, d)

    monkeypatch.setattr(M, "make_nets", spy_nets)
    monkeypatch.setattr(M, "generator_losses", spy_gl)
    M.train(toy_config(tmp_path, steps=2, heat_steps=(), distance="feature"))
    assert checked == ["feature", "feature"]


def test_the_third_party_d_has_the_runs_architecture_without_normalization(tmp_path, monkeypatch, digits_classifiers):
    seen = []
    real = metrics.missing_mode_estimate
    monkeypatch.setattr(metrics, "missing_mode_estimate", lambda d, *a: seen.append((d, a[3])) or real(d, *a))
    M.train(M.Config(dataset="digits", image_size=16, steps=1, batch_size=16, g_width=8, d_width=8, log_every=1,
                     eval_samples=64, third_party_sigma=(0.5, 1.0), third_party_steps=2, out=str(tmp_path / "r"),
                     data_root=str(digits_classifiers.parent)))  # the session's classifiers: no 16 px fit here
    assert [sigma for _, sigma in seen] == [0.5, 1.0]
    for d, _ in seen:
        assert isinstance(d, nets.DCGANDiscriminator)
        assert not any(isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) for m in d.modules())
        assert sum(isinstance(m, nn.Conv2d) for m in d.modules()) == 3  # 16 px: the run's D has 3 convolutions


def test_an_image_run_scores_compositional_digits_with_the_real_reference(tmp_path):
    s = M.train(M.Config(dataset="compositional_digits", image_size=16, steps=2, batch_size=16, g_width=8,
                         d_width=8, log_every=2, eval_samples=300, third_party_sigma=(0.5,), third_party_steps=3,
                         digit_weights=tuple(M.SETS["set4"]), out=str(tmp_path / "r")))
    for k in ("missed_modes", "kl_modes", "kl_train_modes", "real_missed_modes", "real_kl_train_modes",
              "rec_distance_final", "missing_sigma0.5"):
        assert k in s, k
    assert s["real_missed_modes"] < s["missed_modes"] and s["third_party_images"] == 300
    assert s["digit_weights"] == pytest.approx(np.array(M.SETS["set4"]) / sum(M.SETS["set4"]))
    assert s["third_party_test"].startswith("held-out digit images")
    p = np.array(M.SETS["set4"]) / sum(M.SETS["set4"])
    floor = sum((1 - p[a] * p[b] * p[c]) ** 304 for a in range(10) for b in range(10) for c in range(10))
    assert s["perfect_missed_modes"] == pytest.approx(floor, rel=1e-9)  # at the count scored: 300 in whole batches of 16


def test_the_third_party_d_trains_on_the_rest_and_scores_held_out_digit_images(tmp_path, monkeypatch):
    """Composed sets (deviation 9): the third-party D's real images are composed from four fifths of each class's
    base images, the test images it scores from the other fifth, which it never trained on. Here the two parts
    are marked (images of 0 and of 1) to follow them through the run."""
    seen = {}
    monkeypatch.setattr(metrics, "missing_mode_estimate", lambda d, train, fake, test, *a: seen.update(
        train=train, test=test) or {"missing": 0, "scores": np.zeros(len(test))})
    splits = []

    class Marked:
        def __init__(self, value):
            self.value = value

        def sample(self, n):
            return torch.full((n, 1, 16, 16), self.value)

    def split(self, held_out=0.2, seed=0):
        splits.append((held_out, seed))
        return Marked(0.0), Marked(1.0)

    monkeypatch.setattr(datasets.Composed, "split", split)
    s = M.train(M.Config(dataset="compositional_digits", image_size=16, steps=1, batch_size=16, g_width=8,
                         d_width=8, log_every=1, eval_samples=40, third_party_sigma=(0.5,), third_party_steps=1,
                         out=str(tmp_path / "r")))
    assert splits == [(0.2, 0)] and s["third_party_images"] == 40
    assert seen["train"].shape[0] == 40 and bool((seen["train"] == 0).all())
    assert seen["test"].shape[0] == 40 and bool((seen["test"] == 1).all())


def test_composed_split_keeps_a_fifth_of_each_class_apart():
    ds = datasets.load("compositional_digits", image_size=16, digit_weights=M.SETS["set2"])
    rest, held = ds.split(0.2, seed=0)
    for full, a, b in zip(ds.by_class, rest.by_class, held.by_class):
        assert len(b) == round(0.2 * len(full)) and not set(a.tolist()) & set(b.tolist())
        assert sorted(a.tolist() + b.tolist()) == sorted(full.tolist())
    assert rest.digit_weights == pytest.approx(ds.digit_weights) and ds.by_class[0] is not rest.by_class[0]
    x, labels = held.sample_labelled(5)
    assert x.shape == (5, 1, 16, 16) and labels.shape == (5,)
    assert [t.tolist() for t in ds.split(0.2, seed=0)[1].by_class] == [t.tolist() for t in held.by_class]  # fixed


def test_the_third_party_d_scores_celeba_test_partition_and_trains_on_the_others(tmp_path):
    """CelebA's list_eval_partition.txt (0 train, 1 valid, 2 test): the D's real images come from partitions 0 and 1,
    the images it scores from 2; without the file, fresh draws of the training images, said so."""
    from PIL import Image
    folder = tmp_path / "celeba" / "img_align_celeba"
    folder.mkdir(parents=True)
    part = {f"{i:06d}.jpg": str(i % 3) for i in range(1, 10)}  # 2, 5, 8 in the test partition
    for i, name in enumerate(sorted(part), 1):
        Image.new("RGB", (120, 120), (20 * i, 20 * i, 20 * i)).save(folder / name, quality=100)
    (tmp_path / "celeba" / "list_eval_partition.txt").write_text("".join(f"{n} {p}\n" for n, p in part.items()))
    level = lambda x: sorted({round(float(v)) for v in ((x.mean((1, 2, 3)) + 1) * 127.5 / 20)})
    cfg = M.Config(dataset="celeba", data_root=str(tmp_path), image_size=16, batch_size=4, crop=0)
    data = datasets.load("celeba", tmp_path, image_size=16, workers=0)
    fit, test, what = M.third_party_data(cfg, data, torch.device("cpu"), 3)
    assert what.startswith("test partition") and level(test) == [2, 5, 8]  # the three test images, each once
    assert set(level(fit.sample(40))) == {1, 3, 4, 6, 7, 9}
    assert len(datasets.load("celeba", tmp_path, image_size=16, split="test", workers=0)) == 3
    assert len(datasets.load("celeba", tmp_path, image_size=16, split="trainval", workers=0)) == 6
    assert len(data) == 9  # the generators train on every image
    (tmp_path / "celeba" / "list_eval_partition.txt").unlink()
    fit, test, what = M.third_party_data(cfg, data, torch.device("cpu"), 3)
    assert what.startswith("fresh samples") and fit is data and len(test) == 3
    with pytest.raises(common.UserError, match="list_eval_partition"):
        datasets.load("celeba", tmp_path, split="test", workers=0)


def test_bad_settings_are_refused(tmp_path):
    for bad in (dict(model="wgan"), dict(distance="l1"), dict(opt_g="rmsprop"), dict(dropout=1.0),
                dict(prior="cauchy"), dict(third_party_threshold=1.0), dict(d_steps=0), dict(lam1=-0.5),
                dict(arch="dcgan")):
        with pytest.raises(common.UserError):
            M.train(toy_config(tmp_path, **bad))
    with pytest.raises(common.UserError, match="digit-weights"):
        M.train(toy_config(tmp_path, digit_weights=(1.0,) * 10))


# ---------------------------------------------------------------------------
# Sec. 4.1.1 grid and Table 2
# ---------------------------------------------------------------------------


def test_grid_points_cover_table_1():
    full = M.grid_points("full")
    assert len(full) == 3 * 3 * 4 * 3 * 2 * 2 * 2 * 3 == 2592
    assert len({json.dumps(p, sort_keys=True) for p in full}) == 2592
    small = M.grid_points("small", 24)
    assert len(small) == 24 and all(p in full for p in small) and small == M.grid_points("small", 24)
    cfg = M.point_config(small[0], "reg", 0.25, M.Config(dataset="digits"))
    assert cfg.arch == "mlp" and cfg.g_width == round(small[0]["g_width"] / 4) and cfg.lr == small[0]["lr"]
    assert cfg.dropout == (0.5 if small[0]["dropout"] else 0.0)


def test_grid_runs_both_models_per_point_skips_finished_runs_prints_commands_and_makes_one_run(tmp_path, capsys):
    base = M.Config(dataset="digits", steps=2, batch_size=16, log_every=2, eval_samples=100, device="cpu",
                    out=str(tmp_path / "grid"))
    res = M.grid(tmp_path / "grid", base, "small", 2, 0.05)
    assert len(res["runs"]["gan"]) == len(res["runs"]["reg"]) == 2
    assert (tmp_path / "grid" / "fig3.png").exists() and "Reg-GAN" in (tmp_path / "grid" / "grid.md").read_text()
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "grid").glob("*/summary.json")}
    M.grid(tmp_path / "grid", base, "small", 2, 0.05)
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "grid").glob("*/summary.json")} == before
    capsys.readouterr()
    M.grid(tmp_path / "grid", base, "small", 2, 0.05, print_only=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and all(l.startswith(f"{sys.executable} -m methods.mode_reg ") for l in lines)
    # a printed command rebuilds the same config
    args = lines[1].split()[3:]
    cfg = common.parse_config(M.Config, M.__doc__, args)
    expected = M.point_config(M.grid_points("small", 2)[0], "reg", 0.05, base)
    assert cfg == M.dataclasses.replace(expected, out=cfg.out, resume=True) and cfg.out.endswith("-reg")
    # make's file target for one run: `grid --only <run>`, the run named by `grid --list`, made as the whole grid made it
    M.grid(tmp_path / "one", base, "small", 2, 0.05, list_only=True)
    listed = capsys.readouterr().out.split()
    assert listed == [f"{tmp_path / 'one'}/{p.name}" for p in sorted((tmp_path / "grid").glob("p*"))]
    assert len(listed) == 4 and not (tmp_path / "one").exists()
    name = Path(listed[1]).name
    M.grid(tmp_path / "one", base, "small", 2, 0.05, only=name)
    assert [p.name for p in (tmp_path / "one").iterdir()] == [name]  # that run only, and no grid.md
    whole, one = (json.loads((d / name / "summary.json").read_text()) for d in (tmp_path / "grid", tmp_path / "one"))
    assert {k: v for k, v in whole.items() if k not in ("seconds", "out")} == \
        {k: v for k, v in one.items() if k not in ("seconds", "out")}
    with pytest.raises(common.UserError, match="--list"):
        M.grid(tmp_path / "one", base, "small", 2, 0.05, only="p0009-not-a-run-gan")


def test_table_averages_over_seeds_per_set_and_model(tmp_path):
    names = (("set1-gan-s0", 100, 2.0), ("set1-gan-s1", 200, 4.0), ("set1-reg-s0", 50, 1.0), ("set1-reg-pixel-s0", 70, 1.5))
    for name, miss, kl in names:
        (tmp_path / name).mkdir()
        common.write_json(tmp_path / name / "summary.json", {"missed_modes": miss, "kl_train_modes": kl,
                                                              "kl_modes": kl / 2, "real_missed_modes": 10,
                                                              "real_kl_train_modes": 0.1, "real_kl_modes": 0.05,
                                                              "perfect_missed_modes": 0.05})
    M.table([tmp_path / n for n, *_ in names], tmp_path / "out")
    text = (tmp_path / "out" / "table2.md").read_text()
    assert "| DCGAN | 150.0 ± 50.0 | 3.000 ± 1.000 (1.500) |" in text
    assert "| Reg-DCGAN | 50.0 ± 0.0 | 1.000 ± 0.000 (0.500) |" in text
    assert "| Reg-DCGAN (d pixel) | 70.0 ± 0.0 | 1.500 ± 0.000 (0.750) |" in text
    assert "| real data | 10.0 ± 0.0 | 0.100 ± 0.000 (0.050) |" in text
    assert "| perfect sampler | 0.05 ± 0.00 |  |" in text


# ---------------------------------------------------------------------------
# The missing-mode metrics (metrics.py)
# ---------------------------------------------------------------------------


def test_kl_train_smoothed_matches_a_hand_computation():
    counts, p = np.array([3, 0, 1]), np.array([0.5, 0.25, 0.25])
    q = np.array([4, 1, 2]) / 7
    assert metrics.kl_train_smoothed(counts, p) == pytest.approx(float(np.sum(p * np.log(p / q))))
    assert metrics.kl_train_smoothed(np.array([0, 50, 50]), p) > metrics.kl_train_smoothed(np.array([50, 25, 25]), p)


def test_composed_modes_on_sets_with_known_numbers(monkeypatch):
    """The counting behind #Miss and the KLs, with the classifier replaced by one that reads known digits."""
    ds = datasets.load("compositional_digits", image_size=32, digit_weights=[1.0] * 10)
    numbers = np.array([7] * 50 + [123] * 30 + [999] * 20)
    digits = np.stack([numbers // 100, numbers // 10 % 10, numbers % 10], 1).reshape(-1)
    monkeypatch.setattr(metrics, "predict_probs", lambda clf, x: np.eye(10)[digits])
    s = metrics.composed_modes(ds, torch.zeros(100, 1, 32, 32), "data")
    q = np.array([0.5, 0.3, 0.2])
    assert s["modes"] == 3 and s["missed_modes"] == 997
    assert s["kl_modes"] == pytest.approx(float(np.sum(q * np.log(q / 1e-3))))
    counts = np.zeros(1000)
    counts[[7, 123, 999]] = [50, 30, 20]
    assert s["kl_train_modes"] == pytest.approx(metrics.kl_train_smoothed(counts, np.full(1000, 1e-3)))


def digit_split(seed=0):
    x, y = datasets.load_digits_tensor()
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    return x[perm[:1400]], y[perm[:1400]], x[perm[1400:]], y[perm[1400:]]


def third_party(train, fake, test, seed=0):
    d = nets.MLPDiscriminator((1, 8, 8), 64, 2)
    return metrics.missing_mode_estimate(d, train, fake, test, sigma=0.3, steps=600, batch_size=64, lr=1e-3,
                                         seed=seed)


def test_third_party_d_places_about_nothing_on_missing_modes_of_an_identical_set():
    x, _, test, _ = digit_split()
    fake = x[torch.randperm(len(x), generator=torch.Generator().manual_seed(1))]  # the same images, another order
    est = third_party(x, fake, test)
    assert est["fraction"] < 0.03 and len(est["scores"]) == len(test)


def test_third_party_d_finds_a_removed_class():
    x, y, test, ty = digit_split()
    fake = x[y != 3]
    est = third_party(x, fake, test)
    flagged = est["scores"] > 0.9
    assert flagged[(ty == 3).numpy()].mean() > 0.5  # most test threes are on a missing mode
    assert flagged[(ty != 3).numpy()].mean() < 0.05  # few others
    assert est["missing"] == int(flagged.sum())


def test_third_party_d_leaves_the_callers_rng_alone():
    x, _, test, _ = digit_split()
    d = nets.MLPDiscriminator((1, 8, 8), 8, 1)
    torch.manual_seed(5)
    a = torch.rand(3)
    torch.manual_seed(5)
    metrics.missing_mode_estimate(d, x, x, test, 0.1, steps=3)
    assert torch.equal(torch.rand(3), a)


def test_third_party_d_trains_on_inputs_with_noise_of_std_sigma_and_scores_clean_ones():
    seen = []

    class Recorder(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 1)

        def forward(self, x):
            seen.append((self.training, x.detach().clone()))
            return self.lin(x).squeeze(1)

    zeros = torch.zeros(256, 4)
    metrics.missing_mode_estimate(Recorder(), zeros, zeros, zeros[:10], sigma=2.5, steps=3, batch_size=128)
    train_inputs = torch.cat([x for training, x in seen if training])
    assert len(train_inputs) == 3 * 2 * 128 and float(train_inputs.std()) == pytest.approx(2.5, rel=0.05)
    scored = [x for training, x in seen if not training]
    assert len(scored) == 1 and torch.equal(scored[0], zeros[:10])


# ---------------------------------------------------------------------------
# Call sites: train()'s steps (tests/tap.py records the real loop's optimizer steps)
# ---------------------------------------------------------------------------

import copy  # noqa: E402

import torch.nn.functional as F  # noqa: E402

from tests import tap  # noqa: E402

LAMS = dict(lam1=0.05, lam2=0.5)  # each of T_G's three terms of the same order at the start on ring8


def reg_steps(root, name, n_steps, **kw):
    base = dict(dataset="ring8", steps=50, batch_size=32, g_width=32, d_width=32, heat_steps=(), log_every=1,
                sample_every=10**6, ckpt_every=10**6, eval_samples=0, device="cpu", out=str(root / name), **LAMS)
    return tap.record(M, M.Config(**{**base, **kw}), n_steps)


@pytest.fixture(scope="module")
def reg(tmp_path_factory):
    """Same seed, same batches: the regularized run (pixel and feature distance), each term off, both off, the GAN."""
    root = tmp_path_factory.mktemp("reg")
    runs = {"a": reg_steps(root, "a", 4), "f": reg_steps(root, "f", 4, distance="feature"),
            "no_dist": reg_steps(root, "no_dist", 3, lam1=0.0), "no_mode": reg_steps(root, "no_mode", 3, lam2=0.0),
            "off": reg_steps(root, "off", 3, lam1=0.0, lam2=0.0), "gan": reg_steps(root, "gan", 3, model="gan")}
    runs["logged"] = {k: common.read_jsonl(root / k / "metrics.jsonl")[0] for k in ("a", "f")}
    return runs


def nets_at_g_step(steps):
    """(x, z, G, D, E) as G's first step saw them: its real and latent batches, D after D's step, E before its own."""
    sd, sg, se = tap.first(steps, "d"), tap.first(steps, "g"), tap.first(steps, "e")
    return tap.one(sg, "e", "real"), tap.one(sg, "g", "z"), sg.before, sd.after, se.before


def features(d, x):
    """The toy D's last hidden layer (one hidden ReLU layer), by hand."""
    return torch.relu(d.net[0](x))


def oracle_reg(g, d, e, x, lam1, lam2, kind):
    """Eq. (2) as meant (deviation 1): lambda1 d(x, G(E(x))) - lambda2 log D(G(E(x))), sample by sample."""
    rec = g(e(x))
    diff = features(d, x) - features(d, rec) if kind == "feature" else x - rec
    dist = torch.stack([(row ** 2).sum() for row in diff]).mean()
    mode = -torch.log(torch.sigmoid(d(rec))).mean()
    return lam1 * dist + lam2 * mode, dist, mode


def test_call_sites_reg_steps_d_g_e_and_the_gan_never_e(reg):
    """E never stepped (or stepped in the GAN baseline), a net stepped twice or out of order: red."""
    assert [s.name for s in reg["a"]] == ["d", "g", "e", "d"]
    assert [s.name for s in reg["gan"]] == ["d", "g", "d"]
    se = tap.first(reg["a"], "e")
    assert tap.has_grad(se.grads) and tap.changed(dict(se.before.named_parameters()), dict(se.after.named_parameters()))


def test_call_sites_d_step_raises_its_margin_on_real_against_g_z(reg):
    """D's real and fake swapped, D trained on reconstructions, or G's loss leaking into D's gradient: red."""
    for run in ("a", "f", "gan"):
        sd, sg = tap.first(reg[run], "d"), tap.first(reg[run], "g")
        assert [kd for kd, _ in sd.calls["d"]] == ["real", "fake"], run  # deviation 3: D never sees G(E(x))
        real, fake = tap.one(sd, "d", "real"), tap.one(sd, "d", "fake")
        margin = lambda d: (d(real).mean() - d(fake).mean()).item()
        assert margin(sd.after) > margin(sd.before), run
        tap.assert_grads_close(sd.grads, tap.grads_of(sd.before, lambda d: F.softplus(-d(real.double())).mean()
                                              + F.softplus(d(fake.double())).mean()))
        assert not tap.changed(sd.grads, sg.others["d"]), f"{run}: G's loss reached D"
        if run != "gan":
            assert not tap.changed(sd.grads, tap.first(reg[run], "e").others["d"]), f"{run}: E's loss reached D"


def test_call_sites_g_step_with_the_regularizer_off_is_the_gans_and_raises_d_on_g_z(reg):
    """G's GAN term on reconstructions (or anything of E's in it), or the GAN term's sign: red."""
    x, z, g, d, e = nets_at_g_step(reg["off"])
    sg = tap.first(reg["off"], "g")
    with torch.no_grad():
        assert d(sg.after(z)).mean() > d(g(z)).mean()
    tap.assert_grads_close(sg.grads, tap.grads_of(g, lambda g: -torch.log(torch.sigmoid(tap.double(d)(g(z.double())))).mean()))
    assert not tap.changed(sg.grads, tap.first(reg["gan"], "g").grads)  # the baseline: the same step
    assert not tap.has_grad(tap.first(reg["off"], "e").grads), "with lambda1 = lambda2 = 0 nothing reaches E"


def test_call_sites_each_regularizer_term_reaches_g_and_e(reg):
    """A term cut from G or E (rec.detach(), D(rec.detach()), D(G(z)) as the mode term, a zero weight): red."""
    assert not tap.changed(tap.first(reg["a"], "d").grads, tap.first(reg["no_mode"], "d").grads)  # same start
    for off in ("no_dist", "no_mode"):
        for net in ("g", "e"):
            assert tap.changed(tap.first(reg["a"], net).grads, tap.first(reg[off], net).grads), (off, net)
    for run in ("no_dist", "no_mode", "a"):
        assert tap.has_grad(tap.first(reg[run], "e").grads), run


@pytest.mark.parametrize("run,kind", [("a", "pixel"), ("f", "feature")])
def test_call_sites_g_and_e_gradients_are_eqs_1_and_2_on_the_loops_batches(reg, run, kind):
    """T_G and T_E written from the paper on the batches the loop drew: any input, weight, flag or cut wrong: red."""
    x, z, g, d, e = nets_at_g_step(reg[run])
    x, z, d = x.double(), z.double(), tap.double(d)
    gan = lambda g: -torch.log(torch.sigmoid(d(g(z)))).mean()
    tap.assert_grads_close(tap.first(reg[run], "g").grads,
                       tap.grads_of(g, lambda g: gan(g) + oracle_reg(g, d, tap.double(e), x, **LAMS, kind=kind)[0]))
    tap.assert_grads_close(tap.first(reg[run], "e").grads,
                       tap.grads_of(e, lambda e: oracle_reg(tap.double(g), d, e, x, **LAMS, kind=kind)[0]))


def test_call_sites_e_step_lowers_the_distance_and_raises_d_on_reconstructions(reg):
    """E's step on the distance alone lowers d(x, G(E(x))), on the mode term alone lowers -log D(G(E(x))):
    a sign or a cut on E's path: red."""
    for run, term in (("no_mode", 1), ("no_dist", 2)):
        x, _, g, d, e = nets_at_g_step(reg[run])
        after = tap.first(reg[run], "e").after
        with torch.no_grad():
            assert oracle_reg(g, d, after, x, 1.0, 1.0, "pixel")[term] < oracle_reg(g, d, e, x, 1.0, 1.0, "pixel")[term]


@pytest.mark.parametrize("run,kind", [("a", "pixel"), ("f", "feature")])
def test_call_sites_logged_rec_metrics_are_g_steps_distance_and_minus_log_d(reg, run, kind):
    """rec_distance and rec_neg_log_d logged from another batch, net or distance than G's step used: red."""
    x, _, g, d, e = nets_at_g_step(reg[run])
    with torch.no_grad():
        _, dist, mode = oracle_reg(g, d, e, x, 1.0, 1.0, kind)
    logged = reg["logged"][run]
    assert logged["step"] == 1
    assert logged["rec_distance"] == pytest.approx(float(dist), rel=1e-5)
    assert logged["rec_neg_log_d"] == pytest.approx(float(mode), rel=1e-5)


def reset_split_batch_norm(g):
    for m in g.modules():
        if isinstance(m, nets.SplitBatchNorm2d):
            for s in m.streams:
                getattr(m, f"running_mean_{s}").zero_()
                getattr(m, f"running_var_{s}").fill_(1.0)
    return g


def test_call_sites_g_batches_update_their_own_batch_norm_statistics(tmp_path):
    """App. B: G(z) batches update the noise statistics, G(E(x)) the encoder ones (a stream swapped: red)."""
    steps = tap.record(M, M.Config(dataset="digits", steps=5, batch_size=8, g_width=8, d_width=8, log_every=100,
                                   sample_every=10**6, ckpt_every=10**6, eval_samples=0, out=str(tmp_path / "r")), 2)
    sd, sg = tap.first(steps, "d"), tap.first(steps, "g")
    replay = reset_split_batch_norm(copy.deepcopy(sg.before)).train()  # G's weights have not moved yet
    with torch.no_grad():
        with nets.batch_norm_stream(replay, "noise"):
            replay(tap.one(sd, "g", "z")), replay(tap.one(sg, "g", "z"))  # D's G(z), then G's
        with nets.batch_norm_stream(replay, "encoder"):
            replay(tap.one(sg, "g", "out:e"))  # G(E(x))
    got, want = dict(sg.before.named_buffers()), dict(replay.named_buffers())
    assert any("encoder" in k for k in want) and any("noise" in k for k in want)
    for k in want:
        assert torch.allclose(got[k], want[k], atol=1e-6), k


def test_table_2_digit_sets_are_the_documented_distributions():
    """The docstring's sets: 1 uniform, 2 p(d) ~ d + 10, 3 p(d) ~ 0.92^d, 4 digits 0 and 1 at 0.55 of the others."""
    norm = lambda w: np.asarray(w, float) / np.sum(w)
    assert np.allclose(norm(M.SETS["set1"]), 0.1)
    assert np.allclose(norm(M.SETS["set2"]), (np.arange(10) + 10) / 145)
    assert np.allclose(norm(M.SETS["set3"]), 0.92 ** np.arange(10) / np.sum(0.92 ** np.arange(10)))
    w4 = norm(M.SETS["set4"])
    assert np.allclose(w4[:2], w4[2] * 0.55) and np.allclose(w4[2:], w4[2])


def perfect_floor(weights, n):
    """A perfect sampler's expected #Miss in n samples: sum over the 1,000 numbers of (1 - p)^n, p = w_a w_b w_c."""
    w = np.asarray(weights, float) / np.sum(weights)
    return sum((1 - w[a] * w[b] * w[c]) ** n for a in range(10) for b in range(10) for c in range(10))


@pytest.mark.parametrize("target", ["digits-mode-reg", "compositional-mnist-mode-reg"])
def test_table_2_sets_leave_a_perfect_sampler_under_5_missed_numbers_at_the_targets_sample_count(tmp_path, target):
    """Each of the four sets a Table 2 target runs, at the --eval-samples its commands give (2,500 when none):
    a perfect sampler misses fewer than 5 numbers on average, so #Miss measures the model. The former sets missed
    89, 262 and 151 (sets 2-4) at 10,000 samples, and set 1 82 at 2,500."""
    import shlex
    import subprocess
    p = subprocess.run(["make", "-s", target, "PRINT=1", f"OUT={tmp_path}", "DEVICE=cpu", "SEEDS=0", "SEED=0",
                        f"PY={sys.executable}", "DEPS="], cwd=Path(__file__).parents[1], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    floors = {}
    for argv in map(shlex.split, p.stdout.splitlines()):
        if "--digit-weights" in argv:
            i = argv.index("--digit-weights")
            w = tuple(float(v) for v in argv[i + 1:i + 11])
            n = int(argv[argv.index("--eval-samples") + 1]) if "--eval-samples" in argv else M.Config().eval_samples
            floors[w, n] = perfect_floor(w, n)
    sets = {tuple(np.asarray(w) / sum(w)) for w, _ in floors}
    assert len(sets) == 4 and all(any(np.allclose(s, np.asarray(w) / sum(w)) for s in sets) for w in M.SETS.values())
    assert all(n >= M.TABLE2_SAMPLES for _, n in floors) and max(floors.values()) < 5, floors
    assert perfect_floor(M.SETS["set4"], M.TABLE2_SAMPLES) == pytest.approx(2.87, abs=0.01)  # the docstring's
    assert perfect_floor(M.SETS["set1"], 2500) > 80  # the former count: the floor is where the model would be


def test_expected_missed_is_the_closed_form():
    p = np.array([0.5, 0.3, 0.2])
    assert metrics.expected_missed(p, 4) == pytest.approx(0.5**4 + 0.7**4 + 0.8**4, rel=1e-12)
    assert metrics.expected_missed(np.full(1000, 1e-3), 10000) == pytest.approx(1000 * 0.999**10000, rel=1e-9)


def test_real_samples_beside_the_model_are_as_many_as_it_scores(tmp_path, monkeypatch):
    """real_missed_modes counts as many real samples as the generated ones scored (whole batches, rounded up):
    a floor (one batch fewer) would lower the real data's figure beside the model's."""
    seen = []
    monkeypatch.setattr(metrics, "composed_modes", lambda data, x, root: seen.append(len(x)) or
                        {"missed_modes": 0, "kl_modes": 0.0, "digit_accuracy": 1.0})
    monkeypatch.setattr(metrics, "image_scores", lambda data, imgs, root: seen.append(len(imgs)) or {})
    M.train(M.Config(dataset="compositional_digits", image_size=16, g_width=8, d_width=8, steps=1, batch_size=16,
                     eval_samples=20, log_every=100, sample_every=100, ckpt_every=100, device="cpu",
                     out=str(tmp_path / "r")))
    assert seen[0] == 32 and seen[-1] == 32  # the real samples, then the generated ones: 20 rounded up to 2 batches


def test_grid_table_counts_the_points_where_reg_gan_is_above(tmp_path, monkeypatch):
    """grid.md's "Reg-GAN above GAN at k of n points" from known MODE scores (2 of 3 here), not the other way round;
    the sign test's chance of 2 or more of 3 is (3 + 1) / 8 = 0.5, of 4 or more of 4 untied points (one tie) 1 / 16;
    the real data's MODE score (from the summaries) is stated and drawn as a line in fig3.png."""
    scores = iter([5.0, 6.0, 7.0, 4.0, 3.0, 9.0,  # gan, reg at each of 3 points
                   1.0, 2.0, 1.0, 3.0, 2.0, 2.0, 0.5, 4.0, 0.0, 0.5])  # then 5 points: 4 wins, 1 tie
    def fake_train(cfg):  # a finished run: its summary.json
        Path(cfg.out).mkdir(parents=True, exist_ok=True)
        (Path(cfg.out) / "summary.json").write_text(json.dumps({"mode_score": next(scores), "real_mode_score": 9.5}))
    drawn = {}
    monkeypatch.setattr(M, "train", fake_train)
    monkeypatch.setattr(M.figures, "plot_score_distributions", lambda path, groups, *a, refs=None, **k: drawn.update(refs))
    M.grid(tmp_path / "g", M.Config(dataset="digits", steps=1, out=str(tmp_path / "g")), "small", 3, 0.05)
    table = (tmp_path / "g" / "grid.md").read_text()
    assert "Reg-GAN above GAN at 2 of 3 points" in table and "2 or more of the 3 untied points" in table
    assert "probability 0.500" in table and "Real digits (as many held-out images as a run's samples): " \
        "MODE score 9.50." in table and drawn == {"real digits": 9.5}
    M.grid(tmp_path / "h", M.Config(dataset="digits", steps=1, out=str(tmp_path / "h")), "small", 5, 0.05)
    table = (tmp_path / "h" / "grid.md").read_text()
    assert "Reg-GAN above GAN at 4 of 5 points" in table and f"the 4 untied points would occur with probability " \
        f"{1 / 16:.3f}" in table


def test_a_diverged_grid_run_is_a_failed_point_scored_at_the_floor_and_a_single_run_stops(tmp_path, monkeypatch):
    """--record-divergence (the grid's runs, deviation 7): a NaN loss ends the run with a summary.json naming the loss
    and the step, MODE score 0 and Inception score 1, and the grid counts it; without the flag the run stops with
    NonFiniteLoss and writes no summary. Here Reg-GAN's G loss goes NaN from its second step on."""
    real_losses = M.generator_losses

    def nan_after_one(*args, **kw):
        loss_g, loss_e, dist, mode = real_losses(*args, **kw)
        nan_after_one.calls += 1
        return loss_g + (float("nan") if nan_after_one.calls > 1 else 0.0), loss_e, dist, mode
    nan_after_one.calls = 0

    monkeypatch.setattr(M, "generator_losses", nan_after_one)
    base = M.Config(dataset="digits", steps=3, batch_size=16, log_every=1, eval_samples=100, device="cpu",
                    out=str(tmp_path / "grid"))
    with pytest.raises(common.NonFiniteLoss, match="at step 2"):
        M.train(M.dataclasses.replace(base, out=str(tmp_path / "single")))
    assert not (tmp_path / "single" / "summary.json").exists()
    nan_after_one.calls = 0
    one = M.train(M.dataclasses.replace(base, out=str(tmp_path / "recorded"), record_divergence=True))
    stored = json.loads((tmp_path / "recorded" / "summary.json").read_text())
    assert stored == one and one["diverged"].startswith("loss_g = nan at step 2")
    assert (one["mode_score"], one["inception_score"], one["model"]) == (0.0, 1.0, "reg")
    # the grid's runs carry the flag; each Reg-GAN run diverges, each GAN run (no generator_losses) finishes
    assert M.point_config(M.grid_points("small", 1)[0], "gan", 0.05, base).record_divergence
    nan_after_one.calls = 1  # from the first step on
    res = M.grid(tmp_path / "grid", base, "small", 2, 0.05)
    assert [r["diverged"] is not None for r in res["runs"]["reg"]] == [True, True]
    assert [r["diverged"] for r in res["runs"]["gan"]] == [None, None]
    assert [r["mode_score"] for r in res["runs"]["reg"]] == [0.0, 0.0]
    table = (tmp_path / "grid" / "grid.md").read_text()
    gan_row, reg_row = table.splitlines()[4:6]
    assert gan_row.startswith("| GAN | 2 |") and gan_row.endswith("| 0 |")  # the last column: diverged runs
    assert reg_row.startswith("| Reg-GAN | 2 | 0.00 |") and reg_row.endswith("| 2 |")
    assert "Reg-GAN above GAN at 0 of 2 points" in table


def test_mreg_alt_dist_adds_reg_gan_and_mdgan_runs_with_the_other_distance(tmp_path):
    """MREG_ALT_DIST=mean: the Table 2 and 3 digits targets also run Reg-GAN (and MDGAN) with --distance mean, in
    <set>-reg-mean-s<seed> and <model>-mean-z<dim>-s<seed> folders; the default runs give no --distance (the
    default, the sum over the pixels); the DCGAN, which has no d, runs once."""
    import shlex
    import subprocess
    p = subprocess.run(["make", "-s", "digits-mdgan", "compositional-mnist-mode-reg", "PRINT=1", f"OUT={tmp_path}",
                        "DEVICE=cpu", "SEEDS=0", "MREG_ALT_DIST=mean", f"PY={sys.executable}", "DEPS="],
                       cwd=Path(__file__).parents[1], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    runs = {Path(a[a.index("--out") + 1]).name: a for a in map(shlex.split, p.stdout.splitlines())}
    dist = {name: a[a.index("--distance") + 1] if "--distance" in a else None for name, a in runs.items()}
    assert {n for n, d in dist.items() if d == "mean"} == {
        "reg-mean-z100-s0", "reg-mean-z200-s0", "mdgan-mean-z200-s0",
        *(f"set{k}-reg-mean-s0" for k in range(1, 5))}
    assert {n for n, d in dist.items() if d is None} == {
        "gan-z100-s0", "gan-z200-s0", "reg-z100-s0", "reg-z200-s0", "mdgan-z200-s0",
        *(f"set{k}-{m}-s0" for k in range(1, 5) for m in ("gan", "reg"))}
    assert all(runs[n][runs[n].index("--model") + 1] == "reg" for n in dist if "reg-mean" in n)
