"""The admin pages: sessions, tokens, refused assertions with reasons, decode."""

from __future__ import annotations

import re

import httpx
import pytest

from cis2.simulator.testing import RunningSimulator

from .conftest import DEMO_CLIENT, RelyingParty


def admin_csrf(http: httpx.Client, sim: RunningSimulator) -> str:
    page = http.get(f"{sim.base_url}/admin/decode").text
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_admin_page_lists_sessions_tokens_and_refusals(
    rp: RelyingParty, sim: RunningSimulator, http: httpx.Client
) -> None:
    tokens = rp.tokens()
    rp.token(rp.code(), client_assertion=rp.assertion(aud="https://wrong.test/"))

    page = http.get(f"{sim.base_url}/admin")

    assert page.status_code == 200
    assert "Live sessions" in page.text
    assert "Amara Okafor" in page.text
    assert "aud_mismatch" in page.text
    assert "https://wrong.test/" in page.text
    assert "&#34;tokenName&#34;: &#34;id_token&#34;" in page.text
    assert tokens["access_token"] not in page.text
    assert tokens["id_token"] not in page.text
    assert "#005eb8" in http.get(f"{sim.base_url}/static/nhs.css").text


def test_refusal_log_carries_the_doctors_findings(
    rp: RelyingParty, sim: RunningSimulator
) -> None:
    rp.token(rp.code(), client_assertion=rp.assertion(aud=sim.issuer))

    latest = sim.state.store.events("rejected_assertion", 1)[0]

    assert latest["reason"] == "aud_mismatch"
    assert latest["claims"]["aud"] == sim.issuer
    assert any("aud" in f["rule"] for f in latest["findings"]), latest["findings"]


def test_decode_page_says_what_is_wrong_without_spending_the_jti(
    rp: RelyingParty, sim: RunningSimulator, http: httpx.Client
) -> None:
    csrf = admin_csrf(http, sim)
    bad = rp.assertion(aud=sim.issuer)

    page = http.post(
        f"{sim.base_url}/admin/decode",
        data={"csrf": csrf, "token": bad, "client_id": DEMO_CLIENT},
    )

    assert page.status_code == 200
    assert "aud_mismatch" in page.text
    assert "The doctor" in page.text
    assert bad not in page.text

    good = rp.assertion()
    page = http.post(f"{sim.base_url}/admin/decode", data={"csrf": csrf, "token": good})
    assert "would accept this assertion" in page.text
    assert rp.token(rp.code(), client_assertion=good).status_code == 200


def test_decode_page_refuses_a_post_without_its_csrf_token(
    sim: RunningSimulator, http: httpx.Client
) -> None:
    page = http.post(f"{sim.base_url}/admin/decode", data={"token": "a.b.c"})
    assert page.status_code == 403


def test_decode_page_names_a_malformed_token(
    sim: RunningSimulator, http: httpx.Client
) -> None:
    page = http.post(
        f"{sim.base_url}/admin/decode",
        data={"csrf": admin_csrf(http, sim), "token": "only.two"},
    )
    assert "malformed" in page.text


def test_discovery_document(sim: RunningSimulator, http: httpx.Client) -> None:
    document = http.get(f"{sim.issuer}/.well-known/openid-configuration").json()

    assert document["issuer"] == sim.issuer
    assert document["token_endpoint"] == f"{sim.issuer}/access_token"
    assert document["jwks_uri"] == f"{sim.issuer}/connect/jwk_uri"
    assert document["end_session_endpoint"] == f"{sim.issuer}/connect/endSession"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert "AAL3_ANY" in document["acr_values_supported"]
    assert document["request_parameter_supported"] is False


def test_non_ascii_admin_csrf_is_refused_not_a_server_error(
    sim: RunningSimulator, http: httpx.Client
) -> None:
    answer = http.post(f"{sim.base_url}/admin/rotate-keys", data={"csrf": "é"})

    assert answer.status_code == 403
    assert answer.json()["error_description"] == "CSRF token."


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin"),
        ("GET", "/admin/decode"),
        ("POST", "/admin/decode"),
        ("POST", "/admin/rotate-keys"),
        ("POST", "/admin/end-session"),
    ],
)
@pytest.mark.parametrize("host", ["rebind.example.test:{port}", "127.0.0.1:1"])
def test_dns_rebinding_host_is_refused_on_every_admin_route(
    sim: RunningSimulator, http: httpx.Client, method: str, path: str, host: str
) -> None:
    active = sim.state.keys.active_kid()
    headers = {"Host": host.format(port=sim.config.port), "X-Cis2-Admin": "1"}

    answer = http.request(method, f"{sim.base_url}{path}", headers=headers)

    assert answer.status_code == 403
    assert "Host" in answer.json()["error_description"]
    assert sim.state.keys.active_kid() == active


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "LocalHost", "[::1]"])
def test_admin_answers_each_loopback_name_with_the_configured_port(
    sim: RunningSimulator, http: httpx.Client, name: str
) -> None:
    headers = {"Host": f"{name}:{sim.config.port}"}

    assert http.get(f"{sim.base_url}/admin", headers=headers).status_code == 200
