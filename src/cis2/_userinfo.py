"""UserInfo (OIDC Core section 5.3): the request and the checks on its answer.

CIS2 answers JSON, or a signed JWT when the client registered for one; the
signed form carries no ``aud`` today, so ``aud`` is checked only when present.
Either way its ``sub`` must be the ID token's (OIDC Core 5.3.2).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from cis2._http import HttpRequest, HttpResponse
from cis2.errors import UserInfoError

__all__ = ["check_userinfo_claims", "parse_userinfo_json", "userinfo_request"]


def userinfo_request(endpoint: str, access_token: str) -> HttpRequest:
    headers = {
        "Authorization": f"Bearer {access_token}",
        "Accept": "application/json, application/jwt",
    }
    return HttpRequest("GET", endpoint, headers, purpose="userinfo")


def refusal(response: HttpResponse) -> UserInfoError | None:
    """The UserInfoError for a non-200 answer, or None when it succeeded."""
    if response.status_code == 200:
        return None
    error, description = _error_fields(response)
    said = f" ({error}: {description})" if error and description else ""
    hint = (
        " The access token is expired or revoked: refresh or sign in again."
        if response.status_code == 401
        else ""
    )
    return UserInfoError(
        f"UserInfo answered HTTP {response.status_code}{said}.{hint}",
        status_code=response.status_code,
        error=error,
        error_description=description,
        field="access_token",
    )


def parse_userinfo_json(response: HttpResponse) -> dict[str, Any]:
    try:
        claims = response.json()
    except ValueError:
        claims = None
    if not isinstance(claims, dict):
        raise UserInfoError(
            "UserInfo answered with a body that is neither a JSON object nor a "
            "signed JWT.",
            status_code=response.status_code,
            field="userinfo",
        )
    return claims


def check_userinfo_claims(
    claims: Mapping[str, Any], *, sub: str, issuer: str, client_id: str
) -> None:
    """sub must be the ID token's; iss and aud, when present, must be ours."""
    value = claims.get("sub")
    if not isinstance(value, str) or not hmac.compare_digest(
        value.encode(), sub.encode()
    ):
        raise UserInfoError(
            "UserInfo's sub is not the ID token's sub: the answer is about "
            "another user and must not be used (OIDC Core 5.3.2).",
            field="sub",
        )
    if "iss" in claims and claims["iss"] != issuer:
        raise UserInfoError("The signed UserInfo's iss is not the issuer.", field="iss")
    aud = claims.get("aud")
    if aud is not None:
        audiences = [aud] if isinstance(aud, str) else aud
        if not isinstance(audiences, list) or client_id not in audiences:
            raise UserInfoError(
                "The signed UserInfo's aud does not contain this client_id.",
                field="aud",
            )


def _error_fields(response: HttpResponse) -> tuple[str | None, str | None]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        description = body.get("error_description")
        return (
            error if isinstance(error, str) else None,
            description if isinstance(description, str) else None,
        )
    header = response.header("www-authenticate") or ""
    fields = dict(
        part.strip().split("=", 1) for part in header.split(",") if "=" in part
    )
    error = fields.get("error", fields.get("Bearer error"))
    return (error.strip('"') if error else None, None)
