"""``/connect/endSession`` and back-channel logout to a real receiver."""

from __future__ import annotations

import re

import httpx

from cis2._jws import parse_compact, verify_signature
from cis2.keys import KeySet, SigningKey
from cis2.simulator._login import SESSION_COOKIE
from cis2.simulator.testing import RunningSimulator

from .conftest import (
    DEMO_CLIENT,
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


def browser_session(sim: RunningSimulator, http: httpx.Client, key: SigningKey) -> str:
    """A login whose session cookie http holds, as a browser would; its sid."""
    tokens = logout_rp(sim, http, key).tokens()
    sid: str = claims_of(tokens["id_token"])["sid"]
    # A headless login sets no cookie; a page login would leave this one.
    http.cookies.set(SESSION_COOKIE, sid)
    return sid


def confirmation_csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


def test_logout_csrf_end_session_without_hint_asks_before_ending(
    sim: RunningSimulator,
    http: httpx.Client,
    client_key: SigningKey,
    receiver: Receiver,
) -> None:
    sid = browser_session(sim, http, client_key)
    before = len(receiver.logout_tokens)
    end_session = f"{sim.issuer}/connect/endSession"

    asked = http.get(end_session, params={"state": "bye-2"})
    # A page elsewhere can post the form, but without the strict cookie.
    forged = httpx.post(
        end_session,
        data={"csrf": confirmation_csrf(asked)},
        cookies={SESSION_COOKIE: sid},
    )

    assert asked.status_code == 200
    assert "Sign out of CIS2?" in asked.text
    assert 'name="state" value="bye-2"' in asked.text
    assert forged.status_code == 200
    assert "Sign out of CIS2?" in forged.text
    assert sim.state.store.session(sid) is not None
    assert len(receiver.logout_tokens) == before

    confirmed = http.post(end_session, data={"csrf": confirmation_csrf(asked)})

    assert confirmed.status_code == 200
    assert "You have signed out" in confirmed.text
    assert sim.state.store.session(sid) is None
    wait_for(lambda: len(receiver.logout_tokens) > before)
    assert claims_of(receiver.logout_tokens[-1])["sid"] == sid


def test_logout_csrf_a_wrong_or_non_ascii_token_ends_nothing(
    sim: RunningSimulator, http: httpx.Client, client_key: SigningKey
) -> None:
    sid = browser_session(sim, http, client_key)
    end_session = f"{sim.issuer}/connect/endSession"
    http.get(end_session)

    for csrf in ("guess", "é", ""):
        answer = http.post(end_session, data={"csrf": csrf})
        assert answer.status_code == 200
        assert "Sign out of CIS2?" in answer.text
    assert sim.state.store.session(sid) is not None


def test_logout_csrf_confirmed_logout_keeps_its_redirect_and_state(
    sim: RunningSimulator, http: httpx.Client, client_key: SigningKey
) -> None:
    logout_rp(sim, http, client_key).tokens()
    end_session = f"{sim.issuer}/connect/endSession"
    target = {
        "client_id": LOGOUT_CLIENT,
        "post_logout_redirect_uri": "http://127.0.0.1:8765/signed-out",
        "state": "bye-3",
    }
    asked = http.get(end_session, params=target)

    confirmed = http.post(
        end_session, data={**target, "csrf": confirmation_csrf(asked)}
    )

    assert confirmed.status_code == 302
    assert callback(confirmed) == {"state": "bye-3"}


def test_client_id_differing_from_the_hints_aud_is_refused(
    sim: RunningSimulator, http: httpx.Client, client_key: SigningKey
) -> None:
    tokens = logout_rp(sim, http, client_key).tokens()
    sid = claims_of(tokens["id_token"])["sid"]

    response = http.get(
        f"{sim.issuer}/connect/endSession",
        params={
            "id_token_hint": tokens["id_token"],
            "client_id": DEMO_CLIENT,
            "post_logout_redirect_uri": "http://127.0.0.1:8765/signed-out",
        },
    )

    assert response.status_code == 400
    assert "location" not in response.headers
    assert "client_id is not the audience of id_token_hint" in response.text
    assert sim.state.store.session(sid) is not None


def test_client_id_agreeing_with_the_hints_aud_is_accepted(
    sim: RunningSimulator, http: httpx.Client, client_key: SigningKey
) -> None:
    tokens = logout_rp(sim, http, client_key).tokens()

    response = http.get(
        f"{sim.issuer}/connect/endSession",
        params={"id_token_hint": tokens["id_token"], "client_id": LOGOUT_CLIENT},
    )

    assert response.status_code == 200
    assert "You have signed out" in response.text
