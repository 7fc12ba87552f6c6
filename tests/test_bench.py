"""bench.py: it times each script's own loop, step for step, and its ratios are per round."""

import time

import pytest

import bench
import common
import methods.baselines as baselines


def test_a_known_delay_in_the_loop_shows_in_the_step_time(monkeypatch, tmp_path):
    """An extra 0.2 s in G's loss adds 0.2 s to every timed step and none of the warm-up's: sleep() never returns
    early, so a timed step takes at least 0.2 s; warm-up delays counted in would add another 0.2 s per step. The
    delay is large next to a step (about 10 ms) so that a loaded machine cannot blur the two."""
    real = common.Run.end_step
    delay = 0.2
    argv = f"--loss nonsaturating --dataset ring8 --batch-size 16 --steps 1000 --log-every 1000 --device cpu --out {tmp_path}/a"
    plain = bench.time_run("baselines", argv, warmup=5, steps=5)
    calls, g_loss = [], baselines.g_loss

    def slow_g_loss(*args):
        calls.append(1)
        time.sleep(delay)
        return g_loss(*args)

    monkeypatch.setattr(baselines, "g_loss", slow_g_loss)
    slow = bench.time_run("baselines", argv.replace("/a", "/b"), warmup=5, steps=5)
    assert len(calls) == 10  # warm-up + timed steps, then the run stops
    assert slow >= delay and slow - plain < 1.5 * delay
    assert common.Run.end_step is real  # put back
    assert not (tmp_path / "b" / "summary.json").exists()  # stopped before the final evaluation


def test_end_step_is_restored_when_a_run_fails(tmp_path):
    real = common.Run.end_step
    with pytest.raises(common.UserError):
        bench.time_run("baselines", f"--loss nope --dataset ring8 --out {tmp_path}/a", 1, 1)
    assert common.Run.end_step is real


def test_ratios_are_taken_within_each_round():
    res = {"dataset": "digits", "batch_size": 64, "device": "cpu", "device_name": "x", "threads": 1, "torch": "t",
           "rounds": 2, "steps": 3, "warmup": 1, "shared_flags": "--d-steps 1",
           "rows": {"nonsaturating": [1.0, 2.0], "roth-gamma0": [1.5, 2.0], "roth": [3.0, 6.0]},
           "commands": {"nonsaturating": "a", "roth-gamma0": "b", "roth": "c"}, "plain": {"roth": "roth-gamma0"}}
    assert bench.ratios(res, "roth", "nonsaturating") == [3.0, 3.0]  # not 9 / 3 of the pooled means
    md = bench.table(res)
    assert "| roth | `c` | 4500.00 | 3.00 ± 0.00 | 2.50 ± 0.71 (roth-gamma0) |" in md
    assert "`--d-steps 1`" in md


def test_every_row_runs_its_script_with_shared_flags(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(bench, "time_run", lambda script, argv, w, s: seen.append((script, argv)) or 0.01)
    res = bench.bench(["0-gp"], "digits", 16, 1, 1, 1, "cpu")
    assert list(res["rows"]) == ["nonsaturating", "0-gp-none", "0-gp"]  # the reference and the plain row come along
    for script, argv in seen:
        assert "--d-steps 1" in argv and "--batch-size 16" in argv and "--z-dim 100" in argv
        assert ("--arch dcgan" in argv) == (script == "zero_gp")
    with pytest.raises(common.UserError, match="unknown bench rows"):
        bench.bench(["nope"], "digits")


@pytest.mark.parametrize("row,dataset", [("roth", "digits"), ("0-gp", "ring8")])
def test_d_step_cost_times_each_regularizer_against_its_plain_step(row, dataset):
    """Sec. 5.3's cost (before: `methods.roth_reg bench`, `methods.zero_gp bench`), now in the one benchmark tool."""
    res = bench.d_step_cost(row, dataset, batch_size=16, image_size=8 if dataset == "digits" else 0, iters=2,
                            repeats=2, device="cpu")
    assert res["ratio_min"] <= res["ratio_median"] <= res["ratio_max"] and res["regularized_s"] > 0
    assert "| " + row + " |" in bench.d_step_table([res])


def test_interleaved_timing_alternates_blocks_and_times_each_call():
    calls = []
    t = bench.interleaved_timing({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, iters=3, repeats=2)
    assert calls == ["a"] * 3 + ["b"] * 3 + (["a"] * 3 + ["b"] * 3) * 2  # warm-up, then alternating rounds
    assert len(t["a"]) == len(t["b"]) == 2 and all(x >= 0 for x in t["a"] + t["b"])


def test_the_gpu_check_times_the_grids_vral_run_with_the_highest_ratio():
    """`make gpu-check` times the cifar-vral grid's own VRAL 50:1 command (read from `make cifar-vral PRINT=1`),
    without the flags of its place and length, which the check sets itself."""
    grid = bench.grid_commands()
    assert len(grid) == 24  # 6 methods x 4 ratios
    command = bench.check_command(grid)
    assert "--variant vral --dataset cifar10" in command and "--d-steps 50 --diag-batches 50 --log-every 50" in command
    assert not any(f in command.split() for f in ("--out", "--resume", "--device", "--data-root", "--steps"))


def test_the_gpu_check_projects_the_grid_from_the_timed_rate():
    """Work in (D + G) steps: 10 x 2 + 10 x 4 = 60; one run at 1 G step/s of 3 D steps makes 4 a second. Two slots:
    60 / 8 = 7.5 s, but the longest run alone takes 40 / 4 = 10 s; one slot: 60 / 4 = 15 s."""
    grid = ["python -m methods.baselines --steps 10 --d-steps 1 --out a", "python -m methods.vral --steps 10 --d-steps 3"]
    assert bench.projection(grid, 3, 1.0, 2) == (10.0, 60, 40)
    assert bench.projection(grid, 3, 1.0, 1) == (15.0, 60, 40)
    assert bench.projection(grid, 3, 2.0, 1) == (7.5, 60, 40)


def test_a_failed_gpu_check_setting_says_why_and_stops_its_other_runs(tmp_path, monkeypatch):
    """One run of a setting failing stops the others, which would wait for it at the barrier for ever, and the
    setting reports the failed run's last lines. Here a stand-in python: run 1 fails, run 2 waits 2 minutes."""
    fake = tmp_path / "python"
    fake.write_text('#!/bin/sh\ncase "$3" in *run0.json*) echo "error: boom"; exit 3;; esac\nsleep 120\n')
    fake.chmod(0o755)
    monkeypatch.setattr(bench.sys, "executable", str(fake))
    t0 = time.time()
    res = bench.check_setting("--dataset ring8", 2, 1.0, 1, tmp_path / "s")
    assert res == {"error": "run 1 of 2 failed: error: boom"} and time.time() - t0 < 60
