"""The provider's JWKS, cached, and the choice of key for a signed token.

An unknown ``kid`` earns one refetch of the JWKS, so a key the provider
rotated in just after the last fetch is still found. Forced refetches are
rate-limited on their own clock (one a minute by default), so a stream of
tokens with made-up kids cannot turn the client into a JWKS hammer.
"""

from __future__ import annotations

from typing import Any, Final

from cis2._discovery import cache_seconds
from cis2._http import HttpRequest, HttpResponse
from cis2.errors import JwksError, KeyLoadError, TokenValidationError
from cis2.keys import KeySet, VerificationKey

__all__ = ["ProviderKeys", "jwks_request"]

DEFAULT_REFETCH_INTERVAL: Final = 60.0


class ProviderKeys:
    """The provider's current KeySet with its freshness and refetch budget."""

    __slots__ = ("_forced_at", "expires_at", "keyset", "refetch_interval")

    def __init__(self, refetch_interval: float = DEFAULT_REFETCH_INTERVAL) -> None:
        self.keyset: KeySet | None = None
        self.expires_at = 0.0
        self.refetch_interval = refetch_interval
        self._forced_at: float | None = None

    def is_fresh(self, now: float) -> bool:
        return self.keyset is not None and now < self.expires_at

    def may_force_refetch(self, now: float) -> bool:
        """Whether an unknown kid may trigger a refetch now."""
        if self._forced_at is None or now - self._forced_at >= self.refetch_interval:
            self._forced_at = now
            return True
        return False

    def store(self, response: HttpResponse, now: float) -> KeySet:
        """Parse a JWKS response and keep it."""
        if response.status_code != 200:
            raise JwksError(
                f"The provider's jwks_uri answered HTTP {response.status_code}: "
                "the provider's keys cannot be read, so no token can be checked.",
                field="jwks_uri",
            )
        try:
            keyset = KeySet.from_json(response.content)
        except KeyLoadError as exc:
            raise JwksError(
                f"The provider's JWKS is unusable: {exc.message}", field="jwks_uri"
            ) from None
        self.keyset = keyset
        self.expires_at = now + cache_seconds(response)
        return keyset

    def choose(self, header: dict[str, Any], alg: str) -> VerificationKey | None:
        """The key named by the header's kid, or the single key when kid is absent.

        None means the kid is not (yet) known: a refetch might find it. With
        no kid and several keys that fit alg, the token is refused: the RP
        cannot tell which key the provider meant (OIDC Core section 10.1).
        """
        keyset = self.keyset
        if keyset is None:
            return None
        kid = header.get("kid")
        if kid is None:
            return _only_key(keyset, alg)
        if not isinstance(kid, str):
            raise TokenValidationError(
                "The token's kid header is not a string.", claim="kid"
            )
        key = keyset.find(kid)
        if key is None:
            return None
        if not key.fits(alg):
            raise TokenValidationError(
                f"The provider's key for this kid is for {key.alg or key.kty}, but "
                f"the token says alg {alg}: the token was not signed as published.",
                claim="alg",
            )
        return key


def jwks_request(jwks_uri: str) -> HttpRequest:
    return HttpRequest(
        "GET", jwks_uri, {"Accept": "application/json"}, purpose="provider JWKS"
    )


def _only_key(keyset: KeySet, alg: str) -> VerificationKey:
    fitting = [key for key in keyset.keys if key.fits(alg)]
    if len(fitting) == 1:
        return fitting[0]
    if not fitting:
        raise TokenValidationError(
            f"The token has no kid and the provider's JWKS has no {alg} key.",
            claim="kid",
        )
    raise TokenValidationError(
        f"The token has no kid and the provider's JWKS has {len(fitting)} keys "
        f"for {alg}: the key cannot be chosen. CIS2 always sends kid; a token "
        "without one is not CIS2's.",
        claim="kid",
    )
