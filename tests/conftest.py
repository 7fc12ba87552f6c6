"""Shared test set-up: long reproduction runs are marked slow and left out unless asked for (-m slow).

Under pytest-xdist (`make test` runs two workers) each worker and its subprocesses use one thread.
"""

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long reproduction runs (make test-all runs them)")
    if not config.option.markexpr:
        config.option.markexpr = "not slow"


@pytest.fixture
def on_nets(monkeypatch):
    """on_nets(fn): call fn(g, d) on the nets every `common.Run.make_nets` builds, before training uses them
    (to register hooks, or to keep them)."""
    import common

    def install(fn):
        real_make_nets = common.Run.make_nets

        def make_nets(run, *args, **kwargs):
            g, d = real_make_nets(run, *args, **kwargs)
            fn(g, d)
            return g, d

        monkeypatch.setattr(common.Run, "make_nets", make_nets)

    return install


@pytest.fixture(scope="session")
def digits_classifiers(tmp_path_factory):
    """A classifiers folder for the smoke runs on digits, so that no run trains one. Returns that folder.

    8 px: the full fit, trained into the repository's data/classifiers/ cache as a run with --data-root data
    would (the in-process tests on digits score with that cache too), and copied here.
    16 px: a 200-step fit (about 10 s, not the full fit's 2 minutes), in a folder the test workers share; only
    smoke runs at 16 px score with it, and they check the pipeline, not the score.
    metrics.data_classifier's lock makes one worker fit each and the other wait and load it."""
    import data as datasets
    import metrics

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # xdist: every worker's parent
    folder = shared / "classifiers"
    repo = Path(__file__).resolve().parent.parent / "data"

    def full_8px():
        metrics.data_classifier(datasets.load("digits", image_size=8), repo)
        folder.mkdir(exist_ok=True)
        tmp = folder / f"digits-1x8px.{os.getpid()}.tmp"
        shutil.copyfile(repo / "classifiers" / "digits-1x8px.pt", tmp)
        tmp.replace(folder / "digits-1x8px.pt")  # whole or absent for the other worker

    def short_16px():
        fit = metrics.train_classifier
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(metrics, "train_classifier", lambda *a, **kw: fit(*a, **{**kw, "steps": 200}))
            metrics.data_classifier(datasets.load("digits", image_size=16), shared)

    for get in (short_16px, full_8px) if os.environ.get("PYTEST_XDIST_WORKER") == "gw1" else (full_8px, short_16px):
        get()  # two workers: one fit each at once
    return folder
