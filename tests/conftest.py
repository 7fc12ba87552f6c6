"""Shared test set-up: long reproduction runs are marked slow and left out unless asked for (-m slow).

Under pytest-xdist (`make test` runs two workers) each worker and its subprocesses use one thread.
"""

import os
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
def digits_classifiers():
    """The digits classifiers (8 and 16 px) that runs on digits score with, trained into the repository's
    data/classifiers/ cache as a run with --data-root data would (metrics.data_classifier's lock: one worker
    trains, the other waits and loads), so that no test trains them again. Returns that folder."""
    import data as datasets
    import metrics

    root = Path(__file__).resolve().parent.parent / "data"
    sizes = (16, 8) if os.environ.get("PYTEST_XDIST_WORKER") == "gw1" else (8, 16)  # two workers: one each at once
    for size in sizes:
        metrics.data_classifier(datasets.load("digits", image_size=size), root)
    return root / "classifiers"
