"""probe: ask the real token endpoint whether it accepts the client's assertion.

CIS2 answers every refused assertion with the same "JWT is not valid", so
the offline rules cannot see a registration problem (a JWKS CIS2 cannot
reach, an alg registered differently). The probe sends one token request
with a real assertion and a deliberately invalid authorization code. An
authorization server authenticates the client before it looks at the code
(RFC 6749 section 3.2.1), so ``invalid_grant`` proves the assertion was
accepted and ``invalid_client`` that it was not; the offline rules then
run on the exact assertion sent. No code is redeemed and no token issued.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Final

import httpx

from cis2._client_auth import CLIENT_ASSERTION_TYPE, PrivateKeyJwt
from cis2._jws import b64url_decode
from cis2.errors import ProviderUnreachableError
from cis2.keys import SigningKey

from ._diagnose import diagnose
from ._report import Report

__all__ = ["PROBE_CODE", "ProbeResult", "explain_probe", "probe"]

logger = logging.getLogger("cis2.doctor")

#: The authorization code the probe sends: no provider ever issued it.
PROBE_CODE: Final = "cis2-doctor-probe-deliberately-invalid-code"
PROBE_TIMEOUT: Final = 10.0


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What the token endpoint said to the probe, and what it means.

    ``accepted`` is True when the endpoint answered ``invalid_grant`` (the
    client authentication passed), False on ``invalid_client`` (``report``
    then holds the offline findings for the assertion sent), None for any
    other answer, which proves neither.
    """

    accepted: bool | None
    status_code: int
    error: str | None
    error_description: str | None
    report: Report | None
    token_endpoint: str
    client_id: str
    sent_claims: dict[str, Any]
    sent_header: dict[str, Any]
    redirect_uri: str | None = None

    def explain_request(self) -> str:
        """In words, what the probe sent (never the assertion's signature)."""
        return _explain(
            self.token_endpoint,
            self.client_id,
            self.redirect_uri,
            self.sent_header,
            self.sent_claims,
        )

    def summary(self) -> str:
        """In words, what the answer means."""
        answer = f"HTTP {self.status_code}, error {self.error or '(none)'}"
        if self.accepted is True:
            return (
                f"The token endpoint accepted the client authentication ({answer}): "
                "it refused only the deliberately invalid code, which it checks "
                "after the assertion. The client_id, key, kid, alg and aud work."
            )
        if self.accepted is False:
            found = (
                "the offline rules name what is wrong below."
                if self.report is not None and self.report.findings
                else "the offline rules find nothing wrong in the assertion, so "
                "look at the registration: the JWKS at the registered jwks_uri "
                "(reachable by CIS2, holding this kid), the registered alg, and "
                "the environment the client_id belongs to."
            )
            return (
                "The token endpoint refused the client authentication "
                f"({answer}); {found}"
            )
        return (
            f"The token endpoint answered {answer}, which neither proves nor "
            "disproves the client authentication (a redirect_uri or request "
            "problem is checked first by some servers)."
        )


def explain_probe(
    *,
    token_endpoint: str,
    client_id: str,
    key: SigningKey,
    redirect_uri: str | None = None,
) -> str:
    """Before sending: what ``probe`` will send, for the user to confirm."""
    header = {"alg": key.alg, "kid": key.kid, "typ": "JWT"}
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": token_endpoint,
        "jti": "(a fresh random UUID)",
        "iat": "(now)",
        "exp": "(now + 300)",
    }
    return _explain(token_endpoint, client_id, redirect_uri, header, claims)


def probe(
    *,
    token_endpoint: str,
    client_id: str,
    key: SigningKey,
    redirect_uri: str | None = None,
    http: httpx.Client | None = None,
) -> ProbeResult:
    """Send one token request with a real assertion and an invalid code.

    This contacts the real token endpoint. Raises ProviderUnreachableError
    when no HTTP answer comes back; any answer becomes a ProbeResult.
    """
    sent_at = int(time.time())
    auth = PrivateKeyJwt(key)
    fields = {"grant_type": "authorization_code", "code": PROBE_CODE}
    if redirect_uri is not None:
        fields["redirect_uri"] = redirect_uri
    fields.update(auth.form_fields(client_id, token_endpoint, sent_at))
    assertion = fields["client_assertion"]
    response = _post(http, token_endpoint, fields)
    error, description = _error_fields(response)
    accepted = {"invalid_grant": True, "invalid_client": False}.get(error or "")
    report = None
    if accepted is False:
        report = diagnose(
            assertion,
            client_id=client_id,
            token_endpoint=token_endpoint,
            alg=key.alg,
            key=key,
            now=sent_at,
        )
    header, claims = _decoded(assertion)
    return ProbeResult(
        accepted=accepted,
        status_code=response.status_code,
        error=error,
        error_description=description,
        report=report,
        token_endpoint=token_endpoint,
        client_id=client_id,
        sent_claims=claims,
        sent_header=header,
        redirect_uri=redirect_uri,
    )


# Helpers


def _post(
    http: httpx.Client | None, url: str, fields: dict[str, str]
) -> httpx.Response:
    try:
        if http is not None:
            response = http.post(url, data=fields, timeout=PROBE_TIMEOUT)
        else:
            with httpx.Client(timeout=PROBE_TIMEOUT) as client:
                response = client.post(url, data=fields)
    except httpx.HTTPError as exc:
        raise ProviderUnreachableError(
            f"The probe got no answer from the token endpoint "
            f"({type(exc).__name__}): check the URL and the network.",
            url=url,
            field="token_endpoint",
        ) from None
    logger.info("POST %s -> %s (doctor probe)", url, response.status_code)
    return response


def _error_fields(response: httpx.Response) -> tuple[str | None, str | None]:
    try:
        body = response.json()
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    error, description = body.get("error"), body.get("error_description")
    return (
        error if isinstance(error, str) else None,
        description if isinstance(description, str) else None,
    )


def _decoded(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header_b64, payload_b64, _ = assertion.split(".")
    header = json.loads(b64url_decode(header_b64, part="header"))
    claims = json.loads(b64url_decode(payload_b64, part="payload"))
    return header, claims


def _explain(
    token_endpoint: str,
    client_id: str,
    redirect_uri: str | None,
    header: dict[str, Any],
    claims: dict[str, Any],
) -> str:
    lines = [
        f"This contacts the real token endpoint: POST {token_endpoint}",
        "as application/x-www-form-urlencoded, with:",
        "  grant_type=authorization_code",
        f"  code={PROBE_CODE}  (deliberately invalid; nothing is redeemed)",
    ]
    if redirect_uri is not None:
        lines.append(f"  redirect_uri={redirect_uri}")
    lines += [
        f"  client_id={client_id}",
        f"  client_assertion_type={CLIENT_ASSERTION_TYPE}",
        "  client_assertion=a JWT signed with your private key:",
        "    header " + _pairs(header),
        "    claims " + _pairs(claims),
        "The private key never leaves this machine; the answer is invalid_grant "
        "if the client authentication works, invalid_client if it does not.",
    ]
    return "\n".join(lines)


def _pairs(values: dict[str, Any]) -> str:
    return ", ".join(f"{name}={value}" for name, value in values.items())
