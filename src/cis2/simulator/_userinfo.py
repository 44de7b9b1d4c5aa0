"""``{issuer}/userinfo``: the claims of the token's scopes (reference 7).

OIDC Core section 5.3 with RFC 6750's Bearer scheme. A missing, unknown,
expired or revoked token gets CIS2's 401 ``invalid_token`` answer
(reference section 4.4).
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cis2.simulator._claims import userinfo_claims
from cis2.simulator._state import Simulator
from cis2.simulator._store import Grant, token_hash

__all__ = ["INVALID_TOKEN", "bearer_grant", "userinfo_endpoint"]

INVALID_TOKEN: Final = (
    "The access token provided is expired, revoked, malformed, or invalid for "
    "other reasons."
)


async def userinfo_endpoint(request: Request) -> Response:
    """GET or POST with ``Authorization: Bearer``; JSON claims by scope."""
    sim: Simulator = request.app.state.sim
    grant = bearer_grant(sim, request.headers.get("authorization", ""))
    persona = sim.config.persona(grant.sub) if grant else None
    if grant is None or persona is None:
        return JSONResponse(
            {"error_description": INVALID_TOKEN, "error": "invalid_token"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    claims = userinfo_claims(
        persona, grant.scope.split(), grant.selected_roleid, sim.config
    )
    return JSONResponse(claims, headers={"Cache-Control": "no-store"})


def bearer_grant(sim: Simulator, authorization: str) -> Grant | None:
    """The live grant behind an ``Authorization: Bearer`` header, or None."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    rows = sim.store.query(
        "SELECT grant_id FROM access_tokens WHERE token_hash = ? AND expires_at >= ?",
        token_hash(token.strip()),
        sim.now(),
    )
    grant = sim.store.grant(rows[0]["grant_id"]) if rows else None
    if grant is None or grant.revoked:
        return None
    return grant
