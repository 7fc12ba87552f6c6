"""The run folder on disk, and the error a script stops with: what data.py, figures.py and the harness share.

Imports nothing of this project's, so that the lower files (data.py, figures.py, metrics.py) can use it without
importing the harness (common.py, which re-exports every name here).

    UserError, NonFiniteLoss          one `error:` line and exit 1 (common.cli)
    write_json, read_jsonl            atomic JSON files, metrics.jsonl
    seed_everything, diagnostic_mode  one seed for python, numpy and torch; measuring without moving an RNG
    save_checkpoint, load_checkpoint  models, optimizers, step and every RNG state, written atomically
    check_finite, FiniteGuard         the NaN guard (FiniteGuard: on the device, one host sync per check)
    prepare_out, lock_out, RunDir     the run folder: --resume / --overwrite, the lock, the manifest of its files
    Progress                          the log line every few seconds: steps/s and ETA
    cpu_name, cpu_threads             the host: its CPU, and how many threads a run takes of it
"""

import dataclasses
import json
import math
import os
import platform
import random
import re
import time
from pathlib import Path

import numpy as np
import torch

class UserError(Exception):
    """An error the user can fix (missing data set, bad flag value): one line, exit 1."""


class NonFiniteLoss(Exception):
    """A loss became NaN or inf; the last good checkpoint is kept."""


# The make variables that set a script's flags: under make (MAKELEVEL is set), an error naming the flag names them too.
MAKE_VARS = {"--data-root": "DATA", "--out": "OUT", "--device": "DEVICE", "--seed": "SEED"}


def make_hint(message):
    if not os.environ.get("MAKELEVEL"):
        return ""
    named = [f"{f} is {v}=" for f, v in MAKE_VARS.items() if re.search(re.escape(f) + r"\b", message)]
    return f" (under make: {', '.join(named)})" if named else ""


def cpu_name():
    """The CPU's model name (Linux: /proc/cpuinfo), else platform's word for it. Beside torch's CPU capability (AVX2,
    AVX512) in config.json: float results on the CPU differ, in the last bits, between the kernels each one picks."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_threads(asked, small, env=os.environ):
    """How many CPU threads a run takes (None: leave torch's default). `--threads` if given; the user's
    OMP_NUM_THREADS if set (torch already follows it); one for small nets (toy MLPs, images of 16 px or less), which
    gain nothing from more and lose much on a busy machine; under `make -j N` (MAKEFLAGS carries -jN to every
    recipe) torch's default shared N ways, one each under a bare -j; else torch's default."""
    if asked or env.get("OMP_NUM_THREADS"):
        return asked or None
    jobs = re.search(r"(?:^|\s)-j(\d*)(?=\s|$)", env.get("MAKEFLAGS", ""))
    if small or (jobs and not jobs.group(1)):
        return 1
    return max(1, torch.get_num_threads() // int(jobs.group(1))) if jobs else None


def seed_everything(seed):
    """One call seeds python, numpy and torch (CPU and every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def rng_state():
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state):
    """Restore `rng_state()`. torch wants CPU byte tensors: a checkpoint loaded with map_location="cuda" has the
    states on the GPU, hence .cpu()."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def save_checkpoint(path, step, modules, extra=None):
    """Write models, optimizers, step and every RNG state atomically (temp file, then rename)."""
    state = {"step": step, "rng": rng_state(), "extra": extra or {},
             "modules": {k: m.state_dict() for k, m in modules.items()}}
    tmp = Path(str(path) + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


# Config fields a resumed run may change: how long it runs, where and how often it reports, how fast it computes.
RESUMABLE = {"steps", "resume", "overwrite", "out", "device", "data_root", "log_every", "sample_every", "ckpt_every",
             "eval_samples", "diag_batches", "download", "fid_samples", "fid_ref", "inception_weights", "tf32", "compile"}


def load_checkpoint(path, modules, device, cfg=None, script=None):
    """Restore what `save_checkpoint` wrote into `modules`; returns (step, extra).

    With `cfg`, the checkpoint's config (extra["config"]) must agree with it on
    every field but RESUMABLE (and --data-root of an image folder, which is
    the data): nothing is restored otherwise. With `script`, it must have
    been written by that method script.
    """
    try:
        state = torch.load(path, map_location=device, weights_only=False)
    except Exception as e:  # truncated or not a checkpoint: torch raises several kinds
        raise UserError(f"cannot read {path} ({type(e).__name__}: {e}); delete it or run without --resume") from None
    saved = state["extra"].get("config")
    if cfg is not None and saved is not None:
        now = dataclasses.asdict(cfg)
        other = state["extra"].get("script")  # (checkpoints from before scripts were named: the diff says it)
        if script and other and other != script:
            raise UserError(f"--resume: {path} was written by {other}, not {script}; resume it with {other}, or "
                            "choose another --out")
        fixed = RESUMABLE - ({"data_root"} if cfg.dataset == "folder" else set())
        diff = [f"--{k.replace('_', '-')} {saved[k]!r} there, {now.get(k)!r} here" for k in saved
                if k not in fixed and json.loads(json.dumps(now.get(k))) != saved[k]]
        if diff:
            raise UserError(f"--resume: {path} was written by another run configuration ({'; '.join(diff)}); "
                            "resume with its settings, or choose another --out")
    missing = set(modules) - set(state["modules"])
    if missing:
        raise UserError(f"{path} holds no state for {sorted(missing)}: was it written by another method?")
    for k, m in modules.items():
        m.load_state_dict(state["modules"][k])
    set_rng_state(state["rng"])
    return state["step"], state["extra"]


def check_finite(step, **losses):
    """Stop the run (NonFiniteLoss) when a loss is NaN or inf, naming the step and the loss."""
    for name, v in losses.items():
        if not math.isfinite(float(v)):
            raise NonFiniteLoss(f"{name} = {float(v)} at step {step}")


class FiniteGuard:
    """The NaN guard without a host sync per step: `add` keeps, on the losses' device, the first step at which a
    loss was NaN or inf and that step's losses; `check` brings them to the host (one sync) and raises NonFiniteLoss
    naming that step and that loss, followed by "; stopped, " and `kept()` (what the run keeps). The harness checks
    before every line it prints or logs and before every checkpoint, so a GPU run never waits on the host between
    two of them and no checkpoint is written after a nonfinite loss. Python numbers are checked at once."""

    def __init__(self, kept=lambda: "no checkpoint yet"):
        self.kept, self.names, self.first = kept, (), None  # first: [step, losses...] of the first nonfinite step

    def add(self, step, losses):
        host = {k: float(v) for k, v in losses.items() if not torch.is_tensor(v)}
        if not all(math.isfinite(v) for v in host.values()):
            self.check()  # an earlier step's NaN is named first
            self.stop(step, host)
        tensors = {k: v.detach().reshape(()).double() for k, v in losses.items() if torch.is_tensor(v)}
        if not tensors:
            return
        if tuple(tensors) != self.names:  # another set of losses: settle the old one first
            self.check()
            self.names, self.first = tuple(tensors), None
        values = torch.stack(list(tensors.values()))
        row = torch.cat([torch.full((1,), float(step), dtype=values.dtype, device=values.device), values])
        if self.first is None:
            self.first = torch.zeros_like(row)  # step 0: none yet (steps count from 1)
        new = ~torch.isfinite(values).all() & (self.first[0] == 0)
        self.first = torch.where(new, row, self.first)

    def check(self):
        if self.first is not None:
            step, *values = self.first.tolist()  # the one host sync
            if step:
                self.stop(int(step), dict(zip(self.names, values)))

    def stop(self, step, values):
        try:
            check_finite(step, **values)
        except NonFiniteLoss as e:
            raise NonFiniteLoss(f"{e}; stopped, {self.kept()}") from None


class diagnostic_mode:
    """Measure without side effects: RNG states and BatchNorm running statistics are restored on exit.

    Logging then draws its own batches without changing the training
    trajectory: the same seed gives the same run whatever `--log-every` is.
    """

    def __init__(self, *modules):
        self.modules = modules

    def __enter__(self):
        self.rng = rng_state()
        self.buffers = [{k: b.clone() for k, b in m.named_buffers()} for m in self.modules]
        return self

    def __exit__(self, *exc):
        set_rng_state(self.rng)
        for m, saved in zip(self.modules, self.buffers):
            for k, b in m.named_buffers():
                b.copy_(saved[k])
        return False


# --------------------------------------------------------------------------
# The run folder
# --------------------------------------------------------------------------


# What a run writes into its folder. A run lists its own files in MANIFEST (written with every checkpoint and the
# summary); --overwrite deletes those and nothing else. A folder from before the manifest existed falls back to
# these names, every one of which some script writes.
MANIFEST = ".run-files.json"
RUN_FILES = ("config.json", "metrics.jsonl", "summary.json", "checkpoint.pt", "checkpoint.pt.tmp", "samples_*.png",
             "d_hist.png", "d_surface.png", "grad_norm.png", "d_outputs.npz", "snapshot_*.npz", "snapshots.png",
             "modes_over_time.png", "field_*.npz", "gradient_fields.png", "heat_*.npz", "heatmaps.png",
             "missing_sigma*.png", "g_step*.pt", "d_error.png", "d_accuracy.png", "grad_minimax.png",
             "grad_nonsaturating.png", "noise_grad_minimax.png", "noise_d_error.png", MANIFEST)


def run_files(out):
    """The names of the files a run wrote in `out`: its manifest's list, else the RUN_FILES names present."""
    out = Path(out)
    try:
        listed = json.loads((out / MANIFEST).read_text())
        return {n for n in listed if (out / n).is_file()} | {MANIFEST}
    except (OSError, ValueError):
        return {f.name for pattern in RUN_FILES for f in out.glob(pattern) if f.is_file()}


# Run folders this process holds (path -> open lock file): a second process on the same --out stops at once.
_LOCKS = {}


def lock_out(out):
    """Hold `out/.lock` (an exclusive flock, released when the process ends, however it ends) for this run.

    The holder's pid is written in the file, so a second writer can say who holds it. In one process a new
    run on the same folder takes the lock over from the earlier one (which has ended or failed)."""
    import fcntl

    key = str(Path(out).resolve())
    if key in _LOCKS:
        _LOCKS.pop(key).close()
    f = open(Path(out) / ".lock", "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.seek(0)
        holder = f.read().strip() or "?"
        f.close()
        raise UserError(f"--out {out} is being written by another process (pid {holder}): wait for it to end, or "
                        "choose another --out") from None
    f.seek(0)
    f.truncate()
    f.write(f"{os.getpid()}\n")
    f.flush()
    _LOCKS[key] = f
    return f


def release_out(out, remove_if_empty=False):
    """Let go of `out`'s lock; with `remove_if_empty`, remove a folder this run created and left empty."""
    f = _LOCKS.pop(str(Path(out).resolve()), None)
    if f is not None:
        (Path(out) / ".lock").unlink(missing_ok=True)  # ours: nobody else can hold it
        f.close()
    if remove_if_empty and Path(out).is_dir() and not any(Path(out).iterdir()):
        Path(out).rmdir()


def prepare_out(cfg):
    """--out must be a folder we may write, and may hold a run only if --resume or --overwrite says what to do with it.

    Returns True when this call created the folder (a failed start removes it again: Run.__init__)."""
    out = Path(cfg.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file, not a folder")
    finished, ckpt = (out / "summary.json").exists(), (out / "checkpoint.pt").exists()
    if cfg.resume and finished and not ckpt and not cfg.overwrite:
        raise UserError(f"--out {out} holds a finished run without checkpoint.pt: --resume cannot continue it and "
                        "would train it again from step 0; --overwrite replaces it (deleting its files), or choose "
                        "another --out")
    replace = (finished or ckpt) and (not cfg.resume or (cfg.overwrite and finished and not ckpt))
    if replace and not cfg.overwrite:
        raise UserError(f"--out {out} holds a run already: --resume continues it, --overwrite replaces it "
                        "(deleting its files), or choose another --out")
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create --out {out}: {e.strerror}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise UserError(f"cannot write in --out {out}: permission denied; choose another --out")
    lock_out(out)
    if replace:
        for name in run_files(out):
            (out / name).unlink()
    return created


class RunDir:
    """`runs/<name>/`: config.json, metrics.jsonl, summary.json, samples, figures, checkpoint.pt.

    `resume_step` is the step of the checkpoint being resumed from (or 0):
    metric lines logged after it are dropped, so a resumed run's log has no
    duplicate or orphan steps. config.json holds the config as given and,
    under "resolved", what the defaults (auto, 0, empty) stood for.
    """

    def __init__(self, out, cfg, resume_step=0, resolved=None):
        self.path = Path(out)
        self.path.mkdir(parents=True, exist_ok=True)
        # what is in the folder and not the run's (the user's own files): never listed, never deleted
        self.others = {f.name for f in self.path.iterdir()} - run_files(self.path) - {".lock"}
        write_json(self.path / "config.json", {**dataclasses.asdict(cfg), "resolved": resolved or {}})
        keep = [r for r in read_jsonl(self.path / "metrics.jsonl") if r.get("step", 0) <= resume_step] if resume_step else []
        (self.path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in keep))

    def __truediv__(self, name):
        return self.path / name

    def log(self, step, **metrics):
        with open(self.path / "metrics.jsonl", "a") as f:
            f.write(json.dumps({"step": step, **metrics}) + "\n")

    def metrics(self):
        return read_jsonl(self.path / "metrics.jsonl")

    def summary(self, **metrics):
        write_json(self.path / "summary.json", metrics)
        self.record()
        return metrics

    def record(self):
        """Write the manifest: every file in the folder that the run wrote (--overwrite deletes those only)."""
        names = {f.name for f in self.path.iterdir() if f.is_file()} - self.others - {".lock", MANIFEST}
        write_json(self.path / MANIFEST, sorted(names))


def write_json(path, obj):
    """Atomically: a temp file, then a rename."""
    tmp = Path(str(path) + ".tmp")
    default = lambda o: o.item() if isinstance(o, (np.floating, np.integer)) else str(o)
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=default) + "\n")
    os.replace(tmp, path)


def read_jsonl(path):
    path = Path(path)
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()] if path.exists() else []


class Progress:
    """A log line every `every` seconds: step/total, steps/s, ETA and the given numbers."""

    def __init__(self, total, start=0, every=5.0, name=""):
        self.total, self.start, self.every, self.name = total, start, every, name
        self.t0 = self.last = time.time()

    def due(self):
        return time.time() - self.last >= self.every

    def update(self, step, force=False, **info):
        now = time.time()
        if not force and now - self.last < self.every:
            return
        self.last = now
        rate = (step - self.start) / max(now - self.t0, 1e-9)
        eta = (self.total - step) / rate if rate > 0 else float("inf")
        eta = "?" if not math.isfinite(eta) else f"{int(eta) // 3600}:{int(eta) // 60 % 60:02d}:{int(eta) % 60:02d}"
        extra = " ".join(f"{k} {v:.4g}" for k, v in info.items())
        print(f"{self.name}step {step}/{self.total}  {rate:.1f} steps/s  ETA {eta}  {extra}", flush=True)
