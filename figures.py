"""Every figure, and the commands that compare finished runs. Nothing here trains or changes a run.

    python -m figures compare RUN_DIR... --out DIR   table of the runs' summary.json + their samples side by side
    python -m figures vral-grid DIR [--seed S]       VRAL Figs. 2-4 composites from DIR/<method>-<ratio>[-s<S>]/ runs
    python -m figures over-time RUN_DIR... --out F   modes / high-quality fraction at each toy snapshot (Roth)
    python -m figures heatmaps RUN_DIR... --out F    sample densities over training, one row per run (Che et al. Fig. 9)

The method scripts call the plot functions at their sample and final steps;
matplotlib draws off screen (Agg). torch is imported only where a plot needs it, so the
commands above start in about a second instead of about five.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot
    return matplotlib.pyplot


def save(fig, path, dpi=120):
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt().close(fig)


# --------------------------------------------------------------------------
# Samples
# --------------------------------------------------------------------------


def save_image_grid(path, images, nrow=8):
    """A grid of images in [-1, 1] as one PNG."""
    import torchvision.utils as vutils
    vutils.save_image(images.detach().cpu().float(), path, nrow=nrow, normalize=True, value_range=(-1, 1), padding=1)


def density_colour(x):
    """Each point's count on a 60x60 2-D histogram, for colouring scatter plots by density."""
    h, xe, ye = np.histogram2d(x[:, 0], x[:, 1], bins=60)
    ix = np.clip(np.searchsorted(xe, x[:, 0]) - 1, 0, 59)
    iy = np.clip(np.searchsorted(ye, x[:, 1]) - 1, 0, 59)
    return h[ix, iy]


def scatter_2d(ax, real, fake, centers=None, title=""):
    """Real points in grey, generated points coloured by density, mode centres as crosses."""
    ax.scatter(real[:, 0], real[:, 1], s=4, c="0.55", label="real")
    c = density_colour(fake)
    order = np.argsort(c)
    ax.scatter(fake[order, 0], fake[order, 1], s=2, c=c[order], cmap="viridis", label="generated")
    if centers is not None:
        ax.scatter(centers[:, 0], centers[:, 1], marker="x", c="red", s=20, linewidths=1)
    lim = np.abs(real).max() * 1.3
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel("x1", fontsize=8)
    ax.set_ylabel("x2", fontsize=8)
    ax.legend(fontsize=7, markerscale=3, loc="upper right")
    ax.set_title(title, fontsize=9)


def plot_samples_2d(path, real, fake, centers=None, title=""):
    fig, ax = plt().subplots(figsize=(4, 4))
    scatter_2d(ax, real, fake, centers, title)
    save(fig, path)


def plot_samples_3d(path, real, fake, title=""):
    """3-D scatter (Roth's sub-manifold toy): real in grey, generated in colour."""
    fig = plt().figure(figsize=(5, 5))
    ax = fig.add_subplot(projection="3d")
    ax.scatter(*real.T, s=2, c="0.7")
    ax.scatter(*fake.T, s=2, c=fake[:, 2], cmap="viridis")
    ax.set_title(title, fontsize=9)
    save(fig, path)


def kde_colour(x, max_fit=2000):
    """Each point's density under a Gaussian KDE (Scott's rule) fitted to (at most `max_fit` of) the points."""
    from scipy.stats import gaussian_kde
    fit = x[np.random.default_rng(0).choice(len(x), min(len(x), max_fit), replace=False)]
    try:
        return gaussian_kde(fit.T)(x.T)
    except np.linalg.LinAlgError:  # all points (nearly) on a line or a point: no density to show
        return np.ones(len(x))


def plot_kde_snapshots(path, snaps, title="", lims=((-1, 2), (-1, 2), (-0.5, 1.5))):
    """Roth et al. Figs. 1 and 6: one 3-D scatter per (step, samples), coloured by KDE density (dark = dense)."""
    n = len(snaps)
    cols = min(n, 6)
    rows = (n + cols - 1) // cols
    fig = plt().figure(figsize=(2.3 * cols, 2.4 * rows))
    for i, (step, x) in enumerate(snaps):
        ax = fig.add_subplot(rows, cols, i + 1, projection="3d")
        c = kde_colour(x)
        order = np.argsort(c)
        ax.scatter(*x[order].T, s=1, c=c[order], cmap="viridis_r")
        for setlim, lim in zip((ax.set_xlim, ax.set_ylim, ax.set_zlim), lims):
            setlim(lim)
        ax.set_xticklabels([])
        ax.set_yticklabels([])
        ax.set_zticklabels([])
        ax.view_init(azim=30)
        ax.set_title(f"step {step}", fontsize=8)
    fig.suptitle(title, fontsize=9)
    save(fig, path)


def plot_over_time(path, rows, keys, title=""):
    """One panel per key in `keys`: its value in `rows` (dicts with a "step") against the step."""
    fig, axes = plt().subplots(1, len(keys), figsize=(3.6 * len(keys), 3), squeeze=False)
    for ax, k in zip(axes[0], keys):
        ax.plot([r["step"] for r in rows], [r[k] for r in rows], marker="o", markersize=3)
        ax.set_xlabel("generator step", fontsize=8)
        ax.set_ylabel(k, fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=9)
    save(fig, path)


def plot_heatmaps(path, rows, target, bins=80):
    """Che et al. Fig. 9: one row per run, the density of its samples at each kept step as a 2-D histogram, the
    target's density in the last column. rows: [(label, [(step, samples (N, 2))])]; target: samples (N, 2)."""
    lim = 1.25 * float(np.abs(target).max())
    edges = np.linspace(-lim, lim, bins + 1)
    cols = max(len(s) for _, s in rows) + 1
    fig, axes = plt().subplots(len(rows), cols, figsize=(2.0 * cols, 2.1 * len(rows)), squeeze=False)
    for ax_row, (label, snaps) in zip(axes, rows):
        panels = [(f"step {s}", x) for s, x in snaps] + [(None, None)] * (cols - 1 - len(snaps)) + [("target", target)]
        for k, (ax, (title, x)) in enumerate(zip(ax_row, panels)):
            ax.set_xticks([])
            ax.set_yticks([])
            if x is None:
                ax.axis("off")
                continue
            h, _, _ = np.histogram2d(x[:, 0], x[:, 1], bins=[edges, edges])
            ax.imshow(np.log1p(h.T), origin="lower", extent=(-lim, lim, -lim, lim), cmap="magma")
            ax.set_title(title, fontsize=7)
            if k == 0:
                ax.set_ylabel(label, fontsize=7)
    save(fig, path)


def plot_score_distributions(path, groups, xlabel, title="", refs=None):
    """Che et al. Fig. 3: the distribution of a score over runs, one histogram per group ({label: values}), and a
    dashed line at each reference score ({label: value}, e.g. the real data's)."""
    fig, ax = plt().subplots(figsize=(5, 3.2))
    vals = [np.asarray(v, float) for v in groups.values() if len(v)]
    refs = refs or {}
    if vals:
        lo, hi = min(v.min() for v in vals), max(v.max() for v in vals)
        edges = np.linspace(lo, hi if hi > lo else lo + 1, 21)
        for label, v in groups.items():
            if len(v):
                ax.hist(v, bins=edges, alpha=0.55, label=f"{label} (n={len(v)}, median {np.median(v):.2f})")
    for label, value in refs.items():
        ax.axvline(value, color="k", ls="--", lw=1, label=f"{label} ({value:.2f})")
    if vals or refs:
        ax.legend(fontsize=7)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel("grid points", fontsize=8)
    ax.set_title(title, fontsize=8)
    save(fig, path)


def heatmaps(run_dirs, out, steps=None):
    """Che et al. Fig. 9 across runs: one row per run folder holding heat_<step>.npz (all steps, or `steps`)."""
    rows = []
    for r in run_dirs:
        snaps = sorted((int(np.load(p)["step"]), np.load(p)["fixed"]) for p in Path(r).glob("heat_*.npz"))
        snaps = [(s, x) for s, x in snaps if steps is None or s in steps]
        if snaps:
            rows.append((Path(r).name, snaps))
    if not rows:
        sys.exit("error: none of the given folders holds heat_<step>.npz files (2-D toy runs of methods.mode_reg)")
    import data as datasets
    cfg = json.loads((Path(run_dirs[0]) / "config.json").read_text())
    target = datasets.toy(cfg["dataset"], "cpu", cfg.get("scale", 1.0)).sample(5000).numpy()
    plot_heatmaps(out, rows, target)
    print(f"figure: {out}")


def plot_samples(path, fake, real=None, centers=None):
    """Generated samples: an image grid of the first 64 images, or for vector data a scatter over `real`."""
    path = Path(path)
    if fake.dim() > 2:
        save_image_grid(path, fake[:64])
    elif fake.shape[1] == 2:
        plot_samples_2d(path, real.numpy(), fake.numpy(), centers, path.stem)
    else:
        plot_samples_3d(path, real.numpy(), fake.numpy(), path.stem)


# --------------------------------------------------------------------------
# The discriminator: output histograms, output surface, gradient norms
# --------------------------------------------------------------------------


def hist_real_fake(ax, real, fake, title="", bins=50):
    """Histogram of D's raw output on real (blue) and generated (orange) samples."""
    lo, hi = min(real.min(), fake.min()), max(real.max(), fake.max())
    edges = np.linspace(lo, hi if hi > lo else lo + 1e-6, bins + 1)
    ax.hist(real, edges, alpha=0.6, label="real", color="tab:blue")
    ax.hist(fake, edges, alpha=0.6, label="generated", color="tab:orange")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("D's raw output", fontsize=8)
    ax.set_ylabel("samples", fontsize=8)
    ax.tick_params(labelsize=7)


def plot_hist_grid(path, grid, row_labels=None, col_labels=None):
    """A grid of real/generated histograms; `grid[i][j]` is (real, fake) or None."""
    rows, cols = len(grid), max(len(r) for r in grid)
    size = (5, 3.8) if rows == cols == 1 else (2.6 * cols, 2.1 * rows)
    fig, axes = plt().subplots(rows, cols, figsize=size, squeeze=False)
    for i in range(rows):
        for j in range(cols):
            ax = axes[i][j]
            cell = grid[i][j] if j < len(grid[i]) else None
            if cell is None:
                ax.axis("off")
                continue
            hist_real_fake(ax, np.asarray(cell[0]), np.asarray(cell[1]), col_labels[j] if (col_labels and i == 0) else "")
            if row_labels and j == 0:
                ax.set_ylabel(f"{row_labels[i]}: samples")
    if axes[0][0].get_legend_handles_labels()[0]:  # a first cell with no histogram has nothing to label
        axes[0][0].legend(fontsize=7)
    save(fig, path, dpi=110)


def plot_curves(path, curves, xlabel="step", ylabel="", logy=True, title=""):
    """Lines, one per label: `curves[label] = (x, y)` or `(x, y, lo, hi)` with a shaded band."""
    fig, ax = plt().subplots(figsize=(5.5, 3.8))
    for label, c in curves.items():
        (line,) = ax.plot(c[0], c[1], label=label, marker="o" if len(c[0]) < 25 else None, markersize=3)
        if len(c) == 4:
            ax.fill_between(c[0], c[2], c[3], alpha=0.25, color=line.get_color())
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    save(fig, path)


def plot_grad_norm_history(path, rows, label):
    """The logged mean ||grad_x D(G(z))|| against generator steps (one run's VRAL Fig. 4 curve)."""
    if rows:
        plot_curves(path, {label: ([r["step"] for r in rows], [max(r["grad_norm_fake"], 1e-12) for r in rows])},
                    xlabel="generator step", ylabel="mean ||grad_x D(G(z))||")


def plot_d_surface(path, d, real, fake, device, extent=None, title="", n=80):
    """D's raw output on a 2-D grid as a colour map, its input gradient as arrows, samples on top."""
    import torch
    extent = float(np.abs(real).max() * 1.3) if extent is None else extent
    xs = torch.linspace(-extent, extent, n)
    gx, gy = torch.meshgrid(xs, xs, indexing="xy")
    pts = torch.stack([gx.flatten(), gy.flatten()], 1).to(device).requires_grad_(True)
    out = d(pts)
    (grad,) = torch.autograd.grad(out.sum(), pts)
    v, g = out.detach().cpu().view(n, n).numpy(), grad.cpu().view(n, n, 2).numpy()
    fig, ax = plt().subplots(figsize=(5, 4.3))
    im = ax.imshow(v, origin="lower", extent=(-extent, extent, -extent, extent), cmap="coolwarm")
    fig.colorbar(im, ax=ax, label="D raw output")
    k = max(n // 20, 1)
    ax.quiver(gx[::k, ::k].numpy(), gy[::k, ::k].numpy(), g[::k, ::k, 0], g[::k, ::k, 1], color="k", alpha=0.6)
    ax.scatter(real[:, 0], real[:, 1], s=1, c="0.3", label="real")
    ax.scatter(fake[:, 0], fake[:, 1], s=1, c="lime", label="generated")
    ax.legend(fontsize=7, markerscale=4, loc="upper right")
    ax.set_xlabel("x1", fontsize=8)
    ax.set_ylabel("x2", fontsize=8)
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_title(title, fontsize=9)
    save(fig, path)


def plot_gradient_fields(path, rows, max_cols=6):
    """0-GP Figs. 2, 5, 6: one row per run, one panel per step: D's field grad log D on a grid (arrows), real
    samples (grey) and generated ones (red). `rows`: [(label, [(step, field npz dict), ...])]; the arrows
    of each panel are scaled to its own largest one, whose length the title gives."""
    ncols = min(max(len(snaps) for _, snaps in rows), max_cols)
    fig, axes = plt().subplots(len(rows), ncols, figsize=(2.6 * ncols, 2.7 * len(rows)), squeeze=False)
    for r, (label, snaps) in enumerate(rows):
        picked = snaps if len(snaps) <= ncols else [snaps[round(i)] for i in np.linspace(0, len(snaps) - 1, ncols)]
        for c, ax in enumerate(axes[r]):
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(picked):
                ax.axis("off")
                continue
            step, f = picked[c]
            e, grad = float(f["extent"]), f["grad"]
            top = float(np.linalg.norm(grad, axis=1).max())
            ax.scatter(f["real"][:, 0], f["real"][:, 1], s=1, c="0.45")
            ax.scatter(f["fake"][:, 0], f["fake"][:, 1], s=1, c="red", marker="+", linewidths=0.5)
            ax.quiver(f["xy"][:, 0], f["xy"][:, 1], grad[:, 0] / max(top, 1e-12), grad[:, 1] / max(top, 1e-12),
                      angles="xy", scale_units="xy", scale=1.0 / (0.1 * e), width=0.004)
            ax.set_xlim(-e, e)
            ax.set_ylim(-e, e)
            ax.set_title(f"step {step}: max |grad| {top:.3g}", fontsize=7)
            if c == 0:
                ax.set_ylabel(label, fontsize=7)
    save(fig, path)


def plot_value_surfaces(path, panels, lims):
    """0-GP Fig. 1: D's value on a square grid, one panel each: [(title, values (n*n,), real, fake, gap)];
    real samples '+', generated 'o'; the title carries the gap to D* weighted by the data's density (omitted when real
    is None)."""
    fig, axes = plt().subplots(1, len(panels), figsize=(2.9 * len(panels), 3.0), squeeze=False)
    for ax, (title, v, real, fake, gap) in zip(axes[0], panels):
        n = int(round(len(v) ** 0.5))
        im = ax.imshow(np.asarray(v).reshape(n, n), origin="lower", extent=(*lims, *lims), cmap="hot", vmin=0, vmax=1)
        if real is not None:
            ax.scatter(real[:, 0], real[:, 1], s=4, c="cyan", marker="+", linewidths=0.5)
            ax.scatter(fake[:, 0], fake[:, 1], s=3, facecolors="none", edgecolors="blue", linewidths=0.4)
            title += f"\n|D - D*| where the data is: {gap:.3f}"
        ax.set_xlim(*lims)
        ax.set_ylim(*lims)
        ax.set_title(title, fontsize=8)
        ax.tick_params(labelsize=6)
    fig.colorbar(im, ax=axes[0][-1], fraction=0.046)
    save(fig, path)


# --------------------------------------------------------------------------
# Arjovsky & Bottou: the fresh discriminator against frozen generators
# --------------------------------------------------------------------------


def principled_figures(run_dir, results, ks, sigmas):
    """`results[(k, sigma)]`: the measurement rows of one fresh-D phase. Writes the slides' figures."""
    run_dir = Path(run_dir)
    pos = lambda v: max(v, 1e-30)  # log axes

    def curve(rows, key):  # mean over the latent batches, band from min to max
        return ([r["iter"] for r in rows], [pos(r[key + "_mean"]) for r in rows],
                [pos(r[key + "_min"]) for r in rows], [pos(r[key + "_max"]) for r in rows])

    err = lambda rows: ([r["iter"] for r in rows], [pos(r["err_real"] + r["err_fake"]) for r in rows])
    x = "discriminator iterations"
    clean = {k: results[(k, 0.0)] for k in ks}
    ep = lambda k: f"{k} epoch" + ("" if k == 1 else "s")
    plot_curves(run_dir / "d_error.png", {ep(k): err(clean[k]) for k in ks}, x,
                "D's error  -E log D(x) - E log(1 - D(G(z)))", title="Fresh discriminator against a frozen generator")
    plot_curves(run_dir / "d_accuracy.png", {ep(k): ([r["iter"] for r in clean[k]], [r["accuracy"] for r in clean[k]])
                                             for k in ks}, x, "D's accuracy (real > 0, generated < 0)", logy=False,
                title="Fresh discriminator against a frozen generator")
    plot_curves(run_dir / "grad_minimax.png", {ep(k): curve(clean[k], "minimax") for k in ks}, x,
                "||grad_theta E log(1 - D(G(z)))||", title="Original cost: the generator's gradient (band: min-max over batches)")
    plot_curves(run_dir / "grad_nonsaturating.png", {ep(k): curve(clean[k], "nonsaturating") for k in ks}, x,
                "||grad_theta E -log D(G(z))||", title="-log D cost: the generator's gradient (band: min-max over batches)")
    if len(sigmas) > 1:
        s = sigmas[1]
        labelled = [(ep(k) + (f", noise {sig:g}" if sig else ""), results[(k, sig)]) for k in ks for sig in (0.0, s)]
        plot_curves(run_dir / "noise_grad_minimax.png", {lab: curve(rows, "minimax") for lab, rows in labelled}, x,
                    "||grad_theta E log(1 - D(G(z)))||", title="Instance noise on D's inputs: original cost")
        plot_curves(run_dir / "noise_d_error.png", {lab: err(rows) for lab, rows in labelled}, x, "D's error",
                    title="Instance noise on D's inputs: D's error")


# --------------------------------------------------------------------------
# VRAL Figs. 2-4: every method at every training ratio
# --------------------------------------------------------------------------

GRID_METHODS = ("minimax", "nonsaturating", "lsgan", "wgan", "vral", "vral-sub", "vral-mu0", "vral-authors")
GRID_LABELS = {"minimax": "GAN", "nonsaturating": "-log D GAN", "lsgan": "LSGAN", "wgan": "WGAN",
               "vral": "VRAL", "vral-sub": "VRAL (mean sub.)", "vral-mu0": "VRAL, mu_f 0",
               "vral-authors": "VRAL, authors' set-up"}


def vral_grid(root, seed=None):
    """Composite figures and a table from the runs `root/<method>-<ratio>/` (rows: ratios, columns: methods); with
    `seed`, from the runs `root/<method>-<ratio>-s<seed>/` (a grid over seeds) and no other."""
    import runfiles
    root = Path(root)
    cells = {}
    for p in root.iterdir() if root.is_dir() else []:
        name = p.name
        if seed is not None:
            if not name.endswith(f"-s{seed}"):
                continue
            name = name[: -len(f"-s{seed}")]
        method, _, ratio = name.rpartition("-")
        if (p / "summary.json").exists() and method in GRID_METHODS and ratio.isdigit():
            cells[(method, int(ratio))] = p
    if not cells:
        sys.exit(f"error: no finished runs named <method>-<ratio> under {root}")
    methods = [mt for mt in GRID_METHODS if any(mt == c[0] for c in cells)]
    ratios = sorted({c[1] for c in cells})
    p = plt()
    # Fig. 2: samples
    fig, axes = p.subplots(len(ratios), len(methods), figsize=(2.2 * len(methods), 2.3 * len(ratios)), squeeze=False)
    for i, r in enumerate(ratios):
        for j, mt in enumerate(methods):
            ax = axes[i][j]
            ax.axis("off")
            if (mt, r) in cells:
                ax.imshow(p.imread(cells[(mt, r)] / "samples_final.png"))
            if i == 0:
                ax.set_title(GRID_LABELS[mt], fontsize=9)
            if j == 0:
                ax.text(-0.1, 0.5, f"{r}:1", transform=ax.transAxes, ha="right", va="center", fontsize=10)
    save(fig, root / "samples.png", dpi=130)
    # Fig. 3: histograms of D's raw output
    outputs = {c: np.load(f / "d_outputs.npz") for c, f in cells.items()}
    grid = [[(outputs[(mt, r)]["real"], outputs[(mt, r)]["fake"]) if (mt, r) in cells else None for mt in methods]
            for r in ratios]
    plot_hist_grid(root / "hist.png", grid, [f"{r}:1" for r in ratios], [GRID_LABELS[mt] for mt in methods])
    # Fig. 4: D's gradient norm on generated samples during training
    fig, axes = p.subplots(1, len(methods), figsize=(2.8 * len(methods), 2.8), squeeze=False, sharey=True)
    for ax, mt in zip(axes[0], methods):
        for r in ratios:
            if (mt, r) in cells:
                rows = runfiles.read_jsonl(cells[(mt, r)] / "metrics.jsonl")
                ax.plot([x["step"] for x in rows], [max(x["grad_norm_fake"], 1e-12) for x in rows], label=f"{r}:1",
                        marker="o" if len(rows) < 25 else None, markersize=3)
        ax.set_yscale("log")
        ax.set_title(GRID_LABELS[mt], fontsize=9)
        ax.set_xlabel("generator step", fontsize=8)
    axes[0][0].set_ylabel("mean ||grad_x D(G(z))||")
    axes[0][0].legend(fontsize=7)
    save(fig, root / "grad_norm.png")
    # The numbers behind them
    fmt = lambda s, k: f"{s[k]:.3g}" if k in s else "-"
    lines = ["| method | ratio | D std on real | D std on generated | mean grad norm, generated | MODE score | "
             "Inception score | label KL | seconds |", "|---|---|---|---|---|---|---|---|---|"]
    for r in ratios:
        for mt in methods:
            if (mt, r) in cells:
                s = json.loads((cells[(mt, r)] / "summary.json").read_text())
                lines.append(f"| {GRID_LABELS[mt]} | {r}:1 | {s['d_real_std']:.3g} | {s['d_fake_std']:.3g} | "
                             f"{s['grad_norm_fake']:.3g} | {fmt(s, 'mode_score')} | {fmt(s, 'inception_score')} | "
                             f"{fmt(s, 'label_kl')} | "
                             f"{s['seconds']:.0f} |")
    (root / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nfigures: {root / 'samples.png'}, {root / 'hist.png'}, {root / 'grad_norm.png'}; table: {root / 'table.md'}")


# --------------------------------------------------------------------------
# Comparing finished runs
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
    dirs = [Path(r) for r in run_dirs if (Path(r) / image).exists()]
    if not dirs:
        return None
    p = plt()
    fig, axes = p.subplots(1, len(dirs), figsize=(3.2 * len(dirs), 3.4), squeeze=False)
    for ax, r in zip(axes[0], dirs):
        ax.imshow(p.imread(r / image))
        ax.set_title(r.name, fontsize=9 if len(r.name) <= 32 else 6)  # a grid point's long name fits its panel
        ax.axis("off")
    save(fig, path, dpi=130)
    return path


def compare(run_dirs, out, keys=None):
    runs = [r for r in run_dirs if (Path(r) / "summary.json").exists()]
    if not runs:
        sys.exit("error: none of the given folders holds a summary.json")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = summary_table(runs, keys.split(",") if keys else None)
    (out / "comparison.md").write_text(table + "\n")
    fig = compare_figure(out / "comparison.png", runs)
    print(table + f"\n\ntable:  {out / 'comparison.md'}" + (f"\nfigure: {fig}" if fig else ""))


def over_time(run_dirs, out, keys="modes,high_quality"):
    """Runs' summary.json "over_time" rows (Roth's toy snapshots), one panel per key, one line per run;
    runs whose folder names differ only by a trailing `-s<seed>` share a colour."""
    import re

    keys = keys.split(",")
    runs = [(Path(r).name, json.loads((Path(r) / "summary.json").read_text()).get("over_time"))
            for r in run_dirs if (Path(r) / "summary.json").exists()]
    runs = [(n, rows) for n, rows in runs if rows]
    if not runs:
        sys.exit("error: none of the given folders holds a summary.json with over_time rows")
    groups = sorted({re.sub(r"-s\d+$", "", n) for n, _ in runs})
    colour = {g: f"C{i}" for i, g in enumerate(groups)}
    fig, axes = plt().subplots(1, len(keys), figsize=(4.2 * len(keys), 3.2), squeeze=False)
    for ax, k in zip(axes[0], keys):
        seen = set()
        for n, rows in runs:
            g = re.sub(r"-s\d+$", "", n)
            ax.plot([r["step"] for r in rows], [r[k] for r in rows], color=colour[g], marker="o", markersize=2.5,
                    alpha=0.8, label=None if g in seen else g)
            seen.add(g)
        ax.set_xlabel("generator step", fontsize=8)
        ax.set_ylabel(k, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    save(fig, out)
    print(f"figure: {out}")


def seeds_table(run_dirs, keys):
    """Markdown: one row per setting (run folders named <setting>-s<seed>), each key's mean and std over seeds
    (numpy's std, ddof 0, as the README's tables give it; REPRODUCTION.md gives the sample std)."""
    import re

    groups = {}
    for r in run_dirs:
        if (Path(r) / "summary.json").exists():
            groups.setdefault(re.sub(r"-s\d+$", "", Path(r).name), []).append(
                json.loads((Path(r) / "summary.json").read_text()))
    if not groups:
        sys.exit("error: none of the given folders holds a summary.json")
    lines = ["Mean ± std over seeds (numpy's std, ddof 0).", "",
             "| setting | seeds | " + " | ".join(keys) + " |", "|---" * (len(keys) + 2) + "|"]
    for name, runs in groups.items():
        cells = []
        for k in keys:
            v = [s[k] for s in runs if isinstance(s.get(k), (int, float))]
            cells.append(f"{np.mean(v):.4g} ± {np.std(v):.2g}" if v else "")
        lines.append(f"| {name} | {len(runs)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def gradient_fields(run_dirs, out, steps=None):
    """0-GP Fig. 2 across runs: one row per run folder holding field_<step>.npz (all steps, or `steps`)."""
    rows = []
    for r in run_dirs:
        snaps = sorted((int(np.load(p)["step"]), dict(np.load(p))) for p in Path(r).glob("field_*.npz"))
        snaps = [(s, f) for s, f in snaps if steps is None or s in steps]
        if snaps:
            rows.append((Path(r).name, snaps))
    if not rows:
        sys.exit("error: none of the given folders holds field_<step>.npz files (2-D toy runs of methods.zero_gp)")
    plot_gradient_fields(out, rows, max_cols=max(len(s) for _, s in rows))
    print(f"figure: {out}")


def main():
    ap = argparse.ArgumentParser(prog="python -m figures", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compare", help="table of summary.json and a side-by-side sample figure")
    c.add_argument("runs", nargs="+", help="run folders holding summary.json")
    c.add_argument("--out", required=True, help="folder for comparison.md and comparison.png")
    c.add_argument("--keys", default=None, help="comma-separated summary keys (default: all numbers)")
    v = sub.add_parser("vral-grid", help="VRAL Figs. 2-4 composites and table.md from <method>-<ratio> run folders")
    v.add_argument("root", help="folder holding the runs, e.g. runs/digits-vral")
    v.add_argument("--seed", type=int, default=None, help="read the runs <method>-<ratio>-s<seed> (a grid over seeds)")
    o = sub.add_parser("over-time", help="modes and high-quality fraction at each toy snapshot (Roth Figs. 1, 6)")
    o.add_argument("runs", nargs="+", help="run folders whose summary.json holds over_time rows")
    o.add_argument("--out", required=True, help="the figure's file (.png)")
    o.add_argument("--keys", default="modes,high_quality", help="comma-separated keys of the over_time rows")
    f = sub.add_parser("fields", help="0-GP Fig. 2: D's gradient fields of several runs, one row per run")
    f.add_argument("runs", nargs="+", help="run folders holding field_<step>.npz")
    f.add_argument("--out", required=True, help="the figure's file (.png)")
    f.add_argument("--steps", type=int, nargs="*", default=None, help="only these steps (default: all kept)")
    h = sub.add_parser("heatmaps", help="Che et al. Fig. 9: sample densities over training, one row per run")
    h.add_argument("runs", nargs="+", help="run folders holding heat_<step>.npz")
    h.add_argument("--out", required=True, help="the figure's file (.png)")
    h.add_argument("--steps", type=int, nargs="*", default=None, help="only these steps (default: all kept)")
    t = sub.add_parser("seeds", help="mean and std over seeds of runs named <setting>-s<seed>: seeds.md")
    t.add_argument("runs", nargs="+", help="run folders holding summary.json")
    t.add_argument("--out", required=True, help="folder for seeds.md")
    t.add_argument("--keys", required=True, help="comma-separated summary keys")
    args = ap.parse_args()
    if args.cmd == "seeds":
        table = seeds_table(args.runs, args.keys.split(","))
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "seeds.md").write_text(table)
        print(table + f"\ntable: {Path(args.out) / 'seeds.md'}")
    elif args.cmd == "heatmaps":
        heatmaps(args.runs, args.out, set(args.steps) if args.steps else None)
    elif args.cmd == "fields":
        gradient_fields(args.runs, args.out, set(args.steps) if args.steps else None)
    elif args.cmd == "compare":
        compare(args.runs, args.out, args.keys)
    elif args.cmd == "over-time":
        over_time(args.runs, args.out, args.keys)
    else:
        vral_grid(args.root, args.seed)


if __name__ == "__main__":
    main()
