"""FID, IS and KID of finished runs (make fid RUN=...): torch-fidelity's Inception on a run's checkpointed G.

    python -m evaluate runs/cifar-vral/vral-1 --fid-samples 10000               against 10,000 training images
    python -m evaluate runs/a runs/b --fid-samples 50000 --fid-ref test         MNIST and CIFAR-10: the test images
    INCEPTION_WEIGHTS=/path/weights-inception-2015-12-05-6726825d.pth python -m evaluate ...   no download

Each run is rebuilt by its own script: the run's config.json names the script
and its settings, and the script's `train` resumes from checkpoint.pt at the
step it holds, so no training step runs; the final evaluation is replaced by
`Run.fidelity` alone (the same code a run with --fid-samples calls at its
end), and the run's config.json and metrics.jsonl are put back as they were.
The scores go to RUN/fid.json and, when the checkpoint is the run's last
step, into its summary.json. A training run takes --fid-samples N
itself; this is for runs that did not.
"""

import argparse
import dataclasses
import importlib
import json
import sys
from pathlib import Path

import torch

import common


class Scored(Exception):
    """Carries the scores out of `train` in place of its final evaluation."""


def fid_of_run(path, n, ref="train", weights="", device=None):
    """The fidelity scores of the run in `path` at its checkpoint; written to fid.json (and summary.json)."""
    path = Path(path)
    conf_file, ckpt = path / "config.json", path / "checkpoint.pt"
    if not conf_file.exists() or not ckpt.exists():
        raise common.UserError(f"{path} holds no run (config.json and checkpoint.pt)")
    conf = json.loads(conf_file.read_text())
    script = conf.get("resolved", {}).get("script")
    if not script:
        raise common.UserError(f"{conf_file} does not name the script that wrote it (an older run): "
                               f"rerun its command with --resume --fid-samples {n}")
    module = importlib.import_module(script)
    fields = {f.name for f in dataclasses.fields(module.Config)}
    cfg = module.Config(**{k: tuple(v) if isinstance(v, list) else v for k, v in conf.items() if k in fields})
    step = torch.load(ckpt, map_location="cpu", weights_only=False)["step"]
    # eval_samples 0: the scripts' own extra evaluations (Reg-GAN's third-party D) are skipped too
    cfg = dataclasses.replace(cfg, resume=True, overwrite=False, steps=step, fid_samples=n, fid_ref=ref,
                              inception_weights=weights, device=device or cfg.device, eval_samples=0)
    kept = {f: (path / f).read_bytes() for f in ("config.json", "metrics.jsonl") if (path / f).exists()}
    real_finish = common.Run.finish

    def finish(run, *args, **kwargs):
        raise Scored(run.fidelity(n))

    common.Run.finish = finish
    try:
        module.train(cfg)
        raise RuntimeError(f"{script}'s train returned without its final evaluation")
    except Scored as s:
        scores = {"step": step, **s.args[0]}
    finally:
        common.Run.finish = real_finish
        for f, data in kept.items():  # resuming rewrote them
            (path / f).write_bytes(data)
    common.write_json(path / "fid.json", scores)
    summary_file = path / "summary.json"
    if summary_file.exists() and "fid" in scores:
        summary = json.loads(summary_file.read_text())
        if summary.get("steps") == step:
            common.write_json(summary_file, {**summary, **{k: v for k, v in scores.items() if k != "step"}})
    return scores


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m evaluate", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("runs", nargs="+", help="run folders (config.json and checkpoint.pt)")
    ap.add_argument("--fid-samples", type=int, default=10000, help="generated samples, and as many real images")
    ap.add_argument("--fid-ref", default="train", help="the real images: train | test (MNIST and CIFAR-10 only)")
    ap.add_argument("--inception-weights", default="",
                    help="a local file of the Inception weights (empty: $INCEPTION_WEIGHTS, else the download)")
    ap.add_argument("--device", default=None, help="auto | cpu | cuda | cuda:N (default: the run's)")
    a = ap.parse_args(argv)
    if a.fid_samples < 2:
        raise common.UserError("--fid-samples must be >= 2")
    failed = 0
    for run in a.runs:
        scores = fid_of_run(run, a.fid_samples, a.fid_ref, a.inception_weights, a.device)
        if "fid" in scores:
            print(f"{run}: FID {scores['fid']:.2f}  IS {scores['inception_v3_score']:.2f}  KID {scores['kid']:.4f}"
                  f"  ({a.fid_samples} samples, {scores['fidelity']['reference']})")
        else:
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except common.UserError as e:
        sys.exit(f"error: {e}")
