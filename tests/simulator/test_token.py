"""The token endpoint's grants: codes, PKCE, refresh, and the tokens issued."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time

import httpx
import pytest

from cis2._jws import parse_compact, verify_signature
from cis2.keys import KeySet
from cis2.simulator.testing import RunningSimulator

from .conftest import (
    DEMO_CLIENT,
    GP_AAL3,
    LOGOUT_CLIENT,
    RelyingParty,
    claims_of,
    fresh_rp,
    header_of,
)

INVALID_GRANT = {
    "error_description": "The provided access grant is invalid, expired, or revoked.",
    "error": "invalid_grant",
}


def bad_grant(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert {k: body[k] for k in ("error", "error_description")} == INVALID_GRANT
    assert body["cis2_sim_reason"] == reason


def userinfo(rp: RelyingParty, access_token: str) -> httpx.Response:
    return rp.http.get(
        f"{rp.sim.issuer}/userinfo",
        headers={"Authorization": f"Bearer {access_token}"},
    )


def test_token_response_has_cis2_shape(rp: RelyingParty) -> None:
    verifier = secrets.token_urlsafe(48)
    response = rp.token(rp.code(verifier), code_verifier=verifier)

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3599
    assert body["scope"] == "openid profile nationalrbacaccess"
    assert body["refresh_token"]


def test_id_token_carries_cis2_claims_signed_rs256(rp: RelyingParty) -> None:
    verifier = secrets.token_urlsafe(48)
    code = rp.code(
        verifier,
        nonce="n-123",
        state="st-1",
        acr_values="AAL3_ANY",
        scope="openid selectedrole",
    )
    body = rp.token(code, code_verifier=verifier).json()
    token = body["id_token"]
    header, claims = header_of(token), claims_of(token)

    assert header["alg"] == "RS256" and header["typ"] == "JWT"
    keys = KeySet.from_json(rp.http.get(f"{rp.sim.issuer}/connect/jwk_uri").json())
    key = keys.find(header["kid"])
    assert key is not None
    jws = parse_compact(token)
    verify_signature("RS256", key.key, jws.signing_input, jws.signature)
    assert claims["iss"] == rp.sim.issuer
    assert claims["sub"] == GP_AAL3
    assert claims["aud"] == claims["azp"] == DEMO_CLIENT
    assert claims["nonce"] == "n-123"
    assert claims["acr"] == "AAL3_ANY"
    assert claims["amr"] == ["N3_SMARTCARD"]
    assert claims["id_assurance_level"] == "3"
    assert claims["authentication_assurance_level"] == "3"
    assert claims["exp"] - claims["iat"] == 300
    assert abs(claims["auth_time"] - time.time()) < 10
    assert claims["sid"]
    assert claims["selected_roleid"] == "555021935107"
    assert claims["at_hash"] == half(body["access_token"])
    assert claims["c_hash"] == half(code)
    assert claims["s_hash"] == half("st-1")
    assert claims["tokenName"] == "id_token"
    assert claims["realm"] == "/NHSIdentity/Healthcare"
    assert "org.forgerock.openidconnect.ops" in claims
    assert "name" not in claims


def half(value: str) -> str:
    digest = hashlib.sha256(value.encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_integer_assurance_option() -> None:
    with fresh_rp(integer_assurance=True) as rp:
        claims = claims_of(rp.tokens()["id_token"])
    assert claims["id_assurance_level"] == 3
    assert claims["authentication_assurance_level"] == 3


def test_code_is_single_use_and_reuse_revokes_what_it_issued(rp: RelyingParty) -> None:
    code = rp.code()
    first = rp.token(code).json()
    assert userinfo(rp, first["access_token"]).status_code == 200

    bad_grant(rp.token(code), "code_reused")

    assert userinfo(rp, first["access_token"]).status_code == 401
    refresh = rp.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
    bad_grant(refresh, "refresh_revoked")


def test_unknown_code(rp: RelyingParty) -> None:
    bad_grant(rp.token("not-a-code"), "code_unknown")


def test_missing_code_is_invalid_request(rp: RelyingParty) -> None:
    response = rp.token(None)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_code_expires() -> None:
    with fresh_rp(explain=True, code_lifetime=1) as rp:
        code = rp.code()
        time.sleep(2.1)
        bad_grant(rp.token(code), "code_expired")


def test_code_is_bound_to_the_redirect_uri(rp: RelyingParty) -> None:
    bad_grant(
        rp.token(rp.code(), redirect_uri="http://127.0.0.1/callback"),
        "redirect_uri_mismatch",
    )
    bad_grant(rp.token(rp.code(), redirect_uri=None), "redirect_uri_mismatch")


def test_code_is_bound_to_the_client(
    rp: RelyingParty, client_key: object, sim: RunningSimulator
) -> None:
    from cis2.keys import SigningKey

    assert isinstance(client_key, SigningKey)
    code = rp.code()
    other = RelyingParty(sim, rp.http, client_key, client_id=LOGOUT_CLIENT)
    bad_grant(other.token(code), "code_other_client")


def test_pkce_verifier_must_match(rp: RelyingParty) -> None:
    verifier = secrets.token_urlsafe(48)
    bad_grant(
        rp.token(rp.code(verifier), code_verifier=verifier + "x"), "pkce_mismatch"
    )


def test_pkce_verifier_must_be_sent_when_a_challenge_was(rp: RelyingParty) -> None:
    bad_grant(rp.token(rp.code(secrets.token_urlsafe(48))), "pkce_missing")


def test_pkce_verifier_without_challenge_is_refused(rp: RelyingParty) -> None:
    bad_grant(
        rp.token(rp.code(), code_verifier=secrets.token_urlsafe(48)),
        "pkce_unexpected_verifier",
    )


def test_refresh_gives_new_tokens_and_rotates(rp: RelyingParty) -> None:
    first = rp.tokens(nonce="n-1")
    response = rp.token(
        grant_type="refresh_token", refresh_token=first["refresh_token"]
    )

    assert response.status_code == 200, response.text
    second = response.json()
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    claims = claims_of(second["id_token"])
    assert claims["sid"] == claims_of(first["id_token"])["sid"]
    assert claims["auth_time"] == claims_of(first["id_token"])["auth_time"]
    assert "nonce" not in claims
    assert userinfo(rp, second["access_token"]).status_code == 200


def test_a_rotated_refresh_token_reused_revokes_the_grant(rp: RelyingParty) -> None:
    first = rp.tokens()
    second = rp.token(
        grant_type="refresh_token", refresh_token=first["refresh_token"]
    ).json()

    again = rp.token(grant_type="refresh_token", refresh_token=first["refresh_token"])

    bad_grant(again, "refresh_reused")
    assert userinfo(rp, second["access_token"]).status_code == 401


def test_refresh_needs_client_authentication(rp: RelyingParty) -> None:
    first = rp.tokens()
    response = rp.token(
        grant_type="refresh_token",
        refresh_token=first["refresh_token"],
        client_assertion=rp.assertion(aud="elsewhere"),
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("grant_type", "error"),
    [("password", "unsupported_grant_type"), (None, "unsupported_grant_type")],
)
def test_unsupported_grant_types(
    rp: RelyingParty, grant_type: str | None, error: str
) -> None:
    response = rp.token(rp.code(), grant_type=grant_type)
    assert response.status_code == 400
    assert response.json()["error"] == error


def test_no_refresh_token_when_disabled() -> None:
    with fresh_rp(refresh_tokens=False) as rp:
        body = rp.tokens()
    assert "refresh_token" not in body


def test_changedrole_carries_the_chosen_role_like_selectedrole(
    rp: RelyingParty,
) -> None:
    tokens = rp.tokens(scope="openid changedrole", login_hint="656005750104")
    assert claims_of(tokens["id_token"])["selected_roleid"] == "555021947109"
