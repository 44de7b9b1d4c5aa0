"""Fixtures for the simulator's tests: a real simulator on loopback, real keys.

``rp`` is a small relying party written here on purpose (not ``cis2.Client``)
so each test can send exactly the request it means to, including broken
ones.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cis2._client_auth import CLIENT_ASSERTION_TYPE
from cis2._jws import sign_compact
from cis2._secret import Secret
from cis2.keys import SigningKey, generate_signing_key, jwks
from cis2.simulator import ClientRegistration
from cis2.simulator.testing import (
    RunningSimulator,
    client_registration,
    run_app,
    run_simulator,
)

DEMO_CLIENT = "999999999999.apps.national"
DEMO_REDIRECT = "http://127.0.0.1:8765/callback"
SECRET_CLIENT = "111111111111.apps.supplier"
URI_CLIENT = "222222222222.apps.supplier"
LOGOUT_CLIENT = "333333333333.apps.supplier"
GP_AAL3 = "656005750108"
GP_AAL2 = "656005750111"
AAL1_USER = "656005750110"


@dataclass
class Receiver:
    """A real Starlette app on loopback: a client's JWKS and logout endpoint."""

    jwks: dict[str, Any]
    logout_tokens: list[str] = field(default_factory=list)
    base_url: str = ""
    jwks_fetches: int = 0

    def app(self) -> Starlette:
        async def jwks_uri(request: Request) -> Response:
            self.jwks_fetches += 1
            return JSONResponse(self.jwks)

        async def backchannel(request: Request) -> Response:
            form = await request.form()
            self.logout_tokens.append(str(form["logout_token"]))
            return JSONResponse({}, headers={"Cache-Control": "no-store"})

        async def not_jwks(request: Request) -> Response:
            return JSONResponse({"keys": "none here"})

        return Starlette(
            routes=[
                Route("/jwks.json", jwks_uri),
                Route("/not-jwks.json", not_jwks),
                Route("/backchannel", backchannel, methods=["POST"]),
            ]
        )


@dataclass
class RelyingParty:
    """Sends authorization and token requests exactly as a test shapes them."""

    sim: RunningSimulator
    http: httpx.Client
    key: SigningKey
    client_id: str = DEMO_CLIENT
    redirect_uri: str = DEMO_REDIRECT

    def authorize(self, **params: str | None) -> httpx.Response:
        query = {
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "response_type": "code",
            "scope": "openid profile nationalrbacaccess",
            "state": "state-" + secrets.token_hex(4),
            "nonce": "nonce-" + secrets.token_hex(4),
            "prompt": "login",
            "login_hint": GP_AAL3,
            **params,
        }
        sent = {k: v for k, v in query.items() if v is not None}
        return self.http.get(f"{self.sim.issuer}/authorize", params=sent)

    def code(self, verifier: str | None = None, **params: str | None) -> str:
        """A fresh code from a headless login (with PKCE when verifier given)."""
        if verifier is not None:
            params.setdefault("code_challenge", challenge(verifier))
            params.setdefault("code_challenge_method", "S256")
        response = self.authorize(**params)
        assert response.status_code == 302, response.text
        query = callback(response)
        assert "code" in query, query
        return query["code"]

    def assertion(
        self,
        *,
        header: dict[str, Any] | None = None,
        drop: tuple[str, ...] = (),
        key: SigningKey | None = None,
        alg: str | None = None,
        **claims: Any,
    ) -> str:
        """A real signed assertion; claims and header overridable one by one."""
        signer = key or self.key
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.sim.token_endpoint,
            "jti": str(uuid.uuid4()),
            "iat": now,
            "exp": now + 300,
            **claims,
        }
        head = {"alg": alg or signer.alg, "kid": signer.kid, "typ": "JWT"}
        head.update(header or {})
        for name in drop:
            body.pop(name, None)
            head.pop(name, None)
        payload = json.dumps(body).encode()
        return sign_compact(head, payload, signer.private_key, alg or signer.alg)

    def token(self, code: str | None = None, **form: str | None) -> httpx.Response:
        """POST the token endpoint; form fields override the defaults."""
        data: dict[str, str | None] = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "client_id": self.client_id,
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": self.assertion(),
            **form,
        }
        sent = {k: v for k, v in data.items() if v is not None}
        return self.http.post(self.sim.token_endpoint, data=sent)

    def tokens(self, **params: str | None) -> dict[str, Any]:
        """A whole headless login: code, then tokens (PKCE S256)."""
        verifier = secrets.token_urlsafe(48)
        response = self.token(self.code(verifier, **params), code_verifier=verifier)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def callback(response: httpx.Response) -> dict[str, str]:
    """The query of the redirect the simulator answered with."""
    location = response.headers["location"]
    return dict(httpx.URL(location).params)


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    raw: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=="))
    return raw


def header_of(token: str) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(token.split(".", maxsplit=1)[0] + "==")
    )
    return raw


@pytest.fixture(scope="session")
def client_key() -> SigningKey:
    return generate_signing_key(alg="RS512")


@pytest.fixture(scope="session")
def uri_key() -> SigningKey:
    return generate_signing_key(alg="RS256")


@pytest.fixture(scope="module")
def receiver(uri_key: SigningKey) -> Iterator[Receiver]:
    found = Receiver(jwks=jwks(uri_key))
    with run_app(found.app()) as base_url:
        found.base_url = base_url
        yield found


def extra_clients(
    client_key: SigningKey, receiver: Receiver
) -> tuple[ClientRegistration, ...]:
    return (
        ClientRegistration(
            client_id=SECRET_CLIENT,
            redirect_uris=("https://rp.example.test/callback",),
            token_endpoint_auth_method="client_secret_post",
            client_secret=Secret("s3cret-for-tests"),
            grant_types=("authorization_code",),
        ),
        ClientRegistration(
            client_id=URI_CLIENT,
            redirect_uris=(DEMO_REDIRECT,),
            token_endpoint_auth_signing_alg="RS256",
            jwks_uri=f"{receiver.base_url}/jwks.json",
        ),
        client_registration(
            LOGOUT_CLIENT,
            DEMO_REDIRECT,
            client_key,
            grant_types=("authorization_code", "refresh_token"),
            post_logout_redirect_uris=("http://127.0.0.1:8765/signed-out",),
            backchannel_logout_uri=f"{receiver.base_url}/backchannel",
        ),
    )


@pytest.fixture(scope="module")
def sim(client_key: SigningKey, receiver: Receiver) -> Iterator[RunningSimulator]:
    """One headless simulator with --explain for a test module."""
    with run_simulator(
        headless=True, explain=True, clients=extra_clients(client_key, receiver)
    ) as running:
        yield running


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10.0) as client:
        yield client


@pytest.fixture
def rp(sim: RunningSimulator, http: httpx.Client) -> RelyingParty:
    assert sim.demo_key is not None
    return RelyingParty(sim, http, sim.demo_key)


@contextmanager
def fresh_rp(**options: Any) -> Iterator[RelyingParty]:
    """A relying party against its own headless simulator with these options."""
    with (
        run_simulator(headless=True, **options) as running,
        httpx.Client(timeout=10.0) as http,
    ):
        assert running.demo_key is not None
        yield RelyingParty(running, http, running.demo_key)


def wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
