"""``POST {issuer}/access_token``: client authentication, then the grant.

RFC 6749 sections 4.1.3 and 6, OIDC Core section 3.1.3, RFC 7636 section
4.6. The client authenticates first (``_assertion``); an error answers with
CIS2's own texts (reference section 4.4) and, with ``--explain``, the real
reason in ``cis2_sim_reason``. A code is single use: a second use is refused
and revokes everything the first use issued (RFC 6749 section 4.1.2).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cis2._authorization import code_challenge
from cis2._jws import parse_compact
from cis2.errors import Cis2Error, TokenValidationError
from cis2.simulator._assertion import (
    JWT_NOT_VALID,
    ClientAuthError,
    check_assertion_type,
    check_secret,
)
from cis2.simulator._claims import id_token_claims
from cis2.simulator._config import ClientRegistration
from cis2.simulator._diagnosis import doctor_findings
from cis2.simulator._personas import Persona
from cis2.simulator._state import Simulator, new_token
from cis2.simulator._store import Grant, token_hash

__all__ = ["INVALID_GRANT", "token_endpoint"]

INVALID_GRANT: Final = "The provided access grant is invalid, expired, or revoked."
_NO_STORE: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}

logger = logging.getLogger("cis2.simulator")


class TokenError(Cis2Error):
    """An OAuth error answer (RFC 6749 section 5.2) with its HTTP status."""

    def __init__(
        self, error: str, description: str, status: int = 400, reason: str = ""
    ) -> None:
        super().__init__(description, field=error)
        self.error = error
        self.description = description
        self.status = status
        self.reason = reason


async def token_endpoint(request: Request) -> Response:
    """Authenticate the client, then redeem the code or refresh token."""
    sim: Simulator = request.app.state.sim
    form = {k: str(v) for k, v in (await request.form()).items()}
    try:
        client = await _authenticate(sim, form)
        body = _grant(sim, client, form)
    except ClientAuthError as exc:
        return _invalid_client(sim, form, exc)
    except TokenError as exc:
        return _error(sim, exc)
    return JSONResponse(body, headers=_NO_STORE)


# Client authentication


async def _authenticate(sim: Simulator, form: Mapping[str, str]) -> ClientRegistration:
    client_id = form.get("client_id") or _unverified_iss(form)
    if not client_id:
        raise ClientAuthError(
            "client_unknown",
            "the form has no client_id and no client_assertion naming one: "
            "send client_id (and the assertion).",
        )
    client = sim.config.client(client_id)
    if client is None:
        raise ClientAuthError(
            "client_unknown",
            f"client_id {client_id!r} is not registered with this simulator.",
        )
    if client.token_endpoint_auth_method == "client_secret_post":
        if "client_assertion" in form:
            raise ClientAuthError(
                "auth_method_not_registered",
                "this client is registered for client_secret_post, not "
                "private_key_jwt: send client_secret, or change the registration.",
            )
        check_secret(client, form)
        return client
    if "client_secret" in form:
        raise ClientAuthError(
            "auth_method_not_registered",
            "this client is registered for private_key_jwt: send a "
            "client_assertion, not a client_secret.",
        )
    assertion = check_assertion_type(form)
    now = sim.now()
    claims = await sim.checker.check(client, assertion, now)
    _remember_jti(sim, client.client_id, claims, now)
    return client


def _unverified_iss(form: Mapping[str, str]) -> str | None:
    """The assertion's iss, to find the client when the form has no client_id."""
    try:
        claims = parse_compact(form.get("client_assertion", "")).unverified_claims()
    except TokenValidationError:
        return None
    iss = claims.get("iss")
    return iss if isinstance(iss, str) else None


def _remember_jti(
    sim: Simulator, client_id: str, claims: Mapping[str, Any], now: int
) -> None:
    # The jti is kept until the assertion expires; after that exp refuses it.
    expires_at = int(claims["exp"]) + sim.config.clock_skew
    changed = sim.store.execute(
        "INSERT OR IGNORE INTO seen_jtis VALUES (?, ?, ?)",
        client_id,
        claims["jti"],
        expires_at,
    )
    if not changed:
        raise ClientAuthError(
            "jti_reused",
            "jti was already used by an earlier assertion: mint a new assertion "
            "with a fresh UUID for every request.",
        )


# Grants


def _grant(
    sim: Simulator, client: ClientRegistration, form: Mapping[str, str]
) -> dict[str, Any]:
    grant_type = form.get("grant_type")
    if grant_type not in ("authorization_code", "refresh_token"):
        raise TokenError(
            "unsupported_grant_type",
            f"grant_type {grant_type!r} is not supported: use authorization_code "
            "or refresh_token.",
        )
    if grant_type not in client.grant_types:
        raise TokenError(
            "unauthorized_client",
            f"This client is not registered for the {grant_type} grant.",
        )
    if grant_type == "refresh_token":
        return _refresh(sim, client, form)
    return _redeem_code(sim, client, form)


def _redeem_code(
    sim: Simulator, client: ClientRegistration, form: Mapping[str, str]
) -> dict[str, Any]:
    code = form.get("code")
    if not code:
        raise TokenError("invalid_request", "code is missing from the form.")
    row = _claim_code(sim, code)
    grant = sim.store.grant(row["grant_id"])
    if grant is None or grant.revoked:
        raise TokenError("invalid_grant", INVALID_GRANT, reason="grant_revoked")
    if grant.client_id != client.client_id:
        raise TokenError("invalid_grant", INVALID_GRANT, reason="code_other_client")
    if form.get("redirect_uri") != row["redirect_uri"]:
        raise TokenError("invalid_grant", INVALID_GRANT, reason="redirect_uri_mismatch")
    _check_pkce(row["code_challenge"], form.get("code_verifier"))
    return _issue(sim, client, grant, code=code, state=row["state"])


def _claim_code(sim: Simulator, code: str) -> Any:
    """The code's row, marked used in the same step; a replay revokes."""
    now = sim.now()
    row = sim.store.take_once("codes", code)
    if row is None:
        raise TokenError("invalid_grant", INVALID_GRANT, reason="code_unknown")
    if row["used"]:
        sim.store.revoke_grant(row["grant_id"])
        logger.info("authorization code replayed: its tokens are revoked")
        raise TokenError("invalid_grant", INVALID_GRANT, reason="code_reused")
    if row["expires_at"] < now:
        raise TokenError("invalid_grant", INVALID_GRANT, reason="code_expired")
    return row


def _check_pkce(challenge: str | None, verifier: str | None) -> None:
    if challenge is None:
        if verifier is not None:
            # RFC 9700 section 2.1.1: a verifier with no challenge is a
            # downgrade attempt, so it is refused rather than ignored.
            raise TokenError(
                "invalid_grant", INVALID_GRANT, reason="pkce_unexpected_verifier"
            )
        return
    if not verifier:
        raise TokenError("invalid_grant", INVALID_GRANT, reason="pkce_missing")
    expected = code_challenge(verifier.encode("ascii", "replace").decode())
    if not secrets.compare_digest(expected.encode(), challenge.encode()):
        raise TokenError("invalid_grant", INVALID_GRANT, reason="pkce_mismatch")


def _refresh(
    sim: Simulator, client: ClientRegistration, form: Mapping[str, str]
) -> dict[str, Any]:
    presented = form.get("refresh_token")
    if not presented:
        raise TokenError("invalid_request", "refresh_token is missing from the form.")
    now = sim.now()
    row = sim.store.take_once("refresh_tokens", presented)
    if row is None or row["expires_at"] < now:
        raise TokenError("invalid_grant", INVALID_GRANT, reason="refresh_unknown")
    grant = sim.store.grant(row["grant_id"])
    if row["used"] and grant is not None:
        # A rotated refresh token came back: someone holds a copy.
        sim.store.revoke_grant(grant.grant_id)
        raise TokenError("invalid_grant", INVALID_GRANT, reason="refresh_reused")
    if grant is None or grant.revoked or grant.client_id != client.client_id:
        raise TokenError("invalid_grant", INVALID_GRANT, reason="refresh_revoked")
    return _issue(sim, client, grant, refreshed=True)


def _issue(
    sim: Simulator,
    client: ClientRegistration,
    grant: Grant,
    *,
    code: str | None = None,
    state: str | None = None,
    refreshed: bool = False,
) -> dict[str, Any]:
    persona, session = _subject(sim, grant)
    now = sim.now()
    access_token = new_token()
    sim.store.execute(
        "INSERT INTO access_tokens VALUES (?, ?, ?)",
        token_hash(access_token),
        grant.grant_id,
        now + sim.config.access_token_lifetime,
    )
    claims = id_token_claims(
        sim.config,
        grant,
        persona,
        session,
        access_token,
        now,
        code=code,
        state=state,
        refreshed=refreshed,
    )
    body: dict[str, Any] = {
        "access_token": access_token,
        "scope": grant.scope,
        "id_token": sim.keys.sign(claims),
        "token_type": "Bearer",
        "expires_in": sim.config.access_token_lifetime,
    }
    if sim.config.refresh_tokens and "refresh_token" in client.grant_types:
        body["refresh_token"] = _new_refresh_token(sim, grant, now)
    sim.store.record("token", now, client.client_id, {"claims": claims})
    return body


def _subject(sim: Simulator, grant: Grant) -> tuple[Persona, Any]:
    persona = sim.config.persona(grant.sub)
    rows = sim.store.query("SELECT * FROM sessions WHERE sid = ?", grant.sid)
    if persona is None or not rows:
        raise TokenError("invalid_grant", INVALID_GRANT, reason="subject_gone")
    return persona, rows[0]


def _new_refresh_token(sim: Simulator, grant: Grant, now: int) -> str:
    token = new_token()
    sim.store.execute(
        "INSERT INTO refresh_tokens (token_hash, grant_id, expires_at) "
        "VALUES (?, ?, ?)",
        token_hash(token),
        grant.grant_id,
        now + sim.config.refresh_token_lifetime,
    )
    return token


# Answers


def _invalid_client(
    sim: Simulator, form: Mapping[str, str], exc: ClientAuthError
) -> Response:
    client_id = form.get("client_id") or _unverified_iss(form)
    logger.info(
        "client authentication rejected for client_id=%s: %s",
        client_id,
        exc.explanation,
    )
    detail = _rejection_detail(exc)
    assertion = form.get("client_assertion")
    if assertion:
        client = sim.config.client(client_id) if client_id else None
        detail["findings"] = doctor_findings(assertion, client, sim.config, sim.now())
    sim.store.record("rejected_assertion", sim.now(), client_id, detail)
    body = {"error_description": exc.description, "error": "invalid_client"}
    if sim.config.explain:
        body["cis2_sim_reason"] = exc.explanation
    return JSONResponse(
        body, status_code=sim.config.invalid_client_status, headers=_NO_STORE
    )


def _rejection_detail(exc: ClientAuthError) -> dict[str, Any]:
    """What the admin page shows: the reason and the decoded parts, no signature."""
    detail: dict[str, Any] = {
        "reason": exc.reason,
        "message": exc.message,
        "generic": exc.description == JWT_NOT_VALID,
    }
    if exc.unverified is not None:
        detail["header"] = exc.unverified.unverified_header
        try:
            detail["claims"] = exc.unverified.unverified_claims()
        except TokenValidationError:
            detail["claims"] = None
    return detail


def _error(sim: Simulator, exc: TokenError) -> Response:
    if exc.reason:
        logger.info("token request refused: %s (%s)", exc.error, exc.reason)
    body = {"error_description": exc.description, "error": exc.error}
    if sim.config.explain and exc.reason:
        body["cis2_sim_reason"] = exc.reason
    return JSONResponse(body, status_code=exc.status, headers=_NO_STORE)
