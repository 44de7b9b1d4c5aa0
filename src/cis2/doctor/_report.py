"""What the doctor found: one Finding per broken rule, gathered in a Report.

A Report is safe to print, log or return as JSON: it holds the decoded
header and claims of the assertion (which are not secret), never its
signature, never key material, and a form's secrets (client_secret, the
authorization code, tokens) are masked before they reach it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cis2.keys import KeyInfo

__all__ = ["Finding", "Kind", "Report", "Severity"]

Severity = Literal["error", "warning"]
Kind = Literal["cis2", "api_platform"]

_KIND_TITLES: dict[str, str] = {
    "cis2": "CIS2 client assertion",
    "api_platform": "NHS API Platform client assertion",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong (or worth a warning) with an assertion, and its fix."""

    rule: str
    field: str
    severity: Literal["error", "warning"]
    message: str
    fix: str

    def to_json(self) -> dict[str, str]:
        """The finding as the JSON object the CLI's ``--json`` prints."""
        return {
            "rule": self.rule,
            "field": self.field,
            "severity": self.severity,
            "message": self.message,
            "fix": self.fix,
        }


@dataclass(frozen=True, slots=True)
class Report:
    """The doctor's verdict on one assertion (or one token request).

    ``ok`` is true when no finding is an error. ``header`` and ``claims``
    are the decoded, unverified JOSE header and claims (None when they could
    not be decoded); ``form`` is the token request's form with its secrets
    masked (None when a bare JWT was given). ``key_info`` describes the
    private key given, and ``notes`` say what could not be checked and why.
    """

    ok: bool
    findings: tuple[Finding, ...]
    header: dict[str, Any] | None
    claims: dict[str, Any] | None
    kind: Kind
    form: dict[str, str] | None
    key_info: KeyInfo | None = None
    notes: tuple[str, ...] = ()

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning")

    def to_json(self) -> dict[str, Any]:
        """``{"ok", "findings", "header", "claims"}``, the CLI's ``--json``."""
        return {
            "ok": self.ok,
            "findings": [finding.to_json() for finding in self.findings],
            "header": self.header,
            "claims": self.claims,
        }

    def to_text(self) -> str:
        """A plain-text report for people: what was decoded, then each fix."""
        faulty = {f.field for f in self.findings}
        lines = [_headline(self), ""]
        lines += _section("Header", self.header, faulty)
        lines += _section("Claims", self.claims, faulty)
        lines += _section("Form", self.form, faulty if "form" in faulty else set())
        lines += _key_section(self.key_info)
        lines += _findings_section(self.findings)
        lines += [f"Note: {note}" for note in self.notes]
        return "\n".join(lines).rstrip() + "\n"


def _headline(report: Report) -> str:
    title = _KIND_TITLES[report.kind]
    errors, warnings = len(report.errors), len(report.warnings)
    if not report.findings:
        return f"{title}: no problems found."
    verdict = "would be refused" if errors else "looks acceptable"
    return (
        f"{title}: {verdict} ({_plural(errors, 'error')}, "
        f"{_plural(warnings, 'warning')})."
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _section(
    title: str, values: Mapping[str, Any] | None, faulty: set[str]
) -> list[str]:
    if values is None:
        return []
    lines = [f"{title}:"]
    for name, value in values.items():
        # The marker lets a reader find the faulty line without reading all.
        marker = "!!" if name in faulty else "  "
        lines.append(f"  {marker} {name}: {_show(value)}")
    return [*lines, ""]


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _key_section(info: KeyInfo | None) -> list[str]:
    if info is None:
        return []
    protection = "encrypted" if info.encrypted else "not encrypted"
    return [
        "Key:",
        f"     {info.kind} {info.key_type} key, {info.size} bits, {info.format}, "
        f"{protection}, kid {info.kid}",
        "",
    ]


def _findings_section(findings: tuple[Finding, ...]) -> list[str]:
    if not findings:
        return []
    lines = ["Findings:"]
    for finding in findings:
        lines.append(
            f"  {finding.severity.upper()} {finding.rule} ({finding.field}): "
            f"{finding.message}"
        )
        lines.append(f"    Fix: {finding.fix}")
    return [*lines, ""]
