"""Shared test set-up: long reproduction runs are marked slow and left out unless asked for (-m slow).

Under pytest-xdist (`make test` runs two workers) each worker and its subprocesses use one thread.
"""

import os

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

    200-step fits (8 px about 5 s, 16 px about 10 s; the full fits take 30 s and 2 minutes): the smoke runs
    check the pipeline, not the score. They sit in a folder the test workers share, each worker fitting one at
    once (metrics.data_classifier's lock: the other waits and loads it). The full 8 px fit is checked in
    test_metrics, in the repository's data/classifiers/ cache that in-process tests on digits score with."""
    import data as datasets
    import metrics

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # xdist: every worker's parent
    fit = metrics.train_classifier
    sizes = (16, 8) if os.environ.get("PYTEST_XDIST_WORKER") == "gw1" else (8, 16)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(metrics, "train_classifier", lambda *a, **kw: fit(*a, **{**kw, "steps": 200}))
        for size in sizes:
            metrics.data_classifier(datasets.load("digits", image_size=size), shared)
    return shared / "classifiers"
