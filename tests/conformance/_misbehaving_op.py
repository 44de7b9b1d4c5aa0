"""A misbehaving OpenID Provider for the RP conformance cases.

The OpenID Foundation's relying-party tests run the client against a
provider that answers correctly except for one deliberate fault per case
(a wrong ``iss``, an unsigned token, a rotated key...). This module is that
provider, small and CIS2-shaped: Starlette on a loopback port in a thread,
with the issuer under CIS2's realm path and an explicit port. Tokens are
signed with joserfc, not with cis2's own JWS layer, so the code under test
never checks its own output.

A test sets ``provider.fault`` to a ``Fault`` and signs in; everything the
fault does not mention is what a correct CIS2 would send.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

import uvicorn
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

import cis2
from cis2.keys import SigningKey

__all__ = [
    "CLIENT_ID",
    "DELETE",
    "PERSONA",
    "REALM_PATH",
    "REDIRECT_URI",
    "Fault",
    "MisbehavingProvider",
    "running_provider",
]

REALM_PATH: Final = "/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare"
CLIENT_ID: Final = "999999999999.apps.national"
REDIRECT_URI: Final = "http://127.0.0.1:9/cis2_redirect"
PERSONA: Final = "656005750108"
LOGOUT_EVENT: Final = "http://schemas.openid.net/event/backchannel-logout"
ASSERTION_TYPE: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

#: A claim or header override with this value removes the member.
DELETE: Final = object()


@dataclass
class Fault:
    """What the provider gets wrong in one conformance case.

    ``id_token`` and ``header`` override members of the ID token from the
    code grant, ``refreshed_id_token`` those from the refresh grant, and
    ``userinfo`` members of the UserInfo answer. ``signature`` is "good",
    "bad" (one flipped byte) or "none" (``alg`` none, empty signature).
    ``rotate_before_signing`` publishes a brand new key just before the ID
    token is signed with it.
    """

    id_token: dict[str, Any] = field(default_factory=dict)
    header: dict[str, Any] = field(default_factory=dict)
    refreshed_id_token: dict[str, Any] = field(default_factory=dict)
    userinfo: dict[str, Any] = field(default_factory=dict)
    signature: str = "good"
    rotate_before_signing: bool = False
    discovery_issuer: str | None = None


@dataclass
class _Grant:
    nonce: str | None
    code_challenge: str | None
    acr: str
    sid: str


class MisbehavingProvider:
    """The provider's state: its keys, its grants and the fault to commit."""

    def __init__(self, port: int, client_key: SigningKey) -> None:
        self.port = port
        self.issuer = f"http://127.0.0.1:{port}{REALM_PATH}"
        self.client_key = client_key
        self.fault = Fault()
        self.signing_key = _new_provider_key()
        self.published: list[SigningKey] = [self.signing_key]
        self.publish_kids = True
        #: JWKs published beside the real keys (unusable ones, for example).
        self.extra_jwks: list[dict[str, Any]] = []
        self.jwks_fetches = 0
        #: Every token and code handed out, to prove none leaks into an error.
        self.issued: list[str] = []
        self._codes: dict[str, _Grant] = {}
        self._access_tokens: dict[str, str] = {}
        self._refresh_tokens: dict[str, _Grant] = {}

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/access_token"

    def rotate_key(self) -> SigningKey:
        """Replace the signing key; only the new one is published."""
        self.signing_key = _new_provider_key()
        self.published = [self.signing_key]
        return self.signing_key

    def logout_token(
        self,
        overrides: Mapping[str, Any] | None = None,
        *,
        header: Mapping[str, Any] | None = None,
        signature: str = "good",
    ) -> str:
        """A back-channel logout token (OIDC Back-Channel Logout 2.4)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 120,
            "jti": str(uuid.uuid4()),
            "sub": PERSONA,
            "sid": "sid-" + PERSONA,
            "events": {LOGOUT_EVENT: {}},
        }
        base_header = {"alg": "RS256", "kid": self.signing_key.kid, "typ": "logout+jwt"}
        return self.sign(
            _apply(claims, overrides or {}),
            _apply(base_header, header or {}),
            signature,
        )

    def sign(
        self, claims: Mapping[str, Any], header: Mapping[str, Any], signature: str
    ) -> str:
        """Sign claims with the current key, committing the signature fault."""
        payload = json.dumps(claims, separators=(",", ":")).encode()
        if signature == "none":
            return _unsigned(header, payload)
        alg = header["alg"]
        key = _joserfc_key(self.signing_key, alg)
        token = jws.serialize_compact(dict(header), payload, key, algorithms=[alg])
        if signature == "bad":
            return _flip_signature_byte(token)
        return token

    # The endpoints, as CIS2 names them (cis2-reference section 2).

    def discovery(self, request: Request) -> Response:
        issuer = self.fault.discovery_issuer or self.issuer
        return JSONResponse(
            {
                "issuer": issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": self.token_endpoint,
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "jwks_uri": f"{self.issuer}/connect/jwk_uri",
                "end_session_endpoint": f"{self.issuer}/connect/endSession",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                "token_endpoint_auth_signing_alg_values_supported": ["RS512"],
                "code_challenge_methods_supported": ["S256"],
                "backchannel_logout_supported": True,
                "backchannel_logout_session_supported": True,
            }
        )

    def jwks(self, request: Request) -> Response:
        self.jwks_fetches += 1
        keys = [key.public_jwk() for key in self.published]
        if not self.publish_kids:
            keys = [{k: v for k, v in jwk.items() if k != "kid"} for jwk in keys]
        keys += self.extra_jwks
        return JSONResponse({"keys": keys}, headers={"Cache-Control": "no-cache"})

    def authorize(self, request: Request) -> Response:
        """Headless sign-in of login_hint: straight back with code and state."""
        params = request.query_params
        redirect_uri = params.get("redirect_uri")
        if params.get("client_id") != CLIENT_ID or redirect_uri != REDIRECT_URI:
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        code = secrets.token_urlsafe(24)
        self.issued.append(code)
        self._codes[code] = _Grant(
            nonce=params.get("nonce"),
            code_challenge=params.get("code_challenge"),
            acr=params.get("acr_values", "AAL3_ANY"),
            sid="sid-" + PERSONA,
        )
        query = f"code={code}&state={params.get('state', '')}"
        return RedirectResponse(f"{redirect_uri}?{query}", status_code=302)

    async def token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        refusal = self._refuse_client(form)
        if refusal is not None:
            return refusal
        if form.get("grant_type") == "authorization_code":
            return self._code_grant(form)
        if form.get("grant_type") == "refresh_token":
            return self._refresh_grant(form)
        return _error(400, "unsupported_grant_type")

    def userinfo(self, request: Request) -> Response:
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        sub = self._access_tokens.get(bearer)
        if sub is None:
            return _error(401, "invalid_token")
        return JSONResponse(_apply(_userinfo_claims(sub), self.fault.userinfo))

    def end_session(self, request: Request) -> Response:
        return Response(status_code=204)

    # The grants.

    def _code_grant(self, form: Mapping[str, str]) -> Response:
        grant = self._codes.pop(form.get("code", ""), None)
        if grant is None or form.get("redirect_uri") != REDIRECT_URI:
            return _error(400, "invalid_grant")
        if grant.code_challenge != _s256(form.get("code_verifier", "")):
            return _error(400, "invalid_grant")
        if self.fault.rotate_before_signing:
            self.rotate_key()
        return self._tokens(grant, self.fault.id_token, with_nonce=True)

    def _refresh_grant(self, form: Mapping[str, str]) -> Response:
        grant = self._refresh_tokens.get(form.get("refresh_token", ""))
        if grant is None:
            return _error(400, "invalid_grant")
        return self._tokens(grant, self.fault.refreshed_id_token, with_nonce=False)

    def _tokens(
        self, grant: _Grant, overrides: Mapping[str, Any], *, with_nonce: bool
    ) -> Response:
        access_token = secrets.token_urlsafe(24)
        refresh_token = secrets.token_urlsafe(24)
        self._access_tokens[access_token] = PERSONA
        self._refresh_tokens[refresh_token] = grant
        claims = _id_token_claims(self.issuer, grant, access_token, with_nonce)
        header = {"alg": "RS256", "kid": self.signing_key.kid, "typ": "JWT"}
        if not self.publish_kids:
            header.pop("kid")
        id_token = self.sign(
            _apply(claims, overrides),
            _apply(header, self.fault.header),
            self.fault.signature,
        )
        self.issued += [id_token, access_token, refresh_token]
        return JSONResponse(
            {
                "access_token": access_token,
                "refresh_token": refresh_token,
                "id_token": id_token,
                "token_type": "Bearer",
                "expires_in": 3599,
                "scope": "openid profile nationalrbacaccess",
            },
            headers={"Cache-Control": "no-store"},
        )

    def _refuse_client(self, form: Mapping[str, str]) -> Response | None:
        """CIS2's one answer to any bad client assertion (reference 4.4)."""
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            return _invalid_client()
        key = RSAKey.import_key(self.client_key.public_key)
        try:
            token = jwt.decode(
                form.get("client_assertion", ""), key, algorithms=[self.client_key.alg]
            )
        except (JoseError, ValueError):
            return _invalid_client()
        claims = token.claims
        if not (claims.get("iss") == claims.get("sub") == CLIENT_ID):
            return _invalid_client()
        if claims.get("aud") != self.token_endpoint:
            return _invalid_client()
        if not isinstance(claims.get("exp"), int) or claims["exp"] < time.time():
            return _invalid_client()
        return None

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(f"{REALM_PATH}/.well-known/openid-configuration", self.discovery),
                Route(f"{REALM_PATH}/connect/jwk_uri", self.jwks),
                Route(f"{REALM_PATH}/authorize", self.authorize),
                Route(f"{REALM_PATH}/access_token", self.token, methods=["POST"]),
                Route(f"{REALM_PATH}/userinfo", self.userinfo),
                Route(f"{REALM_PATH}/connect/endSession", self.end_session),
            ]
        )


@contextmanager
def running_provider(client_key: SigningKey) -> Iterator[MisbehavingProvider]:
    """Serve a MisbehavingProvider on a free loopback port for the block."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    provider = MisbehavingProvider(sock.getsockname()[1], client_key)
    config = uvicorn.Config(
        provider.app(), log_level="warning", lifespan="off", ws="none", http="h11"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    try:
        _wait_until_started(server)
        yield provider
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _wait_until_started(server: uvicorn.Server) -> None:
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the misbehaving provider did not start in 10 s")
        time.sleep(0.01)


def _new_provider_key() -> SigningKey:
    # CIS2's key ids are opaque base64 SHA-1 values with '/', '+' and '=';
    # a kid of that shape keeps the client honest about treating it as opaque.
    kid = base64.b64encode(secrets.token_bytes(20)).decode()
    return cis2.generate_signing_key(alg="RS256", kid=kid)


def _id_token_claims(
    issuer: str, grant: _Grant, access_token: str, with_nonce: bool
) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": PERSONA,
        "aud": CLIENT_ID,
        "azp": CLIENT_ID,
        "iat": now,
        "exp": now + 300,
        "auth_time": now,
        "acr": grant.acr,
        "amr": ["N3_SMARTCARD"],
        "sid": grant.sid,
        "at_hash": _half_hash(access_token),
        "id_assurance_level": "3",
        "authentication_assurance_level": "3",
    }
    if with_nonce and grant.nonce is not None:
        claims["nonce"] = grant.nonce
    return claims


def _userinfo_claims(sub: str) -> dict[str, Any]:
    return {
        "sub": sub,
        "uid": sub,
        "name": "Conformance Tester",
        "given_name": "Conformance",
        "family_name": "Tester",
        "nhsid_nrbac_roles": [
            {
                "person_orgid": "656008045105",
                "person_roleid": "656014452101",
                "org_code": "A81001",
                "role_name": '"Clinical":"Clinical Provision":'
                '"General Medical Practitioner"',
                "role_code": "S0010:G0020:R0260",
            }
        ],
    }


def _apply(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for name, value in overrides.items():
        if value is DELETE:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def _joserfc_key(key: SigningKey, alg: str) -> RSAKey | OctKey:
    if alg.startswith("HS"):
        # The classic algorithm-confusion forgery: HMAC keyed with the
        # provider's public key, which any attacker can read from the JWKS.
        public = json.dumps(key.public_jwk(), sort_keys=True).encode()
        return OctKey.import_key(public)
    return RSAKey.import_key(key.private_pem())


def _unsigned(header: Mapping[str, Any], payload: bytes) -> str:
    unsigned_header = {k: v for k, v in header.items() if k != "kid"}
    unsigned_header["alg"] = "none"
    head = _b64(json.dumps(unsigned_header).encode())
    return f"{head}.{_b64(payload)}."


def _flip_signature_byte(token: str) -> str:
    head, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[len(raw) // 2] ^= 0x01
    return f"{head}.{payload}.{_b64(bytes(raw))}"


def _half_hash(value: str) -> str:
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return _b64(digest[: len(digest) // 2])


def _s256(verifier: str) -> str:
    return _b64(hashlib.sha256(verifier.encode("ascii")).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _error(status: int, error: str) -> Response:
    return JSONResponse({"error": error}, status_code=status)


def _invalid_client() -> Response:
    return JSONResponse(
        {"error_description": "JWT is not valid", "error": "invalid_client"},
        status_code=401,
    )
