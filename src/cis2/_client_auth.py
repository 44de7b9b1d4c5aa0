"""Client authentication at the token endpoint: private_key_jwt and client_secret_post.

The client assertion follows RFC 7523 section 3 as CIS2 applies it: header
``alg`` (the algorithm registered for the client), ``kid`` always and ``typ``
JWT; ``iss`` = ``sub`` = the CIS2 client_id; ``aud`` the discovered
token_endpoint exactly as published (with its ``:443``); a fresh random
``jti``; ``iat`` now; ``exp`` now + lifetime; every date an integer.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Final

from cis2._jws import b64url_encode
from cis2._secret import Secret
from cis2.errors import ConfigurationError
from cis2.keys import SigningKey

__all__ = [
    "CLIENT_ASSERTION_TYPE",
    "MAX_ASSERTION_LIFETIME",
    "ClientAuth",
    "ClientSecretPost",
    "PrivateKeyJwt",
    "make_client_assertion",
]

CLIENT_ASSERTION_TYPE: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: The longest lifetime CIS2's clients use; longer ones risk refusal.
MAX_ASSERTION_LIFETIME: Final = 300


@dataclass(slots=True)
class PrivateKeyJwt:
    """private_key_jwt (OIDC Core section 9): a signed assertion per request."""

    key: SigningKey
    lifetime: int = MAX_ASSERTION_LIFETIME
    allow_long_lifetime: bool = False
    _header_b64: str = field(init=False, repr=False)

    method = "private_key_jwt"

    def __post_init__(self) -> None:
        _check_lifetime(self.lifetime, self.allow_long_lifetime)
        header = {"alg": self.key.alg, "kid": self.key.kid, "typ": "JWT"}
        self._header_b64 = b64url_encode(
            json.dumps(header, separators=(",", ":")).encode()
        )

    def form_fields(
        self, client_id: str, token_endpoint: str, now: int
    ) -> dict[str, str]:
        """The form fields that authenticate one token request."""
        return {
            "client_id": client_id,
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": self.assertion(client_id, token_endpoint, now),
        }

    def assertion(self, client_id: str, audience: str, now: int) -> str:
        """A fresh client assertion for audience (the token endpoint)."""
        now = int(now)
        # Claims are written by hand in a fixed order: the values are an id,
        # a URL and integers, and json.dumps on each string keeps escaping
        # right while skipping the cost of serialising a whole dict.
        payload = (
            f'{{"iss":{json.dumps(client_id)},"sub":{json.dumps(client_id)},'
            f'"aud":{json.dumps(audience)},"jti":"{uuid.uuid4()}",'
            f'"iat":{now},"exp":{now + self.lifetime}}}'
        )
        signing_input = f"{self._header_b64}.{b64url_encode(payload.encode())}"
        signature = self.key.sign(signing_input.encode("ascii"))
        return f"{signing_input}.{b64url_encode(signature)}"


@dataclass(slots=True)
class ClientSecretPost:
    """client_secret_post (RFC 6749 section 2.3.1): the secret in the form body."""

    secret: Secret

    method = "client_secret_post"

    def form_fields(
        self, client_id: str, token_endpoint: str, now: int
    ) -> dict[str, str]:
        return {"client_id": client_id, "client_secret": self.secret.reveal()}


ClientAuth = PrivateKeyJwt | ClientSecretPost


def make_client_assertion(
    key: SigningKey,
    *,
    client_id: str,
    audience: str,
    now: int,
    lifetime: int = MAX_ASSERTION_LIFETIME,
    allow_long_lifetime: bool = False,
) -> str:
    """One client assertion, as the token request would carry it."""
    auth = PrivateKeyJwt(key, lifetime, allow_long_lifetime)
    return auth.assertion(client_id, audience, now)


def _check_lifetime(lifetime: int, allow_long: bool) -> None:
    if not isinstance(lifetime, int) or lifetime <= 0:
        raise ConfigurationError(
            "assertion_lifetime must be a positive whole number of seconds "
            "(default 300).",
            field="assertion_lifetime",
        )
    if lifetime > MAX_ASSERTION_LIFETIME and not allow_long:
        raise ConfigurationError(
            f"assertion_lifetime {lifetime} s is over CIS2's {MAX_ASSERTION_LIFETIME} "
            "s: use 300 or less, or pass allow_long_assertion_lifetime=True if "
            "you know the provider accepts it.",
            field="assertion_lifetime",
        )
