"""make bench: the cost of one training step of every method, as a ratio to the -log D GAN's, timed in one process.

    python -m bench                                   digits (8x8, DCGAN nets), batch 64, on --device auto
    python -m bench --dataset ring8 --device cpu      the toy MLPs
    python -m bench --only nonsaturating,roth,0-gp    a few rows
    python -m bench --gpu-check --device cuda         make gpu-check: cifar-vral runs per GPU, --compile or not

A step is what each script's `train(cfg)` does between two calls of
`common.Run.end_step`: one generator update with its discriminator update (1:1,
`--d-steps 1` for every method), the data sampling, the method's extra nets
(VRAL's meta-discriminators, Reg-GAN's encoder, MDGAN's second D and second G
step) and the logging bookkeeping. The bench runs each script's own loop, not a
copy of it: it wraps `Run.end_step` to read the clock (after a CUDA
synchronize) and stops the run after `--warmup` + `--steps` generator steps,
before its final evaluation.

Every method gets the same data, batch, latent size (100 on images) and, where
the script has them, DCGAN nets of width 64 (0-GP on images: `--arch dcgan`,
not its paper's MLP). On toy data each script keeps its own MLP and latent
defaults (0-GP: 512 units; Reg-GAN and MDGAN: z 3), so toy ratios compare the
methods as they run, not like for like. The methods run in rounds, one run each per round, each
round starting one row further down the list, so that drift in the machine's
speed and the cost of being first touch every method alike; a row's ratio is
its mean step time over the -log D GAN's in the same round, given as the mean
and standard deviation over the rounds. `plain` is the ratio to the same script
with its regularizer off (Roth gamma 0, 0-GP with no penalty, Reg-GAN's
`--model gan`), on the same nets: the regularizer's own cost.

Writes OUT/bench.md (the table), bench.json (every round's times) and bench.png.

`--gpu-check` (`make gpu-check`, under 8 minutes) times the `make cifar-vral` grid's VRAL 50:1 command on stand-in
images, alone and n at once on one GPU, without and with `--compile`, each run in its own process
(`gpu_worker`), and projects the whole grid's wall time for the best setting (`projection`).

`--d-step` adds the regularizers' own cost per D step (Roth et al. sec. 5.3; the 0-GP penalties): D steps with
and without the regularizer on the same nets and batches, alternating in blocks (`interleaved_timing`), as a ratio.
"""

import argparse
import gc
import importlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

import common

# (row, script, flags, the row of the same script without its regularizer)
METHODS = [
    ("nonsaturating", "baselines", "--loss nonsaturating", None),
    ("minimax", "baselines", "--loss minimax", None),
    ("lsgan", "baselines", "--loss lsgan", None),
    ("wgan", "baselines", "--loss wgan --no-wgan-boost", None),
    ("wgan-gp", "baselines", "--loss wgan-gp", None),
    ("instance-noise", "baselines", "--loss nonsaturating --instance-noise 0.1", "nonsaturating"),
    ("vral", "vral", "--variant vral", None),
    ("vral-sub", "vral", "--variant vral-sub", None),
    ("vral-lipschitz", "vral", "--variant lipschitz", None),
    ("roth-gamma0", "roth_reg", "--gamma 0", None),
    ("roth", "roth_reg", "--gamma 0.1", "roth-gamma0"),
    ("roth-f-gan", "roth_reg", "--gamma 0.1 --divergence gan", "roth-gamma0"),  # Omega_f (eq. 19): generated samples only
    ("roth-gamma0-nonorm", "roth_reg", "--gamma 0 --arch dcgan-nonorm", None),
    ("roth-nonorm", "roth_reg", "--gamma 0.1 --arch dcgan-nonorm", "roth-gamma0-nonorm"),  # no BatchNorm in D or G
    ("0-gp-none", "zero_gp", "--penalty none", None),
    ("0-gp", "zero_gp", "--penalty 0gp", "0-gp-none"),
    ("1-gp", "zero_gp", "--penalty 1gp", "0-gp-none"),
    ("0-gp-real", "zero_gp", "--penalty 0gp-real", "0-gp-none"),
    ("reg-gan-gan", "mode_reg", "--model gan", None),
    ("reg-gan", "mode_reg", "--model reg", "reg-gan-gan"),
    ("mdgan", "mdgan", "", "reg-gan-gan"),
]
REFERENCE = "nonsaturating"
ROOT = Path(__file__).resolve().parent
IMAGE_FLAGS = {"zero_gp": "--arch dcgan"}  # the other scripts build DCGANs on images already


class Stop(Exception):
    """Raised from the wrapped end_step once the timed steps are done."""


def time_run(script, flags, warmup, steps):
    """Seconds per generator step of `python -m methods.<script> <flags>`: the mean over `steps` steps after `warmup`."""
    module = importlib.import_module(f"methods.{script}")
    cfg = common.parse_config(module.Config, module.__doc__, flags.split())
    stamps, real_end_step = [], common.Run.end_step

    def end_step(run, done, losses, **extra):
        if run.device.type == "cuda":
            torch.cuda.synchronize(run.device)
        stamps.append(time.perf_counter())
        if done >= warmup + steps:
            raise Stop
        real_end_step(run, done, losses, **extra)

    gc.collect()  # the last run's nets and optimizer states go before this one starts
    common.Run.end_step = end_step
    try:
        module.train(cfg)
    except Stop:
        pass
    finally:
        common.Run.end_step = real_end_step
    if len(stamps) < warmup + steps:
        raise RuntimeError(f"{script} {flags}: the run ended after {len(stamps)} steps")
    return (stamps[warmup + steps - 1] - stamps[warmup - 1]) / steps


def bench(rows, dataset="digits", batch_size=64, warmup=10, steps=50, rounds=5, device="auto", image_size=0, seed=0,
          stand_in=False):
    """{"rows": {row: [seconds per step, one per round]}, plus the settings}: every row once per round."""
    names = [r[0] for r in METHODS]
    unknown = [r for r in rows if r not in names]
    if unknown:
        raise common.UserError(f"unknown bench rows {', '.join(unknown)}; choose from {', '.join(names)}")
    needed = set(rows) | {REFERENCE} | {m[3] for m in METHODS if m[0] in rows and m[3]}
    todo = [m for m in METHODS if m[0] in needed]
    dev = common.pick_device(device)
    kind = "toy" if dataset in common.datasets.TOY else "image"
    shared = (f"--dataset {dataset} --batch-size {batch_size} --d-steps 1 --image-size {image_size} --seed {seed}"
              + (" --z-dim 100" if kind == "image" else "") + (" --stand-in" if stand_in else ""))
    quiet = f"--steps {10 ** 9} --log-every {10 ** 9} --sample-every {10 ** 9} --ckpt-every {10 ** 9} --eval-samples 0"
    extra = IMAGE_FLAGS if kind == "image" else {}
    times = {m[0]: [] for m in todo}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            for name, script, flags, _ in todo[r % len(todo):] + todo[:r % len(todo)]:  # each round starts elsewhere
                argv = f"{flags} {extra.get(script, '')} {shared} {quiet} --device {dev} --no-download --overwrite"
                times[name].append(time_run(script, f"{argv} --out {tmp}/{name}", warmup, steps))
                print(f"round {r + 1}/{rounds}  {name:15s} {1e3 * times[name][-1]:8.2f} ms/step", flush=True)
    return {"dataset": dataset, "batch_size": batch_size, "image_size": image_size, "warmup": warmup, "steps": steps,
            "rounds": rounds, "device": str(dev), "seed": seed, "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else platform.processor() or
            platform.machine(),
            "commands": {m[0]: f"python -m methods.{m[1]} {m[2]} {extra.get(m[1], '')}".strip() for m in todo},
            "shared_flags": shared,
            "plain": {m[0]: m[3] for m in todo if m[3]}, "rows": times}


def interleaved_timing(steps, iters=20, repeats=7, device=None):
    """Seconds per call of each function in `steps` ({name: fn}), timed in alternating blocks in one process.

    One warm-up block each, then `repeats` rounds of one block of `iters`
    calls per function, so that drift in the machine's speed touches every
    setting alike. Returns {name: [seconds per call, one per round]}.
    """
    device = torch.device(device or "cpu")
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)

    def block(fn):
        sync()
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        sync()
        return (time.perf_counter() - t0) / iters

    for fn in steps.values():
        block(fn)
    out = {name: [] for name in steps}
    for _ in range(repeats):
        for name, fn in steps.items():
            out[name].append(block(fn))
    return out


# --d-step: row -> (script, how D's loss is called without and with the regularizer)
D_STEP_ROWS = {
    "roth": ("roth_reg", lambda m, cfg: (lambda d, r, f: m.discriminator_loss(d, r, f, 0.0)[0],
                                         lambda d, r, f: m.discriminator_loss(d, r, f, 0.1)[0])),
    **{row: ("zero_gp", lambda m, cfg, p=pen: (lambda d, r, f: m.discriminator_loss(d, r, f, "none", cfg.lam)[0],
                                                lambda d, r, f: m.discriminator_loss(d, r, f, p, cfg.lam)[0]))
       for row, pen in (("0-gp", "0gp"), ("1-gp", "1gp"), ("0-gp-real", "0gp-real"))},
}


def d_step_cost(row, dataset="digits", batch_size=64, image_size=0, iters=20, repeats=7, device="auto", stand_in=True):
    """Seconds per D step of `row` without ("plain") and with ("regularized") its regularizer, on the same nets,
    timed in alternating blocks in one process; with the ratios' median, min and max."""
    import data as datasets
    script, losses = D_STEP_ROWS[row]
    m = importlib.import_module(f"methods.{script}")
    dev = common.pick_device(device)
    common.seed_everything(0)
    data = datasets.load(dataset, "data", dev, image_size or None, stand_in=stand_in)
    toy = data.kind == "toy"
    if script == "roth_reg":
        cfg = m.Config(dataset=dataset, image_size=image_size, batch_size=batch_size, device=str(dev))
        z_dim = 2 if toy else 100
        g, d = m.nets_outside_a_run(cfg, data, z_dim, dev)
    else:
        cfg = m.resolve(m.Config(dataset=dataset, batch_size=batch_size, image_size=image_size,
                                 arch="mlp" if toy else "dcgan"))
        z_dim = cfg.z_dim
        g, d, _ = m.make_nets(cfg, data, z_dim, dev)
    plain, regularized = losses(m, cfg)
    opt = torch.optim.Adam(d.parameters(), lr=1e-6)

    def d_step(loss_fn):
        real = data.sample(batch_size)
        with torch.no_grad():
            fake = g(torch.randn(batch_size, z_dim, device=dev))
        loss = loss_fn(d, real, fake)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    t = interleaved_timing({"plain": lambda: d_step(plain), "regularized": lambda: d_step(regularized)},
                           iters, repeats, dev)
    r = [a / b for a, b in zip(t["regularized"], t["plain"])]
    return {"row": row, "command": f"python -m methods.{script}", "plain_s": statistics.median(t["plain"]),
            "regularized_s": statistics.median(t["regularized"]), "ratio_median": statistics.median(r),
            "ratio_min": min(r), "ratio_max": max(r), "iters": iters, "repeats": repeats}


def d_step_table(rows):
    lines = ["The regularizer's own cost per D step (Roth et al. sec. 5.3; the 0-GP penalties): D steps without and "
             "with it on the same nets and batches, in alternating blocks; ratio median (min-max) over the blocks.", "",
             "| row | ms / D step, plain | ms / D step, regularized | ratio |", "|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['row']} | {1e3 * r['plain_s']:.2f} | {1e3 * r['regularized_s']:.2f} | "
                     f"{r['ratio_median']:.2f} ({r['ratio_min']:.2f}-{r['ratio_max']:.2f}) |")
    return "\n".join(lines) + "\n"


def ratios(res, row, base):
    """The per-round ratios row / base."""
    return [a / b for a, b in zip(res["rows"][row], res["rows"][base])]


def mean_std(xs):
    return statistics.mean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def table(res):
    """bench.md: ms per step (median over rounds), the ratio to the -log D GAN and to the same script's plain run."""
    lines = [f"One generator step with one D step (1:1), data included: {res['dataset']}, batch {res['batch_size']}, "
             f"{res['device']} ({res['device_name']}, {res['threads']} threads, torch {res['torch']}), "
             f"{res['rounds']} rounds of {res['steps']} timed steps after {res['warmup']} warm-up steps. "
             f"Every command also has `{res['shared_flags']}`. Ratios: mean ± std over the rounds.", "",
             "| method | command | ms / step | × -log D GAN | × same script, no regularizer |",
             "|---|---|---|---|---|"]
    for row, secs in res["rows"].items():
        r, s = mean_std(ratios(res, row, REFERENCE))
        base = res["plain"].get(row)
        own = "{:.2f} ± {:.2f} ({})".format(*mean_std(ratios(res, row, base)), base) if base else ""
        lines.append(f"| {row} | `{res['commands'][row]}` | {1e3 * statistics.median(secs):.2f} | "
                     f"{r:.2f} ± {s:.2f} | {own} |")
    return "\n".join(lines) + "\n"


def plot(res, path):
    import figures
    plt = figures.plt()
    rows = list(res["rows"])
    stats = [mean_std(ratios(res, r, REFERENCE)) for r in rows]
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(rows) + 1.2))
    ax.barh(range(len(rows)), [m for m, _ in stats], xerr=[s for _, s in stats], color="tab:blue")
    ax.axvline(1, color="k", lw=0.8)
    ax.set_yticks(range(len(rows)), rows)
    ax.invert_yaxis()
    ax.set_xlabel(f"step time / the -log D GAN's ({res['dataset']}, {res['device']})")
    figures.save(fig, path)


# --------------------------------------------------------------------------
# --gpu-check: how many cifar-vral runs one GPU should hold, with or without --compile
# --------------------------------------------------------------------------


def grid_commands(target="cifar-vral"):
    """The commands of `make <target> PRINT=1`, one per run. Under make (`make gpu-check`) the variables given to
    it (SMOKE=1, OUT, ...) reach this make too, through MAKEFLAGS."""
    try:
        r = subprocess.run(["make", "-s", "--no-print-directory", target, "PRINT=1"], cwd=ROOT, capture_output=True,
                           text=True)
    except FileNotFoundError:
        raise common.UserError(f"--gpu-check reads the grid from `make {target} PRINT=1`: make is not installed")
    lines = [l for l in r.stdout.splitlines() if " -m methods." in l]
    if r.returncode or not lines:
        raise common.UserError(f"`make {target} PRINT=1` listed no runs: {r.stderr.strip()[-300:]}")
    return lines


def flag_value(command, name, default=None):
    m = re.search(rf"(?<!\S){re.escape(name)} (\S+)", command)
    return m.group(1) if m else default


def check_command(grid):
    """The flags of the grid's VRAL run with the highest training ratio (cifar-vral: 50:1), without those of its
    place (--device, --data-root, --out, --resume) and length (--steps), and without --compile."""
    vral = [c for c in grid if "-m methods.vral" in c and flag_value(c, "--variant") == "vral"]
    if not vral:
        raise common.UserError("the grid has no `methods.vral --variant vral` run to time")
    cmd = max(vral, key=lambda c: int(flag_value(c, "--d-steps", 1))).split(" -m methods.vral ", 1)[1]
    for name in ("--device", "--data-root", "--out", "--steps"):
        cmd = re.sub(rf"(?<!\S){name} \S+", "", cmd)
    return " ".join(re.sub(r"(?<!\S)--(resume|stand-in|no-download|compile)(?!\S)", "", cmd).split())


def gpu_worker(flags, out, warmup, seconds, ready, n):
    """One run of a --gpu-check setting, in its own process: `python -m methods.vral <flags>`. After `warmup`
    generator steps (compiling and a logged step with its diagnostics included) it waits until the other n - 1 runs
    are warm too (a file each in `ready`), then counts the generator steps it makes in `seconds`, with one device
    sync at each end of that window (the run's own syncs, at its logged steps, in between). Writes `out` (JSON)."""
    from methods import vral
    cfg = common.parse_config(vral.Config, vral.__doc__, flags.split())
    real_end_step, res, t_start = common.Run.end_step, {}, time.perf_counter()

    def sync(run):
        if run.device.type == "cuda":
            torch.cuda.synchronize(run.device)

    def memory(run):
        if run.device.type != "cuda":
            return {}
        free, total = torch.cuda.mem_get_info(run.device)
        return {"gpu_used_gib": (total - free) / 2**30, "gpu_total_gib": total / 2**30,
                "max_allocated_gib": torch.cuda.max_memory_allocated(run.device) / 2**30,
                "device_name": torch.cuda.get_device_name(run.device)}

    def end_step(run, done, losses, **extra):
        if done == warmup:  # a logged step inside the warm-up: its diagnostics are compiled there, not timed
            log_every, run.cfg.log_every = run.cfg.log_every, done
            real_end_step(run, done, losses, **extra)
            run.cfg.log_every = log_every
        else:
            real_end_step(run, done, losses, **extra)
        if done == warmup:
            sync(run)
            res["warmup_s"], res["device"] = time.perf_counter() - t_start, str(run.device)
            Path(ready, str(os.getpid())).touch()
            while len(os.listdir(ready)) < n:  # every run warm: the timed windows overlap
                if time.perf_counter() - t_start > 1800:
                    raise RuntimeError(f"waited 30 minutes for {n} runs to warm up")
                time.sleep(0.05)
            res.update(memory(run))  # every run alive and warm
            sync(run)
            res["t0"], res["s0"] = time.perf_counter(), done
        elif "t0" in res and time.perf_counter() - res["t0"] >= seconds:
            sync(run)
            res["seconds"], res["steps"] = time.perf_counter() - res["t0"], done - res["s0"]
            res["max_allocated_gib"] = memory(run).get("max_allocated_gib")
            raise Stop

    common.Run.end_step = end_step
    try:
        vral.train(cfg)
    except Stop:
        pass
    finally:
        common.Run.end_step = real_end_step
    res["steps_per_s"] = res["steps"] / res["seconds"]
    common.write_json(out, res)


def check_setting(flags, n, seconds, warmup, folder, deadline=float("inf")):
    """n runs of `flags` at once, each in its own process (gpu_worker): their results, or {"error": ...}. Runs still
    going at `deadline` (time.time()) are stopped."""
    folder.mkdir(parents=True)
    (folder / "ready").mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 1) // n)),  # the CPU shared out, and
           "TORCHINDUCTOR_COMPILE_THREADS": str(max(1, (os.cpu_count() or 1) // n))}  # inductor's compile workers
    procs = []
    for i in range(n):
        kw = dict(flags=f"{flags} --out {folder}/run{i}", out=str(folder / f"run{i}.json"), warmup=warmup,
                  seconds=seconds, ready=str(folder / "ready"), n=n)
        with open(folder / f"run{i}.log", "w") as log:
            procs.append(subprocess.Popen([sys.executable, "-c", "import json, sys, bench; bench.gpu_worker("
                                           "**json.loads(sys.argv[1]))", json.dumps(kw)], cwd=ROOT, env=env,
                                          stdout=log, stderr=subprocess.STDOUT))
    late = False
    while any(p.poll() is None for p in procs):
        late = time.time() > deadline
        if late or any(p.poll() for p in procs):  # one run failed: the others would wait for it at the barrier
            for p in procs:
                p.kill()
        time.sleep(0.2)
    if late:
        return {"error": "stopped: the check's time (--check-budget) ran out"}
    codes = [p.returncode for p in procs]
    failed = next((i for i, c in enumerate(codes) if c > 0), next((i for i, c in enumerate(codes) if c), None))
    if failed is not None:
        tail = (folder / f"run{failed}.log").read_text().strip().splitlines()[-3:]
        return {"error": f"run {failed + 1} of {n} failed: " + " / ".join(tail)}
    runs = [json.loads((folder / f"run{i}.json").read_text()) for i in range(n)]
    rates = [r["steps_per_s"] for r in runs]
    return {"workers": runs, "per_run": statistics.mean(rates), "per_run_min": min(rates), "per_run_max": max(rates),
            "aggregate": sum(rates), "warmup_s": max(r["warmup_s"] for r in runs),
            "gpu_used_gib": max(r.get("gpu_used_gib", -1) for r in runs),  # -1: not a GPU
            "max_allocated_gib": max(r.get("max_allocated_gib") or -1 for r in runs),
            "device_name": runs[0].get("device_name", platform.processor() or platform.machine())}


def projection(grid, d_steps, rate, n):
    """The grid's wall time (s) on one GPU holding n runs at once, each making `rate` generator steps per second at
    `d_steps` D steps per G step: every run's work counted in (D + G) steps at the timed run's cost per step (the
    baselines' steps are cheaper, so this errs long), shared out over the n slots; at least the longest run's time
    at the per-run rate. Returns (seconds, the work in (D + G) steps, the longest run's)."""
    work = [int(flag_value(c, "--steps")) * (int(flag_value(c, "--d-steps", 1)) + 1) for c in grid]
    per_s = rate * (d_steps + 1)  # (D + G) steps per second, one run
    return max(sum(work) / (n * per_s), max(work) / per_s), sum(work), max(work)


def hours(s):
    return f"{s / 3600:.1f} h" if s >= 3600 else f"{s / 60:.0f} min"


def gpu_check(device="cuda", runs=(1, 4, 8), seconds=60.0, shared_seconds=25.0, warmup=3, budget=450.0,
              out="runs/gpu-check"):
    """`make gpu-check`: the grid's VRAL run with the highest ratio, alone for `seconds`, then len(runs) - 1 more
    settings with n runs at once on the same GPU for `shared_seconds`, each without and with --compile; steps/s per
    run, the aggregate, GPU memory, and the projected wall time of the grid for the best setting. A setting that
    whose timed window would end after `budget` seconds is skipped, one still running then is stopped; if --compile
    fails, its other settings are skipped."""
    t_start, grid = time.time(), grid_commands()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        command = check_command(grid)
        d_steps = int(flag_value(command, "--d-steps", 1))
        print(f"gpu-check: python -m methods.vral {command}, on stand-in images", flush=True)
        # stand-in images (no CIFAR-10 needed) and no end in sight
        flags = {c: f"{command} --steps {10 ** 9} --data-root {tmp}/data --stand-in --no-download --device {device}"
                    + (" --compile" if c else "") for c in (False, True)}
        for n in runs:
            for compiled in (False, True):
                setting, timed = {"runs": n, "compile": compiled}, seconds if n == 1 else shared_seconds
                if time.time() + timed > t_start + budget:
                    setting["error"] = f"skipped: the check's budget of {budget:g} s was spent"
                elif compiled and any(r["compile"] and "error" in r for r in results):
                    setting["error"] = "skipped: --compile failed above"
                else:
                    setting.update(check_setting(flags[compiled], n, timed, warmup,
                                                 Path(tmp) / f"{n}-{'compiled' if compiled else 'eager'}",
                                                 t_start + budget))
                results.append(setting)
                print(setting_line(setting), flush=True)
    ok = [r for r in results if "error" not in r]
    if not ok:
        raise common.UserError("every setting failed: " + results[0]["error"])
    best = max(ok, key=lambda r: r["aggregate"])
    wall, work, longest = projection(grid, d_steps, best["per_run"], best["runs"])
    res = {"device": ok[0]["workers"][0]["device"], "device_name": ok[0]["device_name"], "torch": torch.__version__, "command": command,
           "d_steps": d_steps, "warmup": warmup, "seconds": seconds, "shared_seconds": shared_seconds,
           "settings": results, "grid_runs": len(grid), "grid_work": work, "grid_longest": longest,
           "best": {"runs": best["runs"], "compile": best["compile"], "projected_s": wall},
           "check_seconds": round(time.time() - t_start, 1)}
    text = check_report(res)
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    common.write_json(path / "gpu-check.json", res)
    (path / "gpu-check.md").write_text(text)
    print(text + f"done: {path}/gpu-check.md")
    return res


def setting_line(r):
    head = f"| {r['runs']} | {'yes' if r['compile'] else 'no'} |"
    if "error" in r:
        return f"{head} {r['error']} | | | | |"
    gib = lambda x: f"{x:.2f}" if x >= 0 else "-"
    return (f"{head} {r['warmup_s']:.0f} | {r['per_run']:.3f} ({r['per_run_min']:.3f}-{r['per_run_max']:.3f}) | "
            f"{r['aggregate']:.3f} | {gib(r['gpu_used_gib'])} | {gib(r['max_allocated_gib'])} |")


def check_report(res):
    best = res["best"]
    n = best["runs"]
    gpus = ",".join(["0"] * n)
    lines = [f"`make gpu-check` on {res['device']} ({res['device_name']}, torch {res['torch']}): "
             f"`python -m methods.vral {res['command']}` on random stand-in images, timed for {res['seconds']:g} s "
             f"alone and {res['shared_seconds']:g} s when n run at once (after {res['warmup']} warm-up generator "
             f"steps each, compiling included); the whole check took {res['check_seconds']:.0f} s.", "",
             "| runs at once | --compile | warm-up s | G steps/s per run (min-max) | aggregate G steps/s | "
             "GPU memory used, GiB | max allocated per run, GiB |", "|---|---|---|---|---|---|---|"]
    lines += [setting_line(r) for r in res["settings"]]
    lines += ["", f"The grid (`make cifar-vral PRINT=1`): {res['grid_runs']} runs, {res['grid_work']:,} (D + G) "
              f"steps, the longest run {res['grid_longest']:,}. Best setting: {n} at once"
              f"{', --compile' if best['compile'] else ''}: projected wall time **{hours(best['projected_s'])}** on "
              "one GPU (every run's steps at the timed VRAL step's cost, the baselines' cheaper ones included, so "
              "long rather than short; at least the longest run at its per-run rate).",
              f"Command: `GPUS={gpus} make -j {n} cifar-vral{' FLAGS=--compile' if best['compile'] else ''}`", ""]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--dataset", default="digits", help="data set (every method trains on it)")
    ap.add_argument("--image-size", type=int, default=0, help="resize image sets to this many px (0: the set's own)")
    ap.add_argument("--batch-size", type=int, default=64, help="samples per batch, for every method")
    ap.add_argument("--warmup", type=int, default=10, help="untimed generator steps at the start of each run")
    ap.add_argument("--steps", type=int, default=50, help="timed generator steps per run")
    ap.add_argument("--rounds", type=int, default=5, help="runs of each method, interleaved")
    ap.add_argument("--only", default="", help="comma-separated rows (the reference and plain rows are added)")
    ap.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    ap.add_argument("--seed", type=int, default=0, help="seed of every run")
    ap.add_argument("--stand-in", action="store_true", help="random stand-in images for a missing image set")
    ap.add_argument("--d-step", default="roth,0-gp,1-gp,0-gp-real",
                    help=f"comma-separated rows of the regularizers' cost per D step ({', '.join(D_STEP_ROWS)}; "
                         "empty: none)")
    ap.add_argument("--d-step-iters", type=int, default=20, help="D steps per timed block of --d-step")
    ap.add_argument("--d-step-repeats", type=int, default=7, help="timed blocks per setting of --d-step")
    ap.add_argument("--out", default="runs/bench", help="folder for bench.md, bench.json and bench.png (--gpu-check: "
                    "gpu-check.md and gpu-check.json)")
    ap.add_argument("--gpu-check", action="store_true",
                    help="instead of the table: how many `make cifar-vral` runs one GPU should hold (make gpu-check): "
                         "the grid's VRAL run with the highest ratio (50:1), alone and n at once, without and with "
                         "--compile, on stand-in 32 px images; steps/s, memory, the grid's projected wall time")
    ap.add_argument("--check-runs", default="1,4,8", help="--gpu-check: runs at once on the GPU, one setting each")
    ap.add_argument("--check-seconds", type=float, default=60, help="--gpu-check: timed seconds of the run alone")
    ap.add_argument("--check-shared-seconds", type=float, default=25,
                    help="--gpu-check: timed seconds of n runs at once (their windows overlap: each starts timing "
                         "when all are warm)")
    ap.add_argument("--check-warmup", type=int, default=3,
                    help="--gpu-check: untimed generator steps of each run (compiling and one logged step included)")
    ap.add_argument("--check-budget", type=float, default=450,
                    help="--gpu-check: the whole check's seconds: a setting that cannot end in them is skipped, "
                         "one still running at the end is stopped (both reported)")
    a = ap.parse_args(argv)
    if a.gpu_check:
        try:
            runs = [int(n) for n in a.check_runs.split(",")]
        except ValueError:
            runs = []
        if not runs or min(runs) < 1:
            raise common.UserError(f"--check-runs {a.check_runs}: give numbers of runs >= 1, comma-separated")
        if a.check_warmup < 1 or min(a.check_seconds, a.check_shared_seconds) <= 0:
            raise common.UserError("--check-warmup must be >= 1, --check-seconds and --check-shared-seconds > 0")
        return gpu_check(a.device, runs, a.check_seconds, a.check_shared_seconds, a.check_warmup, a.check_budget,
                         a.out)
    if a.warmup < 1 or a.steps < 1 or a.rounds < 1:
        raise common.UserError("--warmup, --steps and --rounds must be >= 1")
    d_rows = [r for r in a.d_step.split(",") if r]
    unknown = [r for r in d_rows if r not in D_STEP_ROWS]
    if unknown:
        raise common.UserError(f"--d-step {','.join(unknown)}: choose from {', '.join(D_STEP_ROWS)}")
    rows = a.only.split(",") if a.only else [m[0] for m in METHODS]
    res = bench(rows, a.dataset, a.batch_size, a.warmup, a.steps, a.rounds, a.device, a.image_size, a.seed, a.stand_in)
    res["d_step"] = [d_step_cost(r, a.dataset, a.batch_size, a.image_size, a.d_step_iters, a.d_step_repeats, a.device)
                     for r in d_rows]
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    common.write_json(out / "bench.json", res)
    text = table(res) + ("\n" + d_step_table(res["d_step"]) if res["d_step"] else "")
    (out / "bench.md").write_text(text)
    plot(res, out / "bench.png")
    print(text)
    print(f"done: {out}/bench.md")
    return res


if __name__ == "__main__":
    try:
        main()
    except common.UserError as e:
        raise SystemExit(f"error: {e}")
