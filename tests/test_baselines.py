"""Baseline losses against independent computations, and the training loop's contracts."""

import copy
import dataclasses
import json
import math

import numpy as np
import pytest
import torch
import torch.nn as nn

import common
from methods import baselines as B

LOGITS_R = [-3.0, -0.5, 0.0, 0.7, 4.0]
LOGITS_F = [-2.0, 0.3, 1.5, -0.1, 6.0]


def sig(t):
    return 1.0 / (1.0 + math.exp(-t))


def mean(xs):
    return sum(xs) / len(xs)


def t(xs):
    return torch.tensor(xs, dtype=torch.float64)


# --- losses at known logits: the paper formulas written out with math.log/exp ---


def test_gan_d_loss_is_negative_value_of_the_game():
    want = -(mean([math.log(sig(r)) for r in LOGITS_R]) + mean([math.log(1 - sig(f)) for f in LOGITS_F]))
    assert B.d_loss_gan(t(LOGITS_R), t(LOGITS_F)).item() == pytest.approx(want, rel=1e-12)


def test_minimax_generator_cost_is_log_one_minus_d():
    want = mean([math.log(1 - sig(f)) for f in LOGITS_F])
    assert B.g_loss_minimax(t(LOGITS_F)).item() == pytest.approx(want, rel=1e-12)


def test_nonsaturating_generator_cost_is_minus_log_d():
    want = mean([-math.log(sig(f)) for f in LOGITS_F])
    assert B.g_loss_nonsaturating(t(LOGITS_F)).item() == pytest.approx(want, rel=1e-12)


def test_minimax_gradient_vanishes_where_nonsaturating_does_not():
    # d/dl log(1 - sigmoid(l)) = -sigmoid(l) -> 0 as D rejects the sample (l -> -inf);
    # d/dl -log sigmoid(l) = sigmoid(l) - 1 -> -1 there.
    f = torch.tensor([-20.0], requires_grad=True)
    (gm,) = torch.autograd.grad(B.g_loss_minimax(f), f)
    (gn,) = torch.autograd.grad(B.g_loss_nonsaturating(f), f)
    assert abs(gm.item()) == pytest.approx(sig(-20.0), rel=1e-5)
    assert gn.item() == pytest.approx(sig(-20.0) - 1, rel=1e-6)


def test_lsgan_losses():
    want_d = 0.5 * mean([(r - 1) ** 2 for r in LOGITS_R]) + 0.5 * mean([f**2 for f in LOGITS_F])
    want_g = 0.5 * mean([(f - 1) ** 2 for f in LOGITS_F])
    assert B.d_loss_lsgan(t(LOGITS_R), t(LOGITS_F)).item() == pytest.approx(want_d)
    assert B.g_loss_lsgan(t(LOGITS_F)).item() == pytest.approx(want_g)


def test_wgan_losses():
    assert B.d_loss_wgan(t(LOGITS_R), t(LOGITS_F)).item() == pytest.approx(mean(LOGITS_F) - mean(LOGITS_R))
    assert B.g_loss_wgan(t(LOGITS_F)).item() == pytest.approx(-mean(LOGITS_F))


# --- the gradient penalty ---


class Linear(nn.Module):
    """f(x) = <w, x> + b on flattened samples: ||grad f|| = ||w|| everywhere."""

    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(w.flatten().clone())

    def forward(self, x):
        return x.flatten(1) @ self.w + 0.3


@pytest.mark.parametrize("shape", [(5,), (3, 4, 4)])
def test_gradient_penalty_linear_critic(shape):
    torch.manual_seed(0)
    w = torch.randn(*shape, dtype=torch.float64)
    real, fake = torch.randn(8, *shape, dtype=torch.float64), torch.randn(8, *shape, dtype=torch.float64)
    gp = B.gradient_penalty(Linear(w), real, fake)
    assert gp.item() == pytest.approx((w.norm().item() - 1) ** 2, rel=1e-10)


class HalfSquare(nn.Module):
    """f(x) = ||x||^2 / 2 per sample: grad f(xhat) = xhat, so the penalty depends on where xhat lies."""

    def forward(self, x):
        return 0.5 * (x.flatten(1) ** 2).sum(1)


def test_gradient_penalty_one_coefficient_per_sample_and_per_sample_norm():
    torch.manual_seed(1)
    real, fake = torch.randn(6, 2, 3, 3, dtype=torch.float64), torch.randn(6, 2, 3, 3, dtype=torch.float64)
    torch.manual_seed(7)
    gp = B.gradient_penalty(HalfSquare(), real, fake).item()
    torch.manual_seed(7)
    a = torch.rand(6)  # the draw a per-sample implementation makes
    want = 0.0
    for i in range(6):
        xhat = a[i].item() * real[i] + (1 - a[i].item()) * fake[i]
        want += (math.sqrt(float((xhat**2).sum())) - 1) ** 2 / 6
    assert gp == pytest.approx(want, rel=1e-10)


def test_gradient_penalty_trains_the_critic():
    d = Linear(torch.ones(3, dtype=torch.float64) * 2)
    gp = B.gradient_penalty(d, torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64))
    gp.backward()
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||
    n = math.sqrt(12)
    assert d.w.grad.numpy() == pytest.approx(np.full(3, 2 * (n - 1) * 2 / n))


def test_input_grad_norm_is_flattened_per_sample():
    torch.manual_seed(0)
    w = torch.randn(2, 4, 4, dtype=torch.float64)
    n = common.input_grad_norm(Linear(w), torch.randn(5, 2, 4, 4, dtype=torch.float64))
    assert n.shape == (5,)
    assert n.numpy() == pytest.approx(np.full(5, w.norm().item()))


# --- schedules ---


def test_wgan_critic_schedule():
    cfg = B.Config(loss="wgan")
    counts = [B.critic_steps(cfg, s) for s in range(1001)]
    assert counts[:25] == [100] * 25 and counts[25] == 5 and counts[499] == 5
    assert counts[500] == 100 and counts[1000] == 100
    assert B.critic_steps(B.Config(loss="wgan", wgan_boost=False), 0) == 5
    assert B.critic_steps(B.Config(loss="wgan-gp"), 0) == 5
    assert B.critic_steps(B.Config(loss="minimax"), 0) == 1
    assert B.critic_steps(B.Config(loss="minimax", d_steps=10), 0) == 10


def test_instance_noise_schedule():
    cfg = B.Config(instance_noise=0.4, steps=100, noise_anneal="linear")
    assert B.noise_sigma(cfg, 0) == pytest.approx(0.4)
    assert B.noise_sigma(cfg, 50) == pytest.approx(0.2)
    assert B.noise_sigma(dataclasses.replace(cfg, noise_anneal="none"), 50) == pytest.approx(0.4)


def test_paper_optimizers():
    net = nn.Linear(2, 1)
    o = B.make_optim(B.Config(loss="wgan"), net.parameters())
    assert isinstance(o, torch.optim.RMSprop) and o.defaults["lr"] == 5e-5
    o = B.make_optim(B.Config(loss="wgan-gp"), net.parameters())
    assert o.defaults["lr"] == 1e-4 and o.defaults["betas"] == (0.5, 0.9)
    o = B.make_optim(B.Config(loss="nonsaturating"), net.parameters())
    assert o.defaults["lr"] == 2e-4 and o.defaults["betas"] == (0.5, 0.999)


# --- the training loop ---


def small(tmp_path, name="run", **kw):
    base = dict(dataset="ring8", steps=40, batch_size=32, log_every=10, sample_every=20, ckpt_every=20,
                eval_samples=300, device="cpu", out=str(tmp_path / name), lr=1e-3)
    base.update(kw)
    return B.Config(**base)


def strip(summary):
    return {k: v for k, v in summary.items() if k != "seconds"}


def test_same_seed_same_summary(tmp_path):
    a = B.train(small(tmp_path, "a", loss="wgan-gp"))
    b = B.train(small(tmp_path, "b", loss="wgan-gp"))
    assert strip(a) == strip(b)
    assert json.loads((tmp_path / "a" / "summary.json").read_text())["steps"] == 40
    c = B.train(small(tmp_path, "c", loss="wgan-gp", seed=1))
    assert strip(c) != strip(a)


@pytest.mark.parametrize("dataset", ["ring8", "digits"])
def test_logging_and_sample_frequency_do_not_change_the_run(tmp_path, dataset):
    a = B.train(small(tmp_path, "a", dataset=dataset, log_every=10, sample_every=20))
    b = B.train(small(tmp_path, "b", dataset=dataset, log_every=7, sample_every=3))
    assert (tmp_path / "b" / "samples_3.png").exists()
    assert strip(a) == strip(b)


@pytest.mark.parametrize("loss,dataset", [("nonsaturating", "ring8"), ("wgan", "digits")])
def test_resume_equals_uninterrupted(tmp_path, loss, dataset):
    kw = dict(loss=loss, dataset=dataset, ckpt_every=20, wgan_boost=False)
    full = B.train(small(tmp_path, "full", steps=40, **kw))
    B.train(small(tmp_path, "split", steps=20, **kw))
    resumed = B.train(small(tmp_path, "split", steps=40, resume=True, **kw))
    # Exact on the CPU: every RNG state, optimizer state and BatchNorm buffer is restored.
    assert strip(resumed) == strip(full)
    steps = [m["step"] for m in common.read_jsonl(tmp_path / "split" / "metrics.jsonl")]
    assert steps == [10, 20, 30, 40]


def test_wgan_weights_stay_clipped(tmp_path):
    cfg = small(tmp_path, loss="wgan", steps=3, clip=0.01)
    B.train(cfg)
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)["modules"]["d"]
    assert max(v.abs().max().item() for k, v in state.items() if v.is_floating_point()) <= 0.01 + 1e-9


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    calls = {"n": 0}
    real_g_loss = B.g_loss

    def poisoned(loss, out):
        calls["n"] += 1
        v = real_g_loss(loss, out)
        return v * float("nan") if calls["n"] > 25 else v

    monkeypatch.setattr(B, "g_loss", poisoned)
    with pytest.raises(common.NonFiniteLoss, match="loss_g = nan at step 26"):
        B.train(small(tmp_path, ckpt_every=10))
    ckpt = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)
    assert ckpt["step"] == 20
    assert all(torch.isfinite(v).all() for v in ckpt["modules"]["g"].values())


def test_bad_flag_value_is_a_user_error(tmp_path):
    with pytest.raises(common.UserError, match="unknown --loss"):
        B.train(small(tmp_path, loss="hinge"))


def test_run_folder_contents(tmp_path):
    B.train(small(tmp_path))
    names = {p.name for p in (tmp_path / "run").iterdir()}
    for f in ["config.json", "metrics.jsonl", "summary.json", "checkpoint.pt", "samples_20.png",
              "samples_final.png", "d_hist.png", "d_outputs.npz", "grad_norm.png", "d_surface.png"]:
        assert f in names, f
    s = json.loads((tmp_path / "run" / "summary.json").read_text())
    for k in ["modes", "high_quality", "reverse_kl", "steps", "seconds", "device", "grad_norm_fake",
              "d_real_std", "d_fake_std"]:
        assert k in s, k
    m = common.read_jsonl(tmp_path / "run" / "metrics.jsonl")[-1]
    for k in ["loss_d", "loss_g", "d_real_mean", "d_real_std", "d_fake_mean", "d_fake_std", "grad_norm_fake"]:
        assert k in m, k


# --- Arjovsky & Bottou: the frozen generator and its gradient norm ---


class LinearG(nn.Module):
    """G(z) = W z + b."""

    def __init__(self, z_dim, x_dim):
        super().__init__()
        self.lin = nn.Linear(z_dim, x_dim).double()

    def forward(self, z):
        return self.lin(z.double())


@pytest.mark.parametrize("cost", ["minimax", "nonsaturating"])
def test_generator_grad_norm_closed_form(cost):
    """Linear G and linear-logit D: dC/dW = mean_i c(l_i) a z_i^T, dC/db = mean_i c(l_i) a,
    with c(l) = -sigmoid(l) for log(1 - sigmoid(l)) and c(l) = sigmoid(l) - 1 for -log sigmoid(l)."""
    torch.manual_seed(0)
    g = LinearG(3, 4)
    a = torch.randn(4, dtype=torch.float64)
    d = Linear(a)
    z = torch.randn(16, 3, dtype=torch.float64)
    l = (g(z) @ a + 0.3).detach().numpy()
    s = 1 / (1 + np.exp(-l))
    c = -s if cost == "minimax" else s - 1
    zn, an = z.numpy(), a.numpy()
    dW = np.mean([c[i] * np.outer(an, zn[i]) for i in range(16)], axis=0)
    db = np.mean([c[i] * an for i in range(16)], axis=0)
    want = math.sqrt((dW**2).sum() + (db**2).sum())
    assert B.generator_grad_norm(g, d, z, cost) == pytest.approx(want, rel=1e-10)
    assert all(p.grad is None for p in g.parameters())


def test_fresh_discriminator_phase_freezes_g_and_logs_the_direct_norm(tmp_path):
    import data as datasets
    torch.manual_seed(0)
    cfg = B.Config(dataset="digits", batch_size=16, d_iters=30, measure_every=10, grad_batches=3, seed=0)
    ds = datasets.load("digits")
    g, d = common.make_nets(ds, 8, "dcgan", 8)
    before = {k: v.clone() for k, v in g.state_dict().items()}
    rows = B.fresh_discriminator_phase(cfg, ds, g, d, 8, torch.device("cpu"), sigma=0.0)
    after = g.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before), "G changed during the discriminator phase"
    assert [r["iter"] for r in rows] == [0, 10, 20, 30]
    assert all(p.grad is None for p in g.parameters())
    # The last row was measured with the final D on the phase's fixed batches; recompute it directly.
    gen = torch.Generator().manual_seed(cfg.seed + 7)
    zs = [torch.randn(16, 8, generator=gen) for _ in range(3)]
    direct = []
    for z in zs:
        g2 = copy.deepcopy(g)
        d2 = copy.deepcopy(d)
        B.g_loss_minimax(d2(g2(z))).backward()
        direct.append(math.sqrt(sum(float((p.grad.double() ** 2).sum()) for p in g2.parameters())))
    assert rows[-1]["minimax_mean"] == pytest.approx(np.mean(direct), rel=1e-6)
    assert rows[-1]["minimax_max"] == pytest.approx(max(direct), rel=1e-6)
    # D really trained: its error fell.
    assert rows[-1]["err_real"] + rows[-1]["err_fake"] < rows[0]["err_real"] + rows[0]["err_fake"]


def test_principled_end_to_end(tmp_path):
    cfg = B.Config(experiment="principled", dataset="digits", epochs="1,2", epoch_steps=3, d_iters=20,
                   measure_every=10, grad_batches=2, d_noise=0.3, batch_size=16, device="cpu",
                   out=str(tmp_path / "p"), log_every=1, eval_samples=100)
    s = B.principled(cfg)
    for f in ["d_error.png", "grad_minimax.png", "grad_nonsaturating.png", "noise_grad_minimax.png",
              "noise_d_error.png", "gan/g_step3.pt", "gan/g_step6.pt"]:
        assert (tmp_path / "p" / f).exists(), f
    assert {"k1_minimax_last", "k2_noise_nonsat_cv_last", "k2_minimax_decades"} <= set(s)
    rows = common.read_jsonl(tmp_path / "p" / "metrics.jsonl")
    assert len(rows) == 2 * 2 * 3 and {r["epochs"] for r in rows} == {1, 2}
