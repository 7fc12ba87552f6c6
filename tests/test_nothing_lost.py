"""Nothing lost, nothing silent (issue 37): one test per class of failure, each red without its fix.

Data loss, hangs, silent wrong results, tracebacks and unclear messages. A bad input is one `error:` line naming
the flag or file, exit 1, and nothing in a finished run folder changes.
"""

import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import common
from methods import baselines as B

ROOT = Path(__file__).resolve().parent.parent


def cfg(tmp_path, name="run", **kw):
    base = dict(dataset="ring8", steps=4, batch_size=16, log_every=2, sample_every=100, ckpt_every=2,
                eval_samples=100, device="cpu", out=str(tmp_path / name), lr=1e-3)
    return B.Config(**{**base, **kw})


def folder_state(path):
    return {p.name: p.read_bytes() for p in Path(path).iterdir() if p.is_file() and p.name != ".lock"}


def one_error_line(module, argv, monkeypatch, capsys, one_line=True):
    monkeypatch.setattr(sys, "argv", [module, *argv])
    with pytest.raises(SystemExit) as e:
        importlib.import_module(module).main()
    err = capsys.readouterr().err
    assert e.value.code == 1 and err.startswith("error: ") and (len(err.strip().splitlines()) == 1 or not one_line), err
    return err


def test_data_loss_a_finished_run_is_never_retrained_or_mixed(tmp_path):
    """A finished run without checkpoint.pt is not retrained by --resume; --overwrite deletes the run's files only;
    a second writer on the same folder stops at once, naming the holder's pid."""
    B.train(cfg(tmp_path))
    out = tmp_path / "run"
    (out / "checkpoint.pt").unlink()
    (out / "my_notes.png").write_bytes(b"mine")  # the user's own files, of the kinds a run writes
    (out / "my_data.npz").write_bytes(b"mine")
    before = folder_state(out)
    with pytest.raises(common.UserError, match="finished run without checkpoint.pt.*--overwrite"):
        B.train(cfg(tmp_path, resume=True, steps=8))
    assert folder_state(out) == before
    B.train(cfg(tmp_path, overwrite=True, seed=1))
    assert (out / "my_notes.png").read_bytes() == b"mine" and (out / "my_data.npz").read_bytes() == b"mine"
    assert json.loads((out / "config.json").read_text())["seed"] == 1
    listed = set(json.loads((out / common.MANIFEST).read_text()))
    assert {"summary.json", "checkpoint.pt", "d_hist.png"} <= listed and not listed & {"my_notes.png", "my_data.npz"}
    B.train(cfg(tmp_path, overwrite=True, seed=2))  # again, now from the manifest: the user's files stay
    assert (out / "my_notes.png").exists() and (out / "my_data.npz").exists()
    # a second writer: another process holds the folder
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time, common; common.lock_out(sys.argv[1]); "
                               "print('held', flush=True); time.sleep(60)", str(tmp_path / "busy")], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    (tmp_path / "busy").mkdir()
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(common.UserError, match=f"being written by another process \\(pid {holder.pid}\\)"):
            B.train(cfg(tmp_path, "busy"))
    finally:
        holder.kill()
        holder.wait()
    B.train(cfg(tmp_path, "busy"))  # the holder is gone: its lock went with it
    assert not (tmp_path / "busy" / ".lock").exists()


def test_hang_a_huge_training_ratio_is_refused_and_a_run_says_at_once_what_it_does(tmp_path, capsys):
    with pytest.raises(common.UserError, match="--d-steps 100000000: at most 10000"):
        B.train(cfg(tmp_path, d_steps=100000000))
    B.train(cfg(tmp_path, steps=2, d_steps=3))
    assert "from step 0 to 2, 3 D step(s) per G step" in capsys.readouterr().out


def test_silent_wrong_result_resume_that_would_contradict_the_run_is_refused(tmp_path):
    """A shorter --steps (the model would be past it while summary.json says otherwise) and, for an image folder,
    another --data-root (other data) are refused on resume; the folder is untouched."""
    B.train(cfg(tmp_path, steps=6))
    before = folder_state(tmp_path / "run")
    with pytest.raises(common.UserError, match="is at step 6, past --steps 3"):
        B.train(cfg(tmp_path, steps=3, resume=True))
    assert folder_state(tmp_path / "run") == before
    from PIL import Image
    import numpy as np
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / name / "x.png")
    img = dict(dataset="folder", image_size=8, eval_samples=0, steps=2)
    B.train(cfg(tmp_path, "img", data_root=str(tmp_path / "a"), **img))
    with pytest.raises(common.UserError, match="--data-root"):
        B.train(cfg(tmp_path, "img", data_root=str(tmp_path / "b"), resume=True, **{**img, "steps": 4}))


@pytest.mark.parametrize("args,message", [
    (["SMOKe=1"], "unknown variable SMOKe"), (["SMOKE=yes"], "SMOKE=yes: must be 0 or 1"),
    (["OUT="], "OUT is empty"), (["PRINT=2"], "PRINT=2: must be 1")])
def test_silent_wrong_result_mistyped_make_variables_stop_make(tmp_path, args, message):
    r = subprocess.run(["make", "-n", "demo", *args], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode != 0 and message in r.stderr and not r.stdout


@pytest.mark.parametrize("args,flag", [
    (["--lr", "nan"], "--lr nan: must be a finite number"), (["--lr", "inf"], "--lr inf: must be a finite number"),
    (["--betas", "1.5", "0.9"], "--betas 1.5 0.9: must be in [0, 1)"),
    (["--betas", "nan", "nan"], "--betas nan nan: must be a finite number"),
    (["--adam-eps", "-1"], "--adam-eps -1.0: must be > 0"), (["--seed", "-1"], "--seed -1: must be in"),
    (["--seed", "99999999999"], "--seed 99999999999: must be in"), (["--device", "gpu"], "--device gpu: choose"),
    (["--device", "mps"], "--device mps: choose"), (["--scale", "nan"], "--scale nan"),
    (["--instance-noise", "-1"], "--instance-noise -1.0: must be >= 0"), (["--clip", "0"], "--clip 0.0: must be > 0"),
    (["--gp-lambda", "-2"], "--gp-lambda -2.0: must be >= 0")])
def test_traceback_and_unclear_bad_numbers_are_one_line_naming_the_flag(tmp_path, monkeypatch, capsys, args, flag):
    err = one_error_line("methods.baselines", [*args, "--steps", "2", "--out", str(tmp_path / "run")], monkeypatch,
                         capsys)
    assert flag in err
    assert not (tmp_path / "run").exists()  # a failed start leaves no run folder


def test_traceback_a_closed_pipe_and_a_read_only_folder(tmp_path):
    r = subprocess.run(f"{sys.executable} -m methods.mode_reg grid --list --dataset digits | head -1", shell=True,
                       cwd=ROOT, capture_output=True, text=True)
    assert r.stdout.strip() and not r.stderr
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as a user who may write anywhere")  # root ignores modes
        with pytest.raises(common.UserError, match="cannot write in --out"):
            B.train(cfg(tmp_path, "ro"))
    finally:
        ro.chmod(0o755)


def test_unclear_messages_name_the_method_and_the_make_variable(tmp_path, monkeypatch, capsys):
    """Resuming another method's checkpoint names that method; under make, a message naming --data-root names DATA=."""
    B.train(cfg(tmp_path, steps=2))
    from methods import vral
    with pytest.raises(common.UserError, match="written by methods.baselines, not methods.vral"):
        vral.train(vral.Config(dataset="ring8", steps=4, batch_size=16, device="cpu", out=str(tmp_path / "run"),
                               resume=True))
    monkeypatch.setenv("MAKELEVEL", "1")
    err = one_error_line("methods.baselines", ["--dataset", "cifar10", "--data-root", str(tmp_path / "none"),
                                               "--no-download", "--out", str(tmp_path / "c")], monkeypatch, capsys,
                         one_line=False)  # a missing data set's message says where to get it
    assert "under make: --data-root is DATA=" in err and not (tmp_path / "c").exists()
