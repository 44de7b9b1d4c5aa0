"""Token requests and responses (RFC 6749 sections 4.1.3, 5 and 6).

Both grants are form posts authenticated the same way. A refused request
keeps CIS2's ``error``, ``error_description`` and the HTTP status; the
status of ``invalid_client`` is not documented for CIS2, so 400 and 401 are
read alike and the body decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cis2._client_auth import ClientAuth
from cis2._http import HttpRequest, HttpResponse
from cis2.errors import InvalidClientError, InvalidGrantError, TokenEndpointError

__all__ = [
    "TokenResponse",
    "code_request",
    "parse_token_response",
    "refresh_request",
]


@dataclass(frozen=True, slots=True)
class TokenResponse:
    """A successful token response; tokens are kept out of the repr."""

    access_token: str = field(repr=False)
    token_type: str
    expires_in: int | None
    id_token: str | None = field(repr=False)
    refresh_token: str | None = field(repr=False)
    scope: str | None
    raw: Mapping[str, Any] = field(repr=False)


def code_request(
    *,
    token_endpoint: str,
    code: str,
    redirect_uri: str,
    code_verifier: str | None,
    client_id: str,
    auth: ClientAuth,
    now: int,
) -> HttpRequest:
    """The authorization_code grant with the client's authentication."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
    }
    if code_verifier is not None:
        form["code_verifier"] = code_verifier
    form.update(auth.form_fields(client_id, token_endpoint, now))
    return _post(token_endpoint, form, "token (authorization_code)")


def refresh_request(
    *,
    token_endpoint: str,
    refresh_token: str,
    client_id: str,
    auth: ClientAuth,
    now: int,
    scope: str | None = None,
) -> HttpRequest:
    """The refresh_token grant (RFC 6749 section 6)."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    if scope:
        form["scope"] = scope
    form.update(auth.form_fields(client_id, token_endpoint, now))
    return _post(token_endpoint, form, "token (refresh_token)")


def parse_token_response(response: HttpResponse) -> TokenResponse:
    """The token response, or the TokenEndpointError subclass CIS2's answer means."""
    body = _json_body(response)
    if response.status_code != 200 or "error" in body:
        raise _refusal(response.status_code, body)
    access_token = body.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise _malformed("access_token", "has no access_token", response)
    if not (access_token.isascii() and access_token.isprintable()):
        raise _malformed(
            "access_token",
            "has an access_token with characters outside printable ASCII "
            "(RFC 6749 appendix A.12)",
            response,
        )
    token_type = body.get("token_type")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise _malformed(
            "token_type", f"has token_type {token_type!r}, not Bearer", response
        )
    return TokenResponse(
        access_token=access_token,
        token_type="Bearer",
        expires_in=_seconds(body.get("expires_in"), response),
        id_token=_optional_str(body, "id_token", response),
        refresh_token=_optional_str(body, "refresh_token", response),
        scope=_optional_str(body, "scope", response),
        raw=body,
    )


def _post(url: str, form: dict[str, str], purpose: str) -> HttpRequest:
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return HttpRequest("POST", url, headers, form=form, purpose=purpose)


def _json_body(response: HttpResponse) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        return body
    raise TokenEndpointError(
        f"The token endpoint answered HTTP {response.status_code} with a body that "
        "is not a JSON object: is token_endpoint right?",
        error=None,
        error_description=None,
        status_code=response.status_code,
        field="token_endpoint",
    )


def _refusal(status: int, body: Mapping[str, Any]) -> TokenEndpointError:
    error = body.get("error")
    error = error if isinstance(error, str) else None
    description = body.get("error_description")
    description = description if isinstance(description, str) else None
    said = f"{error}: {description}" if description else str(error)
    if error == "invalid_client":
        return InvalidClientError(
            f"CIS2 refused the client authentication ({said}). The offline checks "
            "of the assertion sent are in .findings; run 'cis2 doctor' for a report.",
            error=error,
            error_description=description,
            status_code=status,
        )
    if error == "invalid_grant":
        return InvalidGrantError(
            f"CIS2 refused the grant ({said}): the code or refresh token is "
            "unknown, used, expired or revoked. Start the sign-in again.",
            error=error,
            error_description=description,
            status_code=status,
            field="code",
        )
    return TokenEndpointError(
        f"The token endpoint refused the request (HTTP {status}, {said}).",
        error=error,
        error_description=description,
        status_code=status,
    )


def _malformed(name: str, problem: str, response: HttpResponse) -> TokenEndpointError:
    return TokenEndpointError(
        f"The token response {problem} (RFC 6749 section 5.1).",
        error=None,
        error_description=None,
        status_code=response.status_code,
        field=name,
    )


def _optional_str(
    body: Mapping[str, Any], name: str, response: HttpResponse
) -> str | None:
    value = body.get(name)
    if value is None or (isinstance(value, str) and value):
        return value
    raise _malformed(name, f"has a {name} that is not a non-empty string", response)


def _seconds(value: Any, response: HttpResponse) -> int | None:
    # CIS2 sends a number and the API Platform a string of digits; take both.
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    raise _malformed("expires_in", "has an expires_in that is not seconds", response)
