"""Nothing lost, nothing silent (issue 37): one test per class of failure, each red without its fix.

Data loss, hangs, silent wrong results, tracebacks and unclear messages. A bad input is one `error:` line naming
the flag or file, exit 1, and nothing in a finished run folder changes.
"""

import importlib
import json
import re
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
    (out / "samples_of_mine.png").write_bytes(b"mine")  # even named as a run's files are: the manifest tells
    before = folder_state(out)
    with pytest.raises(common.UserError, match="finished run without checkpoint.pt.*--overwrite"):
        B.train(cfg(tmp_path, resume=True, steps=8))
    assert folder_state(out) == before
    B.train(cfg(tmp_path, overwrite=True, seed=1))
    assert (out / "my_notes.png").read_bytes() == b"mine" and (out / "my_data.npz").read_bytes() == b"mine"
    assert (out / "samples_of_mine.png").read_bytes() == b"mine"
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


def test_hang_a_huge_training_ratio_is_refused_and_a_run_says_at_once_what_it_does(tmp_path, capsys, monkeypatch):
    started = lambda *a, **kw: pytest.fail("the run started: it would print nothing for hours")
    with monkeypatch.context() as m, pytest.raises(common.UserError, match="--d-steps 100000000: at most 10000"):
        m.setattr(common.Run, "begin", started)  # without the bound this test fails at once, instead of hanging
        B.train(cfg(tmp_path, d_steps=100000000))
    B.train(cfg(tmp_path, steps=2, d_steps=3))
    assert "from step 0 to 2, 3 D step(s) per G step" in capsys.readouterr().out
    B.train(cfg(tmp_path, "wgan", steps=1, loss="wgan"))  # --d-steps 0: the loss's own default, as it runs
    assert "from step 0 to 1, 5 D step(s) per G step" in capsys.readouterr().out


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
    r = subprocess.run(["make", "-n", "--no-print-directory", "demo", *args], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode != 0 and message in r.stderr and not r.stdout


def test_a_variable_read_only_through_a_substitution_is_known():
    """REPRO_SEEDS appears in the Makefile only as $(REPRO_SEEDS:%=...): setting it is not a typo."""
    r = subprocess.run(["make", "-s", "--no-print-directory", "reproduce-mnist", "PRINT=1", "REPRO_SEEDS=2"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "--seed 2 " in r.stdout and "--seed 0 " not in r.stdout


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


def test_traceback_a_closed_pipe_and_a_folder_without_write_permission(tmp_path, monkeypatch):
    # the full grid's 5,184 run folders (300 KB) overflow the pipe's buffer: head's exit breaks the pipe mid-write
    r = subprocess.run(f"{sys.executable} -m methods.mode_reg grid --list --grid full --dataset digits | head -1",
                       shell=True, cwd=ROOT, capture_output=True, text=True)
    assert r.stdout.strip() and not r.stderr
    ro = tmp_path / "ro"
    ro.mkdir()
    access = os.access  # root may write anywhere whatever the mode: the folder is made unwritable to the check
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == ro else access(p, mode))
    with pytest.raises(common.UserError, match="cannot write in --out .*ro: permission denied"):
        B.train(cfg(tmp_path, "ro"))
    assert not list(ro.iterdir())


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


def documented_commands():
    """(module, subcommand or None, flags) of every `python -m ...` line in the README and docs/ (continuations joined)."""
    texts = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    out = []
    for path in texts:
        text = path.read_text().replace("\\\n", " ")
        for m in re.finditer(r"python -m ([a-z_.]+)((?: [^`|#\n]*)?)", text):
            module, rest = m.group(1), m.group(2)
            if not (ROOT / (module.replace(".", "/") + ".py")).exists():
                continue
            words = rest.split()
            sub = words[0] if words and re.fullmatch(r"[a-z][a-z-]*", words[0]) else None
            flags = sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", rest)))
            out.append((module, sub, flags, path.name))
    return out


def test_every_flag_the_docs_show_is_in_its_scripts_help(monkeypatch, capsys):
    """README facts: a flag the README or docs/ shows for a script (or a subcommand) is one its --help lists."""
    helps, missing = {}, []
    commands = documented_commands()
    assert len(commands) > 30
    for module, sub, flags, where in commands:
        key = (module, sub)
        if key not in helps:
            monkeypatch.setattr(sys, "argv", [module, *([sub] if sub else []), "--help"])
            mod = importlib.import_module(module)
            with pytest.raises(SystemExit):
                mod.main()
            helps[key] = capsys.readouterr().out
        missing += [f"{where}: python -m {module} {sub or ''} {f}" for f in flags
                    if not re.search(re.escape(f) + r"(?![\w-])", helps[key])]
    assert not missing, "\n".join(missing)


def test_the_flags_every_script_shares_are_in_every_scripts_help(monkeypatch, capsys):
    """docs/scripts.md's "Every script shares these flags" paragraph, checked against each method script's --help."""
    text = (ROOT / "docs" / "scripts.md").read_text()
    para = text[text.index("Every script shares these flags"):].split("\n\n")[0]
    shared, excepted = para.split("Except:")
    flags = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", shared.replace("--batch-norm/--no-batch-norm", "--batch-norm")))
    assert {"--steps", "--resume", "--d-steps", "--out"} <= flags
    scripts = ["baselines", "vral", "roth_reg", "zero_gp", "mode_reg", "mdgan", "principled"]
    missing = []
    for name in scripts:
        monkeypatch.setattr(sys, "argv", [f"methods.{name}", "--help"])
        with pytest.raises(SystemExit):
            importlib.import_module(f"methods.{name}").main()
        help_text = capsys.readouterr().out
        for f in flags:
            if not re.search(re.escape(f) + r"(?![\w-])", help_text):
                said = re.search(rf"`{name}`(?: and `\w+`)? no[^()]*?`{re.escape(f)}`|`{name}`\s+has no [^()]*`{re.escape(f)}`",
                                 excepted.replace("\n", " "))
                if not said:
                    missing.append(f"{name} {f}")
    assert not missing, missing
