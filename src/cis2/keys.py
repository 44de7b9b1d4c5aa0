"""Keys: the relying party's signing key and the JWKS on both sides.

A ``SigningKey`` signs client assertions (RFC 7523) for private_key_jwt. It is
loaded from PKCS#8 or PKCS#1 PEM (encrypted or not) or from a private JWK, and
its ``kid`` defaults to the RFC 7638 thumbprint, which is what the JWKS the
application publishes will carry. ``KeySet`` is a parsed JWKS used to verify
what the provider signs. Nothing here ever puts key material in a message or
a repr.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cis2._jws import (
    ALGORITHMS,
    PublicKey,
    b64url_decode,
    b64url_encode,
    sign_bytes,
    sign_compact,
)
from cis2.errors import ConfigurationError, KeyLoadError, MalformedTokenError

__all__ = [
    "SIGNING_ALGORITHMS",
    "KeyInfo",
    "KeySet",
    "SigningKey",
    "VerificationKey",
    "generate_signing_key",
    "inspect_key",
    "jwks",
    "load_signing_key",
    "thumbprint",
]

#: The algorithms a relying party may register for private_key_jwt.
SIGNING_ALGORITHMS: Final = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
MIN_RSA_BITS: Final = 2048

KeySource = str | bytes | os.PathLike[str]


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What a key file or text is, told without revealing it."""

    kind: str  # "private", "public", "certificate"
    key_type: str  # "RSA", "EC", or "" when unknown
    size: int
    format: str  # "PKCS#8", "PKCS#1", "SPKI", "X.509", "JWK"
    encrypted: bool
    kid: str | None


class SigningKey:
    """An RSA private key with the JOSE algorithm and kid it signs with."""

    __slots__ = ("_private", "_public_jwk", "alg", "encrypted", "format", "kid")

    def __init__(
        self,
        private_key: rsa.RSAPrivateKey,
        *,
        alg: str = "RS512",
        kid: str | None = None,
        format: str = "generated",
        encrypted: bool = False,
    ) -> None:
        _check_signing_alg(alg)
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise KeyLoadError(
                "The signing key must be an RSA private key: CIS2 registers RS256 "
                "or RS512 for private_key_jwt. Make one with 'cis2 keys new'.",
                field="key",
            )
        if private_key.key_size < MIN_RSA_BITS:
            raise KeyLoadError(
                f"The RSA key has {private_key.key_size} bits: use {MIN_RSA_BITS} "
                "or more ('cis2 keys new --size 2048').",
                field="key",
            )
        self._private = private_key
        self._public_jwk = _rsa_public_jwk(private_key.public_key())
        self.alg = alg
        self.kid = kid if kid is not None else thumbprint(self._public_jwk)
        self.format = format
        self.encrypted = encrypted

    @property
    def size(self) -> int:
        """The modulus length in bits."""
        return self._private.key_size

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self._private.public_key()

    @property
    def private_key(self) -> rsa.RSAPrivateKey:
        """The cryptography key object; handle with care."""
        return self._private

    def sign(self, data: bytes) -> bytes:
        """The raw JWS signature of data with this key's alg."""
        return sign_bytes(self.alg, self._private, data)

    def sign_jwt(self, claims: Mapping[str, Any], *, typ: str | None = "JWT") -> str:
        """A compact JWS of claims with ``alg``, ``kid`` and ``typ`` set."""
        header: dict[str, Any] = {"alg": self.alg, "kid": self.kid}
        if typ is not None:
            header["typ"] = typ
        payload = json.dumps(claims, separators=(",", ":")).encode()
        return sign_compact(header, payload, self._private, self.alg)

    def public_jwk(self) -> dict[str, str]:
        """The public JWK to publish: kty, n, e, kid, use and alg."""
        return {**self._public_jwk, "kid": self.kid, "use": "sig", "alg": self.alg}

    def verification_key(self) -> VerificationKey:
        """The public half, for checking what this key signed."""
        return VerificationKey.from_jwk(self.public_jwk())

    def private_pem(self, password: str | bytes | None = None) -> bytes:
        """PKCS#8 PEM, encrypted with password when one is given."""
        encryption: serialization.KeySerializationEncryption
        if password:
            secret = password.encode() if isinstance(password, str) else password
            encryption = serialization.BestAvailableEncryption(secret)
        else:
            encryption = serialization.NoEncryption()
        return self._private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r}, alg={self.alg!r}, size={self.size})"


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """A public key from a JWKS, with the JWK parameters that restrict it."""

    key: PublicKey
    kty: str
    kid: str | None
    alg: str | None
    use: str | None
    jwk: Mapping[str, Any]

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> VerificationKey:
        """Parse one public JWK (RFC 7517); private members are ignored."""
        kty = jwk.get("kty")
        if kty == "RSA":
            key: PublicKey = rsa.RSAPublicNumbers(
                _jwk_int(jwk, "e"), _jwk_int(jwk, "n")
            ).public_key()
            public = {"kty": "RSA", "n": jwk["n"], "e": jwk["e"]}
        elif kty == "EC":
            curve = _CURVES_BY_NAME.get(str(jwk.get("crv")))
            if curve is None:
                raise KeyLoadError(
                    f"JWK crv {jwk.get('crv')!r} is not supported: use P-256, "
                    "P-384 or P-521.",
                    field="crv",
                )
            key = ec.EllipticCurvePublicNumbers(
                _jwk_int(jwk, "x"), _jwk_int(jwk, "y"), curve
            ).public_key()
            public = {"kty": "EC", "crv": jwk["crv"], "x": jwk["x"], "y": jwk["y"]}
        else:
            raise KeyLoadError(
                f"JWK kty {kty!r} is not supported: cis2 verifies RSA and EC keys.",
                field="kty",
            )
        kid = jwk.get("kid")
        alg = jwk.get("alg")
        use = jwk.get("use")
        return cls(
            key=key,
            kty=kty,
            kid=kid if isinstance(kid, str) else None,
            alg=alg if isinstance(alg, str) else None,
            use=use if isinstance(use, str) else None,
            jwk=public,
        )

    def fits(self, alg: str) -> bool:
        """Whether this key may verify a signature made with alg."""
        if self.use not in (None, "sig"):
            return False
        if self.alg is not None and self.alg != alg:
            return False
        return ALGORITHMS.get(alg) == self.kty


class KeySet:
    """A parsed JWKS (RFC 7517 section 5). Keys it cannot use are skipped."""

    __slots__ = ("_by_kid", "keys", "skipped")

    def __init__(self, keys: Iterable[VerificationKey], skipped: int = 0) -> None:
        self.keys = tuple(keys)
        self.skipped = skipped
        self._by_kid = {k.kid: k for k in self.keys if k.kid is not None}

    @classmethod
    def from_json(cls, document: Any) -> KeySet:
        """Parse a JWKS document (a mapping with ``keys``, or its JSON text)."""
        if isinstance(document, str | bytes):
            try:
                document = json.loads(document)
            except ValueError:
                raise KeyLoadError(
                    "The JWKS is not JSON: it must be an object with a 'keys' array.",
                    field="keys",
                ) from None
        keys = document.get("keys") if isinstance(document, Mapping) else None
        if not isinstance(keys, list):
            raise KeyLoadError(
                "The JWKS has no 'keys' array: publish {\"keys\": [...]} "
                "(RFC 7517 section 5).",
                field="keys",
            )
        parsed: list[VerificationKey] = []
        skipped = 0
        for entry in keys:
            try:
                parsed.append(VerificationKey.from_jwk(entry))
            except (KeyLoadError, KeyError, TypeError, ValueError, AttributeError):
                skipped += 1
        return cls(parsed, skipped)

    def find(self, kid: str) -> VerificationKey | None:
        return self._by_kid.get(kid)

    def __len__(self) -> int:
        return len(self.keys)

    def __repr__(self) -> str:
        kids = [k.kid for k in self.keys]
        return f"KeySet(kids={kids!r})"


def load_signing_key(
    source: KeySource,
    *,
    password: str | bytes | None = None,
    kid: str | None = None,
    alg: str = "RS512",
) -> SigningKey:
    """Load an RSA private key from a path, PEM text or private JWK JSON.

    PKCS#8 (``BEGIN PRIVATE KEY``, ``BEGIN ENCRYPTED PRIVATE KEY``) and
    PKCS#1 (``BEGIN RSA PRIVATE KEY``, encrypted or not) are read by their
    own markers, so neither is ever mistaken for the other.
    """
    _check_signing_alg(alg)
    data = _read_source(source)
    if data.lstrip().startswith(b"{"):
        private = _private_from_jwk(data)
        jwk_kid = json.loads(data).get("kid")
        chosen = kid or (jwk_kid if isinstance(jwk_kid, str) else None)
        return SigningKey(private, alg=alg, kid=chosen, format="JWK")
    marker = _pem_marker(data)
    _refuse_non_private(marker)
    encrypted = marker == "ENCRYPTED PRIVATE KEY" or b"Proc-Type: 4,ENCRYPTED" in data
    secret = password.encode() if isinstance(password, str) else password
    if encrypted and not secret:
        raise KeyLoadError(
            "The private key is encrypted: give its password (--password-file, "
            "or password=...).",
            field="password",
        )
    try:
        loaded = serialization.load_pem_private_key(
            data, password=secret if encrypted else None
        )
    except (ValueError, TypeError):
        if encrypted:
            raise KeyLoadError(
                "The private key's password is wrong: it did not decrypt the key.",
                field="password",
            ) from None
        raise _unreadable(data, marker) from None
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise KeyLoadError(
            "The private key is not RSA: CIS2 registers RS256 or RS512 for "
            "private_key_jwt. Make an RSA key with 'cis2 keys new'.",
            field="key",
        )
    fmt = "PKCS#1" if marker == "RSA PRIVATE KEY" else "PKCS#8"
    return SigningKey(loaded, alg=alg, kid=kid, format=fmt, encrypted=encrypted)


def generate_signing_key(
    *, size: int = 2048, alg: str = "RS512", kid: str | None = None
) -> SigningKey:
    """A new RSA key (public exponent 65537) for private_key_jwt."""
    if size not in (2048, 3072, 4096):
        raise ConfigurationError(
            f"RSA key size {size} is not offered: use 2048, 3072 or 4096.",
            field="size",
        )
    private = rsa.generate_private_key(public_exponent=65537, key_size=size)
    return SigningKey(private, alg=alg, kid=kid)


def jwks(*keys: SigningKey) -> dict[str, list[dict[str, str]]]:
    """The JWKS document an application publishes at its registered jwks_uri."""
    return {"keys": [key.public_jwk() for key in keys]}


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a public JWK, base64url."""
    kty = jwk.get("kty")
    if kty == "RSA":
        members = {"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}
    elif kty == "EC":
        members = {"crv": jwk["crv"], "kty": "EC", "x": jwk["x"], "y": jwk["y"]}
    else:
        raise KeyLoadError(f"Cannot take the thumbprint of kty {kty!r}.", field="kty")
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    return b64url_encode(hashlib.sha256(canonical.encode()).digest())


def inspect_key(source: KeySource, *, password: str | bytes | None = None) -> KeyInfo:
    """Say what a key file or text holds: kind, type, size, format, kid."""
    data = _read_source(source)
    if data.lstrip().startswith(b"{"):
        document = _json_mapping(data)
        private = "d" in document
        key = VerificationKey.from_jwk(document)
        return KeyInfo(
            kind="private" if private else "public",
            key_type=key.kty,
            size=_public_size(key.key),
            format="JWK",
            encrypted=False,
            kid=thumbprint(key.jwk),
        )
    marker = _pem_marker(data)
    if marker == "CERTIFICATE":
        from cryptography.x509 import load_pem_x509_certificate

        try:
            public = load_pem_x509_certificate(data).public_key()
        except ValueError:
            raise _corrupt(marker) from None
        return _public_info(public, "certificate", "X.509")
    if marker in ("PUBLIC KEY", "RSA PUBLIC KEY"):
        try:
            loaded = serialization.load_pem_public_key(data)
        except ValueError:
            raise _corrupt(marker) from None
        fmt = "SPKI" if marker == "PUBLIC KEY" else "PKCS#1"
        return _public_info(loaded, "public", fmt)
    signing = load_signing_key(data, password=password)
    return KeyInfo(
        kind="private",
        key_type="RSA",
        size=signing.size,
        format=signing.format,
        encrypted=signing.encrypted,
        kid=signing.kid,
    )


# Helpers


_CURVES_BY_NAME: Final[dict[str, ec.EllipticCurve]] = {
    "P-256": ec.SECP256R1(),
    "P-384": ec.SECP384R1(),
    "P-521": ec.SECP521R1(),
}


def _check_signing_alg(alg: str) -> None:
    if alg not in SIGNING_ALGORITHMS:
        raise ConfigurationError(
            f"alg {alg!r} cannot sign a client assertion: use the algorithm "
            "registered for the client, RS512 (the default) or RS256.",
            field="alg",
        )


def _read_source(source: KeySource) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, str) and (
        "-----BEGIN" in source or source.lstrip().startswith("{")
    ):
        return source.encode()
    path = Path(source)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise KeyLoadError(
            f"No key file at {path}: give the path of a PEM or JWK file, or make "
            "one with 'cis2 keys new --out FILE'.",
            field="key",
        ) from None
    except IsADirectoryError:
        raise KeyLoadError(
            f"{path} is a folder, not a key file.", field="key"
        ) from None
    except OSError as exc:
        raise KeyLoadError(
            f"Cannot read the key file {path}: {exc.strerror}.", field="key"
        ) from None


def _pem_marker(data: bytes) -> str:
    start = data.find(b"-----BEGIN ")
    end = data.find(b"-----", start + 11) if start >= 0 else -1
    if start < 0 or end < 0:
        raise KeyLoadError(
            "The key is neither PEM (-----BEGIN ...-----) nor JWK JSON: export it "
            "as PEM, PKCS#8 or PKCS#1.",
            field="key",
        )
    return data[start + 11 : end].decode("ascii", "replace").strip()


def _refuse_non_private(marker: str) -> None:
    if marker in ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY"):
        return
    if marker in ("PUBLIC KEY", "RSA PUBLIC KEY"):
        raise KeyLoadError(
            "This is a public key: signing needs the private key it pairs with "
            "(BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY).",
            field="key",
        )
    if marker == "CERTIFICATE":
        raise KeyLoadError(
            "This is a certificate, which holds only a public key: give the "
            "private key file instead.",
            field="key",
        )
    if marker == "EC PRIVATE KEY":
        raise KeyLoadError(
            "This is an EC key: CIS2 registers RS256 or RS512, so use an RSA key "
            "('cis2 keys new').",
            field="key",
        )
    if marker == "OPENSSH PRIVATE KEY":
        raise KeyLoadError(
            "This is an OpenSSH key: convert it to PEM with "
            "'ssh-keygen -p -m PEM -f FILE', or make one with 'cis2 keys new'.",
            field="key",
        )
    raise KeyLoadError(
        f"PEM block '{marker}' is not a private key: give a PKCS#8 or PKCS#1 "
        "RSA private key.",
        field="key",
    )


def _unreadable(data: bytes, marker: str) -> KeyLoadError:
    """Why an unencrypted private PEM did not load: swapped markers, or corrupt."""
    other = {"PRIVATE KEY": "RSA PRIVATE KEY", "RSA PRIVATE KEY": "PRIVATE KEY"}
    swapped = other.get(marker)
    if swapped is not None:
        rewrapped = data.replace(marker.encode(), swapped.encode())
        try:
            serialization.load_pem_private_key(rewrapped, password=None)
        except (ValueError, TypeError):
            pass
        else:
            inside = "PKCS#1" if swapped == "RSA PRIVATE KEY" else "PKCS#8"
            return KeyLoadError(
                f"The PEM says BEGIN {marker} but holds a {inside} key: the markers "
                f"were changed by hand. Use BEGIN/END {swapped}, or convert with "
                "'openssl pkcs8 -topk8 -nocrypt -in KEY -out key-pkcs8.pem'.",
                field="key",
            )
    return _corrupt(marker)


def _corrupt(marker: str) -> KeyLoadError:
    return KeyLoadError(
        f"The PEM block '{marker}' is corrupt: the base64 inside it does not "
        "decode to a key. Export the key again.",
        field="key",
    )


def _json_mapping(data: bytes) -> dict[str, Any]:
    try:
        document = json.loads(data)
    except ValueError:
        raise KeyLoadError(
            "The key looks like JSON but does not parse: give a JWK object.",
            field="key",
        ) from None
    if isinstance(document, dict) and isinstance(document.get("keys"), list):
        keys = document["keys"]
        if len(keys) != 1 or not isinstance(keys[0], dict):
            raise KeyLoadError(
                f"The JWKS holds {len(keys)} keys: give a single JWK.", field="key"
            )
        document = keys[0]
    if not isinstance(document, dict):
        raise KeyLoadError("The JWK must be a JSON object.", field="key")
    return document


def _private_from_jwk(data: bytes) -> rsa.RSAPrivateKey:
    jwk = _json_mapping(data)
    if jwk.get("kty") != "RSA":
        raise KeyLoadError(
            f"JWK kty {jwk.get('kty')!r} cannot sign for CIS2: use an RSA key.",
            field="kty",
        )
    if "d" not in jwk:
        raise KeyLoadError(
            "This JWK is a public key (no 'd'): signing needs the private JWK.",
            field="key",
        )
    try:
        public = rsa.RSAPublicNumbers(_jwk_int(jwk, "e"), _jwk_int(jwk, "n"))
        d = _jwk_int(jwk, "d")
        if all(name in jwk for name in ("p", "q")):
            p, q = _jwk_int(jwk, "p"), _jwk_int(jwk, "q")
        else:
            p, q = rsa.rsa_recover_prime_factors(public.n, public.e, d)
        numbers = rsa.RSAPrivateNumbers(
            p=p,
            q=q,
            d=d,
            dmp1=rsa.rsa_crt_dmp1(d, p),
            dmq1=rsa.rsa_crt_dmq1(d, q),
            iqmp=rsa.rsa_crt_iqmp(p, q),
            public_numbers=public,
        )
        return numbers.private_key()
    except (ValueError, KeyError, MalformedTokenError):
        raise KeyLoadError(
            "The private JWK is corrupt: its n, e, d (and p, q) do not make an "
            "RSA key.",
            field="key",
        ) from None


def _jwk_int(jwk: Mapping[str, Any], name: str) -> int:
    value = jwk.get(name)
    if not isinstance(value, str) or not value:
        raise KeyLoadError(f"JWK member {name!r} is missing.", field=name)
    try:
        raw = b64url_decode(value, part=name)
    except MalformedTokenError:
        raise KeyLoadError(
            f"JWK member {name!r} is not base64url.", field=name
        ) from None
    return int.from_bytes(raw, "big")


def _rsa_public_jwk(key: rsa.RSAPublicKey) -> dict[str, str]:
    numbers = key.public_numbers()
    return {
        "kty": "RSA",
        "n": b64url_encode(_int_bytes(numbers.n)),
        "e": b64url_encode(_int_bytes(numbers.e)),
    }


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def _public_size(key: PublicKey) -> int:
    if isinstance(key, rsa.RSAPublicKey):
        return key.key_size
    return key.curve.key_size


def _public_info(public: object, kind: str, fmt: str) -> KeyInfo:
    if isinstance(public, rsa.RSAPublicKey):
        jwk = _rsa_public_jwk(public)
        return KeyInfo(kind, "RSA", public.key_size, fmt, False, thumbprint(jwk))
    if isinstance(public, ec.EllipticCurvePublicKey):
        return KeyInfo(kind, "EC", public.curve.key_size, fmt, False, None)
    return KeyInfo(kind, "", 0, fmt, False, None)
