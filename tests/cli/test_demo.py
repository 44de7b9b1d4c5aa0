"""``cis2 demo``: the whole journey runs, is traced, and shows no secret."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from cis2.demo import DemoRun, redact, run_demo

from .conftest import Runner

_COMPACT_JWS = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")


@pytest.fixture(scope="module")
def demo() -> tuple[DemoRun, str]:
    buffer = io.StringIO()
    record = run_demo(Console(file=buffer, width=160, color_system=None))
    return record, buffer.getvalue()


def test_every_step_is_numbered_in_order(demo: tuple[DemoRun, str]) -> None:
    record, text = demo

    numbers = [int(n) for n in re.findall(r"^(\d+)\. ", text, flags=re.MULTILINE)]
    assert numbers == list(range(1, record.steps + 1))
    assert record.steps >= 9


def test_the_trace_names_each_endpoint(demo: tuple[DemoRun, str]) -> None:
    _, text = demo

    for call in (
        "GET {issuer}/.well-known/openid-configuration",
        "GET {issuer}/authorize",
        "POST {issuer}/access_token",
        "GET {issuer}/connect/jwk_uri",
        "GET {issuer}/userinfo",
        "GET {issuer}/connect/endSession",
        "grant_type=refresh_token",
        "/backchannel-logout",
    ):
        assert call in text


def test_the_persona_signs_in_and_logs_out_by_back_channel(
    demo: tuple[DemoRun, str],
) -> None:
    record, text = demo

    assert record.logins[0].user.uid == "656005750108"
    assert record.logout_event is not None
    assert record.logout_event.sub == "656005750108"
    assert record.logout_event.sid == record.logins[0].claims["sid"]
    assert "Roles (national RBAC)" in text


def test_the_broken_assertion_is_refused_and_the_doctor_names_each_mistake(
    demo: tuple[DemoRun, str],
) -> None:
    record, text = demo

    assert "401 application/json" in text
    assert "JWT is not valid" in text
    rules = {finding.rule for finding in record.doctor_findings}
    assert {"alg.registered", "iss.api_platform_key", "aud.issuer"} <= rules
    assert any(rule.startswith("exp.") for rule in rules)
    for rule in rules:
        assert rule in text


def test_no_token_code_or_assertion_is_printed(demo: tuple[DemoRun, str]) -> None:
    record, text = demo

    assert _COMPACT_JWS.search(text) is None
    for login in record.logins:
        for token in (login.access_token, login.refresh_token, login.id_token):
            assert token
            assert token not in text
            assert token[:20] not in text
    assert "(redacted)" in text
    assert "PRIVATE KEY" not in text


def test_redact_keeps_only_a_jwt_header_start() -> None:
    assert (
        redact("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln") == "eyJhbGciOi…(redacted)"
    )
    assert redact("opaque-access-token-value") == "…(redacted)"


def test_cis2_demo_exits_0(run_process: Runner) -> None:
    result = run_process("demo")

    assert result.code == 0, result.err
    assert "Done:" in result.out
