"""The simulator's own signing keys: RSA 2048, RS256, rotated without a gap.

CIS2 signs ID tokens and logout tokens RS256 with opaque kids that look like
base64 SHA-1 values (reference 4.3); the simulator makes its kids the same
way. Rotation follows the safe order: the next key is published in the JWKS
one step before it signs, and a retired key stays published until every
token it signed has expired, so a relying party that caches the JWKS never
meets an unknown kid.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from typing import Any, Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cis2._jws import b64url_encode, sign_compact
from cis2.keys import VerificationKey
from cis2.simulator._claims import ID_TOKEN_ALG, LOGOUT_TOKEN_LIFETIME
from cis2.simulator._store import Store

__all__ = ["ID_TOKEN_ALG", "KeyRing", "opaque_kid"]

# Relying parties allow about a minute of clock leeway, so a retired key is
# kept that much longer than the longest token it signed.
_RETIRE_MARGIN: Final = 60


def opaque_kid(public_key: rsa.RSAPublicKey) -> str:
    """A CIS2-style kid: standard base64 of the SHA-1 of the public key DER."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    digest = hashlib.sha1(der, usedforsecurity=False).digest()
    return base64.b64encode(digest).decode("ascii")


class KeyRing:
    """The keys in the store: one active, one next, some retiring."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._private: dict[str, rsa.RSAPrivateKey] = {}

    def ensure(self, now: int) -> None:
        """Create the first active and next keys when the store has none."""
        states = {row["state"] for row in self._store.signing_keys()}
        if "active" not in states:
            self._add("active", now)
        if "next" not in states:
            self._add("next", now)

    def rotate(self, now: int, keep_for: int) -> str:
        """Promote the next key, retire the active one; the new active kid.

        ``keep_for`` is the longest lifetime of a token the old key signed;
        logout tokens count too, whatever the ID-token lifetime.
        """
        retire_at = now + max(keep_for, LOGOUT_TOKEN_LIFETIME) + _RETIRE_MARGIN
        self.ensure(now)
        with self._store.transaction() as db:
            db.execute(
                "UPDATE signing_keys SET state = 'retiring', retire_at = ? "
                "WHERE state = 'active'",
                (retire_at,),
            )
            db.execute("UPDATE signing_keys SET state = 'active' WHERE state = 'next'")
        self._add("next", now)
        return self.active_kid()

    def active_kid(self) -> str:
        rows = self._store.query("SELECT kid FROM signing_keys WHERE state = 'active'")
        return str(rows[0]["kid"])

    def jwks(self, now: int) -> dict[str, list[dict[str, str]]]:
        """The published JWKS: active, next, and retiring keys still needed."""
        self._store.execute(
            "DELETE FROM signing_keys WHERE state = 'retiring' AND retire_at < ?", now
        )
        keys = []
        for row in self._store.signing_keys():
            public = self._load(row["kid"], row["pem"]).public_key()
            keys.append(_public_jwk(row["kid"], public))
        return {"keys": keys}

    def sign(self, claims: dict[str, Any], *, typ: str = "JWT") -> str:
        """A compact JWS signed RS256 with the active key, kid in the header."""
        row = self._store.query(
            "SELECT kid, pem FROM signing_keys WHERE state = 'active'"
        )[0]
        key = self._load(row["kid"], row["pem"])
        header = {"typ": typ, "kid": row["kid"], "alg": ID_TOKEN_ALG}
        payload = json.dumps(claims, separators=(",", ":")).encode()
        return sign_compact(header, payload, key, ID_TOKEN_ALG)

    def verification_key(self, kid: str) -> VerificationKey | None:
        """The public key for one of the simulator's own kids, or None."""
        rows = self._store.query("SELECT kid, pem FROM signing_keys WHERE kid = ?", kid)
        if not rows:
            return None
        public = self._load(kid, rows[0]["pem"]).public_key()
        return VerificationKey.from_jwk(_public_jwk(kid, public))

    def _add(self, state: str, now: int) -> None:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        kid = opaque_kid(private.public_key())
        self._store.execute(
            "INSERT INTO signing_keys (kid, pem, state, created_at) "
            "VALUES (?, ?, ?, ?)",
            kid,
            pem,
            state,
            now,
        )

    def _load(self, kid: str, pem: str) -> rsa.RSAPrivateKey:
        with self._lock:
            cached = self._private.get(kid)
            if cached is not None:
                return cached
        loaded = serialization.load_pem_private_key(pem.encode(), password=None)
        assert isinstance(loaded, rsa.RSAPrivateKey)
        with self._lock:
            self._private[kid] = loaded
        return loaded


def _public_jwk(kid: str, public: rsa.RSAPublicKey) -> dict[str, str]:
    numbers = public.public_numbers()
    return {
        "kty": "RSA",
        "kid": kid,
        "use": "sig",
        "alg": ID_TOKEN_ALG,
        "n": b64url_encode(_int_bytes(numbers.n)),
        "e": b64url_encode(_int_bytes(numbers.e)),
    }


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")
