"""diagnose: run every rule on an assertion or a token request, offline.

This is what the CLI, the simulator and the client (on ``invalid_client``)
call. It never raises and never goes online: a bad option or an unexpected
failure becomes a finding. ``load_jwks`` is the one helper that may fetch
(a JWKS URL), and only when called for that.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Final, Unpack
from urllib.parse import urlsplit, urlunsplit

import httpx

from cis2.errors import JwksError
from cis2.keys import KeySet

from ._case import (
    Case,
    Context,
    Options,
    build_case,
    jwks_document,
    resolve_context,
)
from ._input import read_submission
from ._report import Finding, Report
from ._rules import run_rules

__all__ = [
    "Options",
    "diagnose",
    "diagnose_many",
    "load_jwks",
    "read_jwks_document",
    "split_assertions",
]

logger = logging.getLogger("cis2.doctor")

#: Form fields whose values are secrets: shown masked, whatever else is shown.
MASKED_FIELDS: Final = frozenset(
    {
        "client_secret",
        "code",
        "code_verifier",
        "refresh_token",
        "subject_token",
        "password",
    }
)
MASK: Final = "********"
JWKS_TIMEOUT: Final = 10.0


def diagnose(text: str, **options: Unpack[Options]) -> Report:
    """Say what is wrong with one client assertion (or token request).

    text is a compact JWT, a form body, a URL with the form in its query,
    a JSON form or a curl command line. The options (all optional, see
    ``Options``) are client_id, token_endpoint, env, issuer, alg, jwks,
    key, key_password, now and api_platform; each makes more rules
    possible. Never raises, never goes online.
    """
    return diagnose_many([text], **options)[0]


def diagnose_many(
    texts: Iterable[str] | str, **options: Unpack[Options]
) -> list[Report]:
    """One Report per assertion, with jti uniqueness checked across them all.

    texts is a list of inputs, or one string holding several JWTs one per
    line (see ``split_assertions``). The options are those of ``diagnose``
    and apply to every assertion; the key and JWKS are read once.
    """
    inputs = split_assertions(texts) if isinstance(texts, str) else list(texts)
    try:
        context = resolve_context(**options)
    except Exception as exc:  # The doctor reports; it does not crash.
        return [_failed_report(exc) for _ in inputs]
    cases = [_case_or_error(text, context) for text in inputs]
    counts = Counter(
        jti
        for case in cases
        if isinstance(case, Case) and (jti := _jti(case)) is not None
    )
    return [_report(case, counts) for case in cases]


def split_assertions(text: str) -> list[str]:
    """Several JWTs one per line become a list; anything else stays whole.

    A form body or a curl command spans lines too, so the text is split
    only when every non-empty line looks like a compact JWS on its own.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > 1 and all(_looks_like_jwt(line) for line in lines):
        return lines
    return [text]


def load_jwks(
    source: str | os.PathLike[str] | Mapping[str, Any],
    *,
    http: httpx.Client | None = None,
    timeout: float = JWKS_TIMEOUT,
) -> KeySet:
    """The registered JWKS from a path, JSON text, a mapping or an http(s) URL.

    Fetching a URL is the doctor's only network use besides ``probe``; the
    fetch is one GET with no credentials. Raises JwksError (unreachable,
    not 200, not JSON) or KeyLoadError (no 'keys' array).
    """
    return KeySet.from_json(read_jwks_document(source, http=http, timeout=timeout))


def read_jwks_document(
    source: str | os.PathLike[str] | Mapping[str, Any],
    *,
    http: httpx.Client | None = None,
    timeout: float = JWKS_TIMEOUT,
) -> Mapping[str, Any]:
    """The registered JWKS as the JSON object it is, from what load_jwks takes.

    Give this rather than a KeySet as diagnose's jwks: a KeySet keeps only
    the public keys, so the rule that finds private members (``d``, ``p``,
    ...) published in the JWKS could not run. Raises as load_jwks does.
    """
    if isinstance(source, Mapping):
        return source
    text = os.fspath(source)
    if not text.startswith(("https://", "http://")):
        return jwks_document(text)
    document = _fetch_jwks(text, http, timeout)
    if not isinstance(document, dict):
        raise JwksError(
            f"The JWKS URL {_without_query(text)} answered JSON that is not an "
            'object: it must serve {"keys": [...]}.',
            field="jwks",
        )
    return document


# Helpers


def _case_or_error(text: str, context: Context) -> Case | Exception:
    try:
        return build_case(read_submission(text), context, {})
    except Exception as exc:  # The doctor reports; it does not crash.
        return exc


def _report(case: Case | Exception, counts: Mapping[str, int]) -> Report:
    if isinstance(case, Exception):
        return _failed_report(case)
    case.jti_counts = counts
    findings = run_rules(case)
    return Report(
        ok=not any(f.severity == "error" for f in findings),
        findings=findings,
        header=case.header,
        claims=case.claims,
        kind=case.kind,
        form=_masked_form(case.form),
        key_info=case.context.key_info,
        notes=_notes(case),
    )


def _failed_report(exc: Exception) -> Report:
    # Only the exception's type is named: its text could quote the input.
    finding = Finding(
        "doctor.failed",
        "token",
        "error",
        f"The doctor could not check this input ({type(exc).__name__}).",
        "Check the input is the assertion or the token request; if it is, "
        "report this to the cis2 maintainers.",
    )
    return Report(False, (finding,), None, None, "cis2", None)


def _jti(case: Case) -> str | None:
    jti = (case.claims or {}).get("jti")
    return jti if isinstance(jti, str) and jti else None


def _masked_form(form: Mapping[str, str] | None) -> dict[str, str] | None:
    if form is None:
        return None
    shown: dict[str, str] = {}
    for name, value in form.items():
        if name in MASKED_FIELDS:
            shown[name] = MASK
        elif name == "client_assertion":
            shown[name] = "(the assertion, decoded above)"
        else:
            shown[name] = value
    return shown


def _notes(case: Case) -> tuple[str, ...]:
    """What could not be checked for want of context, and how to add it."""
    context = case.context
    notes: list[str] = []
    if case.kind == "api_platform" and context.api_platform is None:
        notes.append(
            "Checked with the NHS API Platform's rules, because of the token "
            "URL; pass api_platform=False to check it as a CIS2 assertion."
        )
    if case.parts is not None and context.jwks is None and context.key is None:
        notes.append(
            "The signature was not checked: give the registered JWKS (jwks) "
            "or the private key (key)."
        )
    if case.claims is not None and case.expected_aud is None:
        notes.append(
            "aud was checked for near misses only: give the environment or "
            "the token endpoint to compare it exactly."
        )
    if case.claims is not None and context.client_id is None:
        notes.append("iss and sub were not compared with a client_id: give it.")
    if case.header is not None and context.alg is None:
        notes.append("alg was not compared with the registered alg: give it.")
    return tuple(notes)


def _looks_like_jwt(line: str) -> bool:
    return line.startswith("eyJ") and line.count(".") == 2 and " " not in line


def _fetch_jwks(url: str, http: httpx.Client | None, timeout: float) -> Any:
    shown = _without_query(url)
    try:
        if http is not None:
            response = http.get(url, timeout=timeout)
        else:
            with httpx.Client(timeout=timeout) as client:
                response = client.get(url)
    except httpx.HTTPError as exc:
        raise JwksError(
            f"Cannot fetch the JWKS at {shown} ({type(exc).__name__}): check the "
            "URL, and that it is public; CIS2 must reach it too.",
            field="jwks",
        ) from None
    logger.info("GET %s -> %s", shown, response.status_code)
    if response.status_code != 200:
        raise JwksError(
            f"The JWKS URL {shown} answered HTTP {response.status_code}, not "
            "200: publish the JWKS document there.",
            field="jwks",
        )
    try:
        return response.json()
    except ValueError:
        raise JwksError(
            f"The JWKS URL {shown} did not answer JSON: it must serve "
            '{"keys": [...]} as application/json.',
            field="jwks",
        ) from None


def _without_query(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return "the URL given"
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
