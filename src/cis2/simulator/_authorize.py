"""The authorization request: every rule CIS2 applies before the login page.

OpenID Connect Core section 3.1.2.1 and RFC 6749 section 4.1.1, with the CIS2
practice of reference section 3. An unknown client or redirect_uri gets an
error page and never a redirect (RFC 6749 section 4.1.2.1); every other
failure goes back to the redirect_uri with ``error``, ``error_description``
and ``state``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Final
from urllib.parse import urlencode, urlsplit

from cis2.errors import Cis2Error
from cis2.simulator._config import (
    SCOPES,
    ClientRegistration,
    SimulatorConfig,
    is_loopback_http,
)
from cis2.simulator._personas import ACR_VALUES

__all__ = [
    "AuthorizationRequest",
    "PageError",
    "RedirectError",
    "error_redirect",
    "parse_authorization_request",
    "redirect_uri_matches",
    "success_redirect",
]

_PKCE_CHALLENGE: Final = re.compile(r"^[A-Za-z0-9_-]{43}$")
_DIGITS: Final = re.compile(r"[0-9]+")
_PROMPTS: Final = frozenset({"login", "none", "consent", "select_account"})


class PageError(Cis2Error):
    """A failure the browser must see here: no redirect is safe."""


class RedirectError(Cis2Error):
    """A failure sent back to the client's redirect_uri (RFC 6749 4.1.2.1)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description, field=error)
        self.error = error
        self.description = description
        # Filled in once the redirect_uri is known to be safe to use.
        self.redirect_uri = ""
        self.state: str | None = None


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """A checked authorization request, kept while the user signs in."""

    client_id: str
    redirect_uri: str
    scope: str
    state: str
    nonce: str | None
    code_challenge: str | None
    acr_values: tuple[str, ...]
    prompt: tuple[str, ...]
    max_age: int | None
    login_hint: str | None

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.scope.split())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> AuthorizationRequest:
        return cls(
            **{
                **value,
                "acr_values": tuple(value["acr_values"]),
                "prompt": tuple(value["prompt"]),
            }
        )


def parse_authorization_request(
    params: Mapping[str, str],
    config: SimulatorConfig,
    *,
    repeated: frozenset[str] = frozenset(),
) -> AuthorizationRequest:
    """Check the query of ``/authorize``; PageError or RedirectError if bad.

    ``repeated`` names the parameters sent more than once, which RFC 6749
    section 3.1 forbids.
    """
    _check_not_repeated(repeated & {"client_id", "redirect_uri"}, PageError)
    client = _client(params, config)
    redirect_uri = _redirect_uri(params, client)
    state = None if "state" in repeated else params.get("state")
    try:
        _check_not_repeated(repeated, RedirectError)
        return _checked(params, client, redirect_uri, config)
    except RedirectError as exc:
        exc.redirect_uri = redirect_uri
        exc.state = state
        raise


def error_redirect(
    redirect_uri: str,
    error: str,
    description: str,
    state: str | None,
    issuer: str | None = None,
) -> str:
    """The redirect_uri with an OAuth error response in its query."""
    values = {"error": error, "error_description": description}
    if state:
        values["state"] = state
    if issuer:
        values["iss"] = issuer
    return _append_query(redirect_uri, values)


def success_redirect(
    redirect_uri: str, code: str, state: str, issuer: str | None
) -> str:
    """The redirect_uri with the code and state (and iss if enabled)."""
    values = {"code": code, "state": state}
    if issuer:
        values["iss"] = issuer
    return _append_query(redirect_uri, values)


def redirect_uri_matches(registered: str, sent: str) -> bool:
    """Exact match, except any port for a portless loopback registration.

    RFC 8252 section 7.3: a native app's loopback redirect may use any port,
    so a registration written without a port (``http://127.0.0.1/callback``)
    accepts every port; one written with a port accepts only that port.
    """
    if registered == sent:
        return True
    if not is_loopback_http(registered) or urlsplit(registered).port is not None:
        return False
    got = urlsplit(sent)
    want = urlsplit(registered)
    return (
        got.scheme == "http"
        and got.hostname == want.hostname
        and got.port is not None
        and (got.path, got.query) == (want.path, want.query)
        and not got.fragment
    )


# Steps


def _check_not_repeated(
    repeated: frozenset[str], error: type[PageError] | type[RedirectError]
) -> None:
    if not repeated:
        return
    names = ", ".join(sorted(repeated))
    message = f"Parameter(s) {names} sent more than once (RFC 6749 section 3.1)."
    if error is PageError:
        raise PageError(message, field=sorted(repeated)[0])
    raise RedirectError("invalid_request", message)


def _client(params: Mapping[str, str], config: SimulatorConfig) -> ClientRegistration:
    client_id = params.get("client_id")
    if not client_id:
        raise PageError(
            "The request has no client_id: add the client_id CIS2 registered "
            "for the application.",
            field="client_id",
        )
    client = config.client(client_id)
    if client is None:
        raise PageError(
            f"client_id {client_id!r} is not registered with this simulator: use "
            "a client from its configuration.",
            field="client_id",
        )
    return client


def _redirect_uri(params: Mapping[str, str], client: ClientRegistration) -> str:
    sent = params.get("redirect_uri")
    if not sent:
        raise PageError(
            "The request has no redirect_uri: CIS2 needs the registered one, exactly.",
            field="redirect_uri",
        )
    if not any(redirect_uri_matches(r, sent) for r in client.redirect_uris):
        raise PageError(
            f"redirect_uri {sent!r} is not registered for this client: it must "
            "equal one registered URI character for character.",
            field="redirect_uri",
        )
    return sent


def _checked(
    params: Mapping[str, str],
    client: ClientRegistration,
    redirect_uri: str,
    config: SimulatorConfig,
) -> AuthorizationRequest:
    _check_unsupported(params)
    response_type = params.get("response_type")
    if response_type != "code":
        raise RedirectError(
            "unsupported_response_type",
            f"response_type {response_type!r} is not supported: use 'code'.",
        )
    scope = _scope(params.get("scope", ""), client)
    state = params.get("state")
    if not state:
        raise RedirectError(
            "invalid_request", "state is required: send an unguessable value."
        )
    return AuthorizationRequest(
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        scope=scope,
        state=state,
        nonce=params.get("nonce") or None,
        code_challenge=_code_challenge(params, config.require_pkce),
        acr_values=_acr_values(params.get("acr_values")),
        prompt=_prompt(params.get("prompt")),
        max_age=_max_age(params.get("max_age")),
        login_hint=params.get("login_hint") or None,
    )


def _check_unsupported(params: Mapping[str, str]) -> None:
    # Reference section 10 item 8: query response mode only, no request objects.
    if "request" in params:
        raise RedirectError(
            "request_not_supported", "Request objects are not supported."
        )
    if "request_uri" in params:
        raise RedirectError(
            "request_uri_not_supported", "request_uri is not supported."
        )
    mode = params.get("response_mode")
    if mode not in (None, "query"):
        raise RedirectError(
            "invalid_request", f"response_mode {mode!r} is not supported: use query."
        )


def _scope(scope: str, client: ClientRegistration) -> str:
    scopes = scope.split()
    if "openid" not in scopes:
        raise RedirectError(
            "invalid_scope", "scope must include openid: CIS2 is OpenID Connect."
        )
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise RedirectError("invalid_scope", f"Unknown scope(s) {' '.join(unknown)}.")
    refused = sorted(set(scopes) - client.allowed_scopes)
    if refused:
        raise RedirectError(
            "invalid_scope",
            f"Scope(s) {' '.join(refused)} not registered for this client.",
        )
    return " ".join(dict.fromkeys(scopes))


def _code_challenge(params: Mapping[str, str], required: bool) -> str | None:
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if challenge is None:
        if method is not None or required:
            raise RedirectError(
                "invalid_request",
                "code_challenge is required (PKCE, RFC 7636, method S256).",
            )
        return None
    if method != "S256":
        raise RedirectError(
            "invalid_request",
            f"code_challenge_method {method!r} is not supported: use S256 "
            "(plain is refused, RFC 9700 section 2.1.1).",
        )
    if not _PKCE_CHALLENGE.match(challenge):
        raise RedirectError(
            "invalid_request",
            "code_challenge must be the 43-character base64url SHA-256 of the "
            "code_verifier.",
        )
    return challenge


def _acr_values(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    values = tuple(value.split())
    unknown = [v for v in values if v not in ACR_VALUES]
    if unknown or not values:
        raise RedirectError(
            "invalid_request",
            f"acr_values {value!r} not supported: use one of {' '.join(ACR_VALUES)}.",
        )
    return values


def _prompt(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    values = tuple(value.split())
    unknown = [v for v in values if v not in _PROMPTS]
    if unknown or ("none" in values and len(values) > 1):
        raise RedirectError(
            "invalid_request", f"prompt {value!r} is not valid (OIDC Core 3.1.2.1)."
        )
    return values


def _max_age(value: str | None) -> int | None:
    if value is None:
        return None
    # ASCII digits only: str.isdigit also takes '²', which int() refuses.
    if not _DIGITS.fullmatch(value):
        raise RedirectError(
            "invalid_request", "max_age must be a whole number of seconds."
        )
    return int(value)


def _append_query(uri: str, values: Mapping[str, str]) -> str:
    separator = "&" if urlsplit(uri).query else "?"
    return f"{uri}{separator}{urlencode(values)}"
