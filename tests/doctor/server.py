"""A token endpoint on loopback that answers like CIS2, for the probe tests.

It verifies the client assertion with PyJWT against the JWKS registered for
one client (exact aud, iss = sub = client_id, the registered alg), answers
``invalid_client`` / "JWT is not valid" when that fails and, since no code
it is sent was ever issued, ``invalid_grant`` when it passes. It also
serves JWKS documents for ``load_jwks``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from cis2.environments import HEALTHCARE_REALM

from .kit import BEARER

REFUSED = {"error_description": "JWT is not valid", "error": "invalid_client"}
BAD_GRANT = {
    "error_description": "The provided access grant is invalid, expired, or revoked.",
    "error": "invalid_grant",
}


@dataclass
class FakeCis2:
    """The registration the endpoint knows, and what it was sent."""

    client_id: str
    jwks: dict[str, Any]
    alg: str = "RS512"
    redirect_uri: str = "https://rp.example/callback"
    base_url: str = ""
    seen: list[dict[str, str]] = field(default_factory=list)

    @property
    def token_endpoint(self) -> str:
        return f"{self.base_url}{HEALTHCARE_REALM}/access_token"

    async def token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        self.seen.append(form)
        redirect_uri = form.get("redirect_uri")
        if redirect_uri is not None and redirect_uri != self.redirect_uri:
            return JSONResponse({"error": "redirect_uri_mismatch"}, status_code=400)
        if not self._authenticated(form):
            return JSONResponse(REFUSED, status_code=401)
        return JSONResponse(BAD_GRANT, status_code=400)

    def _authenticated(self, form: dict[str, str]) -> bool:
        if form.get("client_assertion_type") != BEARER:
            return False
        try:
            header = jwt.get_unverified_header(form.get("client_assertion", ""))
            key = jwt.PyJWKSet.from_dict(self.jwks)[header["kid"]]
            claims = jwt.decode(
                form["client_assertion"],
                key.key,
                algorithms=[self.alg],
                audience=self.token_endpoint,
                issuer=self.client_id,
                options={"require": ["exp", "iat", "jti", "sub"]},
            )
        except (jwt.PyJWTError, KeyError):
            return False
        return bool(claims["sub"] == self.client_id == form.get("client_id"))

    async def jwks_document(self, request: Request) -> Response:
        return JSONResponse(self.jwks)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(f"{HEALTHCARE_REALM}/access_token", self.token, methods=["POST"]),
                Route("/jwks.json", self.jwks_document),
                Route("/not-json", lambda request: PlainTextResponse("<html>")),
            ]
        )


@contextmanager
def serving(fake: FakeCis2) -> Iterator[FakeCis2]:
    """Run fake's app on a free port of 127.0.0.1 for the with block."""
    config = uvicorn.Config(
        fake.app(), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    worker = threading.Thread(target=server.run, daemon=True)
    worker.start()
    started_by = time.monotonic() + 10
    while not server.started and time.monotonic() < started_by:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    fake.base_url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        server.should_exit = True
        worker.join(timeout=10)
