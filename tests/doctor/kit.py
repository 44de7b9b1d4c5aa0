"""Test kit for the doctor: keys, and assertions signed outside cis2.

The assertions are signed here with cryptography directly (not with
cis2's own JWS layer), so that a header, a claim or an encoding can be
broken in exactly one way and the doctor is checked against an independent
signer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from typing import Any, Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from cis2.environments import API_PLATFORM_TOKEN_URLS, INT
from cis2.keys import SigningKey

CLIENT_ID: Final = "123456789012.apps.supplier"
API_KEY: Final = "Zx9kQ2mB7vT4pL1sW8nR3cY6hJ0aF5dG"
ENDPOINT: Final = INT.token_endpoint
API_URL: Final = API_PLATFORM_TOKEN_URLS["int"]
NOW: Final = 1_796_000_000
BEARER: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DROP: Final[Any] = object()

_HASHES: Final = {
    "256": hashes.SHA256(),
    "384": hashes.SHA384(),
    "512": hashes.SHA512(),
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_signature(alg: str, key: Any, data: bytes) -> bytes:
    """The JWS signature of data, made with cryptography alone."""
    digest = _HASHES[alg[2:]]
    if alg.startswith("RS"):
        signature: bytes = key.sign(data, padding.PKCS1v15(), digest)
        return signature
    if alg.startswith("HS"):
        return hmac.new(key, data, getattr(hashlib, f"sha{alg[2:]}")).digest()
    der = key.sign(data, ec.ECDSA(digest))
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def good_claims(
    iss: str = CLIENT_ID, aud: str = ENDPOINT, now: int = NOW
) -> dict[str, Any]:
    return {
        "iss": iss,
        "sub": iss,
        "aud": aud,
        "jti": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 300,
    }


def apply(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = {**base, **changes}
    return {name: value for name, value in merged.items() if value is not DROP}


@dataclass
class Kit:
    """Two RSA keys, and a maker of assertions with chosen mistakes."""

    key: SigningKey
    other: SigningKey

    def jwt(
        self,
        header: dict[str, Any] | None = None,
        claims: dict[str, Any] | None = None,
        *,
        signer: Any = None,
        alg: str | None = None,
        base_claims: dict[str, Any] | None = None,
        raw_header: bytes | None = None,
        raw_claims: bytes | None = None,
    ) -> str:
        """A signed JWT: the good header and claims with changes applied."""
        signing = signer if signer is not None else self.key
        head = apply({"alg": "RS512", "kid": self.key.kid, "typ": "JWT"}, header or {})
        body = apply(base_claims or good_claims(), claims or {})
        header_bytes = raw_header or json.dumps(head).encode()
        claims_bytes = raw_claims or json.dumps(body).encode()
        signing_input = f"{b64url(header_bytes)}.{b64url(claims_bytes)}"
        use_alg = alg or str(head.get("alg", "RS512"))
        private = signing.private_key if isinstance(signing, SigningKey) else signing
        signature = raw_signature(use_alg, private, signing_input.encode())
        return f"{signing_input}.{b64url(signature)}"

    def jwks(self, *keys: SigningKey, **changes: Any) -> dict[str, Any]:
        """A JWKS document of keys (default: the kit's key), changes applied."""
        chosen = keys or (self.key,)
        return {"keys": [apply(k.public_jwk(), changes) for k in chosen]}

    def context(self, **changes: Any) -> dict[str, Any]:
        """Full CIS2 context for the kit's key, changes applied."""
        return apply(
            {
                "client_id": CLIENT_ID,
                "env": "int",
                "alg": "RS512",
                "jwks": self.jwks(),
                "key": self.key,
                "now": NOW,
            },
            changes,
        )

    def api_context(self, **changes: Any) -> dict[str, Any]:
        """Full API Platform context for the kit's key."""
        return apply(
            {
                "client_id": API_KEY,
                "env": "int",
                "jwks": self.jwks(),
                "key": self.key,
                "now": NOW,
            },
            changes,
        )

    def api_jwt(self, header: dict[str, Any] | None = None, **claims: Any) -> str:
        return self.jwt(header, claims, base_claims=good_claims(API_KEY, API_URL))

    def form(self, assertion: str | None = None, **changes: Any) -> str:
        """A token request body with the assertion, changes applied."""
        fields = apply(
            {
                "grant_type": "authorization_code",
                "code": "a1b2c3",
                "redirect_uri": "https://rp.example/callback",
                "client_id": CLIENT_ID,
                "client_assertion_type": BEARER,
                "client_assertion": assertion or self.jwt(),
            },
            changes,
        )
        return "&".join(f"{name}={value}" for name, value in fields.items())


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())
