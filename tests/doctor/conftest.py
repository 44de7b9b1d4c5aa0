"""Fixtures for the doctor's tests: one kit of keys for the whole session."""

from __future__ import annotations

import pytest

from cis2.keys import generate_signing_key

from .kit import Kit


@pytest.fixture(scope="session")
def kit() -> Kit:
    return Kit(key=generate_signing_key(), other=generate_signing_key())
