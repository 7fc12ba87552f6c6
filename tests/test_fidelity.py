"""FID, IS and KID through torch-fidelity, with a stand-in feature extractor (no Inception weights needed)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F
import torch_fidelity
from torch_fidelity.feature_extractor_base import FeatureExtractorBase

import common
import evaluate
import metrics
import methods.baselines as baselines

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {"fid": "pool", "kid": "pool", "isc": "logits"}


def pooled(x_uint8):
    """The stand-in features: 2x2 average-pooled pixels in [0, 1] (12 numbers for an RGB image)."""
    return F.adaptive_avg_pool2d(x_uint8.float() / 255, 2).flatten(1)


class PooledPixels(FeatureExtractorBase):
    def __init__(self, name, features_list, **kwargs):
        super().__init__(name, features_list)

    @staticmethod
    def get_provided_features_list():
        return "pool", "logits"

    @staticmethod
    def get_default_feature_layer_for_metric(metric):
        return LAYERS[metric]

    @staticmethod
    def can_be_compiled():
        return False

    def forward(self, x):
        f = pooled(x)
        return tuple({"pool": f, "logits": 10 * f[:, :10]}[k] for k in self.features_list)


if "pooled-pixels" not in torch_fidelity.registry.FEATURE_EXTRACTORS_REGISTRY:
    torch_fidelity.register_feature_extractor("pooled-pixels", PooledPixels)


@pytest.fixture
def stand_in(monkeypatch):
    monkeypatch.setattr(metrics, "FIDELITY_EXTRACTOR", "pooled-pixels")
    monkeypatch.setattr(metrics, "FIDELITY_LAYERS", LAYERS)


def images(n, shift=0.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 1, 8, 8, generator=g) * 1.6 - 0.8 + shift).clamp(-1, 1)


def frechet(a, b):
    """FID's formula, written out: |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))."""
    a, b = a.double().numpy(), b.double().numpy()
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(sa @ sb).real
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(sa + sb - 2 * root))


def test_images_reach_the_library_as_uint8_rgb():
    x = torch.tensor([-1.0, -0.5, 0.0, 1.0, 1.5]).reshape(5, 1, 1, 1)
    u8 = metrics._Uint8Images(x)
    assert len(u8) == 5 and u8[0].shape == (3, 1, 1) and u8[0].dtype == torch.uint8
    assert [int(u8[i][c, 0, 0]) for i in range(5) for c in (0, 2)] == [0, 0, 64, 64, 128, 128, 255, 255, 255, 255]


def test_fid_is_the_frechet_distance_of_the_features(stand_in):
    fake, real = images(600, 0.1, seed=1), images(600, seed=2)
    out = metrics.fidelity(fake, real)
    u8 = lambda x: torch.stack([metrics._Uint8Images(x)[i] for i in range(len(x))])
    assert out["fid"] == pytest.approx(frechet(pooled(u8(fake)), pooled(u8(real))), rel=1e-3)
    assert out["fidelity"]["fake_samples"] == 600 and out["fidelity"]["extractor"] == "pooled-pixels"


def test_identical_sets_score_about_zero_and_a_shift_clearly_more(stand_in):
    real = images(500)
    same = metrics.fidelity(real, real)
    shifted = metrics.fidelity(images(500, 0.3, seed=1), real)
    assert abs(same["fid"]) < 1e-6 and abs(same["kid"]) < 1e-3
    assert shifted["fid"] > 0.05 and shifted["fid"] > 1000 * max(abs(same["fid"]), 1e-9)
    assert shifted["kid"] > 10 * abs(same["kid"]) + 1e-4


def test_a_missing_weights_file_is_one_clear_message():
    with pytest.raises(metrics.FidelityUnavailable, match="no file at /nonexistent/w.pth"):
        metrics.fidelity(images(20), images(20), weights="/nonexistent/w.pth")


def tiny_run(out, *extra):
    cfg = common.parse_config(baselines.Config, baselines.__doc__,
                              ["--dataset", "digits", "--steps", "4", "--batch-size", "16", "--log-every", "2",
                               "--eval-samples", "0", "--device", "cpu", "--out", str(out), *extra])
    return baselines.train(cfg)


def test_a_run_scores_itself_and_evaluate_gives_the_same_numbers_without_training(stand_in, tmp_path):
    summary = tiny_run(tmp_path / "r", "--fid-samples", "300")
    assert summary["fidelity"]["fake_samples"] == 300 and summary["fidelity"]["reference"] == "digits train"
    before = {f: (tmp_path / "r" / f).read_bytes() for f in ("checkpoint.pt", "metrics.jsonl", "config.json")}
    scores = evaluate.fid_of_run(tmp_path / "r", 300)
    assert scores["step"] == 4 and scores["fid"] == pytest.approx(summary["fid"], rel=1e-9)
    assert scores["kid"] == pytest.approx(summary["kid"], rel=1e-9)
    assert {f: (tmp_path / "r" / f).read_bytes() for f in before} == before  # no training step ran
    assert json.loads((tmp_path / "r" / "fid.json").read_text())["fid"] == scores["fid"]
    assert common.Run.finish.__name__ == "finish" and common.Run.finish.__qualname__ == "Run.finish"
    other = evaluate.fid_of_run(tmp_path / "r", 200)  # a different count: a different estimate
    assert other["fidelity"]["fake_samples"] == 200
    assert json.loads((tmp_path / "r" / "summary.json").read_text())["fidelity"]["fake_samples"] == 200


def test_scoring_does_not_move_the_training_rng(stand_in, tmp_path, monkeypatch):
    """Run.fidelity draws its samples from its own stream: torch's RNG state is the same after it as before."""
    states, real_fidelity = [], common.Run.fidelity

    def fidelity(run, n):
        states.append(torch.get_rng_state())
        out = real_fidelity(run, n)
        states.append(torch.get_rng_state())
        return out

    monkeypatch.setattr(common.Run, "fidelity", fidelity)
    tiny_run(tmp_path / "a", "--fid-samples", "100")
    assert len(states) == 2 and torch.equal(states[0], states[1])


def test_without_weights_a_run_finishes_and_says_why(tmp_path, capsys):
    summary = tiny_run(tmp_path / "r", "--fid-samples", "50", "--inception-weights", "/nonexistent/w.pth")
    assert "no file at /nonexistent/w.pth" in summary["fidelity"]["skipped"] and "fid" not in summary
    assert "no FID, IS or KID" in capsys.readouterr().err


def test_bad_fid_settings(tmp_path):
    with pytest.raises(common.UserError, match="toy set"):
        common.Run(baselines.Config(dataset="ring8", fid_samples=10, out=str(tmp_path / "a")), "x")
    with pytest.raises(common.UserError, match="--fid-ref"):
        common.Run(baselines.Config(dataset="digits", fid_ref="test", out=str(tmp_path / "b")), "x")
    with pytest.raises(common.UserError, match="holds no run"):
        evaluate.fid_of_run(tmp_path / "nothing", 10)


def test_make_fid_without_weights_is_one_line_and_exit_1(tmp_path):
    tiny_run(tmp_path / "r")
    env = {**os.environ, "INCEPTION_WEIGHTS": "/nonexistent/w.pth"}
    p = subprocess.run(["make", "-s", "fid", f"RUN={tmp_path / 'r'}", "FID_SAMPLES=20", "DEVICE=cpu",
                        f"PY={sys.executable}", "DEPS="], cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode != 0 and "Traceback" not in p.stderr
    assert "no FID, IS or KID" in p.stderr and "INCEPTION_WEIGHTS" in p.stderr
    p = subprocess.run(["make", "-s", "fid", f"PY={sys.executable}", "DEPS="], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode != 0 and "make fid RUN=" in p.stderr
