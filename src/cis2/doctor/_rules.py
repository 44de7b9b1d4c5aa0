"""The doctor's rules, in the order they run: one function per mistake.

Each rule names the header, claim or form field it concerns, a severity, and
returns a Problem (message and fix) when the case breaks it. A rule runs
only when the case holds what it ``needs`` (a rule about ``aud`` needs the
claims; one about the registered JWKS needs the JWKS), and only for the
``kinds`` of assertion it is about: CIS2's (reference section 4.2) or the NHS
API Platform's token exchange (reference section 9.2). Rules sharing a
``group`` are alternatives, most specific first: only the first that fires
in a group is reported, so "aud is the issuer" is not also reported as
"aud is not the token endpoint".

Rules never raise on odd input: claims may hold any JSON value, so each
reads them through the small helpers at the end of this module.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from cis2 import environments
from cis2._client_auth import CLIENT_ASSERTION_TYPE, MAX_ASSERTION_LIFETIME
from cis2._jws import ALGORITHMS
from cis2.environments import API_PLATFORM_TOKEN_URLS, RETIRED_HOSTS
from cis2.keys import SIGNING_ALGORITHMS

from ._case import (
    API_KEY_SHAPE,
    CIS2_CLIENT_ID_SHAPE,
    TOKEN_EXCHANGE,
    Case,
    is_api_platform_url,
)
from ._report import Finding, Kind, Severity

__all__ = ["RULES", "Problem", "Rule", "run_rules"]

BOTH: Final[tuple[Kind, ...]] = ("cis2", "api_platform")
CIS2: Final[tuple[Kind, ...]] = ("cis2",)
API_PLATFORM: Final[tuple[Kind, ...]] = ("api_platform",)

#: How far ahead of now an iat or nbf may be before it is clock skew.
CLOCK_LEEWAY: Final = 30
#: An exp passed by at most this much is more likely skew than a stale token.
SKEW_WINDOW: Final = 120
#: The API Platform refuses exp more than 5 minutes ahead, with 10 s to spare.
MAX_EXP_AHEAD: Final = MAX_ASSERTION_LIFETIME + 10
#: A NumericDate above this is in milliseconds (it would be past year 5000).
MILLISECONDS_FLOOR: Final = 10**11

ID_TOKEN_TYPE: Final = "urn:ietf:params:oauth:token-type:id_token"
_BASE64URL: Final = re.compile(r"^[A-Za-z0-9_-]*$")
_WHITESPACE: Final = re.compile(r"\s")
_FILE_NAME: Final = re.compile(r"^[\w./~-]+\.(jwt|jws|txt|json|token|b64)$")
_PRIVATE_JWK_MEMBERS: Final = ("d", "p", "q", "dp", "dq", "qi")


@dataclass(frozen=True, slots=True)
class Problem:
    """What a rule says when the case breaks it."""

    message: str
    fix: str


Check = Callable[[Case], Problem | None]


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: its id, the field it concerns, its severity and its check."""

    id: str
    field: str
    severity: Severity
    check: Check
    doc: str
    needs: tuple[str, ...] = ()
    kinds: tuple[Kind, ...] = BOTH
    group: str | None = None

    def applies(self, case: Case) -> bool:
        """Whether the case is of this rule's kind and holds what it needs."""
        if case.kind not in self.kinds:
            return False
        return all(_NEEDS[need](case) for need in self.needs)


#: Every rule, in the order they run and report.
RULES: list[Rule] = []

_NEEDS: Final[dict[str, Callable[[Case], bool]]] = {
    "raw": lambda case: bool(case.raw),
    "parts": lambda case: case.parts is not None,
    "header": lambda case: case.header is not None,
    "claims": lambda case: case.claims is not None,
    "form": lambda case: case.form is not None,
    "client_id": lambda case: case.client_id is not None,
    "expected_aud": lambda case: case.expected_aud is not None,
    "alg": lambda case: case.context.alg is not None,
    "jwks_given": lambda case: case.context.jwks is not None,
    # Rules that compare with the JWKS need a key in it; an empty or
    # unparsable JWKS is reported once, by jwks.no_usable_keys.
    "jwks": lambda case: bool(case.context.jwks),
    "key": lambda case: case.context.key is not None,
    "pem": lambda case: case.context.key_pem is not None,
}


def rule(
    rule_id: str,
    field: str,
    severity: Severity,
    *,
    needs: tuple[str, ...] = (),
    kinds: tuple[Kind, ...] = BOTH,
    group: str | None = None,
) -> Callable[[Check], Check]:
    """Register the decorated check as the next rule; its docstring is its doc."""
    unknown = set(needs) - set(_NEEDS)
    if unknown:
        raise ValueError(f"rule {rule_id} needs unknown parts: {sorted(unknown)}")

    def register(check: Check) -> Check:
        doc = inspect.getdoc(check) or ""
        RULES.append(Rule(rule_id, field, severity, check, doc, needs, kinds, group))
        return check

    return register


def run_rules(case: Case) -> tuple[Finding, ...]:
    """Every finding for case, in rule order; a failing rule is a warning."""
    findings: list[Finding] = []
    fired: set[str] = set()
    for each in RULES:
        if each.group in fired or not each.applies(case):
            continue
        try:
            problem = each.check(case)
        except Exception as exc:  # A doctor that crashes helps nobody.
            findings.append(_rule_failure(each, exc))
            continue
        if problem is None:
            continue
        if each.group is not None:
            fired.add(each.group)
        findings.append(
            Finding(each.id, each.field, each.severity, problem.message, problem.fix)
        )
    return tuple(findings)


# What was given, and the options that came with it


@rule("input.unreadable", "form", "error")
def _input_unreadable(case: Case) -> Problem | None:
    """The input reads as a JWT, a form body, a URL, JSON or a curl command."""
    if case.input_problem is None:
        return None
    return Problem(
        case.input_problem,
        "Give the client assertion (eyJ...), the token request's form body "
        "or the curl command line that sends it.",
    )


@rule("input.empty", "form", "error")
def _input_empty(case: Case) -> Problem | None:
    """Something was given to check."""
    if case.raw or case.form is not None or case.input_problem is not None:
        return None
    return Problem(
        "The input is empty: there is no assertion to check.",
        "Paste the client_assertion value, or the whole token request.",
    )


@rule("context.env", "env", "error")
def _context_env(case: Case) -> Problem | None:
    """The environment named is one of CIS2's (reference section 1)."""
    message = case.context.problems.get("env")
    if message is None:
        return None
    return Problem(message, "Name the environment: dev, int, dep or live.")


@rule("context.alg", "alg", "error")
def _context_alg(case: Case) -> Problem | None:
    """The registered alg given is a JOSE name CIS2 offers."""
    message = case.context.problems.get("alg")
    if message is None:
        return None
    return Problem(
        message,
        "Give the 'Token Endpoint Signing Algorithm' from the registration, "
        "RS256 or RS512.",
    )


@rule("context.jwks", "jwks", "error")
def _context_jwks(case: Case) -> Problem | None:
    """The registered JWKS given can be read."""
    message = case.context.problems.get("jwks")
    if message is None:
        return None
    return Problem(
        message,
        "Give the JWKS as a file, as JSON text, or fetched with load_jwks(url).",
    )


@rule("context.token_endpoint_port", "aud", "warning")
def _context_token_endpoint_port(case: Case) -> Problem | None:
    """The token endpoint given keeps the :443 CIS2 publishes (section 1.1)."""
    given = case.context.token_endpoint
    if given is None or case.expected_aud in (None, given):
        return None
    return Problem(
        f"The token endpoint given, {given}, lacks the ':443' that CIS2 "
        "writes in its published token_endpoint; the checks use the "
        f"published form, {case.expected_aud}.",
        "Copy token_endpoint from the discovery document, byte for byte.",
    )


# Structure: a compact JWS (RFC 7515 section 7.1)


@rule("structure.parts", "token", "error", needs=("raw",))
def _structure_parts(case: Case) -> Problem | None:
    """Three base64url parts joined by dots: header, claims, signature."""
    count = len("".join((case.raw or "").split()).split("."))
    if count == 3:
        return None
    if _FILE_NAME.match(case.raw or ""):
        what = "it looks like a file name, and no such file was read"
    elif count == 5:
        what = "that is an encrypted JWT (JWE), and CIS2 takes a signed one"
    elif count == 1:
        what = "it is not a JWT at all (a client secret, or a decoded part?)"
    else:
        what = "a part is missing or extra (cut off while copying?)"
    return Problem(
        f"The assertion has {count} dot-separated parts, not 3: {what}.",
        "Send the compact JWS exactly as signed: header.claims.signature.",
    )


@rule("structure.unsigned", "signature", "error", needs=("parts",))
def _structure_unsigned(case: Case) -> Problem | None:
    """The signature part is present and not empty."""
    if case.parts is None or case.parts[2]:
        return None
    return Problem(
        "The signature part is empty: this is an unsigned JWT, which no "
        "token endpoint accepts as a client assertion.",
        "Sign the assertion with the private key whose public half is in the "
        "registered JWKS.",
    )


@rule("structure.whitespace", "token", "error", needs=("raw",))
def _structure_whitespace(case: Case) -> Problem | None:
    """No spaces or line breaks inside the token."""
    raw = case.raw or ""
    if _WHITESPACE.search(raw) is None:
        return None
    count = len(_WHITESPACE.findall(raw))
    return Problem(
        f"The assertion has {count} space(s) or line break(s) inside it, "
        "as a wrapped terminal, an email or a YAML block adds.",
        "Remove all whitespace: a compact JWS is one unbroken line.",
    )


@rule("structure.padding", "token", "error", needs=("raw",))
def _structure_padding(case: Case) -> Problem | None:
    """No base64 padding ('=') on any part (RFC 7515 section 2)."""
    if "=" not in (case.raw or ""):
        return None
    return Problem(
        "A part ends in '=' padding: JWS parts are base64url without padding, "
        "and a strict verifier refuses the token.",
        "Encode each part with base64url and strip the trailing '=' "
        "(most JWT libraries do this for you).",
    )


@rule("structure.alphabet", "token", "error", needs=("raw",))
def _structure_alphabet(case: Case) -> Problem | None:
    """Only the base64url alphabet: A-Z a-z 0-9 '-' '_' (RFC 4648 section 5)."""
    text = "".join((case.raw or "").split()).replace("=", "").replace(".", "")
    if _BASE64URL.match(text) or _FILE_NAME.match(case.raw or ""):
        return None  # A file name is reported by structure.parts.
    if "%" in text:
        reason = "it is still URL-encoded ('%2E' and the like)"
    elif "+" in text or "/" in text:
        reason = "it has '+' or '/', so it was encoded with standard base64"
    else:
        reason = "it has characters (quotes, brackets?) no JWT holds"
    return Problem(
        f"The assertion is not base64url: {reason}.",
        "Encode each part with base64url (RFC 7515 section 2) and send the "
        "token as it came from the signer.",
    )


@rule("structure.header", "token", "error", needs=("parts",))
def _structure_header(case: Case) -> Problem | None:
    """The first part decodes to a JSON object."""
    if case.header is not None:
        return None
    return Problem(
        "The header (the first part) does not decode to a JSON object.",
        "Make the header a base64url-encoded JSON object such as "
        '{"alg":"RS512","kid":"...","typ":"JWT"}.',
    )


@rule("structure.claims", "token", "error", needs=("parts",))
def _structure_claims(case: Case) -> Problem | None:
    """The second part decodes to a JSON object."""
    if case.claims is not None:
        return None
    return Problem(
        "The claims (the second part) do not decode to a JSON object.",
        "Make the claims a base64url-encoded JSON object with iss, sub, aud, "
        "jti, iat and exp.",
    )


# The token request's form (RFC 6749 section 4.1.3, RFC 7523 section 2.2)


@rule("form.client_assertion", "form", "error", needs=("form",))
def _form_client_assertion(case: Case) -> Problem | None:
    """The form carries a client_assertion."""
    if case.raw:
        return None
    return Problem(
        "The token request has no client_assertion field (or it is empty).",
        "Send client_assertion=<the signed JWT> with "
        f"client_assertion_type={CLIENT_ASSERTION_TYPE}.",
    )


@rule("form.client_assertion_type", "form", "error", needs=("form",))
def _form_client_assertion_type(case: Case) -> Problem | None:
    """client_assertion_type is the JWT bearer URN, exactly."""
    value = _form(case, "client_assertion_type")
    if value == CLIENT_ASSERTION_TYPE:
        return None
    shown = "missing" if value is None else f'"{value}"'
    return Problem(
        f"client_assertion_type is {shown}: it must be the JWT bearer URN.",
        f"Send client_assertion_type={CLIENT_ASSERTION_TYPE}.",
    )


@rule("form.grant_type", "form", "error", needs=("form",))
def _form_grant_type(case: Case) -> Problem | None:
    """grant_type fits the endpoint: a code or refresh, or token exchange."""
    value = _form(case, "grant_type")
    allowed = (
        (TOKEN_EXCHANGE,)
        if case.kind == "api_platform"
        else ("authorization_code", "refresh_token")
    )
    if value in allowed:
        return None
    shown = "missing" if value is None else f'"{value}"'
    return Problem(
        f"grant_type is {shown}; this endpoint takes {' or '.join(allowed)}.",
        f"Send grant_type={allowed[0]}.",
    )


@rule("form.code", "form", "error", needs=("form",), kinds=CIS2)
def _form_code(case: Case) -> Problem | None:
    """An authorization_code grant carries the code."""
    if _form(case, "grant_type") != "authorization_code" or _form(case, "code"):
        return None
    return Problem(
        "grant_type is authorization_code but the form has no code.",
        "Send code=<the code from the callback>, once, within its lifetime.",
    )


@rule("form.redirect_uri", "form", "error", needs=("form",), kinds=CIS2)
def _form_redirect_uri(case: Case) -> Problem | None:
    """An authorization_code grant repeats the redirect_uri (RFC 6749 4.1.3)."""
    if _form(case, "grant_type") != "authorization_code":
        return None
    if _form(case, "redirect_uri"):
        return None
    return Problem(
        "grant_type is authorization_code but the form has no redirect_uri.",
        "Send the same redirect_uri as the authorization request, exactly as "
        "registered.",
    )


@rule("form.client_id_missing", "form", "warning", needs=("form",), kinds=CIS2)
def _form_client_id_missing(case: Case) -> Problem | None:
    """The form names the client_id, as every NHS client of CIS2 does."""
    if _form(case, "client_id"):
        return None
    return Problem(
        "The form has no client_id; RFC 7523 allows that, but NHS services "
        "send it and CIS2's behaviour without it is not documented.",
        "Send client_id=<your CIS2 client_id>, the same as iss and sub.",
    )


@rule("form.client_id_mismatch", "form", "error", needs=("form",))
def _form_client_id_mismatch(case: Case) -> Problem | None:
    """The form's client_id is the assertion's iss and the one registered."""
    value = _form(case, "client_id")
    if not value:
        return None
    iss = _string_claim(case, "iss")
    if iss is not None and value != iss:
        return Problem(
            f"The form's client_id \"{value}\" differs from the assertion's "
            f'iss "{iss}": the provider must find one client in both.',
            "Use the same client_id in the form and in iss and sub.",
        )
    if case.client_id is not None and value != case.client_id:
        return Problem(
            f'The form\'s client_id "{value}" is not the client_id given '
            f'("{case.client_id}").',
            "Send the client_id of the registration this key belongs to.",
        )
    return None


@rule("form.client_secret", "form", "error", needs=("form",))
def _form_client_secret(case: Case) -> Problem | None:
    """A request uses one client authentication method (RFC 6749 2.3)."""
    if "client_secret" not in case.form_or_empty or not case.raw:
        return None
    return Problem(
        "The form sends both a client_secret and a client_assertion: a client "
        "authenticates with one method, the one it registered.",
        "Drop client_secret when the client is registered for private_key_jwt.",
    )


@rule("form.subject_token_type", "form", "error", needs=("form",), kinds=API_PLATFORM)
def _form_subject_token_type(case: Case) -> Problem | None:
    """Token exchange names the subject as a CIS2 ID token (section 9.2)."""
    value = _form(case, "subject_token_type")
    if value == ID_TOKEN_TYPE:
        return None
    shown = "missing" if value is None else f'"{value}"'
    return Problem(
        f"subject_token_type is {shown}: the API Platform exchanges a CIS2 ID token.",
        f"Send subject_token_type={ID_TOKEN_TYPE}.",
    )


@rule("form.subject_token", "form", "error", needs=("form",), kinds=API_PLATFORM)
def _form_subject_token(case: Case) -> Problem | None:
    """Token exchange carries the subject token, the CIS2 ID token."""
    if _form(case, "subject_token"):
        return None
    return Problem(
        "The form has no subject_token.",
        "Send subject_token=<the id_token CIS2 returned> (not its access token).",
    )


# Header: alg (RFC 7515 section 4.1.1, reference section 4.2)


@rule("alg.missing", "alg", "error", needs=("header",))
def _alg_missing(case: Case) -> Problem | None:
    """The header names its algorithm."""
    if case.header_alg:
        return None
    return Problem(
        "The header has no alg (or it is not a string).",
        "Set alg to the algorithm registered for the client, RS512 or RS256.",
    )


@rule("alg.none", "alg", "error", needs=("header",))
def _alg_none(case: Case) -> Problem | None:
    """alg is not 'none': an assertion must be signed."""
    if (case.header_alg or "").lower() != "none":
        return None
    return Problem(
        'alg is "none": the assertion is unsigned, so it proves nothing.',
        "Sign with the private key whose public half is in the registered JWKS.",
    )


@rule("alg.symmetric", "alg", "error", needs=("header",))
def _alg_symmetric(case: Case) -> Problem | None:
    """alg is asymmetric: HS* is client_secret_jwt, not private_key_jwt."""
    alg = case.header_alg or ""
    if not alg.upper().startswith("HS"):
        return None
    return Problem(
        f"alg is {alg}, an HMAC made with a shared secret (client_secret_jwt); "
        "a private_key_jwt client signs with its private key.",
        "Sign with RS512 (or the RSA algorithm registered) and the private key.",
    )


@rule("alg.unsupported", "alg", "error", needs=("header",))
def _alg_unsupported(case: Case) -> Problem | None:
    """alg is an RSA algorithm a relying party can register (RS*, PS*)."""
    alg = case.header_alg
    if not alg or alg in SIGNING_ALGORITHMS or alg.lower() == "none":
        return None
    if alg.upper().startswith("HS"):
        return None
    if alg.upper() in SIGNING_ALGORITHMS:
        reason = f"algorithm names are case-sensitive; this is not {alg.upper()}"
    elif alg in ALGORITHMS:
        reason = "it is an EC algorithm, and CIS2 registers RSA ones"
    else:
        reason = "it is not a JOSE signature algorithm cis2 knows"
    return Problem(
        f'alg is "{alg}": {reason}.',
        "Sign with RS512 or RS256, whichever the client registered.",
    )


@rule("alg.registered", "alg", "error", needs=("header", "alg"))
def _alg_registered(case: Case) -> Problem | None:
    """alg is the algorithm registered for the client (section 4.2)."""
    alg, registered = case.header_alg, case.context.alg
    if not alg or alg == registered:
        return None
    return Problem(
        f"alg is {alg}, but the client registered {registered}: CIS2 verifies "
        "with the registered algorithm only.",
        f"Sign with {registered}, or change the registration's Token Endpoint "
        f"Signing Algorithm to {alg}.",
    )


@rule("alg.api_platform", "alg", "error", needs=("header",), kinds=API_PLATFORM)
def _alg_api_platform(case: Case) -> Problem | None:
    """The API Platform takes RS512 only (section 9.2)."""
    if case.header_alg == "RS512":
        return None
    return Problem(
        f"alg is {case.header_alg or 'missing'}: the API Platform accepts RS512 "
        "only ('unsupported JWT algorithm - must be RS512').",
        "Sign the API Platform's assertion with RS512.",
    )


# Header: kid and typ (RFC 7515 sections 4.1.4 and 4.1.9)


@rule("kid.missing", "kid", "error", needs=("header",))
def _kid_missing(case: Case) -> Problem | None:
    """The header has a kid naming the key in the registered JWKS."""
    if case.kid:
        return None
    return Problem(
        "The header has no kid (or it is not a string): the provider cannot "
        "tell which key in your JWKS to verify with.",
        "Set kid to the kid of the signing key's entry in the registered JWKS "
        "(cis2 uses the RFC 7638 thumbprint).",
    )


@rule("kid.not_in_jwks", "kid", "error", needs=("header", "jwks"))
def _kid_not_in_jwks(case: Case) -> Problem | None:
    """The header's kid is in the registered JWKS."""
    if not case.kid or case.kid_key is not None:
        return None
    kids = [k.kid for k in case.context.jwks.keys] if case.context.jwks else []
    listed = ", ".join(f'"{kid}"' for kid in kids if kid) or "none"
    return Problem(
        f'kid "{case.kid}" is not in the registered JWKS (its kids: {listed}).',
        "Publish the signing key's public JWK under this kid, or sign with "
        "the kid already published.",
    )


@rule("kid.key_type", "kid", "error", needs=("header", "jwks"))
def _kid_key_type(case: Case) -> Problem | None:
    """The JWKS key for kid fits alg: its kty, its alg member and its use."""
    key, alg = case.kid_key, case.header_alg
    if key is None or alg not in ALGORITHMS or key.fits(alg):
        return None
    if ALGORITHMS[alg] != key.kty:
        reason = f"it is an {key.kty} key and {alg} needs {ALGORITHMS[alg]}"
    elif key.alg is not None and key.alg != alg:
        reason = f'its JWK says "alg": "{key.alg}" and the header says {alg}'
    else:
        reason = f'its JWK says "use": "{key.use}", not "sig"'
    return Problem(
        f'The JWKS key for kid "{case.kid}" cannot verify this assertion: {reason}.',
        "Make the published JWK match: kty RSA, alg equal to the registered "
        'algorithm, use "sig".',
    )


@rule("typ.jwt", "typ", "warning", needs=("header",), kinds=CIS2)
def _typ_jwt(case: Case) -> Problem | None:
    """The header says typ JWT, as NHS clients of CIS2 send."""
    typ = (case.header or {}).get("typ")
    if isinstance(typ, str) and typ.upper() == "JWT":
        return None
    shown = "missing" if typ is None else f'"{typ}"'
    return Problem(
        f"typ is {shown}; every NHS client sends JWT, and whether CIS2 "
        "requires it is not documented.",
        'Set "typ": "JWT" in the header.',
    )


@rule("typ.api_platform", "typ", "error", needs=("header",), kinds=API_PLATFORM)
def _typ_api_platform(case: Case) -> Problem | None:
    """The API Platform requires typ JWT, in any case (section 9.2)."""
    typ = (case.header or {}).get("typ")
    if isinstance(typ, str) and typ.upper() == "JWT":
        return None
    shown = "missing" if typ is None else f'"{typ}"'
    return Problem(
        f"typ is {shown}: the API Platform refuses any other ('must be JWT').",
        'Set "typ": "JWT" in the header.',
    )


# The signature (RFC 7515 section 5.2) and the registered JWKS


@rule("jwks.private_members", "jwks", "error", needs=("jwks_given",))
def _jwks_private_members(case: Case) -> Problem | None:
    """The published JWKS holds public keys only."""
    entries = (case.context.jwks_document or {}).get("keys")
    if not isinstance(entries, list):
        return None
    leaking = [e for e in entries if _has_private_members(e)]
    if not leaking:
        return None
    return Problem(
        f"The JWKS holds private key members in {len(leaking)} key(s): anyone "
        "who fetches it can sign as your client.",
        "Publish only kty, n, e, kid, use and alg; make a new key pair now, "
        "register it, and retire the exposed one.",
    )


@rule("jwks.no_usable_keys", "jwks", "error", needs=("jwks_given",))
def _jwks_no_usable_keys(case: Case) -> Problem | None:
    """The registered JWKS has at least one key cis2 can use."""
    jwks = case.context.jwks
    if jwks is None or len(jwks) > 0:
        return None
    return Problem(
        f"The JWKS has no usable key ({jwks.skipped} entries could not be "
        "parsed as RSA or EC public keys).",
        'Publish {"keys": [{"kty":"RSA","n":...,"e":"AQAB","kid":...}]}.',
    )


@rule(
    "signature.wrong_kid",
    "signature",
    "error",
    needs=("parts", "jwks"),
    group="signature",
)
def _signature_wrong_kid(case: Case) -> Problem | None:
    """The key the kid names verifies it, not another key in the JWKS."""
    verifier = case.jwks_verifier
    if case.kid is None or verifier is None or verifier is case.kid_key:
        return None
    if case.kid_key is not None and case.verifies_with(case.kid_key):
        return None
    return Problem(
        f'The signature verifies with the JWKS key "{verifier.kid}", not with '
        f'the key the header\'s kid names ("{case.kid}").',
        f'Set kid to "{verifier.kid}", the kid of the key you sign with.',
    )


@rule(
    "signature.invalid",
    "signature",
    "error",
    needs=("parts", "jwks"),
    group="signature",
)
def _signature_invalid(case: Case) -> Problem | None:
    """Some key in the registered JWKS verifies the signature."""
    if case.header_alg not in ALGORITHMS or case.jwks_verifier is not None:
        return None
    signed_with_key = case.key_verifies is True
    cause = (
        "it was signed with the private key given, whose public half is not published"
        if signed_with_key
        else "it was signed with a key whose public half is not published (a "
        "stale or a new key?), or altered after signing"
    )
    return Problem(
        f"No key in the registered JWKS verifies the signature: {cause}.",
        "Publish the signing key's public JWK at the registered jwks_uri, or "
        "sign with the key already published.",
    )


@rule("signature.key", "signature", "error", needs=("parts", "key"))
def _signature_key(case: Case) -> Problem | None:
    """The public half of the private key given verifies the signature."""
    if case.header_alg not in ALGORITHMS or case.key_verifies is not False:
        return None
    return Problem(
        "The public half of the private key given does not verify the "
        "signature: the assertion was signed with another key, or altered.",
        "Sign with this key, or give the key the assertion was signed with.",
    )


# The private key file (RFC 5958 for PKCS#8, RFC 8017 appendix A.1.2 PKCS#1)


@rule("key.marker_mismatch", "key", "error", needs=("pem",), group="key_file")
def _key_marker_mismatch(case: Case) -> Problem | None:
    """The PEM markers name the structure inside (PKCS#1 or PKCS#8)."""
    marker, body = case.context.key_pem or ("", b"")
    inside = _der_private_layout(body)
    said = {"PRIVATE KEY": "PKCS#8", "RSA PRIVATE KEY": "PKCS#1"}.get(marker)
    if inside is None or said is None or inside == said:
        return None
    right = "RSA PRIVATE KEY" if inside == "PKCS#1" else "PRIVATE KEY"
    return Problem(
        f"The key file says BEGIN {marker} ({said}) but the body inside is "
        f"{inside}: a reader trusting the markers misreads or refuses it.",
        f"Use BEGIN {right} / END {right} markers, or convert the key: "
        "openssl pkcs8 -topk8 -nocrypt -in OLD.pem -out NEW.pem.",
    )


@rule("key.unreadable", "key", "error", group="key_file")
def _key_unreadable(case: Case) -> Problem | None:
    """The private key given loads: PEM kind, password, type and size fit."""
    message = case.context.problems.get("key")
    if message is None:
        return None
    return Problem(
        message, "Give the RSA private key (2048 bits or more) the client signs with."
    )


@rule("key.not_in_jwks", "key", "error", needs=("key", "jwks"))
def _key_not_in_jwks(case: Case) -> Problem | None:
    """The public half of the private key given is in the registered JWKS."""
    key, jwks = case.context.key, case.context.jwks
    if key is None or jwks is None:
        return None
    public = key.public_jwk()
    if any(k.jwk.get("n") == public["n"] for k in jwks.keys):
        return None
    return Problem(
        f'The public half of the private key given (thumbprint "{key.kid}") is '
        "not in the registered JWKS: the provider cannot verify what it signs.",
        "Add this key's public JWK to the JWKS at the registered jwks_uri.",
    )


# iss and sub (RFC 7523 section 3, reference sections 4.2 and 9.1)


@rule("iss.missing", "iss", "error", needs=("claims",))
def _iss_missing(case: Case) -> Problem | None:
    """iss is present and a string."""
    if _string_claim(case, "iss"):
        return None
    return Problem(
        "iss is missing, empty or not a string.",
        "Set iss to the client_id (CIS2's, or the API key for the API Platform).",
    )


@rule("sub.missing", "sub", "error", needs=("claims",))
def _sub_missing(case: Case) -> Problem | None:
    """sub is present and a string."""
    if _string_claim(case, "sub"):
        return None
    return Problem(
        "sub is missing, empty or not a string.",
        "Set sub to the same value as iss, the client_id.",
    )


@rule("sub.equals_iss", "sub", "error", needs=("claims",))
def _sub_equals_iss(case: Case) -> Problem | None:
    """iss and sub are equal: both are the client (RFC 7523 section 3)."""
    iss, sub = _string_claim(case, "iss"), _string_claim(case, "sub")
    if not iss or not sub or iss == sub:
        return None
    return Problem(
        f'sub "{sub}" differs from iss "{iss}": a client assertion names the '
        "client in both.",
        "Set iss and sub to the same client_id.",
    )


@rule(
    "iss.api_platform_key", "iss", "error", needs=("claims",), kinds=CIS2, group="iss"
)
def _iss_api_platform_key(case: Case) -> Problem | None:
    """iss is not an API Platform application key (section 9.1)."""
    iss = _string_claim(case, "iss") or ""
    if not API_KEY_SHAPE.match(iss):
        return None
    return Problem(
        "iss is 32 letters and digits, the shape of an NHS API Platform "
        "application key, not a CIS2 client_id. They are two registrations: "
        "the API key names your app to the API Platform's token URL, the "
        "client_id (like 123456789012.apps.supplier) names it to CIS2, and "
        "CIS2 knows only its own.",
        "Set iss and sub to your CIS2 client_id; keep the API key for the "
        "API Platform's token-exchange assertion.",
    )


@rule(
    "iss.cis2_client_id",
    "iss",
    "error",
    needs=("claims",),
    kinds=API_PLATFORM,
    group="iss",
)
def _iss_cis2_client_id(case: Case) -> Problem | None:
    """An API Platform assertion's iss is the API key, not the CIS2 client_id."""
    iss = _string_claim(case, "iss") or ""
    if not CIS2_CLIENT_ID_SHAPE.match(iss):
        return None
    return Problem(
        f'iss "{iss}" is shaped like a CIS2 client_id, but this assertion is for '
        "the API Platform, which knows your app by its API key.",
        "Set iss and sub to the API key of the app on the developer portal.",
    )


@rule("iss.client_id", "iss", "error", needs=("claims", "client_id"), group="iss")
def _iss_client_id(case: Case) -> Problem | None:
    """iss is the client_id registered."""
    iss = _string_claim(case, "iss")
    if not iss or iss == case.client_id:
        return None
    hint = " (it differs only in spaces)" if iss.strip() == case.client_id else ""
    return Problem(
        f'iss "{iss}" is not the client_id "{case.client_id}"{hint}.',
        "Set iss and sub to the client_id, byte for byte.",
    )


# aud (RFC 7523 section 3, reference sections 1.1 and 4.2): alternatives


@rule("aud.missing", "aud", "error", needs=("claims",), group="aud")
def _aud_missing(case: Case) -> Problem | None:
    """aud is present and not empty."""
    aud = _claim(case, "aud")
    if aud not in (_MISSING, None, "", []):
        return None
    target = case.expected_aud or "the token endpoint"
    return Problem("aud is missing or empty.", f"Set aud to {target}, byte for byte.")


@rule("aud.array", "aud", "error", needs=("claims",), group="aud")
def _aud_array(case: Case) -> Problem | None:
    """aud is a single string, not an array."""
    aud = _claim(case, "aud")
    if not isinstance(aud, list):
        return None
    return Problem(
        f"aud is an array of {len(aud)}: CIS2 compares aud with its token "
        "endpoint as one string.",
        f"Set aud to the string {case.expected_aud or 'of the token endpoint'}.",
    )


@rule("aud.not_string", "aud", "error", needs=("claims",), group="aud")
def _aud_not_string(case: Case) -> Problem | None:
    """aud is a JSON string."""
    if isinstance(_claim(case, "aud"), str):
        return None
    return Problem(
        "aud is not a string.",
        f"Set aud to the string {case.expected_aud or 'of the token endpoint'}.",
    )


@rule(
    "aud.api_platform_url", "aud", "error", needs=("claims",), kinds=CIS2, group="aud"
)
def _aud_api_platform_url(case: Case) -> Problem | None:
    """A CIS2 assertion's aud is not the API Platform's token URL."""
    aud = _claim(case, "aud")
    if not is_api_platform_url(aud):
        return None
    return Problem(
        f"aud is the API Platform's token URL ({aud}), but this assertion goes "
        "to CIS2, whose token endpoint must be the aud.",
        f"Set aud to {case.expected_aud or 'the CIS2 token_endpoint'}; the "
        "API Platform's URL belongs in its own token-exchange assertion.",
    )


@rule(
    "aud.cis2_endpoint",
    "aud",
    "error",
    needs=("claims",),
    kinds=API_PLATFORM,
    group="aud",
)
def _aud_cis2_endpoint(case: Case) -> Problem | None:
    """An API Platform assertion's aud is its token URL, not CIS2's."""
    aud = _claim(case, "aud")
    host = _host(aud)
    if not host.endswith("spineservices.nhs.uk"):
        return None
    return Problem(
        f"aud is a CIS2 URL ({aud}), but this assertion goes to the API Platform.",
        f"Set aud to {case.expected_aud or 'the API Platform token URL'}.",
    )


@rule("aud.retired_host", "aud", "error", needs=("claims",), group="aud")
def _aud_retired_host(case: Case) -> Problem | None:
    """aud is not on a host CIS2 retired on 21 April 2021 (section 1)."""
    host = _host(_claim(case, "aud"))
    if host not in RETIRED_HOSTS:
        return None
    return Problem(
        f"aud is on {host}, a CIS2 host retired in April 2021.",
        "Take token_endpoint from the current environment's discovery document.",
    )


@rule("aud.http", "aud", "error", needs=("claims",), group="aud")
def _aud_http(case: Case) -> Problem | None:
    """aud uses https when the token endpoint does."""
    aud = _claim(case, "aud")
    if not isinstance(aud, str) or not aud.startswith("http://"):
        return None
    secure = "https://" + aud.removeprefix("http://")
    if not any(_near(secure, target) for target in _targets(case)):
        return None
    return Problem(
        "aud starts with http://; the token endpoint is https://.",
        f"Set aud to {_best_target(case, secure)}, byte for byte.",
    )


@rule("aud.missing_port", "aud", "error", needs=("claims",), group="aud")
def _aud_missing_port(case: Case) -> Problem | None:
    """aud keeps the ':443' CIS2 writes out (reference section 1.1)."""
    aud = _claim(case, "aud")
    if not isinstance(aud, str) or not aud.startswith("https://"):
        return None
    ported = _with_port(aud)
    if ported == aud or ported not in _targets(case):
        return None
    return Problem(
        "aud lacks the ':443' that CIS2 writes in its token_endpoint; CIS2 "
        "compares byte for byte, so the default port must be there.",
        f"Set aud to {ported}; if a URL library drops the port, pass the "
        "string through untouched.",
    )


@rule("aud.trailing_slash", "aud", "error", needs=("claims",), group="aud")
def _aud_trailing_slash(case: Case) -> Problem | None:
    """aud has no trailing slash the token endpoint lacks."""
    aud = _claim(case, "aud")
    if not isinstance(aud, str) or not aud.endswith("/"):
        return None
    trimmed = aud.rstrip("/")
    if trimmed not in _targets(case) and _with_port(trimmed) not in _targets(case):
        return None
    return Problem(
        "aud ends in '/', and the token endpoint does not.",
        f"Set aud to {_best_target(case, trimmed)}, byte for byte.",
    )


@rule("aud.issuer", "aud", "error", needs=("claims",), kinds=CIS2, group="aud")
def _aud_issuer(case: Case) -> Problem | None:
    """aud is the token endpoint, not the issuer."""
    aud = _claim(case, "aud")
    if not isinstance(aud, str):
        return None
    issuers = {target.removesuffix("/access_token") for target in _targets(case)}
    if _with_port(aud.rstrip("/")) not in issuers:
        return None
    return Problem(
        "aud is the issuer; a client assertion's aud is the token endpoint "
        "(the issuer followed by /access_token).",
        f"Set aud to {_best_target(case, aud.rstrip('/') + '/access_token')}.",
    )


@rule(
    "aud.wrong_environment",
    "aud",
    "error",
    needs=("claims", "expected_aud"),
    kinds=CIS2,
    group="aud",
)
def _aud_wrong_environment(case: Case) -> Problem | None:
    """aud is the token endpoint of the environment the client is checked for."""
    aud = _claim(case, "aud")
    named, expected = _environment_of(aud), _environment_of(case.expected_aud)
    if named is None or expected is None or named == expected:
        return None
    return Problem(
        f"aud is the token endpoint of CIS2 {named}, but the assertion is "
        f"checked for CIS2 {expected}.",
        "Use the token endpoint of the environment the client is registered "
        "in; registrations do not carry across environments.",
    )


@rule(
    "aud.wrong_realm",
    "aud",
    "error",
    needs=("claims", "expected_aud"),
    kinds=CIS2,
    group="aud",
)
def _aud_wrong_realm(case: Case) -> Problem | None:
    """aud names the right host and the right realm."""
    aud = _claim(case, "aud")
    expected = case.expected_aud or ""
    if not isinstance(aud, str) or aud == expected or "/realms/" not in aud:
        return None
    if urlsplit(aud).netloc != urlsplit(expected).netloc:
        return None
    return Problem(
        "aud is on the right host but names another realm or path than the "
        f"token endpoint {expected}.",
        f"Set aud to {expected}: the realm is part of the endpoint.",
    )


@rule(
    "aud.token_endpoint", "aud", "error", needs=("claims", "expected_aud"), group="aud"
)
def _aud_token_endpoint(case: Case) -> Problem | None:
    """aud is the token endpoint, byte for byte."""
    aud = _claim(case, "aud")
    if aud == case.expected_aud:
        return None
    return Problem(
        f'aud "{aud}" is not the token endpoint {case.expected_aud}.',
        f"Set aud to {case.expected_aud}, byte for byte.",
    )


# exp, iat and nbf (RFC 7519 section 4.1, RFC 7523 section 3)


@rule("exp.missing", "exp", "error", needs=("claims",))
def _exp_missing(case: Case) -> Problem | None:
    """exp is present: every assertion expires."""
    if _claim(case, "exp") is not _MISSING:
        return None
    return Problem(
        "exp is missing.", "Set exp to iat + 300 (a whole number of seconds)."
    )


@rule("exp.type", "exp", "error", needs=("claims",))
def _exp_type(case: Case) -> Problem | None:
    """exp is a JSON integer (not a string, a float or a boolean)."""
    return _not_an_integer(case, "exp")


@rule("iat.type", "iat", "error", needs=("claims",))
def _iat_type(case: Case) -> Problem | None:
    """iat is a JSON integer (not a string, a float or a boolean)."""
    return _not_an_integer(case, "iat")


@rule("nbf.type", "nbf", "error", needs=("claims",))
def _nbf_type(case: Case) -> Problem | None:
    """nbf, when sent, is a JSON integer."""
    return _not_an_integer(case, "nbf")


@rule("exp.milliseconds", "exp", "error", needs=("claims",))
def _exp_milliseconds(case: Case) -> Problem | None:
    """exp counts seconds, not milliseconds."""
    return _in_milliseconds(case, "exp")


@rule("iat.milliseconds", "iat", "error", needs=("claims",))
def _iat_milliseconds(case: Case) -> Problem | None:
    """iat counts seconds, not milliseconds."""
    return _in_milliseconds(case, "iat")


@rule("nbf.milliseconds", "nbf", "error", needs=("claims",))
def _nbf_milliseconds(case: Case) -> Problem | None:
    """nbf counts seconds, not milliseconds."""
    return _in_milliseconds(case, "nbf")


@rule("iat.missing", "iat", "warning", needs=("claims",))
def _iat_missing(case: Case) -> Problem | None:
    """iat is present, as every NHS client sends (its need is unconfirmed)."""
    if _claim(case, "iat") is not _MISSING:
        return None
    return Problem(
        "iat is missing: RFC 7523 allows that, but NHS clients send it and the "
        "doctor cannot measure clock skew without it.",
        "Set iat to the time of signing, in whole seconds.",
    )


@rule("exp.before_iat", "exp", "error", needs=("claims",))
def _exp_before_iat(case: Case) -> Problem | None:
    """exp comes after iat."""
    exp, iat = _date_claim(case, "exp"), _date_claim(case, "iat")
    if exp is None or iat is None or exp > iat:
        return None
    return Problem(
        f"exp ({exp}) is not after iat ({iat}): the assertion was born expired.",
        "Set exp to iat + 300.",
    )


@rule("exp.lifetime", "exp", "error", needs=("claims",))
def _exp_lifetime(case: Case) -> Problem | None:
    """exp is at most 300 s after iat (reference section 4.2)."""
    exp, iat = _date_claim(case, "exp"), _date_claim(case, "iat")
    if exp is None or iat is None or exp - iat <= MAX_ASSERTION_LIFETIME:
        return None
    return Problem(
        f"exp is {exp - iat} s after iat ({_duration(exp - iat)}): NHS clients "
        "use 300 s at most and the API Platform refuses more than 5 minutes.",
        "Set exp to iat + 300 or less, and sign a fresh assertion per request.",
    )


@rule("iat.clock_skew", "iat", "error", needs=("claims",))
def _iat_clock_skew(case: Case) -> Problem | None:
    """iat is not in the future: a signer's clock ahead of the provider's."""
    iat = _date_claim(case, "iat")
    if iat is None or iat <= case.now + CLOCK_LEEWAY:
        return None
    offset = round(iat - case.now)
    return Problem(
        f"iat is {offset} s ({_duration(offset)}) after the time checked: "
        f"clock skew, the clock of the machine that signed it is about "
        f"{_duration(offset)} fast.",
        "Synchronise that machine's clock (NTP); to check a captured assertion "
        "as of when it was sent, give that time (now=..., --at).",
    )


@rule("exp.clock_skew", "exp", "error", needs=("claims",), group="expiry")
def _exp_clock_skew(case: Case) -> Problem | None:
    """exp has not passed; passed by seconds is clock skew, and said so."""
    exp = _date_claim(case, "exp")
    if exp is None or not 0 < case.now - exp <= SKEW_WINDOW:
        return None
    late = round(case.now - exp)
    iat = _date_claim(case, "iat")
    behind = (
        f"about {_duration(round(case.now - iat))}"
        if iat is not None
        else f"at least {_duration(late)}"
    )
    return Problem(
        f"exp passed {late} s before the time checked: clock skew, if the "
        f"assertion was sent at once, the signer's clock is {behind} behind.",
        "Synchronise the signing machine's clock (NTP) and sign each "
        "assertion just before sending it.",
    )


@rule("exp.expired", "exp", "error", needs=("claims",), group="expiry")
def _exp_expired(case: Case) -> Problem | None:
    """exp is in the future at the time checked."""
    exp = _date_claim(case, "exp")
    if exp is None or exp >= case.now:
        return None
    ago = round(case.now - exp)
    return Problem(
        f"exp passed {_duration(ago)} before the time checked: the assertion "
        "has expired.",
        "Sign a fresh assertion for every request; to check a captured one as "
        "of when it was sent, give that time (now=..., --at).",
    )


@rule("exp.too_far_ahead", "exp", "error", needs=("claims",))
def _exp_too_far_ahead(case: Case) -> Problem | None:
    """exp is at most about 5 minutes ahead of now (section 9.2, 10 #2)."""
    exp, iat = _date_claim(case, "exp"), _date_claim(case, "iat")
    if exp is None or exp - case.now <= MAX_EXP_AHEAD:
        return None
    if iat is not None and iat > case.now + CLOCK_LEEWAY:
        return None  # Clock skew, reported by iat.clock_skew.
    ahead = round(exp - case.now)
    return Problem(
        f"exp is {_duration(ahead)} after the time checked: providers refuse "
        "an assertion valid for more than 5 minutes.",
        "Set exp to the signing time + 300 s or less.",
    )


@rule("nbf.future", "nbf", "error", needs=("claims",))
def _nbf_future(case: Case) -> Problem | None:
    """nbf, when sent, is not in the future."""
    nbf = _date_claim(case, "nbf")
    if nbf is None or nbf <= case.now + CLOCK_LEEWAY:
        return None
    return Problem(
        f"nbf is {_duration(round(nbf - case.now))} after the time checked: "
        "the assertion is not valid yet (clock skew, or nbf set ahead).",
        "Drop nbf, or set it to the signing time; synchronise the clock (NTP).",
    )


# jti (RFC 7523 section 3, reference section 4.2)


@rule("jti.missing", "jti", "error", needs=("claims",))
def _jti_missing(case: Case) -> Problem | None:
    """jti is present and not empty."""
    if _claim(case, "jti") not in (_MISSING, None, ""):
        return None
    return Problem(
        "jti is missing or empty: the provider uses it to refuse replays.",
        "Set jti to a fresh random UUID for every assertion.",
    )


@rule("jti.type", "jti", "error", needs=("claims",))
def _jti_type(case: Case) -> Problem | None:
    """jti is a string."""
    jti = _claim(case, "jti")
    if jti in (_MISSING, None, "") or isinstance(jti, str):
        return None
    return Problem(
        f"jti is {_describe_non_integer(jti)}, not a string.",
        'Set jti to a fresh UUID as a string, e.g. "3f2b...".',
    )


@rule("jti.reused", "jti", "error", needs=("claims",))
def _jti_reused(case: Case) -> Problem | None:
    """jti is unique among the assertions checked together."""
    jti = _string_claim(case, "jti")
    count = case.jti_counts.get(jti, 0) if jti else 0
    if count < 2:
        return None
    return Problem(
        f'jti "{jti}" is used by {count} of the assertions checked: a provider '
        "refuses the second use.",
        "Make a new jti (a random UUID) for every assertion; never cache one.",
    )


# Helpers


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Final[Any] = _Missing()


def _claim(case: Case, name: str) -> Any:
    return (case.claims or {}).get(name, _MISSING)


def _string_claim(case: Case, name: str) -> str | None:
    value = _claim(case, name)
    return value if isinstance(value, str) else None


def _numeric_date(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _date_claim(case: Case, name: str) -> int | None:
    """The claim as an integer in seconds, or None when it is not one."""
    value = _numeric_date(_claim(case, name))
    if value is None or value >= MILLISECONDS_FLOOR:
        return None
    return value


def _not_an_integer(case: Case, name: str) -> Problem | None:
    value = _claim(case, name)
    if value is _MISSING or _numeric_date(value) is not None:
        return None
    return Problem(
        f"{name} is {_describe_non_integer(value)}: a NumericDate is a JSON "
        "integer, seconds since 1970.",
        f"Write {name} as a bare integer such as 1764763200 (no quotes, no decimals).",
    )


def _in_milliseconds(case: Case, name: str) -> Problem | None:
    value = _numeric_date(_claim(case, name))
    if value is None or value < MILLISECONDS_FLOOR:
        return None
    return Problem(
        f"{name} is {value}, a time in milliseconds: NumericDates count seconds.",
        f"Divide by 1000: {name} = {value // 1000}.",
    )


def _describe_non_integer(value: Any) -> str:
    if isinstance(value, str):
        return f'the string "{value}"'
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, float):
        return f"the fraction {value}"
    if value is None:
        return "null"
    return f"a JSON {type(value).__name__.replace('dict', 'object')}"


def _duration(seconds: int | float) -> str:
    seconds = abs(round(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def _form(case: Case, name: str) -> str | None:
    return case.form_or_empty.get(name)


def _host(url: Any) -> str:
    if not isinstance(url, str):
        return ""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _with_port(url: str) -> str:
    """url with an explicit :443 when it is https and names no port."""
    try:
        parts = urlsplit(url)
        if parts.scheme != "https" or parts.port is not None or not parts.netloc:
            return url
    except ValueError:
        return url
    return urlunsplit(parts._replace(netloc=f"{parts.netloc}:443"))


def _targets(case: Case) -> list[str]:
    """What aud should be: the expected endpoint, else every known one."""
    if case.expected_aud is not None:
        return [case.expected_aud]
    if case.kind == "api_platform":
        return list(API_PLATFORM_TOKEN_URLS.values())
    return [env.token_endpoint for env in environments.ENVIRONMENTS.values()]


def _near(candidate: str, target: str) -> bool:
    """Whether candidate is target up to a missing port or a trailing slash."""
    trimmed = candidate.rstrip("/")
    return target in (candidate, trimmed, _with_port(trimmed))


def _best_target(case: Case, candidate: str) -> str:
    return next(
        (t for t in _targets(case) if _near(candidate, t)),
        case.expected_aud or candidate,
    )


def _environment_of(aud: Any) -> str | None:
    for env in environments.ENVIRONMENTS.values():
        if aud == env.token_endpoint:
            return env.name.upper()
    return None


def _der_private_layout(body: bytes) -> str | None:
    """PKCS#8 or PKCS#1, read from the first fields of a private key's DER.

    Both start with a SEQUENCE and an INTEGER version; PKCS#8 goes on with
    the AlgorithmIdentifier SEQUENCE, PKCS#1 with the modulus INTEGER.
    """
    if len(body) < 8 or body[0] != 0x30:
        return None
    index = 2 + (body[1] & 0x7F if body[1] & 0x80 else 0)
    if index + 2 >= len(body) or body[index] != 0x02:
        return None
    index += 2 + body[index + 1]
    if index >= len(body):
        return None
    return {0x30: "PKCS#8", 0x02: "PKCS#1"}.get(body[index])


def _has_private_members(entry: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    return any(member in entry for member in _PRIVATE_JWK_MEMBERS)


def _rule_failure(failed: Rule, exc: Exception) -> Finding:
    return Finding(
        "doctor.rule_failed",
        failed.field,
        "warning",
        f"The rule {failed.id} could not run ({type(exc).__name__}), so it "
        "was skipped.",
        "Report this to the cis2 maintainers with the decoded claims (never the key).",
    )
