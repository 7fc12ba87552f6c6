"""Every experiment make target runs end to end with SMOKE=1 (tiny step counts, stand-in data if missing)."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOT_EXPERIMENTS = {"FORCE", "setup", "test", "test-all", "clean", "fid"}  # fid scores given runs: tests/test_fidelity.py


def make_targets():
    """The .PHONY targets, following backslash-continued lines."""
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    phony = re.search(r"^\.PHONY:(.*)$", text, re.M).group(1).split()
    return [t for t in phony if t not in NOT_EXPERIMENTS]


def test_make_targets_reads_continued_lines():
    targets = make_targets()
    assert "\\" not in targets and "cifar-principled" in targets and "celeba-vral-lipschitz" in targets


def make(target, out, data_root, *extra):
    return subprocess.run(["make", "-s", target, "SMOKE=1", f"OUT={out}", f"DATA={data_root}", "DEVICE=cpu",
                           f"PY={sys.executable}", "DEPS=", *extra], cwd=ROOT, capture_output=True, text=True, timeout=900)


def test_every_target_is_covered():
    assert set(make_targets()) == set(EXPECTED), "add a smoke expectation for each new make target"


# target -> files that must exist under OUT afterwards
EXPECTED = {
    "bench": ["bench/bench.md", "bench/bench.json", "bench/bench.png"],
    "gpu-check": ["gpu-check/gpu-check.md", "gpu-check/gpu-check.json"],
    "reproduce-cpu": ["reproduce/REPRODUCTION.md", "reproduce/s1/toy-mode-reg/reg-s1/summary.json",
                      "reproduce/s0/toy-zero-gp-surface/surface.json"],
    "demo": ["demo/comparison.md", "demo/comparison.png", "demo/wgan-gp/summary.json"],
    "toy-baselines": ["toy-baselines/ring8/comparison.md", "toy-baselines/ring8-minimax-noise/summary.json",
                      "toy-baselines/ring8/comparison.png"],  # SMOKE=1: ring8 only
    "digits-baselines": ["digits-baselines/comparison.md", "digits-baselines/wgan/samples_final.png"],
    **{f"{ds}-principled": [f"{ds}-principled/{f}" for f in
                            ("summary.json", "d_error.png", "d_accuracy.png", "grad_minimax.png", "grad_nonsaturating.png",
                             "noise_grad_minimax.png", "noise_d_error.png", "gan/samples_final.png")]
       for ds in ("digits", "mnist", "cifar")},
    "cifar-vral": [f"cifar-vral/{f}" for f in ("samples.png", "hist.png", "grad_norm.png", "table.md",
                                               "wgan-2/summary.json", "vral-sub-2/d_outputs.npz")],
    "digits-vral": [f"digits-vral/{f}" for f in ("samples.png", "hist.png", "grad_norm.png", "table.md",
                                                 "wgan-2/summary.json", "vral-sub-2/d_outputs.npz",
                                                 "vral-mu0-2/summary.json",  # the mu_f = 0 ablation
                                                 "vral-authors-2/summary.json")],  # the authors' set-up
    "mnist-vral": [f"mnist-vral/{f}" for f in ("samples.png", "hist.png", "grad_norm.png", "table.md",
                                               "wgan-2-s0/summary.json", "vral-2-s0/d_outputs.npz")],
    "reproduce-mnist": ["reproduce-mnist/REPRODUCTION.md", "reproduce-mnist/s1/mnist-vral/vral-2-s1/summary.json",
                        "reproduce-mnist/s1/mnist-zero-gp/0gp-b0.9-s1/summary.json"],
    "celeba-vral": ["celeba-vral/samples.png", "celeba-vral/hist.png", "celeba-vral/vral-sub-2/summary.json"],
    "celeba-vral-lipschitz": ["celeba-vral-lipschitz/samples_final.png", "celeba-vral-lipschitz/d_hist.png"],
    "toy-roth": ["toy-roth/1to1/comparison.md", "toy-roth/5to1/over_time.png", "toy-roth/5to1-gamma0.1/snapshots.png",
                 "toy-roth/1to1-gamma0.1/modes_over_time.png"],
    **{f"{ds}-roth": [f"{ds}-roth/{f}" for f in ("comparison.md", "crosstest/crosstest.md",
                                                 "noise-gamma0.1-nsr4/samples_final.png", "gamma2-annealed/summary.json")]
       for ds in ("digits", "cifar")},
    "cifar-roth-crosstest": ["cifar-roth/crosstest/crosstest.json", "cifar-roth/unreg/summary.json"],
    "celeba-roth": ["celeba-roth/comparison.md", "celeba-roth/gamma2/samples_final.png"],
    "lsun-roth": ["lsun-roth/comparison.md", "lsun-roth/resnet-gamma2/samples_final.png"],
    "toy-zero-gp-surface": [f"toy-zero-gp-surface/surface.{x}" for x in ("png", "md", "json")],
    "toy-zero-gp": ["toy-zero-gp/gradient_fields.png", "toy-zero-gp/modes_over_time.png", "toy-zero-gp/seeds.md",
                    "toy-zero-gp/0gp-ttur-s0/field_20.npz", "toy-zero-gp/0gp-lam100-s0/gradient_fields.png"],
    "toy-zero-gp-swissroll": ["toy-zero-gp-swissroll/gradient_fields.png", "toy-zero-gp-swissroll/seeds.md",
                              "toy-zero-gp-swissroll/swissroll10-1gp-s0/field_20.npz"],
    **{t: [f"{t}/comparison.md", f"{t}/seeds.md", f"{t}/0gp-b0.9-s0/samples_final.png"]
       for t in ("digits-zero-gp", "mnist-zero-gp", "stacked-mnist-zero-gp")},
    "toy-mode-reg": ["toy-mode-reg/heatmaps.png", "toy-mode-reg/modes_over_time.png", "toy-mode-reg/seeds.md",
                     "toy-mode-reg/reg-s0/heat_20.npz", "toy-mode-reg/gan-s0/heatmaps.png"],
    "digits-mode-reg": ["digits-mode-reg/grid/fig3.png", "digits-mode-reg/grid/grid.md",
                        "digits-mode-reg/compositional/table2.md", "digits-mode-reg/compositional/set2-reg-s0/summary.json"],
    "mnist-mode-reg-grid": ["mnist-mode-reg-grid/fig3.png", "mnist-mode-reg-grid/grid.json"],
    "compositional-mnist-mode-reg": ["compositional-mnist-mode-reg/table2.md",
                                     "compositional-mnist-mode-reg/set2-gan-s0/summary.json"],
    **{t: [f"{t}/table3.md", f"{t}/comparison.png", f"{t}/gan-z100-s0/summary.json", f"{t}/reg-z100-s0/summary.json",
           f"{t}/mdgan-z200-s0/summary.json"] for t in ("digits-mdgan", "celeba-mdgan")},
}


def check_smoke(target, out, r):
    """The make of target into out (r) succeeded and left the target's EXPECTED files; every run ran on the CPU."""
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for f in EXPECTED[target]:
        assert (out / f).exists(), f
    for s in out.rglob("summary.json"):
        assert json.loads(s.read_text())["device"] == "cpu"


# toy-mode-reg's smoke run is the first make of the grid test below (which then makes it again);
# cifar-roth-crosstest's follows cifar-roth's, on its runs
@pytest.mark.parametrize("target", sorted(set(EXPECTED) - {"toy-mode-reg", "cifar-roth-crosstest"}))
def test_smoke(target, tmp_path, digits_classifiers):
    # each target's data root gets the cached classifiers, so that no target trains them again
    shutil.copytree(digits_classifiers, tmp_path / "data" / "classifiers",
                    ignore=shutil.ignore_patterns("*.lock", "*.tmp"))  # .tmp: a fit being saved
    check_smoke(target, tmp_path / "runs", make(target, tmp_path / "runs", tmp_path / "data"))
    if target == "cifar-roth":  # the cross-test alone: it reuses the two runs it compares, and trains none
        (tmp_path / "runs" / "cifar-roth" / "crosstest" / "crosstest.json").unlink()
        r = make("cifar-roth-crosstest", tmp_path / "runs", tmp_path / "data")
        check_smoke("cifar-roth-crosstest", tmp_path / "runs", r)
        assert "done: " not in r.stdout, r.stdout[-2000:]
    if target == "gpu-check":  # both settings ran (2 runs at once, eager and compiled) and made steps
        res = json.loads((tmp_path / "runs" / "gpu-check" / "gpu-check.json").read_text())
        assert [(r["runs"], r["compile"]) for r in res["settings"]] == [(2, False), (2, True)]
        assert all(w["steps"] >= 1 for r in res["settings"] for w in r["workers"]), res["settings"]
        assert "GPUS=0,0 make -j 2 cifar-vral" in (tmp_path / "runs" / "gpu-check" / "gpu-check.md").read_text()
    if target == "reproduce-cpu":  # the claims on the two smoke targets got verdicts from two seeds each
        import reproduce
        smoked = ("toy-mode-reg", "toy-zero-gp-surface")
        rows = [l for l in (tmp_path / "runs" / "reproduce" / "REPRODUCTION.md").read_text().splitlines()
                if "| **" in l and any(f"`{t}`" in l for t in smoked)]
        assert len(rows) == sum(c.target in smoked for c in reproduce.CLAIMS) >= 2, rows
        assert not any("not run" in r for r in rows) and all("(✓ ✓)" in r or "✗" in r for r in rows), rows
    if target == "reproduce-mnist":  # its report judges the MNIST claims alone (the smoke grid has none of their runs)
        import reproduce
        rows = [l for l in (tmp_path / "runs" / "reproduce-mnist" / "REPRODUCTION.md").read_text().splitlines()
                if "| **" in l]
        assert len(rows) == len(reproduce.MNIST_CLAIMS) and all("MNIST" in r for r in rows)
        targets = [re.search(r"`([a-z0-9-]+)` \|$", r).group(1) for r in rows]
        assert set(targets) == {"mnist-vral", "mnist-zero-gp", "stacked-mnist-zero-gp", "mnist-principled",
                                "compositional-mnist-mode-reg", "mnist-mode-reg-grid"}
        # SMOKE=1 makes mnist-vral and mnist-zero-gp only (the others' smoke runs are their own tests)
        assert all("**not run**" in r for t, r in zip(targets, rows) if t not in ("mnist-vral", "mnist-zero-gp"))


# --------------------------------------------------------------------------
# Grids: every run a file target (its summary.json), PRINT=1, GPUS
# --------------------------------------------------------------------------


def run_files(out):
    """{file: mtime} of every run's summary.json, checkpoint.pt and metrics.jsonl under out."""
    return {p: p.stat().st_mtime_ns for pat in ("summary.json", "checkpoint.pt", "metrics.jsonl")
            for p in out.rglob(pat)}


def test_a_second_make_starts_no_run_and_a_removed_summary_reruns_only_its_run(tmp_path):
    """toy-mode-reg (two runs, gan-s0 and reg-s0, 20 steps each under SMOKE=1), begun by one printed line run by
    hand (as xargs or an array job would): make makes the other run only, and a second make starts none."""
    out, target = tmp_path / "runs", "toy-mode-reg"
    line = printed(target, out)[0]
    assert subprocess.run(line, shell=True, cwd=ROOT, capture_output=True, timeout=300).returncode == 0
    by_hand = run_files(Path(re.search(r"--out (\S+) --resume$", line).group(1)))
    first = make(target, out, tmp_path / "data")
    check_smoke(target, out, first)  # toy-mode-reg's smoke test
    assert len(list(out.glob(f"{target}/*/summary.json"))) == 2 and first.stdout.count("done: ") == 1
    before = run_files(out)
    assert {p: t for p, t in before.items() if p in by_hand} == by_hand  # the hand-made run was not made again
    again = make(target, out, tmp_path / "data")
    assert again.returncode == 0 and "resumed" not in again.stdout and "step " not in again.stdout
    assert run_files(out) == before
    (out / target / "reg-s0" / "summary.json").unlink()
    third = make(target, out, tmp_path / "data")
    assert third.returncode == 0 and third.stdout.count("resumed from") == 1, third.stdout[-2000:]
    assert f"resumed from {out / target / 'reg-s0' / 'checkpoint.pt'} at step 20" in third.stdout  # no step retrained
    after = run_files(out)
    assert (out / target / "reg-s0" / "summary.json") in after
    assert {p: t for p, t in after.items() if "reg-s0" not in str(p)} == \
        {p: t for p, t in before.items() if "reg-s0" not in str(p)}
    # a changed setting changes every run's command.txt: each run resumes and trains on to the new length
    longer = make(target, out, tmp_path / "data", "MREG_TOY=--steps 30 --heat-steps 0 10 20 --batch-size 32")
    assert longer.returncode == 0 and longer.stdout.count("at step 20") == 2, longer.stdout[-2000:] + longer.stderr
    assert all(json.loads(f.read_text())["steps"] == 30 for f in out.glob(f"{target}/*/summary.json"))


def printed(target, out, *extra, flags=("-s",)):
    p = subprocess.run(["make", *flags, target, "SMOKE=1", "PRINT=1", f"OUT={out}", "DEVICE=cpu", f"PY={sys.executable}",
                        "DEPS=", *extra], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout.splitlines()


def test_print_lists_every_run_once_and_runs_nothing(tmp_path):
    out = tmp_path / "runs"
    lines = printed("digits-vral", out)
    folders = [re.search(r"--out (\S+) --resume$", l).group(1) for l in lines]
    assert sorted(folders) == sorted(f"{out}/digits-vral/{r}-2" for r in ("wgan", "vral", "vral-sub", "vral-mu0", "vral-authors"))
    assert all(l.startswith(f"{sys.executable} -m methods.") for l in lines)
    run = {re.search(r"--out \S+/(\S+) --resume$", l).group(1): l for l in lines}
    assert "--betas 0.1 0.999 --meta-init glorot --share-real" in run["vral-authors-2"]
    assert "--mu-fake 0" in run["vral-mu0-2"]
    assert "--mu-fake" not in run["vral-2"] and "--share-real" not in run["vral-2"]
    assert not out.exists()
    lines = printed("toy-zero-gp", out, "SEEDS=0 1 2")
    assert len(lines) == len(set(lines)) == 3 * 3 and not out.exists()  # three runs per seed under SMOKE=1
    # without -s too (as the README shows it): a grid's own command (`mode_reg grid --print`) is not echoed
    lines = printed("digits-mode-reg", out, flags=("--no-print-directory",))  # no "Entering directory" under make test
    folders = [re.search(r"--out (\S+)", l).group(1) for l in lines]
    assert len(folders) == len(set(folders)) == 2 + 2 and not out.exists()  # set2 gan/reg, 1 point x gan/reg
    assert not any("--print" in l for l in lines)


def test_each_run_of_a_grid_is_its_own_file_target(tmp_path):
    """The Reg-GAN grid's runs are listed by the grid (`--list`) and made one by one (`--only`), so make -j
    splits the grid and a finished run is not made again; a target without a grid runs no Python to read them."""
    out = tmp_path / "runs"

    def planned(target, py=sys.executable):  # the --only runs a dry run (make -n) would make
        p = subprocess.run(["make", "-n", "--no-print-directory", target, "SMOKE=1", f"OUT={out}", "DEVICE=cpu",
                            f"PY={py}", "DEPS="], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        assert target != "digits-mode-reg" or "methods.mode_reg table" in p.stdout  # drawn with no grid run to make
        return re.findall(r" --only (\S+)", p.stdout)

    grid = out / "digits-mode-reg" / "grid"
    listed = subprocess.run([sys.executable, "-m", "methods.mode_reg", "grid", "--points", "1", "--out", str(grid),
                             "--list"], cwd=ROOT, capture_output=True, text=True, timeout=120).stdout.split()
    runs = planned("digits-mode-reg")
    assert len(runs) == 2 and runs == [Path(l).name for l in listed]  # SMOKE=1: 1 point x GAN, Reg-GAN
    (grid / runs[1]).mkdir(parents=True)
    (grid / runs[1] / "summary.json").write_text("{}")
    assert planned("digits-mode-reg") == runs[:1]
    for run in runs:
        (grid / run).mkdir(exist_ok=True)
        (grid / run / "summary.json").write_text("{}")
    assert planned("digits-mode-reg") == []
    calls = tmp_path / "calls.txt"  # a stand-in python that records how it was called
    fake = tmp_path / "python"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    fake.chmod(0o755)
    planned("toy-mode-reg", py=fake)
    assert not calls.exists()
    planned("digits-mode-reg", py=fake)
    assert "methods.mode_reg grid" in calls.read_text() and "--list" in calls.read_text()


def test_with_gpu_takes_the_first_free_gpu_and_frees_it(tmp_path):
    locks = tmp_path / "locks"
    cmd = ["sh", str(ROOT / "with_gpu.sh"), str(locks), "3,5", "sh", "-c", 'echo "$CUDA_VISIBLE_DEVICES $@"', "x", "--flag"]
    assert subprocess.run(cmd, capture_output=True, text=True).stdout.strip() == "3 --flag --device cuda"
    assert not (locks / "3.1").exists()  # released
    (locks / "3.1").mkdir()  # another run holds GPU 3's slot: a live process (this one)
    (locks / "3.1" / "pid").write_text(f"{os.getpid()}\n")
    assert subprocess.run(cmd, capture_output=True, text=True).stdout.strip() == "5 --flag --device cuda"
    failing = ["sh", str(ROOT / "with_gpu.sh"), str(locks), "5", "sh", "-c", "exit 7"]
    assert subprocess.run(failing).returncode == 7 and not (locks / "5.1").exists()


def test_with_gpu_takes_over_a_dead_holders_slot_and_says_what_it_waits_for(tmp_path):
    """Hang class: a lock left by a killed run (SIGKILL, OOM, preemption) must not make make wait forever."""
    locks = tmp_path / "locks"
    dead = subprocess.Popen(["sleep", "0"])
    dead.wait()
    (locks / "0.1").mkdir(parents=True)
    (locks / "0.1" / "pid").write_text(f"{dead.pid}\n")
    cmd = ["sh", str(ROOT / "with_gpu.sh"), str(locks), "0", "sh", "-c", 'echo "$CUDA_VISIBLE_DEVICES"']
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert r.stdout.strip() == "0" and f"held by process {dead.pid}, which is gone" in r.stderr
    # a live holder: it waits, and says so once, naming the holder
    holder = subprocess.Popen(["sleep", "30"])
    (locks / "0.1").mkdir()
    (locks / "0.1" / "pid").write_text(f"{holder.pid}\n")
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    holder.kill()
    holder.wait()
    out, err = p.communicate(timeout=30)
    assert out.strip() == "0" and f"every slot of GPUS=0 is held (pids: {holder.pid}" in err and "waiting" in err


def test_with_gpu_gives_one_gpu_to_as_many_runs_as_it_is_listed(tmp_path):
    """GPUS=0,0,0: three runs on GPU 0 at once, a fourth waits for a slot."""
    locks, log = tmp_path / "locks", tmp_path / "log"
    cmd = ["sh", str(ROOT / "with_gpu.sh"), str(locks), "0,0,0", "sh", "-c",
           f'echo "start $CUDA_VISIBLE_DEVICES $(ls {locks} | wc -l)" >> {log}; sleep 2']
    procs = [subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    errs = [p.communicate(timeout=60)[1] for p in procs]
    starts = log.read_text().splitlines()
    assert len(starts) == 4 and all(s.split()[1] == "0" for s in starts)
    assert max(int(s.split()[2]) for s in starts) == 3  # never more than three slots held
    assert sum("waiting" in e for e in errs) >= 1 and not list(locks.iterdir())
