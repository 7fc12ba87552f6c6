"""What every method script shares: one small run harness.

The harness keeps a method's `train(cfg)` down to its algorithm:

    run = common.Run(cfg, label)         # seed, device, data set, z size
    g, d = run.make_nets()               # MLPs for toy data, DCGANs for images
    start = run.begin(g=g, d=d, ...)     # run folder; --resume restores every module and RNG
    for step in range(start, cfg.steps):
        ...                              # the paper's updates, in view
        run.end_step(step + 1, losses)   # NaN guard, metrics line, samples, checkpoint
    return run.finish(**labels)          # figures and summary.json

`RunConfig` holds the fields every script has (data, steps, d-steps, batch
size, seed, device, run folder, logging); a method's Config adds its paper's
hyperparameters. `parse_config` turns a config dataclass into a command line
whose help is each field's trailing comment. The networks live in nets.py,
figures in figures.py, evaluation (D's diagnostics, mode metrics, MODE score) in metrics.py.
"""

import argparse
import dataclasses
import inspect
import json
import math
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

import data as datasets
import figures
import metrics
from runfiles import (MANIFEST, RESUMABLE, RUN_FILES, FiniteGuard, NonFiniteLoss, Progress, RunDir,  # noqa: F401
                      UserError, check_finite, cpu_name, cpu_threads, diagnostic_mode, load_checkpoint, lock_out,
                      make_hint, prepare_out, read_jsonl, release_out, rng_state, run_files, save_checkpoint,
                      seed_everything, set_rng_state, write_json)
from nets import (PRIORS, Carpedm20Discriminator, Carpedm20Generator, DCGANDiscriminator, DCGANGenerator,  # noqa: F401
                  GrewalDiscriminator, GrewalGenerator, MLPDiscriminator, MLPGenerator, ResNetDiscriminator,
                  ResNetGenerator, compile_nets, cuda_defaults, dcgan_init, generate, latent)

# --------------------------------------------------------------------------
# Errors, config and command line
# --------------------------------------------------------------------------


@dataclass
class RunConfig:
    """The fields every method script shares. A method's Config adds its paper's hyperparameters."""

    dataset: str = "ring8"  # data set
    data_root: str = "data"  # where MNIST, CIFAR-10, CelebA or an image folder live
    image_size: int = 0  # resize image sets to this many px (0: the data set's default)
    scale: float = 1.0  # multiply a toy set (centres and std)
    width: int = 0  # MLP hidden units / DCGAN base channels (0: 128 / 64)
    batch_norm: bool = True  # BatchNorm in the DCGAN generator (and discriminator, unless --d-norm says otherwise)
    d_norm: str = "auto"  # DCGAN discriminator: batch | layer | none | auto (the method's choice, see its docstring)
    z_dim: int = 0  # latent size (0: 2 for toy data, 100 for images)
    crop: int = 0  # CelebA and image folders: centre crop in px before resizing (0: 108 for CelebA, the shorter side for a folder)
    steps: int = 5000  # generator updates
    d_steps: int = 1  # discriminator updates per generator update (the training ratio)
    batch_size: int = 64  # samples per batch
    seed: int = 0  # seeds python, numpy and torch
    threads: int = 0  # CPU threads (0: OMP_NUM_THREADS if set, else one for toy MLPs and images of 16 px or less, else torch's default, shared under make -j N)
    device: str = "auto"  # auto (cuda if available) | cpu | cuda | cuda:N
    tf32: bool = True  # CUDA: TF32 matmuls and convolutions and cuDNN autotuning (--no-tf32: full float32, cuDNN's default algorithms, for bit-comparisons); no effect on the CPU
    compile: bool = False  # torch.compile every net (CUDA: mode reduce-overhead, i.e. CUDA graphs; CPU: inductor); a D whose input gradient is penalized stays eager (no double backward)
    out: str = "runs/run"  # run folder
    resume: bool = False  # continue from out/checkpoint.pt
    overwrite: bool = False  # replace a run already in --out (its files are deleted first)
    log_every: int = 100  # steps between metric lines (with D diagnostics)
    diag_batches: int = 1  # batches averaged in each D diagnostic
    sample_every: int = 1000  # steps between sample figures
    ckpt_every: int = 1000  # steps between checkpoints
    eval_samples: int = 2500  # generated samples for the final metrics
    stand_in: bool = False  # replace a missing image set by random images (SMOKE runs only; never downloads)
    digit_weights: tuple = ()  # stacked / compositional sets: the ten digit probabilities (empty: the set's default)
    download: bool = True  # MNIST and CIFAR-10 (CelebA: tried) download themselves into --data-root on first use
    fid_samples: int = 0  # image sets: FID, IS and KID (torch-fidelity's Inception) of this many samples against as many real images (0: off)
    fid_ref: str = "train"  # the real images of --fid-samples: train | test (MNIST and CIFAR-10 only)
    inception_weights: str = ""  # a local file of the Inception weights for --fid-samples (empty: $INCEPTION_WEIGHTS, else torch-fidelity's download)


def parse_config(config_cls, doc, argv=None, hide=()):
    """The command line for a dataclass config: one `--flag` per field, its help the field's trailing comment.

    Booleans get `--x/--no-x`, tuples take several numbers. A method's own
    fields are listed first; fields in `hide` (ones a script does not use)
    get no flag and keep their defaults.
    """
    comments = {}
    for cls in reversed(config_cls.__mro__[:-1]):
        comments.update(re.findall(r"^\s+(\w+):[^#\n]*#\s*(.*)$", inspect.getsource(cls), re.M))
    comments["dataset"] = "data set: " + " | ".join(datasets.NAMES)
    module = sys.modules[config_cls.__module__]
    name = module.__spec__.name if getattr(module, "__spec__", None) else module.__name__  # not __main__
    ap = argparse.ArgumentParser(prog=f"python -m {name}", description=doc.strip().split("\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    shared = {f.name for f in dataclasses.fields(RunConfig)}
    fields = dataclasses.fields(config_cls)
    for f in [f for f in fields if f.name not in shared] + [f for f in fields if f.name in shared and f.name not in hide]:
        flag, help_ = "--" + f.name.replace("_", "-"), comments.get(f.name, "")
        if isinstance(f.default, bool):
            ap.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default, help=help_)
        elif isinstance(f.default, tuple):
            ap.add_argument(flag, type=float, nargs="*", default=f.default, help=help_)
        else:
            ap.add_argument(flag, type=type(f.default), default=f.default, help=help_)
    argv = list(sys.argv[1:] if argv is None else argv)
    for i in range(len(argv) - 1):  # "--lr -1e-3": argparse would take -1e-3 for an option; "--lr=-1e-3" is not
        if argv[i].startswith("--") and "=" not in argv[i] and re.fullmatch(r"-[\d.]+(e[-+]?\d+)?", argv[i + 1]):
            argv[i], argv[i + 1] = f"{argv[i]}={argv[i + 1]}", ""
    args = ap.parse_args([a for a in argv if a != ""])
    return config_cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in vars(args).items()})


def flag(name, value):
    """How a config field reads on the command line: `--lr nan`, `--betas 1.5 0.9`."""
    v = " ".join(f"{x:g}" for x in value) if isinstance(value, (tuple, list)) else value
    return f"--{name.replace('_', '-')} {v}"


def must(cfg, rule, *names):
    """Check flags one at a time against `rule`; the first that breaks it is named with its value (UserError).

    Rules: ">= 0", "> 0", ">= 1", "in [0, 1)", "in (0, 1]"; a tuple flag's every number must keep the rule."""
    ok = {">= 0": lambda v: v >= 0, "> 0": lambda v: v > 0, ">= 1": lambda v: v >= 1,
          "in [0, 1)": lambda v: 0 <= v < 1, "in (0, 1]": lambda v: 0 < v <= 1}[rule]
    for n in names:
        v = getattr(cfg, n)
        if not all(ok(x) for x in (v if isinstance(v, (tuple, list)) else (v,))):
            raise UserError(f"{flag(n, v)}: must be {rule}")


SEED_MAX = 2**32 - 1  # numpy's seeds are 32-bit
D_STEPS_MAX = 10000  # discriminator steps per generator step: the papers use 1-100


def check_flags(cfg):
    """What every script's flags must be, checked before anything runs, one flag at a time: every number finite,
    Adam's betas in [0, 1) and eps > 0, the seed in [0, 2^32 - 1], a device torch knows."""
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        nums = v if isinstance(v, (tuple, list)) else (v,)
        if any(isinstance(x, float) and not math.isfinite(x) for x in nums):
            raise UserError(f"{flag(f.name, v)}: must be a finite number")
    if hasattr(cfg, "betas"):
        must(cfg, "in [0, 1)", "betas")
    if hasattr(cfg, "adam_eps"):
        must(cfg, "> 0", "adam_eps")
    if hasattr(cfg, "seed") and not 0 <= cfg.seed <= SEED_MAX:
        raise UserError(f"{flag('seed', cfg.seed)}: must be in [0, {SEED_MAX}]")
    if hasattr(cfg, "device"):
        pick_device(cfg.device, check_only=True)


def cli(train, cfg, resumable=True):
    """Run `train(cfg)`; a UserError or a NaN loss becomes one line on stderr and exit code 1, Ctrl-C exit 130
    (saying how to continue: --resume, unless `resumable` is False).

    A closed pipe on stdout (`... --list | head -1`) ends the command quietly."""
    try:
        if dataclasses.is_dataclass(cfg):
            check_flags(cfg)
        return train(cfg)
    except (UserError, NonFiniteLoss) as e:
        print(f"error: {e}{make_hint(str(e))}", file=sys.stderr)
        sys.exit(1)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit's flush
        sys.exit(0)
    except KeyboardInterrupt:
        print(f"\ninterrupted: the same command with --resume continues from the last checkpoint in {cfg.out}"
              if resumable and hasattr(cfg, "out") else "\ninterrupted: the same command runs it again from the start",
              file=sys.stderr)
        sys.exit(130)


# --------------------------------------------------------------------------
# The device (seeds, RNG states and checkpoints: runfiles.py)
# --------------------------------------------------------------------------


def pick_device(name="auto", check_only=False):
    """'auto' is cuda when available, else cpu; 'cpu', 'cuda' and 'cuda:N' are passed to torch."""
    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", name):
        raise UserError(f"--device {name}: choose auto, cpu, cuda or cuda:N")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"--device {name} was asked for but CUDA is not available; use --device cpu")
    if name.startswith("cuda:") and int(name[5:]) >= torch.cuda.device_count():
        raise UserError(f"--device {name}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    if check_only:
        return None
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


# --------------------------------------------------------------------------
# The run harness
# --------------------------------------------------------------------------


class Run:
    """One training run: seeding, data, run folder, resume, logging, checkpoints and the final evaluation."""

    def __init__(self, cfg, label, prior="normal"):
        check_flags(cfg)
        if cfg.d_steps > D_STEPS_MAX:
            raise UserError(f"--d-steps {cfg.d_steps}: at most {D_STEPS_MAX} (one generator step would take hours "
                            "and print nothing)")
        small = [f"--{k.replace('_', '-')} {getattr(cfg, k)}" for k, least in [
            ("steps", 1), ("d_steps", 0), ("batch_size", 2), ("diag_batches", 1), ("log_every", 1),
            ("sample_every", 1), ("ckpt_every", 1), ("eval_samples", 0), ("width", 0), ("z_dim", 0),
            ("image_size", 0), ("scale", 1e-12), ("fid_samples", 0), ("crop", 0), ("threads", 0)] if getattr(cfg, k) < least]
        if cfg.d_norm not in ("auto", "batch", "layer", "none"):
            raise UserError(f"--d-norm must be auto, batch, layer or none, got {cfg.d_norm!r}")
        if cfg.fid_ref not in ("train", "test") or (cfg.fid_ref == "test" and cfg.dataset not in ("mnist", "cifar10")):
            raise UserError(f"--fid-ref must be train, or test on mnist and cifar10, got {cfg.fid_ref!r}")
        if small:
            raise UserError(f"{', '.join(small)}: too small (steps, diag-batches and the every-N flags must be "
                            ">= 1, batch-size >= 2, scale > 0, the others >= 0)")
        if prior not in PRIORS:
            raise UserError(f"the latent prior must be one of {', '.join(PRIORS)}, got {prior!r}")
        self.device = pick_device(cfg.device)
        cuda_defaults(self.device, cfg.tf32)
        created = prepare_out(cfg)  # before the data and the nets are built
        self.cfg, self.label, self.prior = cfg, label, prior
        seed_everything(cfg.seed)
        try:
            self.data = datasets.load(cfg.dataset, cfg.data_root, self.device, cfg.image_size or None, cfg.scale,
                                      cfg.stand_in, download=cfg.download, digit_weights=cfg.digit_weights,
                                      crop=cfg.crop or None)
            if cfg.fid_samples and self.data.kind != "image":
                raise UserError(f"--fid-samples scores image sets; {cfg.dataset} is a toy set")
            # --fid-ref test: loaded now, so that a missing test split stops the run before it trains
            self.fid_real = datasets.load(cfg.dataset, cfg.data_root, self.device, cfg.image_size or None,
                                          split="test", download=cfg.download) \
                if cfg.fid_samples and cfg.fid_ref == "test" else None
        except BaseException:  # a failed start leaves no empty run folder behind
            release_out(cfg.out, created)
            raise
        self.z_dim = cfg.z_dim or (2 if self.data.kind == "toy" else 100)
        threads = cpu_threads(cfg.threads, self.data.kind == "toy" or self.data.shape[-1] <= 16)
        if threads:
            torch.set_num_threads(threads)
        # What ran, for config.json; a method adds what its own defaults resolved to (run.resolved.update).
        module = sys.modules[type(cfg).__module__]  # methods.<name>, also when run as __main__
        self.resolved = {"script": module.__spec__.name if getattr(module, "__spec__", None) else module.__name__,
                         "device": str(self.device), "torch": torch.__version__, "threads": torch.get_num_threads(),
                         "z_dim": self.z_dim, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
                         "device_name": torch.cuda.get_device_name(self.device) if self.device.type == "cuda" else cpu_name()}
        # Fixed noise for sample figures, from its own generator: it does not move the training RNG.
        n = max(64, cfg.eval_samples if self.data.kind == "toy" else 64)
        self.z_fixed = latent(n, self.z_dim, "cpu", prior, torch.Generator().manual_seed(cfg.seed + 1)).to(self.device)

    def noise(self, n=None):
        """A batch of latent codes: z ~ N(0, I), or U[0, 1]^z_dim with the uniform prior."""
        return latent(n or self.cfg.batch_size, self.z_dim, self.device, self.prior)

    def make_nets(self, d_norm=None, **kw):
        """G and D for the data set, on the device (see `make_nets`); the resolved D normalization goes to config.json."""
        g, d, self.resolved["d_norm"] = make_nets(self.cfg, self.data, self.z_dim, d_norm, **kw)
        return g.to(self.device), d.to(self.device)

    def begin(self, eager=(), **modules):
        """Open the run folder, resume from its checkpoint if --resume; returns the first step.

        `modules`: every network and optimizer, by name; `g` and `d` are the
        generator and the discriminator the diagnostics and figures look at.
        --compile compiles every network but those named in `eager`.
        """
        self.modules, self.g, self.d = modules, modules["g"], modules["d"]
        self.guard = FiniteGuard(lambda: f"the last good checkpoint (step {self.saved}) is {self.ckpt}" if self.saved
                                 else "no checkpoint yet")
        if self.cfg.compile:
            self.resolved["compiled"] = sorted(k for k, m in modules.items() if isinstance(m, nn.Module) and k not in eager)
            compile_nets([modules[k] for k in self.resolved["compiled"]], self.device)
        self.ckpt = Path(self.cfg.out) / "checkpoint.pt"
        start, seconds = 0, 0.0
        if self.cfg.resume and self.ckpt.exists():
            start, extra = load_checkpoint(self.ckpt, modules, self.device, self.cfg, self.resolved["script"])
            if start > self.cfg.steps:
                raise UserError(f"--resume: {self.ckpt} is at step {start}, past --steps {self.cfg.steps}; give "
                                f"--steps {start} or more (a shorter run is another --out)")
            seconds = extra["seconds"]
            print(f"resumed from {self.ckpt} at step {start}")
        elif self.cfg.resume:
            print(f"note: --resume: no checkpoint at {self.ckpt}; starting from step 0")
        self.dir = RunDir(self.cfg.out, self.cfg, start, self.resolved)
        self.progress = Progress(self.cfg.steps, start, name=f"[{self.label}] ")
        ratio = self.resolved.get("d_steps", self.cfg.d_steps)  # a method's own default resolved (baselines: 0)
        print(f"[{self.label}] {self.cfg.out}: from step {start} to {self.cfg.steps}, {ratio} D step(s) per G step, "
              f"on {self.device}", flush=True)
        self.t0, self.saved = time.time() - seconds, start
        return start

    def nets(self):
        return [m for m in self.modules.values() if isinstance(m, nn.Module)]

    def end_step(self, done, losses, **extra):
        """After generator update `done`: the NaN guard on every loss, then the metrics line, samples and checkpoint
        when due. Losses and `extra` numbers may be tensors: they reach the host (a GPU sync) only when a line is
        printed or logged or a checkpoint written, and the guard is checked then (FiniteGuard)."""
        cfg = self.cfg
        self.guard.add(done, losses)
        log, ckpt = done % cfg.log_every == 0 or done == cfg.steps, done % cfg.ckpt_every == 0 or done == cfg.steps
        if log or ckpt or self.progress.due():
            self.guard.check()
            values = {k: float(v.detach() if torch.is_tensor(v) else v) for k, v in losses.items()}
            self.progress.update(done, **values)  # prints every few seconds, with the ETA
        if log:
            with diagnostic_mode(*self.nets()):
                reals = [self.data.sample(cfg.batch_size) for _ in range(cfg.diag_batches)]
                fakes = [self.g(self.noise()).detach() for _ in range(cfg.diag_batches)]
                diag = metrics.d_diagnostics(self.d, reals, fakes)
            self.dir.log(done, **values, **{k: float(v) for k, v in extra.items()}, **diag)
        if done % cfg.sample_every == 0:
            self.save_samples(self.dir / f"samples_{done}.png")
        if ckpt:
            save_checkpoint(self.ckpt, done, self.modules,
                            {"seconds": time.time() - self.t0, "config": json.loads(json.dumps(dataclasses.asdict(cfg))),
                             "script": self.resolved["script"]})
            self.saved = done
            self.dir.record()

    def save_samples(self, path, real=None):
        """The fixed-noise samples as a figure, inside `diagnostic_mode` (no RNG or BatchNorm side effect)."""
        with diagnostic_mode(self.g), torch.no_grad():
            x = self.g(self.z_fixed).cpu()
            real = None if self.data.kind == "image" else (self.data.sample(1000) if real is None else real).cpu()
        figures.plot_samples(path, x, real, getattr(self.data, "centers", None))

    def finish(self, extra_metrics=None, **labels):
        """Final figures and summary.json; returns the summary.

        D's outputs and diagnostics are taken on `diag_batches` real and
        generated batches (of `batch_size` images, or at least 1,000 toy
        samples); `extra_metrics(reals, fakes)` may add numbers from the same
        batches. Toy sets get the mode metrics on `eval_samples` fixed-noise
        samples, labelled image sets the MODE score of `eval_samples` samples.
        """
        cfg, data, g, d, run = self.cfg, self.data, self.g, self.d, self.dir
        seconds = time.time() - self.t0
        n = cfg.batch_size if data.kind == "image" else max(cfg.batch_size, 1000)
        with diagnostic_mode(*self.nets()):
            reals = [data.sample(n) for _ in range(cfg.diag_batches)]
            fakes = [g(self.noise(n)).detach() for _ in range(cfg.diag_batches)]
            self.save_samples(run / "samples_final.png", reals[0])
            with torch.no_grad():
                out_r = torch.cat([d(x) for x in reals]).cpu().numpy()
                out_f = torch.cat([d(x) for x in fakes]).cpu().numpy()
            diag = metrics.d_diagnostics(d, reals, fakes)
            diag.update(extra_metrics(reals, fakes) if extra_metrics else {})
            if data.kind == "toy" and data.shape[0] == 2:
                figures.plot_d_surface(run / "d_surface.png", d, reals[0].cpu().numpy(), fakes[0].cpu().numpy(),
                                       self.device, title=f"{self.label}: D's output and input gradient")
            with torch.no_grad():
                xs = g(self.z_fixed[: cfg.eval_samples]).cpu().numpy() if data.kind == "toy" else None
            scored = data.kind == "image" and cfg.eval_samples > 0  # --eval-samples 0: no final metrics
            imgs = generate(g, cfg.eval_samples, cfg.batch_size, self.z_dim, self.device, self.prior) if scored else None
        np.savez(run / "d_outputs.npz", real=out_r, fake=out_f)
        figures.plot_hist_grid(run / "d_hist.png", [[(out_r, out_f)]], col_labels=[f"{self.label}: D raw output"])
        figures.plot_grad_norm_history(run / "grad_norm.png", run.metrics(), self.label)
        summary = {"steps": cfg.steps, "seconds": round(seconds, 2), "device": str(self.device),
                   "dataset": cfg.dataset, **labels, **diag}
        if data.kind == "toy" and getattr(data, "centers", None) is not None and cfg.eval_samples > 0:
            summary.update(metrics.toy_metrics(xs, data.centers, data.std, data.weights))
        if imgs is not None:  # 100,000 stacked samples take minutes: say so
            t = time.time()
            print(f"[{self.label}] scoring {len(imgs):,} samples", flush=True)
            summary.update(metrics.image_scores(data, imgs, cfg.data_root))
            print(f"[{self.label}] scored in {time.time() - t:.0f} s", flush=True)
        if cfg.fid_samples:
            summary.update(self.fidelity(cfg.fid_samples))
        run.summary(**summary)
        release_out(cfg.out)
        print(f"done: {run.path}/summary.json")
        return summary


    def fidelity(self, n):
        """FID, IS and KID (metrics.fidelity) of n samples against n real images (--fid-ref); its own RNG stream.

        Without torch-fidelity or the Inception weights: one line, and the summary says why there is no FID.
        """
        cfg = self.cfg
        real = self.data if self.fid_real is None else self.fid_real
        if getattr(real, "images", None) is not None and len(real.images) < n:
            print(f"note: {cfg.dataset} {cfg.fid_ref} has {len(real.images)} images: the FID compares {n} samples "
                  f"with all {len(real.images)}", file=sys.stderr)
        try:
            with diagnostic_mode(self.g):  # puts every RNG state back: scoring never moves a run
                torch.manual_seed(cfg.seed + 2)
                fake = generate(self.g, n, cfg.batch_size, self.z_dim, self.device, self.prior)[:n]
            scores = metrics.fidelity(fake, metrics.reference_images(real, n, cfg.seed), cfg.inception_weights,
                                      self.device)
        except metrics.FidelityUnavailable as e:
            print(f"note: no FID, IS or KID: {e}", file=sys.stderr)
            return {"fidelity": {"skipped": str(e)}}
        scores["fidelity"]["reference"] = f"{cfg.dataset} {cfg.fid_ref}"
        return scores


def make_nets(cfg, data, z_dim, d_norm=None, arch="dcgan", act=None, g_batch_norm=None):
    """G and D for a data set: 2x`width` MLPs for vectors, DCGANs (or `arch="resnet"`, `"carpedm20"`, `"grewal"`: the
    VRAL authors' 28 px MNIST nets, with their own initialisation) for images.

    D's normalization: --d-norm if given, else the method's `d_norm`, else
    BatchNorm as --batch-norm says; G's BatchNorm: `g_batch_norm`, else
    --batch-norm. `act`: the hidden activation (relu | lrelu | tanh; None:
    relu for MLPs and the DCGAN generator, leaky ReLU for the DCGAN D).
    Returns (g, d, the D normalization used).
    """
    d_norm = cfg.d_norm if cfg.d_norm != "auto" else d_norm or ("batch" if cfg.batch_norm else "none")
    g_bn = cfg.batch_norm if g_batch_norm is None else g_batch_norm
    if data.kind == "toy":
        act = act or "relu"
        return (MLPGenerator(z_dim, data.shape, cfg.width or 128, act=act),
                MLPDiscriminator(data.shape, cfg.width or 128, act=act), "none (MLP)")
    c, h, _ = data.shape
    try:
        if arch == "resnet":
            g, d = ResNetGenerator(z_dim, h, c, cfg.width or 64, g_bn), ResNetDiscriminator(h, c, cfg.width or 64, d_norm)
        elif arch == "grewal":
            if (h, c) != (28, 1):
                raise ValueError(f"the VRAL authors' MNIST nets take 28 px grey images (--image-size 28), got {c} x {h} px")
            g = GrewalGenerator(z_dim, c, cfg.width or 64, g_bn)
            d = GrewalDiscriminator(c, cfg.width or 64, d_norm)
        elif arch == "carpedm20":
            g = Carpedm20Generator(z_dim, h, c, cfg.width or 64, g_bn, act or "relu")
            d = Carpedm20Discriminator(h, c, cfg.width or 64, d_norm, act or "lrelu")
        else:
            g = DCGANGenerator(z_dim, h, c, cfg.width or 64, g_bn, act or "relu")
            d = DCGANDiscriminator(h, c, cfg.width or 64, d_norm, act or "lrelu")
    except ValueError as e:
        raise UserError(f"--image-size: {e}") from None
    if arch not in ("resnet", "grewal"):
        dcgan_init(g)
        dcgan_init(d)
    return g, d, d_norm
