"""The log: one line per request, reasons for refusals, never a credential."""

from __future__ import annotations

import logging

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cis2.simulator.testing import run_simulator

from .conftest import RelyingParty, callback, fresh_rp, wait_for


def test_no_token_code_or_assertion_reaches_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with fresh_rp() as rp, caplog.at_level(logging.DEBUG, logger="cis2"):
        code = rp.code()
        assertion = rp.assertion()
        tokens = rp.token(code, client_assertion=assertion).json()
        rp.token(code)  # a replay, refused and logged
        rp.token(rp.code(), client_assertion=rp.assertion(aud="wrong"))
        rp.http.get(
            f"{rp.sim.issuer}/userinfo",
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        rp.http.get(
            f"{rp.sim.issuer}/connect/endSession",
            params={"id_token_hint": tokens["id_token"]},
        )

    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "aud_mismatch" in text
    assert "/access_token 401" in text
    for secret in (
        code,
        assertion,
        tokens["access_token"],
        tokens["id_token"],
        tokens["refresh_token"],
        "eyJ",
    ):
        assert secret not in text


def test_one_info_line_per_request(
    rp: RelyingParty, caplog: pytest.LogCaptureFixture
) -> None:
    def info_lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]

    with caplog.at_level(logging.INFO, logger="cis2.simulator"):
        assert "code" in callback(rp.authorize())
        # The line is written once the answer has gone, so it may land a
        # moment after the client has read it.
        wait_for(lambda: any("/authorize" in line for line in info_lines()))
    lines = info_lines()
    assert len([line for line in lines if "/authorize" in line]) == 1
    assert not any("state=" in line or "?" in line for line in lines)


def test_server_error_shows_no_traceback_and_no_exception_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def fails(request: Request) -> Response:
        raise ValueError("code=SECRET-VALUE")

    with run_simulator() as sim, caplog.at_level(logging.DEBUG):
        sim.app.router.routes.append(Route("/fails", fails))
        answer = httpx.get(f"{sim.base_url}/fails")

    assert answer.status_code == 500
    assert answer.json()["error"] == "server_error"
    assert "SECRET-VALUE" not in answer.text
    assert answer.headers["x-content-type-options"] == "nosniff"
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    raised_at = f"{__file__}:{fails.__code__.co_firstlineno + 1}"
    assert [r.getMessage() for r in failures] == [
        f"GET /fails failed: ValueError at {raised_at}"
    ]
    assert all(r.exc_info is None for r in caplog.records)
    assert "SECRET-VALUE" not in caplog.text
    assert "Traceback" not in caplog.text
