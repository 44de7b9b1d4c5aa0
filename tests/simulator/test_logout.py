"""``/connect/endSession`` and back-channel logout to a real receiver."""

from __future__ import annotations

import httpx

from cis2._jws import parse_compact, verify_signature
from cis2.keys import KeySet, SigningKey
from cis2.simulator.testing import RunningSimulator

from .conftest import (
    LOGOUT_CLIENT,
    Receiver,
    RelyingParty,
    callback,
    claims_of,
    header_of,
    wait_for,
)

EVENT = "http://schemas.openid.net/event/backchannel-logout"


def logout_rp(
    sim: RunningSimulator, http: httpx.Client, key: SigningKey
) -> RelyingParty:
    return RelyingParty(sim, http, key, client_id=LOGOUT_CLIENT)


def test_end_session_sends_a_backchannel_logout_token(
    sim: RunningSimulator,
    http: httpx.Client,
    client_key: SigningKey,
    receiver: Receiver,
) -> None:
    rp = logout_rp(sim, http, client_key)
    tokens = rp.tokens()
    sid = claims_of(tokens["id_token"])["sid"]
    before = len(receiver.logout_tokens)

    response = http.get(
        f"{sim.issuer}/connect/endSession",
        params={"id_token_hint": tokens["id_token"]},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )

    assert response.status_code == 200
    assert "You have signed out" in response.text
    wait_for(lambda: len(receiver.logout_tokens) > before)
    token = receiver.logout_tokens[-1]
    claims = claims_of(token)
    assert header_of(token)["alg"] == "RS256"
    assert claims["sid"] == sid
    assert claims["aud"] == LOGOUT_CLIENT
    assert claims["iss"] == sim.issuer
    assert claims["events"] == {EVENT: {}}
    assert "nonce" not in claims
    assert claims["jti"] and claims["exp"] > claims["iat"]
    keys = KeySet.from_json(http.get(f"{sim.issuer}/connect/jwk_uri").json())
    jws = parse_compact(token)
    key = keys.find(header_of(token)["kid"])
    assert key is not None
    verify_signature("RS256", key.key, jws.signing_input, jws.signature)


def test_end_session_revokes_the_sessions_tokens(
    sim: RunningSimulator, http: httpx.Client, client_key: SigningKey
) -> None:
    rp = logout_rp(sim, http, client_key)
    tokens = rp.tokens()
    http.get(
        f"{sim.issuer}/connect/endSession",
        params={"id_token_hint": tokens["id_token"]},
    )

    info = http.get(
        f"{sim.issuer}/userinfo",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert info.status_code == 401
    refreshed = rp.token(
        grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert refreshed.status_code == 400


def test_registered_post_logout_redirect_with_state(
    sim: RunningSimulator, http: httpx.Client, client_key: SigningKey
) -> None:
    tokens = logout_rp(sim, http, client_key).tokens()

    response = http.get(
        f"{sim.issuer}/connect/endSession",
        params={
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": "http://127.0.0.1:8765/signed-out",
            "state": "bye-1",
        },
    )

    assert response.status_code == 302
    assert response.headers["location"].startswith("http://127.0.0.1:8765/signed-out")
    assert callback(response) == {"state": "bye-1"}


def test_unregistered_post_logout_redirect_is_an_error_page(
    sim: RunningSimulator, http: httpx.Client, client_key: SigningKey
) -> None:
    tokens = logout_rp(sim, http, client_key).tokens()

    response = http.get(
        f"{sim.issuer}/connect/endSession",
        params={
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": "https://evil.example.test/",
        },
    )

    assert response.status_code == 400
    assert "location" not in response.headers
    assert "post_logout_redirect_uri" in response.text


def test_a_forged_id_token_hint_is_refused(
    sim: RunningSimulator, http: httpx.Client, client_key: SigningKey
) -> None:
    forged = client_key.sign_jwt({"iss": sim.issuer, "sid": "x", "aud": LOGOUT_CLIENT})

    response = http.get(
        f"{sim.issuer}/connect/endSession", params={"id_token_hint": forged}
    )
    assert response.status_code == 400


def test_the_receivers_reply_is_recorded(
    sim: RunningSimulator,
    http: httpx.Client,
    client_key: SigningKey,
    receiver: Receiver,
) -> None:
    tokens = logout_rp(sim, http, client_key).tokens()
    http.get(
        f"{sim.issuer}/connect/endSession", params={"id_token_hint": tokens["id_token"]}
    )
    sid = claims_of(tokens["id_token"])["sid"]

    def recorded() -> bool:
        events = sim.state.store.events("backchannel_logout")
        return any(e["sid"] == sid and e["status"] == 200 for e in events)

    wait_for(recorded)


def test_removing_the_smartcard_on_the_admin_page_logs_the_client_out(
    sim: RunningSimulator,
    http: httpx.Client,
    client_key: SigningKey,
    receiver: Receiver,
) -> None:
    tokens = logout_rp(sim, http, client_key).tokens()
    sid = claims_of(tokens["id_token"])["sid"]
    before = len(receiver.logout_tokens)

    answer = http.post(
        f"{sim.base_url}/admin/end-session",
        data={"sid": sid},
        headers={"X-Cis2-Admin": "1"},
    )

    assert answer.status_code == 200
    assert answer.json()["clients"] == [LOGOUT_CLIENT]
    wait_for(lambda: len(receiver.logout_tokens) > before)
    assert claims_of(receiver.logout_tokens[-1])["sid"] == sid
    info = http.get(
        f"{sim.issuer}/userinfo",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert info.status_code == 401
    again = http.post(
        f"{sim.base_url}/admin/end-session",
        data={"sid": sid},
        headers={"X-Cis2-Admin": "1"},
    )
    assert again.status_code == 404


def test_ending_a_session_from_the_page_needs_its_csrf_token(
    sim: RunningSimulator, http: httpx.Client, client_key: SigningKey
) -> None:
    tokens = logout_rp(sim, http, client_key).tokens()
    sid = claims_of(tokens["id_token"])["sid"]

    answer = http.post(f"{sim.base_url}/admin/end-session", data={"sid": sid})

    assert answer.status_code == 403
    assert sim.state.store.session(sid) is not None
