"""``cis2 doctor``: say why CIS2 would answer "JWT is not valid".

A thin front for ``cis2.doctor``: read the assertion, gather what is known
about the registration, print the report. Exit 0 when no finding is an
error, 1 otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cis2.cli._common import read_secret_file, setting_options
from cis2.cli._settings import Settings
from cis2.errors import ConfigurationError

__all__ = ["doctor", "read_assertion"]


@click.command()
@click.argument("source", metavar="ASSERTION_OR_FILE_OR_-")
@setting_options(
    "client_id", "env", "token_endpoint", "alg", "key", "key_password_file"
)
@click.option("--jwks", help="The published JWKS: a file, JSON text or its URL.")
@click.option(
    "--at",
    "at_time",
    help="Judge the times as at this instant (Unix seconds or ISO 8601).",
)
@click.option(
    "--api-platform",
    is_flag=True,
    help="Judge it as an NHS API Platform assertion, not a CIS2 one.",
)
@click.option("--probe", is_flag=True, help="Also send it to the token endpoint.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def doctor(
    ctx: click.Context,
    /,
    *,
    source: str,
    jwks: str | None,
    at_time: str | None,
    api_platform: bool,
    probe: bool,
    as_json: bool,
    **flags: str | None,
) -> None:
    """Diagnose a client assertion: name each mistake and its fix.

    Give the assertion itself, a file holding it, or - for stdin. The more
    you say about the registration (client id, environment, alg, JWKS), the
    more the doctor can check.

    \b
    Examples:
      cis2 doctor assertion.jwt --client-id 999999999999.apps.national --env int
      cis2 assertion ... | cis2 doctor - --env int --jwks https://rp.example/jwks
    """
    from cis2 import doctor as rules

    settings = Settings(flags)
    text = read_assertion(source)
    report = rules.diagnose(
        text,
        client_id=settings.get("client_id"),
        token_endpoint=settings.get("token_endpoint"),
        env=settings.get("env"),
        alg=flags.get("alg"),
        jwks=rules.load_jwks(jwks) if jwks else None,
        key=settings.get("key"),
        key_password=_key_password(settings),
        now=parse_instant(at_time) if at_time else None,
        api_platform=api_platform,
    )
    click.echo(report.to_json() if as_json else report.to_text())
    if probe:
        _probe(rules, text, settings)
    ctx.exit(0 if report.ok else 1)


def read_assertion(source: str) -> str:
    """The assertion text from the argument itself, a file, or stdin for -."""
    if source == "-":
        return sys.stdin.read().strip()
    if source.count(".") == 2 and source.startswith("eyJ"):
        return source
    path = Path(source)
    if not path.is_file():
        raise ConfigurationError(
            f"{source!r} is neither an assertion (eyJ...) nor a file: give the JWT, "
            "a file holding it, or - to read stdin.",
            field="assertion",
        )
    return path.read_text(encoding="utf-8").strip()


def parse_instant(text: str) -> float:
    """Unix seconds or an ISO 8601 date-time (UTC when no offset is given)."""
    from datetime import UTC, datetime

    if text.replace(".", "", 1).isdigit():
        return float(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigurationError(
            f"--at {text!r} is not a time: give Unix seconds or ISO 8601, e.g. "
            "2026-12-03T14:00:00Z.",
            field="at",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _key_password(settings: Settings) -> str | None:
    path = settings.get("key_password_file")
    return read_secret_file(path, "key_password_file") if path else None


def _probe(rules: object, text: str, settings: Settings) -> None:
    """Send the assertion to the token endpoint and print what came back."""
    result = rules.probe(  # type: ignore[attr-defined]
        text,
        client_id=settings.get("client_id"),
        token_endpoint=settings.get("token_endpoint"),
        env=settings.get("env"),
    )
    click.echo(result.to_text())
