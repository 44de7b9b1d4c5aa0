"""One test per rule: a real signed assertion that breaks exactly that rule.

Each case builds its input with the kit (signed with cryptography, outside
cis2) and the context to check it in. The doctor must report the rule, and
nothing else that is an error or a warning, except the findings listed in
``also`` that follow from the same mistake by their nature (a kid missing
from the JWKS means the signature verifies under another kid, or none).
A meta test keeps the table and ``RULES`` the same set.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from cis2.doctor import RULES, Report, diagnose, diagnose_many
from cis2.environments import DEP, INT, OIDC_REALM

from .kit import (
    API_KEY,
    API_URL,
    CLIENT_ID,
    DROP,
    ENDPOINT,
    NOW,
    Kit,
    ec_key,
    good_claims,
)


@dataclass
class Case:
    given: str | list[str]
    context: dict[str, Any]
    also: tuple[str, ...] = field(default=())


Builder = Callable[[Kit, Path], Case]
CASES: dict[str, Builder] = {}


def case(rule_id: str) -> Callable[[Builder], Builder]:
    def register(build: Builder) -> Builder:
        CASES[rule_id] = build
        return build

    return register


def _parts(token: str) -> list[str]:
    return token.split(".")


# What was given, and the options


@case("input.unreadable")
def _(kit: Kit, tmp: Path) -> Case:
    curl = f"curl {ENDPOINT} -F client_assertion={kit.jwt()} -F grant_type=x"
    return Case(curl, kit.context())


@case("input.empty")
def _(kit: Kit, tmp: Path) -> Case:
    return Case("  \n", kit.context())


@case("context.env")
def _(kit: Kit, tmp: Path) -> Case:
    return Case(kit.jwt(), kit.context(env="production"))


@case("context.alg")
def _(kit: Kit, tmp: Path) -> Case:
    return Case(kit.jwt(), kit.context(alg="rs512"))


@case("context.jwks")
def _(kit: Kit, tmp: Path) -> Case:
    return Case(kit.jwt(), kit.context(jwks="https://rp.example/jwks.json"))


@case("context.token_endpoint_port")
def _(kit: Kit, tmp: Path) -> Case:
    portless = ENDPOINT.replace(":443", "")
    return Case(kit.jwt(), kit.context(env=DROP, token_endpoint=portless))


# Structure


@case("structure.parts")
def _(kit: Kit, tmp: Path) -> Case:
    header, claims, _ = _parts(kit.jwt())
    return Case(f"{header}.{claims}", kit.context())


@case("structure.unsigned")
def _(kit: Kit, tmp: Path) -> Case:
    header, claims, _ = _parts(kit.jwt())
    return Case(f"{header}.{claims}.", kit.context(jwks=DROP, key=DROP))


@case("structure.whitespace")
def _(kit: Kit, tmp: Path) -> Case:
    token = kit.jwt()
    return Case(f"{token[:40]}\n  {token[40:]}", kit.context())


@case("structure.padding")
def _(kit: Kit, tmp: Path) -> Case:
    header, claims, signature = _parts(kit.jwt())
    return Case(f"{header}==.{claims}.{signature}", kit.context())


@case("structure.alphabet")
def _(kit: Kit, tmp: Path) -> Case:
    while True:
        header, claims, signature = _parts(kit.jwt())
        raw = base64.urlsafe_b64decode(signature + "==")
        standard = base64.b64encode(raw).decode().rstrip("=")
        if "+" in standard or "/" in standard:
            return Case(f"{header}.{claims}.{standard}", kit.context())


@case("structure.header")
def _(kit: Kit, tmp: Path) -> Case:
    return Case(kit.jwt(raw_header=b'"RS512"', alg="RS512"), kit.context())


@case("structure.claims")
def _(kit: Kit, tmp: Path) -> Case:
    return Case(kit.jwt(raw_claims=b"[1, 2]"), kit.context())


# The form


@case("form.client_assertion")
def _(kit: Kit, tmp: Path) -> Case:
    return Case(kit.form(client_assertion=DROP), kit.context())


@case("form.client_assertion_type")
def _(kit: Kit, tmp: Path) -> Case:
    return Case(kit.form(client_assertion_type="jwt-bearer"), kit.context())


@case("form.grant_type")
def _(kit: Kit, tmp: Path) -> Case:
    return Case(kit.form(grant_type="password"), kit.context())


@case("form.code")
def _(kit: Kit, tmp: Path) -> Case:
    return Case(kit.form(code=DROP), kit.context())


@case("form.redirect_uri")
def _(kit: Kit, tmp: Path) -> Case:
    return Case(kit.form(redirect_uri=DROP), kit.context())


@case("form.client_id_missing")
def _(kit: Kit, tmp: Path) -> Case:
    return Case(kit.form(client_id=DROP), kit.context())


@case("form.client_id_mismatch")
def _(kit: Kit, tmp: Path) -> Case:
    return Case(kit.form(client_id="999999999999.apps.national"), kit.context())


@case("form.client_secret")
def _(kit: Kit, tmp: Path) -> Case:
    return Case(kit.form(client_secret="s3cret-value"), kit.context())


def _api_form(kit: Kit, **changes: Any) -> str:
    fields = {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        "subject_token": "eyJhbGciOi.id-token.placeholder",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:"
        "jwt-bearer",
        "client_assertion": kit.api_jwt(),
        **changes,
    }
    return "&".join(f"{k}={v}" for k, v in fields.items() if v is not DROP)


@case("form.subject_token_type")
def _(kit: Kit, tmp: Path) -> Case:
    return Case(_api_form(kit, subject_token_type=DROP), kit.api_context())


@case("form.subject_token")
def _(kit: Kit, tmp: Path) -> Case:
    return Case(_api_form(kit, subject_token=DROP), kit.api_context())


# Header


@case("alg.missing")
def _(kit: Kit, tmp: Path) -> Case:
    return Case(kit.jwt({"alg": DROP}, alg="RS512"), kit.context())


@case("alg.none")
def _(kit: Kit, tmp: Path) -> Case:
    return Case(kit.jwt({"alg": "none"}, alg="RS512"), kit.context(alg=DROP))


@case("alg.symmetric")
def _(kit: Kit, tmp: Path) -> Case:
    token = kit.jwt({"alg": "HS256"}, signer=b"shared-secret")
    return Case(token, kit.context(alg=DROP))


@case("alg.unsupported")
def _(kit: Kit, tmp: Path) -> Case:
    token = kit.jwt({"alg": "ES256", "kid": "ec-1"}, signer=ec_key())
    return Case(token, kit.context(alg=DROP, jwks=DROP, key=DROP))


@case("alg.registered")
def _(kit: Kit, tmp: Path) -> Case:
    # The classic: RS256 signed where RS512 was registered.
    token = kit.jwt({"alg": "RS256"})
    return Case(token, kit.context(jwks=kit.jwks(alg=DROP)))


@case("alg.api_platform")
def _(kit: Kit, tmp: Path) -> Case:
    token = kit.jwt({"alg": "RS256"}, base_claims=good_claims(API_KEY, API_URL))
    return Case(token, kit.api_context(jwks=kit.jwks(alg=DROP)))


@case("kid.missing")
def _(kit: Kit, tmp: Path) -> Case:
    return Case(kit.jwt({"kid": DROP}), kit.context())


@case("kid.not_in_jwks")
def _(kit: Kit, tmp: Path) -> Case:
    token = kit.jwt({"kid": "2024-key"})
    return Case(token, kit.context(), also=("signature.wrong_kid",))


@case("kid.key_type")
def _(kit: Kit, tmp: Path) -> Case:
    return Case(kit.jwt(), kit.context(jwks=kit.jwks(alg="RS256")))


@case("typ.jwt")
def _(kit: Kit, tmp: Path) -> Case:
    return Case(kit.jwt({"typ": DROP}), kit.context())


@case("typ.api_platform")
def _(kit: Kit, tmp: Path) -> Case:
    return Case(kit.api_jwt({"typ": "at+jwt"}), kit.api_context())


# Signature and the JWKS


@case("jwks.private_members")
def _(kit: Kit, tmp: Path) -> Case:
    leaked = kit.jwks(d="c2VjcmV0LXByaXZhdGUtZXhwb25lbnQ")
    return Case(kit.jwt(), kit.context(jwks=leaked))


@case("jwks.no_usable_keys")
def _(kit: Kit, tmp: Path) -> Case:
    jwks = {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": kit.key.kid}]}
    return Case(kit.jwt(), kit.context(jwks=jwks, key=DROP))


@case("signature.wrong_kid")
def _(kit: Kit, tmp: Path) -> Case:
    token = kit.jwt({"kid": kit.other.kid})
    return Case(token, kit.context(jwks=kit.jwks(kit.key, kit.other), key=DROP))


@case("signature.invalid")
def _(kit: Kit, tmp: Path) -> Case:
    # Signed with a stale key under the published kid.
    token = kit.jwt({"kid": kit.other.kid})
    return Case(token, kit.context(jwks=kit.jwks(kit.other), key=DROP))


@case("signature.key")
def _(kit: Kit, tmp: Path) -> Case:
    return Case(kit.jwt(), kit.context(jwks=DROP, key=kit.other))


# The key file


def _pem(kit: Kit, fmt: serialization.PrivateFormat, password: bytes = b"") -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return kit.key.private_key.private_bytes(
        serialization.Encoding.PEM, fmt, encryption
    )


@case("key.marker_mismatch")
def _(kit: Kit, tmp: Path) -> Case:
    # A PKCS#1 body wrapped in PKCS#8 markers, as a hand-edited file has.
    pkcs1 = _pem(kit, serialization.PrivateFormat.TraditionalOpenSSL)
    wrapped = pkcs1.replace(b"RSA PRIVATE KEY", b"PRIVATE KEY")
    path = tmp / "key.pem"
    path.write_bytes(wrapped)
    return Case(kit.jwt(), kit.context(key=str(path)))


@case("key.unreadable")
def _(kit: Kit, tmp: Path) -> Case:
    path = tmp / "encrypted.pem"
    path.write_bytes(_pem(kit, serialization.PrivateFormat.PKCS8, b"pass-phrase"))
    return Case(kit.jwt(), kit.context(key=str(path)))


@case("key.not_in_jwks")
def _(kit: Kit, tmp: Path) -> Case:
    # The key file given is not the pair of what is published and signed.
    token = kit.jwt({"kid": kit.other.kid}, signer=kit.other)
    context = kit.context(jwks=kit.jwks(kit.other), key=kit.key)
    return Case(token, context, also=("signature.key",))


# iss and sub


@case("iss.missing")
def _(kit: Kit, tmp: Path) -> Case:
    return Case(kit.jwt(claims={"iss": DROP}), kit.context())


@case("sub.missing")
def _(kit: Kit, tmp: Path) -> Case:
    return Case(kit.jwt(claims={"sub": 123}), kit.context())


@case("sub.equals_iss")
def _(kit: Kit, tmp: Path) -> Case:
    return Case(kit.jwt(claims={"sub": "someone-else"}), kit.context())


@case("iss.api_platform_key")
def _(kit: Kit, tmp: Path) -> Case:
    token = kit.jwt(claims={"iss": API_KEY, "sub": API_KEY})
    return Case(token, kit.context())


@case("iss.cis2_client_id")
def _(kit: Kit, tmp: Path) -> Case:
    token = kit.jwt(claims={"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": API_URL})
    return Case(token, kit.api_context())


@case("iss.client_id")
def _(kit: Kit, tmp: Path) -> Case:
    other = "999999999999.apps.national"
    return Case(kit.jwt(claims={"iss": other, "sub": other}), kit.context())


# aud


def _aud(kit: Kit, aud: Any, **context: Any) -> Case:
    return Case(kit.jwt(claims={"aud": aud}), kit.context(**context))


@case("aud.missing")
def _(kit: Kit, tmp: Path) -> Case:
    return _aud(kit, "")


@case("aud.array")
def _(kit: Kit, tmp: Path) -> Case:
    return _aud(kit, [ENDPOINT])


@case("aud.not_string")
def _(kit: Kit, tmp: Path) -> Case:
    return _aud(kit, 443)


@case("aud.api_platform_url")
def _(kit: Kit, tmp: Path) -> Case:
    return _aud(kit, API_URL)


@case("aud.cis2_endpoint")
def _(kit: Kit, tmp: Path) -> Case:
    token = kit.jwt(claims={"iss": API_KEY, "sub": API_KEY, "aud": ENDPOINT})
    return Case(token, kit.api_context(api_platform=True))


@case("aud.retired_host")
def _(kit: Kit, tmp: Path) -> Case:
    retired = ENDPOINT.replace(
        "am.nhsint.auth-ptl.cis2.spineservices.nhs.uk", "am.nhsint.ptl.nhsd-esa.net"
    )
    return _aud(kit, retired)


@case("aud.http")
def _(kit: Kit, tmp: Path) -> Case:
    return _aud(kit, ENDPOINT.replace("https://", "http://"))


@case("aud.missing_port")
def _(kit: Kit, tmp: Path) -> Case:
    return _aud(kit, ENDPOINT.replace(":443", ""))


@case("aud.trailing_slash")
def _(kit: Kit, tmp: Path) -> Case:
    return _aud(kit, ENDPOINT + "/")


@case("aud.issuer")
def _(kit: Kit, tmp: Path) -> Case:
    return _aud(kit, INT.issuer)


@case("aud.wrong_environment")
def _(kit: Kit, tmp: Path) -> Case:
    return _aud(kit, DEP.token_endpoint)


@case("aud.wrong_realm")
def _(kit: Kit, tmp: Path) -> Case:
    host = "https://am.nhsint.auth-ptl.cis2.spineservices.nhs.uk:443"
    return _aud(kit, f"{host}{OIDC_REALM}/access_token")


@case("aud.token_endpoint")
def _(kit: Kit, tmp: Path) -> Case:
    return _aud(kit, "https://rp.example/oauth/token")


# exp, iat, nbf


def _dates(kit: Kit, now: int = NOW, **claims: Any) -> Case:
    return Case(kit.jwt(claims=claims), kit.context(now=now))


@case("exp.missing")
def _(kit: Kit, tmp: Path) -> Case:
    return _dates(kit, exp=DROP)


@case("exp.type")
def _(kit: Kit, tmp: Path) -> Case:
    return _dates(kit, exp=str(NOW + 300))


@case("iat.type")
def _(kit: Kit, tmp: Path) -> Case:
    return _dates(kit, iat=str(NOW))


@case("nbf.type")
def _(kit: Kit, tmp: Path) -> Case:
    return _dates(kit, nbf=NOW + 0.5)


@case("exp.milliseconds")
def _(kit: Kit, tmp: Path) -> Case:
    return _dates(kit, exp=(NOW + 300) * 1000)


@case("iat.milliseconds")
def _(kit: Kit, tmp: Path) -> Case:
    return _dates(kit, iat=NOW * 1000)


@case("nbf.milliseconds")
def _(kit: Kit, tmp: Path) -> Case:
    return _dates(kit, nbf=NOW * 1000)


@case("iat.missing")
def _(kit: Kit, tmp: Path) -> Case:
    return _dates(kit, iat=DROP)


@case("exp.before_iat")
def _(kit: Kit, tmp: Path) -> Case:
    return _dates(kit, iat=NOW + 20, exp=NOW + 10)


@case("exp.lifetime")
def _(kit: Kit, tmp: Path) -> Case:
    return _dates(kit, now=NOW + 400, iat=NOW, exp=NOW + 600)


@case("iat.clock_skew")
def _(kit: Kit, tmp: Path) -> Case:
    return _dates(kit, iat=NOW + 600, exp=NOW + 900)


@case("exp.clock_skew")
def _(kit: Kit, tmp: Path) -> Case:
    return _dates(kit, iat=NOW - 360, exp=NOW - 60)


@case("exp.expired")
def _(kit: Kit, tmp: Path) -> Case:
    return _dates(kit, iat=NOW - 4000, exp=NOW - 3700)


@case("exp.too_far_ahead")
def _(kit: Kit, tmp: Path) -> Case:
    return _dates(kit, iat=NOW + 25, exp=NOW + 325)


@case("nbf.future")
def _(kit: Kit, tmp: Path) -> Case:
    return _dates(kit, nbf=NOW + 120)


# jti


@case("jti.missing")
def _(kit: Kit, tmp: Path) -> Case:
    return _dates(kit, jti=DROP)


@case("jti.type")
def _(kit: Kit, tmp: Path) -> Case:
    return _dates(kit, jti=12345)


@case("jti.reused")
def _(kit: Kit, tmp: Path) -> Case:
    tokens = [kit.jwt(claims={"jti": "same-jti-twice"}) for _ in range(2)]
    return Case(tokens, kit.context())


# The tests


def _reports(built: Case) -> list[Report]:
    if isinstance(built.given, list):
        return diagnose_many(built.given, **built.context)
    return [diagnose(built.given, **built.context)]


def test_every_rule_has_a_case() -> None:
    assert sorted(CASES) == sorted(rule.id for rule in RULES)


def test_rule_ids_are_unique() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires_alone(kit: Kit, tmp_path: Path, rule_id: str) -> None:
    built = CASES[rule_id](kit, tmp_path)
    for report in _reports(built):
        found = sorted(f.rule for f in report.findings)
        assert found == sorted({rule_id, *built.also}), report.to_text()
        finding = next(f for f in report.findings if f.rule == rule_id)
        rule = next(r for r in RULES if r.id == rule_id)
        assert (finding.field, finding.severity) == (rule.field, rule.severity)
        assert finding.message and finding.fix
        assert report.ok is (rule.severity == "warning" and not built.also)


def test_a_good_assertion_breaks_no_rule(kit: Kit) -> None:
    report = diagnose(kit.jwt(), **kit.context())
    assert report.findings == ()
    assert report.ok and report.kind == "cis2"


def test_a_good_token_request_breaks_no_rule(kit: Kit) -> None:
    report = diagnose(kit.form(), **kit.context())
    assert report.findings == ()
    assert report.form is not None and report.form["code"] == "********"


def test_a_good_api_platform_assertion_breaks_no_rule(kit: Kit) -> None:
    report = diagnose(_api_form(kit), **kit.api_context())
    assert report.findings == ()
    assert report.kind == "api_platform"


def test_the_good_assertion_passes_with_no_context(kit: Kit) -> None:
    report = diagnose(kit.jwt(), now=NOW)
    assert report.findings == ()
    assert any("signature was not checked" in note for note in report.notes)


def test_a_pyjwt_assertion_is_good_too(kit: Kit) -> None:
    import jwt

    claims = good_claims()
    token = jwt.encode(
        claims, kit.key.private_key, algorithm="RS512", headers={"kid": kit.key.kid}
    )
    assert diagnose(token, **kit.context()).findings == ()


def test_clock_skew_reports_the_measured_offset(kit: Kit) -> None:
    report = diagnose(
        kit.jwt(claims={"iat": NOW + 600, "exp": NOW + 900}), **kit.context()
    )
    (finding,) = report.findings
    assert "600 s" in finding.message and "clock skew" in finding.message


def test_a_captured_assertion_is_checked_as_of_when_it_was_sent(kit: Kit) -> None:
    token = kit.jwt()
    assert [f.rule for f in diagnose(token, **kit.context(now=NOW + 86400)).findings]
    assert diagnose(token, **kit.context(now=NOW + 10)).findings == ()


def test_a_portless_aud_is_spotted_without_any_context(kit: Kit) -> None:
    token = kit.jwt(claims={"aud": ENDPOINT.replace(":443", "")})
    report = diagnose(token, now=NOW)
    assert [f.rule for f in report.findings] == ["aud.missing_port"]


def test_an_api_platform_aud_alone_selects_its_rules(kit: Kit) -> None:
    report = diagnose(kit.api_jwt(), now=NOW)
    assert report.kind == "api_platform" and report.findings == ()


def test_the_flag_checks_an_api_platform_aud_as_cis2(kit: Kit) -> None:
    report = diagnose(kit.api_jwt(), now=NOW, api_platform=False)
    assert "aud.api_platform_url" in [f.rule for f in report.findings]


def test_a_pkcs1_key_in_its_own_markers_is_fine(kit: Kit, tmp_path: Path) -> None:
    path = tmp_path / "rsa.pem"
    path.write_bytes(_pem(kit, serialization.PrivateFormat.TraditionalOpenSSL))
    report = diagnose(kit.jwt(), **kit.context(key=path))
    assert report.findings == ()
    assert report.key_info is not None and report.key_info.format == "PKCS#1"


def test_an_encrypted_key_with_its_password_is_fine(kit: Kit, tmp_path: Path) -> None:
    path = tmp_path / "enc.pem"
    path.write_bytes(_pem(kit, serialization.PrivateFormat.PKCS8, b"pw"))
    report = diagnose(kit.jwt(), **kit.context(key=str(path), key_password="pw"))
    assert report.findings == ()
    assert report.key_info is not None and report.key_info.encrypted


def test_a_pkcs8_body_in_pkcs1_markers_is_named(kit: Kit, tmp_path: Path) -> None:
    pkcs8 = _pem(kit, serialization.PrivateFormat.PKCS8)
    report = diagnose(
        kit.jwt(),
        **kit.context(key=pkcs8.replace(b"PRIVATE KEY", b"RSA PRIVATE KEY")),
    )
    (finding,) = report.findings
    assert finding.rule == "key.marker_mismatch" and "PKCS#8" in finding.message


def test_a_failing_rule_becomes_a_warning(
    kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cis2.doctor import Rule

    def broken(case: object) -> None:
        raise RuntimeError("boom")

    extra = Rule("test.broken", "iss", "error", broken, "always fails")
    monkeypatch.setattr("cis2.doctor._rules.RULES", [*RULES, extra])
    report = diagnose(kit.jwt(), **kit.context())
    (finding,) = report.findings
    assert finding.rule == "doctor.rule_failed" and finding.severity == "warning"
    assert "boom" not in finding.message


def test_rules_have_docs_and_known_fields() -> None:
    fields = {
        "alg", "kid", "typ", "iss", "sub", "aud", "exp", "iat", "nbf", "jti",
        "signature", "key", "form", "token", "jwks", "env",
    }  # fmt: skip
    for rule in RULES:
        assert rule.doc, rule.id
        assert rule.field in fields, rule.id


def test_jwks_json_text_and_file_are_read(kit: Kit, tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(kit.jwks()))
    for jwks in (str(path), json.dumps(kit.jwks())):
        assert diagnose(kit.jwt(), **kit.context(jwks=jwks)).findings == ()
