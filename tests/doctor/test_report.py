"""The Report: its JSON shape, its text for people, and what it never shows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from cis2.doctor import Report, diagnose

from .kit import API_KEY, ENDPOINT, NOW, Kit


def test_json_has_exactly_the_documented_shape(kit: Kit) -> None:
    report = diagnose(kit.jwt(claims={"iat": str(NOW)}), **kit.context())
    document = json.loads(json.dumps(report.to_json()))
    assert set(document) == {"ok", "findings", "header", "claims"}
    assert document["ok"] is False
    (finding,) = document["findings"]
    assert finding == {
        "rule": "iat.type",
        "field": "iat",
        "severity": "error",
        "message": finding["message"],
        "fix": finding["fix"],
    }
    assert document["claims"]["iat"] == str(NOW)
    assert document["header"]["kid"] == kit.key.kid


def test_text_marks_the_faulty_claims_and_gives_each_fix(kit: Kit) -> None:
    token = kit.jwt(claims={"iss": API_KEY, "sub": API_KEY})
    text = diagnose(token, **kit.context()).to_text()
    assert "would be refused (1 error, 0 warnings)" in text
    assert f'  !! iss: "{API_KEY}"' in text
    assert f'     aud: "{ENDPOINT}"' in text
    assert "ERROR iss.api_platform_key (iss):" in text
    assert "    Fix: Set iss and sub to your CIS2 client_id" in text


def test_a_clean_report_says_so(kit: Kit) -> None:
    text = diagnose(kit.jwt(), **kit.context()).to_text()
    assert text.startswith("CIS2 client assertion: no problems found.")
    assert "Findings" not in text


def test_secrets_in_a_form_are_masked(kit: Kit) -> None:
    body = kit.form(client_secret="hunter2-secret", code="the-auth-code-123")
    report = diagnose(body, **kit.context())
    shown = report.to_text() + json.dumps(report.to_json()) + repr(report)
    assert "hunter2-secret" not in shown and "the-auth-code-123" not in shown
    assert report.form is not None and report.form["client_secret"] == "********"


def test_no_signature_or_key_material_is_shown(kit: Kit, tmp_path: Path) -> None:
    token = kit.jwt(claims={"exp": "soon"})
    pem = kit.key.private_pem()
    path = tmp_path / "key.pem"
    path.write_bytes(pem)
    report = diagnose(kit.form(token), **kit.context(key=str(path)))
    shown = report.to_text() + json.dumps(report.to_json()) + repr(report)
    assert token.split(".")[2] not in shown
    body_line = pem.decode().splitlines()[5]
    assert body_line not in shown
    numbers = kit.key.private_key.private_numbers()
    assert str(numbers.d) not in shown and str(numbers.p) not in shown


def test_an_unreadable_key_message_holds_no_key(kit: Kit) -> None:
    encrypted = kit.key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    report = diagnose(kit.jwt(), **kit.context(key=encrypted, key_password="nope"))
    (finding,) = report.findings
    assert finding.rule == "key.unreadable" and "password" in finding.message
    assert encrypted.decode().splitlines()[3] not in report.to_text()


@pytest.mark.parametrize(
    "text",
    [
        "...",
        "a.b.c",
        "eyJ.eyJ.",
        "\x00\x01\x02",
        "=" * 5000,
        "client_assertion=",
        "curl",
        '{"client_assertion": 5}',
        "e30.e30.e30",
        "eyJhbGciOjF9.eyJleHAiOnt9fQ.AA",
    ],
)
def test_garbage_never_raises(kit: Kit, text: str) -> None:
    report = diagnose(text, **kit.context())
    assert isinstance(report, Report) and not report.ok
    assert all(f.rule != "doctor.rule_failed" for f in report.findings)


def test_bad_options_never_raise(kit: Kit) -> None:
    report = diagnose(
        kit.jwt(),
        env="nowhere",
        alg="HS256",
        jwks="/no/such/jwks.json",
        key="/no/such/key.pem",
        now=NOW,
    )
    rules = {f.rule for f in report.findings}
    assert rules == {"context.env", "context.alg", "context.jwks", "key.unreadable"}
