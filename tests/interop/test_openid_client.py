"""node's openid-client, an OpenID Certified relying party, against the simulator.

interop/openid-client-rp.mjs signs in headlessly with private_key_jwt,
validates the ID token openid-client's own strict way (signature included),
refreshes and calls UserInfo. Its assertion mistakes, its own default
among them (``aud`` = the issuer, which CIS2 refuses), must each get
CIS2's one answer, ``JWT is not valid``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any, Final

import pytest

import cis2
from cis2.keys import SigningKey
from cis2.simulator.testing import RunningSimulator

from ._node import run_node
from ._simulator import simulator_for

pytestmark = pytest.mark.node

CLIENT_ID: Final = "666666666666.apps.supplier"
REDIRECT_URI: Final = "http://127.0.0.1:9/openid-client-callback"
PERSONA: Final = "656005750108"
NOT_VALID: Final = {"error_description": "JWT is not valid", "error": "invalid_client"}


@pytest.fixture(scope="module")
def rp_key() -> SigningKey:
    return cis2.generate_signing_key(alg="RS512")


@pytest.fixture(scope="module")
def simulator(rp_key: SigningKey) -> Iterator[RunningSimulator]:
    with simulator_for(CLIENT_ID, REDIRECT_URI, rp_key) as running:
        yield running


def openid_client(
    simulator: RunningSimulator, key: SigningKey, mode: str
) -> dict[str, Any]:
    config = {
        "issuer": simulator.issuer,
        "client_id": CLIENT_ID,
        "private_key_pem": key.private_pem().decode(),
        "kid": key.kid,
        "alg": key.alg,
        "redirect_uri": REDIRECT_URI,
        "login_hint": PERSONA,
        "mode": mode,
    }
    return run_node("openid-client-rp.mjs", [json.dumps(config)])


def test_openid_client_signs_in_validates_refreshes_and_calls_userinfo(
    simulator: RunningSimulator, rp_key: SigningKey
) -> None:
    result = openid_client(simulator, rp_key, "good")

    assert result["ok"] is True, result
    assert result["claims"]["iss"] == simulator.issuer
    assert result["claims"]["sub"] == PERSONA
    assert result["claims"]["acr"] == "AAL3_ANY"
    assert result["refreshed_claims"]["sub"] == PERSONA
    assert result["new_access_token"] is True
    assert result["userinfo"]["sub"] == PERSONA
    assert result["userinfo"]["nhsid_nrbac_roles"]


# Each mode and the reason the simulator logs for refusing it.
MISTAKES: Final = {
    "default": "aud_mismatch",
    "no-kid": "kid_missing",
    "rs256": "alg_not_registered",
    "long-lived": "exp_too_far",
    "expired": "exp_passed",
    "api-key-iss": "iss_mismatch",
}


@pytest.mark.parametrize("mode", list(MISTAKES))
def test_openid_client_assertion_mistake_gets_jwt_is_not_valid(
    simulator: RunningSimulator,
    rp_key: SigningKey,
    caplog: pytest.LogCaptureFixture,
    mode: str,
) -> None:
    with caplog.at_level(logging.INFO, "cis2.simulator"):
        result = openid_client(simulator, rp_key, mode)

    assert result["ok"] is False, result
    assert result["body"] == NOT_VALID
    assert result["status"] in (400, 401)
    assert f": {MISTAKES[mode]}:" in caplog.text
