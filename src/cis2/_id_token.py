"""ID token validation (OIDC Core sections 2, 3.1.3.7 and 3.1.3.8).

The header is checked before anything else: only allow-listed asymmetric
algorithms reach signature verification, so ``none`` and HMAC keyed with a
public key are refused by construction. The claims are checked after the
signature, each by a small function that names the claim it refuses.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from cis2._jws import ALGORITHMS, UnverifiedJws, b64url_encode
from cis2.errors import TokenValidationError

__all__ = [
    "IdTokenExpectations",
    "acr_satisfies",
    "check_audience",
    "check_header",
    "check_id_token_claims",
    "left_half_hash",
    "numeric_date",
]

_HASH_FOR: Final = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}
_ASSURANCE_CLAIMS: Final = ("id_assurance_level", "authentication_assurance_level")


@dataclass(frozen=True, slots=True)
class IdTokenExpectations:
    """What this login's ID token must say."""

    issuer: str
    client_id: str
    algs: frozenset[str]
    leeway: int
    nonce: str | None
    acr_values: str | None = None
    max_age: int | None = None
    #: Reject auth_time older than this many seconds (CIS2 practice: 300).
    auth_time_max_age: int | None = None
    access_token: str | None = None
    #: Refuse users whose identity was verified below this level (CIS2's
    #: production services ask for 3).
    min_id_assurance_level: int | None = None


def check_header(
    jws: UnverifiedJws, algs: frozenset[str], what: str = "ID token"
) -> str:
    """The header's alg if it is allowed; refuse anything else by name."""
    alg = jws.unverified_header.get("alg")
    if not isinstance(alg, str):
        raise TokenValidationError(f"The {what} has no alg header.", claim="alg")
    if alg == "none" or alg.startswith("HS") or alg not in ALGORITHMS:
        raise TokenValidationError(
            f"The {what} is signed with alg {alg!r}, which cis2 never accepts: "
            "only asymmetric signatures from the provider's JWKS count.",
            claim="alg",
        )
    if alg not in algs:
        allowed = ", ".join(sorted(algs))
        raise TokenValidationError(
            f"The {what} is signed with {alg}, not an allowed algorithm "
            f"({allowed}). CIS2 signs ID tokens with RS256; to accept more, "
            "set id_token_signing_algs.",
            claim="alg",
        )
    if jws.unverified_header.get("crit") is not None:
        raise TokenValidationError(
            f"The {what} has a crit header, which cis2 does not understand "
            "(RFC 7515 section 4.1.11).",
            claim="crit",
        )
    return alg


def check_id_token_claims(
    claims: Mapping[str, Any], expected: IdTokenExpectations, alg: str, now: float
) -> None:
    """Every claim rule, in the order OIDC Core section 3.1.3.7 gives them."""
    for check in _CHECKS:
        check(claims, expected, alg, now)


def check_issuer(claims: Mapping[str, Any], issuer: str, what: str) -> None:
    value = claims.get("iss")
    if value != issuer:
        shown = "missing" if value is None else f"{value!r}"
        raise TokenValidationError(
            f"The {what}'s iss is {shown}, not the issuer {issuer!r}: it must match "
            "byte for byte (a token from another environment or provider).",
            claim="iss",
        )


def check_audience(claims: Mapping[str, Any], client_id: str, what: str) -> None:
    aud = claims.get("aud")
    if aud == client_id:  # CIS2's usual single audience: nothing more to check
        return
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or not all(
        isinstance(item, str) for item in audiences
    ):
        raise TokenValidationError(
            f"The {what} has no aud string or list of strings.", claim="aud"
        )
    if client_id not in audiences:
        raise TokenValidationError(
            f"The {what}'s aud does not contain this client_id {client_id!r}: it "
            "was issued to another client.",
            claim="aud",
        )


def numeric_date(claims: Mapping[str, Any], name: str, what: str) -> float | int | None:
    """A NumericDate claim (RFC 7519 section 2), or None when absent."""
    value = claims.get(name)
    if value is None:
        return None
    if type(value) is int:  # the usual case, and never a bool
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise TokenValidationError(
            f"The {what}'s {name} is not a finite number of seconds.", claim=name
        )
    if isinstance(value, bool) or not isinstance(value, int | float):
        kind = "a string" if isinstance(value, str) else type(value).__name__
        raise TokenValidationError(
            f"The {what}'s {name} is {kind}, not a number of seconds since 1970 "
            "(RFC 7519 NumericDate).",
            claim=name,
        )
    return float(value)


def check_expiry(claims: Mapping[str, Any], leeway: int, now: float, what: str) -> None:
    exp = numeric_date(claims, "exp", what)
    if exp is None:
        raise TokenValidationError(f"The {what} has no exp.", claim="exp")
    if now >= exp + leeway:
        raise TokenValidationError(
            f"The {what} expired {int(now - exp)} s ago (leeway {leeway} s): sign "
            "in again, or check this machine's clock.",
            claim="exp",
        )


def check_issued_at(
    claims: Mapping[str, Any], leeway: int, now: float, what: str
) -> None:
    iat = numeric_date(claims, "iat", what)
    if iat is None:
        raise TokenValidationError(f"The {what} has no iat.", claim="iat")
    if iat > now + leeway:
        raise TokenValidationError(
            f"The {what}'s iat is {int(iat - now)} s in the future (leeway "
            f"{leeway} s): check this machine's clock.",
            claim="iat",
        )
    nbf = numeric_date(claims, "nbf", what)
    if nbf is not None and nbf > now + leeway:
        raise TokenValidationError(
            f"The {what} is not valid for another {int(nbf - now)} s (nbf).",
            claim="nbf",
        )


def left_half_hash(value: str, alg: str) -> str:
    """at_hash, c_hash and s_hash: the left half of the alg's hash of value,
    base64url (OIDC Core section 3.1.3.6)."""
    digest = _HASH_FOR[alg[2:]](value.encode("ascii")).digest()
    return b64url_encode(digest[: len(digest) // 2])


def acr_satisfies(acr: str, requested: str) -> bool:
    """Whether the acr achieved meets one of the requested acr_values.

    CIS2 names levels AAL1..AAL3; an AAL3 authenticator satisfies an AAL2
    request (reference section 10, row 11). Unknown names must match exactly.
    """
    achieved = _aal(acr)
    for wanted in requested.split():
        if acr == wanted:
            return True
        level = _aal(wanted)
        if achieved is not None and level is not None and achieved >= level:
            return True
    return False


def _aal(value: str) -> int | None:
    if len(value) >= 4 and value.startswith("AAL") and value[3] in "123":
        return int(value[3])
    return None


# The claim rules, one function each.


def _iss(
    claims: Mapping[str, Any], e: IdTokenExpectations, alg: str, now: float
) -> None:
    check_issuer(claims, e.issuer, "ID token")


def _sub(
    claims: Mapping[str, Any], e: IdTokenExpectations, alg: str, now: float
) -> None:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise TokenValidationError(
            "The ID token has no sub: every ID token must name its user.",
            claim="sub",
        )


def _aud(
    claims: Mapping[str, Any], e: IdTokenExpectations, alg: str, now: float
) -> None:
    check_audience(claims, e.client_id, "ID token")
    aud = claims.get("aud")
    azp = claims.get("azp")
    several = isinstance(aud, list) and len(aud) > 1
    if azp is None and several:
        raise TokenValidationError(
            "The ID token has several audiences but no azp (OIDC Core 3.1.3.7).",
            claim="azp",
        )
    if azp is not None and azp != e.client_id:
        raise TokenValidationError(
            f"The ID token's azp is {azp!r}, not this client_id: it was issued "
            "to another client.",
            claim="azp",
        )


def _times(
    claims: Mapping[str, Any], e: IdTokenExpectations, alg: str, now: float
) -> None:
    check_expiry(claims, e.leeway, now, "ID token")
    check_issued_at(claims, e.leeway, now, "ID token")


def _nonce(
    claims: Mapping[str, Any], e: IdTokenExpectations, alg: str, now: float
) -> None:
    if e.nonce is None:
        return
    nonce = claims.get("nonce")
    if not isinstance(nonce, str):
        raise TokenValidationError(
            "The ID token has no nonce, but this login sent one: the provider "
            "must echo it (OIDC Core 3.1.3.7).",
            claim="nonce",
        )
    if not hmac.compare_digest(nonce.encode(), e.nonce.encode()):
        raise TokenValidationError(
            "The ID token's nonce is not this login's: a replayed or swapped token.",
            claim="nonce",
        )


def _auth_time(
    claims: Mapping[str, Any], e: IdTokenExpectations, alg: str, now: float
) -> None:
    if e.max_age is None and e.auth_time_max_age is None:
        return
    auth_time = numeric_date(claims, "auth_time", "ID token")
    if auth_time is None:
        raise TokenValidationError(
            "The ID token has no auth_time, which this login needs to prove the "
            "user signed in recently (OIDC Core 3.1.2.1, max_age).",
            claim="auth_time",
        )
    if auth_time > now + e.leeway:
        raise TokenValidationError(
            "The ID token's auth_time is in the future: check this machine's clock.",
            claim="auth_time",
        )
    if e.max_age is None or e.auth_time_max_age is None:
        limit = e.max_age if e.auth_time_max_age is None else e.auth_time_max_age
    else:
        limit = min(e.max_age, e.auth_time_max_age)
    age = now - auth_time
    if limit is not None and age > limit + e.leeway:
        raise TokenValidationError(
            f"The user signed in {int(age)} s ago, longer than the {limit} s "
            "allowed: sign in again (prompt=login).",
            claim="auth_time",
        )


def _acr(
    claims: Mapping[str, Any], e: IdTokenExpectations, alg: str, now: float
) -> None:
    if e.acr_values is None:
        return
    acr = claims.get("acr")
    if acr == e.acr_values:
        return
    if not isinstance(acr, str):
        raise TokenValidationError(
            f"The ID token has no acr, but this login asked for {e.acr_values}.",
            claim="acr",
        )
    if not acr_satisfies(acr, e.acr_values):
        raise TokenValidationError(
            f"The user signed in at {acr}, below the {e.acr_values} asked for: "
            "step up with a stronger authenticator (a new login with prompt=login).",
            claim="acr",
        )


def _assurance(
    claims: Mapping[str, Any], e: IdTokenExpectations, alg: str, now: float
) -> None:
    for name in _ASSURANCE_CLAIMS:
        value = claims.get(name)
        if value is None or type(value) is int:
            continue
        # ASCII digits only: str.isdigit() alone also accepts "²".
        if type(value) is str and value.isascii() and value.isdigit():
            continue
        raise TokenValidationError(
            f"The ID token's {name} is neither an integer nor a string of digits.",
            claim=name,
        )
    wanted = e.min_id_assurance_level
    if wanted is None:
        return
    level = claims.get("id_assurance_level")
    if level is None or int(level) < wanted:
        shown = "missing" if level is None else f"{level}"
        raise TokenValidationError(
            f"The user's identity assurance level is {shown}, below the {wanted} "
            "this service requires: the user must have their identity verified "
            "to that level by their Registration Authority.",
            claim="id_assurance_level",
        )


def _at_hash(
    claims: Mapping[str, Any], e: IdTokenExpectations, alg: str, now: float
) -> None:
    at_hash = claims.get("at_hash")
    if at_hash is None or e.access_token is None:
        return
    expected = left_half_hash(e.access_token, alg)
    if not isinstance(at_hash, str) or not hmac.compare_digest(at_hash, expected):
        raise TokenValidationError(
            "The ID token's at_hash does not match the access token it came with "
            "(OIDC Core 3.2.2.9): a swapped token.",
            claim="at_hash",
        )


Check = Callable[[Mapping[str, Any], IdTokenExpectations, str, float], None]
_CHECKS: Final[Iterable[Check]] = (
    _iss,
    _sub,
    _aud,
    _times,
    _nonce,
    _auth_time,
    _acr,
    _assurance,
    _at_hash,
)
