"""Signing-key rotation without a gap, and state that survives a restart."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from cis2.keys import SigningKey, generate_signing_key, jwks
from cis2.simulator import SimulatorConfig, rotate_keys
from cis2.simulator._signing import opaque_kid
from cis2.simulator.testing import RunningSimulator, run_simulator

from .conftest import RelyingParty, header_of


def published(sim: RunningSimulator, http: httpx.Client) -> list[str]:
    document = http.get(f"{sim.issuer}/connect/jwk_uri").json()
    return [key["kid"] for key in document["keys"]]


def test_jwks_publishes_the_next_key_before_it_signs(
    rp: RelyingParty, sim: RunningSimulator, http: httpx.Client
) -> None:
    first = header_of(rp.tokens()["id_token"])["kid"]
    kids = published(sim, http)
    assert first in kids and len(kids) == 2
    upcoming = next(kid for kid in kids if kid != first)

    answer = http.post(
        f"{sim.base_url}/admin/rotate-keys", headers={"X-Cis2-Admin": "1"}
    )

    assert answer.status_code == 200
    assert answer.json()["active_kid"] == upcoming
    assert header_of(rp.tokens()["id_token"])["kid"] == upcoming
    after = published(sim, http)
    assert first in after, "the old key stays until its tokens expire"
    assert upcoming in after and len(after) == 3


def test_rotate_keys_command_reaches_a_running_simulator(
    rp: RelyingParty, sim: RunningSimulator, http: httpx.Client
) -> None:
    before = header_of(rp.tokens()["id_token"])["kid"]

    active = rotate_keys(sim.state.data_dir)

    assert active != before
    assert header_of(rp.tokens()["id_token"])["kid"] == active
    assert before in published(sim, http)


def test_retired_keys_leave_the_jwks_once_their_tokens_expired(
    sim: RunningSimulator, http: httpx.Client
) -> None:
    ring = sim.state.keys
    old = ring.active_kid()
    ring.rotate(sim.state.now() - 10_000, keep_for=1)

    assert old not in published(sim, http)


def test_rotation_without_admin_header_needs_the_pages_csrf_token(
    sim: RunningSimulator, http: httpx.Client
) -> None:
    answer = http.post(f"{sim.base_url}/admin/rotate-keys", data={"csrf": "guess"})
    assert answer.status_code == 403


def test_kids_look_like_cis2s() -> None:
    key = generate_signing_key()
    kid = opaque_kid(key.public_key)
    assert len(kid) == 28 and kid.endswith("=")


def test_a_restart_loses_nothing(tmp_path: Path) -> None:
    key = generate_signing_key(alg="RS512")
    config = SimulatorConfig.default(
        demo_client_key_jwks=jwks(key),
        data_dir=tmp_path,
        headless=True,
        explain=True,
    )
    with run_simulator(config) as first, httpx.Client() as http:
        port = first.config.port
        rp = RelyingParty(first, http, key)
        tokens = rp.tokens()
        used_code = rp.code()
        jti = str(uuid.uuid4())
        assert rp.token(used_code, client_assertion=rp.assertion(jti=jti)).is_success
        kid = header_of(tokens["id_token"])["kid"]

    with run_simulator(config, port=port) as second, httpx.Client() as http:
        rp = RelyingParty(second, http, key)
        refreshed = rp.token(
            grant_type="refresh_token", refresh_token=tokens["refresh_token"]
        )
        assert refreshed.status_code == 200, refreshed.text
        assert header_of(refreshed.json()["id_token"])["kid"] == kid

        replay = rp.token(used_code)
        assert replay.json()["cis2_sim_reason"] == "code_reused"

        seen = rp.token(rp.code(), client_assertion=rp.assertion(jti=jti))
        assert seen.json()["cis2_sim_reason"].startswith("jti_reused")


def test_client_registration_helper(client_key: SigningKey) -> None:
    from cis2.simulator.testing import client_registration

    client = client_registration("1.apps.supplier", "http://127.0.0.1/cb", client_key)
    assert client.token_endpoint_auth_signing_alg == "RS512"
    keys = client.key_set()
    assert keys is not None and keys.find(client_key.kid) is not None
