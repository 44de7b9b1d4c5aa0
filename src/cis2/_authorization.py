"""The authorization request and its callback (OIDC Core section 3.1.2).

``LoginRequest`` is what an application keeps in its session between the
redirect to CIS2 and the callback: the state, nonce and PKCE verifier (RFC
7636), and the parameters whose answers must be checked (``max_age``,
``acr_values``). It serialises to JSON so a session store can hold it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypedDict
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from cis2._jws import b64url_encode
from cis2.errors import (
    AuthorizationError,
    CallbackError,
    ConfigurationError,
    StateMismatchError,
)

__all__ = [
    "CallbackParams",
    "LoginOptions",
    "LoginRequest",
    "build_login_request",
    "code_challenge",
    "normalise_scope",
    "parse_callback",
]

#: 32 random bytes: 256 bits for state and nonce, well over the 128 asked.
_RANDOM_BYTES = 32
Callback = str | Mapping[str, str] | Mapping[str, Sequence[str]]


@dataclass(frozen=True, slots=True)
class LoginRequest:
    """One sign-in in flight; keep it server-side between redirect and callback."""

    url: str
    state: str
    nonce: str
    code_verifier: str | None
    redirect_uri: str
    scope: str
    issuer: str
    client_id: str
    created_at: float
    acr_values: str | None = None
    max_age: int | None = None
    prompt: str | None = None

    def to_json(self) -> str:
        """This request as JSON, for a session store (it holds secrets: keep it
        server-side or in an encrypted cookie)."""
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> LoginRequest:
        """The request saved by to_json; refuses anything else by name."""
        try:
            data = json.loads(text)
            return cls(**data)
        except (ValueError, TypeError):
            raise ConfigurationError(
                "The saved login request is not one LoginRequest.to_json() wrote: "
                "start a new login.",
                field="login_request",
            ) from None

    def __repr__(self) -> str:
        return (
            f"LoginRequest(issuer={self.issuer!r}, client_id={self.client_id!r}, "
            f"scope={self.scope!r}, state=..., nonce=...)"
        )


class LoginOptions(TypedDict, total=False):
    """What one login may ask beyond the client's settings (OIDC Core 3.1.2.1).

    ``scope`` replaces the client's scope (``openid`` is always added);
    ``prompt`` replaces the client's default ``login``, and ``""`` sends
    none; ``acr_values``, ``max_age`` and ``login_hint`` are sent as given,
    and the answer is checked against ``acr_values`` and ``max_age``.
    """

    scope: str | None
    acr_values: str | None
    prompt: str | None
    max_age: int | None
    login_hint: str | None


@dataclass(frozen=True, slots=True)
class CallbackParams:
    """The callback's parameters once checked: the code and what came with it."""

    code: str
    session_state: str | None
    scope: str | None


def normalise_scope(scope: str | Sequence[str]) -> str:
    """Space-separated scope with ``openid`` first and no repeats."""
    items = scope.split() if isinstance(scope, str) else list(scope)
    ordered = ["openid"] + [s for s in dict.fromkeys(items) if s != "openid"]
    return " ".join(ordered)


def code_challenge(verifier: str) -> str:
    """The S256 code_challenge of a verifier (RFC 7636 section 4.2)."""
    return b64url_encode(hashlib.sha256(verifier.encode("ascii")).digest())


def build_login_request(
    *,
    authorization_endpoint: str,
    issuer: str,
    client_id: str,
    redirect_uri: str,
    scope: str,
    now: float,
    pkce: bool = True,
    acr_values: str | None = None,
    prompt: str | None = None,
    max_age: int | None = None,
    login_hint: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> LoginRequest:
    """A new authorization request with fresh state, nonce and PKCE verifier."""
    if max_age is not None and (not isinstance(max_age, int) or max_age < 0):
        raise ConfigurationError(
            "max_age must be a whole number of seconds, 0 or more.", field="max_age"
        )
    state = secrets.token_urlsafe(_RANDOM_BYTES)
    nonce = secrets.token_urlsafe(_RANDOM_BYTES)
    verifier = secrets.token_urlsafe(48) if pkce else None
    params: dict[str, str] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
        "nonce": nonce,
    }
    if verifier is not None:
        params["code_challenge"] = code_challenge(verifier)
        params["code_challenge_method"] = "S256"
    optional = {
        "acr_values": acr_values,
        "prompt": prompt,
        "max_age": None if max_age is None else str(max_age),
        "login_hint": login_hint,
    }
    params.update({name: value for name, value in optional.items() if value})
    params.update(extra or {})
    return LoginRequest(
        url=_with_query(authorization_endpoint, params),
        state=state,
        nonce=nonce,
        code_verifier=verifier,
        redirect_uri=redirect_uri,
        scope=scope,
        issuer=issuer,
        client_id=client_id,
        created_at=now,
        acr_values=acr_values,
        max_age=max_age,
        prompt=prompt,
    )


def parse_callback(callback: Callback, request: LoginRequest) -> CallbackParams:
    """Check the authorization response (RFC 6749 4.1.2, RFC 9207).

    State is compared first and in constant time, even for error responses,
    so a forged error cannot be pinned on this login.
    """
    params = _params(callback)
    state = params.get("state")
    if state is None:
        raise StateMismatchError(
            "The callback has no state: it is not the answer to this login. "
            "Start the sign-in again.",
            field="state",
        )
    if not hmac.compare_digest(state.encode(), request.state.encode()):
        raise StateMismatchError(
            "The callback's state is not this login's: the answer belongs to "
            "another sign-in (or a forged one). Start the sign-in again.",
            field="state",
        )
    error = params.get("error")
    if error is not None:
        description = params.get("error_description")
        detail = f": {description}" if description else ""
        raise AuthorizationError(
            f"CIS2 refused the sign-in ({error}{detail}).",
            error=error,
            error_description=description,
        )
    issuer = params.get("iss")
    if issuer is not None and issuer != request.issuer:
        raise CallbackError(
            f"The callback's iss {issuer!r} is not the issuer this login went to "
            "(RFC 9207): a mix-up attack or a misconfigured provider.",
            field="iss",
        )
    code = params.get("code")
    if not code:
        raise CallbackError(
            "The callback has no code: pass the whole callback URL or its query "
            "string to finish_login.",
            field="code",
        )
    return CallbackParams(
        code=code,
        session_state=params.get("session_state"),
        scope=params.get("scope"),
    )


def _params(callback: Callback) -> dict[str, str]:
    if isinstance(callback, str):
        text = callback.strip()
        if "://" in text:
            text = urlsplit(text).query
        text = text.removeprefix("?")
        parsed = parse_qs(text, keep_blank_values=True)
        return {name: values[0] for name, values in parsed.items()}
    if isinstance(callback, Mapping):
        result: dict[str, str] = {}
        for name, value in callback.items():
            result[str(name)] = _first(value)
        return result
    raise CallbackError(
        "callback must be the callback URL, its query string, or a mapping of "
        "its parameters.",
        field="callback",
    )


def _first(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Sequence) and value and isinstance(value[0], str):
        return value[0]
    return str(value)


def _with_query(url: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    query = urlencode(params)
    if parts.query:
        query = f"{parts.query}&{query}"
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
