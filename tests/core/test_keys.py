"""Loading and describing keys: every format, and every wrong key, by name."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from joserfc.jwk import RSAKey

from cis2 import KeySet, SigningKey, generate_signing_key, jwks, load_signing_key
from cis2.errors import ConfigurationError, KeyLoadError
from cis2.keys import inspect_key, thumbprint

PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)
Enc = serialization.Encoding
Fmt = serialization.PrivateFormat


def _pem(fmt: Fmt, password: bytes | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return PRIVATE.private_bytes(Enc.PEM, fmt, encryption)


def test_rfc7638_example_thumbprint() -> None:
    # RFC 7638 section 3.1's example key and its published thumbprint.
    n = (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhD"
        "R1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6C"
        "f0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1"
        "n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1"
        "jF44-csFCur-kEgU8awapJzKnqDKgw"
    )
    jwk = {"kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"}
    assert thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_kid_is_the_thumbprint_joserfc_computes() -> None:
    key = load_signing_key(_pem(Fmt.PKCS8))
    assert key.kid == RSAKey.import_key(PRIVATE).thumbprint()


@pytest.mark.parametrize(
    ("fmt", "label"), [(Fmt.PKCS8, "PKCS#8"), (Fmt.TraditionalOpenSSL, "PKCS#1")]
)
def test_plain_pem_formats_load_by_their_markers(fmt: Fmt, label: str) -> None:
    key = load_signing_key(_pem(fmt).decode())
    assert key.format == label
    assert not key.encrypted
    assert key.size == 2048


@pytest.mark.parametrize("fmt", [Fmt.PKCS8, Fmt.TraditionalOpenSSL])
def test_encrypted_pem_loads_with_its_password(fmt: Fmt, tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(_pem(fmt, b"correct horse"))
    key = load_signing_key(path, password="correct horse")
    assert key.encrypted
    with pytest.raises(KeyLoadError, match="password is wrong") as wrong:
        load_signing_key(path, password="battery staple")
    assert wrong.value.field == "password"
    with pytest.raises(KeyLoadError, match="encrypted: give its password"):
        load_signing_key(path)


def test_private_jwk_loads_and_keeps_its_kid() -> None:
    jwk = RSAKey.import_key(PRIVATE).as_dict(private=True)
    jwk["kid"] = "my-kid"
    key = load_signing_key(json.dumps(jwk))
    assert key.kid == "my-kid"
    assert key.format == "JWK"
    assert key.public_jwk()["n"] == jwk["n"]


def test_private_jwk_without_primes_loads() -> None:
    jwk = RSAKey.import_key(PRIVATE).as_dict(private=True)
    for name in ("p", "q", "dp", "dq", "qi"):
        jwk.pop(name)
    assert load_signing_key(json.dumps(jwk)).size == 2048


def test_public_key_is_refused_by_name() -> None:
    pem = PRIVATE.public_key().public_bytes(
        Enc.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(KeyLoadError, match="This is a public key"):
        load_signing_key(pem)
    public_jwk = generate_signing_key().public_jwk()
    with pytest.raises(KeyLoadError, match="public key"):
        load_signing_key(json.dumps(public_jwk))


def test_certificate_is_refused_by_name() -> None:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rp.test")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(PRIVATE.public_key())
        .serial_number(1)
        .not_valid_before(datetime.datetime(2026, 1, 1))
        .not_valid_after(datetime.datetime(2027, 1, 1))
        .sign(PRIVATE, hashes.SHA256())
    )
    pem = cert.public_bytes(Enc.PEM)
    with pytest.raises(KeyLoadError, match="certificate"):
        load_signing_key(pem)
    assert inspect_key(pem).kind == "certificate"


def test_corrupt_pem_is_refused() -> None:
    text = _pem(Fmt.PKCS8).decode().replace("M", "*", 3)
    with pytest.raises(KeyLoadError, match="corrupt"):
        load_signing_key(text)


@pytest.mark.parametrize(
    ("fmt", "wrong", "inside"),
    [
        (Fmt.TraditionalOpenSSL, "PRIVATE KEY", "PKCS#1"),
        (Fmt.PKCS8, "RSA PRIVATE KEY", "PKCS#8"),
    ],
)
def test_swapped_pem_markers_are_named(fmt: Fmt, wrong: str, inside: str) -> None:
    text = _pem(fmt).decode()
    right = "RSA PRIVATE KEY" if fmt is Fmt.TraditionalOpenSSL else "PRIVATE KEY"
    swapped = text.replace(f"BEGIN {right}", f"BEGIN {wrong}").replace(
        f"END {right}", f"END {wrong}"
    )
    with pytest.raises(KeyLoadError, match=f"holds a {inside} key"):
        load_signing_key(swapped)


def test_missing_file_and_garbage_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyLoadError, match="No key file"):
        load_signing_key(tmp_path / "absent.pem")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("hello")
    with pytest.raises(KeyLoadError, match="neither PEM"):
        load_signing_key(garbage)


def test_small_and_non_rsa_keys_are_refused() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    with pytest.raises(KeyLoadError, match="1024 bits"):
        load_signing_key(small.private_bytes(Enc.PEM, Fmt.PKCS8, _none()))
    curve = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(KeyLoadError, match="not RSA"):
        load_signing_key(curve.private_bytes(Enc.PEM, Fmt.PKCS8, _none()))
    with pytest.raises(KeyLoadError, match="EC key"):
        load_signing_key(curve.private_bytes(Enc.PEM, Fmt.TraditionalOpenSSL, _none()))


def test_unknown_alg_is_refused() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_signing_key(_pem(Fmt.PKCS8), alg="HS256")
    assert caught.value.field == "alg"


def test_jwks_and_keyset_round_trip() -> None:
    first, second = SigningKey(PRIVATE), generate_signing_key(alg="RS256")
    document = jwks(first, second)
    assert [k["alg"] for k in document["keys"]] == ["RS512", "RS256"]
    assert all(
        set(k) == {"kty", "n", "e", "kid", "use", "alg"} for k in document["keys"]
    )
    keyset = KeySet.from_json(json.dumps(document))
    found = keyset.find(first.kid)
    assert found is not None and found.fits("RS512") and not found.fits("RS256")


def test_no_key_material_in_repr_or_errors() -> None:
    key = SigningKey(PRIVATE)
    text = repr(key) + str(key)
    numbers = PRIVATE.private_numbers()
    assert str(numbers.d)[:20] not in text
    assert key.public_jwk()["n"][:20] not in text
    with pytest.raises(KeyLoadError) as caught:
        load_signing_key(_pem(Fmt.PKCS8, b"pw"), password="nope")
    assert "PRIVATE KEY" not in str(caught.value)


def _none() -> serialization.NoEncryption:
    return serialization.NoEncryption()
