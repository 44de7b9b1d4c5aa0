"""Key files and JWKS sources as people give them to the doctor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cis2.doctor import diagnose, load_jwks
from cis2.errors import KeyLoadError

from .kit import Kit

WEAK_BITS = 1024  # Deliberately too small: the doctor must refuse it.


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _only_finding(kit: Kit, key: str) -> str:
    report = diagnose(kit.jwt(), **kit.context(key=key))
    (finding,) = report.findings
    assert finding.rule == "key.unreadable"
    return finding.message


def test_a_small_rsa_key_is_refused_with_its_size(kit: Kit, tmp_path: Path) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=WEAK_BITS)
    pem = weak.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    assert "1024 bits" in _only_finding(kit, _write(tmp_path, "weak.pem", pem))


def test_a_public_key_given_as_the_key_is_named(kit: Kit, tmp_path: Path) -> None:
    pem = kit.key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    message = _only_finding(kit, _write(tmp_path, "public.pem", pem))
    assert "public key" in message


def test_an_ec_key_is_named(kit: Kit, tmp_path: Path) -> None:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    assert "EC key" in _only_finding(kit, _write(tmp_path, "ec.pem", pem))


def test_the_key_info_describes_a_pkcs8_file(kit: Kit, tmp_path: Path) -> None:
    path = _write(tmp_path, "key.pem", kit.key.private_pem())
    report = diagnose(kit.jwt(), **kit.context(key=path))
    assert report.key_info is not None
    assert (report.key_info.format, report.key_info.size) == ("PKCS#8", 2048)
    assert "PKCS#8, not encrypted" in report.to_text()


def test_load_jwks_reads_a_file_text_and_mapping(kit: Kit, tmp_path: Path) -> None:
    document = kit.jwks(kit.key, kit.other)
    path = _write(tmp_path, "jwks.json", json.dumps(document).encode())
    for source in (path, Path(path), json.dumps(document), document):
        assert len(load_jwks(source)) == 2


def test_load_jwks_names_a_document_without_keys(tmp_path: Path) -> None:
    with pytest.raises(KeyLoadError) as raised:
        load_jwks(_write(tmp_path, "jwks.json", b'{"kty": "RSA"}'))
    assert "'keys'" in raised.value.message
