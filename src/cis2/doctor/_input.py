"""What the doctor was handed: a bare JWT, a form body, a URL or a curl line.

People paste whatever they have: the assertion alone, the token request's
``application/x-www-form-urlencoded`` body (RFC 6749 section 4.1.3), a URL
with the parameters in its query, the JSON their code built, or the curl
command line from a runbook. ``read_submission`` tells them apart and pulls
out the client assertion, the form fields and the URL the request went to.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

__all__ = ["Submission", "read_submission"]

# A form key followed by "=" never occurs inside a compact JWS, whose
# alphabet has no "&" and puts "=" (a mistake) only at the end of a part.
_FORM_KEY: Final = re.compile(
    r"(?:^|[&\s])(?:grant_type|client_assertion|client_assertion_type|client_id)="
)
_DATA_OPTIONS: Final = frozenset(
    {"-d", "--data", "--data-raw", "--data-ascii", "--data-binary"}
)
_URLENCODE_OPTION: Final = "--data-urlencode"
_MULTIPART_OPTIONS: Final = frozenset({"-F", "--form"})
# curl options that take a value, so the value is not mistaken for the URL.
_VALUED_OPTIONS: Final = frozenset(
    {
        "-H", "--header", "-X", "--request", "-u", "--user", "-A",
        "--user-agent", "-e", "--referer", "-o", "--output", "-b",
        "--cookie", "-c", "--cookie-jar", "-m", "--max-time",
        "--connect-timeout", "-x", "--proxy", "--cert", "--key",
        "--cacert", "-w", "--write-out", "--resolve",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Submission:
    """The parts of what was given.

    ``assertion`` is the client assertion with its outer whitespace removed
    (None when a form carried none); ``form`` the request's fields when a
    request was given; ``url`` where the request was sent, when known;
    ``problem`` what could not be read, in words.
    """

    assertion: str | None
    form: dict[str, str] | None = None
    url: str | None = None
    problem: str | None = None


def read_submission(text: str) -> Submission:
    """Tell a JWT from a form body, a URL, a JSON form or a curl command."""
    stripped = text.strip().strip("'\"").strip()
    if stripped.startswith("curl ") or stripped.startswith("curl\n"):
        return _from_curl(stripped)
    if stripped.startswith("{"):
        return _from_json(stripped)
    if stripped.startswith(("https://", "http://")) and "?" in stripped:
        return _from_url(stripped)
    if _FORM_KEY.search(stripped):
        return _from_form(stripped, url=None)
    return Submission(assertion=stripped)


def _from_form(body: str, *, url: str | None) -> Submission:
    fields = dict(parse_qsl(body.strip(), keep_blank_values=True))
    return Submission(
        assertion=_assertion_of(fields), form=fields, url=url, problem=None
    )


def _from_url(text: str) -> Submission:
    parts = urlsplit(text)
    bare = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return _from_form(parts.query, url=bare)


def _from_json(text: str) -> Submission:
    try:
        document = json.loads(text)
    except ValueError:
        return Submission(
            assertion=None,
            problem="The input starts with '{' but is not JSON: give the JWT, the "
            "form body or the curl command line.",
        )
    if not isinstance(document, dict) or not (
        "client_assertion" in document or "grant_type" in document
    ):
        return Submission(
            assertion=None,
            problem="The JSON given is not a token request (no client_assertion "
            "or grant_type): give the JWT itself, not its decoded claims.",
        )
    fields = {
        str(name): value if isinstance(value, str) else json.dumps(value)
        for name, value in document.items()
    }
    return Submission(assertion=_assertion_of(fields), form=fields)


def _from_curl(text: str) -> Submission:
    # A runbook's curl spans lines with a backslash at each end; the shell
    # would join them, so do the same before splitting into arguments.
    joined = text.replace("\\\r\n", " ").replace("\\\n", " ")
    try:
        args = shlex.split(joined)
    except ValueError:
        return Submission(
            assertion=None,
            problem="The curl command line does not parse (an unclosed quote?): "
            "give the form body or the JWT instead.",
        )
    pieces, url, multipart = _curl_arguments(args[1:])
    if multipart:
        return Submission(
            assertion=None,
            url=url,
            problem="The curl command sends multipart/form-data (-F): the token "
            "endpoint takes application/x-www-form-urlencoded, so use -d "
            "or --data-urlencode for each field.",
        )
    if not pieces:
        return Submission(
            assertion=None,
            url=url,
            problem="The curl command sends no form body (-d, --data or "
            "--data-urlencode): give the command that posts the token request.",
        )
    return _from_form("&".join(pieces), url=url)


def _curl_arguments(args: list[str]) -> tuple[list[str], str | None, bool]:
    """The form pieces, the URL and whether -F was used, from curl's argv."""
    pieces: list[str] = []
    url: str | None = None
    multipart = False
    index = 0
    while index < len(args):
        name, value, used = _curl_option(args, index)
        index += used
        if name in _DATA_OPTIONS and value is not None:
            pieces.append(value)
        elif name == _URLENCODE_OPTION and value is not None:
            pieces.append(_urlencode_piece(value))
        elif name in _MULTIPART_OPTIONS:
            multipart = True
        elif name == "--url" or (name is None and url is None):
            url = value
    return pieces, url, multipart


def _curl_option(args: list[str], index: int) -> tuple[str | None, str | None, int]:
    """One curl option at index: (name, value, arguments consumed)."""
    arg = args[index]
    if not arg.startswith("-"):
        return None, arg, 1
    if arg.startswith("--") and "=" in arg:
        name, _, value = arg.partition("=")
        return name, value, 1
    takes_value = (
        arg in _DATA_OPTIONS
        or arg in _MULTIPART_OPTIONS
        or arg in _VALUED_OPTIONS
        or arg in (_URLENCODE_OPTION, "--url")
    )
    if takes_value:
        following = args[index + 1] if index + 1 < len(args) else None
        return arg, following, 2
    if arg[:2] in ("-d", "-F") and len(arg) > 2:
        return arg[:2], arg[2:], 1
    return arg, None, 1


def _urlencode_piece(value: str) -> str:
    """What curl's --data-urlencode sends for value (see its manual)."""
    name, sep, content = value.partition("=")
    if not sep:
        return quote(value, safe="")
    if not name:
        return quote(content, safe="")
    return f"{name}={quote(content, safe='')}"


def _assertion_of(fields: dict[str, str]) -> str | None:
    value = fields.get("client_assertion")
    return value.strip() if value is not None else None
