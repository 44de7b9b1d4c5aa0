"""``cis2 doctor``: say why CIS2 would answer "JWT is not valid".

A thin front for ``cis2.doctor``: read the assertion (or a whole token
request), gather what the user knows about the registration, print the
report. Exit 0 when no finding is an error, 1 otherwise; with ``--probe``,
also 1 when the token endpoint refuses the client authentication.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from cis2.cli._common import (
    load_key,
    provider_values,
    read_secret_file,
    setting_options,
)
from cis2.cli._settings import DEFAULT, Settings
from cis2.errors import ConfigurationError

__all__ = ["doctor", "parse_instant", "read_assertion"]

#: The library's notes name diagnose's parameters; the command has flags.
_FLAG_WORDING = (
    ("the registered JWKS (jwks)", "the registered JWKS (--jwks)"),
    ("the private key (key)", "the private key (--key)"),
    ("pass api_platform=False", "pass --cis2"),
    ("give the environment or the token endpoint", "give --env or --token-endpoint"),
    ("with a client_id: give it.", "with a client_id: give --client-id."),
    ("the registered alg: give it.", "the registered alg: give --alg."),
)


@click.command()
@click.argument("source", metavar="[ASSERTION_OR_FILE_OR_-]", required=False)
@setting_options(
    "client_id",
    "env",
    "issuer",
    "token_endpoint",
    "alg",
    "key",
    "key_password_file",
    "redirect_uri",
    alg="the registered signing algorithm (checked only when given)",
)
@click.option("--jwks", help="The registered JWKS: a file, JSON text or its URL.")
@click.option(
    "--at",
    "at_time",
    help="Judge the times as at this instant: Unix seconds or ISO 8601.",
)
@click.option(
    "--api-platform/--cis2",
    "api_platform",
    default=None,
    help="Judge it as an NHS API Platform (or a CIS2) assertion [default: tell].",
)
@click.option(
    "--probe",
    is_flag=True,
    help="Also send a fresh assertion from --key to the token endpoint.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def doctor(
    ctx: click.Context,
    /,
    *,
    source: str | None,
    jwks: str | None,
    at_time: str | None,
    api_platform: bool | None,
    probe: bool,
    as_json: bool,
    **flags: str | None,
) -> None:
    """Diagnose a client assertion: name each mistake and its fix.

    Give the assertion, a token request (form body or curl command), a file
    holding either, or - for stdin; several JWTs one per line are judged
    together (jti reuse). The more you say about the registration (client
    id, environment, alg, JWKS, key), the more the doctor can check. It
    never goes online, except to fetch a --jwks URL or with --probe, which
    sends a fresh assertion signed with --key and an invalid code: CIS2's
    answer then shows whether it accepts the client authentication.

    \b
    Examples:
      cis2 doctor assertion.jwt --client-id 999999999999.apps.national --env int
      cis2 assertion --env int ... | cis2 doctor - --env int --jwks jwks.json
      cis2 doctor --probe --env int --client-id ID --key key.pem
    """
    from cis2 import doctor as rules

    if source is None and not probe:
        raise click.UsageError(
            "Give the assertion to diagnose (or - for stdin), or --probe to ask "
            "the token endpoint."
        )
    settings = Settings(flags)
    reports: list[Any] = []
    if source is not None:
        options = _diagnose_options(settings, jwks, at_time, api_platform)
        texts = rules.split_assertions(read_assertion(source))
        reports = rules.diagnose_many(texts, **options)
    probed = _probe(rules, settings) if probe else None
    _print(reports, probed, as_json=as_json)
    refused = probed is not None and probed.accepted is not True
    ctx.exit(0 if all(r.ok for r in reports) and not refused else 1)


def read_assertion(source: str) -> str:
    """The text from the argument itself, a file, or stdin for -."""
    if source == "-":
        return sys.stdin.read().strip()
    if source.startswith("eyJ") or "=" in source or len(source) > 255:
        return source
    path = Path(source)
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    if "." in source.strip("."):
        return source
    raise ConfigurationError(
        f"{source!r} is neither an assertion nor a file: give the JWT, a token "
        "request, a file holding one, or - to read stdin.",
        field="assertion",
    )


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


def _diagnose_options(
    settings: Settings,
    jwks: str | None,
    at_time: str | None,
    api_platform: bool | None,
) -> dict[str, Any]:
    """diagnose's keyword arguments from what the user gave.

    The alg is passed only when the user set it: the built-in default
    (RS512) is what cis2 signs with, not what a registration says.
    """
    password_file = settings.get("key_password_file")
    return {
        **provider_values(settings),
        "client_id": settings.get("client_id"),
        "alg": settings.get("alg") if settings.layer_of("alg") < DEFAULT else None,
        "jwks": _jwks_document(jwks) if jwks else None,
        "key": settings.get("key"),
        "key_password": read_secret_file(password_file, "key_password_file")
        if password_file
        else None,
        "now": parse_instant(at_time) if at_time else None,
        "api_platform": api_platform,
    }


def _jwks_document(source: str) -> Any:
    """The --jwks document itself, checked to hold keys.

    diagnose gets the document, not a KeySet: only the document still shows
    private members such as ``d``, which the jwks.private_members rule looks
    for. A document without a keys array stops here, as a one-line error.
    """
    from cis2.doctor import load_jwks
    from cis2.doctor._diagnose import read_jwks_document

    document = read_jwks_document(source)
    load_jwks(document)
    return document


def _probe(rules: Any, settings: Settings) -> Any:
    """Ask the token endpoint whether it accepts a fresh assertion."""
    from cis2.cli._common import resolve_provider

    provider = resolve_provider(settings, need="token_endpoint")
    return rules.probe(
        token_endpoint=provider.token_endpoint,
        client_id=settings.require("client_id", "the probe authenticates as it"),
        key=load_key(settings, why="the probe signs a fresh assertion with it"),
        redirect_uri=settings.get("redirect_uri"),
    )


def _print(reports: list[Any], probed: Any, *, as_json: bool) -> None:
    if as_json:
        document: dict[str, Any] = (
            reports[0].to_json()
            if len(reports) == 1
            else {"reports": [r.to_json() for r in reports]}
        )
        if probed is not None:
            document["probe"] = _probe_json(probed)
        click.echo(json.dumps(document, indent=2))
        return
    if reports:
        click.echo("\n\n".join(_text(report) for report in reports) + "\n")
    if probed is not None:
        click.echo("Probe\n" + probed.explain_request() + "\n" + probed.summary())
        if probed.report is not None and probed.report.findings:
            click.echo(_text(probed.report))


def _text(report: Any) -> str:
    """report.to_text(), its notes naming this command's flags."""
    import dataclasses

    notes = tuple(_in_flags(note) for note in report.notes)
    return str(dataclasses.replace(report, notes=notes).to_text())


def _in_flags(note: str) -> str:
    for library, command_line in _FLAG_WORDING:
        note = note.replace(library, command_line)
    return note


def _probe_json(probed: Any) -> dict[str, Any]:
    return {
        "accepted": probed.accepted,
        "status_code": probed.status_code,
        "error": probed.error,
        "error_description": probed.error_description,
        "summary": probed.summary(),
        "report": None if probed.report is None else probed.report.to_json(),
    }
