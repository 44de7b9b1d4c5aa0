"""``{issuer}/connect/endSession`` and back-channel logout.

OpenID Connect RP-Initiated Logout 1.0 section 2 for the request:
``id_token_hint`` (signed by this simulator, expired or not), a
``post_logout_redirect_uri`` registered for the hinted client, and ``state``.
The session ends, its tokens are revoked, and each client that had tokens in
it and registered a ``backchannel_logout_uri`` is sent a logout token (Back-
Channel Logout 1.0 section 2.5) after the answer, so endSession stays fast.
The reply of each is recorded for the admin page.
"""

from __future__ import annotations

import logging
from typing import Any, Final
from urllib.parse import urlencode

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from cis2._jws import parse_compact, verify_signature
from cis2.errors import TokenValidationError
from cis2.simulator._authorize import PageError
from cis2.simulator._claims import logout_token_claims
from cis2.simulator._login import SESSION_COOKIE, error_page
from cis2.simulator._state import Simulator

__all__ = ["end_session_endpoint", "send_backchannel_logouts"]

_BACKCHANNEL_TIMEOUT: Final = 5.0

logger = logging.getLogger("cis2.simulator")


async def end_session_endpoint(request: Request) -> Response:
    """End the session named by id_token_hint (or the browser's session)."""
    sim: Simulator = request.app.state.sim
    params = dict(request.query_params)
    if request.method == "POST":
        params.update({k: str(v) for k, v in (await request.form()).items()})
    try:
        hint = _hint_claims(sim, params.get("id_token_hint"))
        sid = _session_id(request, hint)
        target = _post_logout_target(sim, hint, params)
    except PageError as exc:
        return error_page(request, exc.message, status=400)
    clients = sim.store.end_session(sid, sim.now()) if sid else []
    sub = hint.get("sub") if hint else None
    task = BackgroundTask(send_backchannel_logouts, sim, clients, str(sub or ""), sid)
    if target is not None:
        response: Response = RedirectResponse(target, status_code=302, background=task)
    else:
        response = sim.templates.TemplateResponse(
            request, "signed_out.html", {}, background=task
        )
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def send_backchannel_logouts(
    sim: Simulator, client_ids: list[str], sub: str, sid: str | None
) -> None:
    """POST ``logout_token`` to each client's backchannel_logout_uri."""
    if not sid:
        return
    if not sub:
        rows = sim.store.query("SELECT sub FROM sessions WHERE sid = ?", sid)
        sub = rows[0]["sub"] if rows else ""
    for client_id in client_ids:
        client = sim.config.client(client_id)
        if client is None or client.backchannel_logout_uri is None:
            continue
        await _send_one(sim, client_id, client.backchannel_logout_uri, sub, sid)


async def _send_one(
    sim: Simulator, client_id: str, uri: str, sub: str, sid: str
) -> None:
    now = sim.now()
    claims = logout_token_claims(sim.config, client_id, sub, sid, now)
    token = sim.keys.sign(claims)
    detail: dict[str, Any] = {"uri": uri, "sid": sid, "claims": claims}
    try:
        reply = await sim.http.post(
            uri, data={"logout_token": token}, timeout=_BACKCHANNEL_TIMEOUT
        )
        detail.update(status=reply.status_code, body=reply.text[:200])
    except httpx.HTTPError as exc:
        detail.update(status=None, error=type(exc).__name__)
    logger.info(
        "back-channel logout to client_id=%s answered %s", client_id, detail["status"]
    )
    sim.store.record("backchannel_logout", sim.now(), client_id, detail)


def _hint_claims(sim: Simulator, hint: str | None) -> dict[str, Any] | None:
    if not hint:
        return None
    try:
        unverified = parse_compact(hint)
        kid = unverified.unverified_header.get("kid")
        key = sim.keys.verification_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise TokenValidationError("unknown kid", claim="kid")
        verify_signature(
            str(unverified.unverified_header.get("alg")),
            key.key,
            unverified.signing_input,
            unverified.signature,
        )
        claims = unverified.unverified_claims()
    except TokenValidationError:
        raise PageError(
            "id_token_hint is not an ID token this simulator signed: send the "
            "id_token from the login you are ending.",
            field="id_token_hint",
        ) from None
    if claims.get("iss") != sim.config.issuer:
        raise PageError(
            "id_token_hint was issued by another issuer.", field="id_token_hint"
        )
    return claims


def _session_id(request: Request, hint: dict[str, Any] | None) -> str | None:
    if hint is not None:
        sid = hint.get("sid")
        return sid if isinstance(sid, str) else None
    return request.cookies.get(SESSION_COOKIE)


def _post_logout_target(
    sim: Simulator, hint: dict[str, Any] | None, params: dict[str, str]
) -> str | None:
    uri = params.get("post_logout_redirect_uri")
    if uri is None:
        return None
    client_id = params.get("client_id") or (hint or {}).get("aud")
    client = sim.config.client(client_id) if isinstance(client_id, str) else None
    if client is None:
        raise PageError(
            "post_logout_redirect_uri needs id_token_hint (or client_id) to say "
            "which client it belongs to.",
            field="post_logout_redirect_uri",
        )
    if uri not in client.post_logout_redirect_uris:
        raise PageError(
            f"post_logout_redirect_uri {uri!r} is not registered for this client: "
            "register it in post_logout_redirect_uris, exactly.",
            field="post_logout_redirect_uri",
        )
    state = params.get("state")
    if not state:
        return uri
    separator = "&" if "?" in uri else "?"
    return f"{uri}{separator}{urlencode({'state': state})}"
