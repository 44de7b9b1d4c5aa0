"""The Starlette app: CIS2's endpoints under the issuer path, plus the pages.

Endpoints follow reference section 2; discovery publishes what reference
sections 2 and 10 say the simulator publishes.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cis2.environments import HEALTHCARE_REALM
from cis2.simulator._admin import (
    admin_decode,
    admin_end_session,
    admin_page,
    admin_rotate,
)
from cis2.simulator._config import SCOPES, SimulatorConfig
from cis2.simulator._login import (
    authorize,
    login_cancel,
    login_complete,
    login_persona,
)
from cis2.simulator._logout import end_session_endpoint
from cis2.simulator._personas import ACR_VALUES
from cis2.simulator._signing import ID_TOKEN_ALG
from cis2.simulator._state import STATIC_DIR, Simulator
from cis2.simulator._token import token_endpoint
from cis2.simulator._userinfo import userinfo_endpoint

__all__ = ["create_app", "discovery_document"]

logger = logging.getLogger("cis2.simulator")
# Pruning is cheap but not free; once a minute keeps the tables small.
_PRUNE_EVERY = 60.0


def create_app(config: SimulatorConfig) -> Starlette:
    """The simulator as an ASGI app; its state opens now, closes at shutdown."""
    sim = Simulator(config)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await sim.aclose()

    app = Starlette(routes=_routes(), lifespan=lifespan)
    app.state.sim = sim
    app.add_middleware(_RequestLog, sim=sim)
    return app


def discovery_document(config: SimulatorConfig) -> dict[str, Any]:
    """The OpenID Provider metadata (Discovery 1.0 section 3)."""
    issuer = config.issuer
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": config.token_endpoint,
        "userinfo_endpoint": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/connect/jwk_uri",
        "end_session_endpoint": f"{issuer}/connect/endSession",
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "acr_values_supported": list(ACR_VALUES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ID_TOKEN_ALG],
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "private_key_jwt",
        ],
        "token_endpoint_auth_signing_alg_values_supported": [
            "RS256",
            "RS384",
            "RS512",
            "PS256",
            "PS384",
            "PS512",
        ],
        "code_challenge_methods_supported": ["S256"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
        "authorization_response_iss_parameter_supported": (
            config.authorization_response_iss
        ),
    }


async def _discovery(request: Request) -> Response:
    sim: Simulator = request.app.state.sim
    return JSONResponse(discovery_document(sim.config))


async def _jwks(request: Request) -> Response:
    sim: Simulator = request.app.state.sim
    return JSONResponse(sim.keys.jwks(sim.now()))


async def _home(request: Request) -> Response:
    sim: Simulator = request.app.state.sim
    return sim.templates.TemplateResponse(
        request, "home.html", {"issuer": sim.config.issuer, "config": sim.config}
    )


def _routes() -> list[Route | Mount]:
    realm = HEALTHCARE_REALM
    return [
        Route("/", _home),
        Route(f"{realm}/.well-known/openid-configuration", _discovery),
        Route(f"{realm}/authorize", authorize),
        Route(f"{realm}/access_token", token_endpoint, methods=["POST"]),
        Route(f"{realm}/userinfo", userinfo_endpoint, methods=["GET", "POST"]),
        Route(f"{realm}/connect/jwk_uri", _jwks),
        Route(
            f"{realm}/connect/endSession", end_session_endpoint, methods=["GET", "POST"]
        ),
        Route("/login", login_persona, methods=["POST"]),
        Route("/login/complete", login_complete, methods=["POST"]),
        Route("/login/cancel", login_cancel, methods=["POST"]),
        Route("/admin", admin_page),
        Route("/admin/rotate-keys", admin_rotate, methods=["POST"]),
        Route("/admin/end-session", admin_end_session, methods=["POST"]),
        Route("/admin/decode", admin_decode, methods=["GET", "POST"]),
        Mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static"),
    ]


# The pages load nothing from elsewhere and must not be framed: a login
# form inside another site's frame could be clicked through unseen.
_PAGE_HEADERS: Final = [
    (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class _RequestLog:
    """One INFO line per request: method, path and status, never the query.

    The query of endSession carries an ID token and a callback carries a
    code, so neither is logged; uvicorn's own access log is switched off.
    It adds the headers every page should carry, and prunes expired state
    now and then.
    """

    def __init__(self, app: ASGIApp, sim: Simulator) -> None:
        self.app = app
        self.sim = sim
        self._pruned = time.monotonic()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = False

        async def record(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                message["headers"] = [*message.get("headers", []), *_PAGE_HEADERS]
            await send(message)

        try:
            await self.app(scope, receive, record)
        except Exception as exc:
            # Re-raising would let the server print a traceback, with the
            # values in it, on the console; one line names the place instead.
            status = 500
            _log_failure(scope, exc)
            if not started:
                await _send_server_error(send)
        finally:
            logger.info("%s %s %s", scope["method"], scope["path"], status)
            self._maybe_prune()

    def _maybe_prune(self) -> None:
        if time.monotonic() - self._pruned < _PRUNE_EVERY:
            return
        self._pruned = time.monotonic()
        self.sim.store.prune(self.sim.now())


_SERVER_ERROR: Final = json.dumps(
    {
        "error": "server_error",
        "error_description": "The simulator failed on this request: its log "
        "names the file and line.",
    }
).encode()


def _log_failure(scope: Scope, exc: Exception) -> None:
    """One ERROR line: the request, the exception's class and where it rose.

    The exception's message is left out, since it may quote a value from
    the request (a code, a token).
    """
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
    logger.error(
        "%s %s failed: %s at %s",
        scope["method"],
        scope["path"],
        type(exc).__name__,
        where,
    )


async def _send_server_error(send: Send) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(_SERVER_ERROR)).encode()),
        *_PAGE_HEADERS,
    ]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": _SERVER_ERROR})
