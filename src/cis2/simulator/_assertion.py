"""Client authentication at the token endpoint, checked as strictly as CIS2.

private_key_jwt (RFC 7523 section 3, OIDC Core section 9) with the rules of
reference section 4.2, and client_secret_post (RFC 6749 section 2.3.1). CIS2
answers every assertion failure with the same "JWT is not valid"; here each
failure also carries a short machine id and a sentence, which go to the log
and, with ``--explain``, to the ``cis2_sim_reason`` field (reference section
10), so a developer learns what CIS2 would not say.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeGuard

import httpx

from cis2._client_auth import CLIENT_ASSERTION_TYPE
from cis2._jws import UnverifiedJws, parse_compact, verify_signature
from cis2.errors import Cis2Error, KeyLoadError, TokenValidationError
from cis2.keys import KeySet
from cis2.simulator._config import ClientRegistration, SimulatorConfig

__all__ = [
    "JWT_NOT_VALID",
    "SECRET_NOT_VALID",
    "AssertionChecker",
    "ClientAuthError",
    "ClientJwks",
]

JWT_NOT_VALID: Final = "JWT is not valid"
# ForgeRock's text for a failed client secret; the reference records only the
# assertion text, so this one is the product default.
SECRET_NOT_VALID: Final = "Client authentication failed"
_REFETCH_INTERVAL: Final = 1.0

logger = logging.getLogger("cis2.simulator")


class ClientAuthError(Cis2Error):
    """The client did not authenticate; ``reason`` is the machine id."""

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        description: str = JWT_NOT_VALID,
        unverified: UnverifiedJws | None = None,
    ) -> None:
        super().__init__(message, field="client_assertion")
        self.reason = reason
        self.description = description
        self.unverified = unverified

    @property
    def explanation(self) -> str:
        """``reason: sentence``, as ``cis2_sim_reason`` carries it."""
        return f"{self.reason}: {self.message}"


class ClientJwks:
    """Clients' JWKS: inline, or fetched from jwks_uri and cached."""

    def __init__(self, http: httpx.AsyncClient, cache_seconds: int) -> None:
        self._http = http
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, KeySet]] = {}

    async def key_set(self, client: ClientRegistration, kid: str) -> KeySet:
        """The client's keys; a jwks_uri is fetched again once on a new kid."""
        inline = client.key_set()
        if inline is not None:
            return inline
        uri = str(client.jwks_uri)
        cached = self._cache.get(uri)
        now = time.monotonic()
        if cached is not None:
            fetched_at, keys = cached
            fresh = now - fetched_at < self._cache_seconds
            if fresh and (keys.find(kid) or now - fetched_at < _REFETCH_INTERVAL):
                return keys
        keys = await self._fetch(uri)
        self._cache[uri] = (now, keys)
        return keys

    async def _fetch(self, uri: str) -> KeySet:
        try:
            response = await self._http.get(uri, timeout=5.0)
        except httpx.HTTPError as exc:
            raise ClientAuthError(
                "jwks_unreachable",
                f"the client's jwks_uri {uri} could not be fetched "
                f"({type(exc).__name__}): CIS2 must reach it over the network.",
            ) from None
        if response.status_code != 200:
            raise ClientAuthError(
                "jwks_unreachable",
                f"the client's jwks_uri {uri} answered HTTP "
                f"{response.status_code}, not 200 with a JWKS.",
            )
        try:
            return KeySet.from_json(response.content)
        except KeyLoadError as exc:
            raise ClientAuthError(
                "jwks_invalid", f"the client's jwks_uri {uri}: {exc.message}"
            ) from None


@dataclass(frozen=True, slots=True)
class AssertionChecker:
    """The rules of reference 4.2, applied in a fixed order; first failure wins."""

    config: SimulatorConfig
    jwks: ClientJwks

    async def check(
        self,
        client: ClientRegistration,
        assertion: str,
        now: int,
    ) -> dict[str, Any]:
        """The verified claims, or ClientAuthError naming the rule.

        The client was found by the form's client_id (or, without one, by
        the assertion's iss), so iss = sub = client_id also proves the form
        and the assertion agree.
        """
        unverified = _parse(assertion)
        try:
            return await self._check(client, unverified, now)
        except ClientAuthError as exc:
            exc.unverified = unverified
            raise

    async def _check(
        self,
        client: ClientRegistration,
        unverified: UnverifiedJws,
        now: int,
    ) -> dict[str, Any]:
        header = unverified.unverified_header
        self._check_header(client, header)
        keys = await self.jwks.key_set(client, header["kid"])
        _check_signature(unverified, keys, header["alg"], header["kid"])
        try:
            claims = unverified.unverified_claims()
        except TokenValidationError as exc:
            raise ClientAuthError("malformed", exc.message) from None
        _check_parties(claims, client.client_id)
        self._check_audience(claims.get("aud"))
        self._check_times(claims, now)
        _check_jti_shape(claims.get("jti"))
        return claims

    def _check_header(
        self, client: ClientRegistration, header: Mapping[str, Any]
    ) -> None:
        alg = header.get("alg")
        registered = client.token_endpoint_auth_signing_alg
        if alg != registered:
            raise ClientAuthError(
                "alg_not_registered",
                f"header alg {alg!r} is not the algorithm registered for this "
                f"client ({registered}): sign with {registered}.",
            )
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise ClientAuthError(
                "kid_missing",
                "header kid is missing: CIS2 picks the key from the client's "
                "JWKS by kid, so set it to the published key's kid.",
            )
        typ = header.get("typ")
        if typ is None and self.config.require_typ:
            raise ClientAuthError(
                "typ_missing", "header typ is missing: set it to 'JWT'."
            )
        if typ is not None and (not isinstance(typ, str) or typ.upper() != "JWT"):
            raise ClientAuthError("typ_invalid", f"header typ {typ!r} is not 'JWT'.")

    def _check_audience(self, aud: object) -> None:
        """aud is the token endpoint, one string (reference section 4.2).

        RFC 7523 section 3 allows an array, but CIS2 compares aud with its
        token endpoint as one string (the doctor's ``aud.array`` rule); an
        array is accepted only with the ``accept_aud_list`` option.
        """
        if isinstance(aud, list) and not self.config.accept_aud_list:
            raise ClientAuthError(
                "aud_array",
                f"aud is an array of {len(aud)}: CIS2 compares aud with its "
                f"token endpoint as one string; set aud to the string "
                f"{self.config.token_endpoint!r}.",
            )
        accepted = {self.config.token_endpoint}
        if self.config.accept_issuer_as_aud:
            accepted.add(self.config.issuer)
        values = aud if isinstance(aud, list) else [aud]
        if any(isinstance(v, str) and v in accepted for v in values):
            return
        raise ClientAuthError(
            "aud_mismatch",
            f"aud {aud!r} is not the token endpoint "
            f"{self.config.token_endpoint!r}: copy token_endpoint from discovery "
            "byte for byte, port included.",
        )

    def _check_times(self, claims: Mapping[str, Any], now: int) -> None:
        skew = self.config.clock_skew
        exp = claims.get("exp")
        if exp is None:
            raise ClientAuthError("exp_missing", "exp is missing: set now + 300.")
        if not _is_int(exp):
            raise ClientAuthError(
                "exp_not_integer",
                f"exp {exp!r} is not an integer: NumericDate is whole seconds.",
            )
        if exp + skew <= now:
            raise ClientAuthError(
                "exp_passed",
                f"exp is {now - exp} s in the past: mint a fresh assertion for "
                "each request and check the clock.",
            )
        if exp > now + self.config.max_assertion_lifetime + skew:
            raise ClientAuthError(
                "exp_too_far",
                f"exp is {exp - now} s ahead, more than "
                f"{self.config.max_assertion_lifetime} s: use now + 300 or less.",
            )
        self._check_iat(claims.get("iat"), now)
        _check_nbf(claims.get("nbf"), now, skew)

    def _check_iat(self, iat: object, now: int) -> None:
        if iat is None:
            if self.config.require_iat:
                raise ClientAuthError("iat_missing", "iat is missing: set now.")
            logger.warning(
                "client assertion without iat accepted (RFC 7523 allows it; "
                "CIS2 may not): send iat"
            )
            return
        if not _is_int(iat):
            raise ClientAuthError(
                "iat_not_integer", f"iat {iat!r} is not an integer NumericDate."
            )
        if iat > now + self.config.clock_skew:
            raise ClientAuthError(
                "iat_in_future",
                f"iat is {iat - now} s in the future: the client's clock is ahead.",
            )


def check_secret(client: ClientRegistration, form: Mapping[str, str]) -> None:
    """client_secret_post: the form's secret, compared in constant time."""
    sent = form.get("client_secret", "")
    expected = client.client_secret.reveal() if client.client_secret else ""
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise ClientAuthError(
            "secret_invalid",
            "client_secret is missing or not the registered secret.",
            description=SECRET_NOT_VALID,
        )


def check_assertion_type(form: Mapping[str, str]) -> str:
    """The client_assertion, once its type is the jwt-bearer URN."""
    kind = form.get("client_assertion_type")
    if kind != CLIENT_ASSERTION_TYPE:
        raise ClientAuthError(
            "assertion_type_invalid",
            f"client_assertion_type {kind!r} is not {CLIENT_ASSERTION_TYPE!r}.",
        )
    assertion = form.get("client_assertion")
    if not assertion:
        raise ClientAuthError(
            "assertion_missing", "client_assertion is missing from the form."
        )
    return assertion


# Rules that need nothing but the token


def _parse(assertion: str) -> UnverifiedJws:
    try:
        return parse_compact(assertion)
    except TokenValidationError as exc:
        raise ClientAuthError("malformed", exc.message) from None


def _check_signature(
    unverified: UnverifiedJws, keys: KeySet, alg: str, kid: str
) -> None:
    key = keys.find(kid)
    if key is None:
        raise ClientAuthError(
            "kid_unknown",
            f"kid {kid!r} is not in the client's registered JWKS: publish the "
            "key, or sign with the key that is published.",
        )
    if not key.fits(alg):
        raise ClientAuthError(
            "key_alg_mismatch",
            f"the published key {kid!r} does not allow {alg} (its alg, use or "
            "kty differ).",
        )
    try:
        verify_signature(alg, key.key, unverified.signing_input, unverified.signature)
    except TokenValidationError:
        raise ClientAuthError(
            "signature_invalid",
            f"the signature does not verify with the published key {kid!r}: the "
            "key pair does not match, or the token was altered.",
        ) from None


def _check_parties(claims: Mapping[str, Any], client_id: str) -> None:
    iss, sub = claims.get("iss"), claims.get("sub")
    if iss != client_id:
        raise ClientAuthError(
            "iss_mismatch",
            f"iss {iss!r} is not the CIS2 client_id {client_id!r} (not the API "
            "Platform key either): set iss = sub = client_id.",
        )
    if sub != client_id:
        raise ClientAuthError(
            "sub_mismatch",
            f"sub {sub!r} is not the CIS2 client_id {client_id!r}: set "
            "iss = sub = client_id.",
        )


def _check_nbf(nbf: object, now: int, skew: int) -> None:
    if nbf is None:
        return
    if not _is_int(nbf):
        raise ClientAuthError(
            "nbf_not_integer", f"nbf {nbf!r} is not an integer NumericDate."
        )
    if nbf > now + skew:
        raise ClientAuthError(
            "nbf_in_future",
            f"nbf is {nbf - now} s ahead: the assertion is not valid yet.",
        )


def _check_jti_shape(jti: object) -> None:
    if jti is None:
        raise ClientAuthError(
            "jti_missing", "jti is missing: send a fresh UUID in every assertion."
        )
    if not isinstance(jti, str) or not jti:
        raise ClientAuthError(
            "jti_not_string", f"jti {jti!r} must be a non-empty string (a UUID)."
        )


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
