"""make bench: the cost of one training step of every method, as a ratio to the -log D GAN's, timed in one process.

    python -m bench                                   digits (8x8, DCGAN nets), batch 64, on --device auto
    python -m bench --dataset ring8 --device cpu      the toy MLPs
    python -m bench --only nonsaturating,roth,0-gp    a few rows

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

`--d-step` adds the regularizers' own cost per D step (Roth et al. sec. 5.3; the 0-GP penalties): D steps with
and without the regularizer on the same nets and batches, alternating in blocks (`interleaved_timing`), as a ratio.
"""

import argparse
import gc
import importlib
import platform
import statistics
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
    ap.add_argument("--out", default="runs/bench", help="folder for bench.md, bench.json and bench.png")
    a = ap.parse_args(argv)
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
