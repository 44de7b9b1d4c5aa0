"""Every rule of ``/authorize`` (OIDC Core 3.1.2.1, reference section 3)."""

from __future__ import annotations

import pytest

from cis2.simulator.testing import RunningSimulator

from .conftest import (
    AAL1_USER,
    DEMO_REDIRECT,
    GP_AAL2,
    GP_AAL3,
    RelyingParty,
    callback,
    challenge,
    fresh_rp,
)


def test_headless_login_hint_redirects_with_code_and_state(rp: RelyingParty) -> None:
    response = rp.authorize(state="abc123")

    assert response.status_code == 302
    query = callback(response)
    assert response.headers["location"].startswith(DEMO_REDIRECT + "?")
    assert query["state"] == "abc123"
    assert len(query["code"]) >= 43
    assert "iss" not in query


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"client_id": None}, "client_id"),
        ({"client_id": "000000000000.apps.national"}, "client_id"),
        ({"redirect_uri": None}, "redirect_uri"),
        ({"redirect_uri": "http://127.0.0.1:8765/callback/"}, "redirect_uri"),
        ({"redirect_uri": "https://evil.example.test/callback"}, "redirect_uri"),
    ],
)
def test_unknown_client_or_redirect_gets_an_error_page_never_a_redirect(
    rp: RelyingParty, params: dict[str, str | None], field: str
) -> None:
    response = rp.authorize(**params)

    assert response.status_code == 400
    assert "location" not in response.headers
    assert "There is a problem" in response.text
    assert field in response.text


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "unsupported_response_type"),
        ({"scope": "profile"}, "invalid_scope"),
        ({"scope": "openid odscodes"}, "invalid_scope"),
        ({"state": None}, "invalid_request"),
        (
            {"code_challenge": "x" * 43, "code_challenge_method": "plain"},
            "invalid_request",
        ),
        ({"code_challenge": "x" * 43}, "invalid_request"),
        (
            {"code_challenge": "short", "code_challenge_method": "S256"},
            "invalid_request",
        ),
        ({"code_challenge_method": "S256"}, "invalid_request"),
        ({"acr_values": "AAL9_ANY"}, "invalid_request"),
        ({"prompt": "sometimes"}, "invalid_request"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"max_age": "-1"}, "invalid_request"),
        ({"max_age": "five"}, "invalid_request"),
        ({"response_mode": "fragment"}, "invalid_request"),
        ({"request": "eyJ"}, "request_not_supported"),
        ({"request_uri": "https://x.test/r"}, "request_uri_not_supported"),
    ],
)
def test_other_errors_go_back_to_the_redirect_uri(
    rp: RelyingParty, params: dict[str, str | None], error: str
) -> None:
    response = rp.authorize(**{"state": "keep-me", **params})

    assert response.status_code == 302
    query = callback(response)
    assert query["error"] == error
    assert query["error_description"]
    assert query.get("state") == ("keep-me" if "state" not in params else None)


def test_nonce_is_optional_as_in_cis2_practice(rp: RelyingParty) -> None:
    assert "code" in callback(rp.authorize(nonce=None))


def test_s256_challenge_is_accepted(rp: RelyingParty) -> None:
    query = callback(
        rp.authorize(code_challenge=challenge("v" * 50), code_challenge_method="S256")
    )
    assert "code" in query


def test_require_pkce_refuses_a_request_without_challenge() -> None:
    with fresh_rp(require_pkce=True) as rp:
        query = callback(rp.authorize())
    assert query["error"] == "invalid_request"
    assert "code_challenge" in query["error_description"]


def test_aal2_persona_is_refused_an_aal3_request(rp: RelyingParty) -> None:
    query = callback(rp.authorize(login_hint=GP_AAL2, acr_values="AAL3_ANY"))

    assert query["error"] == "access_denied"
    assert "AAL3_ANY" in query["error_description"]


def test_aal2_persona_meets_aal2_or_aal3(rp: RelyingParty) -> None:
    assert "code" in callback(
        rp.authorize(login_hint=GP_AAL2, acr_values="AAL2_OR_AAL3_ANY")
    )


def test_aal1_persona_only_meets_aal1(rp: RelyingParty) -> None:
    assert "error" in callback(
        rp.authorize(login_hint=AAL1_USER, acr_values="AAL2_ANY")
    )
    assert "code" in callback(
        rp.authorize(login_hint=AAL1_USER, acr_values="AAL1_USERPASS")
    )


def test_without_login_hint_the_login_page_is_shown(rp: RelyingParty) -> None:
    response = rp.authorize(login_hint=None)

    assert response.status_code == 200
    assert "Choose who signs in" in response.text
    assert "cis2_sim_csrf" in response.headers["set-cookie"]


def test_unknown_login_hint_shows_the_page_not_an_error(rp: RelyingParty) -> None:
    response = rp.authorize(login_hint="999999999999")

    assert response.status_code == 200
    assert "Choose who signs in" in response.text


def test_prompt_none_without_session_is_login_required(rp: RelyingParty) -> None:
    query = callback(rp.authorize(login_hint=None, prompt="none"))

    assert query["error"] == "login_required"


def test_portless_loopback_registration_accepts_any_port(rp: RelyingParty) -> None:
    query = callback(rp.authorize(redirect_uri="http://127.0.0.1:51234/callback"))
    assert "code" in query


def test_registration_with_a_port_accepts_only_that_port(rp: RelyingParty) -> None:
    # The demo client registers http://127.0.0.1:8765/callback (a port) and
    # http://127.0.0.1/callback (none); with a port, only that port matches.
    assert callback(rp.authorize(redirect_uri=DEMO_REDIRECT))["code"]
    response = rp.authorize(redirect_uri="http://127.0.0.1:8765/other")

    assert response.status_code == 400


def test_authorization_response_iss_when_enabled() -> None:
    with fresh_rp(authorization_response_iss=True) as rp:
        query = callback(rp.authorize())
    assert query["iss"] == rp.sim.issuer


def test_issuer_has_cis2_realm_and_explicit_port(sim: RunningSimulator) -> None:
    port = sim.config.port
    assert sim.issuer == (
        f"http://127.0.0.1:{port}/openam/oauth2/realms/root/realms/NHSIdentity"
        "/realms/Healthcare"
    )
    assert GP_AAL3 in {p.uid for p in sim.config.personas}


def test_a_repeated_parameter_is_refused(rp: RelyingParty) -> None:
    base = str(rp.authorize().request.url)

    repeated = rp.http.get(base + "&scope=openid")
    assert callback(repeated)["error"] == "invalid_request"
    assert "scope" in callback(repeated)["error_description"]

    page = rp.http.get(base + "&client_id=999999999999.apps.national")
    assert page.status_code == 400
    assert "location" not in page.headers


def test_max_age_zero_asks_for_a_fresh_login(rp: RelyingParty) -> None:
    response = rp.authorize(login_hint=None, prompt=None, max_age="0")
    assert response.status_code == 200
    assert "Choose who signs in" in response.text


def test_the_error_page_escapes_what_the_request_sent(rp: RelyingParty) -> None:
    response = rp.authorize(client_id="<script>alert(1)</script>")

    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("max_age", ["\u00b2", "\u0663", "1\u00b2"])
def test_max_age_of_non_ascii_digits_is_invalid_request_not_a_server_error(
    rp: RelyingParty, max_age: str
) -> None:
    # '²' and '٣' pass str.isdigit, but int() refuses '²': once a 500.
    response = rp.authorize(state="keep-me", max_age=max_age)

    assert response.status_code == 302
    query = callback(response)
    assert query["error"] == "invalid_request"
    assert query["state"] == "keep-me"
