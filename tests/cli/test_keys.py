"""``cis2 keys new | jwks | show``, run through the entry point."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cis2.keys import SigningKey, load_signing_key, thumbprint

from .conftest import Runner


def test_new_writes_a_pkcs8_key_readable_by_the_owner_alone(
    run: Runner, workdir: Path
) -> None:
    result = run("keys", "new", "--out", "signing.pem")

    assert result.code == 0, result.err
    path = workdir / "signing.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # Built from parts so that no tracked file holds a private-key marker.
    pkcs8_marker = b"-----BEGIN " + b"PRIVATE KEY-----"
    assert path.read_bytes().startswith(pkcs8_marker)
    key = load_signing_key(path)
    assert f"kid: {key.kid}" in result.out
    assert "PRIVATE" not in result.out


def test_new_prints_the_public_jwk_with_the_thumbprint_kid(run: Runner) -> None:
    result = run("keys", "new", "--out", "k.pem", "--alg", "RS256", "--size", "3072")

    jwk = json.loads(result.out.split("Public JWK:\n", 1)[1].rsplit("\nNext:", 1)[0])
    assert jwk["alg"] == "RS256"
    assert jwk["kid"] == thumbprint(jwk)
    assert "d" not in jwk
    assert load_signing_key(Path("k.pem")).size == 3072


def test_new_refuses_to_overwrite_without_force(run: Runner, workdir: Path) -> None:
    (workdir / "k.pem").write_text("precious")

    refused = run("keys", "new", "--out", "k.pem")
    assert refused.code == 1
    assert refused.err.startswith("Error: ")
    assert "--force" in refused.err
    assert (workdir / "k.pem").read_text() == "precious"

    forced = run("keys", "new", "--out", "k.pem", "--force")
    assert forced.code == 0
    assert stat.S_IMODE((workdir / "k.pem").stat().st_mode) == 0o600


def test_new_encrypts_with_the_password_file(run: Runner, workdir: Path) -> None:
    password = workdir / "password.txt"
    password.write_text("correct horse\n")
    password.chmod(0o600)

    result = run("keys", "new", "--out", "k.pem", "--password-file", str(password))

    assert result.code == 0, result.err
    assert b"ENCRYPTED PRIVATE KEY" in (workdir / "k.pem").read_bytes()
    assert "correct horse" not in result.out + result.err
    shown = run("keys", "show", "k.pem", "--password-file", str(password), "--json")
    assert json.loads(shown.out)["encrypted"] is True


def test_a_password_file_others_can_read_is_refused(run: Runner, workdir: Path) -> None:
    password = workdir / "password.txt"
    password.write_text("hunter2")
    password.chmod(0o644)

    result = run("keys", "new", "--out", "k.pem", "--password-file", str(password))

    assert result.code == 1
    assert "chmod 600" in result.err
    assert "hunter2" not in result.err
    assert not (workdir / "k.pem").exists()


def test_a_bad_size_is_a_usage_error(run: Runner) -> None:
    result = run("keys", "new", "--size", "1024")

    assert result.code == 2
    assert "--size" in result.err


def test_jwks_publishes_every_key_of_a_rotation(
    run: Runner, workdir: Path, key_file: Path
) -> None:
    assert run("keys", "new", "--out", "next.pem").code == 0

    result = run("keys", "jwks", "next.pem", str(key_file))

    document = json.loads(result.out)
    kids = [jwk["kid"] for jwk in document["keys"]]
    assert kids == [
        load_signing_key(workdir / "next.pem").kid,
        load_signing_key(key_file).kid,
    ]
    assert all(
        set(jwk) == {"kty", "n", "e", "kid", "use", "alg"} for jwk in document["keys"]
    )


def test_jwks_refuses_the_same_key_twice(run: Runner, key_file: Path) -> None:
    result = run("keys", "jwks", str(key_file), str(key_file))

    assert result.code == 1
    assert "given twice" in result.err


def test_show_tells_pkcs1_from_pkcs8(
    run: Runner, workdir: Path, signing_key: SigningKey
) -> None:
    pkcs1 = signing_key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    (workdir / "old.pem").write_bytes(pkcs1)

    result = run("keys", "show", "old.pem", "--json")

    facts = json.loads(result.out)
    assert facts == {
        "kind": "private",
        "type": "RSA",
        "size": 2048,
        "format": "PKCS#1",
        "encrypted": False,
        "kid": signing_key.kid,
    }


def test_show_reads_a_public_key_without_printing_it(
    run: Runner, workdir: Path
) -> None:
    public = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (workdir / "public.pem").write_bytes(pem)

    result = run("keys", "show", "public.pem")

    assert result.code == 0
    assert "kind:      public" in result.out
    assert "format:    SPKI" in result.out
    assert "BEGIN" not in result.out


def test_show_a_missing_file_says_how_to_make_one(run: Runner) -> None:
    result = run("keys", "show", "missing.pem")

    assert result.code == 1
    assert result.err.count("\n") == 1
    assert "cis2 keys new" in result.err
    assert "Traceback" not in result.err
