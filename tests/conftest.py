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
