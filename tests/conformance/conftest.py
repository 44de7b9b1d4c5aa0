"""Fixtures for the RP conformance cases: a misbehaving provider and a client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

import cis2
from cis2.keys import SigningKey

from ._misbehaving_op import CLIENT_ID, REDIRECT_URI, MisbehavingProvider
from ._misbehaving_op import running_provider as _running_provider


@pytest.fixture(scope="session")
def client_key() -> SigningKey:
    """The relying party's private_key_jwt key, registered with RS512."""
    return cis2.generate_signing_key(alg="RS512")


@pytest.fixture
def provider(client_key: SigningKey) -> Iterator[MisbehavingProvider]:
    with _running_provider(client_key) as running:
        yield running


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def client(
    provider: MisbehavingProvider, client_key: SigningKey, http: httpx.Client
) -> cis2.Client:
    return cis2.Client(
        provider.issuer, CLIENT_ID, REDIRECT_URI, signing_key=client_key, http=http
    )
