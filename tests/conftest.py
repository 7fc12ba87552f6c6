"""Shared test set-up: long reproduction runs are marked slow and left out unless asked for (-m slow)."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long reproduction runs (make test-all runs them)")
    if not config.option.markexpr:
        config.option.markexpr = "not slow"
