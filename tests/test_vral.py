"""VRAL: the meta-discriminator's batch view, the losses against hand formulas, loss signs, update order."""

import math

import numpy as np
import pytest
import torch
import torch.nn as nn

import common
from methods import vral as V


def sig(t):
    return 1 / (1 + math.exp(-t))


# --- the meta-discriminator sees the batch as one vector ---


def test_meta_discriminator_sees_the_whole_batch():
    torch.manual_seed(0)
    meta = V.MetaDiscriminator(batch_size=8, hidden=28)
    y = torch.randn(8)
    base = meta(y)
    assert base.shape == ()
    for i in range(8):  # every position of the batch reaches the output
        y2 = y.clone()
        y2[i] += 1.0
        assert meta(y2).item() != pytest.approx(base.item(), abs=1e-7), i
    # Batch order matters: the m outputs are one vector, not m independent samples.
    assert meta(y.flip(0)).item() != pytest.approx(base.item(), abs=1e-7)
    assert meta(torch.stack([y, y.flip(0)])).shape == (2,)


def test_meta_discriminator_rejects_other_batch_sizes():
    meta = V.MetaDiscriminator(batch_size=64)
    with pytest.raises(ValueError, match="exactly 64 discriminator outputs"):
        meta(torch.randn(32))


def test_meta_discriminator_architecture():
    meta = V.MetaDiscriminator(batch_size=64, hidden=28)
    lin = [m for m in meta.modules() if isinstance(m, nn.Linear)]
    assert [(l.in_features, l.out_features) for l in lin] == [(64, 28), (28, 1)]


# --- losses against hand-written formulas ---


class Affine(nn.Module):
    """A meta-discriminator stand-in with a known logit: <v, y> + c."""

    def __init__(self, v, c):
        super().__init__()
        self.v, self.c = v, c

    def forward(self, y):
        return y @ self.v + self.c


def test_meta_loss_is_eqs_8_9_negated():
    v = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    meta = Affine(v, 0.1)
    ref = torch.tensor([1.0, 0.2, -0.3], dtype=torch.float64)
    out = torch.tensor([0.4, 0.4, 1.5], dtype=torch.float64)
    a = float(ref @ v) + 0.1
    b = float(out @ v) + 0.1
    want = -(math.log(sig(a)) + math.log(1 - sig(b)))
    assert V.meta_loss(meta, ref, out).item() == pytest.approx(want, rel=1e-12)


def test_d_loss_vral_is_eq_10():
    f = Affine(torch.tensor([1.0, -2.0], dtype=torch.float64), 0.0)
    r = Affine(torch.tensor([0.3, 0.7], dtype=torch.float64), -0.5)
    fake = torch.tensor([0.2, 0.9], dtype=torch.float64)
    real = torch.tensor([1.1, 0.8], dtype=torch.float64)
    lf = 0.2 - 1.8
    lr = 0.33 + 0.56 - 0.5
    want = -math.log(sig(lf)) - math.log(sig(lr))
    assert V.d_loss_vral(f, r, fake, real).item() == pytest.approx(want, rel=1e-12)


def test_generator_losses_eqs_11_12():
    fake = torch.tensor([0.5, -1.0, 2.0, 0.0])
    real = torch.tensor([1.0, 1.5, 0.5, 1.0])
    assert V.g_loss_ipm(fake, real).item() == pytest.approx(1.0 - 0.375)
    assert V.g_loss_ls(fake, 1.0).item() == pytest.approx((0.25 + 4 + 1 + 1) / 4)


def test_critic_term():
    assert V.critic_term(torch.tensor([0.5, -1.0]), torch.tensor([2.0, 1.0, 0.0])).item() == pytest.approx(-0.25 - 1.0)


def test_centred_batch():
    c = V.centred(torch.tensor([1.0, 2.0, 6.0]))
    assert c.tolist() == pytest.approx([-2.0, -1.0, 3.0])


def test_slopes_on_a_linear_discriminator():
    """phi(x) = <w, x>: the slope between x and y is |<w, x - y>| / ||x - y||, = ||w|| when x - y is parallel to w."""
    torch.manual_seed(0)
    w = torch.randn(2, 3, 3, dtype=torch.float64)
    phi = lambda x: x.flatten(1) @ w.flatten()
    fake = torch.randn(5, 2, 3, 3, dtype=torch.float64)
    t = torch.tensor([0.5, -1.0, 2.0, 0.1, 3.0], dtype=torch.float64)
    real = fake + t.view(5, 1, 1, 1) * w
    s = V.slopes(phi(real), phi(fake), real, fake)
    assert s.numpy() == pytest.approx(np.full(5, w.norm().item()), rel=1e-10)
    # and a generic pair, by hand
    x, y = torch.tensor([[3.0, 4.0]]), torch.tensor([[0.0, 0.0]])
    assert V.slopes(torch.tensor([2.0]), torch.tensor([-3.0]), x, y).item() == pytest.approx(1.0)


def test_d_loss_lipschitz():
    m = Affine(torch.ones(2, dtype=torch.float64), 0.0)
    real, fake = torch.tensor([[3.0, 4.0], [0.0, 1.0]]).double(), torch.zeros(2, 2).double()
    ro, fo = torch.tensor([5.0, 1.0]).double(), torch.tensor([0.0, 0.0]).double()
    slopes = [1.0, 1.0]
    want = (0.0 - 3.0) - math.log(sig(sum(slopes)))
    assert V.d_loss_lipschitz(m, ro, fo, real, fake).item() == pytest.approx(want, rel=1e-12)


# --- loss signs ---


def linear_g_step(loss_fn, lr=0.1):
    """One SGD step of a generator x = b + z on a linear D phi(x) = <w, x>; returns E phi(G(z)) before and after."""
    torch.manual_seed(0)
    w = torch.tensor([1.0, -2.0, 0.5])
    b = torch.zeros(3, requires_grad=True)
    z = torch.randn(64, 3)
    real_out = (torch.randn(64, 3) + torch.tensor([1.0, -1.0, 0.0])) @ w
    before = ((b + z) @ w).mean().item()
    loss_fn((b + z) @ w, real_out).backward()
    with torch.no_grad():
        b -= lr * b.grad
    return before, ((b + z) @ w).mean().item(), real_out.mean().item()


def test_ipm_generator_raises_d_output_on_fakes():
    """Eq. (11) as used: minimising it moves G towards where D is high (real data), by lr ||w||^2 exactly."""
    before, after, _ = linear_g_step(V.g_loss_ipm)
    assert after - before == pytest.approx(0.1 * (1 + 4 + 0.25), rel=1e-5)


def test_ls_generator_moves_d_output_to_mu_real():
    before, after, _ = linear_g_step(lambda f, r: V.g_loss_ls(f, 1.0))
    assert abs(after - 1.0) < abs(before - 1.0)


def test_lipschitz_critic_and_generator_pull_opposite_ways():
    """Sec. 2.4: D's critic term raises phi(real) - phi(fake); G's loss (eq. 11) raises phi(fake). Not the same objective."""
    real_out = torch.tensor([0.5, 1.0], requires_grad=True)
    fake_out = torch.tensor([0.0, 0.2], requires_grad=True)
    x, y = torch.tensor([[1.0, 0.0], [0.0, 2.0]]), torch.zeros(2, 2)
    m = Affine(torch.zeros(2), 0.0)  # a constant M: only the critic term moves D
    V.d_loss_lipschitz(m, real_out, fake_out, x, y).backward()
    assert (real_out.grad < 0).all() and (fake_out.grad > 0).all()  # descent raises real, lowers fake
    fake_g = fake_out.detach().requires_grad_(True)
    V.g_loss_ipm(fake_g, real_out.detach()).backward()
    assert (fake_g.grad < 0).all()  # descent raises phi(G(z))


# --- D's outputs move towards the target Gaussians ---


def test_meta_training_moves_d_outputs_to_the_targets():
    """G fixed, F-R-D steps as in Algorithm 1: D's real outputs go to mean mu_r, std ~1; fake to mu_f."""
    torch.manual_seed(0)
    m, mu_r, mu_f = 64, 1.0, -1.0
    d = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 1))
    with torch.no_grad():  # start flat: every output near 0, almost no spread
        d[2].weight.mul_(0.01)
        d[2].bias.zero_()
    phi = lambda x: d(x).squeeze(1)
    f, r = V.MetaDiscriminator(m), V.MetaDiscriminator(m)
    opt = {k: torch.optim.Adam(n.parameters(), lr=2e-3, betas=(0.5, 0.999)) for k, n in
           [("d", d), ("f", f), ("r", r)]}
    real = lambda: torch.randn(m, 2) * 0.5 + torch.tensor([2.0, 0.0])
    fake = lambda: torch.randn(m, 2) * 0.5 + torch.tensor([-2.0, 0.0])

    def stats():
        with torch.no_grad():
            ro, fo = phi(real()), phi(fake())
        return ro.mean().item(), ro.std().item(), fo.mean().item(), fo.std().item()

    r0 = stats()
    for _ in range(600):
        V.step(opt["f"], V.meta_loss(f, V.reference_batch(m, mu_f, 1.0, "cpu"), phi(fake()).detach()))
        V.step(opt["r"], V.meta_loss(r, V.reference_batch(m, mu_r, 1.0, "cpu"), phi(real()).detach()))
        V.step(opt["d"], V.d_loss_vral(f, r, phi(fake()), phi(real())))
    r1 = stats()
    assert abs(r1[0] - mu_r) < 0.5 * abs(r0[0] - mu_r)
    assert abs(r1[2] - mu_f) < 0.5 * abs(r0[2] - mu_f)
    assert r0[1] < 0.1 and r1[1] > 0.4  # spread within the real outputs grew towards 1
    assert r0[3] < 0.1 and r1[3] > 0.4


# --- update order and counts (Algorithm 1) ---


def record_steps(monkeypatch):
    order = []
    real_adam = V.adam
    names = iter(["g", "d", "f", "r", "m"])

    def counting_adam(cfg, params):
        opt = real_adam(cfg, params)
        name = next(names)
        if name == "f" and cfg.variant == "lipschitz":
            name = "m"
        opt.register_step_post_hook(lambda *a, name=name: order.append(name))
        return opt

    monkeypatch.setattr(V, "adam", counting_adam)
    return order


def small(tmp_path, **kw):
    base = dict(dataset="digits", steps=3, d_steps=4, batch_size=16, log_every=3, diag_batches=2, sample_every=100,
                ckpt_every=100, device="cpu", out=str(tmp_path / "run"))
    base.update(kw)
    return V.Config(**base)


@pytest.mark.parametrize("variant", ["vral", "vral-sub"])
def test_update_order_and_counts(tmp_path, monkeypatch, variant):
    order = record_steps(monkeypatch)
    V.train(small(tmp_path, variant=variant))
    assert order == (["f", "r", "d"] * 4 + ["g"]) * 3


def test_lipschitz_update_order(tmp_path, monkeypatch):
    order = record_steps(monkeypatch)
    summary = V.train(small(tmp_path, variant="lipschitz", d_steps=2))
    assert order == (["m", "d"] * 2 + ["g"]) * 3
    assert summary["slope_mean"] > 0 and summary["slope_std"] > 0


def test_resume_and_seed(tmp_path):
    full = V.train(small(tmp_path, out=str(tmp_path / "full"), steps=4, d_steps=2, ckpt_every=2, log_every=2))
    V.train(small(tmp_path, out=str(tmp_path / "split"), steps=2, d_steps=2, ckpt_every=2, log_every=2))
    res = V.train(small(tmp_path, out=str(tmp_path / "split"), steps=4, d_steps=2, ckpt_every=2, log_every=2,
                        resume=True))
    strip = lambda s: {k: v for k, v in s.items() if k != "seconds"}
    assert strip(res) == strip(full)


@pytest.mark.parametrize("dataset", ["ring8", "digits"])
def test_logging_and_sample_frequency_do_not_change_the_run(tmp_path, dataset):
    strip = lambda s: {k: v for k, v in s.items() if k != "seconds"}
    a = V.train(small(tmp_path, out=str(tmp_path / "a"), dataset=dataset, steps=6, d_steps=2, log_every=3))
    b = V.train(small(tmp_path, out=str(tmp_path / "b"), dataset=dataset, steps=6, d_steps=2, log_every=2,
                      sample_every=2))
    assert (tmp_path / "b" / "samples_2.png").exists()
    assert strip(a) == strip(b)


@pytest.mark.parametrize("variant", ["vral", "vral-sub"])
def test_train_feeds_f_the_centred_batch_and_its_reference(tmp_path, monkeypatch, variant):
    """Inside train(): F (the first meta_loss of each triple) sees centred outputs and N(0, 1) draws in vral-sub,
    raw outputs and N(mu_f, 1) draws in vral (mu_f = -3 here, so the two references are far apart)."""
    calls = []
    real_meta_loss = V.meta_loss

    def recording(meta, reference, d_outputs):
        calls.append((reference.detach().clone(), d_outputs.detach().clone()))
        return real_meta_loss(meta, reference, d_outputs)

    monkeypatch.setattr(V, "meta_loss", recording)
    V.train(small(tmp_path, variant=variant, mu_fake=-3.0, batch_size=64, steps=2, d_steps=3))
    f_calls = calls[0::2]  # F, R, F, R, ...
    assert len(calls) == 2 * 3 * 2
    for reference, out in f_calls:
        if variant == "vral-sub":
            assert abs(out.mean().item()) < 1e-5
            assert abs(reference.mean().item()) < 0.6  # mean of 64 N(0, 1) draws: std 0.125
        else:
            assert abs(reference.mean().item() + 3.0) < 0.6
    if variant == "vral":
        assert max(abs(out.mean().item()) for _, out in f_calls) > 1e-4  # D's raw outputs are not centred


@pytest.mark.parametrize("flag", [False, True])
def test_d_critic_flag_adds_the_critic_term_to_each_d_step(tmp_path, monkeypatch, flag):
    n = []
    real_term = V.critic_term
    monkeypatch.setattr(V, "critic_term", lambda f, r: n.append(1) or real_term(f, r))
    V.train(small(tmp_path, variant="vral-sub", d_critic=flag, steps=2, d_steps=3))
    assert len(n) == (6 if flag else 0)


def test_bad_variant(tmp_path):
    with pytest.raises(common.UserError, match="unknown --variant"):
        V.train(small(tmp_path, variant="vral2"))


def test_grid_report(tmp_path):
    for name in ["vral-1", "vral-10", "lsgan-1"]:
        V.train(small(tmp_path, out=str(tmp_path / "grid" / name), steps=2, d_steps=1, log_every=1))
    V.grid_report(tmp_path / "grid")
    for f in ["samples.png", "hist.png", "grad_norm.png", "table.md"]:
        assert (tmp_path / "grid" / f).exists()
    assert "| VRAL | 10:1 |" in (tmp_path / "grid" / "table.md").read_text()
