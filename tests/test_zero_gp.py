"""methods/zero_gp.py: the gradient penalties against closed forms, per-sample loops and finite differences;
the losses, the optimal D, the gradient field, the training loop, Fig. 1's surfaces and the benchmark."""

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import common
import data as datasets
import nets
from methods import baselines as B
from methods import zero_gp as Z


def linear_d(w, b):
    """A linear logit D(x) = w . x + b on flattened samples: grad logit = w, grad prob = sigmoid'(w . x + b) w."""
    return lambda x: x.flatten(1) @ w.flatten() + b


def seeded(seed, fn, *args, **kw):
    torch.manual_seed(seed)
    return fn(*args, **kw)


# ---------------------------------------------------------------------------
# The penalty
# ---------------------------------------------------------------------------


def test_interpolates_draw_one_a_per_sample_not_per_pixel():
    xr, xf = 2 + 0.1 * torch.randn(6, 3, 4, 4), -2 + 0.1 * torch.randn(6, 3, 4, 4)  # x_r - x_f far from 0
    xt = seeded(0, Z.interpolates, xr, xf)
    a = (xt - xf) / (xr - xf)  # the coefficient of every pixel
    per_sample = a.flatten(1)
    assert torch.allclose(per_sample, per_sample[:, :1].expand_as(per_sample), atol=1e-4)
    assert per_sample[:, 0].std() > 0.05 and ((per_sample >= 0) & (per_sample <= 1)).all()
    torch.manual_seed(0)
    assert torch.allclose(per_sample[:, 0], torch.rand(6), atol=1e-4)  # a ~ U(0, 1), drawn as (B, 1, 1, 1)


@pytest.mark.parametrize("center", [0.0, 1.0])
def test_penalty_on_interpolates_of_the_probability_matches_the_linear_closed_form(center):
    torch.manual_seed(1)
    w, b = torch.randn(3, 4, 4) * 0.3, 0.2
    xr, xf = torch.randn(5, 3, 4, 4), torch.randn(5, 3, 4, 4)
    gp = seeded(7, Z.gradient_penalty, linear_d(w, b), xr, xf, center, "interpolates", "prob")
    torch.manual_seed(7)
    a = torch.rand(5, 1, 1, 1)
    s = torch.sigmoid(linear_d(w, b)(a * xr + (1 - a) * xf))
    norms = s * (1 - s) * w.norm()  # ||sigmoid'(w.x + b) w|| per sample, the whole image flattened
    assert gp.item() == pytest.approx(((norms - center) ** 2).mean().item(), rel=1e-5)


def test_penalty_of_the_logit_is_the_weight_norm_for_a_linear_d():
    w = torch.randn(2, 3, 3)
    xr, xf = torch.randn(4, 2, 3, 3), torch.randn(4, 2, 3, 3)
    for where in Z.WHERE:
        assert Z.gradient_penalty(linear_d(w, 0.5), xr, xf, 0.0, where, "logit").item() == pytest.approx(
            w.pow(2).sum().item(), rel=1e-5)
        assert Z.gradient_penalty(linear_d(w, 0.5), xr, xf, 1.0, where, "logit").item() == pytest.approx(
            (w.norm() - 1).pow(2).item(), rel=1e-5)


def test_samples_average_real_and_generated_together_and_real_uses_real_only():
    d = lambda x: 0.5 * x.flatten(1).pow(2).sum(1)  # logit with grad x: the penalty is ||x||^2 per sample
    xr, xf = torch.randn(3, 5), 3 * torch.randn(7, 5)  # unequal sizes: the mean over all 10, not of two means
    sq = lambda x: x.pow(2).sum(1)
    assert Z.gradient_penalty(d, xr, xf, 0.0, "samples", "logit").item() == pytest.approx(
        torch.cat([sq(xr), sq(xf)]).mean().item(), rel=1e-5)
    assert Z.gradient_penalty(d, xr, xf, 0.0, "real", "logit").item() == pytest.approx(sq(xr).mean().item(), rel=1e-5)
    assert Z.gradient_penalty(d, xr, xf, 2.0, "real", "logit").item() == pytest.approx(
        ((xr.norm(dim=1) - 2) ** 2).mean().item(), rel=1e-5)
    with pytest.raises(ValueError):
        Z.gradient_penalty(d, xr, xf, 0.0, "fake", "logit")


@pytest.mark.parametrize("center,output", [(0.0, "prob"), (1.0, "prob"), (1.0, "logit")])
def test_penalty_of_a_tanh_mlp_matches_a_per_sample_loop(center, output):
    torch.manual_seed(2)
    d = nets.MLPDiscriminator((2, 3, 3), 16, 2, "tanh")
    xr, xf = torch.randn(6, 2, 3, 3), torch.randn(6, 2, 3, 3)
    gp = seeded(3, Z.gradient_penalty, d, xr, xf, center, "interpolates", output)
    torch.manual_seed(3)
    a = torch.rand(6)
    terms = []
    for i in range(6):  # each interpolate alone through D
        x = (a[i] * xr[i] + (1 - a[i]) * xf[i]).unsqueeze(0).requires_grad_(True)
        out = d(x)
        out = torch.sigmoid(out) if output == "prob" else out
        (g,) = torch.autograd.grad(out.sum(), x)
        terms.append((g.flatten().norm() - center) ** 2)
    assert gp.item() == pytest.approx(torch.stack(terms).mean().item(), rel=1e-4)


def test_penalty_gradient_w_r_t_d_weights_matches_finite_differences():
    torch.manual_seed(4)
    d = nets.MLPDiscriminator((3,), 8, 2, "tanh").double()
    xr, xf = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 3, dtype=torch.float64)
    p = d.net[0].weight

    def value():
        return seeded(5, Z.gradient_penalty, d, xr, xf, 0.0, "interpolates", "prob")

    (auto,) = torch.autograd.grad(value(), p)
    num = torch.zeros_like(p)
    eps = 1e-6
    for idx in np.ndindex(*p.shape):  # the penalty needs autograd itself: perturb p.data, not under no_grad
        p.data[idx] += eps
        up = value().item()
        p.data[idx] -= 2 * eps
        down = value().item()
        p.data[idx] += eps
        num[idx] = (up - down) / (2 * eps)
    assert torch.allclose(auto, num, rtol=1e-4, atol=1e-9)
    assert auto.abs().max() > 1e-6


def test_one_d_step_with_the_penalty_lowers_it():
    def step(penalty):
        torch.manual_seed(6)
        d = nets.MLPDiscriminator((2,), 64, 2, "relu")
        with torch.no_grad():
            d.net[-1].weight.mul_(5)  # a steep D: the penalty, not the BCE, dominates the step
        real, fake = torch.randn(128, 2) + 0.5, torch.randn(128, 2) - 0.5
        value = lambda: seeded(8, Z.gradient_penalty, d, real, fake, 0.0, "interpolates", "logit").item()
        before = value()
        opt = torch.optim.SGD(d.parameters(), lr=3e-3)
        loss, _ = seeded(8, Z.discriminator_loss, d, real, fake, penalty, 10.0, "logit")
        opt.zero_grad()
        loss.backward()
        opt.step()
        return before, value()

    before, after = step("0gp")
    assert after < 0.8 * before
    assert step("none")[1] > after  # the BCE step alone does not lower it as much


def test_discriminator_loss_adds_lambda_times_the_named_penalty():
    torch.manual_seed(9)
    d = nets.MLPDiscriminator((2,), 16, 2, "relu")
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    plain = Z.d_loss(d(real), d(fake))
    for name, spec in Z.PENALTIES.items():
        loss, gp = seeded(1, Z.discriminator_loss, d, real, fake, name, 3.0, "prob")
        if spec is None:
            assert gp.item() == 0 and loss.item() == pytest.approx(plain.item())
            continue
        expect = seeded(1, Z.gradient_penalty, d, real, fake, *spec, "prob")
        assert gp.item() == pytest.approx(expect.item(), rel=1e-6)
        assert loss.item() == pytest.approx(plain.item() + 3.0 * expect.item(), rel=1e-6)


def test_losses_are_the_binary_cross_entropies_of_sigmoid_d():
    lr, lf = torch.randn(10), torch.randn(10)
    bce = lambda p, y: F.binary_cross_entropy(torch.sigmoid(p), torch.full_like(p, y))
    assert Z.d_loss(lr, lf).item() == pytest.approx((bce(lr, 1.0) + bce(lf, 0.0)).item(), rel=1e-5)
    assert Z.g_loss(lf).item() == pytest.approx(bce(lf, 1.0).item(), rel=1e-5)


def test_wgan_gp_of_the_baselines_is_our_one_centred_penalty_of_the_critic_output():
    torch.manual_seed(10)
    d = nets.MLPDiscriminator((2, 4, 4), 16, 2, "relu")
    xr, xf = torch.randn(6, 2, 4, 4), torch.randn(6, 2, 4, 4)
    ours = seeded(11, Z.gradient_penalty, d, xr, xf, 1.0, "interpolates", "logit")
    theirs = seeded(11, B.gradient_penalty, d, xr, xf)
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-6)


def test_dcgan_d_input_gradient_is_per_sample():
    cfg = Z.resolve(Z.Config(dataset="digits", arch="dcgan", image_size=16, width=8))
    data = datasets.load("digits", image_size=16)
    _, d, norm = Z.make_nets(cfg, data, cfg.z_dim, torch.device("cpu"))
    assert norm == "none"
    x = data.sample(8)
    g_batch = Z.input_grads(d, x)
    g_alone = torch.cat([Z.input_grads(d, x[i:i + 1]) for i in range(8)])
    assert torch.allclose(g_batch, g_alone, atol=1e-6)


# ---------------------------------------------------------------------------
# The optimal D, the gradient field
# ---------------------------------------------------------------------------


def test_optimal_d_of_equal_covariance_gaussians_is_the_logistic_closed_form():
    means = np.array([[0.4, 0.9], [1.3, 1.2]])
    cov = np.array([[1.0, 0.5], [0.5, 1.0]])
    pts = np.random.default_rng(0).normal(size=(50, 2)) * 2
    inv = np.linalg.inv(cov)
    w = inv @ (means[0] - means[1])
    c = -0.5 * (means[0] @ inv @ means[0] - means[1] @ inv @ means[1])
    expect = 1 / (1 + np.exp(-(pts @ w + c)))
    assert np.allclose(Z.optimal_d(pts, means, np.stack([cov, cov])), expect, rtol=1e-10)
    both = Z.optimal_d(pts, Z.MEANS, Z.COVS)
    assert ((both > 0) & (both < 1)).all()


def test_gradient_field_is_grad_log_d():
    d = torch.nn.Linear(2, 1)
    with torch.no_grad():
        d.weight.copy_(torch.tensor([[0.7, -1.2]]))
        d.bias.fill_(0.3)
    xy, grad = Z.gradient_field(d, 3.0, n=5)
    assert xy.shape == (25, 2) and xy.min() == -3.0 and xy.max() == 3.0
    s = 1 / (1 + np.exp(-(xy @ np.array([0.7, -1.2]) + 0.3)))
    assert np.allclose(grad, (1 - s)[:, None] * np.array([0.7, -1.2]), atol=1e-6)


# ---------------------------------------------------------------------------
# Settings and the training loop
# ---------------------------------------------------------------------------


def test_resolve_gives_the_papers_toy_and_image_settings():
    toy = Z.resolve(Z.Config())
    assert (toy.optimizer, toy.lr_g, toy.lr_d, toy.lam, toy.layers, toy.d_steps, toy.z_dim, toy.scale) == \
        ("sgd", 3e-3, 3e-3, 10.0, 2, 1, 2, 3.5355)
    img = Z.resolve(Z.Config(dataset="digits"))
    assert (img.optimizer, img.lr_g, img.lr_d, img.lam, img.layers, img.d_steps, img.z_dim) == \
        ("adam", 3e-4, 3e-4, 100.0, 3, 5, 50)
    ttur = Z.resolve(Z.Config(lr_g=1e-3, lr_d=3e-3, scale=2.0, dataset="swissroll"))
    assert (ttur.lr_g, ttur.lr_d, ttur.scale) == (1e-3, 3e-3, 2.0)
    assert Z.resolve(Z.Config(dataset="swissroll")).scale == 1.0
    assert Z.resolve(Z.Config(lr_g=1e-3)).lr_d == 1e-3  # no TTUR unless --lr-d says so


def test_ring8_at_the_default_scale_has_the_authors_radius():
    data = datasets.load("ring8", scale=Z.resolve(Z.Config()).scale)
    assert np.linalg.norm(data.centers, axis=1) == pytest.approx(10 / math.sqrt(2), rel=1e-4)


@pytest.mark.parametrize("bad", [dict(penalty="2gp"), dict(output="grad"), dict(optimizer="rmsprop"),
                                 dict(arch="resnet"), dict(lam=-1.0), dict(betas=(0.5,)),
                                 dict(field_steps=(1.5,))])
def test_bad_settings_are_refused(bad):
    with pytest.raises(common.UserError):
        Z.check_config(Z.resolve(Z.Config(**bad)))


def test_optimizers_follow_the_flags():
    cfg = Z.resolve(Z.Config(lr_g=1e-3, lr_d=3e-3))
    p = [torch.nn.Parameter(torch.zeros(1))]
    assert isinstance(Z.make_optim(cfg, p, cfg.lr_d), torch.optim.SGD)
    adam = Z.make_optim(Z.resolve(Z.Config(optimizer="adam", betas=(0.9, 0.99))), p, 1e-4)
    assert isinstance(adam, torch.optim.Adam) and adam.defaults["betas"] == (0.9, 0.99) and adam.defaults["lr"] == 1e-4


def test_a_short_toy_run_keeps_gradient_fields_and_modes_over_time(tmp_path):
    cfg = Z.Config(steps=12, width=32, batch_size=32, field_steps=(0, 6, 12), log_every=6, eval_samples=200,
                   out=str(tmp_path / "run"), lr_g=1e-3, lr_d=3e-3)
    s = Z.train(cfg)
    assert [r["step"] for r in s["over_time"]] == [0, 6, 12]
    for step in (0, 6, 12):
        f = np.load(tmp_path / "run" / f"field_{step}.npz")
        assert f["grad"].shape == (400, 2) and f["fake"].shape == (512, 2) and f["fixed"].shape == (200, 2)
    assert (tmp_path / "run" / "gradient_fields.png").exists() and (tmp_path / "run" / "modes_over_time.png").exists()
    assert s["penalty"] == "0gp" and s["lr_d"] == 3e-3 and s["lam"] == 10.0
    conf = json.loads((tmp_path / "run" / "config.json").read_text())
    assert conf["resolved"]["optimizer"] == "sgd" and conf["resolved"]["d_norm"] == "none (MLP)"
    logged = [json.loads(l) for l in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert all("gp" in r for r in logged) and logged[-1]["gp"] > 0
    for k in ("grad_prob_real", "grad_prob_fake", "grad_prob_interp"):
        assert s[k] > 0


def test_the_d_step_count_and_the_penalty_reach_the_loop(tmp_path, monkeypatch):
    calls = []
    real_loss = Z.discriminator_loss
    monkeypatch.setattr(Z, "discriminator_loss", lambda *a, **k: calls.append(a[3:]) or real_loss(*a, **k))
    Z.train(Z.Config(steps=3, d_steps=4, width=16, batch_size=16, penalty="1gp", lam=2.5, output="logit",
                     field_steps=(), log_every=3, eval_samples=100, out=str(tmp_path / "r")))
    assert calls == [("1gp", 2.5, "logit")] * 12


def test_generator_step_uses_the_non_saturating_loss(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(Z, "g_loss", lambda logits: seen.append(logits.shape) or F.softplus(-logits).mean())
    Z.train(Z.Config(steps=2, width=16, batch_size=16, field_steps=(), log_every=2, eval_samples=100,
                     out=str(tmp_path / "r")))
    assert seen == [torch.Size([16])] * 2


def test_an_image_run_scores_digits(tmp_path):
    s = Z.train(Z.Config(dataset="digits", steps=3, d_steps=1, width=32, batch_size=32, log_every=3,
                         eval_samples=200, out=str(tmp_path / "r")))
    assert 1.0 <= s["mode_score"] <= 10.0 and s["optimizer"] == "adam" and s["lam"] == 100.0
    assert not list((tmp_path / "r").glob("field_*.npz"))


# ---------------------------------------------------------------------------
# Fig. 1, the gradient fields across runs, the benchmark
# ---------------------------------------------------------------------------


def test_surface_writes_one_gap_per_panel_and_seed(tmp_path):
    res = Z.surface(tmp_path / "s", seeds=[0, 1], steps=5)
    assert set(res["gap"]) == {p[0] for p in Z.SURFACE_PANELS}
    assert all(len(v) == 2 and 0 < min(v) and max(v) < 1 for v in res["gap"].values())
    assert (tmp_path / "s" / "surface.png").exists() and "| (e) 0-GP |" in (tmp_path / "s" / "surface.md").read_text()


def test_surface_gap_is_the_mean_absolute_difference_to_the_optimal_d():
    d, real, fake = Z.fit_surface("0gp", 20, steps=3, seed=0)
    assert real.shape == (20, 2) and fake.shape == (20, 2)
    pts = Z.surface_grid(n=10)
    assert pts.shape == (100, 2) and pts[1, 0] > pts[0, 0] and pts[1, 1] == pts[0, 1]  # x fastest
    # the two Gaussians' samples: means near the authors' (0.4, 0.9) and (1.3, 1.2)
    d2, r2, f2 = Z.fit_surface("none", 4000, steps=1, seed=1)
    assert np.allclose(r2.mean(0).numpy(), Z.MEANS[0], atol=0.08) and np.allclose(f2.mean(0).numpy(), Z.MEANS[1], atol=0.08)
    assert np.allclose(np.cov(f2.numpy().T), Z.COVS[1], atol=0.08)


def test_figures_fields_composes_runs(tmp_path):
    import figures
    for name in ("a", "b"):
        Z.train(Z.Config(steps=4, width=16, batch_size=16, field_steps=(0, 4), log_every=4, eval_samples=100,
                         out=str(tmp_path / name)))
    figures.gradient_fields([tmp_path / "a", tmp_path / "b"], tmp_path / "f.png", {4})
    assert (tmp_path / "f.png").stat().st_size > 1000


def test_bench_reports_the_penalized_to_plain_ratio():
    res = Z.bench("ring8", "0gp", batch_size=16, iters=2, repeats=2)
    assert res["ratio_min"] <= res["ratio_median"] <= res["ratio_max"] and res["penalized_s"] > 0
    assert res["shape"] == [2]


def test_ttur_gives_each_net_its_own_learning_rate(tmp_path, monkeypatch):
    built = []
    real_make_optim = Z.make_optim

    def spy(cfg, params, lr):
        params = list(params)
        built.append((params[0].shape, lr))
        return real_make_optim(cfg, params, lr)

    monkeypatch.setattr(Z, "make_optim", spy)
    Z.train(Z.Config(dataset="digits", steps=1, d_steps=1, width=16, batch_size=16, lr_g=1e-3, lr_d=3e-3,
                     log_every=1, eval_samples=0, out=str(tmp_path / "r")))
    assert sorted(built) == sorted([(torch.Size([16, 50]), 1e-3), (torch.Size([16, 64]), 3e-3)])  # G: z 50, D: 8x8


def test_each_d_update_uses_the_gradient_of_its_own_loss_only(tmp_path, monkeypatch):
    expected, used = [], []
    real_loss, real_make_optim = Z.discriminator_loss, Z.make_optim

    def spy_loss(d, *a, **k):
        loss, gp = real_loss(d, *a, **k)
        expected.append([g.clone() for g in torch.autograd.grad(loss, list(d.parameters()), retain_graph=True)])
        return loss, gp

    def spy_optim(cfg, params, lr):
        params = list(params)
        opt, step = real_make_optim(cfg, params, lr), None
        if params[-1].shape == (1,):  # D's optimizer (its output bias)
            step = opt.step
            opt.step = lambda *a, **k: used.append([p.grad.clone() for p in params]) or step(*a, **k)
        return opt

    monkeypatch.setattr(Z, "discriminator_loss", spy_loss)
    monkeypatch.setattr(Z, "make_optim", spy_optim)
    Z.train(Z.Config(steps=3, d_steps=2, width=16, batch_size=16, field_steps=(), log_every=3, eval_samples=100,
                     out=str(tmp_path / "r")))
    assert len(used) == len(expected) == 6
    for u, e in zip(used, expected):
        assert all(torch.allclose(a, b, atol=1e-7) for a, b in zip(u, e))
