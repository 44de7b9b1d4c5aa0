"""``{issuer}/connect/endSession`` and back-channel logout.

OpenID Connect RP-Initiated Logout 1.0 section 2 for the request:
``id_token_hint`` (signed by this simulator, expired or not), a
``post_logout_redirect_uri`` registered for the hinted client, and ``state``.
Without a hint, the End-User confirms on a page first (section 3), so no
other site can end the session. The session ends, its tokens are revoked,
and each client that had tokens in it and registered a
``backchannel_logout_uri`` is sent a logout token (Back-Channel Logout 1.0
section 2.5) after the answer, so endSession stays fast.
The reply of each is recorded for the admin page.
"""

from __future__ import annotations

import logging
import secrets
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

__all__ = ["LOGOUT_CSRF_COOKIE", "end_session_endpoint", "send_backchannel_logouts"]

_BACKCHANNEL_TIMEOUT: Final = 5.0
#: The confirmation form's CSRF cookie, apart from the login's so that a
#: logout page cannot disturb a login in another tab.
LOGOUT_CSRF_COOKIE: Final = "cis2_sim_logout_csrf"
# The parameters the confirmation form passes on to its POST.
_CARRIED: Final = ("post_logout_redirect_uri", "client_id", "state")

logger = logging.getLogger("cis2.simulator")


async def end_session_endpoint(request: Request) -> Response:
    """End the session named by id_token_hint, or the browser's once confirmed.

    Without a hint the request may come from any page the browser visits, so
    the End-User is asked first (RP-Initiated Logout 1.0 sections 2 and 3):
    the session ends only on a POST of the confirmation form, whose CSRF
    token a page elsewhere cannot read.
    """
    sim: Simulator = request.app.state.sim
    form = await _form(request)
    params = {**request.query_params, **form}
    try:
        hint = _hint_claims(sim, params.get("id_token_hint"))
        target = _post_logout_target(sim, hint, params)
    except PageError as exc:
        return error_page(request, exc.message, status=400)
    if hint is None and not _confirmed(request, form):
        return _confirmation_page(request, sim, params)
    return _end_session(request, sim, hint, target)


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


async def _form(request: Request) -> dict[str, str]:
    if request.method != "POST":
        return {}
    return {k: str(v) for k, v in (await request.form()).items()}


def _end_session(
    request: Request,
    sim: Simulator,
    hint: dict[str, Any] | None,
    target: str | None,
) -> Response:
    """End the session, revoke its tokens, and answer; logouts sent after."""
    sid = _session_id(request, hint)
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
    response.delete_cookie(LOGOUT_CSRF_COOKIE, path=request.url.path)
    return response


def _confirmed(request: Request, form: dict[str, str]) -> bool:
    """Whether this is the confirmation form's POST, from this browser."""
    cookie = request.cookies.get(LOGOUT_CSRF_COOKIE, "")
    sent = form.get("csrf", "")
    # Bytes, not str: compare_digest refuses a str holding non-ASCII.
    return bool(cookie) and secrets.compare_digest(sent.encode(), cookie.encode())


def _confirmation_page(
    request: Request, sim: Simulator, params: dict[str, str]
) -> Response:
    """Ask the End-User before ending a session no hint names (section 3)."""
    csrf = request.cookies.get(LOGOUT_CSRF_COOKIE) or secrets.token_urlsafe(24)
    carried = {k: params[k] for k in _CARRIED if params.get(k)}
    page = sim.templates.TemplateResponse(
        request,
        "logout_confirm.html",
        {"action": request.url.path, "csrf": csrf, "carried": carried},
    )
    # Strict, so a cross-site post of the form arrives without it.
    page.set_cookie(
        LOGOUT_CSRF_COOKIE,
        csrf,
        httponly=True,
        samesite="strict",
        path=request.url.path,
    )
    return page


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
    client_id = _logout_client_id(hint, params.get("client_id"))
    client = sim.config.client(client_id) if client_id else None
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


def _logout_client_id(hint: dict[str, Any] | None, client_id: str | None) -> str | None:
    """The client the logout is for: client_id, which must agree with the hint.

    RP-Initiated Logout 1.0 section 2: when both are sent, the OP checks that
    client_id is the hint's audience, so one client cannot borrow another's
    post_logout_redirect_uri with its own ID token.
    """
    aud = (hint or {}).get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if client_id and hint is not None and client_id not in audiences:
        raise PageError(
            "client_id is not the audience of id_token_hint: send the client_id "
            "of the client the ID token was issued to, or leave client_id out.",
            field="client_id",
        )
    if client_id:
        return client_id
    return aud if isinstance(aud, str) else None
