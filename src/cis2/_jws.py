"""Compact JWS (RFC 7515) for the fixed set of asymmetric algorithms CIS2 uses.

This is a deliberately small layer on ``cryptography``: minting a client
assertion and validating an ID token sit on every login, and a general JOSE
library spends a large share of the time of each on work CIS2 does not need
(algorithm registries, JSON serialisation, header bookkeeping). The layer
knows RS256/384/512, PS256/384/512 and ES256/384/512 and nothing else, so
``none`` and every HMAC algorithm are refused by construction. The tests
cross-check every algorithm against joserfc and PyJWT in both directions.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Final, NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from cis2.errors import MalformedTokenError, TokenValidationError

__all__ = [
    "ALGORITHMS",
    "PrivateKey",
    "PublicKey",
    "UnverifiedJws",
    "b64url_decode",
    "b64url_encode",
    "parse_compact",
    "sign_compact",
    "verify_signature",
]

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

_HASHES: Final[dict[str, type[hashes.SHA256 | hashes.SHA384 | hashes.SHA512]]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}
_CURVES: Final = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}
_EC_SIZES: Final = {"ES256": 32, "ES384": 48, "ES512": 66}

#: The algorithms this layer implements, by JOSE name, with their key type.
ALGORITHMS: Final[dict[str, str]] = {
    "RS256": "RSA",
    "RS384": "RSA",
    "RS512": "RSA",
    "PS256": "RSA",
    "PS384": "RSA",
    "PS512": "RSA",
    "ES256": "EC",
    "ES384": "EC",
    "ES512": "EC",
}

_PKCS1: Final = padding.PKCS1v15()
_HASH_OBJECTS: Final = {alg: _HASHES[alg[2:]]() for alg in ALGORITHMS}
_PSS: Final = {
    alg: padding.PSS(
        mgf=padding.MGF1(_HASHES[alg[2:]]()), salt_length=int(alg[2:]) // 8
    )
    for alg in ("PS256", "PS384", "PS512")
}


# Maps the URL-safe alphabet onto the standard one, and the standard
# alphabet's own '+' and '/' onto a character strict decoding refuses.
_URLSAFE_TO_STANDARD: Final = bytes.maketrans(b"-_+/", b"+/!!")
# Headers repeat across tokens (one per provider key), so their parse is kept.
_HEADER_CACHE: dict[str, dict[str, Any]] = {}
_HEADER_CACHE_SIZE: Final = 256


def _refuse_constant(name: str) -> object:
    # NaN and Infinity are not JSON (RFC 8259); a NaN exp would compare false
    # with every instant and so never expire.
    raise ValueError(f"{name} is not JSON")


_JSON: Final = json.JSONDecoder(parse_constant=_refuse_constant)


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, *, part: str = "token") -> bytes:
    """Strict base64url: no padding, no whitespace, only the URL-safe alphabet."""
    if not isinstance(text, str):
        raise MalformedTokenError(f"The {part} is not a string.", claim=part)
    if "=" in text:
        raise MalformedTokenError(
            f"The {part} has base64 padding ('='): JWS parts are base64url without "
            "padding (RFC 7515 section 2); strip the trailing '='.",
            claim=part,
        )
    try:
        raw = text.encode("ascii").translate(_URLSAFE_TO_STANDARD)
        return binascii.a2b_base64(raw + b"=" * (-len(raw) % 4), strict_mode=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        raise MalformedTokenError(
            f"The {part} is not base64url: use the URL-safe alphabet (A-Z a-z 0-9 "
            "- _) with no padding or whitespace.",
            claim=part,
        ) from None


class UnverifiedJws(NamedTuple):
    """A compact JWS split and decoded, its signature not yet checked.

    A NamedTuple rather than a frozen dataclass: one is built per token
    validated, and a frozen dataclass costs several times more to create.
    """

    unverified_header: dict[str, Any]
    payload: bytes
    signing_input: bytes
    signature: bytes

    def unverified_claims(self) -> dict[str, Any]:
        """The payload as a JSON object, or MalformedTokenError."""
        return _json_object(self.payload, part="payload")


def parse_compact(token: str) -> UnverifiedJws:
    """Split a compact JWS into its parts, refusing anything malformed."""
    if not isinstance(token, str):
        raise MalformedTokenError(
            "The token must be a string in JWS compact form (three base64url "
            "parts joined by '.').",
            claim="token",
        )
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedTokenError(
            f"The token has {len(parts)} part(s), not 3: a signed JWT is "
            "header.payload.signature (a JWE or a bare JSON object is not accepted).",
            claim="token",
        )
    header_b64, payload_b64, signature_b64 = parts
    header = _header(header_b64)
    payload = b64url_decode(payload_b64, part="payload")
    signature = b64url_decode(signature_b64, part="signature")
    signing_input = token[: len(header_b64) + 1 + len(payload_b64)].encode("ascii")
    return UnverifiedJws(header, payload, signing_input, signature)


def sign_compact(
    header: dict[str, Any], payload: bytes, key: PrivateKey, alg: str
) -> str:
    """Serialise and sign; ``header`` must already hold ``alg`` equal to alg."""
    header_b64 = b64url_encode(_compact_json(header))
    signing_input = f"{header_b64}.{b64url_encode(payload)}"
    signature = sign_bytes(alg, key, signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def sign_bytes(alg: str, key: PrivateKey, data: bytes) -> bytes:
    """The raw JWS signature of data (RFC 7518 section 3)."""
    family = alg[:2]
    if family == "RS" and isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, _PKCS1, _HASH_OBJECTS[alg])
    if family == "PS" and isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, _PSS[alg], _HASH_OBJECTS[alg])
    if family == "ES" and isinstance(key, ec.EllipticCurvePrivateKey):
        _check_curve(alg, key.curve.name)
        der = key.sign(data, ec.ECDSA(_HASH_OBJECTS[alg]))
        r, s = decode_dss_signature(der)
        size = _EC_SIZES[alg]
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    raise TokenValidationError(
        f"Cannot sign {alg} with this key: use an algorithm of its type "
        f"({_key_type(key)}).",
        claim="alg",
    )


def verify_signature(alg: str, key: PublicKey, data: bytes, signature: bytes) -> None:
    """Raise TokenValidationError unless signature is alg's signature of data."""
    family = alg[:2]
    try:
        if family == "RS" and isinstance(key, rsa.RSAPublicKey) and alg in ALGORITHMS:
            key.verify(signature, data, _PKCS1, _HASH_OBJECTS[alg])
            return
        if family == "PS" and isinstance(key, rsa.RSAPublicKey) and alg in ALGORITHMS:
            key.verify(signature, data, _PSS[alg], _HASH_OBJECTS[alg])
            return
        if family == "ES" and isinstance(key, ec.EllipticCurvePublicKey):
            _check_curve(alg, key.curve.name)
            size = _EC_SIZES[alg]
            if len(signature) != 2 * size:
                raise InvalidSignature
            r = int.from_bytes(signature[:size], "big")
            s = int.from_bytes(signature[size:], "big")
            key.verify(encode_dss_signature(r, s), data, ec.ECDSA(_HASH_OBJECTS[alg]))
            return
    except InvalidSignature:
        raise TokenValidationError(
            "The signature does not verify with the key named by kid: the token "
            "was altered or signed with another key.",
            claim="signature",
        ) from None
    raise TokenValidationError(
        f"alg {alg} does not fit the {_key_type(key)} key named by kid.",
        claim="alg",
    )


def _header(header_b64: str) -> dict[str, Any]:
    cached = _HEADER_CACHE.get(header_b64)
    if cached is None:
        cached = _json_object(b64url_decode(header_b64, part="header"), part="header")
        if len(_HEADER_CACHE) >= _HEADER_CACHE_SIZE:
            _HEADER_CACHE.clear()
        _HEADER_CACHE[header_b64] = cached
    return dict(cached)


def _check_curve(alg: str, curve: str) -> None:
    if _CURVES[alg] != curve:
        raise TokenValidationError(
            f"{alg} needs curve {_CURVES[alg]}, not {curve}.", claim="alg"
        )


def _key_type(key: PrivateKey | PublicKey) -> str:
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "RSA"
    return "EC"


def _compact_json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _json_object(raw: bytes, *, part: str) -> dict[str, Any]:
    # Decoding to str first spares json.loads its encoding detection, a
    # measurable share of validating a token.
    try:
        value = _JSON.decode(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise MalformedTokenError(
            f"The {part} is not JSON: a JWT's {part} must be a UTF-8 JSON object.",
            claim=part,
        ) from None
    if not isinstance(value, dict):
        raise MalformedTokenError(
            f"The {part} is JSON but not an object: a JWT's {part} must be a JSON "
            "object ({...}).",
            claim=part,
        )
    return value
