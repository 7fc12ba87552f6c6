"""The run contract, once for every method script: seeds, logging, resume, the NaN guard, missing data, the run folder.

A new method is covered by adding it to METHODS (and its losses to POISON).
"""

import collections
import importlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import common
import figures
from methods import baselines as B

ROOT = Path(__file__).resolve().parent.parent

# id -> (module, the method's own settings for a short run)
METHODS = {
    "baselines": ("methods.baselines", dict(loss="nonsaturating", lr=1e-3)),
    "baselines-wgan": ("methods.baselines", dict(loss="wgan", lr=1e-3, wgan_boost=False)),
    "vral": ("methods.vral", dict(variant="vral", lr=1e-3)),
    "vral-lipschitz": ("methods.vral", dict(variant="lipschitz", lr=1e-3)),
    "roth": ("methods.roth_reg", dict(gamma=0.1, lr=1e-3, snapshot_every=20)),
    "roth-kl": ("methods.roth_reg", dict(divergence="kl", gamma=0.1, lr=1e-3, snapshot_every=0)),
    "zero-gp": ("methods.zero_gp", dict(penalty="0gp", width=64, field_steps=(0, 20))),
    "mode-reg": ("methods.mode_reg", dict(model="reg", lr=1e-3, g_width=64, d_width=64, heat_steps=(0, 20))),
    "mdgan": ("methods.mdgan", dict(lr=1e-3, g_width=64, d_width=64, heat_steps=(0, 20))),
}

# id -> [(function in the module, the n-th call from which it returns NaN, the loss the guard must name)].
# Every run below has one discriminator step per generator step, so call n is at step n; VRAL's meta_loss
# is called for F then R at every step (call 2k - 1 is F's at step k, call 2k is R's).
POISON = {
    "baselines": [("d_loss", 26, "loss_d"), ("g_loss", 26, "loss_g")],
    "baselines-wgan": [("d_loss", 26, "loss_d"), ("g_loss", 26, "loss_g")],
    "vral": [("meta_loss", 51, "loss_f"), ("meta_loss", 52, "loss_r"), ("d_loss_vral", 26, "loss_d"),
             ("g_loss_ls", 26, "loss_g")],
    "vral-lipschitz": [("meta_loss", 26, "loss_m"), ("d_loss_lipschitz", 26, "loss_d"), ("g_loss_ipm", 26, "loss_g")],
    "roth": [("d_loss_js", 26, "loss_d"), ("omega_js", 26, "loss_d"), ("g_loss_original", 26, "loss_g")],
    "roth-kl": [("d_loss_f", 26, "loss_d"), ("f_regularizer", 26, "loss_d"), ("g_loss_f", 26, "loss_g")],
    "zero-gp": [("d_loss", 26, "loss_d"), ("gradient_penalty", 26, "loss_d"), ("g_loss", 26, "loss_g")],
    "mode-reg": [("d_loss", 26, "loss_d"), ("g_loss", 26, "loss_g"), ("distance", 26, "loss_g")],
    "mdgan": [("d1_loss", 26, "loss_d"), ("distance", 26, "loss_m"), ("d2_loss", 26, "loss_d2"),
              ("diffusion_loss", 26, "loss_g")],
}


@pytest.fixture(autouse=True)
def unrendered_figures(request, monkeypatch):
    """The contract is about runs, not plots: every figure is still built, but written as an empty file instead of
    rendered to PNG (rendering is most of a short run's time), except in the test that looks at the run folder.
    The figures themselves are rendered by every make target's smoke run."""
    if request.node.name.startswith("test_run_folder_contents"):
        return

    def save(fig, path, dpi=120):
        Path(path).touch()
        figures.plt().close(fig)

    monkeypatch.setattr(figures, "save", save)


def image_folder(root, n=20):
    """A folder of n random 8x8 PNGs (an image folder, as CelebA or LSUN exports are read)."""
    rng = np.random.default_rng(0)
    root.mkdir(exist_ok=True)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(root / f"{i}.png")
    return str(root)


def config(method, tmp_path, name="run", **kw):
    module, own = METHODS[method]
    base = dict(dataset="ring8", steps=40, d_steps=1, batch_size=32, log_every=10, sample_every=20, ckpt_every=20,
                eval_samples=300, diag_batches=2, device="cpu", out=str(tmp_path / name))
    if kw.get("dataset") == "folder":
        base.update(data_root=image_folder(tmp_path / "images"), image_size=8)
    return importlib.import_module(module).Config(**{**base, **own, **kw})


def train(cfg):
    return importlib.import_module(type(cfg).__module__).train(cfg)


def strip(summary):
    return {k: v for k, v in summary.items() if k != "seconds"}


@pytest.mark.parametrize("dataset", ["ring8", "digits", "folder"])
@pytest.mark.parametrize("method", METHODS)
def test_resume_and_logging_frequency_do_not_change_the_run(tmp_path, method, dataset):
    """A run stopped at step 10 and resumed to 20, logging every 5 steps and drawing samples every 3, ends where an
    uninterrupted run logging every 6 steps ends. Exact on the CPU: every RNG state, optimizer state and BatchNorm
    buffer is restored, and logging and sample figures draw from their own RNG streams (common.diagnostic_mode)."""
    kw = dict(dataset=dataset, batch_size=16, ckpt_every=10)
    full = train(config(method, tmp_path, "full", steps=20, log_every=6, sample_every=20, **kw))
    train(config(method, tmp_path, "split", steps=10, log_every=5, sample_every=3, **kw))
    assert (tmp_path / "split" / "samples_3.png").exists()
    resumed = train(config(method, tmp_path, "split", steps=20, log_every=5, sample_every=3, resume=True, **kw))
    assert strip(resumed) == strip(full)
    assert [r["step"] for r in common.read_jsonl(tmp_path / "split" / "metrics.jsonl")] == [5, 10, 15, 20]
    assert [r["step"] for r in common.read_jsonl(tmp_path / "full" / "metrics.jsonl")] == [6, 12, 18, 20]


@pytest.mark.parametrize("method,fn,from_call,loss", [(m, *p) for m, ps in POISON.items() for p in ps])
def test_nan_stops_the_run_naming_the_loss_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch, method, fn,
                                                                             from_call, loss):
    module = importlib.import_module(METHODS[method][0])
    real, calls = getattr(module, fn), [0]

    def poisoned(*args):
        calls[0] += 1
        out = real(*args)
        return out * float("nan") if calls[0] >= from_call else out

    monkeypatch.setattr(module, fn, poisoned)
    kept = r"the last good checkpoint \(step 20\)"
    with pytest.raises(common.NonFiniteLoss, match=f"^{loss} = nan at step 26; stopped, {kept}"):
        train(config(method, tmp_path, ckpt_every=10))
    ckpt = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)
    assert ckpt["step"] == 20
    assert all(torch.isfinite(v).all() for net in ("g", "d") for v in ckpt["modules"][net].values())


@pytest.mark.parametrize("module", sorted({m for m, _ in METHODS.values()} | {"methods.principled"}))
def test_missing_data_set_is_one_line_and_exit_1(tmp_path, module):
    r = subprocess.run([sys.executable, "-m", module, "--dataset", "cifar10", "--data-root", str(tmp_path / "none"),
                        "--no-download", "--device", "cpu", "--out", str(tmp_path / "run")], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.startswith("error: CIFAR-10 not found") and "Traceback" not in r.stderr
    assert "cifar-10-batches-py" in r.stderr  # says which files are expected where


@pytest.mark.parametrize("method", METHODS)
def test_run_folder_contents_and_the_same_seed_gives_the_same_run(tmp_path, method, monkeypatch):
    a = train(config(method, tmp_path))
    names = {p.name for p in (tmp_path / "run").iterdir()}
    for f in ["config.json", "metrics.jsonl", "summary.json", "checkpoint.pt", "samples_20.png", "samples_final.png",
              "d_hist.png", "d_outputs.npz", "grad_norm.png", "d_surface.png"]:
        assert f in names, f
    resolved = json.loads((tmp_path / "run" / "config.json").read_text())["resolved"]
    z_dim = 3 if method in ("mode-reg", "mdgan") else 2  # Che et al. app. C: 3-D uniform noise
    assert resolved["device"] == "cpu" and resolved["z_dim"] == z_dim and resolved["torch"] == torch.__version__
    # the kernels torch picked and the CPU's model: results differ in the last bits between AVX2 and AVX512 hosts
    assert resolved["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert resolved["device_name"] == common.cpu_name() and resolved["device_name"]
    s = json.loads((tmp_path / "run" / "summary.json").read_text())
    for k in ["modes", "high_quality", "reverse_kl", "steps", "seconds", "device", "dataset", "grad_norm_fake",
              "d_real_mean", "d_real_std", "d_fake_mean", "d_fake_std"]:
        assert k in s, k
    line = common.read_jsonl(tmp_path / "run" / "metrics.jsonl")[-1]
    assert line["step"] == 40 and {"loss_d", "loss_g", "d_real_std", "grad_norm_fake"} <= set(line)
    # The histograms' data are D's outputs on the very batches the summary's means come from (equal batch sizes).
    out = np.load(tmp_path / "run" / "d_outputs.npz")
    assert len(out["real"]) == len(out["fake"]) == 2 * 1000
    assert out["real"].mean() == pytest.approx(s["d_real_mean"], rel=1e-4, abs=1e-6)
    assert out["fake"].mean() == pytest.approx(s["d_fake_mean"], rel=1e-4, abs=1e-6)
    # the same seed gives the same summary, another seed another run (figures not rendered: the run is the point)
    monkeypatch.setattr(figures, "save", lambda fig, path, dpi=120: (Path(path).touch(), figures.plt().close(fig)))
    b = train(config(method, tmp_path, "b"))
    c = train(config(method, tmp_path, "c", seed=1))
    assert strip(a) == strip(b)
    assert a["d_fake_mean"] != c["d_fake_mean"] and a["d_real_std"] != c["d_real_std"]
    assert json.loads((tmp_path / "c" / "config.json").read_text())["seed"] == 1
    assert s["steps"] == 40


@pytest.mark.parametrize("method", ["baselines", "vral"])
def test_resume_refuses_another_configuration_and_unreadable_checkpoints(tmp_path, method):
    train(config(method, tmp_path, steps=20))
    before = (tmp_path / "run" / "config.json").read_text()
    with pytest.raises(common.UserError, match="another run configuration.*--batch-size 32 there, 16 here"):
        train(config(method, tmp_path, steps=40, resume=True, batch_size=16))
    assert (tmp_path / "run" / "config.json").read_text() == before  # nothing in the folder changed
    (tmp_path / "run" / "checkpoint.pt").write_bytes(b"truncated")
    with pytest.raises(common.UserError, match="cannot read .*checkpoint.pt.*delete it or run without --resume"):
        train(config(method, tmp_path, steps=40, resume=True))


def test_a_nan_between_two_logged_steps_stops_the_run_before_the_next_checkpoint(tmp_path, monkeypatch):
    """The guard is checked before every checkpoint, not only at logged steps: no checkpoint is written past a NaN,
    and the step named is the first bad one, not the step where it was found."""
    calls, g_loss = [0], B.g_loss

    def once(*args):  # NaN at step 26 only: the run must stop all the same
        calls[0] += 1
        return g_loss(*args) * (float("nan") if calls[0] == 26 else 1.0)

    monkeypatch.setattr(B, "g_loss", once)
    with pytest.raises(common.NonFiniteLoss, match=r"^loss_g = nan at step 26; stopped, the last good checkpoint \(step 20\)"):
        train(config("baselines", tmp_path, log_every=1000, ckpt_every=10))
    assert torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)["step"] == 20


# torch.Tensor's ways to a Python number or a host array: each waits for a GPU's queue to drain
HOST_CONVERSIONS = ("item", "tolist", "__float__", "__int__", "__bool__", "__index__", "numpy", "cpu")


def count_host_conversions(monkeypatch):
    """Count the conversions our code (not torch's own, such as Adam's step counter, which lives on the CPU) makes,
    by where a run is: "setup", k (generator step k's loop body), ("end", k) (end_step of step k)."""
    counts, where = collections.Counter(), ["setup"]
    ours = lambda f: f.startswith(str(ROOT)) and not any(p in f for p in (".venv", "site-packages", "/tests/"))

    def counting(name, real):
        def convert(self, *args, **kwargs):
            if ours(sys._getframe(1).f_code.co_filename):
                counts[where[0]] += 1
            return real(self, *args, **kwargs)
        return convert

    for name in HOST_CONVERSIONS:
        monkeypatch.setattr(torch.Tensor, name, counting(name, getattr(torch.Tensor, name)))
    begin, end_step = common.Run.begin, common.Run.end_step

    def begun(run, *args, **kwargs):
        start = begin(run, *args, **kwargs)
        where[0] = start + 1
        return start

    def ended(run, done, *args, **kwargs):
        where[0] = ("end", done)
        end_step(run, done, *args, **kwargs)
        where[0] = done + 1

    monkeypatch.setattr(common.Run, "begin", begun)
    monkeypatch.setattr(common.Run, "end_step", ended)
    monkeypatch.setattr(common.Progress, "due", lambda self: False)  # no timed progress line in these 8 steps
    return counts


@pytest.mark.parametrize("method,dataset", [(m, "ring8") for m in METHODS] + [("baselines", "digits"),
                                                                             ("vral", "digits")])
def test_no_host_sync_between_two_logged_steps(tmp_path, monkeypatch, method, dataset):
    """Issue 40: a GPU run waits on the host only at a logged step (or a checkpoint, or a progress line), where the
    NaN guard is checked: no other step turns a tensor into a Python number, in the loop or in end_step."""
    counts = count_host_conversions(monkeypatch)
    # no figures of D's field or of the samples' density at given steps (they sync, as a logged step does)
    no_figures = {"roth": dict(snapshot_every=0), "zero-gp": dict(field_steps=()), "mode-reg": dict(heat_steps=()),
                  "mdgan": dict(heat_steps=())}.get(method, {})
    train(config(method, tmp_path, dataset=dataset, steps=8, log_every=4, ckpt_every=4, sample_every=100,
                 batch_size=16, **no_figures))
    quiet = [k for k in range(1, 9) if counts[k]] + [("end", k) for k in (1, 2, 3, 5, 6, 7) if counts[("end", k)]]
    assert not quiet, {k: counts[k] for k in quiet}
    assert counts[("end", 4)] > 0 and counts[("end", 8)] > 0  # the counter sees the logged steps' conversions


def test_the_fast_cuda_settings_reach_torch(tmp_path, monkeypatch):
    """--tf32 / --no-tf32 reaches nets.cuda_defaults, which sets TF32 and cuDNN's autotuner on a CUDA device only."""
    import nets
    seen = []
    monkeypatch.setattr(common, "cuda_defaults", lambda device, tf32: seen.append((str(device), tf32)))
    train(config("baselines", tmp_path, steps=2, tf32=False))
    assert seen == [("cpu", False)]
    flags = lambda: (torch.backends.cudnn.benchmark, torch.backends.cuda.matmul.allow_tf32,
                     torch.backends.cudnn.allow_tf32)
    before = flags()
    try:
        nets.cuda_defaults("cpu", True)
        assert flags() == before  # nothing on the CPU
        nets.cuda_defaults("cuda:0", True)
        assert flags() == (True, True, True)
        nets.cuda_defaults("cuda", False)
        assert flags() == (False, False, False)
    finally:
        torch.backends.cudnn.benchmark, torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before


@pytest.mark.parametrize("method,own,compiled", [
    ("vral", {}, ["d", "f", "g", "r"]), ("vral-lipschitz", {}, ["d", "g", "m"]), ("baselines", {}, ["d", "g"]),
    ("baselines", dict(loss="wgan-gp"), ["g"]), ("roth", {}, ["g"]), ("roth", dict(gamma=0.0), ["d", "g"]),
    ("zero-gp", {}, ["g"]), ("zero-gp", dict(penalty="none"), ["d", "g"]), ("mode-reg", {}, ["d", "e", "g"])])
def test_compile_compiles_every_net_but_a_penalized_d(tmp_path, monkeypatch, method, own, compiled):
    """--compile compiles each net in place (nn.Module.compile, recorded here, not run); a D whose input gradient is
    differentiated again (WGAN-GP, Roth's regularizer, 0-GP) stays eager: torch.compile has no double backward."""
    seen = []
    monkeypatch.setattr(torch.nn.Module, "compile", lambda net, **kw: seen.append((net, kw)))
    train(config(method, tmp_path, steps=2, compile=True, **own))
    resolved = json.loads((tmp_path / "run" / "config.json").read_text())["resolved"]
    assert resolved["compiled"] == compiled and len(seen) == len(compiled)
    assert all(kw == {"mode": None} for _, kw in seen)  # the CPU: inductor's default mode
    import nets
    nets.compile_nets([torch.nn.Linear(1, 1)], "cuda")
    assert seen[-1][1] == {"mode": "reduce-overhead"}  # CUDA graphs on the GPU


def test_a_run_resumes_with_compile_and_tf32_changed(tmp_path, monkeypatch):
    """--compile and --tf32 change how fast a run computes, not what: a run may resume with either changed."""
    monkeypatch.setattr(torch.nn.Module, "compile", lambda net, **kw: None)
    train(config("baselines", tmp_path, steps=2))
    train(config("baselines", tmp_path, steps=4, resume=True, compile=True, tf32=False))
    assert [r["step"] for r in common.read_jsonl(tmp_path / "run" / "metrics.jsonl")][-1] == 4


class Stop(Exception):
    pass


COMPILE_RTOL, COMPILE_ATOL = 1e-4, 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("method,dataset", [(m, "ring8") for m in METHODS] + [("baselines", "digits"),
                                                                             ("vral", "digits")])
def test_compile_gives_the_same_losses(tmp_path, monkeypatch, method, dataset):
    """--compile (torch.compile, inductor on the CPU) gives every loss of the first 4 generator steps within a
    relative 1e-4 (absolute 1e-6) of the eager run's: inductor fuses kernels and may reorder float32 sums, and Adam's
    normalized steps carry such differences into the next steps. Measured here (torch 2.14, 2 CPU cores): equal
    for the MLPs, at most 1.2e-7 relative for VRAL; 47 s for the 11 runs, most of it compiling."""
    import torch._dynamo

    def losses(compile):
        torch._dynamo.reset()  # no compiled code or recompile count from another test
        torch._dynamo.utils.counters.clear()
        seen = []

        def end_step(run, done, losses, **extra):
            seen.append({k: float(v.detach()) for k, v in losses.items()})
            if done == 4:
                raise Stop  # before the diagnostics and the final evaluation: only the training step is compared

        monkeypatch.setattr(common.Run, "end_step", end_step)
        with pytest.raises(Stop):
            train(config(method, tmp_path, f"compile-{compile}", dataset=dataset, steps=4, batch_size=16,
                         compile=compile))
        return seen, torch._dynamo.utils.counters["stats"]["unique_graphs"]

    (eager, none), (compiled, graphs) = losses(False), losses(True)
    assert none == 0 and graphs > 0  # the second run did run compiled graphs
    for step, (a, b) in enumerate(zip(eager, compiled), 1):
        for k in a:
            assert b[k] == pytest.approx(a[k], rel=COMPILE_RTOL, abs=COMPILE_ATOL), (step, k, a[k], b[k])


def test_nan_before_the_first_checkpoint_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(B, "g_loss", lambda loss, out: out.mean() * float("nan"))
    with pytest.raises(common.NonFiniteLoss, match="^loss_g = nan at step 1; stopped, no checkpoint yet"):
        train(config("baselines", tmp_path))


def test_ctrl_c_is_one_message_and_the_checkpoint_resumes(tmp_path):
    out = tmp_path / "run"
    p = subprocess.Popen([sys.executable, "-m", "methods.baselines", "--steps", "1000000", "--ckpt-every", "20",
                          "--log-every", "1000000", "--device", "cpu", "--out", str(out)], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         # a worker that ignores SIGINT would pass that on, and Python then installs no
                         # KeyboardInterrupt handler: the child must start with the default disposition
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for _ in range(1800):  # a loaded 2-core machine may take a while to import torch and reach step 20
        if (out / "checkpoint.pt").exists() or p.poll() is not None:
            break
        time.sleep(0.1)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=180)
    assert p.returncode == 130 and "Traceback" not in err
    assert "interrupted" in err and "--resume" in err and str(out) in err
    assert torch.load(out / "checkpoint.pt", weights_only=False)["step"] >= 20


def test_a_finished_run_is_never_overwritten_unless_asked(tmp_path):
    train(config("baselines", tmp_path, steps=6, sample_every=3))
    summary = (tmp_path / "run" / "summary.json").read_text()
    with pytest.raises(common.UserError, match="holds a run already: --resume continues it, --overwrite replaces it"):
        train(config("baselines", tmp_path, steps=4, sample_every=4, seed=1))
    assert (tmp_path / "run" / "summary.json").read_text() == summary
    train(config("baselines", tmp_path, steps=4, sample_every=4, seed=1, overwrite=True))
    names = {p.name for p in (tmp_path / "run").iterdir()}
    assert "samples_4.png" in names and "samples_3.png" not in names and "samples_6.png" not in names
    (tmp_path / "file").write_text("x")
    with pytest.raises(common.UserError, match="is a file"):
        train(config("baselines", tmp_path, out=str(tmp_path / "file")))


@pytest.mark.parametrize("args", [["--d-steps", "-1"], ["--log-every", "0"], ["--ckpt-every", "0"], ["--betas", "0.5"],
                                  ["--diag-batches", "0"], ["--lr", "-1e-3"], ["--width", "-2"], ["--dataset", "nope"],
                                  ["--image-size", "12", "--dataset", "digits"], ["--d-norm", "group"]])
@pytest.mark.parametrize("module", ["methods.baselines", "methods.vral"])
def test_bad_flag_values_are_one_line_and_exit_1(tmp_path, module, args, monkeypatch, capsys):
    # in this process, through the module's main() (as `python -m` calls it); the one-line contract of a whole
    # process is test_missing_data_set_is_one_line_and_exit_1's, for every method
    monkeypatch.setattr(sys, "argv", [module, *args, "--steps", "2", "--device", "cpu", "--out", str(tmp_path / "run")])
    with pytest.raises(SystemExit) as e:
        importlib.import_module(module).main()
    err = capsys.readouterr().err
    assert e.value.code == 1 and err.startswith("error: "), err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run" / "config.json").exists()
