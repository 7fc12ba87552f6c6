"""Shared helpers: toy metrics against hand counts, networks' shapes, checkpoints, the NaN guard, plots, the command line."""

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import common
import data
import figures
import nets
from metrics import toy_metrics


def test_toy_metrics_by_hand():
    centers = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    std = 1.0
    x = np.concatenate([
        np.zeros((30, 2)),                       # 30 on mode 0
        np.tile([[10.0, 2.5]], (20, 1)),         # 20 high quality (2.5 < 3) on mode 1
        np.tile([[0.0, 6.5]], (10, 1)),          # 10 nearest to mode 2 but 3.5 std away
    ])
    m = toy_metrics(x, centers, std, min_count=20)
    assert m["modes"] == 2
    assert m["high_quality"] == pytest.approx(50 / 60)
    q = np.array([30, 20, 10]) / 60
    assert m["reverse_kl"] == pytest.approx(float(np.sum(q * np.log(q * 3))))
    assert toy_metrics(x, centers, std, min_count=31)["modes"] == 0


def test_a_mode_is_captured_only_by_high_quality_samples():
    """100 samples whose nearest centre is mode 1, all 5 std away from it: mode 1 is not captured."""
    centers = np.array([[0.0, 0.0], [10.0, 0.0]])
    x = np.concatenate([np.zeros((100, 2)), np.tile([[10.0, 5.0]], (100, 1))])
    m = toy_metrics(x, centers, 1.0, min_count=20)
    assert m["modes"] == 1 and m["high_quality"] == pytest.approx(0.5)


def test_reverse_kl_zero_on_exact_weights_and_uses_true_weights():
    centers = np.array([[0.0, 0.0], [5.0, 5.0]])
    x = np.array([[0.0, 0.0]] * 25 + [[5.0, 5.0]] * 75)
    assert toy_metrics(x, centers, 0.1, weights=[0.25, 0.75])["reverse_kl"] == pytest.approx(0.0, abs=1e-12)
    assert toy_metrics(x, centers, 0.1)["reverse_kl"] > 0.1


def test_real_data_scores_full_marks():
    torch.manual_seed(0)
    r = data.load("grid25")
    m = toy_metrics(r.sample(2500).numpy(), r.centers, r.std)
    assert m["modes"] == 25 and m["high_quality"] > 0.98 and m["reverse_kl"] < 0.02


@pytest.mark.parametrize("size", [8, 16, 32, 64])
@pytest.mark.parametrize("bn", [True, False])
def test_dcgan_shapes(size, bn):
    g = nets.DCGANGenerator(z_dim=10, size=size, channels=3, width=8, batch_norm=bn)
    d = nets.DCGANDiscriminator(size=size, channels=3, width=8, norm="batch" if bn else "none", act="tanh")
    x = g(torch.randn(4, 10))
    assert x.shape == (4, 3, size, size) and x.abs().max() <= 1
    assert d(x).shape == (4,)
    has_bn = any(isinstance(m, torch.nn.BatchNorm2d) for m in d.modules())
    assert has_bn == (bn and size > 8)


def test_layer_norm_critic_normalises_each_sample_over_c_h_w():
    """norm='layer': after the second convolution each sample's features have mean 0 and variance 1 over (C, H, W)
    (Gulrajani et al.'s Layernorm over axes [1, 2, 3], per-channel scale 1 and offset 0 at initialisation)."""
    torch.manual_seed(0)
    d = nets.DCGANDiscriminator(size=16, channels=1, width=4, norm="layer")
    pre = d.net[:3](torch.randn(3, 1, 16, 16) * 5 + 2)  # conv, lrelu, conv: then the norm
    mean = pre.mean(dim=(1, 2, 3), keepdim=True)
    var = ((pre - mean) ** 2).mean(dim=(1, 2, 3), keepdim=True)
    assert torch.allclose(d.net[3](pre), (pre - mean) / torch.sqrt(var + 1e-5), atol=1e-5)
    assert pre.mean(dim=(2, 3)).std(dim=1).min() > 1e-3  # channels differ, so a per-channel norm would not match


def test_dcgan_rejects_other_sizes():
    with pytest.raises(ValueError, match="8, 16, 32 or 64"):
        nets.DCGANGenerator(size=28)


def test_mlp_nets():
    g = nets.MLPGenerator(2, (3,), hidden=16, act="tanh")
    d = nets.MLPDiscriminator((3,), hidden=16, act="lrelu")
    assert d(g(torch.randn(5, 2))).shape == (5,)
    assert sum(isinstance(m, torch.nn.Tanh) for m in g.modules()) == 2


def test_checkpoint_roundtrip_restores_rng(tmp_path):
    net = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(net.parameters())
    torch.manual_seed(3)
    common.save_checkpoint(tmp_path / "c.pt", 7, {"net": net, "opt": opt}, {"seconds": 1.5})
    after = torch.rand(3)
    other = torch.nn.Linear(3, 2)
    step, extra = common.load_checkpoint(tmp_path / "c.pt", {"net": other, "opt": torch.optim.Adam(other.parameters())}, "cpu")
    assert step == 7 and extra == {"seconds": 1.5}
    assert torch.equal(other.weight, net.weight)
    assert torch.equal(torch.rand(3), after)
    assert not (tmp_path / "c.pt.tmp").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (run on a GPU machine)")
def test_checkpoint_roundtrip_on_cuda_restores_both_rngs(tmp_path):
    """--resume on a GPU: load_checkpoint maps the saved tensors, the RNG states too, onto the device."""
    net = torch.nn.Linear(3, 2).to("cuda")
    torch.manual_seed(3)
    common.save_checkpoint(tmp_path / "c.pt", 7, {"net": net}, {})
    after, after_cuda = torch.rand(3), torch.rand(3, device="cuda")
    other = torch.nn.Linear(3, 2).to("cuda")
    assert common.load_checkpoint(tmp_path / "c.pt", {"net": other}, torch.device("cuda"))[0] == 7
    assert torch.equal(torch.rand(3), after) and torch.equal(torch.rand(3, device="cuda"), after_cuda)


def test_check_finite_names_step_and_loss():
    common.check_finite(3, a=1.0, b=-2.0)
    with pytest.raises(common.NonFiniteLoss, match="loss_d = inf at step 12"):
        common.check_finite(12, loss_g=0.5, loss_d=math.inf)


def test_the_finite_guard_names_the_first_nonfinite_step_when_checked():
    """Issue 40: the guard keeps the first bad step on the device and says nothing until checked; then it names that
    step and that loss, even when the losses were finite again by the check (a transient NaN still stops the run)."""
    guard = common.FiniteGuard(lambda: "the last good checkpoint is X")
    for step, v in [(1, 0.5), (2, float("nan")), (3, float("inf")), (4, 1.0)]:
        guard.add(step, {"loss_d": torch.tensor(1.0), "loss_g": torch.tensor(v, requires_grad=True) * 1})
    with pytest.raises(common.NonFiniteLoss, match=r"^loss_g = nan at step 2; stopped, the last good checkpoint is X$"):
        guard.check()
    fine = common.FiniteGuard()
    fine.add(1, {"a": torch.tensor(1.0)})
    fine.check()
    fine.add(2, {"b": torch.tensor(2.0)})  # another set of losses
    fine.check()
    with pytest.raises(common.NonFiniteLoss, match="^b = inf at step 7; stopped, no checkpoint yet$"):
        fine.add(7, {"a": 1.0, "b": math.inf})  # Python numbers: at once


def test_diagnostic_mode_restores_rng_and_batchnorm():
    d = nets.DCGANDiscriminator(size=16, channels=1, width=4)
    torch.manual_seed(0)
    before = {k: v.clone() for k, v in d.named_buffers()}
    with common.diagnostic_mode(d):
        d(torch.randn(8, 1, 16, 16) + 3)
    assert all(torch.equal(before[k], v) for k, v in d.named_buffers())
    x = torch.rand(2)
    torch.manual_seed(0)
    assert torch.equal(torch.rand(2), x)


def test_plots_write_files(tmp_path):
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(200, 2)), rng.normal(size=(200, 2))
    figures.plot_samples_2d(tmp_path / "s.png", real, fake, np.zeros((1, 2)))
    figures.plot_samples_3d(tmp_path / "s3.png", rng.normal(size=(50, 3)), rng.normal(size=(50, 3)))
    figures.plot_hist_grid(tmp_path / "h.png", [[(real[:, 0], fake[:, 0]), None], [(real[:, 1], fake[:, 1])]],
                          row_labels=["1:1", "10:1"], col_labels=["a", "b"])
    figures.plot_curves(tmp_path / "c.png", {"a": ([1, 2, 3], [1.0, 0.1, 0.01], [0.5, 0.05, 0.005], [2, 0.2, 0.02])})
    d = nets.MLPDiscriminator((2,), hidden=8)
    figures.plot_d_surface(tmp_path / "d.png", d, real, fake, "cpu", n=20)
    for f in ["s.png", "s3.png", "h.png", "c.png", "d.png"]:
        assert (tmp_path / f).stat().st_size > 1000


def test_summary_table(tmp_path):
    for name, v in [("a", 1.5), ("b", 2.25)]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps({"modes": v, "loss": name}))
    table = figures.summary_table([tmp_path / "a", tmp_path / "b"], ["loss", "modes"])
    assert table.splitlines()[2] == "| a | a | 1.5 |"
    assert table.splitlines()[3] == "| b | b | 2.25 |"


def test_nets_import_only_torch():
    """nets.py is meant to be copied on its own."""
    text = (Path(nets.__file__)).read_text()
    imports = {l.split()[1].split(".")[0] for l in text.splitlines() if l.startswith(("import ", "from "))}
    assert imports - set(sys.stdlib_module_names) <= {"torch"}, imports  # the standard library and torch


def test_parse_config_help_from_comments_and_types():
    from methods import baselines, vral
    cfg = common.parse_config(vral.Config, vral.__doc__, argv=["--betas", "0.1", "0.999", "--no-batch-norm",
                                                                "--d-steps", "5", "--mu-fake", "-1"])
    assert cfg.betas == (0.1, 0.999) and cfg.batch_norm is False and cfg.d_steps == 5 and cfg.mu_fake == -1.0
    assert cfg.steps == vral.Config.steps  # a method's own default for a shared field
    assert common.parse_config(vral.Config, "", argv=["--lr", "-1e-3", "--mu-fake", "-1"]).lr == -1e-3  # not an option
    import contextlib
    import io
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        common.parse_config(baselines.Config, baselines.__doc__, argv=["--help"])
    text = " ".join(out.getvalue().split())
    assert "the loss's default: 5 for wgan and wgan-gp" in text  # the method's comment for a field it overrides
    assert "samples per batch" in text  # a shared field's comment


def test_no_path_outside_the_repository():
    """Code and docs never point outside the project (a reader who copies the repository has nothing else)."""
    root = Path(__file__).resolve().parent.parent
    outside = ["../" + "shared", "DESIGN" + ".md"]  # spelled apart so this file does not match itself
    files = [p for p in root.rglob("*") if (p.suffix in (".py", ".md") or p.name == "Makefile")
             and not {".venv", "runs", "data", ".git"} & set(p.parts)]
    assert len(files) > 10
    bad = [f"{p.name}: {o}" for p in files for o in outside if o in p.read_text()]
    assert not bad


def test_seeds_table_gives_each_settings_mean_and_ddof0_std(tmp_path):
    for name, modes in (("a-s0", 2.0), ("a-s1", 4.0), ("a-s2", 9.0), ("b-s0", 5.0)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps({"modes": modes}))
    table = figures.seeds_table(sorted(tmp_path.iterdir()), ["modes"]).splitlines()
    a = [2.0, 4.0, 9.0]
    std0 = math.sqrt(sum((v - 5.0) ** 2 for v in a) / 3)  # ddof 0, as the caption says
    assert "ddof 0" in table[0]
    assert f"| a | 3 | 5 ± {std0:.2g} |" in table and "| b | 1 | 5 ± 0 |" in table


def test_lower_files_import_no_harness_and_no_file_imports_one_that_imports_it_back():
    """The layers: runfiles <- data <- metrics <- figures <- common <- methods; `import data` loads no harness."""
    import ast
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    r = subprocess.run([sys.executable, "-c", "import sys, data, figures, metrics, nets, runfiles; "
                        "print(sorted(m for m in ('common', 'methods') if m in sys.modules))"],
                       cwd=root, capture_output=True, text=True)
    assert r.stdout.strip() == "[]", r.stderr
    ours = {p.stem for p in root.glob("*.py")} | {f"methods.{p.stem}" for p in (root / "methods").glob("*.py")}
    graph = {}
    for name in ours:
        tree = ast.parse((root / (name.replace(".", "/") + ".py")).read_text())
        deps = set()
        for node in ast.walk(tree):  # every import, at the top or inside a function
            if isinstance(node, ast.Import):
                deps |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                deps |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        graph[name] = {d for d in deps if d in ours and d != name}

    def reaches(a, b, seen=()):
        return b in graph[a] or any(reaches(c, b, seen + (a,)) for c in graph[a] if c not in seen)

    circles = sorted(f"{a} <-> {b}" for a in graph for b in graph[a] if reaches(b, a))
    assert not circles, circles


def test_small_nets_run_on_one_thread_unless_told_otherwise(tmp_path, monkeypatch):
    """Issue 40, item 6: a toy MLP or a 16 px DCGAN gains nothing from torch's default threads and loses much on a
    busy machine: one thread, unless OMP_NUM_THREADS or --threads says otherwise; config.json records it."""
    import json
    import torch
    from methods import baselines as B
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
        run = lambda name, **kw: B.train(B.Config(**{"dataset": "ring8", **kw}, steps=1, batch_size=16, eval_samples=0,
                                                  device="cpu", out=str(tmp_path / name))) and json.loads(
            (tmp_path / name / "config.json").read_text())["resolved"]["threads"]
        assert run("toy") == 1
        assert run("asked", threads=2) == 2
        torch.set_num_threads(2)
        monkeypatch.setenv("OMP_NUM_THREADS", "2")
        assert run("env") == 2  # the user's setting stands
        monkeypatch.delenv("OMP_NUM_THREADS")
        big = dict(dataset="cifar10", stand_in=True, image_size=32, data_root=str(tmp_path / "none"))
        torch.set_num_threads(2)
        assert run("big", **big) == 2  # torch's default for a 32 px DCGAN
        torch.set_num_threads(2)
        monkeypatch.setenv("MAKEFLAGS", " -j2 --jobserver-auth=3,4")
        assert run("big-j2", **big) == 1  # make -j 2: each run its half
        torch.set_num_threads(2)
        assert run("toy-j2") == 1
    finally:
        torch.set_num_threads(before)


def test_cpu_threads_shares_torchs_default_among_make_j_runs(monkeypatch):
    """Issue 40, item 6: under `make -j N` each run takes torch's default divided by N (at least one), read from the
    MAKEFLAGS make gives every recipe; --threads and OMP_NUM_THREADS stand above it, small nets take one."""
    import torch
    from runfiles import cpu_threads
    monkeypatch.setattr(torch, "get_num_threads", lambda: 8)
    made = lambda flags: {"MAKEFLAGS": flags}
    assert cpu_threads(0, False, {}) is None  # torch's default
    assert cpu_threads(0, True, {}) == 1
    assert cpu_threads(0, False, made(" -j2 --jobserver-auth=3,4")) == 4
    assert cpu_threads(0, False, made("ks -j3 --jobserver-auth=fifo:/tmp/x")) == 2
    assert cpu_threads(0, False, made(" -j1")) == 8
    assert cpu_threads(0, False, made(" -j16 --jobserver-auth=3,4")) == 1
    assert cpu_threads(0, False, made(" -j")) == 1  # no limit: one each
    assert cpu_threads(0, False, made("k --jobserver-auth=3,4 --no-print-directory")) is None  # not a -j
    assert cpu_threads(0, True, made(" -j1")) == 1
    assert cpu_threads(3, True, made(" -j2")) == 3  # --threads
    assert cpu_threads(0, False, {"OMP_NUM_THREADS": "2", **made(" -j4")}) is None  # the user's; torch follows it
