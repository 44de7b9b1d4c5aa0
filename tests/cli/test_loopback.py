"""The loopback listener ``cis2 login`` waits on, over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from cis2.cli._loopback import CallbackListener, LoginTimeoutError

from .conftest import free_port

STATE = "the-state-this-login-sent"


@pytest.fixture
def redirect() -> str:
    return f"http://127.0.0.1:{free_port()}/callback"


def test_a_callback_with_another_state_gets_400_and_the_wait_goes_on(
    redirect: str,
) -> None:
    with CallbackListener(redirect, state=STATE) as listener:
        forged = httpx.get(f"{redirect}?code=forged&state=other")
        doubled = httpx.get(f"{redirect}?code=forged&state={STATE}&state=other")
        stateless = httpx.get(f"{redirect}?code=forged")
        real = httpx.get(f"{redirect}?code=real&state={STATE}")
        handed_over = listener.wait(5)

    assert [forged.status_code, doubled.status_code, stateless.status_code] == [
        400,
        400,
        400,
    ]
    assert real.status_code == 200
    assert handed_over == f"{redirect}?code=real&state={STATE}"


def test_only_forged_callbacks_still_time_out(redirect: str) -> None:
    with CallbackListener(redirect, state=STATE) as listener:
        httpx.get(f"{redirect}?error=access_denied&state=other")
        with pytest.raises(LoginTimeoutError):
            listener.wait(0.2)


def test_a_second_matching_callback_is_a_conflict(redirect: str) -> None:
    with CallbackListener(redirect, state=STATE) as listener:
        first = httpx.get(f"{redirect}?error=access_denied&state={STATE}")
        second = httpx.get(f"{redirect}?code=late&state={STATE}")
        handed_over = listener.wait(5)

    assert (first.status_code, second.status_code) == (200, 409)
    assert "Sign-in refused" in first.text
    assert "error=access_denied" in handed_over
