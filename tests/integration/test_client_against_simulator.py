"""cis2.Client and cis2.AsyncClient against the real simulator over loopback."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import cis2
from cis2.simulator import SimulatorConfig
from cis2.simulator.testing import (
    RunningSimulator,
    client_registration,
    run_app,
    run_simulator,
)

CLIENT_ID = "999999999999.apps.national"
REDIRECT = "http://127.0.0.1:8765/callback"
GP_AAL3 = "656005750108"
GP_AAL2 = "656005750111"
SCOPE = "openid profile email nhsperson nationalrbacaccess associatedorgs"


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with run_simulator(headless=True) as running:
        yield running


def _client(sim: RunningSimulator, **options: Any) -> cis2.Client:
    assert sim.demo_key is not None
    return cis2.Client(
        sim.issuer, CLIENT_ID, REDIRECT, signing_key=sim.demo_key, **options
    )


def _callback(url: str) -> str:
    """What the headless simulator redirects the browser to."""
    response = httpx.get(url, follow_redirects=False)
    assert response.status_code in (302, 303), response.text[:300]
    return response.headers["location"]


def test_full_journey_sync(sim: RunningSimulator) -> None:
    with _client(sim, scope=SCOPE, min_id_assurance_level=3) as client:
        request = client.start_login(acr_values="AAL3_ANY", login_hint=GP_AAL3)
        login = client.finish_login(_callback(request.url), request)
        user = login.user
        assert user.uid == GP_AAL3
        assert user.authentication_assurance_level == 3
        assert user.roles and all(role.person_roleid for role in user.roles)
        assert user.roles[0].job_role_code is not None
        assert user.organisations
        assert login.claims["acr"].startswith("AAL3")

        refreshed = client.refresh(login)
        assert refreshed.sub == login.sub
        assert refreshed.access_token != login.access_token

        info = client.userinfo(refreshed)
        assert info.claims["sub"] == GP_AAL3

        assert client.end_session(refreshed) < 400
        with pytest.raises(cis2.UserInfoError) as caught:
            client.userinfo(refreshed)
        assert caught.value.status_code == 401


async def test_full_journey_async(sim: RunningSimulator) -> None:
    assert sim.demo_key is not None
    async with cis2.AsyncClient(
        sim.issuer, CLIENT_ID, REDIRECT, signing_key=sim.demo_key, scope=SCOPE
    ) as client:
        request = await client.start_login(login_hint=GP_AAL3)
        callback = await asyncio.to_thread(_callback, request.url)
        login = await client.finish_login(callback, request)
        assert login.user.uid == GP_AAL3
        refreshed = await client.refresh(login)
        assert (await client.userinfo(refreshed)).claims["sub"] == GP_AAL3
        url = await client.logout_url(refreshed)
        assert url.startswith(f"{sim.issuer}/connect/endSession?")


def test_a_warm_login_costs_one_token_and_one_userinfo_request(
    sim: RunningSimulator,
) -> None:
    seen: list[str] = []
    connections: set[int] = set()

    def record(request: httpx.Request) -> None:
        seen.append(request.url.path.rsplit("/", 1)[-1])

    def track(response: httpx.Response) -> None:
        stream = response.extensions.get("network_stream")
        if stream is not None:
            connections.add(id(stream))

    http = httpx.Client(event_hooks={"request": [record], "response": [track]})
    with _client(sim, http=http) as client:
        first = client.start_login(login_hint=GP_AAL3)
        client.finish_login(_callback(first.url), first)
        seen.clear()
        connections.clear()
        for _ in range(3):
            request = client.start_login(login_hint=GP_AAL3)
            client.finish_login(_callback(request.url), request)
    http.close()
    assert seen == ["access_token", "userinfo"] * 3
    assert len(connections) == 1


def test_aal2_user_is_refused_an_aal3_login(sim: RunningSimulator) -> None:
    with _client(sim) as client:
        request = client.start_login(acr_values="AAL3_ANY", login_hint=GP_AAL2)
        with pytest.raises(cis2.AuthorizationError) as caught:
            client.finish_login(_callback(request.url), request)
        assert caught.value.error


def test_a_code_replayed_is_refused(sim: RunningSimulator) -> None:
    with _client(sim) as client:
        request = client.start_login(login_hint=GP_AAL3)
        callback = _callback(request.url)
        client.finish_login(callback, request)
        with pytest.raises(cis2.InvalidGrantError):
            client.finish_login(callback, request)


def test_an_api_platform_key_as_client_id_is_explained(sim: RunningSimulator) -> None:
    api_key = "Ab3dEfGh1jKlMn0pQrStUvWxYz012345"
    assert sim.demo_key is not None
    with cis2.Client(sim.issuer, api_key, REDIRECT, signing_key=sim.demo_key) as client:
        # An unregistered client_id: the token request alone decides.
        request = client.start_login()
        callback = f"{REDIRECT}?code=not-a-real-code&state={request.state}"
        with pytest.raises(cis2.InvalidClientError) as caught:
            client.finish_login(callback, request)
    error = caught.value
    assert error.error_description == "JWT is not valid"
    assert any(f.field == "iss" for f in error.findings), error.findings
    assert "eyJ" not in str(error)


def test_back_channel_logout_reaches_the_client(tmp_path: Any) -> None:
    key = cis2.generate_signing_key()
    events: list[cis2.LogoutEvent] = []
    errors: list[str] = []
    holder: dict[str, cis2.Client] = {}
    done = threading.Event()

    async def logout(request: Request) -> Response:
        form = await request.form()
        token = str(form["logout_token"])
        try:
            event = await asyncio.to_thread(holder["client"].verify_logout_token, token)
        except cis2.LogoutTokenError as exc:
            errors.append(exc.message)
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        events.append(event)
        done.set()
        return JSONResponse({}, headers={"Cache-Control": "no-store"})

    receiver = Starlette(
        routes=[Route("/back-channel-logout", logout, methods=["POST"])]
    )
    with run_app(receiver) as base:
        registration = client_registration(
            "444444444444.apps.supplier",
            REDIRECT,
            key,
            backchannel_logout_uri=f"{base}/back-channel-logout",
            grant_types=("authorization_code", "refresh_token"),
        )
        config = SimulatorConfig(clients=(registration,), headless=True)
        with run_simulator(config) as sim:
            client = cis2.Client(
                sim.issuer, registration.client_id, REDIRECT, signing_key=key
            )
            holder["client"] = client
            request = client.start_login(login_hint=GP_AAL3)
            login = client.finish_login(_callback(request.url), request)
            client.end_session(login)
            assert done.wait(10), errors
            client.close()
    assert events[0].sid == login.claims["sid"]
    assert events[0].sub == GP_AAL3
