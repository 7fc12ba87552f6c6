"""methods/mdgan.py: the four losses of app. A against hand computations, what each step does to its networks,
the loop's wiring (which batch each network sees, which loss steps which network, line 6's D2(G(z))), the
settings and Table 3."""

import json
import math

import numpy as np
import pytest
import torch

import common
import data as datasets
import metrics
import nets
from methods import mdgan as M
from methods import mode_reg


def softplus(v):
    return math.log1p(math.exp(v))


LOGIT_A = (0.3, -1.2, 2.0)
LOGIT_B = (-0.5, 0.7, 0.1)

# ---------------------------------------------------------------------------
# App. A's losses on fixed tensors
# ---------------------------------------------------------------------------


def test_d1_loss_is_line_2_real_data_against_reconstructions():
    # -log D1(x) = softplus(-l), -log(1 - D1(G(E(x)))) = softplus(l)
    want = np.mean([softplus(-l) for l in LOGIT_A]) + np.mean([softplus(l) for l in LOGIT_B])
    assert float(M.d1_loss(torch.tensor(LOGIT_A), torch.tensor(LOGIT_B))) == pytest.approx(want)


def test_manifold_loss_is_line_3_with_lambda1_on_the_distance_and_lambda2_on_minus_log_d1():
    x = torch.tensor([[1.0, -2.0], [0.5, 0.0], [-1.0, 3.0]])
    rec = torch.tensor([[0.0, -1.0], [0.5, 2.0], [1.0, 1.0]])
    dist = (2.0 + 4.0 + 8.0) / 3  # ||x - rec||^2 per sample: 1 + 1, 0 + 4, 4 + 4
    neg_log_d1 = np.mean([-math.log(1 / (1 + math.exp(-l))) for l in LOGIT_A])
    loss, d, m = M.manifold_loss(x, rec, torch.tensor(LOGIT_A), lam1=0.2, lam2=0.4)
    assert (float(d), float(m)) == (pytest.approx(dist), pytest.approx(neg_log_d1))
    assert float(loss) == pytest.approx(0.2 * dist + 0.4 * neg_log_d1)
    # the pseudo-code's form: lambda log D1 - ||x - G(E(x))||^2, ascended, is lambda1 = 1, lambda2 = lambda
    assert float(M.manifold_loss(x, rec, torch.tensor(LOGIT_A), 1.0, 3.0)[0]) == pytest.approx(dist + 3 * neg_log_d1)


def test_d2_loss_is_line_6_reconstructions_as_the_real_side():
    want = np.mean([softplus(-l) for l in LOGIT_A]) + np.mean([softplus(l) for l in LOGIT_B])
    assert float(M.d2_loss(torch.tensor(LOGIT_A), torch.tensor(LOGIT_B))) == pytest.approx(want)
    swapped = np.mean([softplus(-l) for l in LOGIT_B]) + np.mean([softplus(l) for l in LOGIT_A])
    assert float(M.d2_loss(torch.tensor(LOGIT_B), torch.tensor(LOGIT_A))) == pytest.approx(swapped)


def test_diffusion_loss_is_line_7_minus_log_d2_of_the_samples():
    assert float(M.diffusion_loss(torch.tensor(LOGIT_B))) == pytest.approx(np.mean([softplus(-l) for l in LOGIT_B]))


# ---------------------------------------------------------------------------
# What each step does
# ---------------------------------------------------------------------------


def small_nets(seed=0):
    torch.manual_seed(seed)
    return nets.MLPGenerator(3, (2,), 32), nets.MLPEncoder((2,), 3, 32), nets.MLPDiscriminator((2,), 32, 1)


def test_manifold_steps_lower_the_reconstruction_error_on_a_toy_problem():
    g, e, d1 = small_nets()
    x = datasets.toy("ring6", "cpu").sample(256)
    err = lambda: float(mode_reg.distance(x, g(e(x))).mean().detach())
    before = err()
    opt = torch.optim.Adam(list(g.parameters()) + list(e.parameters()), lr=1e-2)
    for _ in range(100):
        rec = g(e(x))
        loss, _, _ = M.manifold_loss(x, rec, d1(rec), lam1=1.0, lam2=0.01)
        M.descend(opt, loss)
    assert err() < 0.2 * before  # a ring of radius 5: the error starts near 25


def test_a_manifold_step_on_the_d1_term_raises_d1_on_the_reconstructions():
    g, e, d1 = small_nets(1)
    x = torch.randn(64, 2)
    before = float(torch.sigmoid(d1(g(e(x)))).mean().detach())
    opt = torch.optim.SGD(list(g.parameters()) + list(e.parameters()), lr=0.5)
    rec = g(e(x))
    M.descend(opt, M.manifold_loss(x, rec, d1(rec), lam1=0.0, lam2=1.0)[0])
    assert float(torch.sigmoid(d1(g(e(x)))).mean().detach()) > before + 1e-3


def test_a_diffusion_step_moves_d2s_view_of_g_z_towards_that_of_the_reconstructions():
    """Line 7 after line 6: D2 has learnt to tell reconstructions (here ring samples stand in for a G(E(x)) that
    already matches the data) from G(z); a step of G on line 7 raises D2(G(z)) towards D2(G(E(x)))."""
    g, _, d2 = small_nets(2)
    rec, z = datasets.toy("ring6", "cpu").sample(256), torch.rand(256, 3)
    opt_d2 = torch.optim.Adam(d2.parameters(), lr=1e-2)
    for _ in range(50):
        with torch.no_grad():
            fake = g(z)
        M.descend(opt_d2, M.d2_loss(d2(rec), d2(fake)))
    view = lambda v: float(torch.sigmoid(d2(v)).mean())
    with torch.no_grad():
        gap = view(rec) - view(g(z))
    assert gap > 0.5
    M.descend(torch.optim.SGD(g.parameters(), lr=1.0), M.diffusion_loss(d2(g(z))))
    with torch.no_grad():
        assert view(rec) - view(g(z)) < gap - 0.02  # measured: 0.83 -> 0.78


# ---------------------------------------------------------------------------
# The loop's wiring
# ---------------------------------------------------------------------------


def toy_config(tmp_path, **kw):
    base = dict(dataset="ring6", steps=3, batch_size=32, g_width=16, d_width=16, heat_steps=(), log_every=3,
                eval_samples=200, out=str(tmp_path / "r"))
    return M.Config(**{**base, **kw})


def hooked_nets(monkeypatch, seen):
    """make_nets whose G, D1, D2 and E record every input (a clone), keyed by net."""
    real = M.make_nets

    def spy(*a):
        built = real(*a)
        for name, net in zip(("g", "d1", "d2", "e"), built[:4]):
            net.register_forward_hook(lambda m, inp, out, name=name: seen.append((name, inp[0].detach().clone())))
        seen_nets.update(zip(("g", "d1", "d2", "e"), built[:4]))
        return built

    seen_nets = {}
    monkeypatch.setattr(M, "make_nets", spy)
    return seen_nets


def test_each_discriminator_sees_its_own_pair_and_line_6_judges_g_of_z(tmp_path, monkeypatch):
    """D1: real x, then G(E(x)) (line 2) and G(E(x)) (line 3); D2: G(E(x')) for fresh real x', G(z) (line 6, not z:
    deviation 1), and G(z) with the same z in line 7."""
    seen = []
    built = hooked_nets(monkeypatch, seen)
    M.train(toy_config(tmp_path, steps=2, log_every=100, eval_samples=0))
    ring = datasets.toy("ring6", "cpu")
    per_step = 5 + 3 + 3 + 3  # G: E(x) twice, E(x'), z, z; D1: 3 calls; D2: 3 calls; E: x, x, x'
    for s in range(2):
        calls = seen[s * per_step:(s + 1) * per_step]
        g_in, d1_in, d2_in, e_in = ([v for n, v in calls if n == k] for k in ("g", "d1", "d2", "e"))
        assert [n for n, _ in calls] == ["e", "g", "d1", "d1", "e", "g", "d1", "e", "g", "g", "d2", "d2", "g", "d2"]
        x = d1_in[0]
        assert metrics.nearest_mode(x.numpy(), ring.centers)[1].max() < 1.0  # real data
        # line 2's and line 3's reconstructions are of line 1's x (G and E unchanged between them)
        assert torch.equal(e_in[0], x) and torch.equal(e_in[1], x) and torch.equal(d1_in[1], d1_in[2])
        # line 4 draws fresh real data
        assert not torch.equal(e_in[2], x) and metrics.nearest_mode(e_in[2].numpy(), ring.centers)[1].max() < 1.0
        z = g_in[3]
        assert z.shape == (32, 3) and float(z.min()) >= 0 and float(z.max()) <= 1  # U[0, 1]^3
        assert torch.equal(g_in[4], z)  # line 7: line 5's z
        assert d2_in[1].shape == (32, 2) and torch.equal(d2_in[1], d2_in[2])  # D2 judges G(z), the same in line 7
        assert not torch.equal(d2_in[0], d2_in[1])
    assert set(built) == {"g", "d1", "d2", "e"}


def test_line_3_gets_both_weights_the_distance_flag_and_d1(tmp_path, monkeypatch):
    seen, built = [], hooked_nets(monkeypatch, [])
    real = M.manifold_loss

    def spy(x, rec, logit_rec, lam1, lam2, kind, d1):
        seen.append((lam1, lam2, kind, d1 is built["d1"]))
        return real(x, rec, logit_rec, lam1, lam2, kind, d1)

    monkeypatch.setattr(M, "manifold_loss", spy)
    M.train(toy_config(tmp_path, steps=2, log_every=1, eval_samples=0, lam1=0.25, lam2=0.75, distance="feature"))
    assert seen == [(0.25, 0.75, "feature", True)] * 2
    for r in common.read_jsonl(tmp_path / "r" / "metrics.jsonl"):  # the logged parts make up the logged loss
        assert r["loss_m"] == pytest.approx(0.25 * r["rec_distance"] + 0.75 * r["rec_neg_log_d1"], rel=1e-5)


def test_each_network_is_stepped_by_its_own_loss_with_its_gradient(tmp_path, monkeypatch):
    """Per iteration: D1 by line 2, G and E by line 3, D2 by line 6, G by line 7 with its own Adam state."""
    params_of, used, expected = [], [], []
    real_adam = M.adam

    def spy_adam(params, cfg):
        params = list(params)
        opt = real_adam(params, cfg)
        key = ["g_manifold", "d1", "d2", "e", "g_diffusion"][len(params_of)]
        params_of.append((key, params))
        step = opt.step
        opt.step = lambda *a, **k: used.append((key, [p.grad.clone() for p in params])) or step(*a, **k)
        return opt

    def grads(loss, keys):
        ps = dict(params_of)
        return {k: [g.clone() for g in torch.autograd.grad(loss, ps.get(k, ps["g_manifold"]), retain_graph=True,
                                                                  allow_unused=True)]
                for k in keys}

    def spy(fn, keys):
        def wrapped(*a, **k):
            out = fn(*a, **k)
            expected.append(grads(out[0] if isinstance(out, tuple) else out, keys))
            return out
        return wrapped

    monkeypatch.setattr(M, "adam", spy_adam)
    monkeypatch.setattr(M, "d1_loss", spy(M.d1_loss, ["d1"]))
    monkeypatch.setattr(M, "manifold_loss", spy(M.manifold_loss, ["g_manifold", "e"]))
    monkeypatch.setattr(M, "d2_loss", spy(M.d2_loss, ["d2"]))
    monkeypatch.setattr(M, "diffusion_loss", spy(M.diffusion_loss, ["g_diffusion"]))
    M.train(toy_config(tmp_path, steps=2, log_every=100, eval_samples=0))
    assert [k for k, _ in used] == ["d1", "g_manifold", "e", "d2", "g_diffusion"] * 2
    want = {}
    for exp in expected:  # in call order: line 2, 3, 6, 7, twice
        for k, v in exp.items():
            want.setdefault(k, []).append(v)
    got = {}
    for k, v in used:
        got.setdefault(k, []).append(v)
    for k in got:
        for a, b in zip(got[k], want[k]):
            assert all(torch.allclose(x, y, atol=1e-7) for x, y in zip(a, b)), k
    # G's two steps keep two Adam states (deviation 4); shared: one
    assert [k for k, _ in params_of] == ["g_manifold", "d1", "d2", "e", "g_diffusion"]
    params_of.clear(), used.clear(), expected.clear()
    M.train(toy_config(tmp_path, steps=1, log_every=100, eval_samples=0, g_optim="shared", overwrite=True))
    assert [k for k, _ in params_of] == ["g_manifold", "d1", "d2", "e"]
    assert [k for k, _ in used] == ["d1", "g_manifold", "e", "d2", "g_manifold"]


def test_d_steps_repeat_each_discriminators_update_on_fresh_batches(tmp_path, monkeypatch):
    calls = []
    for fn in ("d1_loss", "d2_loss", "manifold_loss", "diffusion_loss"):
        real = getattr(M, fn)
        monkeypatch.setattr(M, fn, lambda *a, real=real, fn=fn, **k: calls.append(fn) or real(*a, **k))
    M.train(toy_config(tmp_path, steps=2, d_steps=3, log_every=100, eval_samples=0))
    assert calls == (["d1_loss"] * 3 + ["manifold_loss"] + ["d2_loss"] * 3 + ["diffusion_loss"]) * 2


def test_generator_batches_use_their_own_batch_norm_streams(tmp_path, monkeypatch):
    seen = []
    real_forward = nets.SplitBatchNorm2d.forward
    monkeypatch.setattr(nets.SplitBatchNorm2d, "forward",
                        lambda self, x: seen.append(self.stream) or real_forward(self, x))
    M.train(M.Config(dataset="digits", steps=1, batch_size=8, g_width=8, d_width=8, log_every=100, eval_samples=0,
                     out=str(tmp_path / "r")))
    # lines 2, 3, 6 (G(E(x))), 6 (G(z)), 7: one BN layer in G at 8 px
    assert seen[:5] == ["encoder", "encoder", "encoder", "noise", "noise"]


def test_resolve_takes_reg_gans_settings_and_table_3s_z(tmp_path):
    i = M.resolve(M.Config())
    assert (i.dataset, i.z_dim, i.lam1, i.lam2, i.lr, i.batch_size, i.prior, i.encoder_out, i.g_width) == \
        ("celeba", 200, 0.2, 0.4, 2e-4, 64, "normal", "linear", 64)
    t = M.resolve(M.Config(dataset="ring6"))
    assert (t.z_dim, t.lam1, t.lam2, t.lr, t.batch_size, t.prior, t.encoder_out, t.g_width) == \
        (3, 0.005, 0.005, 1e-4, 512, "uniform", "sigmoid", 128)
    assert M.resolve(M.Config(dataset="digits", z_dim=100, lam1=0.0)).z_dim == 100
    g, d1, d2, e, norm = M.make_nets(M.resolve(M.Config(dataset="digits", g_width=8, d_width=8)),
                                     datasets.load("digits", "data", "cpu"), 200)
    assert isinstance(d1, nets.DCGANDiscriminator) and isinstance(d2, nets.DCGANDiscriminator) and d1 is not d2
    assert isinstance(e, nets.DCGANEncoder) and norm == "batch"
    assert any(isinstance(m, nets.SplitBatchNorm2d) for m in g.modules())


def test_a_toy_run_logs_both_steps_and_keeps_heatmaps(tmp_path):
    s = M.train(toy_config(tmp_path, steps=6, heat_steps=(0, 6)))
    assert s["model"] == "mdgan" and s["z"] == 3 and s["g_optim"] == "separate"
    assert [r["step"] for r in s["over_time"]] == [0, 6] and (tmp_path / "r" / "heatmaps.png").exists()
    for r in common.read_jsonl(tmp_path / "r" / "metrics.jsonl"):
        assert {"loss_d", "loss_m", "loss_d2", "loss_g", "rec_distance", "rec_neg_log_d1"} <= set(r)
        assert 0 < r["d2_rec"] < 1 and 0 < r["d2_fake"] < 1 and r["rec_distance"] > 0


def test_an_image_run_counts_missing_modes_and_draws_the_missed_test_images(tmp_path):
    s = M.train(M.Config(dataset="compositional_digits", image_size=16, steps=2, batch_size=16, g_width=8,
                         d_width=8, log_every=2, eval_samples=200, third_party_sigma=(0.5,), third_party_steps=5,
                         third_party_threshold=0.05, out=str(tmp_path / "r")))
    for k in ("missed_modes", "kl_train_modes", "real_missed_modes", "rec_distance_final", "missing_sigma0.5"):
        assert k in s, k
    assert s["missing_sigma0.5"] > 0 and (tmp_path / "r" / "missing_sigma0.5.png").exists()
    assert s["z"] == 200


def test_bad_settings_are_refused(tmp_path):
    for bad in (dict(g_optim="one"), dict(distance="l1"), dict(d_steps=0), dict(lam2=-0.5), dict(prior="cauchy"),
                dict(third_party_threshold=1.0), dict(betas=(0.5,)), dict(heat_steps=(1.5,))):
        with pytest.raises(common.UserError):
            M.train(toy_config(tmp_path, **bad))


# ---------------------------------------------------------------------------
# Table 3
# ---------------------------------------------------------------------------


def test_table_puts_each_model_and_z_in_its_column_with_means_over_seeds(tmp_path):
    runs = {"gan-z100-s0": 500, "gan-z100-s1": 700, "reg-z100-s0": 40, "mdgan-z200-s0": 10, "mdgan-z200-s1": 20,
            "mdgan-pixel-z200-s0": 30}
    for name, miss in runs.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps(
            {"missing_sigma3.5": miss, "missing_sigma4": miss // 10, "missed_modes": miss / 10,
             "kl_train_modes": miss / 1000, "kl_modes": 9.0, "real_missed_modes": 3, "third_party_images": 1000,
             "perfect_missed_modes": 0.05, "third_party_test": "held-out digit images"}))
    (tmp_path / "other").mkdir()
    M.table([tmp_path / n for n in [*runs, "other"]], tmp_path / "t")
    text = (tmp_path / "t" / "table3.md").read_text()
    assert "| | DCGAN (100) | Reg-GAN (100) | MDGAN (200) | MDGAN (200, d pixel) |" in text
    assert "| sigma 3.5 | 600.0 ± 100.0 | 40.0 ± 0.0 | 15.0 ± 5.0 | 30.0 ± 0.0 |" in text
    assert "| sigma 4 | 60.0 ± 10.0 | 4.0 ± 0.0 | 1.5 ± 0.5 | 3.0 ± 0.0 |" in text
    # Table 2's measure on Table 3's runs, labelled as such
    assert "| Table 2's #Miss (of 1,000) | 60.0 ± 10.0 | 4.0 ± 0.0 | 1.5 ± 0.5 | 3.0 ± 0.0 |" in text
    assert "| KL (smoothed, train vs generated) | 0.600 ± 0.100 | 0.040 ± 0.000 | 0.015 ± 0.005 | 0.030 ± 0.000 |" in text
    assert "(of 1000 test images)" in text and "misses 3.0 ± 0.0" in text and "DCGAN (100): 2" in text
    assert "A perfect sampler misses 0.05" in text and "Test images: held-out digit images." in text
    with pytest.raises(common.UserError):
        M.table([tmp_path / "other"], tmp_path / "t")


# ---------------------------------------------------------------------------
# Call sites: train()'s steps (tests/tap.py records the real loop's optimizer steps)
# ---------------------------------------------------------------------------

import copy  # noqa: E402

import torch.nn.functional as F  # noqa: E402

from tests import tap  # noqa: E402

LAMS = dict(lam1=0.05, lam2=0.5)  # both terms of line 3 of the same order at the start on ring8
ORDER = ["d", "g", "e", "d2", "g_diffusion"]  # D1 (the harness's d), G and E on line 3, D2, G on line 7


def md_steps(root, name, n_steps, **kw):
    base = dict(dataset="ring8", steps=50, batch_size=32, g_width=32, d_width=32, heat_steps=(), log_every=1,
                sample_every=10**6, ckpt_every=10**6, eval_samples=0, device="cpu", out=str(root / name), **LAMS)
    return tap.record(M, M.Config(**{**base, **kw}), n_steps)


@pytest.fixture(scope="module")
def md(tmp_path_factory):
    """Same seed, same batches: one iteration with pixel and feature distance, each term of line 3 off, one Adam."""
    root = tmp_path_factory.mktemp("md")
    runs = {"a": md_steps(root, "a", 6), "f": md_steps(root, "f", 6, distance="feature"),
            "no_dist": md_steps(root, "no_dist", 5, lam1=0.0), "no_mode": md_steps(root, "no_mode", 5, lam2=0.0),
            "shared": md_steps(root, "shared", 5, g_optim="shared")}
    runs["logged"] = {k: common.read_jsonl(root / k / "metrics.jsonl")[0] for k in ("a", "f")}
    return runs


def manifold_view(steps):
    """(x, G, D1, E) as line 3 saw them: line 1's batch, G and E before their step, D1 after its own."""
    s1, sg, se = tap.first(steps, "d"), tap.first(steps, "g"), tap.first(steps, "e")
    return tap.one(sg, "e", "real"), sg.before, s1.after, se.before


def oracle_line3(g, d1, e, x, lam1, lam2, kind):
    """App. A line 3 as a loss (deviation 2): lambda1 d(x, G(E(x))) - lambda2 log D1(G(E(x))), sample by sample."""
    rec = g(e(x))
    f = lambda v: torch.relu(d1.net[0](v))  # the toy D1's last hidden layer, by hand
    diff = f(x) - f(rec) if kind == "feature" else x - rec
    dist = torch.stack([(row ** 2).sum() for row in diff]).mean()
    neg_log_d1 = -torch.log(torch.sigmoid(d1(rec))).mean()
    return lam1 * dist + lam2 * neg_log_d1, dist, neg_log_d1


def test_call_sites_one_iteration_steps_d1_g_e_d2_g(md):
    """E never stepped, a step missing, repeated or out of order, or a second G optimizer under shared: red."""
    assert [s.name for s in md["a"]] == ORDER + ["d"]
    assert [s.name for s in md["shared"]] == ["d", "g", "e", "d2", "g"]
    se = tap.first(md["a"], "e")
    assert tap.has_grad(se.grads) and tap.changed(dict(se.before.named_parameters()), dict(se.after.named_parameters()))


def test_call_sites_d1_and_d2_steps_raise_their_margins_on_their_own_pairs(md):
    """D1: real x above G(E(x)); D2: G(E(x)) (its "real") above G(z): a pair swapped, D2 judging real data or z,
    line 4 reusing line 1's x, or a generator loss leaking into a D: red."""
    for run in ("a", "f"):
        s1, sg, se, s2, sgd = (tap.first(md[run], n) for n in ORDER)
        assert [kd for kd, _ in s1.calls["d"]] == ["real", "rec"], run
        assert [kd for kd, _ in s2.calls["d2"]] == ["rec", "fake"], run
        for s, net, pos, neg in ((s1, "d", "real", "rec"), (s2, "d2", "rec", "fake")):
            a, b = tap.one(s, net, pos), tap.one(s, net, neg)
            margin = lambda d: (d(a).mean() - d(b).mean()).item()
            assert margin(s.after) > margin(s.before), (run, net)
            tap.assert_grads_close(s.grads, tap.grads_of(s.before, lambda d: F.softplus(-d(a.double())).mean()
                                                 + F.softplus(d(b.double())).mean()))
        assert torch.equal(tap.one(s1, "d", "real"), tap.one(sg, "e", "real")), "line 3 uses line 1's x"
        assert not torch.equal(tap.one(s2, "e", "real"), tap.one(sg, "e", "real")), "line 4 draws a fresh x"
        for s in (sg, se, s2, sgd):
            assert not tap.changed(s1.grads, s.others["d"]), (run, s.name, "reached D1")
        assert not tap.changed(s2.grads, sgd.others["d2"]), (run, "line 7 reached D2")
        assert not tap.changed(se.grads, sgd.others["e"]), (run, "line 7 reached E")


def test_call_sites_manifold_step_lowers_the_distance_and_raises_d1_on_reconstructions(md):
    """G's and E's steps on the distance alone lower d(x, G(E(x))), on the D1 term alone lower -log D1(G(E(x))):
    a sign, a cut or a term routed past G or E: red."""
    for run, term in (("no_mode", 1), ("no_dist", 2)):
        x, g, d1, e = manifold_view(md[run])
        g_after, e_after = tap.first(md[run], "g").after, tap.first(md[run], "e").after
        with torch.no_grad():
            before = oracle_line3(g, d1, e, x, 1.0, 1.0, "pixel")[term]
            assert oracle_line3(g_after, d1, e, x, 1.0, 1.0, "pixel")[term] < before, (run, "G")
            assert oracle_line3(g, d1, e_after, x, 1.0, 1.0, "pixel")[term] < before, (run, "E")


def test_call_sites_each_line_3_term_reaches_g_and_e(md):
    """The distance or the D1 term cut from G or E (rec.detach(), d1(rec.detach()), a zero weight): red."""
    assert not tap.changed(tap.first(md["a"], "d").grads, tap.first(md["no_mode"], "d").grads)  # same start
    for off in ("no_dist", "no_mode"):
        for net in ("g", "e"):
            assert tap.changed(tap.first(md["a"], net).grads, tap.first(md[off], net).grads), (off, net)
            assert tap.has_grad(tap.first(md[off], net).grads), (off, net)


@pytest.mark.parametrize("run,kind", [("a", "pixel"), ("f", "feature")])
def test_call_sites_g_and_e_gradients_are_line_3_on_the_loops_batch(md, run, kind):
    """Line 3 written from the paper on line 1's batch: a wrong input, weight, distance flag or cut: red."""
    x, g, d1, e = manifold_view(md[run])
    x, d1 = x.double(), tap.double(d1)
    tap.assert_grads_close(tap.first(md[run], "g").grads,
                       tap.grads_of(g, lambda g: oracle_line3(g, d1, tap.double(e), x, **LAMS, kind=kind)[0]))
    tap.assert_grads_close(tap.first(md[run], "e").grads,
                       tap.grads_of(e, lambda e: oracle_line3(tap.double(g), d1, e, x, **LAMS, kind=kind)[0]))


def test_call_sites_diffusion_step_raises_d2_on_g_of_line_5s_z(md):
    """Line 7: G's step on -log D2(G(z)) with line 5's z and D2 after line 6 (fresh z, D1 for D2, the sign): red."""
    s2, sgd = tap.first(md["a"], "d2"), tap.first(md["a"], "g_diffusion")
    z = tap.one(sgd, "g", "z")
    assert torch.equal(z, tap.one(s2, "g", "z")), "line 7 uses line 5's z"
    d2 = s2.after
    with torch.no_grad():
        assert d2(sgd.after(z)).mean() > d2(sgd.before(z)).mean()
    d2 = tap.double(d2)
    tap.assert_grads_close(sgd.grads, tap.grads_of(sgd.before, lambda g: -torch.log(torch.sigmoid(d2(g(z.double())))).mean()))


def adam_replay(before, grads_seq):
    """`before` after Adam steps (the run's lr and betas) on the given gradients, one optimizer throughout."""
    cfg = M.resolve(M.Config(dataset="ring8"))
    net = copy.deepcopy(before)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, betas=tuple(cfg.betas))
    for grads in grads_seq:
        for k, p in net.named_parameters():
            p.grad = grads[k].clone()
        opt.step()
    return dict(net.named_parameters())


@pytest.mark.parametrize("run", ["a", "shared"])
def test_call_sites_g_optim_gives_line_7_its_own_adam_state_or_the_shared_one(md, run):
    """Deviation 4: separate: line 7's step is a fresh Adam's first step; shared: the second step of line 3's Adam
    (the option ignored either way: red)."""
    sg, sg7 = tap.first(md[run], "g"), md[run][4]
    assert sg7.net == "g"
    want = adam_replay(sg.before, [sg.grads, sg7.grads]) if run == "shared" else adam_replay(sg7.before, [sg7.grads])
    for k, p in sg7.after.named_parameters():
        assert torch.allclose(p, want[k], atol=1e-7), k


@pytest.mark.parametrize("run,kind", [("a", "pixel"), ("f", "feature")])
def test_call_sites_logged_metrics_are_those_of_line_3_and_line_6(md, run, kind):
    """rec_distance, rec_neg_log_d1 (line 3's batch), d2_rec, d2_fake (line 6's, D2 before its update) logged from
    another tensor, net or distance: red."""
    x, g, d1, e = manifold_view(md[run])
    s2 = tap.first(md[run], "d2")
    with torch.no_grad():
        _, dist, neg_log_d1 = oracle_line3(g, d1, e, x, 1.0, 1.0, kind)
        d2_rec = torch.sigmoid(s2.before(tap.one(s2, "d2", "rec"))).mean()
        d2_fake = torch.sigmoid(s2.before(tap.one(s2, "d2", "fake"))).mean()
    logged = md["logged"][run]
    assert logged["step"] == 1
    for k, v in (("rec_distance", dist), ("rec_neg_log_d1", neg_log_d1), ("d2_rec", d2_rec), ("d2_fake", d2_fake)):
        assert logged[k] == pytest.approx(float(v), rel=1e-5), k


def test_call_sites_g_batches_update_their_own_batch_norm_statistics(tmp_path):
    """App. B: G(E(x)) of lines 2, 3, 6 updates the encoder statistics, G(z) of lines 6, 7 the noise ones (a stream
    swapped at any of the five: red)."""
    steps = tap.record(M, M.Config(dataset="digits", steps=5, batch_size=8, g_width=8, d_width=8, log_every=100,
                                   sample_every=10**6, ckpt_every=10**6, eval_samples=0, out=str(tmp_path / "r")), 5)
    s1, sg, _, s2, sgd = (tap.first(steps, n) for n in ORDER)
    replay = copy.deepcopy(sg.before).train()
    for m in replay.modules():  # G as built: its statistics at their start
        if isinstance(m, nets.SplitBatchNorm2d):
            for s in m.streams:
                getattr(m, f"running_mean_{s}").zero_()
                getattr(m, f"running_var_{s}").fill_(1.0)
    late = copy.deepcopy(sg.after).train()  # G after line 3, statistics as they were then
    with torch.no_grad():
        with nets.batch_norm_stream(replay, "encoder"):
            replay(tap.one(s1, "g", "out:e")), replay(tap.one(sg, "g", "out:e"))  # lines 2, 3
        with nets.batch_norm_stream(late, "encoder"):
            late(tap.one(s2, "g", "out:e"))  # line 6's G(E(x))
        with nets.batch_norm_stream(late, "noise"):
            late(tap.one(s2, "g", "z")), late(tap.one(sgd, "g", "z"))  # line 6's G(z), line 7's
    for got, want in ((sg.before, replay), (sgd.before, late)):
        got, want = dict(got.named_buffers()), dict(want.named_buffers())
        assert any("encoder" in k for k in want) and any("noise" in k for k in want)
        for k in want:
            assert torch.allclose(got[k], want[k], atol=1e-6), k
