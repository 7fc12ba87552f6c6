"""Mutation check: does a test catch each realistic one-line bug? Not collected by pytest (no test_ prefix).

    .venv/bin/python tests/mutants.py                 every mutant, one at a time
    .venv/bin/python tests/mutants.py NAME ...        only these (or a class name: every mutant of that class)
    .venv/bin/python tests/mutants.py --list          the classes and their mutants, without running anything

Each mutant is applied to a scratch copy of the repository (in a temporary
folder; the working tree is never touched) and the test files named beside
it run there with -x. A mutant the tests do not catch is reported as
SURVIVED: a test is missing, or the mutant does not change behaviour (say
why in EQUIVALENT). A mutant whose line is not found exactly once is STALE:
the list is checked before anything runs, and a stale entry stops the
script (exit 1) and turns tests/test_mutants.py red. The score is printed per class.
Add the mutants of a new method when it lands.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 900  # seconds for one mutant's tests

# The classes of bugs (issue 33): a mutant's class is the heading it is listed under.
CLASSES = {
    "equation": "a loss, regularizer or metric computed wrong inside its own function",
    "harness": "the run harness: seeding, resume, checkpoints, NaN guard, overwrite",
    "direction": "a call site that moves a net the wrong way (real and fake swapped, a sign flipped)",
    "routing": "a term that does not reach the nets it should (a cut gradient, a net not stepped, a term on the wrong net)",
    "side-path": "a factor or sign wrong on a side path (f-GAN, explicit noise, annealing, TTUR, cross-test, minimax)",
    "settings": "a default resolved wrong, a pair of rates swapped, a make target's argument dropped",
    "closed-form": "a closed form wrong where the symmetric case hides it (unequal covariances, non-uniform weights)",
    "reported": "a logged or summarised number computed on the wrong tensor",
    "data-nets": "a data set or a network that departs from its definition",
}

MUTANTS = [
    # (class, name, file, the line as it is, the bug, the test files that should catch it)
    ("side-path", "critic-loop-once", "methods/baselines.py", "for _ in range(critic_steps(cfg, step)):", "for _ in range(1):", "tests/test_baselines.py"),
    ("routing", "noise-real-only-in-D", "methods/baselines.py", "real_in, fake_in = noisy(real, sigma), noisy(fake, sigma)", "real_in, fake_in = noisy(real, sigma), fake", "tests/test_baselines.py"),
    ("routing", "no-noise-in-G", "methods/baselines.py", "d(noisy(g(run.noise()), sigma))", "d(g(run.noise()))", "tests/test_baselines.py"),
    ("harness", "nan-guard-loss_g-only", "common.py", "check_finite(done, **values)", "check_finite(done, loss_g=values.get('loss_g', 0.0))", "tests/test_run_contract.py"),
    ("direction", "vral-F-R-swapped-in-D", "methods/vral.py", 'd_loss_vral(nets["f"], nets["r"], prep_fake(fake_out), real_out)', 'd_loss_vral(nets["r"], nets["f"], prep_fake(fake_out), real_out)', "tests/test_vral.py"),
    ("equation", "vral-R-ref-mu_f", "methods/vral.py", "reference_batch(m, cfg.mu_real, 1.0, device), out_r", "reference_batch(m, mu_f, 1.0, device), out_r", "tests/test_vral.py"),
    ("equation", "vral-no-centring-in-D", "methods/vral.py", "prep_fake(fake_out), real_out)", "fake_out, real_out)", "tests/test_vral.py"),
    ("equation", "vral-ls-to-mu_f", "methods/vral.py", "g_loss_ls(fake_out, cfg.mu_real)", "g_loss_ls(fake_out, mu_f)", "tests/test_vral.py"),
    ("data-nets", "folder-0-1", "data.py", "return TF.to_tensor(img) * 2 - 1", "return TF.to_tensor(img)", "tests/test_data.py"),
    ("equation", "modes-count-all", "metrics.py", '"modes": int((hq_counts >= min_count).sum())', '"modes": int((np.bincount(k, minlength=K) >= min_count).sum())', "tests/test_common.py tests/test_metrics.py"),
    ("routing", "principled-noise-real-only", "methods/principled.py", "d(baselines.noisy(real, sigma)), d(baselines.noisy(fake, sigma))", "d(baselines.noisy(real, sigma)), d(fake)", "tests/test_principled.py"),
    ("side-path", "principled-grad-no-noise", "methods/principled.py", "generator_grad(g, d, z, cost, sigma, noise_gen)", "generator_grad(g, d, z, cost, 0.0, noise_gen)", "tests/test_principled.py"),
    ("equation", "no-zero-grad-D", "methods/baselines.py", "            opt_d.zero_grad(set_to_none=True)\n", "", "tests/test_baselines.py"),
    # more classes: optimizers, schedules, harness, metrics, data, principled
    ("side-path", "no-clipping", "methods/baselines.py", "                clip_weights(d, cfg.clip)", "                pass", "tests/test_baselines.py tests/test_run_contract.py"),
    ("side-path", "gp-lambda-ignored", "methods/baselines.py", "cfg.gp_lambda * gradient_penalty(d, real_in, fake_in)", "gradient_penalty(d, real_in, fake_in)", "tests/test_baselines.py"),
    ("side-path", "gp-on-clean-inputs", "methods/baselines.py", "gradient_penalty(d, real_in, fake_in)", "gradient_penalty(d, real, fake)", "tests/test_baselines.py"),
    ("harness", "diag-mode-keeps-bn", "runfiles.py", "                b.copy_(saved[k])", "                pass", "tests/test_run_contract.py tests/test_common.py"),
    ("harness", "resume-no-rng", "runfiles.py", '    set_rng_state(state["rng"])\n    return state["step"]', '    return state["step"]', "tests/test_run_contract.py tests/test_common.py"),
    ("side-path", "anneal-half-speed", "methods/baselines.py", "1.0 - step / cfg.steps", "1.0 - step / (2 * cfg.steps)", "tests/test_baselines.py"),
    ("equation", "vral-step-no-zero-grad", "methods/vral.py", "    opt.zero_grad(set_to_none=True)\n    loss.backward()", "    loss.backward()", "tests/test_vral.py tests/test_run_contract.py"),
    ("direction", "lipschitz-critic-sign", "methods/vral.py", "return critic_term(fake_out, real_out) + F.softplus", "return critic_term(real_out, fake_out) + F.softplus", "tests/test_vral.py"),
    ("direction", "vral-F-on-real", "methods/vral.py", "out_f = prep_fake(d(fake_batch()))", "out_f = prep_fake(d(data.sample(m)))", "tests/test_vral.py"),
    ("direction", "vral-D-fake-real-swapped", "methods/vral.py", "fake_out, real_out = d(fake_batch()), d(real_r if cfg.share_real else data.sample(m))", "real_out, fake_out = d(fake_batch()), d(real_r if cfg.share_real else data.sample(m))", "tests/test_vral.py"),
    ("equation", "vral-share-real-ignored", "methods/vral.py", "d(real_r if cfg.share_real else data.sample(m))", "d(data.sample(m))", "tests/test_vral.py"),
    ("data-nets", "vral-glorot-ignored", "methods/vral.py", 'init = glorot if cfg.meta_init == "glorot" else (lambda net: net)', "init = lambda net: net", "tests/test_vral.py"),
    ("data-nets", "vral-slope-ignored", "methods/vral.py", "    set_lrelu_slope(d, cfg.lrelu_slope)\n", "", "tests/test_vral.py"),
    ("equation", "vral-G-no-d-freeze-restore", "methods/vral.py", "        d.requires_grad_(True)\n        run.end_step", "        run.end_step", "tests/test_vral.py tests/test_run_contract.py"),
    ("reported", "diag-fake-std-from-real", "metrics.py", '"d_fake_std": avg(f, torch.std)', '"d_fake_std": avg(r, torch.std)', "tests/test_metrics.py tests/test_run_contract.py"),
    ("harness", "npz-fake-is-real", "common.py", "out_f = torch.cat([d(x) for x in fakes])", "out_f = torch.cat([d(x) for x in reals])", "tests/test_run_contract.py"),
    ("equation", "grad-norm-not-flattened", "metrics.py", "return g.flatten(1).norm(dim=1)", "return g.norm(dim=1)", "tests/test_baselines.py tests/test_metrics.py"),
    ("equation", "hq-2-std", "metrics.py", "good = dist <= 3 * std", "good = dist <= 2 * std", "tests/test_common.py"),
    ("equation", "revkl-direction", "metrics.py", '"reverse_kl": float(np.sum(q[nz] * np.log(q[nz] / p[nz])))', '"reverse_kl": float(np.sum(p[nz] * np.log(p[nz] / q[nz])))', "tests/test_common.py"),
    ("equation", "principled-G-buffers-not-restored", "methods/principled.py", "            b.copy_(g_buffers[k])", "            pass", "tests/test_principled.py"),
    ("equation", "principled-phase1-no-resume", "methods/principled.py", '"resume": i > 0', '"resume": False', "tests/test_principled.py"),
    ("reported", "principled-extra-d-untrained", "methods/principled.py", "        fresh_discriminator_phase(cfg, data, g_j, d_j, z_dim, device, 0.0, measure_every=cfg.d_iters)\n", "", "tests/test_principled.py -k across"),
    ("reported", "principled-across-one-d", "methods/principled.py", "finals.append(mean_generator_grads(g_j, d_j, z_fixed))", "finals.append(mean_generator_grads(g, d, z_fixed))", "tests/test_principled.py -k across"),
    ("reported", "principled-across-on-noisy-d", "methods/principled.py", "if sigma == 0 and cfg.d_seeds > 1:", "if sigma == sigmas[-1] and cfg.d_seeds > 1:", "tests/test_principled.py -k across"),
    ("reported", "principled-across-first-d-untrained", "methods/principled.py", "across_discriminators(cfg, run.data, g, d, fresh_nets,", "across_discriminators(cfg, run.data, *fresh_nets(cfg.seed + 1), fresh_nets,", "tests/test_principled.py -k across"),
    ("harness", "seed-ignored-torch", "runfiles.py", "    torch.manual_seed(seed)\n", "    pass\n", "tests/test_run_contract.py"),
    ("direction", "ns-g-loss-is-minimax", "methods/baselines.py", 'G_LOSS = {"minimax": g_loss_minimax, "nonsaturating": g_loss_nonsaturating,', 'G_LOSS = {"minimax": g_loss_minimax, "nonsaturating": g_loss_minimax,', "tests/test_baselines.py"),
    ("data-nets", "stacked-digit-order", "data.py", "labels = (digits * torch.tensor([100, 10, 1])).sum(1)", "labels = (digits * torch.tensor([1, 10, 100])).sum(1)", "tests/test_data.py"),
    ("equation", "mode-score-no-kl-term", "metrics.py", "return float(np.exp(_kl_rows(probs, train_dist).mean() - _kl_rows(probs.mean(0), train_dist)))", "return float(np.exp(_kl_rows(probs, train_dist).mean()))", "tests/test_metrics.py"),
    ("data-nets", "wgan-gp-critic-batchnorm", "methods/baselines.py", 'd_norm="none" if cfg.loss == "wgan-gp" else None', "d_norm=None", "tests/test_baselines.py"),
    ("data-nets", "layer-norm-per-channel", "nets.py", "nn.GroupNorm(1, ch * 2)", "nn.GroupNorm(ch * 2, ch * 2)", "tests/test_common.py"),
    ("harness", "resume-config-unchecked", "runfiles.py", "if cfg is not None and saved is not None:", "if False:", "tests/test_run_contract.py"),
    ("harness", "overwrite-unchecked", "runfiles.py", "    if replace and not cfg.overwrite:\n", "    if False:\n", "tests/test_run_contract.py"),
    ("data-nets", "folder-unseeded-indices", "data.py", "idx = torch.randint(len(self.files), (n,)).tolist()", "idx = np.random.default_rng().integers(len(self.files), size=n).tolist()", "tests/test_data.py"),
    ("data-nets", "png16-clipped", "data.py", 'if img.mode.startswith("I"):', "if False:", "tests/test_data.py"),
    ("routing", "roth-weights-detached", "methods/roth_reg.py", "d_real, d_fake = torch.sigmoid(logit_real), torch.sigmoid(logit_fake)", "d_real, d_fake = torch.sigmoid(logit_real).detach(), torch.sigmoid(logit_fake).detach()", "tests/test_roth_reg.py"),
    ("equation", "roth-grad-no-create-graph", "methods/roth_reg.py", "(x_real, x_fake), create_graph=True)", "(x_real, x_fake), create_graph=False)", "tests/test_roth_reg.py"),
    ("equation", "roth-norm-not-squared", "methods/roth_reg.py", "g_real.flatten(1).pow(2).sum(1)", "g_real.flatten(1).norm(dim=1)", "tests/test_roth_reg.py"),
    ("equation", "roth-grad-of-batch-mean", "methods/roth_reg.py", "logit_real.sum() + logit_fake.sum()", "logit_real.mean() + logit_fake.mean()", "tests/test_roth_reg.py"),
    ("equation", "roth-real-weight-is-D", "methods/roth_reg.py", "((1 - d_real) ** 2 * sq_grad_real)", "(d_real**2 * sq_grad_real)", "tests/test_roth_reg.py"),
    ("equation", "roth-gamma-not-halved", "methods/roth_reg.py", "d_loss_js(logit_real, logit_fake) + gamma / 2 * omega", "d_loss_js(logit_real, logit_fake) + gamma * omega", "tests/test_roth_reg.py"),
    ("side-path", "roth-anneal-linear", "methods/roth_reg.py", "gamma0 * decay ** (step / total_steps)", "gamma0 * (1 - (1 - decay) * step / total_steps)", "tests/test_roth_reg.py"),
    ("side-path", "roth-anneal-from-step-0", "methods/roth_reg.py", "annealed_gamma(step + 1, cfg.steps", "annealed_gamma(step, cfg.steps", "tests/test_roth_reg.py"),
    ("equation", "roth-d-steps-once", "methods/roth_reg.py", "        for _ in range(cfg.d_steps):", "        for _ in range(1):", "tests/test_roth_reg.py"),
    ("direction", "roth-g-costs-swapped", "methods/roth_reg.py", "g_loss_original(out_fake) if g_loss == \"minimax\" else g_loss_alternative(out_fake)", "g_loss_alternative(out_fake) if g_loss == \"minimax\" else g_loss_original(out_fake)", "tests/test_roth_reg.py"),
    ("side-path", "roth-noise-fake-only", "methods/roth_reg.py", "real = noise(run.data.sample(m))", "real = run.data.sample(m)", "tests/test_roth_reg.py"),
    ('equation', 'roth-f-weight-is-conjugate', 'methods/roth_reg.py', '    "pearson": lambda v: torch.full_like(v, 0.5),', '    "pearson": lambda v: 0.25 * v**2 + v,', 'tests/test_roth_reg.py'),
    ("side-path", "roth-hellinger-conj2", "methods/roth_reg.py", "lambda t: 2 / (1 - t) ** 3", "lambda t: 1 / (1 - t) ** 2", "tests/test_roth_reg.py"),
    ("side-path", "roth-crosstest-own-samples", "methods/roth_reg.py", "predict_real(d, samples[other], bs)", "predict_real(d, samples[k], bs)", "tests/test_roth_reg.py"),
    ("data-nets", "roth-toy-relu", "methods/roth_reg.py", "        g, d = build(act=\"tanh\")", "        g, d = build()", "tests/test_roth_reg.py"),
    ("reported", "label-kl-reversed", "metrics.py", "return float(_kl_rows(np.asarray(train_dist, np.float64), np.asarray(probs, np.float64).mean(0)))", "return float(_kl_rows(np.asarray(probs, np.float64).mean(0), np.asarray(train_dist, np.float64)))", "tests/test_metrics.py"),
    ("equation", "zgp-a-per-pixel", "methods/zero_gp.py", 'a = torch.rand(len(x_real), *([1] * (x_real.dim() - 1)), device=x_real.device)', 'a = torch.rand_like(x_real)', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("equation", "zgp-no-create-graph", "methods/zero_gp.py", '(g,) = torch.autograd.grad(out.sum(), x, create_graph=True)', '(g,) = torch.autograd.grad(out.sum(), x, create_graph=False)', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("equation", "zgp-always-logit", "methods/zero_gp.py", 'out = torch.sigmoid(logit) if output == "prob" else logit', 'out = logit', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("equation", "zgp-samples-real-only", "methods/zero_gp.py", 'x = torch.cat([x_real, x_fake])', 'x = x_real', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("equation", "zgp-norm-not-squared", "methods/zero_gp.py", 'return g.pow(2).sum(1).mean()', 'return g.norm(dim=1).mean()', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("equation", "zgp-centre-ignored", "methods/zero_gp.py", 'return ((g.norm(dim=1) - center) ** 2).mean()', 'return (g.norm(dim=1) ** 2).mean()', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("equation", "zgp-no-flatten", "methods/zero_gp.py", '    return g.flatten(1)\n', '    return g\n', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("equation", "zgp-lambda-ignored", "methods/zero_gp.py", 'return loss + lam * gp, gp', 'return loss + gp, gp', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("equation", "zgp-d-steps-once", "methods/zero_gp.py", '        for _ in range(cfg.d_steps):', '        for _ in range(1):', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("direction", "zgp-g-saturating", "methods/zero_gp.py", '    return F.softplus(-logit_fake).mean()\n\n\ndef discriminator_loss', '    return -F.softplus(logit_fake).mean()\n\n\ndef discriminator_loss', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("side-path", "zgp-ttur-swapped", "methods/zero_gp.py", 'make_optim(cfg, g.parameters(), cfg.lr_g), make_optim(cfg, d.parameters(), cfg.lr_d)', 'make_optim(cfg, g.parameters(), cfg.lr_d), make_optim(cfg, d.parameters(), cfg.lr_g)', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("equation", "zgp-field-of-logit", "methods/zero_gp.py", 'F.logsigmoid(d(v).reshape(-1)).sum()', 'd(v).reshape(-1).sum()', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("equation", "zgp-optimal-d-swapped", "methods/zero_gp.py", 'return pr / (pr + pg)', 'return pg / (pr + pg)', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("equation", "zgp-surface-fake-cov", "methods/zero_gp.py", 'rng.multivariate_normal(MEANS[1], COVS[1], n)', 'rng.multivariate_normal(MEANS[1], COVS[0], n)', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("equation", "zgp-no-zero-grad-D", "methods/zero_gp.py", '            opt_d.zero_grad(set_to_none=True)\n            loss_d.backward()', '            loss_d.backward()', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("data-nets", "composed-third-swapped", "metrics.py", "torch.stack([band[..., i * h:(i + 1) * h] for i in range(3)], 1)", "torch.stack([band[..., (2 - i) * h:(3 - i) * h] for i in range(3)], 1)", "tests/test_metrics.py"),
    # mode_reg (Che et al. 2017)
    ("direction", "mreg-mode-sign-as-printed", "methods/mode_reg.py", "mode = F.softplus(-logit_rec).mean()", "mode = F.softplus(logit_rec).mean()", "tests/test_mode_reg.py"),
    ("equation", "mreg-no-metric-term", "methods/mode_reg.py", "return lam1 * dist + lam2 * mode, dist, mode", "return lam2 * mode, dist, mode", "tests/test_mode_reg.py"),
    ("equation", "mreg-lam1-lam2-swapped", "methods/mode_reg.py", "return lam1 * dist + lam2 * mode, dist, mode", "return lam2 * dist + lam1 * mode, dist, mode", "tests/test_mode_reg.py"),
    ("equation", "mreg-pixel-is-mean", "methods/mode_reg.py", "return sq.mean(1) if kind == \"mean\" else sq.sum(1)", "return sq.mean(1)", "tests/test_mode_reg.py"),
    ("routing", "mreg-E-never-steps", "methods/mode_reg.py", "            opt_e.step()", "            pass", "tests/test_mode_reg.py"),
    ("routing", "mreg-rec-detached", "methods/mode_reg.py", "                rec = g(e(x))", "                rec = g(e(x)).detach()", "tests/test_mode_reg.py"),
    ("equation", "mreg-E-no-zero-grad", "methods/mode_reg.py", "        opt_e.zero_grad(set_to_none=True)\n", "", "tests/test_mode_reg.py"),
    ("equation", "mreg-rec-on-noise-stream", "methods/mode_reg.py", 'with nets.batch_norm_stream(g, "encoder"):  # app. B', 'with nets.batch_norm_stream(g, "noise"):  # app. B', "tests/test_mode_reg.py"),
    ("routing", "mreg-gan-loss-on-rec", "methods/mode_reg.py", "return g_loss(logit_fake) + r, r, dist, mode", "return g_loss(logit_rec) + r, r, dist, mode", "tests/test_mode_reg.py"),
    ("equation", "mreg-d-steps-once", "methods/mode_reg.py", "        for _ in range(cfg.d_steps):\n            real = run.data.sample(cfg.batch_size)\n            with torch.no_grad(), nets.batch_norm_stream", "        for _ in range(1):\n            real = run.data.sample(cfg.batch_size)\n            with torch.no_grad(), nets.batch_norm_stream", "tests/test_mode_reg.py"),
    ("equation", "mreg-prior-ignored", "nets.py", '    return (torch.rand if prior == "uniform" else torch.randn)(n, z_dim, device=device, generator=generator)', "    return torch.randn(n, z_dim, device=device, generator=generator)", "tests/test_mode_reg.py"),
    ("data-nets", "split-bn-weights-not-copied", "nets.py", "                new.weight.copy_(child.weight)\n", "", "tests/test_mode_reg.py"),
    ("data-nets", "split-bn-shared-stats", "nets.py", 'getattr(self, f"running_mean_{self.stream}"), getattr(self, f"running_var_{self.stream}")', 'getattr(self, f"running_mean_{self.streams[0]}"), getattr(self, f"running_var_{self.streams[0]}")', "tests/test_mode_reg.py"),
    ("data-nets", "encoder-no-first-bn", "nets.py", "        mods += [nn.BatchNorm2d(ch)] if batch_norm else []\n        mods += [ACTIVATIONS[act]()]\n        for", "        mods += [ACTIVATIONS[act]()]\n        for", "tests/test_mode_reg.py"),
    ("direction", "third-party-labels-swapped", "metrics.py", "loss = F.softplus(-d(r)).mean() + F.softplus(d(f)).mean()", "loss = F.softplus(d(r)).mean() + F.softplus(-d(f)).mean()", "tests/test_mode_reg.py"),
    ("equation", "third-party-no-noise", "metrics.py", "r, f = r + sigma * torch.randn_like(r), f + sigma * torch.randn_like(f)", "pass", "tests/test_mode_reg.py"),
    ("equation", "kl-smoothing-unnormalized", "metrics.py", "q = (counts + 1) / (counts.sum() + len(counts))", "q = (counts + 1) / counts.sum()", "tests/test_mode_reg.py"),
    ("reported", "composed-kl-train-uses-gen", "metrics.py", '"kl_train_modes": kl_train_smoothed(counts, p)', '"kl_train_modes": kl_train_smoothed(counts, q)', "tests/test_mode_reg.py"),
    ("data-nets", "mreg-third-party-bn", "methods/mode_reg.py", 'make_nets(dataclasses.replace(cfg, d_norm="none"), data, run.z_dim)[1]', "make_nets(cfg, data, run.z_dim)[1]", "tests/test_mode_reg.py"),
    ("routing", "mreg-logit-rec-is-fake", "methods/mode_reg.py", "generator_losses(logit_fake, x, rec, d(rec), cfg.lam1", "generator_losses(logit_fake, x, rec, logit_fake, cfg.lam1", "tests/test_mode_reg.py"),
    ("equation", "mreg-distance-kind-ignored", "methods/mode_reg.py", "                                                          cfg.distance, d)", "                                                          \"pixel\", d)", "tests/test_mode_reg.py"),
    # mdgan (Che et al. 2017, sec. 3.3, app. A)
    ("direction", "mdgan-d1-term-sign", "methods/mdgan.py", "return lam1 * dist + lam2 * neg_log_d1, dist, neg_log_d1", "return lam1 * dist - lam2 * neg_log_d1, dist, neg_log_d1", "tests/test_mdgan.py"),
    ("equation", "mdgan-lams-swapped", "methods/mdgan.py", "return lam1 * dist + lam2 * neg_log_d1, dist, neg_log_d1", "return lam2 * dist + lam1 * neg_log_d1, dist, neg_log_d1", "tests/test_mdgan.py"),
    ("direction", "mdgan-d2-labels-swapped", "methods/mdgan.py", "    return F.softplus(-logit_rec).mean() + F.softplus(logit_fake).mean()", "    return F.softplus(logit_rec).mean() + F.softplus(-logit_fake).mean()", "tests/test_mdgan.py"),
    ("direction", "mdgan-diffusion-saturating", "methods/mdgan.py", '    """Line 7 as a loss G descends: -E_z log D2(G(z))."""\n    return F.softplus(-logit_fake).mean()', '    """Line 7 as a loss G descends: -E_z log D2(G(z))."""\n    return -F.softplus(logit_fake).mean()', "tests/test_mdgan.py"),
    ("direction", "mdgan-d1-real-is-rec", "methods/mdgan.py", "loss_d1 = d1_loss(d1(x), d1(rec))", "loss_d1 = d1_loss(d1(rec), d1(rec))", "tests/test_mdgan.py"),
    ("routing", "mdgan-d1-fake-is-g-z", "methods/mdgan.py", "loss_d1 = d1_loss(d1(x), d1(rec))", "loss_d1 = d1_loss(d1(x), d1(g(run.noise()).detach()))", "tests/test_mdgan.py"),
    ("routing", "mdgan-d2-judges-z-printed", "methods/mdgan.py", "logit_rec, logit_fake = d2(rec), d2(fake)", "logit_rec, logit_fake = d2(rec), d2(g(run.noise()))", "tests/test_mdgan.py"),
    ("equation", "mdgan-line7-fresh-z", "methods/mdgan.py", "loss_g = diffusion_loss(d2(g(z)))", "loss_g = diffusion_loss(d2(g(run.noise())))", "tests/test_mdgan.py"),
    ("equation", "mdgan-line4-reuses-x", "methods/mdgan.py", "x, z = run.data.sample(cfg.batch_size), run.noise()  # lines 4, 5", "z = run.noise()  # lines 4, 5", "tests/test_mdgan.py"),
    ("routing", "mdgan-E-not-stepped", "methods/mdgan.py", "descend(opt_g_manifold, loss_m, opt_e)", "descend(opt_g_manifold, loss_m)", "tests/test_mdgan.py"),
    ("equation", "mdgan-one-adam-state", "methods/mdgan.py", 'adam(g.parameters(), cfg) if cfg.g_optim == "separate" else opt_g_manifold', 'opt_g_manifold', "tests/test_mdgan.py"),
    ("routing", "mdgan-line3-rec-detached", "methods/mdgan.py", "        with nets.batch_norm_stream(g, \"encoder\"):\n            rec = g(e(x))\n        loss_m", "        with nets.batch_norm_stream(g, \"encoder\"):\n            rec = g(e(x)).detach()\n        loss_m", "tests/test_mdgan.py"),
    ("equation", "mdgan-line3-noise-stream", "methods/mdgan.py", "        with nets.batch_norm_stream(g, \"encoder\"):\n            rec = g(e(x))\n        loss_m", "        with nets.batch_norm_stream(g, \"noise\"):\n            rec = g(e(x))\n        loss_m", "tests/test_mdgan.py"),
    ("equation", "mdgan-lams-swapped-in-loop", "methods/mdgan.py", "manifold_loss(x, rec, d1(rec), cfg.lam1, cfg.lam2, cfg.distance, d1)", "manifold_loss(x, rec, d1(rec), cfg.lam2, cfg.lam1, cfg.distance, d1)", "tests/test_mdgan.py"),
    ("equation", "mdgan-distance-flag-ignored", "methods/mdgan.py", "manifold_loss(x, rec, d1(rec), cfg.lam1, cfg.lam2, cfg.distance, d1)", "manifold_loss(x, rec, d1(rec), cfg.lam1, cfg.lam2, \"pixel\", d1)", "tests/test_mdgan.py"),
    ("reported", "mdgan-table-kl-is-gen", "methods/mdgan.py", 'cell("kl_train_modes", c, 3)', 'cell("kl_modes", c, 3)', "tests/test_mdgan.py"),
    ("equation", "mdgan-d2-once", "methods/mdgan.py", "        for _ in range(cfg.d_steps):\n            x, z =", "        for _ in range(1):\n            x, z =", "tests/test_mdgan.py"),
    ("equation", "mdgan-no-zero-grad", "methods/mdgan.py", "        o.zero_grad(set_to_none=True)\n", "        pass\n", "tests/test_mdgan.py"),
    ("data-nets", "mreg-digit-weights-ignored", "data.py", "return Composed(name, base, how, size, device, w if digit_weights is None else digit_weights)", "return Composed(name, base, how, size, device, w)", "tests/test_mode_reg.py"),
    # issue 33: call sites (Roth et al.)
    ("direction", "roth-train-d-labels-swapped", "methods/roth_reg.py", "loss_d, omega = discriminator_loss(d, real, fake, gamma, cfg.divergence)", "loss_d, omega = discriminator_loss(d, fake, real, gamma, cfg.divergence)", "tests/test_roth_reg.py"),
    ("side-path", "roth-omega-f-over-p", "methods/roth_reg.py", "omega = f_regularizer(d, fake, divergence) if gamma > 0", "omega = f_regularizer(d, real, divergence) if gamma > 0", "tests/test_roth_reg.py"),
    ("side-path", "roth-noise-variance-as-std", "methods/roth_reg.py", "with_noise(x, cfg.noise_std, cfg.nsr)", "with_noise(x, cfg.noise_std ** 2, cfg.nsr)", "tests/test_roth_reg.py"),
    ("side-path", "roth-f-gamma-not-halved", "methods/roth_reg.py", "return d_loss_f(d(real), d(fake), divergence) + gamma / 2 * omega, omega", "return d_loss_f(d(real), d(fake), divergence) + gamma * omega, omega", "tests/test_roth_reg.py"),
    ("side-path", "roth-f-minimax-sign", "methods/roth_reg.py", "return -conj(psi).mean() if minimax else -psi.mean()", "return conj(psi).mean() if minimax else -psi.mean()", "tests/test_roth_reg.py"),
    ("reported", "roth-grad-stat-fake-from-real", "methods/roth_reg.py", 'out["grad_logit_fake"].append(sf.sqrt().mean().item())', 'out["grad_logit_fake"].append(sr.sqrt().mean().item())', "tests/test_roth_reg.py"),
    ("side-path", "roth-noise-g-ignored", "methods/roth_reg.py", "out_fake = d(noise(x_fake) if cfg.noise_g else x_fake)", "out_fake = d(x_fake)", "tests/test_roth_reg.py"),
    ("routing", "roth-g-step-through-detached-fake", "methods/roth_reg.py", "        x_fake = g(run.noise(m))\n", "        x_fake = g(run.noise(m)).detach().requires_grad_(True)\n", "tests/test_roth_reg.py"),
    # issue 33: call sites (Che et al.: Reg-GAN and MDGAN)
    ("routing", "mreg-mode-term-rec-detached", "methods/mode_reg.py", "generator_losses(logit_fake, x, rec, d(rec), cfg.lam1", "generator_losses(logit_fake, x, rec, d(rec.detach()), cfg.lam1", "tests/test_mode_reg.py"),
    ("direction", "mreg-d-real-fake-swapped", "methods/mode_reg.py", "loss_d = d_loss(d(real), d(fake))", "loss_d = d_loss(d(fake), d(real))", "tests/test_mode_reg.py"),
    ("routing", "mreg-gan-term-on-rec-at-call", "methods/mode_reg.py", "generator_losses(logit_fake, x, rec, d(rec), cfg.lam1", "generator_losses(d(rec), x, rec, d(rec), cfg.lam1", "tests/test_mode_reg.py"),
    ('equation', 'mreg-g-z-on-encoder-stream', 'methods/mode_reg.py', '        with nets.batch_norm_stream(g, "noise"):\n            logit_fake', '        with nets.batch_norm_stream(g, "encoder"):\n            logit_fake', 'tests/test_mode_reg.py'),
    ('equation', 'mreg-d-fake-on-encoder-stream', 'methods/mode_reg.py', 'with torch.no_grad(), nets.batch_norm_stream(g, "noise"):', 'with torch.no_grad(), nets.batch_norm_stream(g, "encoder"):', 'tests/test_mode_reg.py'),
    ("routing", "mreg-d-not-frozen-for-g", "methods/mode_reg.py", "        d.requires_grad_(False)\n", "", "tests/test_mode_reg.py"),
    ("settings", "mreg-lams-swapped-at-call", "methods/mode_reg.py", "d(rec), cfg.lam1, cfg.lam2,", "d(rec), cfg.lam2, cfg.lam1,", "tests/test_mode_reg.py"),
    ("routing", "mreg-x-is-fake", "methods/mode_reg.py", "            x = run.data.sample(cfg.batch_size)", "            x = fake", "tests/test_mode_reg.py"),
    ("reported", "mreg-logged-mode-from-fake", "methods/mode_reg.py", "rec_neg_log_d=float(mode.detach())", "rec_neg_log_d=float(g_loss(logit_fake).detach())", "tests/test_mode_reg.py"),
    ("reported", "mreg-logged-dist-is-loss-e", "methods/mode_reg.py", "rec_distance=float(dist.detach())", "rec_distance=float(loss_e.detach())", "tests/test_mode_reg.py"),
    ("direction", "mreg-d-loss-labels-swapped", "methods/mode_reg.py", "    return F.softplus(-logit_real).mean() + F.softplus(logit_fake).mean()", "    return F.softplus(logit_real).mean() + F.softplus(-logit_fake).mean()", "tests/test_mode_reg.py"),
    ("direction", "mdgan-d1-swapped", "methods/mdgan.py", "loss_d1 = d1_loss(d1(x), d1(rec))", "loss_d1 = d1_loss(d1(rec), d1(x))", "tests/test_mdgan.py"),
    ("direction", "mdgan-d2-swapped-at-call", "methods/mdgan.py", "loss_d2 = d2_loss(logit_rec, logit_fake)", "loss_d2 = d2_loss(logit_fake, logit_rec)", "tests/test_mdgan.py"),
    ("routing", "mdgan-d2-judges-real", "methods/mdgan.py", "logit_rec, logit_fake = d2(rec), d2(fake)", "logit_rec, logit_fake = d2(x), d2(fake)", "tests/test_mdgan.py"),
    ("routing", "mdgan-line3-d1-rec-detached", "methods/mdgan.py", "manifold_loss(x, rec, d1(rec), cfg.lam1", "manifold_loss(x, rec, d1(rec.detach()), cfg.lam1", "tests/test_mdgan.py"),
    ("routing", "mdgan-line7-on-d1", "methods/mdgan.py", "loss_g = diffusion_loss(d2(g(z)))", "loss_g = diffusion_loss(d1(g(z)))", "tests/test_mdgan.py"),
    ('settings', 'mdgan-shared-ignored', 'methods/mdgan.py', 'adam(g.parameters(), cfg) if cfg.g_optim == "separate" else opt_g_manifold', 'adam(g.parameters(), cfg)', 'tests/test_mdgan.py'),
    ("routing", "mdgan-diffusion-steps-e", "methods/mdgan.py", "descend(opt_g_diffusion, loss_g)", "descend(opt_g_diffusion, loss_g, opt_e)", "tests/test_mdgan.py"),
    ("routing", "mdgan-d1-not-frozen", "methods/mdgan.py", "        d1.requires_grad_(False)\n", "", "tests/test_mdgan.py"),
    ("routing", "mdgan-d2-not-frozen", "methods/mdgan.py", "        d2.requires_grad_(False)\n", "", "tests/test_mdgan.py"),
    ('equation', 'mdgan-line2-noise-stream', 'methods/mdgan.py', 'with torch.no_grad(), nets.batch_norm_stream(g, "encoder"):  # app. B', 'with torch.no_grad(), nets.batch_norm_stream(g, "noise"):  # app. B', 'tests/test_mdgan.py'),
    ('equation', 'mdgan-line6-rec-noise-stream', 'methods/mdgan.py', '                with nets.batch_norm_stream(g, "encoder"):\n                    rec = g(e(x))', '                with nets.batch_norm_stream(g, "noise"):\n                    rec = g(e(x))', 'tests/test_mdgan.py'),
    ('equation', 'mdgan-line6-fake-encoder-stream', 'methods/mdgan.py', '                with nets.batch_norm_stream(g, "noise"):\n                    fake = g(z)', '                with nets.batch_norm_stream(g, "encoder"):\n                    fake = g(z)', 'tests/test_mdgan.py'),
    ('equation', 'mdgan-line7-encoder-stream', 'methods/mdgan.py', '        with nets.batch_norm_stream(g, "noise"):\n            loss_g = diffusion_loss', '        with nets.batch_norm_stream(g, "encoder"):\n            loss_g = diffusion_loss', 'tests/test_mdgan.py'),
    ("reported", "mdgan-logged-d2-swapped", "methods/mdgan.py", "d2_rec=float(torch.sigmoid(logit_rec.detach()).mean())", "d2_rec=float(torch.sigmoid(logit_fake.detach()).mean())", "tests/test_mdgan.py"),
    ("reported", "mdgan-logged-d2-after-update", "methods/mdgan.py", "d2_fake=float(torch.sigmoid(logit_fake.detach()).mean())", "d2_fake=float(torch.sigmoid(d2(fake)).mean())", "tests/test_mdgan.py"),
    ("reported", "mdgan-logged-dist-line-6-batch", "methods/mdgan.py", "rec_distance=float(dist.detach())", "rec_distance=float(distance(x, rec, cfg.distance, d1).mean())", "tests/test_mdgan.py"),
    ("reported", "mdgan-logged-neg-log-d1-is-loss-m", "methods/mdgan.py", "rec_neg_log_d1=float(neg_log_d1.detach())", "rec_neg_log_d1=float(loss_m.detach())", "tests/test_mdgan.py"),
    # issue 33: reported numbers on the right tensor, data and nets as specified
    ('reported', 'diag-log-swapped', 'common.py', 'diag = metrics.d_diagnostics(self.d, reals, fakes)', 'diag = metrics.d_diagnostics(self.d, fakes, reals)', 'tests/test_metrics.py'),
    ('reported', 'diag-summary-swapped', 'common.py', 'diag = metrics.d_diagnostics(d, reals, fakes)', 'diag = metrics.d_diagnostics(d, fakes, reals)', 'tests/test_metrics.py'),
    ('reported', 'npz-real-fake-swapped', 'common.py', 'np.savez(run / "d_outputs.npz", real=out_r, fake=out_f)', 'np.savez(run / "d_outputs.npz", real=out_f, fake=out_r)', 'tests/test_metrics.py'),
    ('reported', 'toy-metrics-on-real-data', 'common.py', 'summary.update(metrics.toy_metrics(xs, data.centers', 'summary.update(metrics.toy_metrics(reals[0].cpu().numpy(), data.centers', 'tests/test_metrics.py'),
    ('reported', 'log-fakes-are-reals', 'common.py', 'fakes = [self.g(self.noise()).detach() for _ in range(cfg.diag_batches)]', 'fakes = [self.data.sample(cfg.batch_size) for _ in range(cfg.diag_batches)]', 'tests/test_metrics.py'),
    ('reported', 'grad-norm-on-reals', 'metrics.py', 'torch.cat([input_grad_norm(d, x) for x in fakes])', 'torch.cat([input_grad_norm(d, x) for x in reals])', 'tests/test_metrics.py'),
    ('reported', 'd-real-mean-from-fakes', 'metrics.py', '"d_real_mean": avg(r, torch.mean)', '"d_real_mean": avg(f, torch.mean)', 'tests/test_metrics.py'),
    ('equation', 'hq-5-std', 'metrics.py', 'good = dist <= 3 * std', 'good = dist <= 5 * std', 'tests/test_metrics.py'),
    ('reported', 'clf-acc-on-train', 'metrics.py', 'acc = (predict_probs(clf, images[test]).argmax(1) == labels[test].cpu().numpy()).mean()', 'acc = (predict_probs(clf, images[train]).argmax(1) == labels[train].cpu().numpy()).mean()', 'tests/test_metrics.py'),
    ('reported', 'clf-trains-on-all', 'metrics.py', 'fit(clf, images, labels, train, steps, batch_size)', 'fit(clf, images, labels, perm, steps, batch_size)', 'tests/test_metrics.py'),
    ('reported', 'label-kl-uniform-train-dist', 'metrics.py', 'train_dist = np.bincount(data.labels.cpu().numpy(), minlength=n) / len(data.labels)', 'train_dist = np.full(n, 1.0 / n)', 'tests/test_metrics.py'),
    ('reported', 'composed-kl-uniform', 'metrics.py', 'p = np.asarray(data.mode_weights, np.float64)', 'p = np.full(1000, 1e-3)', 'tests/test_metrics.py'),
    ('data-nets', 'digit-weights-ignored', 'data.py', 'w = np.full(10, 0.1) if digit_weights is None else np.asarray(digit_weights, np.float64)', 'w = np.full(10, 0.1)', 'tests/test_data.py'),
    ('data-nets', 'compositional-default-uniform', 'data.py', 'w = None if how == "stacked" else np.arange(10, 20, dtype=np.float64)', 'w = None', 'tests/test_data.py'),
    ('data-nets', 'digits-drawn-uniformly', 'data.py', 'digits = torch.multinomial(torch.as_tensor(self.digit_weights), 3 * n, replacement=True).view(n, 3)', 'digits = torch.randint(10, (n, 3))', 'tests/test_data.py'),
    ('data-nets', 'weights-first-digit-only', 'data.py', 'digits = torch.multinomial(torch.as_tensor(self.digit_weights), 3 * n, replacement=True).view(n, 3)', 'digits = torch.cat([torch.multinomial(torch.as_tensor(self.digit_weights), n, replacement=True).view(n, 1), torch.randint(10, (n, 2))], 1)', 'tests/test_data.py'),
    ('data-nets', 'padding-zero', 'data.py', 'x = F.pad(x, (0, 0, pad, w - h - pad), value=-1.0)', 'x = F.pad(x, (0, 0, pad, w - h - pad))', 'tests/test_data.py'),
    ('data-nets', 'compositional-reversed', 'data.py', 'x = torch.cat([imgs[:, 0], imgs[:, 1], imgs[:, 2]], dim=3)', 'x = torch.cat([imgs[:, 2], imgs[:, 1], imgs[:, 0]], dim=3)', 'tests/test_data.py'),
    ('data-nets', 'one-image-per-class', 'data.py', 'idx[m] = pool[torch.randint(len(pool), (int(m.sum()),))]', 'idx[m] = pool[0]', 'tests/test_data.py'),
    ('data-nets', 'stand-in-channels-3', 'data.py', 'channels = 1 if name in ("digits", "mnist", "compositional_digits", "compositional_mnist") else 3', 'channels = 3', 'tests/test_data.py'),
    ('data-nets', 'stand-in-0-1', 'data.py', 'x = torch.rand(256, *shape) * 2 - 1', 'x = torch.rand(256, *shape)', 'tests/test_data.py'),
    ('data-nets', 'celeba-no-crop', 'data.py', 'size, device, crop=crop or 108,', 'size, device, crop=None,', 'tests/test_data.py'),
    ('data-nets', 'toy-std-not-scaled', 'data.py', 'return GaussianMixture(name, c * s, std * s, device)', 'return GaussianMixture(name, c * s, std, device)', 'tests/test_data.py'),
    ('data-nets', 'submanifold-std-not-scaled', 'data.py', 'GaussianMixture(name, c * s, 0.01 * s, device, embed=', 'GaussianMixture(name, c * s, 0.01, device, embed=', 'tests/test_data.py'),
    ('data-nets', 'swissroll-not-scaled', 'data.py', 'return SwissRoll(device, s)', 'return SwissRoll(device)', 'tests/test_data.py'),
    ('data-nets', 'scale-not-passed', 'common.py', 'cfg.image_size or None, cfg.scale,', 'cfg.image_size or None, None,', 'tests/test_data.py'),
    ('data-nets', 'g-bias-before-bn', 'nets.py', 'mods = [nn.ConvTranspose2d(z_dim, ch, 4, 1, 0, bias=not batch_norm)]', 'mods = [nn.ConvTranspose2d(z_dim, ch, 4, 1, 0)]', 'tests/test_nets.py'),
    ('data-nets', 'd-bn-on-input-layer', 'nets.py', 'mods = [nn.Conv2d(channels, ch, 4, 2, 1), ACTIVATIONS[act]()]', 'mods = [nn.Conv2d(channels, ch, 4, 2, 1), nn.BatchNorm2d(ch), ACTIVATIONS[act]()]', 'tests/test_nets.py'),
    ('data-nets', 'g-bn-on-output', 'nets.py', 'nn.ConvTranspose2d(ch, channels, 4, 2, 1), nn.Tanh()]', 'nn.ConvTranspose2d(ch, channels, 4, 2, 1), nn.BatchNorm2d(channels), nn.Tanh()]', 'tests/test_nets.py'),
    ('data-nets', 'g-no-tanh', 'nets.py', 'nn.ConvTranspose2d(ch, channels, 4, 2, 1), nn.Tanh()]', 'nn.ConvTranspose2d(ch, channels, 4, 2, 1)]', 'tests/test_nets.py'),
    ('data-nets', 'd-kernel-3', 'nets.py', 'mods += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=norm == "none")]', 'mods += [nn.Conv2d(ch, ch * 2, 3, 2, 1, bias=norm == "none")]', 'tests/test_nets.py'),
    ('data-nets', 'd-bias-with-norm', 'nets.py', 'mods += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=norm == "none")]', 'mods += [nn.Conv2d(ch, ch * 2, 4, 2, 1)]', 'tests/test_nets.py'),
    ('data-nets', 'bn-eps-as-momentum', 'nets.py', 'mods += {"batch": [nn.BatchNorm2d(ch * 2)]', 'mods += {"batch": [nn.BatchNorm2d(ch * 2, 0.8)]', 'tests/test_nets.py'),
    ('data-nets', 'lrelu-slope-default', 'nets.py', '"lrelu": lambda: nn.LeakyReLU(0.2)', '"lrelu": lambda: nn.LeakyReLU()', 'tests/test_nets.py'),
    ('data-nets', 'bn-init-mean-0', 'nets.py', 'nn.init.normal_(m.weight, 1.0, 0.02)', 'nn.init.normal_(m.weight, 0.0, 0.02)', 'tests/test_nets.py'),
    ('data-nets', 'dcgan-init-misses-convT', 'nets.py', 'if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):', 'if isinstance(m, (nn.Conv2d, nn.Linear)):', 'tests/test_nets.py'),
    ('data-nets', 'harness-no-dcgan-init-d', 'common.py', '        dcgan_init(d)\n', '', 'tests/test_nets.py'),
    ('data-nets', 'harness-d-norm-flag-ignored', 'common.py', 'd_norm = cfg.d_norm if cfg.d_norm != "auto" else d_norm or ("batch" if cfg.batch_norm else "none")', 'd_norm = d_norm or ("batch" if cfg.batch_norm else "none")', 'tests/test_nets.py'),
    ('data-nets', 'harness-method-d-norm-ignored', 'common.py', 'd_norm = cfg.d_norm if cfg.d_norm != "auto" else d_norm or ("batch" if cfg.batch_norm else "none")', 'd_norm = cfg.d_norm if cfg.d_norm != "auto" else ("batch" if cfg.batch_norm else "none")', 'tests/test_nets.py'),
    ('data-nets', 'harness-g-bn-always', 'common.py', 'g_bn = cfg.batch_norm if g_batch_norm is None else g_batch_norm', 'g_bn = True if g_batch_norm is None else g_batch_norm', 'tests/test_nets.py'),
    ('data-nets', 'harness-mlp-width-ignored', 'common.py', 'MLPGenerator(z_dim, data.shape, cfg.width or 128, act=act)', 'MLPGenerator(z_dim, data.shape, 128, act=act)', 'tests/test_nets.py'),
    ('data-nets', 'resnet-no-8w-cap', 'nets.py', 'chs = [width * min(8, 2 ** (n - i)) for i in range(n)] + [width]', 'chs = [width * 2 ** (n - i) for i in range(n)] + [width]', 'tests/test_nets.py'),
    ('data-nets', 'resblock-c1-bias-with-norm', 'nets.py', 'nn.Conv2d(cin, mid, 3, 1, 1, bias=norm == "none")', 'nn.Conv2d(cin, mid, 3, 1, 1)', 'tests/test_nets.py'),
    ('data-nets', 'resblock-bilinear', 'nets.py', 'scale_factor=2.0, mode="nearest")', 'scale_factor=2.0, mode="bilinear")', 'tests/test_nets.py'),
    ('data-nets', 'resblock-maxpool', 'nets.py', 'down = lambda t: nn.functional.avg_pool2d(t, 2)', 'down = lambda t: nn.functional.max_pool2d(t, 2)', 'tests/test_nets.py'),
    ('data-nets', 'resnet-g-no-out-norm', 'nets.py', 'self.out = nn.Sequential(norm_layer(norm, width), nn.ReLU(),', 'self.out = nn.Sequential(nn.ReLU(),', 'tests/test_nets.py'),
    ('data-nets', 'roth-toy-init-untruncated', 'methods/roth_reg.py', 'torch.nn.init.trunc_normal_(m.weight, std=0.1, a=-0.2, b=0.2)', 'torch.nn.init.normal_(m.weight, std=0.1)', 'tests/test_nets.py'),
    ('data-nets', 'roth-toy-trunc-bounds-absolute', 'methods/roth_reg.py', 'torch.nn.init.trunc_normal_(m.weight, std=0.1, a=-0.2, b=0.2)', 'torch.nn.init.trunc_normal_(m.weight, std=0.1)', 'tests/test_nets.py'),
    ('data-nets', 'roth-toy-d-not-init', 'methods/roth_reg.py', '        toy_init(d)\n', '', 'tests/test_nets.py'),
    ('data-nets', 'roth-toy-biases-default', 'methods/roth_reg.py', 'torch.nn.init.zeros_(m.bias)', 'pass', 'tests/test_nets.py'),
    ('data-nets', 'roth-nonorm-keeps-g-bn', 'methods/roth_reg.py', '"dcgan-nonorm": {"d_norm": "none", "g_batch_norm": False}', '"dcgan-nonorm": {"d_norm": "none"}', 'tests/test_nets.py'),
    ('data-nets', 'roth-tanh-d-only', 'methods/roth_reg.py', '"dcgan-tanh": {"act": "tanh"}', '"dcgan-tanh": {}', 'tests/test_nets.py'),
    ('data-nets', 'zero-gp-width-256', 'methods/zero_gp.py', 'width = cfg.width or 512', 'width = cfg.width or 256', 'tests/test_nets.py'),
    ('data-nets', 'zero-gp-dcgan-d-norm-auto', 'methods/zero_gp.py', 'g, d, norm = common.make_nets(cfg, data, z_dim, d_norm="none")', 'g, d, norm = common.make_nets(cfg, data, z_dim)', 'tests/test_nets.py'),
    ('data-nets', 'zero-gp-d-layers-fixed', 'methods/zero_gp.py', 'd, norm = nets.MLPDiscriminator(data.shape, width, cfg.layers, "relu"), "none (MLP)"', 'd, norm = nets.MLPDiscriminator(data.shape, width, 2, "relu"), "none (MLP)"', 'tests/test_nets.py'),
    ('data-nets', 'mode-reg-toy-d-two-layers', 'methods/mode_reg.py', 'd_layers=cfg.d_layers or (1 if toy else 3)', 'd_layers=cfg.d_layers or (2 if toy else 3)', 'tests/test_nets.py'),
    ('data-nets', 'mode-reg-encoder-no-sigmoid', 'methods/mode_reg.py', 'if cfg.encoder_out == "sigmoid":', 'if False:', 'tests/test_nets.py'),
    ('data-nets', 'mode-reg-no-split-bn', 'methods/mode_reg.py', 'g = nets.split_batch_norm(g)  # deviation 6', 'g = g  # deviation 6', 'tests/test_nets.py'),
    ('data-nets', 'mode-reg-e-not-init', 'methods/mode_reg.py', 'for m in (g, d, e):\n            nets.dcgan_init(m)', 'for m in (g, d):\n            nets.dcgan_init(m)', 'tests/test_nets.py'),
    ('data-nets', 'mode-reg-dropout-ignored', 'methods/mode_reg.py', 'd = nets.MLPDiscriminator(data.shape, cfg.d_width, cfg.d_layers, "relu", cfg.dropout)', 'd = nets.MLPDiscriminator(data.shape, cfg.d_width, cfg.d_layers, "relu")', 'tests/test_nets.py'),
    ('data-nets', 'mode-reg-d-norm-ignores-batch-norm', 'methods/mode_reg.py', 'norm = cfg.d_norm if cfg.d_norm != "auto" else ("batch" if cfg.batch_norm else "none")', 'norm = cfg.d_norm if cfg.d_norm != "auto" else "batch"', 'tests/test_nets.py'),
    ('data-nets', 'encoder-bias-before-bn', 'nets.py', 'mods = [nn.Conv2d(channels, ch, 4, 2, 1, bias=not batch_norm)]', 'mods = [nn.Conv2d(channels, ch, 4, 2, 1)]', 'tests/test_nets.py'),
    ('data-nets', 'split-bn-eps-momentum-swapped', 'nets.py', 'SplitBatchNorm2d(child.num_features, streams, child.eps, child.momentum)', 'SplitBatchNorm2d(child.num_features, streams, child.momentum, child.eps)', 'tests/test_nets.py'),
    ('data-nets', 'vral-meta-hidden-ignored', 'methods/vral.py', 'MetaDiscriminator(m, cfg.meta_hidden)', 'MetaDiscriminator(m)', 'tests/test_nets.py'),
    ('data-nets', 'vral-meta-tanh', 'methods/vral.py', 'nn.Sequential(nn.Linear(batch_size, hidden), nn.ReLU(), nn.Linear(hidden, 1))', 'nn.Sequential(nn.Linear(batch_size, hidden), nn.Tanh(), nn.Linear(hidden, 1))', 'tests/test_nets.py'),
    ('data-nets', 'vral-glorot-bias-kept', 'methods/vral.py', '            nn.init.zeros_(m.bias)\n    return module', '            pass\n    return module', 'tests/test_nets.py'),
    ('data-nets', 'vral-glorot-normal', 'methods/vral.py', 'nn.init.xavier_uniform_(m.weight)', 'nn.init.xavier_normal_(m.weight)', 'tests/test_nets.py'),
    # issue 33: 0-GP call sites, closed forms off the symmetric case
    ('direction', 'zgp-call-real-fake-swapped', 'methods/zero_gp.py', 'loss_d, gp = discriminator_loss(d, real, fake, cfg.penalty, cfg.lam, cfg.output)', 'loss_d, gp = discriminator_loss(d, fake, real, cfg.penalty, cfg.lam, cfg.output)', 'tests/test_zero_gp.py'),
    ('direction', 'zgp-d-loss-args-swapped', 'methods/zero_gp.py', 'loss = d_loss(d(real), d(fake))', 'loss = d_loss(d(fake), d(real))', 'tests/test_zero_gp.py'),
    ('routing', 'zgp-fake-with-grad', 'methods/zero_gp.py', '            with torch.no_grad():\n                fake = g(run.noise())', '            with torch.enable_grad():\n                fake = g(run.noise())', 'tests/test_zero_gp.py'),
    ('routing', 'zgp-d-trainable-in-g-step', 'methods/zero_gp.py', 'd.requires_grad_(False)', 'd.requires_grad_(True)', 'tests/test_zero_gp.py'),
    ('routing', 'zgp-d-frozen-after-g-step', 'methods/zero_gp.py', '        d.requires_grad_(True)\n        for _ in range(cfg.d_steps):', '        for _ in range(cfg.d_steps):', 'tests/test_zero_gp.py'),
    ('direction', 'zgp-g-loss-sign', 'methods/zero_gp.py', 'loss_g = g_loss(d(g(run.noise())))', 'loss_g = -g_loss(d(g(run.noise())))', 'tests/test_zero_gp.py'),
    ('settings', 'zgp-lr-d-is-lr-g', 'methods/zero_gp.py', 'lr_d=cfg.lr_d or cfg.lr_g or', 'lr_d=cfg.lr_g or', 'tests/test_zero_gp.py'),
    ('settings', 'zgp-betas-ignored', 'methods/zero_gp.py', 'return torch.optim.Adam(params, lr=lr, betas=tuple(cfg.betas))', 'return torch.optim.Adam(params, lr=lr)', 'tests/test_zero_gp.py'),
    ('settings', 'zgp-betas-reversed', 'methods/zero_gp.py', 'betas=tuple(cfg.betas))', 'betas=tuple(cfg.betas)[::-1])', 'tests/test_zero_gp.py'),
    ('settings', 'zgp-lam-0-becomes-paper-value', 'methods/zero_gp.py', 'lam=cfg.lam if cfg.lam != -1 else 10.0 if toy else 100.0,', 'lam=cfg.lam if cfg.lam > 0 else 10.0 if toy else 100.0,', 'tests/test_zero_gp.py'),
    ('side-path', 'zgp-lam-not-passed-in-train', 'methods/zero_gp.py', 'discriminator_loss(d, real, fake, cfg.penalty, cfg.lam, cfg.output)', 'discriminator_loss(d, real, fake, cfg.penalty, 10.0, cfg.output)', 'tests/test_zero_gp.py'),
    ('side-path', 'zgp-penalty-of-the-logit', 'methods/zero_gp.py', 'gp = gradient_penalty(d, real, fake, center, where, output)', 'gp = gradient_penalty(d, real, fake, center, where, "logit")', 'tests/test_zero_gp.py'),
    ('equation', 'zgp-interpolates-real-only', 'methods/zero_gp.py', 'return a * x_real + (1 - a) * x_fake', 'return a * x_real + (1 - a) * x_real', 'tests/test_zero_gp.py'),
    ('side-path', 'zgp-fig1-lam-10', 'methods/zero_gp.py', 'loss, _ = discriminator_loss(d, real[i], fake[j], penalty, lam)', 'loss, _ = discriminator_loss(d, real[i], fake[j], penalty, 10.0)', 'tests/test_zero_gp.py'),
    ('side-path', 'zgp-fig1-lam-not-passed', 'methods/zero_gp.py', 'd, real, fake = fit_surface(penalty, n, steps, lam, seed=seed, device=device)', 'd, real, fake = fit_surface(penalty, n, steps, seed=seed, device=device)', 'tests/test_zero_gp.py'),
    ('reported', 'zgp-fig1-gap-of-logit', 'methods/zero_gp.py', 'v = torch.sigmoid(d(torch.tensor(pts, dtype=torch.float32, device=device))).cpu().numpy()', 'v = d(torch.tensor(pts, dtype=torch.float32, device=device)).reshape(-1).cpu().numpy()', 'tests/test_zero_gp.py'),
    ('closed-form', 'zgp-optimal-d-det', 'methods/zero_gp.py', '(2 * np.pi * np.sqrt(np.linalg.det(c)))', '(2 * np.pi * np.linalg.det(c))', 'tests/test_zero_gp.py'),
    ('closed-form', 'zgp-optimal-d-cov-swapped', 'methods/zero_gp.py', 'pr, pg = pdf(points, means[0], covs[0]), pdf(points, means[1], covs[1])', 'pr, pg = pdf(points, means[0], covs[1]), pdf(points, means[1], covs[0])', 'tests/test_zero_gp.py'),
    ('closed-form', 'data-mixture-weights-ignored', 'data.py', 'k = torch.multinomial(torch.as_tensor(self.weights), n, replacement=True)', 'k = torch.multinomial(torch.ones(len(self.weights)), n, replacement=True)', 'tests/test_closed_forms.py'),
    ('data-nets', 'data-mixture-std-as-variance', 'data.py', 'x = self._base[k] + self.std * torch.randn(n, self._base.shape[1])', 'x = self._base[k] + self.std ** 2 * torch.randn(n, self._base.shape[1])', 'tests/test_closed_forms.py'),
    ('data-nets', 'data-mixture-shared-noise', 'data.py', 'x = self._base[k] + self.std * torch.randn(n, self._base.shape[1])', 'x = self._base[k] + self.std * torch.randn(n, 1)', 'tests/test_closed_forms.py'),
    ('data-nets', 'data-mixture-embed-shift-dropped', 'data.py', 'x = x @ A.T + t', 'x = x @ A.T', 'tests/test_closed_forms.py'),
    ('data-nets', 'data-submanifold-angle', 'data.py', 'A = rotation([1, -1, 0], np.pi / 4)[:, :2]', 'A = rotation([1, -1, 0], np.pi / 3)[:, :2]', 'tests/test_closed_forms.py'),
    ('data-nets', 'data-ring6-radius', 'data.py', 'c, std = ring(6, 5.0, 0.1)', 'c, std = ring(6, 4.0, 0.1)', 'tests/test_closed_forms.py'),
    ('data-nets', 'data-swissroll-range', 'data.py', 't = 1.5 * math.pi * (1 + 2 * torch.rand(n))', 't = 1.5 * math.pi * (1 + torch.rand(n))', 'tests/test_closed_forms.py'),
    ('data-nets', 'data-swissroll-scale-ignored', 'data.py', 'return (x / 7.5 * self.scale).to(self.device)', 'return (x / 7.5).to(self.device)', 'tests/test_closed_forms.py'),
    ('data-nets', 'data-swissroll-noise-variance', 'data.py', '+ self.noise * torch.randn(n, 2)', '+ self.noise ** 2 * torch.randn(n, 2)', 'tests/test_closed_forms.py'),
    ('closed-form', 'data-composed-weights-unnormalized', 'data.py', 'self.digit_weights = w / w.sum()', 'self.digit_weights = w', 'tests/test_closed_forms.py'),
    ('closed-form', 'data-composed-digits-uniform', 'data.py', 'digits = torch.multinomial(torch.as_tensor(self.digit_weights), 3 * n, replacement=True)', 'digits = torch.multinomial(torch.ones(10), 3 * n, replacement=True)', 'tests/test_closed_forms.py'),
    ('closed-form', 'metrics-toy-weights-ignored', 'metrics.py', 'p = np.full(K, 1.0 / K) if weights is None else np.asarray(weights, np.float64) / np.sum(weights)', 'p = np.full(K, 1.0 / K)', 'tests/test_closed_forms.py'),
    ('closed-form', 'metrics-toy-weights-unnormalized', 'metrics.py', 'else np.asarray(weights, np.float64) / np.sum(weights)', 'else np.asarray(weights, np.float64)', 'tests/test_closed_forms.py'),
    ('closed-form', 'metrics-min-count-strict', 'metrics.py', '"modes": int((hq_counts >= min_count).sum()),', '"modes": int((hq_counts > min_count).sum()),', 'tests/test_closed_forms.py'),
    ('closed-form', 'metrics-composed-missed-once', 'metrics.py', '"missed_modes": int(1000 - nz.sum()),', '"missed_modes": int(1000 - (counts > 1).sum()),', 'tests/test_closed_forms.py'),
    # issue 33: settings tables from make PRINT=1 (tests/test_settings.py)
    ('settings', 'mk-roth-anneal-dropped', 'Makefile', 'roth_img,$(1),$(2),,$(4)) --gamma 2 --anneal)', 'roth_img,$(1),$(2),,$(4)) --gamma 2)', 'tests/test_settings.py'),
    ('settings', 'mk-ttur-rates-swapped', 'Makefile', '--lr-g 1e-3 --lr-d 3e-3)', '--lr-g 3e-3 --lr-d 1e-3)', 'tests/test_settings.py'),
    ('settings', 'mk-toy-lr-dropped', 'Makefile', '--steps $(TOY_STEPS) --lr $(if $(filter wgan,$(l)),5e-4,1e-3) --batch-size 256', '--steps $(TOY_STEPS) --batch-size 256', 'tests/test_settings.py'),
    ('settings', 'mk-vral-share-real-dropped', 'Makefile', 'VRAL_AUTHORS = --betas 0.1 0.999 --meta-init glorot --share-real', 'VRAL_AUTHORS = --betas 0.1 0.999 --meta-init glorot', 'tests/test_settings.py'),
    ('settings', 'mk-vral-eps-dropped', 'Makefile', 'VRAL_ADAM = --optimizer adam --lr 1e-4 --betas 0.5 0.999 --adam-eps 3e-6', 'VRAL_ADAM = --optimizer adam --lr 1e-4 --betas 0.5 0.999', 'tests/test_settings.py'),
    ('settings', 'mk-vral-ratio-dropped', 'Makefile', '  RATIOS = 1 10 25 50', '  RATIOS = 1 10 25', 'tests/test_settings.py'),
    ('settings', 'mk-zgp-fig8-beta2', 'Makefile', '--betas 0.9 0.99)', '--betas 0.9 0.999)', 'tests/test_settings.py'),
    ('settings', 'mk-mdgan-z200-dropped', 'Makefile', '  MDG_Z = 100 200', '  MDG_Z = 100', 'tests/test_settings.py'),
    ('settings', 'mk-principled-noise-dropped', 'Makefile', '--epochs 1$(comma)10$(comma)25 --d-noise 0.5 $(PRINCIPLED) $(LOG) --out $(OUT)/digits-principled', '--epochs 1$(comma)10$(comma)25 $(PRINCIPLED) $(LOG) --out $(OUT)/digits-principled', 'tests/test_settings.py'),
    ('settings', 'mk-celeba-vral-z-dropped', 'Makefile', 'VRAL_CELEBA = $(VRAL_AUTHORS) --no-batch-norm --z-dim 128 --lrelu-slope 0.02', 'VRAL_CELEBA = $(VRAL_AUTHORS) --no-batch-norm --lrelu-slope 0.02', 'tests/test_settings.py'),
    ('settings', 'mk-lsun-steps-not-doubled', 'Makefile', 'LSUN_ROTH_STEPS = $(shell expr $(ROTH_BIG_STEPS) \\* 2)', 'LSUN_ROTH_STEPS = $(ROTH_BIG_STEPS)', 'tests/test_settings.py'),
    ('settings', 'vral-default-eps', 'methods/vral.py', 'adam_eps: float = 3e-6', 'adam_eps: float = 1e-8', 'tests/test_settings.py'),
    ('settings', 'zgp-default-batch', 'methods/zero_gp.py', 'batch_size: int = 128', 'batch_size: int = 64', 'tests/test_settings.py'),
    ('settings', 'mreg-default-betas', 'methods/mode_reg.py', "betas: tuple = (0.5, 0.999)  # Adam betas (DCGAN's and Metz", "betas: tuple = (0.9, 0.999)  # Adam betas (DCGAN's and Metz", 'tests/test_settings.py'),
    ('settings', 'roth-default-decay', 'methods/roth_reg.py', 'decay: float = 0.01', 'decay: float = 0.1', 'tests/test_settings.py'),
    ('settings', 'mdgan-default-g-optim', 'methods/mdgan.py', 'g_optim: str = "separate"', 'g_optim: str = "shared"', 'tests/test_settings.py'),
    ('settings', 'roth-image-lr', 'methods/roth_reg.py', 'lr = cfg.lr or (1e-3 if toy else 2e-4)', 'lr = cfg.lr or (1e-3 if toy else 1e-3)', 'tests/test_settings.py'),
    ('settings', 'roth-g-loss-auto-swapped', 'methods/roth_reg.py', 'else "minimax" if toy else "nonsaturating"', 'else "nonsaturating" if toy else "minimax"', 'tests/test_settings.py'),
    ('settings', 'roth-toy-batch', 'methods/roth_reg.py', '(512 if cfg.dataset in datasets.TOY else 64)', '(64 if cfg.dataset in datasets.TOY else 64)', 'tests/test_settings.py'),
    ('settings', 'zgp-resolve-image-d-steps', 'methods/zero_gp.py', 'd_steps=cfg.d_steps or (1 if toy else 5)', 'd_steps=cfg.d_steps or (1 if toy else 1)', 'tests/test_settings.py'),
    ('settings', 'zgp-resolve-lr-d-from-lr-g', 'methods/zero_gp.py', 'lr_d=cfg.lr_d or cfg.lr_g or', 'lr_d=cfg.lr_g or cfg.lr_d or', 'tests/test_settings.py'),
    ('settings', 'mreg-resolve-lam2', 'methods/mode_reg.py', 'lam2=cfg.lam2 if cfg.lam2 != -1 else 0.005 if toy else 0.4', 'lam2=cfg.lam2 if cfg.lam2 != -1 else 0.005 if toy else 0.2', 'tests/test_settings.py'),
    ('settings', 'mreg-resolve-toy-prior', 'methods/mode_reg.py', 'else "uniform" if toy else "normal"', 'else "normal" if toy else "normal"', 'tests/test_settings.py'),
    ('settings', 'mreg-grid-opts-swapped', 'methods/mode_reg.py', 'opt_g=point["opt_g"], opt_d=point["opt_d"]', 'opt_g=point["opt_d"], opt_d=point["opt_g"]', 'tests/test_settings.py'),
    ('settings', 'mreg-grid-d-width-unscaled', 'methods/mode_reg.py', 'd_width=max(1, round(point["d_width"] * size_scale))', 'd_width=max(1, round(point["d_width"]))', 'tests/test_settings.py'),
    ('settings', 'baselines-lr-flag-ignored', 'methods/baselines.py', 'return kind, cfg.lr or lr,', 'return kind, lr,', 'tests/test_settings.py'),
    ('settings', 'baselines-wgan-gp-beta2', 'methods/baselines.py', '"wgan-gp": ("adam", 1e-4, (0.5, 0.9), 5)', '"wgan-gp": ("adam", 1e-4, (0.5, 0.999), 5)', 'tests/test_settings.py'),
    # issue 33: VRAL, baselines and principled call sites
    ('direction', 'vral_f_labels_swapped', 'methods/vral.py', 'losses["loss_f"] = meta_loss(nets["f"], reference_batch(m, mu_f, 1.0, device), out_f)', 'losses["loss_f"] = meta_loss(nets["f"], out_f, reference_batch(m, mu_f, 1.0, device))', 'tests/test_vral.py'),
    ('side-path', 'vral_r_ref_mu_f', 'methods/vral.py', 'reference_batch(m, cfg.mu_real, 1.0, device)', 'reference_batch(m, cfg.mu_fake, 1.0, device)', 'tests/test_vral.py'),
    ('side-path', 'vral_f_ref_mu_r', 'methods/vral.py', 'reference_batch(m, mu_f, 1.0, device)', 'reference_batch(m, cfg.mu_real, 1.0, device)', 'tests/test_vral.py'),
    ('direction', 'vral_d_step_real_fake_swapped', 'methods/vral.py', 'd_loss_vral(nets["f"], nets["r"], prep_fake(fake_out), real_out)', 'd_loss_vral(nets["f"], nets["r"], real_out, prep_fake(fake_out))', 'tests/test_vral.py'),
    ('routing', 'vral_r_step_on_fake', 'methods/vral.py', 'out_r = d(real_r)', 'out_r = d(fake_batch())', 'tests/test_vral.py'),
    ('routing', 'vral_f_step_uncentred', 'methods/vral.py', 'out_f = prep_fake(d(fake_batch()))', 'out_f = d(fake_batch())', 'tests/test_vral.py'),
    ('side-path', 'vral_sub_f_ref_mu_f', 'methods/vral.py', 'mu_f = 0.0 if cfg.variant == "vral-sub" else cfg.mu_fake', 'mu_f = cfg.mu_fake', 'tests/test_vral.py'),
    ('routing', 'vral_g_detached', 'methods/vral.py', 'fake_out = d(fake_batch(grad=True))', 'fake_out = d(fake_batch(grad=True).detach())', 'tests/test_vral.py'),
    ('direction', 'vral_g_ls_to_mu_f', 'methods/vral.py', 'g_loss_ls(fake_out, cfg.mu_real)', 'g_loss_ls(fake_out, cfg.mu_fake)', 'tests/test_vral.py'),
    ('side-path', 'vral_g_ipm_sign', 'methods/vral.py', 'losses["loss_g"] = g_loss_ipm(fake_out, real_out)', 'losses["loss_g"] = g_loss_ipm(real_out, fake_out)', 'tests/test_vral.py'),
    ('side-path', 'vral_d_critic_sign', 'methods/vral.py', 'losses["loss_d"] + critic_term(fake_out, real_out)', 'losses["loss_d"] - critic_term(fake_out, real_out)', 'tests/test_vral.py'),
    ('routing', 'vral_d_step_uncentred', 'methods/vral.py', 'd_loss_vral(nets["f"], nets["r"], prep_fake(fake_out), real_out)', 'd_loss_vral(nets["f"], nets["r"], fake_out, real_out)', 'tests/test_vral.py'),
    ('side-path', 'vral_share_real_inverted', 'methods/vral.py', 'real_r if cfg.share_real else data.sample(m)', 'data.sample(m) if cfg.share_real else real_r', 'tests/test_vral.py'),
    ('routing', 'vral_g_step_grads_into_d', 'methods/vral.py', 'd.requires_grad_(False)', 'd.requires_grad_(True)', 'tests/test_vral.py'),
    ('routing', 'vral_d_step_feeds_g_grad', 'methods/vral.py', 'fake_out, real_out = d(fake_batch()), d(', 'fake_out, real_out = d(fake_batch(grad=True)), d(', 'tests/test_vral.py'),
    ('direction', 'lip_m_labels_swapped', 'methods/vral.py', 'meta_loss(nets["m"], reference_batch(m, cfg.lip_k, cfg.lip_sigma, device), s)', 'meta_loss(nets["m"], s, reference_batch(m, cfg.lip_k, cfg.lip_sigma, device))', 'tests/test_vral.py'),
    ('side-path', 'lip_m_sigma_squared', 'methods/vral.py', 'reference_batch(m, cfg.lip_k, cfg.lip_sigma, device)', 'reference_batch(m, cfg.lip_k, cfg.lip_sigma ** 2, device)', 'tests/test_vral.py'),
    ('direction', 'lip_m_slopes_wrong_tensor', 'methods/vral.py', 's = slopes(d(real), d(fake), real, fake)', 's = slopes(d(real), d(real), real, fake)', 'tests/test_vral.py'),
    ('routing', 'lip_d_pairs_real_with_real', 'methods/vral.py', 'd_loss_lipschitz(nets["m"], d(real), d(fake), real, fake)', 'd_loss_lipschitz(nets["m"], d(real), d(fake), real, real.flip(0))', 'tests/test_vral.py'),
    ('reported', 'lip_slope_stats_shifted_pairs', 'methods/vral.py', 'for x, y in zip(reals, fakes)])', 'for x, y in zip(reals, fakes[::-1])])', 'tests/test_vral.py'),
    ('reported', 'lip_slope_stats_wrong_tensor', 'methods/vral.py', 'slopes(d(x), d(y), x, y) for', 'slopes(d(x), d(x), x, y) for', 'tests/test_vral.py'),
    ('direction', 'base_d_real_fake_swapped', 'methods/baselines.py', 'loss_d = d_loss(cfg.loss, d(real_in), d(fake_in))', 'loss_d = d_loss(cfg.loss, d(fake_in), d(real_in))', 'tests/test_baselines.py'),
    ('side-path', 'base_gp_sign', 'methods/baselines.py', 'loss_d = loss_d + cfg.gp_lambda * gradient_penalty', 'loss_d = loss_d - cfg.gp_lambda * gradient_penalty', 'tests/test_baselines.py'),
    ('routing', 'base_gp_between_reals', 'methods/baselines.py', 'gradient_penalty(d, real_in, fake_in)', 'gradient_penalty(d, real_in, real_in.flip(0))', 'tests/test_baselines.py'),
    ('side-path', 'base_noise_std_squared', 'methods/baselines.py', 'return x + sigma * torch.randn_like(x) if sigma > 0 else x', 'return x + sigma ** 2 * torch.randn_like(x) if sigma > 0 else x', 'tests/test_baselines.py'),
    ('side-path', 'base_noise_sigma_squared_at_call', 'methods/baselines.py', 'sigma = noise_sigma(cfg, step)', 'sigma = noise_sigma(cfg, step) ** 2', 'tests/test_baselines.py'),
    ('side-path', 'base_anneal_off_by_one', 'methods/baselines.py', 'max(0.0, 1.0 - step / cfg.steps)', 'max(0.0, 1.0 - (step + 1) / cfg.steps)', 'tests/test_baselines.py'),
    ('side-path', 'base_anneal_ignored', 'methods/baselines.py', 'if cfg.noise_anneal == "linear":', 'if cfg.noise_anneal == "none":', 'tests/test_baselines.py'),
    ('routing', 'base_g_detached', 'methods/baselines.py', 'd(noisy(g(run.noise()), sigma))', 'd(noisy(g(run.noise()).detach(), sigma))', 'tests/test_baselines.py'),
    ('settings', 'base_minimax_g_dispatch', 'methods/baselines.py', '"minimax": g_loss_minimax', '"minimax": g_loss_nonsaturating', 'tests/test_baselines.py'),
    ('settings', 'base_lsgan_d_dispatch', 'methods/baselines.py', '"lsgan": d_loss_lsgan', '"lsgan": d_loss_gan', 'tests/test_baselines.py'),
    ('side-path', 'base_clip_before_step', 'methods/baselines.py', 'opt_d.step()\n            if cfg.loss == "wgan":\n                clip_weights(d, cfg.clip)', 'if cfg.loss == "wgan":\n                clip_weights(d, cfg.clip)\n            opt_d.step()', 'tests/test_baselines.py'),
    ('side-path', 'base_clip_wrong_c', 'methods/baselines.py', 'clip_weights(d, cfg.clip)', 'clip_weights(d, 10 * cfg.clip)', 'tests/test_baselines.py'),
    ('settings', 'base_wgan_lr', 'methods/baselines.py', '"wgan": ("rmsprop", 5e-5, None, 5)', '"wgan": ("rmsprop", 5e-4, None, 5)', 'tests/test_baselines.py'),
    ('settings', 'base_optimizer_kind_ignored', 'methods/baselines.py', 'kind = kind if cfg.optimizer == "auto" else cfg.optimizer', 'kind = "adam" if cfg.optimizer == "auto" else cfg.optimizer', 'tests/test_baselines.py'),
    ('settings', 'base_d_steps_flag_ignored', 'methods/baselines.py', 'return cfg.d_steps or OPTIM[cfg.loss][3]', 'return OPTIM[cfg.loss][3]', 'tests/test_baselines.py'),
    ('settings', 'base_boost_on_wrong_loss', 'methods/baselines.py', 'if cfg.loss == "wgan" and cfg.wgan_boost', 'if cfg.loss == "wgan-gp" and cfg.wgan_boost', 'tests/test_baselines.py'),
    ('routing', 'base_g_step_grads_into_d', 'methods/baselines.py', 'd.requires_grad_(False)', 'd.requires_grad_(True)', 'tests/test_baselines.py'),
    ('routing', 'base_d_step_grads_into_g', 'methods/baselines.py', 'with torch.no_grad():\n                fake = g(run.noise())', 'with torch.enable_grad():\n                fake = g(run.noise())', 'tests/test_baselines.py'),
    ('direction', 'p_d_real_fake_swapped', 'methods/principled.py', 'loss = baselines.d_loss_gan(d(baselines.noisy(real, sigma)), d(baselines.noisy(fake, sigma)))', 'loss = baselines.d_loss_gan(d(baselines.noisy(fake, sigma)), d(baselines.noisy(real, sigma)))', 'tests/test_principled.py'),
    ('direction', 'p_d_loss_sign', 'methods/principled.py', 'loss = baselines.d_loss_gan(', 'loss = -baselines.d_loss_gan(', 'tests/test_principled.py'),
    ('side-path', 'p_train_noise_only_real', 'methods/principled.py', 'd(baselines.noisy(fake, sigma)))', 'd(fake))', 'tests/test_principled.py'),
    ('side-path', 'p_train_noise_squared', 'methods/principled.py', 'd(baselines.noisy(real, sigma)), d(baselines.noisy(fake, sigma)))', 'd(baselines.noisy(real, sigma ** 2)), d(baselines.noisy(fake, sigma ** 2)))', 'tests/test_principled.py'),
    ('side-path', 'p_measure_noise_squared', 'methods/principled.py', 'x = x + sigma * torch.randn(x.shape, generator=gen).to(x.device)', 'x = x + sigma ** 2 * torch.randn(x.shape, generator=gen).to(x.device)', 'tests/test_principled.py'),
    ('routing', 'p_measure_detached', 'methods/principled.py', '    x = g(z)\n', '    x = g(z).detach()\n', 'tests/test_principled.py'),
    ('reported', 'p_measure_real_clean', 'methods/principled.py', 'real = baselines.noisy(data.sample(cfg.batch_size), sigma)', 'real = data.sample(cfg.batch_size)', 'tests/test_principled.py'),
    ('reported', 'p_measure_costs_swapped', 'methods/principled.py', 'grads = [generator_grad(g, d, z, cost, sigma, noise_gen) for z in z_fixed]', 'grads = [generator_grad(g, d, z, COSTS[1 - COSTS.index(cost)], sigma, noise_gen) for z in z_fixed]', 'tests/test_principled.py'),
    ('reported', 'p_err_real_fake_swapped', 'methods/principled.py', 'lr, lf = d(real), d(fake)', 'lr, lf = d(fake), d(real)', 'tests/test_principled.py'),
    ('side-path', 'p_sigma_squared', 'methods/principled.py', 'sigmas = [0.0] + ([cfg.d_noise] if cfg.d_noise > 0 else [])', 'sigmas = [0.0] + ([cfg.d_noise ** 2] if cfg.d_noise > 0 else [])', 'tests/test_principled.py'),
    ('routing', 'p_fresh_d_per_sigma', 'methods/principled.py', 'g, d = fresh_nets(cfg.seed + 1)  # the same', 'g, d = fresh_nets(cfg.seed + 1 + int(sigma > 0))  # the same', 'tests/test_principled.py'),
    ('routing', 'p_g_gets_d_grad', 'methods/principled.py', 'with torch.no_grad():\n            fake = g(torch.randn(', 'with torch.enable_grad():\n            fake = g(torch.randn(', 'tests/test_principled.py'),
    ('routing', 'p_g_not_loaded', 'methods/principled.py', 'g.load_state_dict(torch.load(out / "gan" / f"g_step{k * spe}.pt", map_location=run.device))', 'pass', 'tests/test_principled.py'),
    ('routing', 'p_extra_d_same_seed', 'methods/principled.py', 'g_j, d_j = fresh_nets(cfg.seed + 1 + 100 * j)', 'g_j, d_j = fresh_nets(cfg.seed + 1)', 'tests/test_principled.py'),
    ('routing', 'p_extra_d_noisy', 'methods/principled.py', 'fresh_discriminator_phase(cfg, data, g_j, d_j, z_dim, device, 0.0, measure_every=cfg.d_iters)', 'fresh_discriminator_phase(cfg, data, g_j, d_j, z_dim, device, cfg.d_noise, measure_every=cfg.d_iters)', 'tests/test_principled.py'),
    # issue 37: nothing lost, nothing silent
    ('harness', 'nl-resume-retrains-a-finished-run', 'runfiles.py', '    if cfg.resume and finished and not ckpt and not cfg.overwrite:', '    if False:', 'tests/test_nothing_lost.py'),
    ('harness', 'nl-overwrite-by-globs', 'runfiles.py', '        listed = json.loads((out / MANIFEST).read_text())', '        raise OSError', 'tests/test_nothing_lost.py'),
    ('harness', 'nl-no-lock', 'runfiles.py', '    lock_out(out)\n    if replace:', '    if replace:', 'tests/test_nothing_lost.py'),
    ('harness', 'nl-resume-past-steps', 'common.py', '            if start > self.cfg.steps:', '            if False:', 'tests/test_nothing_lost.py'),
    ('harness', 'nl-folder-data-root-resumable', 'runfiles.py', 'fixed = RESUMABLE - ({"data_root"} if cfg.dataset == "folder" else set())', 'fixed = RESUMABLE', 'tests/test_nothing_lost.py'),
    ('harness', 'nl-d-steps-unbounded', 'common.py', '        if cfg.d_steps > D_STEPS_MAX:', '        if False:', 'tests/test_nothing_lost.py'),
    ('harness', 'nl-floats-unchecked', 'common.py', '        if any(isinstance(x, float) and not math.isfinite(x) for x in nums):', '        if False:', 'tests/test_nothing_lost.py'),
    ('harness', 'nl-other-script-unnamed', 'runfiles.py', '        if script and other and other != script:', '        if False:', 'tests/test_nothing_lost.py'),
    ('harness', 'nl-make-unknown-variables', 'Makefile', '  ifneq ($(UNKNOWN_VARS),)', '  ifneq (,)', 'tests/test_nothing_lost.py'),
    ('harness', 'nl-gpu-dead-holder-kept', 'with_gpu.sh', '      if { [ -n "$pid" ] && ! alive "$pid"; }', '      if false && { [ -n "$pid" ] && ! alive "$pid"; }', 'tests/test_make_targets.py -k with_gpu'),
    ('harness', 'nl-gpu-slot-per-gpu', 'with_gpu.sh', '    slot="$locks/$g.$k"', '    slot="$locks/$g"', 'tests/test_make_targets.py -k with_gpu'),
    ('harness', 'nl-broken-pipe-traceback', 'common.py', '    except BrokenPipeError:', '    except ZeroDivisionError:', 'tests/test_nothing_lost.py'),
    ('harness', 'nl-failed-start-leaves-folder', 'common.py', '            release_out(cfg.out, created)', '            release_out(cfg.out)', 'tests/test_nothing_lost.py'),
    ('harness', 'nl-no-make-hint', 'common.py', '    if not os.environ.get("MAKELEVEL"):', '    if True:', 'tests/test_nothing_lost.py'),
    ('harness', 'nl-grouped-range-error', 'methods/baselines.py', '    common.must(cfg, ">= 0", "instance_noise", "lr", "gp_lambda")', '    pass', 'tests/test_nothing_lost.py'),
    ('data-nets', 'nl-folder-exif-ignored', 'data.py', "        img = ImageOps.exif_transpose(img)  # a phone photo's rotation", '        pass', 'tests/test_data.py'),
    ('data-nets', 'nl-folder-squashed', 'data.py', '        img = TF.center_crop(img, self.crop or min(img.size))', '        img = TF.center_crop(img, self.crop) if self.crop else img', 'tests/test_data.py'),
    ('data-nets', 'nl-folder-alpha-dropped', 'data.py', '        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):', '        if False:', 'tests/test_data.py'),
    ('data-nets', 'nl-folder-unreadable-stops', 'data.py', '                self.unreadable[path] = f"{type(e).__name__}: {e}"', '                raise', 'tests/test_data.py'),
    # issue 34: Roth et al. as the authors ran it
    ('side-path', 'roth-curvature-gan-squared', 'methods/roth_reg.py', '    "gan": torch.sigmoid,\n}', '    "gan": lambda v: torch.sigmoid(v) ** 2,\n}', 'tests/test_roth_reg.py'),
    ('side-path', 'roth-curvature-hellinger-3v', 'methods/roth_reg.py', '    "hellinger": lambda v: 2 * torch.exp(v),', '    "hellinger": lambda v: 2 * torch.exp(3 * v),', 'tests/test_roth_reg.py'),
    ('data-nets', 'carpedm20-g-kernel-4', 'nets.py', 'mods += [ACTIVATIONS[act](), nn.ConvTranspose2d(ch, out, 5, 2, 2, output_padding=1)]', 'mods += [ACTIVATIONS[act](), nn.ConvTranspose2d(ch, out, 4, 2, 1)]', 'tests/test_roth_reg.py'),
    ('data-nets', 'carpedm20-d-bn-on-first-conv', 'nets.py', '            mods += [norm_layer(norm, out)] if i > 0 else []', '            mods += [norm_layer(norm, out)]', 'tests/test_roth_reg.py'),
    ('settings', 'roth-cifar-prior-normal', 'methods/roth_reg.py', '"symmetric" if cfg.dataset == "cifar10" else "normal"', '"normal" if cfg.dataset == "cifar10" else "normal"', 'tests/test_roth_reg.py tests/test_settings.py'),
    ('settings', 'roth-celeba-crop-108', 'methods/roth_reg.py', 'crop=cfg.crop or (178 if cfg.dataset == "celeba" else 0)', 'crop=cfg.crop or (108 if cfg.dataset == "celeba" else 0)', 'tests/test_roth_reg.py'),
    ('settings', 'roth-big-z-100', 'methods/roth_reg.py', 'z_dim=cfg.z_dim or (128 if big else 0)', 'z_dim=cfg.z_dim or 0', 'tests/test_roth_reg.py tests/test_settings.py'),
    ('side-path', 'roth-noise-keeps-the-regularizer', 'methods/roth_reg.py', 'gamma=cfg.gamma if cfg.gamma != -1 else 0.0 if cfg.noise_std > 0 else 0.1,', 'gamma=cfg.gamma if cfg.gamma != -1 else 0.1,', 'tests/test_roth_reg.py'),
    ('reported', 'roth-crosstest-with-replacement', 'methods/roth_reg.py', '    idx = torch.arange(len(data)) if len(data) <= n else torch.randperm(len(data))[:n]', '    idx = torch.randint(len(data), (min(n, len(data)),))', 'tests/test_roth_reg.py'),
    ('data-nets', 'latent-symmetric-is-0-1', 'nets.py', '        return torch.rand(n, z_dim, device=device, generator=generator) * 2 - 1', '        return torch.rand(n, z_dim, device=device, generator=generator)', 'tests/test_roth_reg.py'),
    ('data-nets', 'celeba-crop-flag-ignored', 'data.py', 'size, device, crop=crop or 108,', 'size, device, crop=108,', 'tests/test_roth_reg.py'),
    ('reported', 'reproduce-best-is-mean', 'reproduce.py', 'max(vals) if isinstance(spec, Best) else statistics.mean(vals)', 'statistics.mean(vals)', 'tests/test_reproduce_report.py'),
    ('reported', 'reproduce-spread-ignored', 'reproduce.py', 'verdict = "reproduces" if all(per_seed) and margins else', 'verdict = "reproduces" if all(per_seed) else', 'tests/test_reproduce_report.py'),
    # issue 33: a fresh set written after the tests, by someone who did not read them: 69 of 78 caught; the 9
    # survivors (reported, settings, closed-form) got tests, and are caught now
    ('side-path', 'fresh-bl-g-costs-swapped', 'methods/baselines.py', 'G_LOSS = {"minimax": g_loss_minimax, "nonsaturating": g_loss_nonsaturating,', 'G_LOSS = {"minimax": g_loss_nonsaturating, "nonsaturating": g_loss_minimax,', 'tests/test_baselines.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('side-path', 'fresh-bl-noise-anneal-rising', 'methods/baselines.py', 'return cfg.instance_noise * max(0.0, 1.0 - step / cfg.steps)', 'return cfg.instance_noise * min(1.0, step / cfg.steps)', 'tests/test_baselines.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('routing', 'fresh-bl-g-step-no-instance-noise', 'methods/baselines.py', 'loss_g = g_loss(cfg.loss, d(noisy(g(run.noise()), sigma)))', 'loss_g = g_loss(cfg.loss, d(g(run.noise())))', 'tests/test_baselines.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('routing', 'fresh-bl-gp-on-real-only', 'methods/baselines.py', 'gradient_penalty(d, real_in, fake_in)', 'gradient_penalty(d, real_in, real_in)', 'tests/test_baselines.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('settings', 'fresh-bl-lr-flag-ignored', 'methods/baselines.py', 'return kind, cfg.lr or lr, ', 'return kind, lr or cfg.lr, ', 'tests/test_baselines.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('settings', 'fresh-bl-wgan-gp-betas', 'methods/baselines.py', '"wgan-gp": ("adam", 1e-4, (0.5, 0.9), 5),', '"wgan-gp": ("adam", 1e-4, (0.5, 0.999), 5),', 'tests/test_baselines.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('reported', 'fresh-bl-logged-sigma-unannealed', 'methods/baselines.py', 'run.end_step(step + 1, {"loss_d": loss_d, "loss_g": loss_g}, sigma=sigma)', 'run.end_step(step + 1, {"loss_d": loss_d, "loss_g": loss_g}, sigma=cfg.instance_noise)', 'tests/test_baselines.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('side-path', 'fresh-bl-wgan-boost-off-by-one', 'methods/baselines.py', '(step < 25 or step % 500 == 0)', '(step <= 25 or step % 500 == 0)', 'tests/test_baselines.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('closed-form', 'fresh-bl-lsgan-halves-dropped', 'methods/baselines.py', 'return 0.5 * ((real_out - 1) ** 2).mean() + 0.5 * (fake_out**2).mean()', 'return ((real_out - 1) ** 2).mean() + (fake_out**2).mean()', 'tests/test_baselines.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('direction', 'fresh-vral-d-real-fake-swapped', 'methods/vral.py', 'losses["loss_d"] = d_loss_vral(nets["f"], nets["r"], prep_fake(fake_out), real_out)', 'losses["loss_d"] = d_loss_vral(nets["f"], nets["r"], real_out, prep_fake(fake_out))', 'tests/test_vral.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('side-path', 'fresh-vral-sub-f-reference-mu-fake', 'methods/vral.py', 'meta_loss(nets["f"], reference_batch(m, mu_f, 1.0, device), out_f)', 'meta_loss(nets["f"], reference_batch(m, cfg.mu_fake, 1.0, device), out_f)', 'tests/test_vral.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('routing', 'fresh-vral-share-real-inverted', 'methods/vral.py', 'd(real_r if cfg.share_real else data.sample(m))', 'd(data.sample(m) if cfg.share_real else real_r)', 'tests/test_vral.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('routing', 'fresh-vral-lipschitz-steps-m-not-d', 'methods/vral.py', 'losses["loss_d"] = d_loss_lipschitz(nets["m"], d(real), d(fake), real, fake)\n                step(opts["d"], losses["loss_d"])', 'losses["loss_d"] = d_loss_lipschitz(nets["m"], d(real), d(fake), real, fake)\n                step(opts["m"], losses["loss_d"])', 'tests/test_vral.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('side-path', 'fresh-vral-ipm-needs-both', 'methods/vral.py', 'g_uses_ipm = cfg.variant == "lipschitz" or cfg.g_loss == "ipm"', 'g_uses_ipm = cfg.variant == "lipschitz" and cfg.g_loss == "ipm"', 'tests/test_vral.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('settings', 'fresh-vral-adam-eps-dropped', 'methods/vral.py', 'betas=tuple(cfg.betas), eps=cfg.adam_eps)', 'betas=tuple(cfg.betas))', 'tests/test_vral.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('closed-form', 'fresh-vral-reference-variance-for-std', 'methods/vral.py', 'return mean + std * torch.randn(m, device=device)', 'return mean + std**2 * torch.randn(m, device=device)', 'tests/test_vral.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('reported', 'fresh-vral-slope-std-is-var', 'methods/vral.py', '"slope_std": s.std().item()', '"slope_std": s.var().item()', 'tests/test_vral.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('direction', 'fresh-roth-d-real-fake-swapped', 'methods/roth_reg.py', 'discriminator_loss(d, real, fake, gamma, cfg.divergence)', 'discriminator_loss(d, fake, real, gamma, cfg.divergence)', 'tests/test_roth_reg.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('side-path', 'fresh-roth-anneal-args-swapped', 'methods/roth_reg.py', 'annealed_gamma(step + 1, cfg.steps, cfg.gamma, cfg.decay)', 'annealed_gamma(step + 1, cfg.steps, cfg.decay, cfg.gamma)', 'tests/test_roth_reg.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('side-path', 'fresh-roth-noise-variance-for-std', 'methods/roth_reg.py', 'return x + std * torch.randn_like(x)', 'return x + std**2 * torch.randn_like(x)', 'tests/test_roth_reg.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('side-path', 'fresh-roth-noise-g-inverted', 'methods/roth_reg.py', 'out_fake = d(noise(x_fake) if cfg.noise_g else x_fake)', 'out_fake = d(x_fake if cfg.noise_g else noise(x_fake))', 'tests/test_roth_reg.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('settings', 'fresh-roth-auto-gloss-swapped', 'methods/roth_reg.py', '"minimax" if toy else "nonsaturating"  # deviation 4', '"nonsaturating" if toy else "minimax"  # deviation 4', 'tests/test_roth_reg.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('settings', 'fresh-roth-lr-defaults-swapped', 'methods/roth_reg.py', 'lr = cfg.lr or (1e-3 if toy else 2e-4)', 'lr = cfg.lr or (2e-4 if toy else 1e-3)', 'tests/test_roth_reg.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('routing', 'fresh-roth-f-regularizer-on-real', 'methods/roth_reg.py', 'omega = f_regularizer(d, fake, divergence)', 'omega = f_regularizer(d, real, divergence)', 'tests/test_roth_reg.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('closed-form', 'fresh-roth-reverse-kl-conj2-sign', 'methods/roth_reg.py', 'lambda t: 1 / t**2)', 'lambda t: -1 / t**2)', 'tests/test_roth_reg.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('reported', 'fresh-roth-crosstest-threshold-on-logit', 'methods/roth_reg.py', 'd(b).reshape(-1) > 0 for b', 'd(b).reshape(-1) > 0.5 for b', 'tests/test_roth_reg.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('reported', 'fresh-roth-cross-fp-own-samples', 'methods/roth_reg.py', '"cross_fp": predict_real(d, samples[other], bs)', '"cross_fp": predict_real(d, samples[k], bs)', 'tests/test_roth_reg.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('direction', 'fresh-zgp-d-real-fake-swapped', 'methods/zero_gp.py', 'discriminator_loss(d, real, fake, cfg.penalty, cfg.lam, cfg.output)', 'discriminator_loss(d, fake, real, cfg.penalty, cfg.lam, cfg.output)', 'tests/test_zero_gp.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('settings', 'fresh-zgp-lam-defaults-swapped', 'methods/zero_gp.py', '10.0 if toy else 100.0', '100.0 if toy else 10.0', 'tests/test_zero_gp.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('settings', 'fresh-zgp-lr-d-ignores-lr-g', 'methods/zero_gp.py', 'lr_d=cfg.lr_d or cfg.lr_g or (3e-3 if toy else 3e-4)', 'lr_d=cfg.lr_d or (3e-3 if toy else 3e-4)', 'tests/test_zero_gp.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('routing', 'fresh-zgp-penalty-graph-not-kept', 'methods/zero_gp.py', '(g,) = torch.autograd.grad(out.sum(), x, create_graph=True)', '(g,) = torch.autograd.grad(out.sum(), x, retain_graph=True)', 'tests/test_zero_gp.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('side-path', 'fresh-zgp-1gp-norm-over-batch', 'methods/zero_gp.py', 'return ((g.norm(dim=1) - center) ** 2).mean()', 'return ((g.norm() - center) ** 2).mean()', 'tests/test_zero_gp.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('reported', 'fresh-zgp-gradstats-fake-from-real', 'methods/zero_gp.py', '("grad_prob_fake", f)', '("grad_prob_fake", r)', 'tests/test_zero_gp.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('reported', 'fresh-zgp-surface-gap-signed', 'methods/zero_gp.py', 'gaps[label].append(float(np.abs(v - d_star).mean()))', 'gaps[label].append(float((v - d_star).mean()))', 'tests/test_zero_gp.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('direction', 'fresh-mreg-mode-term-printed-sign', 'methods/mode_reg.py', 'return lam1 * dist + lam2 * mode, dist, mode', 'return lam1 * dist - lam2 * mode, dist, mode', 'tests/test_mode_reg.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('routing', 'fresh-mreg-e-never-stepped', 'methods/mode_reg.py', '        if regularized:\n            opt_e.step()', '        if not regularized:\n            opt_e.step()', 'tests/test_mode_reg.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('routing', 'fresh-mreg-encoder-detached', 'methods/mode_reg.py', 'rec = g(e(x))', 'rec = g(e(x).detach())', 'tests/test_mode_reg.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('routing', 'fresh-mreg-mode-term-on-real', 'methods/mode_reg.py', 'generator_losses(logit_fake, x, rec, d(rec), cfg.lam1', 'generator_losses(logit_fake, x, rec, d(x), cfg.lam1', 'tests/test_mode_reg.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('settings', 'fresh-mreg-lam1-image-default', 'methods/mode_reg.py', 'lam1=cfg.lam1 if cfg.lam1 != -1 else 0.005 if toy else 0.2', 'lam1=cfg.lam1 if cfg.lam1 != -1 else 0.005 if toy else 0.4', 'tests/test_mode_reg.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('side-path', 'fresh-mreg-distance-kinds-swapped', 'methods/mode_reg.py', 'return sq.mean(1) if kind == "mean" else sq.sum(1)', 'return sq.sum(1) if kind == "mean" else sq.mean(1)', 'tests/test_mode_reg.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('closed-form', 'fresh-mreg-set2-weights', 'methods/mode_reg.py', '"set2": [float(k + 10) for k in range(10)]', '"set2": [float(k) for k in range(10)]', 'tests/test_mode_reg.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('closed-form', 'fresh-mreg-real-sample-count-floored', 'methods/mode_reg.py', 'for _ in range(-(-cfg.eval_samples // cfg.batch_size))])', 'for _ in range(cfg.eval_samples // cfg.batch_size)])', 'tests/test_mode_reg.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('reported', 'fresh-mreg-logged-rec-swapped', 'methods/mode_reg.py', 'rec_distance=float(dist.detach()), rec_neg_log_d=float(mode.detach())', 'rec_distance=float(mode.detach()), rec_neg_log_d=float(dist.detach())', 'tests/test_mode_reg.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('reported', 'fresh-mreg-table-kl-cell', 'methods/mode_reg.py', 'kl = [r[pre + "kl_train_modes"] for r in runs if pre + "kl_train_modes" in r]', 'kl = [r[pre + "kl_modes"] for r in runs if pre + "kl_modes" in r]', 'tests/test_mode_reg.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('reported', 'fresh-mreg-grid-above-count', 'methods/mode_reg.py', "int((ms['reg'] > ms['gan']).sum())", "int((ms['gan'] > ms['reg']).sum())", 'tests/test_mode_reg.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('routing', 'fresh-md-d2-is-d1', 'methods/mdgan.py', 'return g, d1, d2, e, norm', 'return g, d1, d1, e, norm', 'tests/test_mdgan.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('routing', 'fresh-md-manifold-encoder-detached', 'methods/mdgan.py', '            rec = g(e(x))\n        loss_m, dist, neg_log_d1', '            rec = g(e(x).detach())\n        loss_m, dist, neg_log_d1', 'tests/test_mdgan.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('settings', 'fresh-md-g-optim-inverted', 'methods/mdgan.py', 'if cfg.g_optim == "separate" else opt_g_manifold', 'if cfg.g_optim == "shared" else opt_g_manifold', 'tests/test_mdgan.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('settings', 'fresh-md-z-dim-100', 'methods/mdgan.py', 'z_dim=cfg.z_dim or (3 if toy else 200)', 'z_dim=cfg.z_dim or (3 if toy else 100)', 'tests/test_mdgan.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('reported', 'fresh-md-table-real-row-from-model', 'methods/mdgan.py', 'real = [s["real_missed_modes"] for s in runs if "real_missed_modes" in s]', 'real = [s["missed_modes"] for s in runs if "missed_modes" in s]', 'tests/test_mdgan.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('direction', 'fresh-pr-fresh-d-real-fake-swapped', 'methods/principled.py', 'baselines.d_loss_gan(d(baselines.noisy(real, sigma)), d(baselines.noisy(fake, sigma)))', 'baselines.d_loss_gan(d(baselines.noisy(fake, sigma)), d(baselines.noisy(real, sigma)))', 'tests/test_principled.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('settings', 'fresh-pr-fresh-d-adam-betas-dropped', 'methods/principled.py', 'opt = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))', 'opt = torch.optim.Adam(d.parameters(), lr=2e-4)', 'tests/test_principled.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('reported', 'fresh-pr-accuracy-fake-sign', 'methods/principled.py', '(lf < 0).float().mean()', '(lf > 0).float().mean()', 'tests/test_principled.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('reported', 'fresh-pr-spread-sample-std', 'methods/principled.py', '"std": n.std()', '"std": n.std(ddof=1)', 'tests/test_principled.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('side-path', 'fresh-pr-measure-without-noise', 'methods/principled.py', 'grads = [generator_grad(g, d, z, cost, sigma, noise_gen) for z in z_fixed]', 'grads = [generator_grad(g, d, z, cost) for z in z_fixed]', 'tests/test_principled.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('routing', 'fresh-pr-g-buffers-aliased', 'methods/principled.py', 'g_buffers = {k: b.clone() for k, b in g.named_buffers()}', 'g_buffers = dict(g.named_buffers())', 'tests/test_principled.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('side-path', 'fresh-pr-both-costs-nonsat', 'methods/principled.py', 'grads = torch.autograd.grad(baselines.g_loss(cost, d(x)), params)', 'grads = torch.autograd.grad(baselines.g_loss("nonsaturating", d(x)), params)', 'tests/test_principled.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('routing', 'fresh-pr-across-d-measures-first-d', 'methods/principled.py', 'finals.append(mean_generator_grads(g_j, d_j, z_fixed))', 'finals.append(mean_generator_grads(g_j, d, z_fixed))', 'tests/test_principled.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('reported', 'fresh-pr-nonsat-cv-over-minimax', 'methods/principled.py', 'last["nonsaturating_std"] / last["nonsaturating_mean"]', 'last["nonsaturating_std"] / last["minimax_mean"]', 'tests/test_principled.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ('settings', 'fresh-pr-phase1-loss-dropped', 'methods/principled.py', '"eval_samples": 0},\n                               loss=cfg.loss)', '"eval_samples": 0})', 'tests/test_principled.py tests/test_settings.py tests/test_nets.py tests/test_closed_forms.py'),
    ("settings", "roth-train-prior-dropped", "methods/roth_reg.py", "                     prior=cfg.prior)", "                     )", "tests/test_settings.py tests/test_roth_reg.py"),
    ("data-nets", "run-crop-dropped", "common.py", "                                      crop=cfg.crop or None)", "                                      crop=None)", "tests/test_roth_reg.py"),
    # issue 36: the two scores, Table 2's floor, d's scale, the third-party D's held-out images, the record's old keys
    ("equation", "mode-score-kl-reversed", "metrics.py", "return inception_score(probs) * float(np.exp(-_kl_rows(probs.mean(0), train_dist)))", "return inception_score(probs) * float(np.exp(-_kl_rows(np.asarray(train_dist, np.float64), probs.mean(0))))", "tests/test_metrics.py"),
    ("equation", "mode-score-no-penalty", "metrics.py", "return inception_score(probs) * float(np.exp(-_kl_rows(probs.mean(0), train_dist)))", "return inception_score(probs)", "tests/test_metrics.py"),
    ("reported", "image-scores-mode-is-printed", "metrics.py", '"mode_score": mode_score(probs, train_dist)', '"mode_score": printed_mode_score(probs, train_dist)', "tests/test_metrics.py"),
    ("closed-form", "expected-missed-poisson", "metrics.py", "return float(np.sum((1.0 - p) ** n))", "return float(np.sum(np.exp(-p * n)))", "tests/test_mode_reg.py"),
    ("reported", "perfect-floor-at-2500", "metrics.py", '"perfect_missed_modes": expected_missed(p, len(numbers))', '"perfect_missed_modes": expected_missed(p, 2500)', "tests/test_mode_reg.py"),
    ("settings", "mreg-distance-default-pixel", "methods/mode_reg.py", 'else "pixel" if toy else "mean",', 'else "pixel",', "tests/test_mode_reg.py"),
    ("reported", "mreg-logged-gan-term-is-t-g", "methods/mode_reg.py", "gan_term=float(F.softplus(-logit_fake.detach()).mean())", "gan_term=float(loss_g.detach())", "tests/test_mode_reg.py"),
    ("routing", "third-party-tests-on-trained-digits", "methods/mode_reg.py", 'return rest, draw(held), "held-out digit images', 'return rest, draw(rest), "held-out digit images', "tests/test_mode_reg.py"),
    ("routing", "third-party-trains-on-held-digits-too", "methods/mode_reg.py", 'return rest, draw(held), "held-out digit images', 'return data, draw(held), "held-out digit images', "tests/test_mode_reg.py"),
    ("routing", "third-party-celeba-trains-on-all", "methods/mode_reg.py", 'return load("trainval"), images,', 'return data, images,', "tests/test_mode_reg.py"),
    ("data-nets", "celeba-trainval-holds-test", "data.py", 'CELEBA_SPLITS = {"test": {"2"}, "trainval": {"0", "1"}}', 'CELEBA_SPLITS = {"test": {"2"}, "trainval": {"0", "1", "2"}}', "tests/test_mode_reg.py"),
    ("data-nets", "composed-split-overlaps", "data.py", "            rest.by_class.append(perm[k:])", "            rest.by_class.append(perm)", "tests/test_mode_reg.py"),
    ("settings", "mnist-table2-at-2500-samples", "Makefile", "--third-party-sigma 3.5 4.0 --eval-samples 10000", "--third-party-sigma 3.5 4.0", "tests/test_mode_reg.py"),
    ("reported", "reproduce-old-mode-score-counts", "reproduce.py", '    if name == "mode_score" and "inception_score" not in summary:\n        return None\n', "", "tests/test_reproduce_report.py"),
    ("settings", "make-alt-dist-flag-dropped", "Makefile", "$(if $(findstring -,$(m)),--distance $(lastword $(subst -, ,$(m)))) --digit-weights", "--digit-weights", "tests/test_mode_reg.py"),
    ("reported", "reproduce-requires-ignored", "reproduce.py", "    if any(r not in value for r in requires):\n        return None\n", "", "tests/test_reproduce_report.py"),
]

# Mutants that change no result, kept to remember why they survive.
EQUIVALENT = {
    # Phase 1 restarted from step 0 for every k instead of resumed: the same seed gives the same G, only slower.
    "principled-phase1-no-resume",
}


def stale(mutants=None):
    """The mutants whose line does not occur exactly once in today's file: [(name, file, matches)]."""
    out = []
    for _, name, path, old, *_ in mutants or MUTANTS:
        n = (ROOT / path).read_text().count(old) if (ROOT / path).exists() else 0
        if n != 1:
            out.append((name, path, n))
    return out


def run(name, path, old, new, tests, scratch):
    copy = scratch / name
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", ".git", "runs", "data", "__pycache__", "results"))
    text = (copy / path).read_text()
    (copy / path).write_text(text.replace(old, new))
    try:  # a mutant that makes a run hang (a bound removed) is caught by the time limit
        r = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests.split()],
                           cwd=copy, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
                           timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"caught by the {TIMEOUT} s time limit (a hang)"
    failed = [l.split(" - ")[0] for l in r.stdout.splitlines() if l.startswith("FAILED") or l.startswith("ERROR")]
    if r.returncode:
        return f"caught by {failed[0].split(' ', 1)[1]}" if failed else f"caught (pytest exit {r.returncode})"
    return "equivalent" if name in EQUIVALENT else "SURVIVED"


def main():
    args = sys.argv[1:]
    if args == ["--list"]:
        for cls, what in CLASSES.items():
            print(f"{cls}: {what}")
            for m in MUTANTS:
                if m[0] == cls:
                    print(f"    {m[1]}  ({m[2]})")
        return
    names = {m[1] for m in MUTANTS if not args or m[1] in args or m[0] in args}
    unknown = set(args) - {m[1] for m in MUTANTS} - set(CLASSES)
    if unknown:
        sys.exit(f"unknown mutants or classes: {sorted(unknown)}")
    bad = stale([m for m in MUTANTS if m[1] in names])
    if bad:
        for name, path, n in bad:
            print(f"STALE {name}: its line occurs {n} times in {path} (must be once): update or remove it")
        sys.exit(1)
    score = {}
    with tempfile.TemporaryDirectory() as scratch:
        for cls, name, *rest in MUTANTS:
            if name in names:
                result = run(name, *rest, Path(scratch))
                tried, caught = score.get(cls, (0, 0))
                score[cls] = (tried + 1, caught + result.startswith(("caught", "equivalent")))
                print(f"{cls:11s} {name:40s} {result}", flush=True)
    for cls, (tried, caught) in score.items():
        print(f"{cls:11s} caught {caught} of {tried}")
    tried, caught = map(sum, zip(*score.values()))
    print(f"all         caught {caught} of {tried} (equivalent mutants count as caught)")
    sys.exit(0 if caught == tried else 1)


if __name__ == "__main__":
    main()
