from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cis2._client_auth import PrivateKeyJwt
from cis2._core import RelyingParty, Settings
from cis2.keys import SigningKey, generate_signing_key

from .provider import CLIENT_ID, ISSUER, REDIRECT_URI, Provider

_CLIENT_KEY: list[SigningKey] = []


@pytest.fixture
def client_key() -> SigningKey:
    if not _CLIENT_KEY:
        _CLIENT_KEY.append(generate_signing_key())
    return _CLIENT_KEY[0]


@pytest.fixture
def provider() -> Provider:
    return Provider()


RpFactory = Callable[..., RelyingParty]


@pytest.fixture
def make_rp(provider: Provider, client_key: SigningKey) -> RpFactory:
    def make(**settings: Any) -> RelyingParty:
        base = Settings(ISSUER, CLIENT_ID, REDIRECT_URI, PrivateKeyJwt(client_key))
        fields = {name: getattr(base, name) for name in base.__slots__}
        fields.update(settings)
        return RelyingParty(Settings(**fields), clock=provider.clock)

    return make
