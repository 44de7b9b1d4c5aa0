"""An in-memory OpenID Provider that answers the core's HttpRequests.

The sans-I/O core yields requests and takes responses, so its rules can be
tested at a chosen instant without sockets: this provider signs real tokens
with real keys and answers like CIS2, and each test bends one thing.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from cis2._http import HttpRequest, HttpResponse, Operation
from cis2._jws import b64url_encode
from cis2.keys import SigningKey, generate_signing_key

T = TypeVar("T")
ISSUER = "https://cis2.test:443/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare"
CLIENT_ID = "999999999999.apps.national"
REDIRECT_URI = "https://app.test/callback"

_KEYS: list[SigningKey] = []


def provider_key(index: int = 0) -> SigningKey:
    """RS256 keys shared by the whole test session (RSA generation is slow)."""
    while len(_KEYS) <= index:
        _KEYS.append(generate_signing_key(alg="RS256", kid=f"op-key-{len(_KEYS)}"))
    return _KEYS[index]


def at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()
    return b64url_encode(digest[:16])


@dataclass
class Provider:
    """Answers discovery, JWKS, token, UserInfo and end-session requests."""

    now: float = field(default_factory=time.time)
    keys: list[SigningKey] = field(default_factory=lambda: [provider_key(0)])
    signing_key: SigningKey = field(default_factory=lambda: provider_key(0))
    issuer: str = ISSUER
    discovery_overrides: dict[str, Any] = field(default_factory=dict)
    id_token_overrides: dict[str, Any] = field(default_factory=dict)
    id_token_header: dict[str, Any] | None = None
    userinfo_claims: dict[str, Any] = field(default_factory=dict)
    token_status: int = 200
    token_body: dict[str, Any] | None = None
    nonce: str | None = None
    requests: list[HttpRequest] = field(default_factory=list)
    cache_control: str = "max-age=3600"
    access_token: str = "opaque-access-token"
    userinfo_as_jwt: bool = False
    #: Signs the UserInfo JWT when set (the provider's signing key otherwise).
    userinfo_key: SigningKey | None = None
    userinfo_tamper: bool = False

    def clock(self) -> float:
        return self.now

    def run(self, operation: Operation[T]) -> T:
        """Drive a core operation to its end against this provider."""
        try:
            request = next(operation)
            while True:
                request = operation.send(self.answer(request))
        except StopIteration as done:
            result: T = done.value
            return result

    def answer(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        path = urlsplit(request.url).path
        handlers: dict[str, Callable[[HttpRequest], HttpResponse]] = {
            "/.well-known/openid-configuration": self._discovery,
            "/connect/jwk_uri": self._jwks,
            "/access_token": self._token,
            "/userinfo": self._userinfo,
            "/connect/endSession": lambda r: _json(204, {}),
        }
        for suffix, handler in handlers.items():
            if path.endswith(suffix):
                return handler(request)
        return _json(404, {"error": "not_found"})

    def paths(self) -> Iterator[str]:
        for request in self.requests:
            yield urlsplit(request.url).path.rsplit("/", 1)[-1]

    def id_token(self, **overrides: Any) -> str:
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": "656005750104",
            "aud": CLIENT_ID,
            "azp": CLIENT_ID,
            "iat": int(self.now),
            "exp": int(self.now) + 300,
            "auth_time": int(self.now) - 5,
            "acr": "AAL3_ANY",
            "amr": ["N3_SMARTCARD"],
            "sid": "a3b1c9d2-5e7f-4a6b-8c0d-1e2f3a4b5c6d",
            "id_assurance_level": "3",
            "authentication_assurance_level": "3",
            "at_hash": at_hash(self.access_token),
            "tokenName": "id_token",
        }
        if self.nonce is not None:
            claims["nonce"] = self.nonce
        claims.update(self.id_token_overrides)
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return self.sign(claims)

    def sign(
        self,
        claims: dict[str, Any],
        header: dict[str, Any] | None = None,
        key: SigningKey | None = None,
    ) -> str:
        from cis2._jws import sign_compact

        key = key or self.signing_key
        head = (
            header
            or self.id_token_header
            or {
                "typ": "JWT",
                "kid": key.kid,
                "alg": key.alg,
            }
        )
        payload = json.dumps(claims).encode()
        return sign_compact(head, payload, key.private_key, head.get("alg", key.alg))

    def _discovery(self, request: HttpRequest) -> HttpResponse:
        base = self.issuer
        document = {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/access_token",
            "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/connect/jwk_uri",
            "end_session_endpoint": f"{base}/connect/endSession",
            "id_token_signing_alg_values_supported": ["RS256"],
        }
        document.update(self.discovery_overrides)
        return _json(200, document, {"Cache-Control": self.cache_control})

    def _jwks(self, request: HttpRequest) -> HttpResponse:
        body = {"keys": [key.public_jwk() for key in self.keys]}
        return _json(200, body, {"Cache-Control": self.cache_control})

    def _token(self, request: HttpRequest) -> HttpResponse:
        if self.token_body is not None:
            return _json(self.token_status, self.token_body)
        return _json(
            200,
            {
                "access_token": self.access_token,
                "token_type": "Bearer",
                "expires_in": 3599,
                "scope": "openid profile nationalrbacaccess",
                "id_token": self.id_token(),
                "refresh_token": "opaque-refresh-token",
            },
        )

    def _userinfo(self, request: HttpRequest) -> HttpResponse:
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return _json(401, {"error": "invalid_token"})
        claims = {"sub": "656005750104", **self.userinfo_claims}
        if not self.userinfo_as_jwt:
            return _json(200, claims)
        token = self.sign(claims, key=self.userinfo_key)
        if self.userinfo_tamper:
            token = token[:-6] + "AAAAAA"
        return HttpResponse(200, {"Content-Type": "application/jwt"}, token.encode())


def callback_for(url: str, code: str = "the-code") -> str:
    """The callback CIS2 would send for an authorization URL."""
    state = parse_qs(urlsplit(url).query)["state"][0]
    return f"{REDIRECT_URI}?code={code}&state={state}"


def nonce_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["nonce"][0]


def _json(
    status: int, body: Any, headers: dict[str, str] | None = None
) -> HttpResponse:
    return HttpResponse(
        status,
        {"Content-Type": "application/json", **(headers or {})},
        json.dumps(body).encode(),
    )
