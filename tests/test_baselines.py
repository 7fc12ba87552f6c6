"""Baseline losses against independent computations, and how train() wires them (the run contract: test_run_contract.py)."""

import copy
import dataclasses
import json
import math

import numpy as np
import pytest
import torch
import torch.nn as nn

import common
import metrics
from methods import baselines as B

LOGITS_R = [-3.0, -0.5, 0.0, 0.7, 4.0]
LOGITS_F = [-2.0, 0.3, 1.5, -0.1, 6.0]


def sig(t):
    return 1.0 / (1.0 + math.exp(-t))


def mean(xs):
    return sum(xs) / len(xs)


def t(xs):
    return torch.tensor(xs, dtype=torch.float64)


GAN_D = -(mean([math.log(sig(r)) for r in LOGITS_R]) + mean([math.log(1 - sig(f)) for f in LOGITS_F]))
WGAN_D = mean(LOGITS_F) - mean(LOGITS_R)
LOSSES_BY_HAND = {  # loss -> (D's loss, G's loss) at LOGITS_R, LOGITS_F
    "minimax": (GAN_D, mean([math.log(1 - sig(f)) for f in LOGITS_F])),
    "nonsaturating": (GAN_D, mean([-math.log(sig(f)) for f in LOGITS_F])),
    "lsgan": (0.5 * mean([(r - 1) ** 2 for r in LOGITS_R]) + 0.5 * mean([f**2 for f in LOGITS_F]),
              0.5 * mean([(f - 1) ** 2 for f in LOGITS_F])),
    "wgan": (WGAN_D, -mean(LOGITS_F)),
    "wgan-gp": (WGAN_D, -mean(LOGITS_F)),  # the penalty is added in train()
}


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
    n = metrics.input_grad_norm(Linear(w), torch.randn(5, 2, 4, 4, dtype=torch.float64))
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


def test_config_json_records_what_auto_and_zero_stood_for(tmp_path):
    B.train(small(tmp_path, loss="wgan-gp", steps=1))
    resolved = json.loads((tmp_path / "run" / "config.json").read_text())["resolved"]
    assert resolved["optimizer"] == "adam" and resolved["lr"] == 1e-3 and resolved["betas"] == [0.5, 0.9]
    assert resolved["d_steps"] == 5
    B.train(small(tmp_path, "w", loss="wgan", steps=1, lr=0.0))
    resolved = json.loads((tmp_path / "w" / "config.json").read_text())["resolved"]
    assert resolved["optimizer"] == "rmsprop" and resolved["lr"] == 5e-5 and resolved["betas"] is None


def test_paper_optimizers():
    net = nn.Linear(2, 1)
    o = B.make_optim(B.Config(loss="wgan"), net.parameters())
    assert isinstance(o, torch.optim.RMSprop) and o.defaults["lr"] == 5e-5
    o = B.make_optim(B.Config(loss="wgan-gp"), net.parameters())
    assert o.defaults["lr"] == 1e-4 and o.defaults["betas"] == (0.5, 0.9)
    o = B.make_optim(B.Config(loss="nonsaturating"), net.parameters())
    assert o.defaults["lr"] == 2e-4 and o.defaults["betas"] == (0.5, 0.999)


# --- how train() wires the losses ---


def small(tmp_path, name="run", **kw):
    base = dict(dataset="ring8", steps=4, batch_size=32, log_every=1000, sample_every=1000, ckpt_every=1000,
                eval_samples=300, device="cpu", out=str(tmp_path / name), lr=1e-3)
    return B.Config(**{**base, **kw})


def record_updates(monkeypatch):
    """Names of the optimizer steps train() takes, in order ('g' or 'd'); make_optim is called for G, then D."""
    order, names = [], iter("gd")
    real_make_optim = B.make_optim

    def counting(cfg, params):
        opt, name = real_make_optim(cfg, params), next(names)
        opt.register_step_post_hook(lambda *a, name=name: order.append(name))
        return opt

    monkeypatch.setattr(B, "make_optim", counting)
    return order


@pytest.mark.parametrize("kw,critic", [
    (dict(loss="wgan", steps=27), [100] * 25 + [5, 5]),  # WGAN's warm-up: 100 critic steps for the first 25
    (dict(loss="wgan", steps=3, wgan_boost=False), [5, 5, 5]),
    (dict(loss="wgan-gp", steps=3), [5, 5, 5]),
    (dict(loss="wgan-gp", steps=3, d_steps=2), [2, 2, 2]),
    (dict(loss="nonsaturating", steps=3), [1, 1, 1]),
    (dict(loss="minimax", steps=2, d_steps=4), [4, 4]),
])
def test_discriminator_updates_per_generator_update(tmp_path, monkeypatch, kw, critic):
    order = record_updates(monkeypatch)
    B.train(small(tmp_path, **kw))
    assert order == [u for n in critic for u in ["d"] * n + ["g"]]


@pytest.mark.parametrize("loss,d_inputs", [("nonsaturating", 2), ("wgan-gp", 3)])
def test_instance_noise_reaches_every_input_of_d_in_both_steps(tmp_path, monkeypatch, on_nets, loss, d_inputs):
    """D's step sees noisy real and noisy generated samples (WGAN-GP: and interpolates between the noisy ones),
    G's step a noisy generated one (Arjovsky & Bottou sec. 3).

    The noise is replaced by a shift of +1000, so a noised input is recognisable by its mean.
    """
    monkeypatch.setattr(B, "noisy", lambda x, sigma: x + 1000.0 if sigma > 0 else x)
    seen = []
    on_nets(lambda g, d: d.register_forward_pre_hook(lambda mod, args: seen.append(args[0].mean().item())))
    B.train(small(tmp_path, loss=loss, steps=3, d_steps=2, instance_noise=0.1))
    training = seen[: 3 * (2 * d_inputs + 1)]  # per step: 2 D updates, then G's update
    assert all(m > 500 for m in training), training
    assert abs(seen[len(training)]) < 100  # the diagnostics after the last step see clean data


@pytest.mark.parametrize("loss", LOSSES_BY_HAND)
def test_loss_names_dispatch_to_their_formulas(loss):
    """The --loss names reach the paper's formulas, written out here with math.log/exp."""
    want_d, want_g = LOSSES_BY_HAND[loss]
    assert B.d_loss(loss, t(LOGITS_R), t(LOGITS_F)).item() == pytest.approx(want_d, rel=1e-12)
    assert B.g_loss(loss, t(LOGITS_F)).item() == pytest.approx(want_g, rel=1e-12)


def test_every_update_uses_only_the_gradient_of_its_own_batch(tmp_path, monkeypatch, on_nets):
    """At each optimizer step, the nets' .grad is exactly the gradient of that step's loss (nothing accumulated)."""
    nets, fresh, stale = {}, {}, []
    real_make_optim, real_d_loss, real_g_loss = B.make_optim, B.d_loss, B.g_loss
    on_nets(lambda g, d: nets.update(g=g, d=d))

    def recording(name, fn):
        def loss_fn(*args):
            loss = fn(*args)
            fresh[name] = torch.autograd.grad(loss, list(nets[name].parameters()), retain_graph=True)
            return loss
        return loss_fn

    names = iter("gd")

    def make_optim(cfg, params):
        opt, name = real_make_optim(cfg, params), next(names)
        opt.register_step_pre_hook(lambda *a, name=name: stale.extend(
            name for p, f in zip(nets[name].parameters(), fresh[name]) if not torch.equal(p.grad, f)))
        return opt

    monkeypatch.setattr(B, "make_optim", make_optim)
    monkeypatch.setattr(B, "d_loss", recording("d", real_d_loss))
    monkeypatch.setattr(B, "g_loss", recording("g", real_g_loss))
    B.train(small(tmp_path, loss="nonsaturating", steps=3, d_steps=2))
    assert fresh and not stale


def test_gradient_penalty_enters_every_critic_update(tmp_path, monkeypatch):
    n = []
    real_gp = B.gradient_penalty
    monkeypatch.setattr(B, "gradient_penalty", lambda d, r, f: n.append(1) or real_gp(d, r, f))
    B.train(small(tmp_path, loss="wgan-gp", steps=3))
    assert len(n) == 15
    n.clear()
    B.train(small(tmp_path, "other", loss="wgan", steps=3, wgan_boost=False))
    assert not n


def test_gradient_penalty_weight_in_the_logged_critic_loss(tmp_path, monkeypatch):
    """loss_d = d_loss + lambda * penalty (Gulrajani et al. Alg. 1 line 7), with a penalty fixed at 0.5 here."""
    d_losses = []
    real_d_loss = B.d_loss
    monkeypatch.setattr(B, "gradient_penalty", lambda d, r, f: torch.tensor(0.5))
    monkeypatch.setattr(B, "d_loss", lambda *a: d_losses.append(real_d_loss(*a)) or d_losses[-1])
    B.train(small(tmp_path, loss="wgan-gp", steps=3, d_steps=2, gp_lambda=3.0, log_every=1))
    logged = [r["loss_d"] for r in common.read_jsonl(tmp_path / "run" / "metrics.jsonl")]
    assert logged == pytest.approx([d_losses[i].item() + 1.5 for i in (1, 3, 5)], rel=1e-6)


def critic_of(tmp_path, on_nets, **kw):
    built = {}
    on_nets(lambda g, d: built.update(d=d))
    # 16 px: an 8 px DCGAN discriminator has no middle layer, so no normalization at all
    B.train(small(tmp_path, dataset="digits", image_size=16, steps=2, eval_samples=0, overwrite=True, **kw))
    return built["d"]


def own_gradient_changes_with_the_batch(d):
    """Does sample 0's input gradient, from grad(d(x).sum(), x), change when the other samples change?"""
    torch.manual_seed(0)
    x = torch.randn(8, 1, 16, 16)
    y = torch.cat([x[:1], torch.randn(7, 1, 16, 16)])
    grads = [torch.autograd.grad(d(v.requires_grad_(True)).sum(), v)[0][0] for v in (x, y)]
    return not torch.allclose(grads[0], grads[1], atol=1e-6)


def test_wgan_gp_critic_gradient_is_each_samples_own(tmp_path, on_nets):
    """Gulrajani et al. sec. 4: no BatchNorm in the critic, so the penalty constrains each sample's own gradient."""
    d = critic_of(tmp_path, on_nets, loss="wgan-gp")
    assert d.training and not any(isinstance(m, (torch.nn.BatchNorm2d, torch.nn.GroupNorm)) for m in d.modules())
    assert not own_gradient_changes_with_the_batch(d)
    assert not own_gradient_changes_with_the_batch(critic_of(tmp_path, on_nets, loss="wgan-gp", d_norm="layer"))
    # the check can fail: with BatchNorm (DCGAN's D, the other losses' default) the other samples leak in
    assert own_gradient_changes_with_the_batch(critic_of(tmp_path, on_nets, loss="nonsaturating"))


def test_wgan_weights_stay_clipped(tmp_path):
    B.train(small(tmp_path, loss="wgan", steps=3, clip=0.01))
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)["modules"]["d"]
    assert max(v.abs().max().item() for k, v in state.items() if v.is_floating_point()) <= 0.01 + 1e-9


def test_bad_flag_value_is_a_user_error(tmp_path):
    with pytest.raises(common.UserError, match="unknown --loss"):
        B.train(small(tmp_path, loss="hinge"))
    with pytest.raises(common.UserError, match="--image-size"):
        B.train(small(tmp_path, dataset="digits", image_size=12))


# Call sites: train()'s steps
# tap.record (tests/tap.py) runs the real train() for a few optimizer steps; every step is checked on the batches it
# really used, against the losses written here with logsigmoid (not the module's softplus forms).

import torch.nn.functional as TF  # noqa: E402

import data as datasets  # noqa: E402
from tests import tap  # noqa: E402

# Each loss's paper optimizer (module docstring, deviation 3): (kind, lr, betas)
PAPER_OPTIM = {"minimax": ("adam", 2e-4, (0.5, 0.999)), "nonsaturating": ("adam", 2e-4, (0.5, 0.999)),
               "lsgan": ("adam", 2e-4, (0.5, 0.999)), "wgan": ("rmsprop", 5e-5, None),
               "wgan-gp": ("adam", 1e-4, (0.5, 0.9))}


def paper_d_loss(loss, out_r, out_f):
    if loss in ("minimax", "nonsaturating"):  # -E log D(x) - E log(1 - D(G(z)))
        return -TF.logsigmoid(out_r).mean() - TF.logsigmoid(-out_f).mean()
    if loss == "lsgan":
        return 0.5 * ((out_r - 1) ** 2).mean() + 0.5 * (out_f**2).mean()
    return out_f.mean() - out_r.mean()


def paper_g_loss(loss, out_f):
    return {"minimax": lambda: TF.logsigmoid(-out_f).mean(), "nonsaturating": lambda: -TF.logsigmoid(out_f).mean(),
            "lsgan": lambda: 0.5 * ((out_f - 1) ** 2).mean()}.get(loss, lambda: -out_f.mean())()


def grads(loss, net):
    names, params = zip(*net.named_parameters())
    return dict(zip(names, torch.autograd.grad(loss, params)))


def same_grads(got, want, rtol=1e-4, atol=1e-6):
    assert got.keys() == want.keys()
    for k in got:
        assert got[k] is not None and torch.allclose(got[k], want[k], rtol=rtol, atol=atol), k


def same_params(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))


def tapped(tmp_path_factory, n, **kw):
    base = dict(dataset="ring8", width=32, batch_size=32, steps=10, log_every=1000, sample_every=1000,
                ckpt_every=1000, device="cpu", out=str(tmp_path_factory.mktemp("b") / "r"))
    return tap.record("methods.baselines", B.Config(**{**base, **kw}), n)


@pytest.fixture(scope="module", params=B.LOSSES)
def loss_steps(request, tmp_path_factory):
    """(loss, steps d g d g) with one critic step per generator step, the loss's own optimizer."""
    return request.param, tapped(tmp_path_factory, 4, loss=request.param, d_steps=1, wgan_boost=False)


def test_d_step_direction_and_gradient(loss_steps):
    """D's step per --loss: real and fake swapped at the call, the wrong loss dispatched, a sign flipped on the
    penalty, the penalty taken elsewhere than between D's real and fake batches, G given D's gradient."""
    loss, steps = loss_steps
    s = tap.first(steps, "d")
    kinds = [k for k, _ in s.calls["d"]]
    assert kinds == ["real", "fake"] + (["?"] if loss == "wgan-gp" else [])
    (real,), (fake,) = tap.batches(s, "d", "real"), tap.batches(s, "d", "fake")

    def full(d):  # WGAN-GP: + lambda E (||grad D(xhat)|| - 1)^2 at the interpolates D was called on
        out = paper_d_loss(loss, d(real), d(fake))
        if loss != "wgan-gp":
            return out
        xhat = s.calls["d"][2][1].clone().requires_grad_(True)
        (gx,) = torch.autograd.grad(d(xhat).sum(), xhat, create_graph=True)
        return out + 10.0 * ((gx.norm(dim=1) - 1) ** 2).mean()

    if loss == "wgan-gp":  # xhat_i = a_i x_i + (1 - a_i) G(z_i), one a_i in [0, 1] per sample
        xhat = s.calls["d"][2][1]
        a = ((xhat - fake) * (real - fake)).sum(1) / ((real - fake) ** 2).sum(1)
        assert torch.allclose(xhat, a[:, None] * real + (1 - a[:, None]) * fake, atol=1e-5)
        assert (a >= 0).all() and (a <= 1).all() and a.std() > 0.1
    else:  # the margin E D(x) - E D(G(z)) rises
        margin = lambda d: (d(real).mean() - d(fake).mean()).item()
        assert margin(s.after) > margin(s.before)
    assert full(s.after).item() < full(s.before).item()
    same_grads(s.grads, grads(full(s.before), s.before))
    assert not tap.has_grad(s.others["g"])


def test_g_step_raises_d_on_its_samples(loss_steps):
    """G's step per --loss: the wrong G loss, its sign, a detached sample, D stepped or given G's gradient."""
    loss, steps = loss_steps
    s, d_last = tap.first(steps, "g"), tap.first(steps, "d")
    d = tap.first(steps, "d", 1).before  # D at G's step (WGAN: clipped), untouched until its next step
    (z,) = tap.batches(s, "g", "z")
    assert [k for k, _ in s.calls["d"]] == ["fake"]
    assert d(s.after(z)).mean() > d(s.before(z)).mean()
    same_grads(s.grads, grads(paper_g_loss(loss, d(s.before(z))), s.before))
    same_grads(s.others["d"], d_last.grads)  # G's loss gave D no gradient


def test_optimizers_are_the_papers(loss_steps):
    """Both nets' first two updates, recomputed from their gradients with the paper's optimizer (Adam as Kingma &
    Ba, RMSprop with decay 0.99): a wrong lr, betas or optimizer kind resolved for --loss."""
    loss, steps = loss_steps
    kind, lr, betas = PAPER_OPTIM[loss]
    for name in ("d", "g"):
        m, v = {}, {}  # the optimizer's moments, per parameter
        for t, s in enumerate((tap.first(steps, name), tap.first(steps, name, 1)), 1):
            after = dict(s.after.named_parameters())
            for k, p in s.before.named_parameters():
                g = s.grads[k].double()
                if kind == "adam":
                    m[k] = betas[0] * m.get(k, 0) + (1 - betas[0]) * g
                    v[k] = betas[1] * v.get(k, 0) + (1 - betas[1]) * g**2
                    want = -lr * (m[k] / (1 - betas[0] ** t)) / ((v[k] / (1 - betas[1] ** t)).sqrt() + 1e-8)
                else:
                    v[k] = 0.99 * v.get(k, 0) + 0.01 * g**2
                    want = -lr * g / (v[k].sqrt() + 1e-8)
                assert torch.allclose(after[k].double() - p.double(), want, rtol=2e-3, atol=2e-7), (name, t, k)


def test_wgan_clips_after_each_critic_step(tmp_path_factory):
    """WGAN: the critic G's step sees is clipped to [-c, c] (clipping before the step, or not at all, leaves it out)."""
    steps = tapped(tmp_path_factory, 3, loss="wgan", d_steps=1, wgan_boost=False, clip=0.02)
    d1, s, d2 = tap.first(steps, "d"), tap.first(steps, "g"), tap.first(steps, "d", 1)
    assert max(p.abs().max().item() for p in d1.after.parameters()) > 0.02  # the step itself leaves [-c, c]
    clipped = copy.deepcopy(d1.after)
    with torch.no_grad():
        for p in clipped.parameters():
            p.copy_(p.clamp(-0.02, 0.02))
    ((_, x),), (out,) = s.calls["d"], s.outputs["d"]
    assert torch.allclose(out, clipped(x)) and not torch.allclose(out, d1.after(x))
    assert same_params(d2.before, clipped)


@pytest.mark.parametrize("kw,n", [(dict(loss="wgan"), 100), (dict(loss="wgan-gp"), 5),
                                  (dict(loss="lsgan", d_steps=3), 3), (dict(loss="minimax"), 1)])
def test_critic_steps_per_generator_step_in_the_tap(tmp_path_factory, kw, n):
    """The steps train() takes: WGAN's 100-step warm-up, WGAN-GP's 5, --d-steps, the GANs' 1."""
    steps = tapped(tmp_path_factory, n + 2, **kw)
    assert [s.name for s in steps] == ["d"] * n + ["g", "d"]


SIGMA = 0.5


@pytest.fixture(scope="module")
def noise_steps(tmp_path_factory):
    """Instance noise 0.5 annealed linearly over 4 steps: (steps d g d g, the real batches the data set gave)."""
    reals = []
    sample = datasets.GaussianMixture.sample
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(datasets.GaussianMixture, "sample", lambda self, n: reals.append(sample(self, n)) or reals[-1])
        steps = tapped(tmp_path_factory, 4, loss="nonsaturating", instance_noise=SIGMA, noise_anneal="linear",
                       steps=4, batch_size=512)
    return steps, reals


def test_instance_noise_on_both_of_ds_inputs(noise_steps):
    """D's step sees real + N(0, sigma_k^2) and G(z) + N(0, sigma_k^2), sigma_k = sigma (1 - k / steps): noise
    missing on one input, its std squared, the annealing off or shifted by a step."""
    steps, reals = noise_steps
    for k in (0, 1):
        s, sigma = tap.first(steps, "d", k), SIGMA * (1 - k / 4)
        ((_, xr), (_, xf)), (fake,) = s.calls["d"], s.outputs["g"]
        real = min(reals, key=lambda r: (xr - r).norm().item())  # the batch the noise was added to
        for eps in (xr - real, xf - fake):
            assert abs(eps.std().item() - sigma) < 0.1 * sigma and abs(eps.mean().item()) < 0.1 * sigma, k
        same_grads(s.grads, grads(paper_d_loss("nonsaturating", s.before(xr), s.before(xf)), s.before))
        margin = lambda d: (d(xr).mean() - d(xf).mean()).item()
        assert margin(s.after) > margin(s.before)


def test_g_step_through_the_noisy_d_input(noise_steps):
    """G's step: D sees G(z) + N(0, sigma_k^2), and G's gradient flows through the noisy input (the corollary of
    Thm. 3.2): noise missing, its std wrong, or G's sample detached."""
    steps, _ = noise_steps
    for k in (0, 1):
        s, sigma = tap.first(steps, "g", k), SIGMA * (1 - k / 4)
        d = tap.first(steps, "d", k).after  # no clipping: D at G's step
        (z,), ((_, x),) = tap.batches(s, "g", "z"), s.calls["d"]
        eps = x - s.before(z).detach()
        assert abs(eps.std().item() - sigma) < 0.1 * sigma
        g_loss = lambda g: -TF.logsigmoid(d(g(z) + eps)).mean()
        same_grads(s.grads, grads(g_loss(s.before), s.before))
        assert g_loss(s.after).item() < g_loss(s.before).item()


def test_logged_sigma_is_the_annealed_sigma_of_each_step(tmp_path):
    """metrics.jsonl's sigma is the noise each step used (linear annealing to 0), not the flag's starting value."""
    B.train(B.Config(dataset="ring8", loss="nonsaturating", instance_noise=0.4, noise_anneal="linear", steps=4,
                     batch_size=16, log_every=1, sample_every=100, ckpt_every=100, eval_samples=100, device="cpu",
                     out=str(tmp_path / "r")))
    logged = [r["sigma"] for r in common.read_jsonl(tmp_path / "r" / "metrics.jsonl")]
    assert logged == pytest.approx([0.4, 0.3, 0.2, 0.1])  # step t (from 0) uses sigma0 * (1 - t / T)


# --- the VRAL authors' MNIST baselines (methods/vral.py deviation 12; baselines deviations 2, 8, 9) ---


def test_lsgan_with_the_vral_authors_fake_target():
    """--lsgan-a -1 (mnist/least_squares.py): D's targets 1 on real, -1 on generated; G's target stays 1."""
    want = 0.5 * mean([(r - 1) ** 2 for r in LOGITS_R]) + 0.5 * mean([(f + 1) ** 2 for f in LOGITS_F])
    assert B.d_loss("lsgan", t(LOGITS_R), t(LOGITS_F), -1.0).item() == pytest.approx(want, rel=1e-12)
    assert B.d_loss("wgan", t(LOGITS_R), t(LOGITS_F), -1.0).item() == pytest.approx(WGAN_D, rel=1e-12)  # LSGAN's only


def lasagne_adam_clipped(w, grad, lr, b1, b2, eps, c, steps):
    """Lasagne's adam (lasagne.updates.adam) with every update it returns clipped to [-c, c], as the VRAL authors'
    mnist/wasserstein.py does: the weights, both moments and the step count t. Written out in float64."""
    m, v, t_prev = np.zeros_like(w), np.zeros_like(w), 0.0
    for _ in range(steps):
        g = grad(w)
        t_ = t_prev + 1
        a = lr * math.sqrt(1 - b2**t_) / (1 - b1**t_)
        m_t, v_t = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g**2
        w_t = w - a * m_t / (np.sqrt(v_t) + eps)
        w, m, v, t_prev = (np.clip(x, -c, c) for x in (w_t, m_t, v_t, t_))
    return w


def test_clip_adam_state_is_the_authors_theano_wgan_update():
    """--clip-adam-state: Adam's step, then the weights, its moments and its step count clamped to [-c, c], gives
    the weights of Lasagne's Adam with every update clipped (eps placement aside: 1e-8 here)."""
    x = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]], dtype=torch.float64)
    w0 = np.array([0.05, -0.08, 0.02])
    grad = lambda w: x.numpy().T @ np.cos(x.numpy() @ w)  # d/dw sum(sin(x w))
    p = nn.Parameter(torch.tensor(w0))
    opt = torch.optim.Adam([p], lr=0.01, betas=(0.5, 0.999), eps=1e-8)
    for _ in range(6):
        opt.zero_grad()
        torch.sin(x @ p).sum().backward()
        opt.step()
        with torch.no_grad():
            p.clamp_(-0.1, 0.1)
        B.clip_adam_state(opt, 0.1)
    want = lasagne_adam_clipped(w0, grad, 0.01, 0.5, 0.999, 1e-8, 0.1, 6)
    assert np.allclose(p.detach().numpy(), want, rtol=1e-6, atol=1e-9)
    assert float(opt.state[p]["step"]) == pytest.approx(0.1)  # each step's bias correction is step 1.1's
    plain = lasagne_adam_clipped(w0, grad, 0.01, 0.5, 0.999, 1e-8, 1e9, 6)  # weights alone clipped would differ
    assert not np.allclose(np.clip(plain, -0.1, 0.1), want, rtol=1e-3)


def test_clip_adam_state_reaches_the_wgan_critic_and_nothing_else(tmp_path):
    """In a run, D's Adam state ends clamped (step count c, moments in [-c, c]); G's Adam is left alone; the flag is
    refused where it would do nothing (another loss, RMSprop)."""
    B.train(small(tmp_path, loss="wgan", optimizer="adam", clip=0.05, clip_adam_state=True, steps=2, wgan_boost=False))
    modules = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)["modules"]
    state = modules["opt_d"]["state"]
    assert state and all(float(s["step"]) == pytest.approx(0.05) for s in state.values())
    assert all(s[k].abs().max() <= 0.05 + 1e-9 for s in state.values() for k in ("exp_avg", "exp_avg_sq"))
    assert all(float(s["step"]) == 2 for s in modules["opt_g"]["state"].values())
    for bad in (dict(loss="lsgan"), dict(loss="wgan", optimizer="rmsprop")):
        with pytest.raises(common.UserError, match="--clip-adam-state"):
            B.train(small(tmp_path, name="bad", clip_adam_state=True, **bad))
