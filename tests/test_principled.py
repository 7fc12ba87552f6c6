"""Arjovsky & Bottou's experiment: G's gradient norm against a closed form, the frozen-G phase, the wiring of instance noise."""

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn as nn

import common
import data as datasets
import figures
import nets
from methods import baselines as B
from methods import principled as P
from tests.test_baselines import Linear  # f(x) = <w, x> + 0.3


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
    assert P.generator_grad_norm(g, d, z, cost) == pytest.approx(want, rel=1e-10)
    assert all(p.grad is None for p in g.parameters())


def test_fresh_discriminator_phase_freezes_g_and_logs_the_direct_norm(tmp_path):
    torch.manual_seed(0)
    cfg = P.Config(dataset="digits", batch_size=16, d_iters=30, measure_every=10, grad_batches=3, seed=0)
    ds = datasets.load("digits")
    g, d = nets.DCGANGenerator(8, 8, 1, 8), nets.DCGANDiscriminator(8, 1, 8)
    before = {k: v.clone() for k, v in g.state_dict().items()}
    rows = P.fresh_discriminator_phase(cfg, ds, g, d, 8, torch.device("cpu"), sigma=0.0)
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
    cfg = P.Config(dataset="digits", epochs="1,2", epoch_steps=3, d_iters=20, measure_every=10, grad_batches=2,
                   d_noise=0.3, batch_size=16, device="cpu", out=str(tmp_path / "p"), log_every=1, eval_samples=100)
    s = P.train(cfg)
    for f in ["d_error.png", "d_accuracy.png", "grad_minimax.png", "grad_nonsaturating.png", "noise_grad_minimax.png",
              "noise_d_error.png", "gan/g_step3.pt", "gan/g_step6.pt"]:
        assert (tmp_path / "p" / f).exists(), f
    assert {"k1_minimax_last", "k2_noise_nonsat_cv_last", "k2_minimax_decades"} <= set(s)
    rows = common.read_jsonl(tmp_path / "p" / "metrics.jsonl")
    assert len(rows) == 2 * 2 * 3 and {r["epochs"] for r in rows} == {1, 2}


def test_phase_one_keeps_g_after_each_epoch_count_as_one_uninterrupted_run(tmp_path):
    """G kept after k epochs of the chunked (resumed) phase 1 equals G after k * spe steps of one baselines run."""
    cfg = P.Config(dataset="digits", epochs="1,2", epoch_steps=3, d_iters=2, measure_every=1, grad_batches=1,
                   batch_size=16, device="cpu", out=str(tmp_path / "p"), eval_samples=64)
    P.train(cfg)
    one = B.Config(dataset="digits", steps=6, batch_size=16, device="cpu", out=str(tmp_path / "one"), eval_samples=64)
    B.train(one)
    kept = torch.load(tmp_path / "p" / "gan" / "g_step6.pt")
    direct = torch.load(tmp_path / "one" / "checkpoint.pt", weights_only=False)["modules"]["g"]
    assert all(torch.equal(kept[k], direct[k]) for k in direct)
    assert not all(torch.equal(kept[k], v) for k, v in torch.load(tmp_path / "p" / "gan" / "g_step3.pt").items())


def test_instance_noise_in_the_fresh_d_phase(monkeypatch):
    """With sigma > 0 the fresh D trains on noisy real and noisy generated samples, and G's gradient is measured
    through the noise (Thm. 3.2). The noise is replaced by a shift of +1000 to recognise noised inputs."""
    monkeypatch.setattr(B, "noisy", lambda x, sigma: x + 1000.0 if sigma > 0 else x)
    sigmas = []
    real_grad = P.generator_grad
    monkeypatch.setattr(P, "generator_grad", lambda g, d, z, cost, sigma=0.0, gen=None:
                        sigmas.append(sigma) or real_grad(g, d, z, cost, sigma, gen))
    torch.manual_seed(0)
    cfg = P.Config(dataset="digits", batch_size=16, d_iters=4, measure_every=4, grad_batches=2, seed=0)
    g, d = nets.DCGANGenerator(8, 8, 1, 8), nets.DCGANDiscriminator(8, 1, 8)
    seen = []
    d.register_forward_pre_hook(lambda mod, args: seen.append(args[0].mean().item()))
    P.fresh_discriminator_phase(cfg, datasets.load("digits"), g, d, 8, torch.device("cpu"), sigma=0.3)
    assert all(m > 500 for m in seen[:2])  # D's error at iteration 0: noisy real and generated batches
    # seen[2:6]: G's gradient under 2 costs on 2 batches, noised inside generator_grad (checked below);
    # seen[6:14]: 4 training iterations of D on (real, fake)
    assert all(m > 500 for m in seen[6:14]), seen
    assert sigmas and all(s == 0.3 for s in sigmas)


def test_gradient_spread_by_hand():
    """Norms 5, 5 (same length, opposite directions): std 0, but the vectors spread by ||g - mean|| / ||mean||."""
    g1, g2 = torch.tensor([3.0, 4.0], dtype=torch.float64), torch.tensor([4.0, 3.0], dtype=torch.float64)
    s = P.gradient_spread([g1, g2])
    assert s["mean"] == pytest.approx(5.0) and s["std"] == pytest.approx(0.0) and s["min"] == s["max"] == 5.0
    mean = torch.tensor([3.5, 3.5], dtype=torch.float64)
    assert s["vec_spread"] == pytest.approx(math.sqrt(0.5) / float(mean.norm()), rel=1e-12)


def _frozen_g_and_fresh_d(g):
    """fresh_nets for across_discriminators: the same G every time (a copy), a fresh D from the seed."""
    def fresh_nets(seed):
        common.seed_everything(seed)
        return copy.deepcopy(g), nets.DCGANDiscriminator(8, 1, 8)
    return fresh_nets


def test_across_discriminators_against_a_per_batch_loop():
    """Each D trained by fresh_discriminator_phase from its seed (measured every 2 iterations here, which must not
    change its training), then G's gradient of the mean cost over the fixed batches under each D, recomputed with
    .backward() batch by batch, gives the same spread across the Ds as across_discriminators."""
    cfg = P.Config(dataset="digits", batch_size=16, d_iters=6, measure_every=6, grad_batches=3, d_seeds=3, seed=4)
    ds = datasets.load("digits")
    cpu = torch.device("cpu")
    torch.manual_seed(0)
    fresh_nets = _frozen_g_and_fresh_d(nets.DCGANGenerator(8, 8, 1, 8))
    g, d = fresh_nets(cfg.seed + 1)
    P.fresh_discriminator_phase(cfg, ds, g, d, 8, cpu, 0.0)
    got = P.across_discriminators(cfg, ds, g, d, fresh_nets, 8, cpu)
    gen = torch.Generator().manual_seed(cfg.seed + 7)
    zs = [torch.randn(16, 8, generator=gen) for _ in range(3)]
    for cost, loss in (("minimax", B.g_loss_minimax), ("nonsaturating", B.g_loss_nonsaturating)):
        per_d = []
        for seed in (cfg.seed + 1, cfg.seed + 101, cfg.seed + 201):
            g0, d0 = fresh_nets(seed)
            P.fresh_discriminator_phase(cfg, ds, g0, d0, 8, cpu, 0.0, measure_every=2)
            flat = []
            for z in zs:
                g2, d2 = copy.deepcopy(g0), copy.deepcopy(d0)
                loss(d2(g2(z))).backward()
                flat.append(np.concatenate([p.grad.double().numpy().ravel() for p in g2.parameters()]))
            per_d.append(np.mean(flat, axis=0))
        norms = np.array([np.linalg.norm(v) for v in per_d])
        mean = np.mean(per_d, axis=0)
        spread = np.mean([np.linalg.norm(v - mean) for v in per_d]) / np.linalg.norm(mean)
        assert got[cost]["mean"] == pytest.approx(norms.mean(), rel=1e-6)
        assert got[cost]["std"] / got[cost]["mean"] == pytest.approx(norms.std() / norms.mean(), rel=1e-4)
        assert got[cost]["vec_spread"] == pytest.approx(spread, rel=1e-5)
        assert spread > 0.01  # the Ds really differ (G is the same under each)


def test_across_d_run_keeps_phase_two(tmp_path):
    """--d-seeds 2 leaves every phase-2 measurement unchanged (each k, with and without noise), and for each k its
    first D is phase 2's own trained D: with one latent batch, G's gradient norm under it is the last row's."""
    kw = dict(dataset="digits", epochs="1,2", epoch_steps=2, d_iters=20, measure_every=10, grad_batches=1,
              d_noise=0.5, batch_size=16, device="cpu", eval_samples=0)
    one = P.train(P.Config(**kw, out=str(tmp_path / "one")))
    two = P.train(P.Config(**kw, d_seeds=2, out=str(tmp_path / "two")))
    assert common.read_jsonl(tmp_path / "one" / "metrics.jsonl") == common.read_jsonl(tmp_path / "two" / "metrics.jsonl")
    assert {k: v for k, v in two.items() if k in one and k != "seconds"} == {k: v for k, v in one.items() if k != "seconds"}
    assert two["d_seeds"] == 2 and "d_seeds" not in one and not any("noise_across" in k for k in two)
    for k in (1, 2):
        for short in ("minimax", "nonsat"):
            cv, mean = two[f"k{k}_across_d_{short}_cv"], two[f"k{k}_across_d_{short}_mean"]
            # two norms: mean * (1 -+ cv) (population std); one of them is phase 2's last measurement at this k
            last = one[f"k{k}_{short}_last"]
            assert min(abs(mean * (1 - cv) - last), abs(mean * (1 + cv) - last)) == pytest.approx(0, abs=1e-6 * mean)


# Call sites: train()'s steps
# One P.train run (phase 1 on ring8, then a fresh D clean, a second seed's, and one with instance noise) with every fresh-D phase
# recorded as train() called it: each net call (net, input, output) in order, each real batch the data set gave,
# each of D's optimizer steps (D before and after, its gradients) and the rows measured.

import torch.nn.functional as TF  # noqa: E402
from torch.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook  # noqa: E402

from tests import tap  # noqa: E402

NOISE = 0.5


class Recorded:
    """A data set whose sample() calls are recorded."""

    def __init__(self, data, log):
        self._data, self._log = data, log

    def sample(self, n, *a, **kw):
        x = self._data.sample(n, *a, **kw)
        self._log.append(("real", None, x.detach().clone()))
        return x

    def __getattr__(self, name):
        return getattr(self._data, name)

    def __len__(self):
        return len(self._data)


@pytest.fixture(scope="module")
def phases(tmp_path_factory):
    out = tmp_path_factory.mktemp("p") / "p"
    cfg = P.Config(dataset="ring8", width=32, epochs="1", epoch_steps=2, d_iters=3, measure_every=3, grad_batches=1,
                   d_noise=NOISE, d_seeds=2, batch_size=512, device="cpu", out=str(out), eval_samples=0)
    recs, real_phase = [], P.fresh_discriminator_phase

    def phase(cfg, data, g, d, z_dim, device, sigma, measure_every=None):
        rec = dict(sigma=sigma, g=g, d=d, g0=copy.deepcopy(g), d0=copy.deepcopy(d), log=[], steps=[])
        log, d_params = rec["log"], {id(p) for p in d.parameters()}
        hooks = [n.register_forward_hook(lambda m, i, o, k=k: log.append((k, i[0].detach().clone(), o.detach().clone())))
                 for k, n in (("g", g), ("d", d))]

        def pre(opt, *a):
            if any(id(p) in d_params for grp in opt.param_groups for p in grp["params"]):
                rec["steps"].append(dict(before=tap._plain(d), log=list(log),
                                         grads={k: p.grad.clone() for k, p in d.named_parameters()},
                                         g_grads=[p.grad for p in g.parameters()]))

        def post(opt, *a):
            if any(id(p) in d_params for grp in opt.param_groups for p in grp["params"]):
                rec["steps"][-1]["after"] = tap._plain(d)  # a copy without the hooks

        hooks += [register_optimizer_step_pre_hook(pre), register_optimizer_step_post_hook(post)]
        try:
            rec["rows"] = real_phase(cfg, Recorded(data, log), g, d, z_dim, device, sigma, measure_every)
        finally:
            for h in hooks:
                h.remove()
        recs.append(rec)
        return rec["rows"]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(P, "fresh_discriminator_phase", phase)
        for name in ("principled_figures", "plot_d_surface", "plot_hist_grid", "plot_grad_norm_history"):
            mp.setattr(figures, name, lambda *a, **kw: None)  # not under test here (about 6 s of drawing)
        P.train(cfg)
    return out, recs


def last(log, kind, n=1):
    return [e for e in log if e[0] == kind][-n:]


def test_fresh_d_phases_with_the_asked_noise(phases):
    """Phase 2 runs clean, then (--d-seeds 2) a second D clean, then (--d-noise) with that sigma, each for --d-iters
    steps of D: the noise squared, or the extra Ds trained on noisy inputs."""
    _, recs = phases
    assert [r["sigma"] for r in recs] == [0.0, 0.0, NOISE]
    assert all(len(r["steps"]) == 3 and all("after" in s for s in r["steps"]) for r in recs)


def test_fresh_d_steps_separate_real_from_fake(phases):
    """Each fresh-D step: D's inputs are the latest real batch and G's latest sample, noised with std sigma (0: the
    clean batches themselves); the step raises D's margin and its gradient is the cross-entropy's on those inputs
    (real and fake swapped, noise missing or squared, a D loss of another sign)."""
    _, recs = phases
    for rec in recs:
        sigma = rec["sigma"]
        for s in rec["steps"]:
            ((_, _, real),), ((_, _, fake),) = last(s["log"], "real"), last(s["log"], "g")
            (_, xr, _), (_, xf, _) = last(s["log"], "d", 2)
            for eps in (xr - real, xf - fake):
                if sigma == 0:
                    assert torch.equal(eps, torch.zeros_like(eps))
                else:
                    assert abs(eps.std().item() - sigma) < 0.1 * sigma and abs(eps.mean().item()) < 0.1 * sigma
            d0, d1 = s["before"], s["after"]
            margin = lambda d: (d(xr).mean() - d(xf).mean()).item()
            assert margin(d1) > margin(d0)
            loss = -TF.logsigmoid(d0(xr)).mean() - TF.logsigmoid(-d0(xf)).mean()
            names, params = zip(*d0.named_parameters())
            for k, want in zip(names, torch.autograd.grad(loss, params)):
                assert torch.allclose(s["grads"][k], want, rtol=1e-4, atol=1e-6), k
            assert all(gr is None for gr in s["g_grads"])  # G gets nothing from D's loss


def test_g_frozen_at_the_kept_checkpoint_and_d_fresh(phases):
    """Phase 2's G is the one kept after the last epoch and does not change; D starts fresh, not phase 1's trained
    D: the same D for both sigmas, another one (its own seed) for --d-seeds' second D."""
    out, recs = phases
    kept = torch.load(out / "gan" / "g_step2.pt")
    trained_d = torch.load(out / "gan" / "checkpoint.pt", weights_only=False)["modules"]["d"]
    for rec in recs:
        for k, v in rec["g0"].state_dict().items():
            assert torch.equal(v, kept[k]) and torch.equal(rec["g"].state_dict()[k], kept[k]), k
        assert not all(torch.equal(v, trained_d[k]) for k, v in rec["d0"].state_dict().items())
    same = lambda a, b: all(torch.equal(x, y) for x, y in zip(a["d0"].parameters(), b["d0"].parameters()))
    assert same(recs[0], recs[2]) and not same(recs[0], recs[1])


def test_measured_generator_gradient_through_the_noise(phases):
    """The last row: G's gradient norm under each cost, recomputed from the noisy input D was given (G(z) + eps,
    eps of std sigma), and D's error on the noisy batches (noise missing or squared in the measurement, a detached
    sample, the costs swapped)."""
    _, recs = phases
    for rec in recs:
        sigma, row, d = rec["sigma"], rec["rows"][-1], rec["d"]
        ((_, _, real),) = last(rec["log"], "real")
        (_, xr, _), (_, xf, _) = last(rec["log"], "d", 4)[:2]  # D's error on a real and a generated batch
        assert row["err_real"] == pytest.approx(-TF.logsigmoid(d(xr)).mean().item(), rel=1e-5)
        assert row["err_fake"] == pytest.approx(-TF.logsigmoid(-d(xf)).mean().item(), rel=1e-5)
        eps = xr - real
        assert abs(eps.std().item() - sigma) < 0.1 * sigma if sigma else torch.equal(xr, real)
        calls = rec["log"][-4:]  # per cost: G(z), then D(G(z) + eps)
        assert [c[0] for c in calls] == ["g", "d", "g", "d"]
        for cost, ((_, z, gz), (_, x, _)) in zip(("minimax", "nonsaturating"), (calls[:2], calls[2:])):
            eps = x - gz
            assert abs(eps.std().item() - sigma) < 0.1 * sigma if sigma else torch.equal(x, gz)
            g = copy.deepcopy(rec["g"])
            out = d(g(z) + eps)
            c = TF.logsigmoid(-out).mean() if cost == "minimax" else -TF.logsigmoid(out).mean()
            norm = math.sqrt(sum(float((t.double() ** 2).sum()) for t in torch.autograd.grad(c, list(g.parameters()))))
            assert row[f"{cost}_mean"] == pytest.approx(norm, rel=1e-5), cost


def test_discriminator_error_and_accuracy_on_a_known_d():
    """D(x) = x: real samples at 2, -1 and generated ones at -3, 1: half of each side right (accuracy 0.5), and the
    two cross-entropy terms by hand."""
    d = lambda x: x.reshape(-1)
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([-3.0, 1.0, -2.0, -1.0])
    out = P.discriminator_error(d, real, fake)
    sp = lambda v: math.log1p(math.exp(v))
    assert out["err_real"] == pytest.approx((sp(-2) + sp(1)) / 2) and out["err_fake"] == pytest.approx(
        (sp(-3) + sp(1) + sp(-2) + sp(-1)) / 4)
    assert out["accuracy"] == pytest.approx(0.5 * (1 / 2 + 3 / 4))


def test_summary_numbers_are_the_rows_they_name():
    """summarise(): each number from the row and the column its name says (the -log D cost's spread over its own mean)."""
    first = {"err_real": 0.1, "err_fake": 0.2, "accuracy": 0.6, "minimax_mean": 1.0, "nonsaturating_mean": 2.0,
             "nonsaturating_std": 0.5, "nonsaturating_vec_spread": 0.3}
    last = {"err_real": 0.01, "err_fake": 0.02, "accuracy": 0.9, "minimax_mean": 0.01, "nonsaturating_mean": 8.0,
            "nonsaturating_std": 4.0, "nonsaturating_vec_spread": 0.7}
    s = P.summarise([first, {**first, "minimax_mean": 3.0}, last], "k1")
    assert s["k1_nonsat_cv_first"] == 0.25 and s["k1_nonsat_cv_last"] == 0.5
    assert s["k1_minimax_peak"] == 3.0 and s["k1_minimax_decades"] == pytest.approx(math.log10(300))
    assert s["k1_d_error_first"] == pytest.approx(0.3) and s["k1_d_accuracy_last"] == 0.9


def test_phase_one_trains_the_asked_loss_and_phase_two_the_papers_adam(tmp_path, monkeypatch):
    """--loss minimax reaches phase 1's GAN; every fresh D trains with Adam(2e-4, (0.5, 0.999))."""
    losses, adams = [], []
    real_train, real_adam = B.train, torch.optim.Adam
    monkeypatch.setattr(P.baselines, "train", lambda cfg: losses.append(cfg.loss) or real_train(cfg))
    monkeypatch.setattr(P.torch.optim, "Adam", lambda params, **kw: adams.append(kw) or real_adam(params, **kw))
    P.train(P.Config(dataset="ring8", loss="minimax", epochs="1", epoch_steps=2, d_iters=2, measure_every=1,
                     grad_batches=1, batch_size=16, device="cpu", out=str(tmp_path / "p"), eval_samples=0))
    assert losses == ["minimax"]
    fresh = [kw for kw in adams if kw.get("lr") == 2e-4]
    assert fresh and all(kw.get("betas") == (0.5, 0.999) for kw in fresh)
