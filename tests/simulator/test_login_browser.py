"""The login page in a real browser: Chromium from Debian, driven by Playwright."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from cis2.simulator._login import SESSION_COOKIE
from cis2.simulator.testing import RunningSimulator, run_app, run_simulator

from .conftest import RelyingParty, callback, challenge, claims_of

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


def _need_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CIS2_REQUIRE_BROWSER") == "1":
        pytest.fail(f"CIS2_REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
    pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def callback_url() -> Iterator[str]:
    async def landing(request: Request) -> Response:
        return PlainTextResponse("callback " + str(request.query_params))

    app = Starlette(routes=[Route("/callback", landing)])
    with run_app(app) as base_url:
        # The demo client registers http://127.0.0.1/callback without a
        # port, which accepts any loopback port (RFC 8252 section 7.3).
        yield f"{base_url}/callback"


@pytest.fixture(scope="module")
def page_sim() -> Iterator[RunningSimulator]:
    with run_simulator() as running:
        yield running


def hidden_fields(html: str) -> tuple[str, str]:
    """The login form's txn and csrf values."""
    txn = re.search(r'name="txn" value="([^"]+)"', html)
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)
    assert txn and csrf
    return txn.group(1), csrf.group(1)


def authorize_url(sim: RunningSimulator, redirect_uri: str, **params: str) -> str:
    query = {
        "client_id": "999999999999.apps.national",
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": "openid profile nationalrbacaccess",
        "state": secrets.token_hex(8),
        "prompt": "login",
        **params,
    }
    return f"{sim.issuer}/authorize?{urlencode(query)}"


def signed_in_page(browser: Any, sim: RunningSimulator, callback_url: str) -> Any:
    """A new browser page, signed in by FIDO2 and back at the callback."""
    page = browser.new_page()
    page.goto(authorize_url(sim, callback_url, login_hint="656005750107"))
    page.get_by_label("Security key (FIDO2)").check()
    with page.expect_navigation(url=f"{callback_url}*"):
        page.click("#sign-in")
    return page


def test_pick_persona_authenticator_and_role(
    browser: Any, page_sim: RunningSimulator, callback_url: str
) -> None:
    verifier = secrets.token_urlsafe(48)
    page = browser.new_page()
    page.goto(
        authorize_url(
            page_sim,
            callback_url,
            scope="openid selectedrole",
            acr_values="AAL3_ANY",
            code_challenge=challenge(verifier),
            code_challenge_method="S256",
        )
    )

    assert page.title().startswith("Choose who signs in")
    page.get_by_label("Mrs Helen Ashworth").check()
    page.click("#continue")
    page.get_by_label("Smartcard").check()
    page.get_by_label("Registration Authority Agent").check()
    with page.expect_navigation(url=f"{callback_url}*"):
        page.click("#sign-in")
    landed = httpx.URL(page.url)
    page.close()

    with httpx.Client() as http:
        assert page_sim.demo_key is not None
        rp = RelyingParty(page_sim, http, page_sim.demo_key, redirect_uri=callback_url)
        tokens = rp.token(landed.params["code"], code_verifier=verifier).json()
    claims = claims_of(tokens["id_token"])
    assert claims["sub"] == "656005750104"
    assert claims["selected_roleid"] == "555021949101"
    assert claims["amr"] == ["N3_SMARTCARD"]
    assert claims["acr"] == "AAL3_ANY"


def test_an_authenticator_below_the_requested_acr_is_refused(
    browser: Any, page_sim: RunningSimulator, callback_url: str
) -> None:
    page = browser.new_page()
    page.goto(
        authorize_url(
            page_sim, callback_url, acr_values="AAL3_ANY", login_hint="656005750111"
        )
    )

    assert page.is_visible("#aal-refused")
    assert page.get_by_label("One-time code").is_disabled()
    assert page.get_by_label("Password").is_disabled()
    assert page.locator("#sign-in").count() == 0
    with page.expect_navigation(url=f"{callback_url}*"):
        page.click("#cancel")
    query = dict(httpx.URL(page.url).params)
    page.close()

    assert query["error"] == "access_denied"


def test_a_forced_post_of_a_weak_authenticator_is_refused(
    page_sim: RunningSimulator, callback_url: str
) -> None:
    # A browser cannot pick a disabled radio; a hand-made form post can, and
    # must meet the same refusal.
    with httpx.Client() as http:
        page = http.get(
            authorize_url(
                page_sim,
                callback_url,
                acr_values="AAL3_ANY",
                login_hint="656005750111",
            )
        )
        txn, csrf = hidden_fields(page.text)
        answer = http.post(
            f"{page_sim.base_url}/login/complete",
            data={
                "txn": txn,
                "csrf": csrf,
                "persona": "656005750111",
                "authenticator": "totp",
            },
        )
    assert answer.status_code == 403
    assert "does not meet the level" in answer.text


def post_login(
    sim: RunningSimulator, callback_url: str, csrf: str | None, cookies: bool
) -> httpx.Response:
    """A hand-made persona post: csrf None sends the page's own token."""
    with httpx.Client() as http:
        page = http.get(authorize_url(sim, callback_url))
        txn, page_csrf = hidden_fields(page.text)
        if not cookies:
            http.cookies.clear()
        return http.post(
            f"{sim.base_url}/login",
            data={
                "txn": txn,
                "csrf": page_csrf if csrf is None else csrf,
                "persona": "656005750108",
            },
        )


def test_a_post_without_the_csrf_cookie_is_refused(
    page_sim: RunningSimulator, callback_url: str
) -> None:
    answer = post_login(page_sim, callback_url, csrf=None, cookies=False)
    assert answer.status_code == 400
    assert "CSRF" in answer.text


def test_the_session_is_reused_without_prompt_login(
    browser: Any, page_sim: RunningSimulator, callback_url: str
) -> None:
    page = signed_in_page(browser, page_sim, callback_url)

    again = authorize_url(page_sim, callback_url)
    again = again.replace("&prompt=login", "")
    with page.expect_navigation(url=f"{callback_url}*"):
        page.goto(again)
    assert "code" in dict(httpx.URL(page.url).params)

    page.goto(authorize_url(page_sim, callback_url))
    assert page.title().startswith("Choose who signs in")
    page.close()


def test_admin_page_in_the_browser(browser: Any, page_sim: RunningSimulator) -> None:
    page = browser.new_page()
    page.goto(f"{page_sim.base_url}/admin")
    assert page.locator("h1").inner_text() == "Simulator admin"
    page.click("#rotate")
    assert page.url.endswith("/admin")
    assert page.locator("#keys tbody tr").count() >= 3

    # The earlier tests signed people in, so there are sessions to end.
    sessions = page.get_by_role("button", name="smartcard were removed")
    live = sessions.count()
    assert live >= 1
    sessions.first.click()
    page.wait_for_url("**/admin")
    assert page.get_by_role("button", name="smartcard were removed").count() == live - 1
    page.close()


def test_headless_redirect_needs_no_browser(callback_url: str) -> None:
    with run_simulator(headless=True) as sim, httpx.Client() as http:
        answer = http.get(authorize_url(sim, callback_url, login_hint="656005750108"))
    assert "code" in callback(answer)


def test_non_ascii_login_csrf_is_refused_not_a_server_error(
    page_sim: RunningSimulator, callback_url: str
) -> None:
    answer = post_login(page_sim, callback_url, csrf="é", cookies=True)
    assert answer.status_code == 400
    assert "CSRF" in answer.text


def test_logout_csrf_end_session_without_hint_is_confirmed_in_the_browser(
    browser: Any, page_sim: RunningSimulator, callback_url: str
) -> None:
    page = signed_in_page(browser, page_sim, callback_url)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    sid = cookies[SESSION_COOKIE]

    page.goto(f"{page_sim.issuer}/connect/endSession")

    assert page.title().startswith("Sign out of CIS2?")
    assert page_sim.state.store.session(sid) is not None
    page.click("#sign-out")
    assert page.title().startswith("You have signed out")
    assert page_sim.state.store.session(sid) is None
    page.close()
