"""``cis2 assertion``: a client assertion to paste, or a whole token request.

The assertion is the one cis2's client sends (RFC 7523 section 3 as CIS2
applies it, reference section 4.2): ``iss`` = ``sub`` = the client_id,
``aud`` the token endpoint byte for byte, a fresh ``jti``, ``exp`` = now +
lifetime.
"""

from __future__ import annotations

import shlex
import time

import click

from cis2._client_auth import CLIENT_ASSERTION_TYPE, PrivateKeyJwt
from cis2.cli._common import load_key, resolve_provider, setting_options
from cis2.cli._settings import Settings

__all__ = ["assertion", "curl_command"]

CODE_PLACEHOLDER = "PASTE_THE_CODE_HERE"


@click.command()
@setting_options(
    "client_id",
    "env",
    "token_endpoint",
    "issuer",
    "key",
    "key_password_file",
    "alg",
    "redirect_uri",
)
@click.option(
    "--lifetime",
    type=click.IntRange(1, 300),
    default=300,
    show_default=True,
    help="Seconds until the assertion expires (CIS2's clients use 300).",
)
@click.option(
    "--curl",
    is_flag=True,
    help="Print a complete token request (curl) with a code placeholder.",
)
def assertion(lifetime: int, curl: bool, **flags: str | None) -> None:
    """Print a signed client assertion for private_key_jwt.

    The aud is the token endpoint exactly as CIS2 publishes it (with
    :443): the environment's, the one given, or the one the issuer's
    discovery document names. With --curl, print a token request for a REST
    client instead; replace the code placeholder with a fresh authorization
    code.

    \b
    Examples:
      cis2 assertion --client-id 999999999999.apps.national --env int --key key.pem
      cis2 assertion --client-id ID --env int --key key.pem --curl
    """
    settings = Settings(flags)
    client_id = settings.require("client_id", "it is the assertion's iss and sub")
    provider = resolve_provider(settings, need="token_endpoint")
    key = load_key(settings, why="the assertion must be signed")
    now = int(time.time())
    signed = PrivateKeyJwt(key, lifetime).assertion(
        client_id, provider.token_endpoint, now
    )
    if curl:
        redirect_uri = settings.require("redirect_uri", "the token request needs it")
        click.echo(
            curl_command(provider.token_endpoint, client_id, redirect_uri, signed)
        )
    else:
        click.echo(signed)
    expires = time.strftime("%H:%M:%S UTC", time.gmtime(now + lifetime))
    click.echo(
        f"aud {provider.token_endpoint}, kid {key.kid}, alg {key.alg}; "
        f"valid until {expires}.",
        err=True,
    )
    _warn_of_refusal(signed, client_id, now)


def _warn_of_refusal(signed: str, client_id: str, now: int) -> None:
    """Say on stderr what the doctor sees wrong, e.g. an aud without ':443'.

    The assertion is printed all the same: it is exactly what was asked for,
    and the person may be reproducing a mistake on purpose.
    """
    from cis2.doctor import diagnose

    report = diagnose(signed, client_id=client_id, now=now)
    for finding in report.findings:
        if finding.severity == "error":
            click.echo(
                f"Warning: CIS2 would refuse this assertion ({finding.rule}): "
                f"{finding.message} Fix: {finding.fix}",
                err=True,
            )


def curl_command(
    token_endpoint: str, client_id: str, redirect_uri: str, signed: str
) -> str:
    """A curl token request (reference section 4.1) for the authorization code."""
    fields = [
        ("grant_type", "authorization_code"),
        ("code", CODE_PLACEHOLDER),
        ("redirect_uri", redirect_uri),
        ("client_id", client_id),
        ("client_assertion_type", CLIENT_ASSERTION_TYPE),
        ("client_assertion", signed),
    ]
    lines = [f"curl -sS -X POST {shlex.quote(token_endpoint)}"]
    lines.append("  -H 'Content-Type: application/x-www-form-urlencoded'")
    lines += [f"  --data-urlencode {shlex.quote(f'{k}={v}')}" for k, v in fields]
    return " \\\n".join(lines)
