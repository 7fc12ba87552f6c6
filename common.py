"""Small helpers shared by every method script.

Nothing here is a GAN method: networks (MLP, DCGAN), seeding, device choice,
the run folder (config.json, metrics.jsonl, summary.json, sample grids),
atomic checkpoints, a NaN/inf guard, progress with an ETA, the discriminator
diagnostics several papers plot, and the plot helpers for their figures.

`python -m common compare RUN_DIR...` prints a table of the runs'
summary.json files and writes a side-by-side figure of their samples.
"""

import argparse
import dataclasses
import json
import math
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

# --------------------------------------------------------------------------
# Errors a run reports as one short message (no traceback), see `cli`.
# --------------------------------------------------------------------------


class UserError(Exception):
    """An error the user can fix (missing data set, bad flag value)."""


class NonFiniteLoss(Exception):
    """A loss became NaN or inf; the last good checkpoint is kept."""


def cli(train, cfg):
    """Run `train(cfg)` and turn the errors above into a message and exit 1."""
    try:
        return train(cfg)
    except (UserError, NonFiniteLoss) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)


def parse_config(config_cls, doc, help_overrides=None, argv=None):
    """The command line for a dataclass config: one `--flag` per field.

    A field's help is its trailing `# comment` in the class (or
    `help_overrides[name]`); booleans get `--x/--no-x`, tuples take several
    numbers. Returns a `config_cls` instance.
    """
    import inspect
    import re
    comments = dict(re.findall(r"^\s+(\w+):[^#\n]*#\s*(.*)$", inspect.getsource(config_cls), re.M))
    comments.update(help_overrides or {})
    ap = argparse.ArgumentParser(description=doc.strip().split("\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    for f in dataclasses.fields(config_cls):
        flag, help_ = "--" + f.name.replace("_", "-"), comments.get(f.name, "")
        if isinstance(f.default, bool):
            ap.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default, help=help_)
        elif isinstance(f.default, tuple):
            ap.add_argument(flag, type=float, nargs="*", default=f.default, help=help_)
        else:
            ap.add_argument(flag, type=type(f.default), default=f.default, help=help_)
    args = ap.parse_args(argv)
    return config_cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in vars(args).items()})


# --------------------------------------------------------------------------
# Seeding and device
# --------------------------------------------------------------------------


def seed_everything(seed):
    """One call seeds python, numpy and torch (CPU and every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def pick_device(name="auto"):
    """'auto' is cuda when available, else cpu; anything else is passed to torch."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"--device {name} was asked for but CUDA is not available")
    return torch.device(name)


# --------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------

ACTIVATIONS = {
    "relu": lambda: nn.ReLU(),
    "lrelu": lambda: nn.LeakyReLU(0.2),
    "tanh": lambda: nn.Tanh(),
}


def mlp(in_dim, out_dim, hidden=128, layers=2, act="relu"):
    """`layers` hidden layers of `hidden` units with activation `act`, linear output."""
    dims = [in_dim] + [hidden] * layers
    mods = []
    for a, b in zip(dims[:-1], dims[1:]):
        mods += [nn.Linear(a, b), ACTIVATIONS[act]()]
    mods.append(nn.Linear(dims[-1], out_dim))
    return nn.Sequential(*mods)


class MLPGenerator(nn.Module):
    """z -> x for vector data (toy sets); `shape` is the sample shape."""

    def __init__(self, z_dim, shape, hidden=128, layers=2, act="relu", out_tanh=False):
        super().__init__()
        self.z_dim, self.shape = z_dim, tuple(shape)
        self.net = mlp(z_dim, int(np.prod(shape)), hidden, layers, act)
        self.out_tanh = out_tanh

    def forward(self, z):
        x = self.net(z)
        x = torch.tanh(x) if self.out_tanh else x
        return x.view(len(z), *self.shape)


class MLPDiscriminator(nn.Module):
    """x -> one raw output (a logit, or a critic value) per sample, shape (B,)."""

    def __init__(self, shape, hidden=128, layers=2, act="relu"):
        super().__init__()
        self.net = mlp(int(np.prod(shape)), 1, hidden, layers, act)

    def forward(self, x):
        return self.net(x.flatten(1)).squeeze(1)


def _n_doublings(size):
    n = int(round(math.log2(size / 4)))
    if size not in (8, 16, 32, 64) or 4 * 2**n != size:
        raise UserError(f"DCGAN image size must be 8, 16, 32 or 64 px, got {size}")
    return n


class DCGANGenerator(nn.Module):
    """Radford et al. 2016 generator: z -> 4x4 -> ... -> size x size, tanh output.

    `width` is the channel count of the last hidden layer (64 in DCGAN);
    each earlier layer doubles it. BatchNorm after every layer but the last
    when `batch_norm`; activation `act` (DCGAN: relu).
    """

    def __init__(self, z_dim=100, size=32, channels=3, width=64, batch_norm=True, act="relu"):
        super().__init__()
        self.z_dim = z_dim
        n = _n_doublings(size)
        ch = width * 2 ** (n - 1)
        mods = [nn.ConvTranspose2d(z_dim, ch, 4, 1, 0, bias=not batch_norm)]
        for _ in range(n - 1):
            mods += [nn.BatchNorm2d(ch)] if batch_norm else []
            mods += [ACTIVATIONS[act](), nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=not batch_norm)]
            ch //= 2
        mods += [nn.BatchNorm2d(ch)] if batch_norm else []
        mods += [ACTIVATIONS[act](), nn.ConvTranspose2d(ch, channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*mods)

    def forward(self, z):
        return self.net(z.view(len(z), self.z_dim, 1, 1))


class DCGANDiscriminator(nn.Module):
    """Radford et al. 2016 discriminator: size x size -> ... -> 4x4 -> one raw output.

    BatchNorm in all but the first and last layer when `batch_norm`;
    activation `act` (DCGAN: leaky ReLU 0.2). The output is linear (a logit
    for the GAN losses, a critic value for WGAN): shape (B,).
    """

    def __init__(self, size=32, channels=3, width=64, batch_norm=True, act="lrelu"):
        super().__init__()
        n = _n_doublings(size)
        ch = width
        mods = [nn.Conv2d(channels, ch, 4, 2, 1), ACTIVATIONS[act]()]
        for _ in range(n - 1):
            mods += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=not batch_norm)]
            mods += [nn.BatchNorm2d(ch * 2)] if batch_norm else []
            mods += [ACTIVATIONS[act]()]
            ch *= 2
        mods += [nn.Conv2d(ch, 1, 4, 1, 0)]
        self.net = nn.Sequential(*mods)

    def forward(self, x):
        return self.net(x).flatten()


def dcgan_init(module):
    """DCGAN initialisation: conv weights N(0, 0.02), BatchNorm weights N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def make_nets(data, z_dim, arch="auto", width=None, batch_norm=True, g_act=None, d_act=None):
    """The generator and discriminator for a data set: MLPs for vectors, DCGANs for images.

    `arch` is 'mlp', 'dcgan' or 'auto' (mlp for toy data, dcgan for images).
    `width`: hidden units (MLP, default 128) or DCGAN base channels (default 64).
    """
    if arch == "auto":
        arch = "mlp" if data.kind == "toy" else "dcgan"
    if arch == "mlp":
        g = MLPGenerator(z_dim, data.shape, width or 128, 2, g_act or "relu",
                         out_tanh=data.kind == "image")
        d = MLPDiscriminator(data.shape, width or 128, 2, d_act or "relu")
        return g, d
    if arch == "dcgan":
        if data.kind != "image":
            raise UserError("--arch dcgan needs an image data set")
        c, h, w = data.shape
        g = DCGANGenerator(z_dim, h, c, width or 64, batch_norm, g_act or "relu")
        d = DCGANDiscriminator(h, c, width or 64, batch_norm, d_act or "lrelu")
        dcgan_init(g)
        dcgan_init(d)
        return g, d
    raise UserError(f"unknown --arch {arch!r} (mlp, dcgan or auto)")


# --------------------------------------------------------------------------
# Discriminator diagnostics (Arjovsky & Bottou Figs., VRAL Figs. 3-4)
# --------------------------------------------------------------------------


def input_grad_norm(d, x):
    """Per-sample L2 norm of the gradient of D's raw output w.r.t. its input, shape (B,).

    The gradient is flattened per sample before the norm (not a norm over
    dim=1 of an image gradient). D's parameters get no gradient.
    """
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(d(x).sum(), x)
    return g.flatten(1).norm(dim=1)


def d_diagnostics(d, reals, fakes):
    """D's raw output on real and generated batches, and its input-gradient norm on the generated ones.

    `reals`, `fakes`: a batch or a list of batches. Means and within-batch
    standard deviations are averaged over the batches; `grad_norm_fake` is the
    mean over all generated samples of ||grad_x D(x)|| (VRAL Fig. 4 averages
    over 50 batches).
    """
    reals = reals if isinstance(reals, (list, tuple)) else [reals]
    fakes = fakes if isinstance(fakes, (list, tuple)) else [fakes]
    with torch.no_grad():
        r = [d(x) for x in reals]
        f = [d(x) for x in fakes]
    gn = torch.cat([input_grad_norm(d, x) for x in fakes])
    avg = lambda outs, fn: float(np.mean([fn(o).item() for o in outs]))
    return {
        "d_real_mean": avg(r, torch.mean), "d_real_std": avg(r, torch.std),
        "d_fake_mean": avg(f, torch.mean), "d_fake_std": avg(f, torch.std),
        "grad_norm_fake": gn.mean().item(),
    }


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
# Run folder, checkpoints, NaN guard, progress
# --------------------------------------------------------------------------


class RunDir:
    """`runs/<name>/`: config.json, metrics.jsonl, summary.json, samples, figures, checkpoint.pt.

    `resume_step` is the step of the checkpoint being resumed from (or 0):
    metric lines logged after it are dropped so a resumed run's log has no
    duplicate or orphan steps.
    """

    def __init__(self, out, cfg, resume_step=0):
        self.path = Path(out)
        self.path.mkdir(parents=True, exist_ok=True)
        write_json(self.path / "config.json", dataclasses.asdict(cfg))
        log = self.path / "metrics.jsonl"
        lines = log.read_text().splitlines() if (resume_step and log.exists()) else []
        keep = [l for l in lines if l.strip() and json.loads(l).get("step", 0) <= resume_step]
        log.write_text("".join(l + "\n" for l in keep))

    def __truediv__(self, name):
        return self.path / name

    def log(self, step, **metrics):
        with open(self.path / "metrics.jsonl", "a") as f:
            f.write(json.dumps({"step": step, **metrics}) + "\n")

    def metrics(self):
        return read_jsonl(self.path / "metrics.jsonl")

    def summary(self, **metrics):
        write_json(self.path / "summary.json", metrics)
        return metrics


def write_json(path, obj):
    tmp = Path(str(path) + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")
    os.replace(tmp, path)


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o)}")


def read_jsonl(path):
    path = Path(path)
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()] if path.exists() else []


def rng_state():
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state):
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path, step, modules, extra=None):
    """Write models, optimizers, step and every RNG state atomically (temp file, then rename)."""
    state = {"step": step, "rng": rng_state(), "extra": extra or {},
             "modules": {k: m.state_dict() for k, m in modules.items()}}
    tmp = Path(str(path) + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path, modules, device):
    """Restore what `save_checkpoint` wrote into `modules`; returns (step, extra)."""
    state = torch.load(path, map_location=device, weights_only=False)
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
        v = float(v)
        if not math.isfinite(v):
            raise NonFiniteLoss(f"{name} = {v} at step {step}; stopped, the last good checkpoint is kept")


class Progress:
    """A log line every `every` seconds: step/total, steps/s, ETA and the given numbers."""

    def __init__(self, total, start=0, every=5.0, name=""):
        self.total, self.start, self.every, self.name = total, start, every, name
        self.t0 = self.last = time.time()

    def update(self, step, force=False, **info):
        now = time.time()
        if not force and now - self.last < self.every:
            return
        self.last = now
        rate = (step - self.start) / max(now - self.t0, 1e-9)
        eta = (self.total - step) / rate if rate > 0 else float("inf")
        extra = " ".join(f"{k} {v:.4g}" for k, v in info.items())
        print(f"{self.name}step {step}/{self.total}  {rate:.1f} steps/s  ETA {_hms(eta)}  {extra}", flush=True)


def _hms(s):
    if not math.isfinite(s):
        return "?"
    s = int(s)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


# --------------------------------------------------------------------------
# Plots (matplotlib, no screen)
# --------------------------------------------------------------------------


def plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot
    return matplotlib.pyplot


def save_image_grid(path, images, nrow=8):
    """A grid of images in [-1, 1] as one PNG."""
    import torchvision.utils as vutils
    vutils.save_image(images.detach().cpu().float(), path, nrow=nrow, normalize=True, value_range=(-1, 1), padding=1)


def _density_colour(x):
    """Each point's neighbour count on a 2-D histogram, for colouring scatter plots by density."""
    h, xe, ye = np.histogram2d(x[:, 0], x[:, 1], bins=60)
    ix = np.clip(np.searchsorted(xe, x[:, 0]) - 1, 0, 59)
    iy = np.clip(np.searchsorted(ye, x[:, 1]) - 1, 0, 59)
    return h[ix, iy]


def scatter_2d(ax, real, fake, centers=None, title=""):
    """Real points in grey, generated points coloured by density, mode centres as crosses."""
    ax.scatter(real[:, 0], real[:, 1], s=2, c="0.75", label="real")
    c = _density_colour(fake)
    order = np.argsort(c)
    ax.scatter(fake[order, 0], fake[order, 1], s=2, c=c[order], cmap="viridis", label="generated")
    if centers is not None:
        ax.scatter(centers[:, 0], centers[:, 1], marker="x", c="red", s=20, linewidths=1)
    lim = np.abs(real).max() * 1.3
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)


def plot_samples_2d(path, real, fake, centers=None, title=""):
    p = plt()
    fig, ax = p.subplots(figsize=(4, 4))
    scatter_2d(ax, real, fake, centers, title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    p.close(fig)


def plot_samples_3d(path, real, fake, title=""):
    """3-D scatter (Roth's sub-manifold toy): real in grey, generated in colour."""
    p = plt()
    fig = p.figure(figsize=(5, 5))
    ax = fig.add_subplot(projection="3d")
    ax.scatter(*real.T, s=2, c="0.7")
    ax.scatter(*fake.T, s=2, c=fake[:, 2], cmap="viridis")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    p.close(fig)


def save_samples(path, data, g, z, real=None):
    """The fixed-noise samples: an image grid for images; for toy data a scatter over `real` (default: 1,000 fresh real points).

    Inside `diagnostic_mode`: drawing the figure changes neither the RNG nor G's
    BatchNorm statistics, so `--sample-every` does not change a run.
    """
    with diagnostic_mode(g), torch.no_grad():
        x = g(z).cpu()
        real = None if data.kind == "image" else (data.sample(1000) if real is None else real).cpu().numpy()
    if data.kind == "image":
        save_image_grid(path, x[:64])
        return
    if x.shape[1] == 2:
        plot_samples_2d(path, real, x.numpy(), data.centers, path.stem)
    else:
        plot_samples_3d(path, real, x.numpy(), path.stem)


def generate(g, n, batch_size, z_dim, device):
    """At least n generated samples, drawn in batches of `batch_size` (BatchNorm sees batches of the training size)."""
    with torch.no_grad():
        return torch.cat([g(torch.randn(batch_size, z_dim, device=device)) for _ in range(math.ceil(n / batch_size))])


def plot_grad_norm_history(run, label):
    """`grad_norm.png`: the logged mean ||grad_x D(G(z))|| against generator steps (one run's VRAL Fig. 4 curve)."""
    rows = run.metrics()
    if rows:
        plot_curves(run / "grad_norm.png", {label: ([r["step"] for r in rows], [max(r["grad_norm_fake"], 1e-12) for r in rows])},
                    xlabel="generator step", ylabel="mean ||grad_x D(G(z))||")


def hist_real_fake(ax, real, fake, title="", bins=50):
    """Histogram of D's raw output on a real (blue) and a generated (orange) batch."""
    lo = min(real.min(), fake.min())
    hi = max(real.max(), fake.max())
    edges = np.linspace(lo, hi if hi > lo else lo + 1e-6, bins + 1)
    ax.hist(real, edges, alpha=0.6, label="real", color="tab:blue")
    ax.hist(fake, edges, alpha=0.6, label="generated", color="tab:orange")
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)


def plot_hist_grid(path, grid, row_labels=None, col_labels=None):
    """A grid of real/generated histograms; `grid[i][j]` is (real, fake) or None."""
    p = plt()
    rows, cols = len(grid), max(len(r) for r in grid)
    fig, axes = p.subplots(rows, cols, figsize=(2.6 * cols, 2.1 * rows), squeeze=False)
    for i in range(rows):
        for j in range(cols):
            ax = axes[i][j]
            cell = grid[i][j] if j < len(grid[i]) else None
            if cell is None:
                ax.axis("off")
                continue
            hist_real_fake(ax, np.asarray(cell[0]), np.asarray(cell[1]),
                           col_labels[j] if (col_labels and i == 0) else "")
            if row_labels and j == 0:
                ax.set_ylabel(row_labels[i])
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    p.close(fig)


def plot_curves(path, curves, xlabel="step", ylabel="", logy=True, title=""):
    """Lines, one per label: `curves[label] = (x, y)` or `(x, y, lo, hi)` with a shaded band."""
    p = plt()
    fig, ax = p.subplots(figsize=(5.5, 3.8))
    for label, c in curves.items():
        (line,) = ax.plot(c[0], c[1], label=label)
        if len(c) == 4:
            ax.fill_between(c[0], c[2], c[3], alpha=0.25, color=line.get_color())
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    p.close(fig)


def plot_d_surface(path, d, real, fake, device, extent=None, title="", n=80):
    """D's raw output on a 2-D grid as a colour map, its input gradient as arrows, samples on top."""
    if extent is None:
        extent = float(np.abs(real).max() * 1.3)
    xs = torch.linspace(-extent, extent, n)
    gx, gy = torch.meshgrid(xs, xs, indexing="xy")
    pts = torch.stack([gx.flatten(), gy.flatten()], 1).to(device).requires_grad_(True)
    out = d(pts)
    (grad,) = torch.autograd.grad(out.sum(), pts)
    v = out.detach().cpu().view(n, n).numpy()
    g = grad.cpu().view(n, n, 2).numpy()
    p = plt()
    fig, ax = p.subplots(figsize=(5, 4.3))
    im = ax.imshow(v, origin="lower", extent=(-extent, extent, -extent, extent), cmap="coolwarm")
    fig.colorbar(im, ax=ax, label="D raw output")
    k = max(n // 20, 1)
    ax.quiver(gx[::k, ::k].numpy(), gy[::k, ::k].numpy(), g[::k, ::k, 0], g[::k, ::k, 1], color="k", alpha=0.6)
    ax.scatter(real[:, 0], real[:, 1], s=1, c="0.3")
    ax.scatter(fake[:, 0], fake[:, 1], s=1, c="lime")
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    p.close(fig)


# --------------------------------------------------------------------------
# Comparing runs: `python -m common compare RUN_DIR... --out DIR`
# --------------------------------------------------------------------------


def summary_table(run_dirs, keys=None):
    """A Markdown table of the runs' summary.json: one row per run, one column per metric."""
    rows = [(Path(r).name, json.loads((Path(r) / "summary.json").read_text())) for r in run_dirs]
    if keys is None:
        keys = []
        for _, s in rows:
            keys += [k for k, v in s.items() if k not in keys and isinstance(v, (int, float, str))]
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else ("" if v is None else str(v))
    lines = ["| run | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    lines += ["| " + name + " | " + " | ".join(fmt(s.get(k)) for k in keys) + " |" for name, s in rows]
    return "\n".join(lines)


def compare_figure(path, run_dirs, image="samples_final.png"):
    """One panel per run: its final sample figure side by side."""
    p = plt()
    dirs = [Path(r) for r in run_dirs if (Path(r) / image).exists()]
    if not dirs:
        return None
    fig, axes = p.subplots(1, len(dirs), figsize=(3.2 * len(dirs), 3.4), squeeze=False)
    for ax, r in zip(axes[0], dirs):
        ax.imshow(p.imread(r / image))
        ax.set_title(r.name, fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    p.close(fig)
    return path


def main():
    ap = argparse.ArgumentParser(prog="python -m common", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compare", help="table of summary.json and a side-by-side sample figure")
    c.add_argument("runs", nargs="+", help="run folders holding summary.json")
    c.add_argument("--out", required=True, help="folder for comparison.md and comparison.png")
    c.add_argument("--keys", default=None, help="comma-separated summary keys (default: all numbers)")
    args = ap.parse_args()
    runs = [r for r in args.runs if (Path(r) / "summary.json").exists()]
    if not runs:
        sys.exit("error: none of the given folders holds a summary.json")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = summary_table(runs, args.keys.split(",") if args.keys else None)
    (out / "comparison.md").write_text(table + "\n")
    fig = compare_figure(out / "comparison.png", runs)
    print(table)
    print(f"\ntable:  {out / 'comparison.md'}")
    if fig:
        print(f"figure: {fig}")


if __name__ == "__main__":
    main()
