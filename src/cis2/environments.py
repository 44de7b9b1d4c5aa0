"""CIS2's environments and their issuers, exactly as CIS2 publishes them.

Every issuer carries an explicit ``:443``: CIS2 writes the default port out
in the discovery ``issuer``, in every ``iss`` and in its endpoint URLs, and
compares them byte for byte. Never normalise these strings: an OAuth
library that drops the default port produces assertions CIS2 refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = [
    "API_PLATFORM_TOKEN_URLS",
    "DEP",
    "DEV",
    "ENVIRONMENTS",
    "INT",
    "LIVE",
    "RETIRED_HOSTS",
    "Environment",
    "by_name",
]

HEALTHCARE_REALM: Final = (
    "/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare"
)
OIDC_REALM: Final = "/openam/oauth2/realms/root/realms/oidc"


@dataclass(frozen=True, slots=True)
class Environment:
    """One CIS2 environment: its issuer and what is known of it."""

    name: str
    issuer: str
    description: str
    verified: bool = True

    @property
    def token_endpoint(self) -> str:
        """CIS2's token endpoint: the exact ``aud`` of a client assertion."""
        return f"{self.issuer}/access_token"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"


DEV: Final = Environment(
    "dev",
    f"https://am.nhsdev.auth-ptl.cis2.spineservices.nhs.uk:443{OIDC_REALM}",
    "Dev, Simple OIDC realm: first steps, often with a client secret",
)
INT: Final = Environment(
    "int",
    f"https://am.nhsint.auth-ptl.cis2.spineservices.nhs.uk:443{HEALTHCARE_REALM}",
    "Integration: development and integration testing",
)
DEP: Final = Environment(
    "dep",
    f"https://am.nhsdep.auth-ptl.cis2.spineservices.nhs.uk:443{HEALTHCARE_REALM}",
    "Deployment: testing and training (issuer follows the pattern, unverified)",
    verified=False,
)
LIVE: Final = Environment(
    "live",
    f"https://am.nhsidentity.spineservices.nhs.uk:443{HEALTHCARE_REALM}",
    "Production",
)

ENVIRONMENTS: Final[dict[str, Environment]] = {
    env.name: env for env in (DEV, INT, DEP, LIVE)
}

#: Hosts CIS2 retired on 21 April 2021; cis2 refuses issuers on them.
RETIRED_HOSTS: Final = frozenset(
    {"am.nhsint.ptl.nhsd-esa.net", "am.nhsspit-2.ptl.nhsd-esa.net"}
)

#: The NHS API Platform's token URLs, the ``aud`` of its own assertions.
API_PLATFORM_TOKEN_URLS: Final[dict[str, str]] = {
    "int": "https://int.api.service.nhs.uk/oauth2/token",
    "live": "https://api.service.nhs.uk/oauth2/token",
}


def by_name(name: str) -> Environment:
    """The environment called name (dev, int, dep or live; any case)."""
    try:
        return ENVIRONMENTS[name.lower()]
    except KeyError:
        from cis2.errors import ConfigurationError

        names = ", ".join(ENVIRONMENTS)
        raise ConfigurationError(
            f"Unknown CIS2 environment {name!r}: use one of {names}.",
            field="env",
        ) from None
