"""VRAL: the meta-discriminator's batch view, the losses against hand formulas, loss signs, update order, and what
each loss receives inside train() (the run contract: test_run_contract.py)."""

import math

import numpy as np
import pytest
import torch
import torch.nn as nn

import common
import figures
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
    assert {"slope_mean", "slope_std"} <= set(summary)


def test_slope_stats_against_a_per_pair_loop():
    """phi(x) = <w, x> + 0.3: each pair's slope is |<w, x_i - y_i>| / ||x_i - y_i||, computed here one pair at a time."""
    torch.manual_seed(0)
    w = torch.randn(2, 3, 3, dtype=torch.float64)
    phi = lambda x: x.flatten(1) @ w.flatten() + 0.3
    reals = [torch.randn(4, 2, 3, 3, dtype=torch.float64) for _ in range(3)]
    fakes = [torch.randn(4, 2, 3, 3, dtype=torch.float64) for _ in range(3)]
    s = []
    for xs, ys in zip(reals, fakes):
        for x, y in zip(xs, ys):
            s.append(abs(float((w * (x - y)).sum())) / math.sqrt(float(((x - y) ** 2).sum())))
    got = V.slope_stats(phi, reals, fakes)
    assert got["slope_mean"] == pytest.approx(np.mean(s), rel=1e-10)
    assert got["slope_std"] == pytest.approx(np.std(s, ddof=1), rel=1e-10)


@pytest.mark.parametrize("variant", ["vral", "vral-sub"])
def test_what_each_loss_receives_inside_train(tmp_path, monkeypatch, variant):
    """Alg. 1 as wired in train(), recorded call by call (mu_r = 2.5 and mu_f = -3, far apart):

    F's step: F against N(mu_f, 1) draws (N(0, 1) in vral-sub) and D's outputs on generated samples (centred in
    vral-sub); R's step: R against N(mu_r, 1) draws and D's uncentred real outputs; D's step (eq. 10): F on
    the generated batch (centred in vral-sub), R on the real one; G's step (eq. 12): least squares to mu_r.
    """
    mu_r, mu_f, m = 2.5, -3.0, 64
    meta_calls, d_calls, g_calls = [], [], []
    real_meta, real_d, real_g = V.meta_loss, V.d_loss_vral, V.g_loss_ls

    def meta_loss(meta, reference, d_outputs):
        meta_calls.append((meta, reference.detach().clone(), d_outputs.detach().clone()))
        return real_meta(meta, reference, d_outputs)

    def d_loss_vral(f_meta, r_meta, fake_out, real_out):
        d_calls.append((f_meta, r_meta, fake_out.detach().clone(), real_out.detach().clone()))
        return real_d(f_meta, r_meta, fake_out, real_out)

    def g_loss_ls(fake_out, mu_real):
        g_calls.append(mu_real)
        return real_g(fake_out, mu_real)

    monkeypatch.setattr(V, "meta_loss", meta_loss)
    monkeypatch.setattr(V, "d_loss_vral", d_loss_vral)
    monkeypatch.setattr(V, "g_loss_ls", g_loss_ls)
    V.train(small(tmp_path, variant=variant, mu_real=mu_r, mu_fake=mu_f, batch_size=m, steps=2, d_steps=3))

    assert len(meta_calls) == 2 * 2 * 3 and len(d_calls) == 2 * 3 and g_calls == [mu_r, mu_r]
    f_net, r_net = meta_calls[0][0], meta_calls[1][0]
    assert f_net is not r_net
    ref_f = 0.0 if variant == "vral-sub" else mu_f
    for i in range(0, len(meta_calls), 2):  # mean of 64 N(mean, 1) draws: std 0.125
        (f, f_ref, f_out), (r, r_ref, r_out) = meta_calls[i], meta_calls[i + 1]
        assert f is f_net and r is r_net
        assert abs(f_ref.mean().item() - ref_f) < 0.6 and abs(r_ref.mean().item() - mu_r) < 0.6
        assert abs(f_ref.std().item() - 1.0) < 0.4 and abs(r_ref.std().item() - 1.0) < 0.4
        assert (abs(f_out.mean().item()) < 1e-5) == (variant == "vral-sub")
        assert abs(r_out.mean().item()) > 1e-4
    for f, r, fake_out, real_out in d_calls:
        assert f is f_net and r is r_net
        assert fake_out.shape == real_out.shape == (m,)
        assert (abs(fake_out.mean().item()) < 1e-5) == (variant == "vral-sub")
        assert abs(real_out.mean().item()) > 1e-4


def test_f_sees_d_on_generated_samples_and_r_on_real_ones(tmp_path, monkeypatch, on_nets):
    """Hooks on G and D: F's input is D's output on the batch G has just generated; R's is D's output on a batch
    G did not generate (real data); D's loss gets D's output on a generated batch, then on a real one."""
    log = []  # ("g", output) and ("d", input, output), in call order

    def hook(g, d):
        g.register_forward_hook(lambda mod, args, out: log.append(("g", out.detach())))
        d.register_forward_hook(lambda mod, args, out: log.append(("d", args[0].detach(), out.detach())))

    checks = []

    def last_d_calls(k):
        return [e for e in log if e[0] == "d"][-k:]

    def from_g(x):
        return any(e[0] == "g" and e[1].shape == x.shape and torch.equal(e[1], x) for e in log)

    real_meta, real_d = V.meta_loss, V.d_loss_vral

    def meta_loss(meta, reference, d_outputs):
        (_, x, out), = last_d_calls(1)
        checks.append(("meta", from_g(x), torch.equal(out, d_outputs)))
        return real_meta(meta, reference, d_outputs)

    def d_loss_vral(f_meta, r_meta, fake_out, real_out):
        (_, x1, o1), (_, x2, o2) = last_d_calls(2)
        checks.append(("d", from_g(x1) and not from_g(x2), torch.equal(o1, fake_out.detach()) and
                       torch.equal(o2, real_out.detach())))
        return real_d(f_meta, r_meta, fake_out, real_out)

    on_nets(hook)
    monkeypatch.setattr(V, "meta_loss", meta_loss)
    monkeypatch.setattr(V, "d_loss_vral", d_loss_vral)
    V.train(small(tmp_path, variant="vral", steps=2, d_steps=2))
    assert checks == [("meta", True, True), ("meta", False, True), ("d", True, True)] * 4


def test_lipschitz_m_sees_slopes_against_n_k_sigma(tmp_path, monkeypatch):
    calls = []
    real_meta = V.meta_loss
    monkeypatch.setattr(V, "meta_loss", lambda meta, ref, out: calls.append((ref.clone(), out.clone()))
                        or real_meta(meta, ref, out))
    V.train(small(tmp_path, variant="lipschitz", lip_k=3.0, lip_sigma=0.1, batch_size=64, steps=2, d_steps=2))
    assert len(calls) == 4
    for ref, out in calls:
        assert abs(ref.mean().item() - 3.0) < 0.1 and abs(ref.std().item() - 0.1) < 0.05
        assert (out >= 0).all() and not out.requires_grad  # slopes of the current D, no gradient into D


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
    figures.vral_grid(tmp_path / "grid")
    for f in ["samples.png", "hist.png", "grad_norm.png", "table.md"]:
        assert (tmp_path / "grid" / f).exists()
    assert "| VRAL | 10:1 |" in (tmp_path / "grid" / "table.md").read_text()


def test_grid_report_over_seeds_reads_one_seeds_runs(tmp_path):
    """`figures vral-grid DIR --seed S` (make mnist-vral): the runs <method>-<ratio>-s<S>, no other seed's."""
    for name in ["vral-1-s0", "lsgan-10-s0", "vral-10-s1"]:
        V.train(small(tmp_path, out=str(tmp_path / "grid" / name), steps=2, d_steps=1, log_every=1))
    figures.vral_grid(tmp_path / "grid", seed=0)
    table = (tmp_path / "grid" / "table.md").read_text()
    assert "| VRAL | 1:1 |" in table and "| LSGAN | 10:1 |" in table and "| VRAL | 10:1 |" not in table


def test_defaults_follow_the_authors_final_scripts():
    cfg = V.Config()
    assert cfg.mu_fake == -1.0 and cfg.mu_real == 1.0
    assert (cfg.meta_init, cfg.share_real, cfg.lrelu_slope) == ("pytorch", False, 0.2)  # the authors': flags


def test_glorot_initialises_meta_discriminators_as_lasagne():
    torch.manual_seed(0)
    f = V.glorot(V.MetaDiscriminator(64, 28))
    w1, w2 = f.net[0].weight, f.net[2].weight
    for w, (fan_in, fan_out) in ((w1, (64, 28)), (w2, (28, 1))):
        bound = math.sqrt(6 / (fan_in + fan_out))
        assert w.abs().max() <= bound and w.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.25)
    assert f.net[0].bias.abs().max() == 0 and f.net[2].bias.abs().max() == 0


@pytest.mark.parametrize("share", [True, False])
def test_share_real_gives_d_the_batch_r_just_saw(tmp_path, monkeypatch, share):
    r_outs, d_reals = [], []
    real_meta, real_d = V.meta_loss, V.d_loss_vral

    def meta_loss(meta, reference, d_outputs):
        r_outs.append(d_outputs.detach().clone())  # F's then R's, alternating
        return real_meta(meta, reference, d_outputs)

    def d_loss_vral(f_meta, r_meta, fake_out, real_out):
        d_reals.append(real_out.detach().clone())
        return real_d(f_meta, r_meta, fake_out, real_out)

    monkeypatch.setattr(V, "meta_loss", meta_loss)
    monkeypatch.setattr(V, "d_loss_vral", d_loss_vral)
    V.train(small(tmp_path, share_real=share, steps=2, d_steps=2, batch_norm=False))
    same = [torch.allclose(r, d, atol=1e-6) for r, d in zip(r_outs[1::2], d_reals)]
    assert len(same) == 4 and all(same) == share and (any(same) == share)


def test_lrelu_slope_reaches_d(tmp_path, on_nets):
    seen = {}
    on_nets(lambda g, d: seen.update(d=d))
    V.train(small(tmp_path, dataset="digits", lrelu_slope=0.02, steps=1, eval_samples=0))
    slopes = [m.negative_slope for m in seen["d"].modules() if isinstance(m, torch.nn.LeakyReLU)]
    assert slopes and all(s == 0.02 for s in slopes)


def test_arch_grewal_gives_the_authors_mnist_nets_with_the_slope_asked(tmp_path, on_nets):
    """`--arch grewal` (deviation 12): the authors' MNIST G and D train at 28 px, D's slope set by --lrelu-slope
    (their 0.01, as `make mnist-vral` passes it); another image size is refused."""
    import nets

    seen = {}
    on_nets(lambda g, d: seen.update(g=g, d=d))
    V.train(small(tmp_path, dataset="mnist", image_size=28, stand_in=True, download=False, data_root=str(tmp_path),
                  arch="grewal", lrelu_slope=0.01, steps=1, d_steps=1, eval_samples=0))
    assert isinstance(seen["g"], nets.GrewalGenerator) and isinstance(seen["d"], nets.GrewalDiscriminator)
    assert {m.negative_slope for m in seen["d"].modules() if isinstance(m, torch.nn.LeakyReLU)} == {0.01}
    with pytest.raises(common.UserError, match="28 px"):
        V.train(small(tmp_path, out=str(tmp_path / "r2"), arch="grewal", steps=1))
    with pytest.raises(common.UserError, match="--arch"):
        V.train(small(tmp_path, out=str(tmp_path / "r3"), arch="resnet", steps=1))


@pytest.mark.parametrize("init,calls", [("glorot", 2), ("pytorch", 0)])
def test_meta_init_reaches_f_and_r(tmp_path, monkeypatch, init, calls):
    seen = []
    real_glorot = V.glorot
    monkeypatch.setattr(V, "glorot", lambda m: seen.append(type(m).__name__) or real_glorot(m))
    V.train(small(tmp_path, meta_init=init, steps=1, eval_samples=0))
    assert seen == ["MetaDiscriminator"] * calls


# Call sites: train()'s steps
# One tap.record per variant (tests/tap.py) feeds the tests below: every net's step on the batches train() really
# used, against the paper's losses written here with logsigmoid (not the module's softplus forms).

import torch.nn.functional as TF  # noqa: E402

from tests import tap  # noqa: E402

MU_R, MU_F = 2.0, -2.0  # far apart, so a reference batch drawn from the wrong one shows


def tapped(tmp_path_factory, name, n, **kw):
    base = dict(dataset="ring8", width=32, batch_size=16, steps=10, d_steps=1, lr=1e-3, mu_real=MU_R,
                mu_fake=MU_F, log_every=1000, sample_every=1000, ckpt_every=1000, device="cpu",
                out=str(tmp_path_factory.mktemp(name) / "r"))
    return tap.record("methods.vral", V.Config(**{**base, **kw}), n)


@pytest.fixture(scope="module")
def vral_steps(tmp_path_factory):  # f r d g f r d
    return tapped(tmp_path_factory, "vral", 7)


@pytest.fixture(scope="module")
def sub_steps(tmp_path_factory):  # vral-sub with the critic term, the IPM generator loss, R's real batch shared
    return tapped(tmp_path_factory, "sub", 7, variant="vral-sub", d_critic=True, g_loss="ipm", share_real=True)


@pytest.fixture(scope="module")
def lip_steps(tmp_path_factory):  # m d g m d
    return tapped(tmp_path_factory, "lip", 5, variant="lipschitz", lip_k=3.0, lip_sigma=0.2)


def grads(loss, net):
    """{param name: d loss / d param} by autograd."""
    names, params = zip(*net.named_parameters())
    return dict(zip(names, torch.autograd.grad(loss, params, allow_unused=True)))


def same_grads(got, want):
    assert got.keys() == want.keys()
    for k in got:
        assert got[k] is not None and want[k] is not None, k
        assert torch.allclose(got[k], want[k], rtol=1e-4, atol=1e-6), k


def d_out_on(s, kind):
    """D's outputs, at this step, on its inputs of one kind (real or fake), in call order."""
    return [o for (kd, _), o in zip(s.calls["d"], s.outputs["d"]) if kd == kind]


def nll_real(logit):  # -log sigma(logit): the meta-discriminator's loss on what it should call real
    return -TF.logsigmoid(logit)


def nll_fake(logit):  # -log(1 - sigma(logit))
    return -TF.logsigmoid(-logit)


def meta_step(steps, name, d_kind, ref_mean, centre=False):
    """F's or R's step: its reference draws against D's outputs on `d_kind`; direction and gradient oracle."""
    s = tap.first(steps, name)
    (ref_kind, ref), (out_kind, y) = s.calls[name]
    (want,) = d_out_on(s, d_kind)  # D was called once, on a batch of this kind
    want = want - want.mean() if centre else want
    assert ref_kind == "?" and torch.allclose(y, want, atol=1e-6)
    assert abs(ref.mean().item() - ref_mean) < 1.2 and 0.4 < ref.std().item() < 1.8  # N(mean, 1), 16 draws
    bce = lambda meta: nll_real(meta(ref)) + nll_fake(meta(y))
    assert bce(s.after).item() < bce(s.before).item()  # the step separates them the right way
    same_grads(s.grads, grads(bce(s.before), s.before))
    assert not tap.has_grad(s.others["d"]) and not tap.has_grad(s.others["g"])  # D's outputs came detached


def test_f_step_separates_n_mu_f_from_d_on_fake(vral_steps):
    """F's step: labels swapped, mu_r for mu_f, D's real outputs for its fake ones, or another net's loss."""
    meta_step(vral_steps, "f", "fake", MU_F)


def test_r_step_separates_n_mu_r_from_d_on_real(vral_steps):
    """R's step: labels swapped, mu_f for mu_r, F and R swapped at their steps."""
    meta_step(vral_steps, "r", "real", MU_R)


def test_vral_sub_f_step_sees_the_centred_fake_batch_against_n_0_1(sub_steps):
    """Sec. 2.3: F's fake input centred, its reference N(0, 1); R's untouched."""
    meta_step(sub_steps, "f", "fake", 0.0, centre=True)
    meta_step(sub_steps, "r", "real", MU_R)


def d_step_check(steps, sub=False):
    f, r, s = tap.first(steps, "f"), tap.first(steps, "r"), tap.first(steps, "d")
    assert [k for k, _ in s.calls["d"]] == ["fake", "real"]
    (fake,), (real,) = tap.batches(s, "d", "fake"), tap.batches(s, "d", "real")
    prep = (lambda o: o - o.mean()) if sub else (lambda o: o)

    def eq10(d, fm, rm):  # -log F({phi(G(z))}) - log R({phi(x)}) (+ the critic term with --d-critic)
        out_f, out_r = d(fake), d(real)
        loss = nll_real(fm(prep(out_f))) + nll_real(rm(out_r))
        return loss + out_f.mean() - out_r.mean() if sub else loss

    fm, rm = f.after, r.after  # F and R as their steps left them
    assert eq10(s.after, fm, rm).item() < eq10(s.before, fm, rm).item()  # D fools F and R more
    same_grads(s.grads, grads(eq10(s.before, fm, rm), s.before))
    # F and R get D's loss's gradients on top of their own step's (their .grad is not zeroed by D's step) ...
    for meta, step_ in (("f", f), ("r", r)):
        fresh = grads(eq10(s.before, fm, rm), step_.after)
        same_grads(s.others[meta], {k: step_.grads[k] + fresh[k] for k in fresh})
    # ... but do not step: their next steps start where their first ones ended; G got nothing
    for meta, step_ in (("f", f), ("r", r)):
        nxt = tap.first(steps, meta, 1).before
        assert all(torch.equal(a, b) for a, b in zip(nxt.parameters(), step_.after.parameters()))
    assert not tap.has_grad(s.others["g"])
    return r, s


def test_d_step_fools_f_and_r_as_eq_10(vral_steps):
    """D's step (eq. 10): F and R swapped, real and fake swapped, labels flipped, F or R stepped by D's loss."""
    r, s = d_step_check(vral_steps)
    # Alg. 1: D draws its own real batch (--share-real off)
    assert not torch.equal(tap.batches(s, "d", "real")[0], tap.batches(r, "d", "real")[0])


def test_vral_sub_d_step_centres_fakes_and_adds_the_critic_term(sub_steps):
    """vral-sub + --d-critic: the centring dropped at D's call, the critic term's sign flipped; --share-real."""
    r, s = d_step_check(sub_steps, sub=True)
    assert torch.equal(tap.batches(s, "d", "real")[0], tap.batches(r, "d", "real")[0])


def g_step_check(steps, loss_fn):
    s, d_last = tap.first(steps, "g"), tap.first(steps, "d")
    (z,) = tap.batches(s, "g", "z")
    assert [k for k, _ in s.calls["d"]][:1] == ["fake"]
    d = d_last.after  # D at G's step: nothing stepped it since
    assert loss_fn(d, s.after, z).item() < loss_fn(d, s.before, z).item()
    same_grads(s.grads, grads(loss_fn(d, s.before, z), s.before))
    # G's step leaves D alone: no new gradient, and D's next step starts where its last one ended
    same_grads(s.others["d"], d_last.grads)
    nxt = tap.first(steps, "d", 1).before
    assert all(torch.equal(a, b) for a, b in zip(nxt.parameters(), d.parameters()))
    return s, d


def test_g_step_least_squares_to_mu_r(vral_steps):
    """G's step, eq. (12): mu_f for mu_r, a detached G output, a sign flip, D stepped or given G's gradient."""
    g_step_check(vral_steps, lambda d, g, z: ((d(g(z)) - MU_R) ** 2).mean())


def test_g_step_ipm_raises_d_on_fakes(sub_steps):
    """--g-loss ipm (eq. 11, our sign): G's step raises D's mean output on its samples."""
    s, d = g_step_check(sub_steps, lambda d, g, z: -d(g(z)).mean())  # + E phi(x), constant in G
    (z,) = tap.batches(s, "g", "z")
    assert d(s.after(z)).mean() > d(s.before(z)).mean()


def pair_slopes(d, real, fake):
    """|phi(x_i) - phi(y_i)| / ||x_i - y_i||, one pair at a time."""
    return torch.stack([(d(x[None]) - d(y[None])).abs()[0] / (x - y).norm() for x, y in zip(real, fake)])


def test_lipschitz_m_step_separates_n_k_sigma_from_d_slopes(lip_steps):
    """M's step (eq. 13): its reference N(K, sigma*), the slopes of the current D on paired real and fake batches."""
    s = tap.first(lip_steps, "m")
    d = tap.first(lip_steps, "d").before  # D at M's step
    assert [k for k, _ in s.calls["d"]] == ["real", "fake"]
    (real,), (fake,) = tap.batches(s, "d", "real"), tap.batches(s, "d", "fake")
    (_, ref), (_, sl) = s.calls["m"]
    assert torch.allclose(sl, pair_slopes(d, real, fake).detach(), rtol=1e-5, atol=1e-6)
    assert abs(ref.mean().item() - 3.0) < 0.2 and 0.1 < ref.std().item() < 0.35
    bce = lambda m: nll_real(m(ref)) + nll_fake(m(sl))
    assert bce(s.after).item() < bce(s.before).item()
    same_grads(s.grads, grads(bce(s.before), s.before))


def test_lipschitz_d_step_critic_plus_fooling_m(lip_steps):
    """D's step (sec. 2.4): the critic's sign, M's label, the slopes' pairing, M stepped by D's loss."""
    m, s = tap.first(lip_steps, "m"), tap.first(lip_steps, "d")
    (real,), (fake,) = tap.batches(s, "d", "real"), tap.batches(s, "d", "fake")
    loss = lambda d: d(fake).mean() - d(real).mean() + nll_real(m.after(pair_slopes(d, real, fake)))
    assert loss(s.after).item() < loss(s.before).item()
    same_grads(s.grads, grads(loss(s.before), s.before))
    nxt = tap.first(lip_steps, "m", 1).before
    assert all(torch.equal(a, b) for a, b in zip(nxt.parameters(), m.after.parameters()))


def test_lipschitz_g_step_is_ipm(lip_steps):
    """The Lipschitz variant's G always uses eq. (11) with our sign, whatever --g-loss says."""
    g_step_check(lip_steps, lambda d, g, z: -d(g(z)).mean())


def test_lipschitz_slope_stats_on_the_final_batches(tmp_path, monkeypatch):
    """The summary's slope statistics: slopes of the final D between the i-th real and i-th generated sample of
    the diagnostic batches, recomputed pair by pair (wrong tensor, wrong net, real paired with real)."""
    seen = {}
    real_diag = common.metrics.d_diagnostics
    monkeypatch.setattr(common.metrics, "d_diagnostics",
                        lambda d, reals, fakes: seen.update(d=d, reals=reals, fakes=fakes) or real_diag(d, reals, fakes))
    for name in ("plot_d_surface", "plot_hist_grid", "plot_grad_norm_history"):
        monkeypatch.setattr(figures, name, lambda *a, **kw: None)  # not under test here
    monkeypatch.setattr(common.Run, "save_samples", lambda *a, **kw: None)
    cfg = V.Config(variant="lipschitz", dataset="ring8", width=32, batch_size=16, steps=1, diag_batches=2,
                   eval_samples=0, log_every=1000, sample_every=1000, ckpt_every=1000, device="cpu",
                   out=str(tmp_path / "r"))
    summary = V.train(cfg)
    with torch.no_grad():
        sl = torch.cat([pair_slopes(seen["d"], x, y) for x, y in zip(seen["reals"], seen["fakes"])]).double()
    assert summary["slope_mean"] == pytest.approx(sl.mean().item(), rel=1e-4)
    assert summary["slope_std"] == pytest.approx(sl.std().item(), rel=1e-3)
