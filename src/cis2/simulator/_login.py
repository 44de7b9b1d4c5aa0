"""``/authorize`` and the login pages: who signs in, how, and in which role.

The request is checked first (``_authorize``). Then, in order: headless mode
signs the ``login_hint`` persona in at once; an existing simulator session is
reused unless ``prompt=login`` or ``max_age`` forbids it (OIDC Core section
3.1.2.1); ``prompt=none`` without one answers ``login_required``; otherwise
the login page asks for a persona, an authenticator and, with the
``selectedrole`` scope, a role. An authenticator below the requested acr is
refused (reference section 3.3).
"""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from cis2.simulator._authorize import (
    AuthorizationRequest,
    PageError,
    RedirectError,
    error_redirect,
    parse_authorization_request,
    success_redirect,
)
from cis2.simulator._claims import ROLE_SCOPES, default_acr
from cis2.simulator._personas import AUTHENTICATORS, Persona, acr_allows
from cis2.simulator._state import Simulator, new_token
from cis2.simulator._store import Grant, token_hash

__all__ = ["authorize", "login_cancel", "login_complete", "login_persona"]

CSRF_COOKIE: Final = "cis2_sim_csrf"
SESSION_COOKIE: Final = "cis2_sim_session"
_PENDING_LIFETIME: Final = 900
_FOUND: Final = 302

logger = logging.getLogger("cis2.simulator")


class LoginRefusedError(PageError):
    """The chosen persona, authenticator or role cannot complete this login."""


async def authorize(request: Request) -> Response:
    """``GET {issuer}/authorize`` (OIDC Core 3.1.2.1)."""
    sim: Simulator = request.app.state.sim
    names = [name for name, _ in request.query_params.multi_items()]
    repeated = frozenset(name for name in names if names.count(name) > 1)
    try:
        auth = parse_authorization_request(
            dict(request.query_params), sim.config, repeated=repeated
        )
    except RedirectError as exc:
        return _error(sim, exc.redirect_uri, exc.error, exc.description, exc.state)
    except PageError as exc:
        return error_page(request, exc.message, status=400)
    return _start(request, sim, auth)


def _start(request: Request, sim: Simulator, auth: AuthorizationRequest) -> Response:
    hinted = sim.config.persona(auth.login_hint) if auth.login_hint else None
    if sim.config.headless and hinted is not None:
        return _headless(sim, auth, hinted)
    reused = _reuse_session(request, sim, auth)
    if reused is not None:
        return reused
    if "none" in auth.prompt:
        return _error(
            sim,
            auth.redirect_uri,
            "login_required",
            "The user is not signed in and prompt=none was sent.",
            auth.state,
        )
    txn, csrf = _pending(request, sim, auth)
    if hinted is not None:
        page = _method_page(request, sim, auth, txn, csrf, hinted)
    else:
        page = _persona_page(request, sim, txn, csrf)
    page.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict", path="/")
    return page


async def login_persona(request: Request) -> Response:
    """``POST /login``: the persona was picked; ask how they sign in."""
    sim: Simulator = request.app.state.sim
    form = await _form(request)
    try:
        txn, auth = _load_pending(request, sim, form)
        persona = _persona(sim, form.get("persona", ""))
    except PageError as exc:
        return error_page(request, exc.message, status=400)
    return _method_page(request, sim, auth, txn, form["csrf"], persona)


async def login_complete(request: Request) -> Response:
    """``POST /login/complete``: sign in and go back with the code."""
    sim: Simulator = request.app.state.sim
    form = await _form(request)
    try:
        txn, auth = _load_pending(request, sim, form)
        persona = _persona(sim, form.get("persona", ""))
        authenticator = _authenticator(persona, form.get("authenticator", ""))
        role = _role(persona, auth, form.get("role", ""))
        acr = chosen_acr(auth, authenticator)
    except LoginRefusedError as exc:
        return error_page(request, exc.message, status=403)
    except PageError as exc:
        return error_page(request, exc.message, status=400)
    sim.store.execute("DELETE FROM pending_logins WHERE txn = ?", txn)
    sid = _new_session(sim, persona, authenticator, acr, role)
    response = _redirect(_issue_code(sim, auth, sid, persona, acr, role))
    response.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="lax", path="/")
    return response


async def login_cancel(request: Request) -> Response:
    """``POST /login/cancel``: the user gave up; access_denied to the client."""
    sim: Simulator = request.app.state.sim
    try:
        txn, auth = _load_pending(request, sim, await _form(request))
    except PageError as exc:
        return error_page(request, exc.message, status=400)
    sim.store.execute("DELETE FROM pending_logins WHERE txn = ?", txn)
    return _error(
        sim,
        auth.redirect_uri,
        "access_denied",
        "The user cancelled the login.",
        auth.state,
    )


def chosen_acr(auth: AuthorizationRequest, authenticator: str) -> str:
    """The acr the login reached: the first requested value it satisfies."""
    if not auth.acr_values:
        return default_acr(authenticator)
    for acr in auth.acr_values:
        if acr_allows(acr, authenticator):
            return acr
    label = AUTHENTICATORS[authenticator].label
    raise LoginRefusedError(
        f"{label} does not meet the level this service asks for "
        f"({' '.join(auth.acr_values)}): sign in with a stronger method.",
        field="authenticator",
    )


def error_page(request: Request, message: str, *, status: int) -> Response:
    """The simulator's own error page, for errors that must not redirect."""
    sim: Simulator = request.app.state.sim
    return sim.templates.TemplateResponse(
        request, "error.html", {"message": message}, status_code=status
    )


# Headless and single sign-on


def _headless(sim: Simulator, auth: AuthorizationRequest, persona: Persona) -> Response:
    authenticator = persona.strongest
    try:
        acr = chosen_acr(auth, authenticator)
    except LoginRefusedError as exc:
        return _error(sim, auth.redirect_uri, "access_denied", exc.message, auth.state)
    # Headless logins pick the first role: there is nobody to ask.
    role = persona.roles[0].person_roleid if _wants_role(auth, persona) else None
    sid = _new_session(sim, persona, authenticator, acr, role)
    return _redirect(_issue_code(sim, auth, sid, persona, acr, role))


def _reuse_session(
    request: Request, sim: Simulator, auth: AuthorizationRequest
) -> Response | None:
    if "login" in auth.prompt or "select_account" in auth.prompt:
        return None
    sid = request.cookies.get(SESSION_COOKIE)
    session = sim.store.session(sid) if sid else None
    if session is None:
        return None
    persona = sim.config.persona(session["sub"])
    if persona is None:
        return None
    if _too_old(auth.max_age, sim.now() - session["auth_time"]):
        return None
    if auth.login_hint and auth.login_hint != persona.uid:
        return None
    try:
        acr = chosen_acr(auth, session["authenticator"])
    except LoginRefusedError:
        return None
    role = session["selected_roleid"]
    if _wants_role(auth, persona) and not role:
        return None
    # changedrole asks for the picker again (reference 3.2), so no reuse.
    if "changedrole" in auth.scopes:
        return None
    return _redirect(_issue_code(sim, auth, session["sid"], persona, acr, role))


def _too_old(max_age: int | None, age: int) -> bool:
    # OIDC Core 3.1.2.1: max_age=0 asks for a fresh login, like prompt=login.
    if max_age is None:
        return False
    return max_age == 0 or age > max_age


def _wants_role(auth: AuthorizationRequest, persona: Persona) -> bool:
    """Whether the role picker is due: selectedrole, or changedrole."""
    return bool(ROLE_SCOPES & auth.scopes) and bool(persona.roles)


# Issuing the code


def _new_session(
    sim: Simulator, persona: Persona, authenticator: str, acr: str, role: str | None
) -> str:
    sid = str(uuid.uuid4())
    sim.store.add_session(sid, persona.uid, authenticator, acr, sim.now(), role)
    return sid


def _issue_code(
    sim: Simulator,
    auth: AuthorizationRequest,
    sid: str,
    persona: Persona,
    acr: str,
    role: str | None,
) -> str:
    grant = Grant(
        grant_id=str(uuid.uuid4()),
        client_id=auth.client_id,
        sid=sid,
        sub=persona.uid,
        scope=auth.scope,
        nonce=auth.nonce,
        acr=acr,
        selected_roleid=role,
        revoked=False,
    )
    sim.store.add_grant(grant)
    code = new_token()
    sim.store.execute(
        "INSERT INTO codes (code_hash, grant_id, redirect_uri, code_challenge, "
        "state, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        token_hash(code),
        grant.grant_id,
        auth.redirect_uri,
        auth.code_challenge,
        auth.state,
        sim.now() + sim.config.code_lifetime,
    )
    issuer = sim.config.issuer if sim.config.authorization_response_iss else None
    return success_redirect(auth.redirect_uri, code, auth.state, issuer)


# Pending logins and CSRF


def _pending(
    request: Request, sim: Simulator, auth: AuthorizationRequest
) -> tuple[str, str]:
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    txn = secrets.token_urlsafe(16)
    sim.store.execute(
        "INSERT INTO pending_logins VALUES (?, ?, ?, ?)",
        txn,
        csrf,
        json.dumps(auth.to_json()),
        sim.now() + _PENDING_LIFETIME,
    )
    return txn, csrf


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    values = {k: str(v) for k, v in form.items()}
    values.setdefault("txn", "")
    values.setdefault("csrf", "")
    return values


def _load_pending(
    request: Request, sim: Simulator, form: dict[str, str]
) -> tuple[str, AuthorizationRequest]:
    txn, csrf = form["txn"], form["csrf"]
    rows = sim.store.query(
        "SELECT * FROM pending_logins WHERE txn = ? AND expires_at >= ?",
        txn,
        sim.now(),
    )
    if not rows:
        raise PageError(
            "This login has expired or was already used: start again from the "
            "application.",
            field="txn",
        )
    cookie = request.cookies.get(CSRF_COOKIE, "")
    expected = rows[0]["csrf"]
    # Bytes, not str: compare_digest refuses a str holding non-ASCII, and
    # the form and the cookie may carry any character.
    if not (
        secrets.compare_digest(csrf.encode(), expected.encode())
        and secrets.compare_digest(cookie.encode(), expected.encode())
    ):
        raise PageError(
            "The form's CSRF token does not match this browser's: reload the "
            "login page and try again.",
            field="csrf",
        )
    return txn, AuthorizationRequest.from_json(json.loads(rows[0]["request"]))


def _persona(sim: Simulator, uid: str) -> Persona:
    persona = sim.config.persona(uid)
    if persona is None:
        raise PageError("Choose a person from the list.", field="persona")
    return persona


def _authenticator(persona: Persona, name: str) -> str:
    if name not in persona.authenticators:
        raise PageError(
            f"{persona.name} has no authenticator {name!r}: choose one listed.",
            field="authenticator",
        )
    return name


def _role(persona: Persona, auth: AuthorizationRequest, roleid: str) -> str | None:
    if not _wants_role(auth, persona):
        return None
    if len(persona.roles) == 1 and not roleid:
        return persona.roles[0].person_roleid
    if persona.role(roleid) is None:
        raise PageError("Choose one of your roles.", field="role")
    return roleid


# Pages and redirects


def _persona_page(request: Request, sim: Simulator, txn: str, csrf: str) -> Response:
    return sim.templates.TemplateResponse(
        request,
        "login_persona.html",
        {"txn": txn, "csrf": csrf, "personas": sim.config.personas},
    )


def _method_page(
    request: Request,
    sim: Simulator,
    auth: AuthorizationRequest,
    txn: str,
    csrf: str,
    persona: Persona,
) -> Response:
    methods: list[dict[str, Any]] = []
    for name in persona.authenticators:
        allowed = _allowed(auth, name)
        # The first allowed method is pre-selected, so "Sign in" always works.
        first = allowed and not any(m["allowed"] for m in methods)
        methods.append(
            {"info": AUTHENTICATORS[name], "allowed": allowed, "first": first}
        )
    return sim.templates.TemplateResponse(
        request,
        "login_method.html",
        {
            "txn": txn,
            "csrf": csrf,
            "persona": persona,
            "methods": methods,
            "any_allowed": any(m["allowed"] for m in methods),
            "acr_values": " ".join(auth.acr_values),
            "roles": persona.roles if _wants_role(auth, persona) else (),
        },
    )


def _allowed(auth: AuthorizationRequest, authenticator: str) -> bool:
    try:
        chosen_acr(auth, authenticator)
    except LoginRefusedError:
        return False
    return True


def _error(
    sim: Simulator, redirect_uri: str, error: str, description: str, state: str | None
) -> Response:
    issuer = sim.config.issuer if sim.config.authorization_response_iss else None
    logger.info("authorization refused: %s", error)
    return _redirect(error_redirect(redirect_uri, error, description, state, issuer))


def _redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=_FOUND)
