"""The simulator as the independent clients meet it: headless, one client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from cis2.keys import SigningKey
from cis2.simulator.testing import (
    RunningSimulator,
    client_registration,
    run_simulator,
)

__all__ = ["simulator_for"]


@contextmanager
def simulator_for(
    client_id: str, redirect_uri: str, key: SigningKey
) -> Iterator[RunningSimulator]:
    """A headless simulator with one private_key_jwt client that may refresh."""
    registration = client_registration(
        client_id,
        redirect_uri,
        key,
        grant_types=("authorization_code", "refresh_token"),
    )
    with run_simulator(headless=True, clients=(registration,)) as running:
        yield running
