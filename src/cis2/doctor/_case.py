"""The case the rules look at: the decoded assertion and everything known about it.

``resolve_context`` turns the caller's options (client_id, environment or
token endpoint, registered alg, JWKS, private key, time) into checked
values once, so ``diagnose_many`` pays for a key file or a JWKS only once.
``build_case`` then decodes one submission leniently: a token with
whitespace or padding in it is still decoded, so that the structure rules
can name those mistakes while the claim rules go on to find the rest.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Final, TypedDict, Unpack
from urllib.parse import urlsplit

from cis2 import environments
from cis2._jws import ALGORITHMS, verify_signature
from cis2.environments import API_PLATFORM_TOKEN_URLS, Environment
from cis2.errors import Cis2Error, KeyLoadError, TokenValidationError
from cis2.keys import (
    SIGNING_ALGORITHMS,
    KeyInfo,
    KeySet,
    SigningKey,
    VerificationKey,
    _read_source,
    load_signing_key,
)

from ._input import Submission
from ._report import Kind

__all__ = [
    "API_KEY_SHAPE",
    "CIS2_CLIENT_ID_SHAPE",
    "Case",
    "Context",
    "Options",
    "build_case",
    "canonical_cis2_endpoint",
    "canonical_issuer",
    "is_api_platform_url",
    "jwks_document",
    "resolve_context",
]

KeyArgument = SigningKey | str | bytes | os.PathLike[str] | None
JwksArgument = KeySet | Mapping[str, Any] | str | None

TOKEN_EXCHANGE: Final = "urn:ietf:params:oauth:grant-type:token-exchange"
_API_PLATFORM_HOST: Final = re.compile(r"^([a-z0-9-]+\.)?api\.service\.nhs\.uk$")
CIS2_CLIENT_ID_SHAPE: Final = re.compile(r"^\d+\.apps\.[a-z]+$")
API_KEY_SHAPE: Final = re.compile(r"^[A-Za-z0-9]{32}$")
_PEM_BLOCK: Final = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL
)


class Options(TypedDict, total=False):
    """The context diagnose accepts; each option makes more rules possible.

    client_id: the client's id (CIS2's, or the API key for the API
    Platform). token_endpoint, env or issuer: where the assertion goes.
    alg: the registered signing algorithm. jwks: the registered JWKS (a
    KeySet, a mapping, a path or JSON text; never fetched here). key and
    key_password: the private key (a SigningKey, a path, PEM or JWK text).
    now: the time to check at (a captured assertion: when it was sent).
    api_platform: True or False forces the kind; None lets the doctor tell.
    """

    client_id: str | None
    token_endpoint: str | None
    env: str | None
    issuer: str | None
    alg: str | None
    jwks: JwksArgument
    key: KeyArgument
    key_password: str | bytes | None
    now: float | None
    api_platform: bool | None


@dataclass(frozen=True, slots=True)
class Context:
    """The caller's options, checked; ``problems`` names those that failed."""

    client_id: str | None
    token_endpoint: str | None
    env: Environment | None
    issuer: str | None
    alg: str | None
    jwks: KeySet | None
    jwks_document: Mapping[str, Any] | None
    key: SigningKey | None
    key_info: KeyInfo | None
    key_pem: tuple[str, bytes] | None
    now: float
    api_platform: bool | None
    problems: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Case:
    """One assertion with its context: everything a rule may look at.

    ``raw`` is the assertion as given, ``header`` and ``claims`` are decoded
    leniently (None when they cannot be), ``expected_aud`` is the token
    endpoint the assertion must name, ``jti_counts`` how often each jti
    occurs among the assertions diagnosed together.
    """

    context: Context
    kind: Kind
    raw: str | None
    parts: list[str] | None
    header: dict[str, Any] | None
    claims: dict[str, Any] | None
    signing_input: bytes | None
    signature: bytes | None
    form: dict[str, str] | None
    request_url: str | None
    input_problem: str | None
    expected_aud: str | None
    jti_counts: Mapping[str, int]

    @property
    def now(self) -> float:
        return self.context.now

    @property
    def client_id(self) -> str | None:
        return self.context.client_id

    @property
    def form_or_empty(self) -> Mapping[str, str]:
        return self.form if self.form is not None else {}

    @property
    def header_alg(self) -> str | None:
        alg = (self.header or {}).get("alg")
        return alg if isinstance(alg, str) else None

    @property
    def kid(self) -> str | None:
        kid = (self.header or {}).get("kid")
        return kid if isinstance(kid, str) else None

    @cached_property
    def kid_key(self) -> VerificationKey | None:
        """The registered JWKS key the header's kid names."""
        jwks = self.context.jwks
        if jwks is None or self.kid is None:
            return None
        return jwks.find(self.kid)

    @cached_property
    def jwks_verifier(self) -> VerificationKey | None:
        """The first key in the registered JWKS that verifies the signature."""
        jwks = self.context.jwks
        if jwks is None:
            return None
        return next((k for k in jwks.keys if self.verifies_with(k)), None)

    @cached_property
    def key_verifies(self) -> bool | None:
        """Whether the public half of the private key given verifies it."""
        key = self.context.key
        if key is None:
            return None
        return self.verifies_with(key.verification_key())

    def verifies_with(self, key: VerificationKey) -> bool:
        """Whether key verifies the signature under the header's alg."""
        alg = self.header_alg
        if alg not in ALGORITHMS or self.signing_input is None:
            return False
        if self.signature is None or ALGORITHMS[alg] != key.kty:
            return False
        try:
            verify_signature(alg, key.key, self.signing_input, self.signature)
        except TokenValidationError:
            return False
        return True


def resolve_context(**options: Unpack[Options]) -> Context:
    """Check the caller's options once; a bad one becomes a problem, not a raise."""
    problems: dict[str, str] = {}
    environment = _resolve_env(options.get("env"), problems)
    registered = _resolve_alg(options.get("alg"), problems)
    keyset, document = _resolve_jwks(options.get("jwks"), problems)
    signing, info, pem = _resolve_key(
        options.get("key"), options.get("key_password"), problems
    )
    now = options.get("now")
    return Context(
        client_id=options.get("client_id"),
        token_endpoint=options.get("token_endpoint"),
        env=environment,
        issuer=options.get("issuer"),
        alg=registered,
        jwks=keyset,
        jwks_document=document,
        key=signing,
        key_info=info,
        key_pem=pem,
        now=time.time() if now is None else float(now),
        api_platform=options.get("api_platform"),
        problems=problems,
    )


def build_case(
    submission: Submission, context: Context, jti_counts: Mapping[str, int]
) -> Case:
    """Decode one submission leniently and pair it with its context."""
    raw = submission.assertion
    parts = _lenient_parts(raw)
    header = _decode_object(parts[0]) if parts else None
    claims = _decode_object(parts[1]) if parts else None
    signing_input = f"{parts[0]}.{parts[1]}".encode() if parts else None
    signature = _decode_bytes(parts[2]) if parts else None
    url = context.token_endpoint or submission.url
    kind = _kind(context, url, submission.form, claims)
    return Case(
        context=context,
        kind=kind,
        raw=raw,
        parts=parts,
        header=header,
        claims=claims,
        signing_input=signing_input,
        signature=signature,
        form=submission.form,
        request_url=submission.url,
        input_problem=submission.problem,
        expected_aud=_expected_aud(context, kind, submission.url),
        jti_counts=jti_counts,
    )


def is_api_platform_url(url: object) -> bool:
    """Whether url is (or is shaped like) the NHS API Platform's token URL."""
    if not isinstance(url, str):
        return False
    if url in API_PLATFORM_TOKEN_URLS.values():
        return True
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return bool(_API_PLATFORM_HOST.match(host)) and "/oauth2" in parts.path


def canonical_cis2_endpoint(url: str) -> str | None:
    """The published token endpoint url is a portless form of, if any."""
    for known in environments.ENVIRONMENTS.values():
        if known.token_endpoint.replace(":443", "", 1) == url:
            return known.token_endpoint
    return None


# Helpers: context


def _resolve_env(name: str | None, problems: dict[str, str]) -> Environment | None:
    if name is None:
        return None
    try:
        return environments.by_name(name)
    except Cis2Error as exc:
        problems["env"] = exc.message
        return None


def _resolve_alg(alg: str | None, problems: dict[str, str]) -> str | None:
    if alg is None:
        return None
    if alg.upper() in SIGNING_ALGORITHMS and alg != alg.upper():
        problems["alg"] = (
            f"The registered alg {alg!r} is not a JOSE name: algorithm names are "
            f"case-sensitive, so write {alg.upper()!r}."
        )
        return alg.upper()
    if alg not in SIGNING_ALGORITHMS:
        problems["alg"] = (
            f"The registered alg {alg!r} is not one CIS2 offers for "
            "private_key_jwt: give RS256 or RS512, as in the registration."
        )
        return None
    return alg


def _resolve_jwks(
    jwks: JwksArgument, problems: dict[str, str]
) -> tuple[KeySet | None, Mapping[str, Any] | None]:
    if jwks is None:
        return None, None
    if isinstance(jwks, KeySet):
        return jwks, None
    if isinstance(jwks, str) and jwks.startswith(("https://", "http://")):
        problems["jwks"] = (
            "The JWKS was given as a URL, and diagnose never goes online: "
            "fetch it first with cis2.doctor.load_jwks(url) and pass the result."
        )
        return None, None
    try:
        document = jwks_document(jwks)
        return KeySet.from_json(document), document
    except Cis2Error as exc:
        problems["jwks"] = exc.message
        return None, None


def jwks_document(jwks: Mapping[str, Any] | str) -> Mapping[str, Any]:
    if isinstance(jwks, Mapping):
        return jwks
    text = jwks if jwks.lstrip().startswith("{") else _read_text(jwks)
    try:
        document = json.loads(text)
    except ValueError:
        raise KeyLoadError(
            "The JWKS is not JSON: give the JSON document published at the "
            'registered jwks_uri ({"keys": [...]}).',
            field="jwks",
        ) from None
    if not isinstance(document, dict):
        raise KeyLoadError(
            'The JWKS is JSON but not an object: it must be {"keys": [...]}.',
            field="jwks",
        )
    return document


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise KeyLoadError(
            f"Cannot read the JWKS file {path}: give the path of the JSON "
            "document published at the registered jwks_uri.",
            field="jwks",
        ) from None


def _resolve_key(
    key: KeyArgument, password: str | bytes | None, problems: dict[str, str]
) -> tuple[SigningKey | None, KeyInfo | None, tuple[str, bytes] | None]:
    if key is None:
        return None, None, None
    if isinstance(key, SigningKey):
        return key, _key_info(key), None
    try:
        data = _read_source(key)
    except Cis2Error as exc:
        problems["key"] = exc.message
        return None, None, None
    pem = _first_pem(data)
    try:
        signing = load_signing_key(data, password=password)
    except Cis2Error as exc:
        problems["key"] = exc.message
        return None, None, pem
    return signing, _key_info(signing), pem


def _first_pem(data: bytes) -> tuple[str, bytes] | None:
    """The first PEM block's marker and its decoded body, when there is one."""
    match = _PEM_BLOCK.search(data)
    if match is None:
        return None
    body = b"".join(
        line.strip()
        for line in match.group(2).splitlines()
        if line.strip() and b":" not in line
    )
    try:
        return match.group(1).decode("ascii"), base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return match.group(1).decode("ascii"), b""


def _key_info(key: SigningKey) -> KeyInfo:
    return KeyInfo("private", "RSA", key.size, key.format, key.encrypted, key.kid)


# Helpers: the assertion


def _lenient_parts(raw: str | None) -> list[str] | None:
    """The three parts with whitespace and padding removed, or None."""
    if not raw:
        return None
    cleaned = "".join(raw.split())
    parts = [part.rstrip("=") for part in cleaned.split(".")]
    if len(parts) != 3:
        return None
    return parts


def _decode_bytes(part: str) -> bytes | None:
    # Standard base64's "+" and "/" are mapped so that a token encoded with
    # the wrong alphabet still decodes and the structure rules can say so.
    text = part.replace("+", "-").replace("/", "_")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def _decode_object(part: str) -> dict[str, Any] | None:
    raw = _decode_bytes(part)
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _kind(
    context: Context,
    url: str | None,
    form: Mapping[str, str] | None,
    claims: Mapping[str, Any] | None,
) -> Kind:
    """CIS2 or API Platform: the flag, else the context, else the aud."""
    if context.api_platform is not None:
        return "api_platform" if context.api_platform else "cis2"
    if url is not None:
        return "api_platform" if is_api_platform_url(url) else "cis2"
    grant_type = (form or {}).get("grant_type")
    if grant_type is not None:
        return "api_platform" if grant_type == TOKEN_EXCHANGE else "cis2"
    if context.issuer is not None:
        return "cis2"
    if context.client_id is not None:
        # Each registration has its own shape of id (reference 9.1).
        if CIS2_CLIENT_ID_SHAPE.match(context.client_id):
            return "cis2"
        if API_KEY_SHAPE.match(context.client_id):
            return "api_platform"
    aud = (claims or {}).get("aud")
    return "api_platform" if is_api_platform_url(aud) else "cis2"


def _expected_aud(context: Context, kind: Kind, request_url: str | None) -> str | None:
    """The exact aud the provider compares with, when the context tells it."""
    given = context.token_endpoint or request_url
    if given is not None:
        # A portless form of a published endpoint is what the user has in
        # mind, but CIS2 compares with the published string (reference 1.1).
        return canonical_cis2_endpoint(given) or given
    if kind == "api_platform":
        name = context.env.name if context.env is not None else None
        return API_PLATFORM_TOKEN_URLS.get(name) if name is not None else None
    if context.env is not None:
        return context.env.token_endpoint
    if context.issuer is not None:
        issuer = canonical_issuer(context.issuer)
        return f"{issuer}/access_token"
    return None


def canonical_issuer(issuer: str) -> str:
    """The published issuer issuer is a portless form of, else issuer."""
    for known in environments.ENVIRONMENTS.values():
        if known.issuer.replace(":443", "", 1) == issuer.rstrip("/"):
            return known.issuer
    return issuer.rstrip("/")
