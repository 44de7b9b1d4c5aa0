"""``cis2 keys``: make a signing key, publish its JWKS, say what a key file is.

The kid is the RFC 7638 thumbprint, so the same key always publishes the
same kid and a JWKS built from several keys supports a rotation (CIS2 picks
the key by the assertion's ``kid``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from cis2.cli._common import read_secret_file
from cis2.errors import ConfigurationError
from cis2.keys import SIGNING_ALGORITHMS, inspect_key, jwks, load_signing_key

__all__ = ["keys"]

_ALG = click.option(
    "--alg",
    type=click.Choice(SIGNING_ALGORITHMS),
    default="RS512",
    show_default=True,
    help="The algorithm registered for the client (jwks_uri_signing_algorithm).",
)
_PASSWORD_FILE = click.option(
    "--password-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A file holding the key's password (encrypts with 'new').",
)


@click.group()
def keys() -> None:
    """Make, publish and inspect private_key_jwt signing keys.

    \b
    Examples:
      cis2 keys new --out cis2-key.pem
      cis2 keys jwks cis2-key.pem > jwks.json
      cis2 keys show cis2-key.pem
    """


@keys.command("new")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("cis2-key.pem"),
    show_default=True,
    help="Where to write the private key (PKCS#8 PEM, mode 0600).",
)
@click.option(
    "--size",
    type=click.Choice(["2048", "3072", "4096"]),
    default="2048",
    show_default=True,
    help="RSA modulus length in bits.",
)
@_ALG
@_PASSWORD_FILE
@click.option("--force", is_flag=True, help="Replace an existing file at --out.")
def new_key(
    out: Path, size: str, alg: str, password_file: Path | None, force: bool
) -> None:
    """Write a new RSA private key and print its kid and public JWK.

    \b
    Example:
      cis2 keys new --out cis2-key.pem --alg RS512
    """
    from cis2.keys import generate_signing_key

    password = _password(password_file)
    key = generate_signing_key(size=int(size), alg=alg)
    _write_private(out, key.private_pem(password), force=force)
    state = "encrypted" if password else "unencrypted"
    click.echo(f"Wrote {out} (RSA {size}, PKCS#8, {state}, mode 0600)")
    click.echo(f"kid: {key.kid}")
    click.echo("Public JWK:")
    click.echo(json.dumps(key.public_jwk(), indent=2))
    click.echo(
        f"Next: cis2 keys jwks {out} > jwks.json, and publish it at your jwks_uri."
    )


@keys.command("jwks")
@click.argument("key_files", nargs=-1, required=True, type=click.Path(path_type=Path))
@_ALG
@_PASSWORD_FILE
def publish_jwks(
    key_files: tuple[Path, ...], alg: str, password_file: Path | None
) -> None:
    """Print the JWKS to publish for one or more private keys.

    Give the new key and the old one during a rotation: publish both, switch
    the application to the new key, then drop the old one.

    \b
    Example:
      cis2 keys jwks new-key.pem old-key.pem > jwks.json
    """
    password = _password(password_file)
    loaded = [load_signing_key(path, password=password, alg=alg) for path in key_files]
    kids = [key.kid for key in loaded]
    repeated = sorted({kid for kid in kids if kids.count(kid) > 1})
    if repeated:
        raise ConfigurationError(
            f"The same key was given twice (kid {', '.join(repeated)}): give each "
            "key once.",
            field="key",
        )
    click.echo(json.dumps(jwks(*loaded), indent=2))


@keys.command("show")
@click.argument("key_file", type=click.Path(path_type=Path))
@_PASSWORD_FILE
@click.option("--json", "as_json", is_flag=True, help="Print the facts as JSON.")
def show_key(key_file: Path, password_file: Path | None, as_json: bool) -> None:
    """Say what a key file is: kind, type, size, format, encryption, kid.

    Reads PKCS#8 and PKCS#1 PEM (encrypted or not), public keys,
    certificates and JWKs. The key itself is never printed.

    \b
    Example:
      cis2 keys show cis2-key.pem
    """
    password = _password(password_file)
    info = inspect_key(key_file, password=password)
    facts = {
        "kind": info.kind,
        "type": info.key_type,
        "size": info.size,
        "format": info.format,
        "encrypted": info.encrypted,
        "kid": info.kid,
    }
    if as_json:
        click.echo(json.dumps(facts, indent=2))
        return
    for name, value in facts.items():
        shown = "yes" if value is True else "no" if value is False else value
        click.echo(f"{name + ':':11}{shown if shown is not None else '-'}")


def _password(password_file: Path | None) -> str | None:
    """The password in --password-file, when one is given."""
    if password_file is None:
        return None
    return read_secret_file(str(password_file), "password_file")


def _write_private(path: Path, pem: bytes, *, force: bool) -> None:
    """Write pem to path readable by the user alone; never over a file unless forced.

    The file is created with mode 0600 from the start, so the key is never
    readable by others, not even for an instant.
    """
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        descriptor = os.open(path, flags, 0o600)
    except FileExistsError:
        raise ConfigurationError(
            f"{path} already exists: choose another --out, or pass --force to "
            "replace it (the old key is then lost).",
            field="out",
        ) from None
    with os.fdopen(descriptor, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(pem)
