"""Provider discovery (OpenID Connect Discovery 1.0) as CIS2 needs it.

The issuer is compared byte for byte and never normalised: CIS2 writes the
default port out (``:443``) in its issuer and endpoint URLs, and an OAuth
library that drops it produces tokens CIS2 refuses. The one tolerance is the
documented one: an issuer configured without the port is accepted when the
discovered issuer differs from it only by an explicit ``:443``, and from then
on the discovered string is used verbatim.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from cis2._http import HttpRequest, HttpResponse, is_loopback_url
from cis2.environments import RETIRED_HOSTS
from cis2.errors import Cis2Warning, ConfigurationError, DiscoveryError

__all__ = [
    "DEFAULT_CACHE_SECONDS",
    "ProviderMetadata",
    "check_issuer",
    "check_provider_url",
    "discovery_request",
    "parse_discovery",
]

DEFAULT_CACHE_SECONDS: Final = 3600
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)
_REQUIRED: Final = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
_ENDPOINTS: Final = (
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "jwks_uri",
    "end_session_endpoint",
)


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    """The discovery document's fields that cis2 uses, plus the raw document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None = None
    end_session_endpoint: str | None = None
    scopes_supported: tuple[str, ...] = ()
    acr_values_supported: tuple[str, ...] = ()
    id_token_signing_alg_values_supported: tuple[str, ...] = ()
    token_endpoint_auth_methods_supported: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    #: When this document stops being fresh (seconds since the epoch).
    expires_at: float = 0.0


def check_issuer(issuer: str, *, allow_insecure_http: bool = False) -> None:
    """Refuse an issuer that cannot be right before anything is fetched."""
    if not isinstance(issuer, str) or not issuer:
        raise ConfigurationError(
            "issuer is empty: give the exact issuer, e.g. "
            "cis2.environments.INT.issuer.",
            field="issuer",
        )
    if issuer != issuer.strip():
        raise ConfigurationError(
            "issuer has spaces around it: give the exact issuer string.",
            field="issuer",
        )
    parts = urlsplit(issuer)
    if parts.query or parts.fragment:
        raise ConfigurationError(
            "issuer must not have a query or fragment (OIDC Discovery section 2).",
            field="issuer",
        )
    if parts.hostname in RETIRED_HOSTS:
        raise ConfigurationError(
            f"issuer host {parts.hostname} was retired by CIS2 in April 2021: use "
            "cis2.environments.INT (am.nhsint.auth-ptl.cis2.spineservices.nhs.uk).",
            field="issuer",
        )
    check_provider_url(issuer, "issuer", allow_insecure_http=allow_insecure_http)


def check_provider_url(
    url: str, name: str, *, allow_insecure_http: bool = False
) -> None:
    """https is required, except for loopback hosts or an explicit opt-in."""
    scheme = urlsplit(url).scheme
    if scheme == "https":
        return
    if scheme == "http" and (allow_insecure_http or is_loopback_url(url)):
        return
    if scheme == "http":
        raise ConfigurationError(
            f"{name} uses http: CIS2 is served over https. For a local provider "
            "use a loopback host (127.0.0.1), or pass allow_insecure_http=True.",
            field=name,
        )
    raise ConfigurationError(
        f"{name} is not an http(s) URL: give the full URL, e.g. "
        "https://host:443/openam/...",
        field=name,
    )


def discovery_request(issuer: str) -> HttpRequest:
    """GET {issuer}/.well-known/openid-configuration (Discovery section 4)."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    return HttpRequest("GET", url, {"Accept": "application/json"}, purpose="discovery")


def parse_discovery(
    response: HttpResponse,
    issuer: str,
    *,
    now: float,
    allow_insecure_http: bool = False,
) -> ProviderMetadata:
    """Check the discovery response and turn it into ProviderMetadata."""
    document = _document(response)
    published = document.get("issuer")
    exact = _exact_issuer(issuer, published)
    for name in _REQUIRED:
        value = document.get(name)
        if not isinstance(value, str) or not value:
            raise DiscoveryError(
                f"The discovery document has no {name}: the provider at {issuer} "
                "is not a complete OpenID Provider (Discovery section 3).",
                field=name,
            )
    for name in _ENDPOINTS:
        value = document.get(name)
        if value is not None:
            if not isinstance(value, str):
                raise DiscoveryError(
                    f"The discovery document's {name} is not a URL string.",
                    field=name,
                )
            try:
                check_provider_url(value, name, allow_insecure_http=allow_insecure_http)
            except ConfigurationError as exc:
                raise DiscoveryError(exc.message, field=name) from None
    return ProviderMetadata(
        issuer=exact,
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        jwks_uri=document["jwks_uri"],
        userinfo_endpoint=document.get("userinfo_endpoint"),
        end_session_endpoint=document.get("end_session_endpoint"),
        scopes_supported=_strings(document, "scopes_supported"),
        acr_values_supported=_strings(document, "acr_values_supported"),
        id_token_signing_alg_values_supported=_strings(
            document, "id_token_signing_alg_values_supported"
        ),
        token_endpoint_auth_methods_supported=_strings(
            document, "token_endpoint_auth_methods_supported"
        ),
        raw=document,
        expires_at=now + cache_seconds(response),
    )


def cache_seconds(response: HttpResponse, default: int = DEFAULT_CACHE_SECONDS) -> int:
    """How long to keep a response: Cache-Control max-age, else default."""
    control = response.header("cache-control") or ""
    if "no-store" in control.lower() or "no-cache" in control.lower():
        return 0
    match = _MAX_AGE.search(control)
    return int(match.group(1)) if match else default


def _document(response: HttpResponse) -> dict[str, Any]:
    if response.status_code != 200:
        raise DiscoveryError(
            f"Discovery answered HTTP {response.status_code}: check the issuer "
            "(it must be exactly what the provider publishes, with :443 for CIS2).",
            field="issuer",
        )
    try:
        document = response.json()
    except ValueError:
        raise DiscoveryError(
            "The discovery document is not JSON: is the issuer the provider's "
            "issuer, and not a login page?",
            field="issuer",
        ) from None
    if not isinstance(document, dict):
        raise DiscoveryError(
            "The discovery document is not a JSON object.", field="issuer"
        )
    return document


def _exact_issuer(configured: str, published: object) -> str:
    if published == configured:
        return configured
    if isinstance(published, str) and published == _with_port_443(configured):
        warnings.warn(
            f"The issuer was given without CIS2's explicit :443; using {published} "
            "exactly as the provider publishes it. Configure that string to "
            "silence this warning.",
            Cis2Warning,
            stacklevel=4,
        )
        return published
    raise DiscoveryError(
        f"The provider's discovery document names issuer {published!r}, not the "
        f"configured {configured!r}. They must match byte for byte (Discovery "
        "section 4.3): configure the issuer exactly as published.",
        field="issuer",
    )


def _with_port_443(issuer: str) -> str | None:
    parts = urlsplit(issuer)
    if parts.scheme != "https" or parts.port is not None or not parts.hostname:
        return None
    return f"https://{parts.netloc}:443{parts.path}"


def _strings(document: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = document.get(name)
    if isinstance(value, list):
        return tuple(item for item in value if isinstance(item, str))
    return ()
