"""A pytest plugin: the ``cis2_simulator`` fixture.

Enable it with ``pytest_plugins = ["cis2.simulator.pytest_plugin"]`` in a
conftest.py. The fixture is a fresh headless simulator per test, with the
default personas and the demo client (its key is ``.demo_key``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cis2.simulator.testing import RunningSimulator, run_simulator

__all__ = ["cis2_simulator"]


@pytest.fixture
def cis2_simulator() -> Iterator[RunningSimulator]:
    """A running headless simulator on loopback for one test."""
    with run_simulator(headless=True) as running:
        yield running
