"""Authlib's OAuth client, an implementation nobody here wrote, against the simulator.

Authlib signs in headlessly with private_key_jwt, validates the id_token its
own way (joserfc for the signature, Authlib's CodeIDToken for the claims),
refreshes and calls UserInfo. Then each assertion mistake an Authlib user
makes by keeping its defaults (RS256 while RS512 is registered, no kid, an
hour's lifetime) and the classic CIS2 ones must get CIS2's one answer:
``{"error_description":"JWT is not valid","error":"invalid_client"}``.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any, Final

import httpx
import pytest
from authlib.deprecate import AuthlibDeprecationWarning
from authlib.integrations.base_client import OAuthError
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7523.assertion import private_key_jwt_sign
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

import cis2
from cis2.keys import SigningKey
from cis2.simulator.testing import RunningSimulator

from ._simulator import simulator_for

# Authlib 1.9 warns at import that its httpx integration will move to the
# httpx2 package; the integration itself is unchanged. The filter can go
# when cis2's test extras pin an Authlib whose integration imports quietly.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client

CLIENT_ID: Final = "555555555555.apps.supplier"
REDIRECT_URI: Final = "http://127.0.0.1:9/authlib-callback"
PERSONA: Final = "656005750108"
NOT_VALID: Final = {"error_description": "JWT is not valid", "error": "invalid_client"}


class Cis2PrivateKeyJWT(PrivateKeyJWT):  # type: ignore[misc]
    """private_key_jwt as CIS2 needs it: the registered alg, kid, 300 s life.

    Authlib's PrivateKeyJWT offers alg, headers and claims but not the
    lifetime, which it fixes at an hour; this is the override an Authlib
    user must write.
    """

    def __init__(self, key: SigningKey, **options: Any) -> None:
        self.lifetime = options.pop("lifetime", 300)
        headers = {"kid": key.kid, "typ": "JWT", **options.pop("headers", {})}
        super().__init__(alg=key.alg, headers=headers, **options)

    def sign(self, auth: Any, token_endpoint: str) -> str:
        signed: str = private_key_jwt_sign(
            auth.client_secret,
            client_id=auth.client_id,
            token_endpoint=token_endpoint,
            claims=dict(self.claims or {}),
            header=dict(self.headers),
            alg=self.alg,
            expires_in=self.lifetime,
        )
        return signed


@pytest.fixture(scope="module")
def authlib_key() -> SigningKey:
    return cis2.generate_signing_key(alg="RS512")


@pytest.fixture(scope="module")
def simulator(authlib_key: SigningKey) -> Iterator[RunningSimulator]:
    with simulator_for(CLIENT_ID, REDIRECT_URI, authlib_key) as running:
        yield running


@pytest.fixture(scope="module")
def metadata(simulator: RunningSimulator) -> dict[str, Any]:
    discovery = f"{simulator.issuer}/.well-known/openid-configuration"
    document: dict[str, Any] = httpx.get(discovery).json()
    return document


@pytest.fixture
def authlib_rp(
    metadata: dict[str, Any], authlib_key: SigningKey
) -> Iterator[Callable[[PrivateKeyJWT], AuthlibRelyingParty]]:
    """Make Authlib relying parties with a given client auth; closed after."""
    made: list[AuthlibRelyingParty] = []

    def make(auth: PrivateKeyJWT) -> AuthlibRelyingParty:
        made.append(AuthlibRelyingParty(metadata, authlib_key, auth))
        return made[-1]

    yield make
    for rp in made:
        rp.oauth.close()


class AuthlibRelyingParty:
    """An Authlib OAuth2Client that records the token endpoint's answers."""

    def __init__(
        self, metadata: dict[str, Any], key: SigningKey, auth: PrivateKeyJWT
    ) -> None:
        self.metadata = metadata
        self.token_answers: list[httpx.Response] = []
        self.oauth = OAuth2Client(
            client_id=CLIENT_ID,
            client_secret=RSAKey.import_key(key.private_pem()),
            token_endpoint_auth_method="private_key_jwt",
            scope="openid profile nationalrbacaccess",
            redirect_uri=REDIRECT_URI,
            code_challenge_method="S256",
            event_hooks={"response": [self._record]},
        )
        self.oauth.register_client_auth_method(auth)
        self.nonce = ""

    def _record(self, response: httpx.Response) -> None:
        if response.url == self.metadata["token_endpoint"]:
            response.read()
            self.token_answers.append(response)

    def sign_in(self) -> dict[str, Any]:
        """Authorize headlessly and redeem the code; the token response."""
        verifier = "v" * 16 + str(time.time_ns()) + "x" * 24
        self.nonce = f"nonce-{time.time_ns()}"
        url, state = self.oauth.create_authorization_url(
            self.metadata["authorization_endpoint"],
            code_verifier=verifier,
            nonce=self.nonce,
            login_hint=PERSONA,
            acr_values="AAL3_ANY",
            prompt="login",
        )
        answer = self.oauth.request(
            "GET", url, follow_redirects=False, withhold_token=True
        )
        callback = answer.headers["location"]
        token: dict[str, Any] = self.oauth.fetch_token(
            self.metadata["token_endpoint"],
            authorization_response=callback,
            state=state,
            code_verifier=verifier,
        )
        return token

    def validate_id_token(
        self, id_token: str, access_token: str, nonce: str | None
    ) -> dict[str, Any]:
        """Authlib's own strict checks: signature, then CodeIDToken claims."""
        jwks = self.oauth.request("GET", self.metadata["jwks_uri"], withhold_token=True)
        keys = KeySet.import_key_set(jwks.json())
        token = jwt.decode(id_token, keys, algorithms=["RS256"])
        claims = CodeIDToken(
            token.claims,
            token.header,
            options={"iss": {"essential": True, "value": self.metadata["issuer"]}},
            params={
                "client_id": CLIENT_ID,
                "nonce": nonce,
                "access_token": access_token,
            },
        )
        claims.validate(leeway=60)
        return dict(claims)


MakeRp = Callable[[PrivateKeyJWT], "AuthlibRelyingParty"]


def test_authlib_signs_in_validates_refreshes_and_calls_userinfo(
    metadata: dict[str, Any], authlib_key: SigningKey, authlib_rp: MakeRp
) -> None:
    rp = authlib_rp(Cis2PrivateKeyJWT(authlib_key))

    token = rp.sign_in()
    claims = rp.validate_id_token(token["id_token"], token["access_token"], rp.nonce)
    refreshed = rp.oauth.refresh_token(
        metadata["token_endpoint"], refresh_token=token["refresh_token"]
    )
    refreshed_claims = rp.validate_id_token(
        refreshed["id_token"], refreshed["access_token"], None
    )
    userinfo = rp.oauth.get(metadata["userinfo_endpoint"]).json()

    assert claims["sub"] == refreshed_claims["sub"] == PERSONA
    assert claims["acr"] == "AAL3_ANY"
    assert refreshed["access_token"] != token["access_token"]
    assert userinfo["sub"] == PERSONA
    assert userinfo["nhsid_nrbac_roles"][0]["role_code"].count(":") == 2


# Each mistake, and the reason the simulator logs for it (its explanation,
# kept out of the response body exactly as CIS2 keeps it out).
MISTAKES: Final[dict[str, tuple[dict[str, Any], str]]] = {
    "authlib_defaults": ({"defaults": True}, "alg_not_registered"),
    "rs256_while_rs512_registered": ({"alg": "RS256"}, "alg_not_registered"),
    "no_kid": ({"headers": {"kid": None}}, "kid_missing"),
    "authlib_hour_lifetime": ({"lifetime": 3600}, "exp_too_far"),
    "issuer_as_aud": ({"aud": "issuer"}, "aud_mismatch"),
    "token_endpoint_with_trailing_slash": ({"aud": "slash"}, "aud_mismatch"),
    # Authlib sends no form client_id with private_key_jwt (RFC 7523 does
    # not ask for one), so the simulator can only know the client by iss.
    "api_key_as_iss_and_sub": (
        {"claims": {"iss": "a" * 32, "sub": "a" * 32}},
        "client_unknown",
    ),
}


def mistaken_auth(
    key: SigningKey, metadata: dict[str, Any], mistake: dict[str, Any]
) -> PrivateKeyJWT:
    """The PrivateKeyJWT that makes one mistake."""
    if mistake.get("defaults"):
        return PrivateKeyJWT()
    options: dict[str, Any] = {}
    if mistake.get("aud") == "issuer":
        options["token_endpoint"] = metadata["issuer"]
    if mistake.get("aud") == "slash":
        options["token_endpoint"] = metadata["token_endpoint"] + "/"
    if "claims" in mistake:
        options["claims"] = mistake["claims"]
    if "lifetime" in mistake:
        options["lifetime"] = mistake["lifetime"]
    auth = Cis2PrivateKeyJWT(key, **options)
    if "alg" in mistake:
        auth.alg = mistake["alg"]
    for name, value in mistake.get("headers", {}).items():
        if value is None:
            auth.headers.pop(name, None)
    return auth


@pytest.mark.parametrize("mistake", list(MISTAKES), ids=list(MISTAKES))
def test_authlib_assertion_mistake_gets_jwt_is_not_valid(
    metadata: dict[str, Any],
    authlib_key: SigningKey,
    authlib_rp: MakeRp,
    caplog: pytest.LogCaptureFixture,
    mistake: str,
) -> None:
    change, reason = MISTAKES[mistake]
    rp = authlib_rp(mistaken_auth(authlib_key, metadata, change))

    with caplog.at_level(logging.INFO, "cis2.simulator"), pytest.raises(OAuthError):
        rp.sign_in()

    answer = rp.token_answers[-1]
    assert answer.status_code in (400, 401)
    assert json.loads(answer.content) == NOT_VALID
    assert answer.content == json.dumps(NOT_VALID, separators=(",", ":")).encode()
    assert f": {reason}" in caplog.text


def test_authlib_reused_jti_is_refused(
    metadata: dict[str, Any], authlib_key: SigningKey, authlib_rp: MakeRp
) -> None:
    """A jti fixed in Authlib's claims works once, then never again."""
    rp = authlib_rp(Cis2PrivateKeyJWT(authlib_key, claims={"jti": "fixed-jti-0001"}))
    token = rp.sign_in()

    with pytest.raises(OAuthError):
        rp.oauth.refresh_token(
            metadata["token_endpoint"], refresh_token=token["refresh_token"]
        )

    assert json.loads(rp.token_answers[-1].content) == NOT_VALID
