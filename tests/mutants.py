"""Mutation check: does a test catch each realistic one-line bug? Not collected by pytest (no test_ prefix).

    .venv/bin/python tests/mutants.py                 every mutant, one at a time
    .venv/bin/python tests/mutants.py NAME ...        only these

Each mutant is applied to a scratch copy of the repository (in a temporary
folder; the working tree is never touched) and the test files named beside
it run there with -x. A mutant the tests do not catch is reported as
SURVIVED: a test is missing, or the mutant does not change behaviour (say
why in the list). Add the mutants of a new method when it lands.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MUTANTS = [
    # (name, file, the line as it is, the bug, the test files that should catch it)
    ("critic-loop-once", "methods/baselines.py", "for _ in range(critic_steps(cfg, step)):", "for _ in range(1):", "tests/test_baselines.py"),
    ("noise-real-only-in-D", "methods/baselines.py", "real_in, fake_in = noisy(real, sigma), noisy(fake, sigma)", "real_in, fake_in = noisy(real, sigma), fake", "tests/test_baselines.py"),
    ("no-noise-in-G", "methods/baselines.py", "d(noisy(g(run.noise()), sigma))", "d(g(run.noise()))", "tests/test_baselines.py"),
    ("nan-guard-loss_g-only", "common.py", "check_finite(done, **values)", "check_finite(done, loss_g=values.get('loss_g', 0.0))", "tests/test_run_contract.py"),
    ("vral-F-R-swapped-in-D", "methods/vral.py", 'd_loss_vral(nets["f"], nets["r"], prep_fake(fake_out), real_out)', 'd_loss_vral(nets["r"], nets["f"], prep_fake(fake_out), real_out)', "tests/test_vral.py"),
    ("vral-R-ref-mu_f", "methods/vral.py", "reference_batch(m, cfg.mu_real, 1.0, device), out_r", "reference_batch(m, mu_f, 1.0, device), out_r", "tests/test_vral.py"),
    ("vral-no-centring-in-D", "methods/vral.py", "prep_fake(fake_out), real_out)", "fake_out, real_out)", "tests/test_vral.py"),
    ("vral-ls-to-mu_f", "methods/vral.py", "g_loss_ls(fake_out, cfg.mu_real)", "g_loss_ls(fake_out, mu_f)", "tests/test_vral.py"),
    ("folder-0-1", "data.py", "return TF.to_tensor(img) * 2 - 1", "return TF.to_tensor(img)", "tests/test_data.py"),
    ("modes-count-all", "metrics.py", '"modes": int((hq_counts >= min_count).sum())', '"modes": int((np.bincount(k, minlength=K) >= min_count).sum())', "tests/test_common.py tests/test_metrics.py"),
    ("principled-noise-real-only", "methods/principled.py", "d(baselines.noisy(real, sigma)), d(baselines.noisy(fake, sigma))", "d(baselines.noisy(real, sigma)), d(fake)", "tests/test_principled.py"),
    ("principled-grad-no-noise", "methods/principled.py", "generator_grad(g, d, z, cost, sigma, noise_gen)", "generator_grad(g, d, z, cost, 0.0, noise_gen)", "tests/test_principled.py"),
    ("no-zero-grad-D", "methods/baselines.py", "            opt_d.zero_grad(set_to_none=True)\n", "", "tests/test_baselines.py"),
    # more classes: optimizers, schedules, harness, metrics, data, principled
    ("no-clipping", "methods/baselines.py", "                clip_weights(d, cfg.clip)", "                pass", "tests/test_baselines.py tests/test_run_contract.py"),
    ("gp-lambda-ignored", "methods/baselines.py", "cfg.gp_lambda * gradient_penalty(d, real_in, fake_in)", "gradient_penalty(d, real_in, fake_in)", "tests/test_baselines.py"),
    ("gp-on-clean-inputs", "methods/baselines.py", "gradient_penalty(d, real_in, fake_in)", "gradient_penalty(d, real, fake)", "tests/test_baselines.py"),
    ("diag-mode-keeps-bn", "common.py", "                b.copy_(saved[k])", "                pass", "tests/test_run_contract.py tests/test_common.py"),
    ("resume-no-rng", "common.py", '    set_rng_state(state["rng"])\n    return state["step"]', '    return state["step"]', "tests/test_run_contract.py tests/test_common.py"),
    ("anneal-half-speed", "methods/baselines.py", "1.0 - step / cfg.steps", "1.0 - step / (2 * cfg.steps)", "tests/test_baselines.py"),
    ("vral-step-no-zero-grad", "methods/vral.py", "    opt.zero_grad(set_to_none=True)\n    loss.backward()", "    loss.backward()", "tests/test_vral.py tests/test_run_contract.py"),
    ("lipschitz-critic-sign", "methods/vral.py", "return critic_term(fake_out, real_out) + F.softplus", "return critic_term(real_out, fake_out) + F.softplus", "tests/test_vral.py"),
    ("vral-F-on-real", "methods/vral.py", "out_f = prep_fake(d(fake_batch()))", "out_f = prep_fake(d(data.sample(m)))", "tests/test_vral.py"),
    ("vral-D-fake-real-swapped", "methods/vral.py", "fake_out, real_out = d(fake_batch()), d(real_r if cfg.share_real else data.sample(m))", "real_out, fake_out = d(fake_batch()), d(real_r if cfg.share_real else data.sample(m))", "tests/test_vral.py"),
    ("vral-share-real-ignored", "methods/vral.py", "d(real_r if cfg.share_real else data.sample(m))", "d(data.sample(m))", "tests/test_vral.py"),
    ("vral-glorot-ignored", "methods/vral.py", 'init = glorot if cfg.meta_init == "glorot" else (lambda net: net)', "init = lambda net: net", "tests/test_vral.py"),
    ("vral-slope-ignored", "methods/vral.py", "    set_lrelu_slope(d, cfg.lrelu_slope)\n", "", "tests/test_vral.py"),
    ("vral-G-no-d-freeze-restore", "methods/vral.py", "        d.requires_grad_(True)\n        run.end_step", "        run.end_step", "tests/test_vral.py tests/test_run_contract.py"),
    ("diag-fake-std-from-real", "metrics.py", '"d_fake_std": avg(f, torch.std)', '"d_fake_std": avg(r, torch.std)', "tests/test_metrics.py tests/test_run_contract.py"),
    ("npz-fake-is-real", "common.py", "out_f = torch.cat([d(x) for x in fakes])", "out_f = torch.cat([d(x) for x in reals])", "tests/test_run_contract.py"),
    ("grad-norm-not-flattened", "metrics.py", "return g.flatten(1).norm(dim=1)", "return g.norm(dim=1)", "tests/test_baselines.py tests/test_metrics.py"),
    ("hq-2-std", "metrics.py", "good = dist <= 3 * std", "good = dist <= 2 * std", "tests/test_common.py"),
    ("revkl-direction", "metrics.py", "np.sum(q[nz] * np.log(q[nz] / p[nz]))", "np.sum(p[nz] * np.log(p[nz] / q[nz]))", "tests/test_common.py"),
    ("principled-G-buffers-not-restored", "methods/principled.py", "            b.copy_(g_buffers[k])", "            pass", "tests/test_principled.py"),
    ("principled-phase1-no-resume", "methods/principled.py", '"resume": i > 0', '"resume": False', "tests/test_principled.py"),
    ("principled-extra-d-untrained", "methods/principled.py", "        fresh_discriminator_phase(cfg, data, g_j, d_j, z_dim, device, 0.0, measure_every=cfg.d_iters)\n", "", "tests/test_principled.py -k across"),
    ("principled-across-one-d", "methods/principled.py", "finals.append(mean_generator_grads(g_j, d_j, z_fixed))", "finals.append(mean_generator_grads(g, d, z_fixed))", "tests/test_principled.py -k across"),
    ("principled-across-on-noisy-d", "methods/principled.py", "if sigma == 0 and cfg.d_seeds > 1:", "if sigma == sigmas[-1] and cfg.d_seeds > 1:", "tests/test_principled.py -k across"),
    ("principled-across-first-d-untrained", "methods/principled.py", "across_discriminators(cfg, run.data, g, d, fresh_nets,", "across_discriminators(cfg, run.data, *fresh_nets(cfg.seed + 1), fresh_nets,", "tests/test_principled.py -k across"),
    ("seed-ignored-torch", "common.py", "    torch.manual_seed(seed)\n\n\ndef pick_device", "    pass\n\n\ndef pick_device", "tests/test_run_contract.py"),
    ("ns-g-loss-is-minimax", "methods/baselines.py", 'G_LOSS = {"minimax": g_loss_minimax, "nonsaturating": g_loss_nonsaturating,', 'G_LOSS = {"minimax": g_loss_minimax, "nonsaturating": g_loss_minimax,', "tests/test_baselines.py"),
    ("stacked-digit-order", "data.py", "labels = (digits * torch.tensor([100, 10, 1])).sum(1)", "labels = (digits * torch.tensor([1, 10, 100])).sum(1)", "tests/test_data.py"),
    ("mode-score-no-kl-term", "metrics.py", "return float(np.exp(_kl_rows(probs, train_dist).mean() - _kl_rows(probs.mean(0), train_dist)))", "return float(np.exp(_kl_rows(probs, train_dist).mean()))", "tests/test_metrics.py"),
    ("wgan-gp-critic-batchnorm", "methods/baselines.py", 'd_norm="none" if cfg.loss == "wgan-gp" else None', "d_norm=None", "tests/test_baselines.py"),
    ("layer-norm-per-channel", "nets.py", "nn.GroupNorm(1, ch * 2)", "nn.GroupNorm(ch * 2, ch * 2)", "tests/test_common.py"),
    ("resume-config-unchecked", "common.py", "if cfg is not None and saved is not None:", "if False:", "tests/test_run_contract.py"),
    ("overwrite-unchecked", "common.py", "        if not cfg.overwrite:\n", "        if False:\n", "tests/test_run_contract.py"),
    ("folder-unseeded-indices", "data.py", "idx = torch.randint(len(self.files), (n,)).tolist()", "idx = np.random.default_rng().integers(len(self.files), size=n).tolist()", "tests/test_data.py"),
    ("png16-clipped", "data.py", 'if img.mode.startswith("I"):', "if False:", "tests/test_data.py"),
    ("roth-weights-detached", "methods/roth_reg.py", "d_real, d_fake = torch.sigmoid(logit_real), torch.sigmoid(logit_fake)", "d_real, d_fake = torch.sigmoid(logit_real).detach(), torch.sigmoid(logit_fake).detach()", "tests/test_roth_reg.py"),
    ("roth-grad-no-create-graph", "methods/roth_reg.py", "(x_real, x_fake), create_graph=True)", "(x_real, x_fake), create_graph=False)", "tests/test_roth_reg.py"),
    ("roth-norm-not-squared", "methods/roth_reg.py", "g_real.flatten(1).pow(2).sum(1)", "g_real.flatten(1).norm(dim=1)", "tests/test_roth_reg.py"),
    ("roth-grad-of-batch-mean", "methods/roth_reg.py", "logit_real.sum() + logit_fake.sum()", "logit_real.mean() + logit_fake.mean()", "tests/test_roth_reg.py"),
    ("roth-real-weight-is-D", "methods/roth_reg.py", "((1 - d_real) ** 2 * sq_grad_real)", "(d_real**2 * sq_grad_real)", "tests/test_roth_reg.py"),
    ("roth-gamma-not-halved", "methods/roth_reg.py", "d_loss_js(logit_real, logit_fake) + gamma / 2 * omega", "d_loss_js(logit_real, logit_fake) + gamma * omega", "tests/test_roth_reg.py"),
    ("roth-anneal-linear", "methods/roth_reg.py", "gamma0 * decay ** (step / total_steps)", "gamma0 * (1 - (1 - decay) * step / total_steps)", "tests/test_roth_reg.py"),
    ("roth-anneal-from-step-0", "methods/roth_reg.py", "annealed_gamma(step + 1, cfg.steps", "annealed_gamma(step, cfg.steps", "tests/test_roth_reg.py"),
    ("roth-d-steps-once", "methods/roth_reg.py", "        for _ in range(cfg.d_steps):", "        for _ in range(1):", "tests/test_roth_reg.py"),
    ("roth-g-costs-swapped", "methods/roth_reg.py", "g_loss_original(out_fake) if g_loss == \"minimax\" else g_loss_alternative(out_fake)", "g_loss_alternative(out_fake) if g_loss == \"minimax\" else g_loss_original(out_fake)", "tests/test_roth_reg.py"),
    ("roth-noise-fake-only", "methods/roth_reg.py", "real = noise(run.data.sample(m))", "real = run.data.sample(m)", "tests/test_roth_reg.py"),
    ("roth-f-weight-is-conjugate", "methods/roth_reg.py", "(conj2(psi) * g.flatten(1)", "(conj(psi) * g.flatten(1)", "tests/test_roth_reg.py"),
    ("roth-hellinger-conj2", "methods/roth_reg.py", "lambda t: 2 / (1 - t) ** 3", "lambda t: 1 / (1 - t) ** 2", "tests/test_roth_reg.py"),
    ("roth-crosstest-own-samples", "methods/roth_reg.py", "predict_real(d, samples[other], bs)", "predict_real(d, samples[k], bs)", "tests/test_roth_reg.py"),
    ("roth-toy-relu", "methods/roth_reg.py", "        g, d = build(act=\"tanh\")", "        g, d = build()", "tests/test_roth_reg.py"),
    ("label-kl-reversed", "metrics.py", "return float(_kl_rows(np.asarray(train_dist, np.float64), np.asarray(probs, np.float64).mean(0)))", "return float(_kl_rows(np.asarray(probs, np.float64).mean(0), np.asarray(train_dist, np.float64)))", "tests/test_metrics.py"),
    ("zgp-a-per-pixel", "methods/zero_gp.py", 'a = torch.rand(len(x_real), *([1] * (x_real.dim() - 1)), device=x_real.device)', 'a = torch.rand_like(x_real)', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("zgp-no-create-graph", "methods/zero_gp.py", '(g,) = torch.autograd.grad(out.sum(), x, create_graph=True)', '(g,) = torch.autograd.grad(out.sum(), x, create_graph=False)', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("zgp-always-logit", "methods/zero_gp.py", 'out = torch.sigmoid(logit) if output == "prob" else logit', 'out = logit', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("zgp-samples-real-only", "methods/zero_gp.py", 'x = torch.cat([x_real, x_fake])', 'x = x_real', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("zgp-norm-not-squared", "methods/zero_gp.py", 'return g.pow(2).sum(1).mean()', 'return g.norm(dim=1).mean()', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("zgp-centre-ignored", "methods/zero_gp.py", 'return ((g.norm(dim=1) - center) ** 2).mean()', 'return (g.norm(dim=1) ** 2).mean()', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("zgp-no-flatten", "methods/zero_gp.py", '    return g.flatten(1)\n', '    return g\n', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("zgp-lambda-ignored", "methods/zero_gp.py", 'return loss + lam * gp, gp', 'return loss + gp, gp', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("zgp-d-steps-once", "methods/zero_gp.py", '        for _ in range(cfg.d_steps):', '        for _ in range(1):', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("zgp-g-saturating", "methods/zero_gp.py", '    return F.softplus(-logit_fake).mean()\n\n\ndef discriminator_loss', '    return -F.softplus(logit_fake).mean()\n\n\ndef discriminator_loss', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("zgp-ttur-swapped", "methods/zero_gp.py", 'make_optim(cfg, g.parameters(), cfg.lr_g), make_optim(cfg, d.parameters(), cfg.lr_d)', 'make_optim(cfg, g.parameters(), cfg.lr_d), make_optim(cfg, d.parameters(), cfg.lr_g)', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("zgp-field-of-logit", "methods/zero_gp.py", 'F.logsigmoid(d(v).reshape(-1)).sum()', 'd(v).reshape(-1).sum()', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("zgp-optimal-d-swapped", "methods/zero_gp.py", 'return pr / (pr + pg)', 'return pg / (pr + pg)', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("zgp-surface-fake-cov", "methods/zero_gp.py", 'rng.multivariate_normal(MEANS[1], COVS[1], n)', 'rng.multivariate_normal(MEANS[1], COVS[0], n)', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("zgp-no-zero-grad-D", "methods/zero_gp.py", '            opt_d.zero_grad(set_to_none=True)\n            loss_d.backward()', '            loss_d.backward()', "tests/test_zero_gp.py tests/test_run_contract.py"),
    ("composed-third-swapped", "metrics.py", "torch.stack([band[..., i * h:(i + 1) * h] for i in range(3)], 1)", "torch.stack([band[..., (2 - i) * h:(3 - i) * h] for i in range(3)], 1)", "tests/test_metrics.py"),
    # mode_reg (Che et al. 2017)
    ("mreg-mode-sign-as-printed", "methods/mode_reg.py", "mode = F.softplus(-logit_rec).mean()", "mode = F.softplus(logit_rec).mean()", "tests/test_mode_reg.py"),
    ("mreg-no-metric-term", "methods/mode_reg.py", "return lam1 * dist + lam2 * mode, dist, mode", "return lam2 * mode, dist, mode", "tests/test_mode_reg.py"),
    ("mreg-lam1-lam2-swapped", "methods/mode_reg.py", "return lam1 * dist + lam2 * mode, dist, mode", "return lam2 * dist + lam1 * mode, dist, mode", "tests/test_mode_reg.py"),
    ("mreg-pixel-is-mean", "methods/mode_reg.py", "return sq.mean(1) if kind == \"mean\" else sq.sum(1)", "return sq.mean(1)", "tests/test_mode_reg.py"),
    ("mreg-E-never-steps", "methods/mode_reg.py", "        if reg:\n            opt_e.step()", "        if False:\n            opt_e.step()", "tests/test_mode_reg.py"),
    ("mreg-rec-detached", "methods/mode_reg.py", "                rec = g(e(x))", "                rec = g(e(x)).detach()", "tests/test_mode_reg.py"),
    ("mreg-E-no-zero-grad", "methods/mode_reg.py", "        opt_e.zero_grad(set_to_none=True)\n", "", "tests/test_mode_reg.py"),
    ("mreg-rec-on-noise-stream", "methods/mode_reg.py", 'with nets.batch_norm_stream(g, "encoder"):  # app. B', 'with nets.batch_norm_stream(g, "noise"):  # app. B', "tests/test_mode_reg.py"),
    ("mreg-gan-loss-on-rec", "methods/mode_reg.py", "return g_loss(logit_fake) + reg, reg, dist, mode", "return g_loss(logit_rec) + reg, reg, dist, mode", "tests/test_mode_reg.py"),
    ("mreg-d-steps-once", "methods/mode_reg.py", "        for _ in range(cfg.d_steps):\n            real = run.data.sample(cfg.batch_size)\n            with torch.no_grad(), nets.batch_norm_stream", "        for _ in range(1):\n            real = run.data.sample(cfg.batch_size)\n            with torch.no_grad(), nets.batch_norm_stream", "tests/test_mode_reg.py"),
    ("mreg-prior-ignored", "common.py", '    return (torch.rand if prior == "uniform" else torch.randn)(n, z_dim, device=device)', "    return torch.randn(n, z_dim, device=device)", "tests/test_mode_reg.py"),
    ("split-bn-weights-not-copied", "nets.py", "                new.weight.copy_(child.weight)\n", "", "tests/test_mode_reg.py"),
    ("split-bn-shared-stats", "nets.py", 'getattr(self, f"running_mean_{self.stream}"), getattr(self, f"running_var_{self.stream}")', 'getattr(self, f"running_mean_{self.streams[0]}"), getattr(self, f"running_var_{self.streams[0]}")', "tests/test_mode_reg.py"),
    ("encoder-no-first-bn", "nets.py", "        mods += [nn.BatchNorm2d(ch)] if batch_norm else []\n        mods += [ACTIVATIONS[act]()]\n        for", "        mods += [ACTIVATIONS[act]()]\n        for", "tests/test_mode_reg.py"),
    ("third-party-labels-swapped", "metrics.py", "loss = F.softplus(-d(r)).mean() + F.softplus(d(f)).mean()", "loss = F.softplus(d(r)).mean() + F.softplus(-d(f)).mean()", "tests/test_mode_reg.py"),
    ("third-party-no-noise", "metrics.py", "r, f = r + sigma * torch.randn_like(r), f + sigma * torch.randn_like(f)", "pass", "tests/test_mode_reg.py"),
    ("kl-smoothing-unnormalized", "metrics.py", "q = (counts + 1) / (counts.sum() + len(counts))", "q = (counts + 1) / counts.sum()", "tests/test_mode_reg.py"),
    ("composed-kl-train-uses-gen", "metrics.py", '"kl_train_modes": kl_train_smoothed(counts, p)', '"kl_train_modes": kl_train_smoothed(counts, q)', "tests/test_mode_reg.py"),
    ("mreg-third-party-bn", "methods/mode_reg.py", 'make_nets(dataclasses.replace(cfg, d_norm="none"), data, run.z_dim)[1]', "make_nets(cfg, data, run.z_dim)[1]", "tests/test_mode_reg.py"),
    ("mreg-logit-rec-is-fake", "methods/mode_reg.py", "generator_losses(logit_fake, x, rec, d(rec), cfg.lam1", "generator_losses(logit_fake, x, rec, logit_fake, cfg.lam1", "tests/test_mode_reg.py"),
    ("mreg-distance-kind-ignored", "methods/mode_reg.py", "                                                          cfg.distance, d)", "                                                          \"pixel\", d)", "tests/test_mode_reg.py"),
    # mdgan (Che et al. 2017, sec. 3.3, app. A)
    ("mdgan-d1-term-sign", "methods/mdgan.py", "return lam1 * dist + lam2 * neg_log_d1, dist, neg_log_d1", "return lam1 * dist - lam2 * neg_log_d1, dist, neg_log_d1", "tests/test_mdgan.py"),
    ("mdgan-lams-swapped", "methods/mdgan.py", "return lam1 * dist + lam2 * neg_log_d1, dist, neg_log_d1", "return lam2 * dist + lam1 * neg_log_d1, dist, neg_log_d1", "tests/test_mdgan.py"),
    ("mdgan-d2-labels-swapped", "methods/mdgan.py", "    return F.softplus(-logit_rec).mean() + F.softplus(logit_fake).mean()", "    return F.softplus(logit_rec).mean() + F.softplus(-logit_fake).mean()", "tests/test_mdgan.py"),
    ("mdgan-diffusion-saturating", "methods/mdgan.py", '    """Line 7 as a loss G descends: -E_z log D2(G(z))."""\n    return F.softplus(-logit_fake).mean()', '    """Line 7 as a loss G descends: -E_z log D2(G(z))."""\n    return -F.softplus(logit_fake).mean()', "tests/test_mdgan.py"),
    ("mdgan-d1-real-is-rec", "methods/mdgan.py", "loss_d1 = d1_loss(d1(x), d1(rec))", "loss_d1 = d1_loss(d1(rec), d1(rec))", "tests/test_mdgan.py"),
    ("mdgan-d1-fake-is-g-z", "methods/mdgan.py", "loss_d1 = d1_loss(d1(x), d1(rec))", "loss_d1 = d1_loss(d1(x), d1(g(run.noise()).detach()))", "tests/test_mdgan.py"),
    ("mdgan-d2-judges-z-printed", "methods/mdgan.py", "logit_rec, logit_fake = d2(rec), d2(fake)", "logit_rec, logit_fake = d2(rec), d2(g(run.noise()))", "tests/test_mdgan.py"),
    ("mdgan-line7-fresh-z", "methods/mdgan.py", "loss_g = diffusion_loss(d2(g(z)))", "loss_g = diffusion_loss(d2(g(run.noise())))", "tests/test_mdgan.py"),
    ("mdgan-line4-reuses-x", "methods/mdgan.py", "x, z = run.data.sample(cfg.batch_size), run.noise()  # lines 4, 5", "z = run.noise()  # lines 4, 5", "tests/test_mdgan.py"),
    ("mdgan-E-not-stepped", "methods/mdgan.py", "descend(opt_g_manifold, loss_m, opt_e)", "descend(opt_g_manifold, loss_m)", "tests/test_mdgan.py"),
    ("mdgan-one-adam-state", "methods/mdgan.py", 'adam(g.parameters(), cfg) if cfg.g_optim == "separate" else opt_g_manifold', 'opt_g_manifold', "tests/test_mdgan.py"),
    ("mdgan-line3-rec-detached", "methods/mdgan.py", "        with nets.batch_norm_stream(g, \"encoder\"):\n            rec = g(e(x))\n        loss_m", "        with nets.batch_norm_stream(g, \"encoder\"):\n            rec = g(e(x)).detach()\n        loss_m", "tests/test_mdgan.py"),
    ("mdgan-line3-noise-stream", "methods/mdgan.py", "        with nets.batch_norm_stream(g, \"encoder\"):\n            rec = g(e(x))\n        loss_m", "        with nets.batch_norm_stream(g, \"noise\"):\n            rec = g(e(x))\n        loss_m", "tests/test_mdgan.py"),
    ("mdgan-lams-swapped-in-loop", "methods/mdgan.py", "manifold_loss(x, rec, d1(rec), cfg.lam1, cfg.lam2, cfg.distance, d1)", "manifold_loss(x, rec, d1(rec), cfg.lam2, cfg.lam1, cfg.distance, d1)", "tests/test_mdgan.py"),
    ("mdgan-distance-flag-ignored", "methods/mdgan.py", "manifold_loss(x, rec, d1(rec), cfg.lam1, cfg.lam2, cfg.distance, d1)", "manifold_loss(x, rec, d1(rec), cfg.lam1, cfg.lam2, \"pixel\", d1)", "tests/test_mdgan.py"),
    ("mdgan-table-kl-is-gen", "methods/mdgan.py", 'cell("kl_train_modes", c, 3)', 'cell("kl_modes", c, 3)', "tests/test_mdgan.py"),
    ("mdgan-d2-once", "methods/mdgan.py", "        for _ in range(cfg.d_steps):\n            x, z =", "        for _ in range(1):\n            x, z =", "tests/test_mdgan.py"),
    ("mdgan-no-zero-grad", "methods/mdgan.py", "        o.zero_grad(set_to_none=True)\n", "        pass\n", "tests/test_mdgan.py"),
    ("mreg-digit-weights-ignored", "data.py", "return Composed(name, base, how, size, device, w if digit_weights is None else digit_weights)", "return Composed(name, base, how, size, device, w)", "tests/test_mode_reg.py"),
]

# Mutants that change no result, kept to remember why they survive.
EQUIVALENT = {
    # Phase 1 restarted from step 0 for every k instead of resumed: the same seed gives the same G, only slower.
    "principled-phase1-no-resume",
}


def run(name, path, old, new, tests, scratch):
    copy = scratch / name
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", ".git", "runs", "data", "__pycache__"))
    text = (copy / path).read_text()
    if text.count(old) != 1:
        return f"stale mutant: {text.count(old)} matches in {path}"
    (copy / path).write_text(text.replace(old, new))
    r = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests.split()],
                       cwd=copy, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    failed = [l.split(" - ")[0] for l in r.stdout.splitlines() if l.startswith("FAILED")]
    return f"caught by {failed[0][7:]}" if r.returncode else ("equivalent" if name in EQUIVALENT else "SURVIVED")


def main():
    names = sys.argv[1:] or [m[0] for m in MUTANTS]
    unknown = set(names) - {m[0] for m in MUTANTS}
    if unknown:
        sys.exit(f"unknown mutants: {sorted(unknown)}")
    caught = 0
    with tempfile.TemporaryDirectory() as scratch:
        for m in MUTANTS:
            if m[0] in names:
                result = run(*m, Path(scratch))
                caught += result.startswith("caught")
                print(f"{m[0]:36s} {result}", flush=True)
    print(f"caught {caught} of {len(names)}")


if __name__ == "__main__":
    main()
