"""Fixtures for the interop tests: node's oidc-provider configured like CIS2.

Tests marked ``node`` get the node check first (skip, or fail under
``CIS2_REQUIRE_NODE=1``). The provider is started once per module on a free
loopback port with two registered clients: the one the tests sign in with
(private_key_jwt, RS512, back-channel logout to a receiver in this
process) and one registered for RS256.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

import cis2
from cis2.keys import SigningKey
from cis2.simulator import SimulatorConfig

from ._cis2_like import (
    CLIENT_ID,
    RS256_CLIENT_ID,
    LogoutReceiver,
    accounts,
    registration,
)
from ._node import NodeProcess, require_node, start_node


@pytest.fixture(autouse=True)
def _node_available(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("node") is not None:
        require_node()


@pytest.fixture(scope="module")
def client_key() -> SigningKey:
    return cis2.generate_signing_key(alg="RS512")


@pytest.fixture(scope="module")
def rs256_key() -> SigningKey:
    return cis2.generate_signing_key(alg="RS256")


@pytest.fixture(scope="module")
def logout_receiver() -> Iterator[LogoutReceiver]:
    with LogoutReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def oidc_provider(
    client_key: SigningKey, rs256_key: SigningKey, logout_receiver: LogoutReceiver
) -> Iterator[NodeProcess]:
    """node's oidc-provider as CIS2; ``.ready["issuer"]`` is its issuer."""
    require_node()
    config = {
        "clients": [
            registration(CLIENT_ID, client_key, logout_receiver.uri),
            registration(RS256_CLIENT_ID, rs256_key, None),
        ],
        # The simulator's own default personas, so both providers know the
        # same people.
        "accounts": accounts(SimulatorConfig().personas),
    }
    with start_node("cis2-like-provider.mjs", ["0", json.dumps(config)]) as node:
        yield node
