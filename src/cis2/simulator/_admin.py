"""The admin pages: a window into the simulator, on loopback only.

Live sessions, the tokens issued (decoded), the client assertions refused
with their real reasons, back-channel logout replies, the signing keys with a
rotate button, and a paste-a-JWT page that decodes a token here, on this
machine, and says what is wrong with it: with the doctor's rules when
``cis2.doctor.diagnose`` exists, else with the simulator's own assertion
checks, so nobody pastes a signed assertion into a website again.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from typing import Any, Final

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from cis2._jws import parse_compact
from cis2.errors import Cis2Error, TokenValidationError
from cis2.simulator._assertion import ClientAuthError
from cis2.simulator._config import ClientRegistration
from cis2.simulator._diagnosis import doctor_available, doctor_findings
from cis2.simulator._logout import send_backchannel_logouts
from cis2.simulator._state import Simulator

__all__ = [
    "ADMIN_HEADER",
    "admin_decode",
    "admin_end_session",
    "admin_page",
    "admin_rotate",
]

#: A header a cross-site page cannot send without a CORS preflight, so a
#: script on this machine may use it instead of the page's CSRF token.
ADMIN_HEADER: Final = "x-cis2-admin"
_MAX_PASTE: Final = 20_000
# The Host names an admin request may carry, each with the configured port.
_LOOPBACK_NAMES: Final = ("127.0.0.1", "localhost", "[::1]")


async def admin_page(request: Request) -> Response:
    """``GET /admin``: sessions, tokens, refusals, logouts and keys."""
    sim: Simulator = request.app.state.sim
    refused = _loopback_only(request)
    if refused is not None:
        return refused
    store = sim.store
    context = {
        "issuer": sim.config.issuer,
        "csrf": sim.admin_csrf,
        "sessions": store.live_sessions(),
        "tokens": [_pretty(e) for e in store.events("token", 20)],
        "rejections": [_pretty(e) for e in store.events("rejected_assertion", 20)],
        "logouts": [_pretty(e) for e in store.events("backchannel_logout", 20)],
        "keys": [
            {"kid": row["kid"], "state": row["state"], "retire_at": row["retire_at"]}
            for row in store.signing_keys()
        ],
        "personas": {p.uid: p for p in sim.config.personas},
    }
    return sim.templates.TemplateResponse(request, "admin.html", context)


async def admin_rotate(request: Request) -> Response:
    """``POST /admin/rotate-keys``: the next key signs, a new next is published."""
    sim: Simulator = request.app.state.sim
    checked = await _admin_form(request)
    if isinstance(checked, Response):
        return checked
    _, scripted = checked
    kid = sim.keys.rotate(sim.now(), sim.config.id_token_lifetime)
    if scripted:
        return JSONResponse({"active_kid": kid, "jwks": sim.keys.jwks(sim.now())})
    return RedirectResponse("/admin", status_code=303)


async def admin_end_session(request: Request) -> Response:
    """``POST /admin/end-session``: end a session as a removed smartcard would.

    CIS2 sends back-channel logouts when a smartcard session ends, not only
    on endSession (reference section 8); this lets a relying party see one
    without logging out itself.
    """
    sim: Simulator = request.app.state.sim
    checked = await _admin_form(request)
    if isinstance(checked, Response):
        return checked
    form, scripted = checked
    sid = form.get("sid", "")
    session = sim.store.session(sid)
    if session is None:
        return JSONResponse(
            {"error": "invalid_request", "error_description": "No live session."},
            status_code=404,
        )
    clients = sim.store.end_session(sid, sim.now())
    task = BackgroundTask(send_backchannel_logouts, sim, clients, session["sub"], sid)
    if scripted:
        return JSONResponse({"sid": sid, "clients": clients}, background=task)
    return RedirectResponse("/admin", status_code=303, background=task)


async def admin_decode(request: Request) -> Response:
    """``GET/POST /admin/decode``: decode a pasted JWT and say what is wrong."""
    sim: Simulator = request.app.state.sim
    refused = _loopback_only(request)
    if refused is not None:
        return refused
    context: dict[str, Any] = {"csrf": sim.admin_csrf, "clients": sim.config.clients}
    if request.method == "POST":
        checked = await _admin_form(request)
        if isinstance(checked, Response):
            return checked
        form, _ = checked
        token = form.get("token", "").strip()[:_MAX_PASTE]
        context.update(await _decoded(sim, token, form.get("client_id", "")))
    return sim.templates.TemplateResponse(request, "admin_decode.html", context)


async def _decoded(sim: Simulator, token: str, client_id: str) -> dict[str, Any]:
    try:
        unverified = parse_compact(token)
        claims = unverified.unverified_claims()
    except TokenValidationError as exc:
        return {"problems": [{"rule": "malformed", "message": exc.message}]}
    result: dict[str, Any] = {
        "header": json.dumps(unverified.unverified_header, indent=2),
        "claims": json.dumps(claims, indent=2),
    }
    client = sim.config.client(client_id or str(claims.get("iss", "")))
    result["client_id"] = client.client_id if client else None
    result["doctor"] = doctor_available()
    result["findings"] = doctor_findings(token, client, sim.config, sim.now())
    if client is not None:
        result["problems"] = await _simulator_checks(sim, token, client)
    else:
        result["problems"] = [
            {
                "rule": "client_unknown",
                "message": "No registered client matches iss: choose the client "
                "to check this assertion against.",
            }
        ]
    return result


async def _simulator_checks(
    sim: Simulator, token: str, client: ClientRegistration
) -> list[dict[str, str]]:
    # The same checks as the token endpoint, but the jti is not recorded:
    # decoding a token here must not spend it.
    try:
        await sim.checker.check(client, token, sim.now())
    except ClientAuthError as exc:
        return [{"rule": exc.reason, "message": exc.message}]
    except Cis2Error as exc:
        return [{"rule": "error", "message": exc.message}]
    return []


async def _admin_form(request: Request) -> tuple[dict[str, str], bool] | Response:
    """The form of an admin POST and whether a script sent it, or a refusal.

    A script proves itself with the admin header, a page with its CSRF token.
    """
    sim: Simulator = request.app.state.sim
    refused = _loopback_only(request)
    if refused is not None:
        return refused
    form = {k: str(v) for k, v in (await request.form()).items()}
    scripted = request.headers.get(ADMIN_HEADER) is not None
    # Bytes, not str: compare_digest refuses a str holding non-ASCII, and a
    # form may carry any character.
    sent = form.get("csrf", "").encode()
    if scripted or secrets.compare_digest(sent, sim.admin_csrf.encode()):
        return form, scripted
    return JSONResponse(
        {"error": "invalid_request", "error_description": "CSRF token."},
        status_code=403,
    )


def _pretty(event: dict[str, Any]) -> dict[str, Any]:
    shown = dict(event)
    for name in ("claims", "header"):
        if isinstance(shown.get(name), dict):
            shown[name] = json.dumps(shown[name], indent=2)
    return shown


def _loopback_only(request: Request) -> Response | None:
    """A 403 unless the request comes from loopback to this server by name.

    The client address alone is not enough: a page on a DNS-rebinding name
    resolves to 127.0.0.1, counts as same-origin and may send the admin
    header. Its ``Host`` still names the rebinding domain, so the Host must
    be the configured loopback host and port.
    """
    if not _from_loopback(request):
        return _forbidden("Admin is loopback only.")
    host = request.headers.get("host", "").lower()
    if host not in _admin_hosts(request):
        return _forbidden(
            "Admin answers only a Host of this server's loopback address and "
            "port: open it as the simulator's base URL."
        )
    return None


def _from_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _admin_hosts(request: Request) -> frozenset[str]:
    # The configured host is always one of these names (config refuses any
    # other), so the set holds it with its port.
    sim: Simulator = request.app.state.sim
    return frozenset(f"{name}:{sim.config.port}" for name in _LOOPBACK_NAMES)


def _forbidden(description: str) -> Response:
    return JSONResponse(
        {"error": "access_denied", "error_description": description},
        status_code=403,
    )
