"""Every private_key_jwt rule, each broken alone by a real signed assertion.

CIS2 answers all of them with the same body (reference 4.4); the simulator
adds the real reason in ``cis2_sim_reason`` because these tests run it with
``explain``.
"""

from __future__ import annotations

import logging
import time
import uuid

import httpx
import pytest

from cis2.keys import SigningKey, generate_signing_key
from cis2.simulator.testing import RunningSimulator, client_registration

from .conftest import (
    DEMO_CLIENT,
    SECRET_CLIENT,
    URI_CLIENT,
    Receiver,
    RelyingParty,
    fresh_rp,
)

JWT_NOT_VALID = {"error_description": "JWT is not valid", "error": "invalid_client"}


def refused(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert {k: body[k] for k in ("error", "error_description")} == JWT_NOT_VALID
    assert body["cis2_sim_reason"].startswith(reason + ": "), body


def test_a_correct_assertion_is_accepted(rp: RelyingParty) -> None:
    tokens = rp.tokens()
    assert tokens["token_type"] == "Bearer"


def test_the_cis2_client_assertion_helper_is_accepted(rp: RelyingParty) -> None:
    from cis2._client_auth import PrivateKeyJwt

    fields = PrivateKeyJwt(rp.key).form_fields(
        DEMO_CLIENT, rp.sim.token_endpoint, int(time.time())
    )
    response = rp.token(rp.code(), **fields)
    assert response.status_code == 200, response.text


def test_assertion_type_must_be_jwt_bearer(rp: RelyingParty) -> None:
    refused(
        rp.token(rp.code(), client_assertion_type="urn:wrong"), "assertion_type_invalid"
    )


def test_assertion_must_be_present(rp: RelyingParty) -> None:
    refused(rp.token(rp.code(), client_assertion=None), "assertion_missing")


def test_malformed_assertion(rp: RelyingParty) -> None:
    refused(rp.token(rp.code(), client_assertion="not.a-jwt"), "malformed")


def test_alg_must_be_the_registered_one(rp: RelyingParty) -> None:
    refused(
        rp.token(rp.code(), client_assertion=rp.assertion(alg="RS256")),
        "alg_not_registered",
    )


def test_kid_must_be_present(rp: RelyingParty) -> None:
    refused(
        rp.token(rp.code(), client_assertion=rp.assertion(drop=("kid",))), "kid_missing"
    )


def test_kid_must_be_known(rp: RelyingParty) -> None:
    assertion = rp.assertion(header={"kid": "not-registered"})
    refused(rp.token(rp.code(), client_assertion=assertion), "kid_unknown")


def test_signature_must_verify_with_the_registered_key(rp: RelyingParty) -> None:
    stranger = generate_signing_key(alg="RS512", kid=rp.key.kid)
    assertion = rp.assertion(key=stranger)
    refused(rp.token(rp.code(), client_assertion=assertion), "signature_invalid")


def test_iss_must_be_the_client_id(rp: RelyingParty) -> None:
    assertion = rp.assertion(iss="a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4")
    refused(rp.token(rp.code(), client_assertion=assertion), "iss_mismatch")


def test_sub_must_be_the_client_id(rp: RelyingParty) -> None:
    assertion = rp.assertion(sub="someone-else")
    refused(rp.token(rp.code(), client_assertion=assertion), "sub_mismatch")


def test_form_client_id_and_iss_must_agree(
    rp: RelyingParty, client_key: SigningKey
) -> None:
    # Another registered client signs an assertion for itself, while the
    # form names the demo client: the demo client's rules apply and refuse.
    other = "333333333333.apps.supplier"
    assertion = rp.assertion(iss=other, sub=other, key=client_key)
    refused(rp.token(rp.code(), client_assertion=assertion), "kid_unknown")
    assertion = rp.assertion(iss=other, sub=other)
    refused(rp.token(rp.code(), client_assertion=assertion), "iss_mismatch")


def test_client_id_may_be_left_out_of_the_form(rp: RelyingParty) -> None:
    response = rp.token(rp.code(), client_id=None)
    assert response.status_code == 200, response.text


def test_aud_must_be_the_token_endpoint_exactly(rp: RelyingParty) -> None:
    for aud in (
        rp.sim.token_endpoint + "/",
        rp.sim.issuer,
        rp.sim.token_endpoint.replace(f":{rp.sim.config.port}", ""),
        "https://int.api.service.nhs.uk/oauth2/token",
    ):
        refused(
            rp.token(rp.code(), client_assertion=rp.assertion(aud=aud)), "aud_mismatch"
        )


def test_aud_array_is_refused_as_cis2_compares_one_string(rp: RelyingParty) -> None:
    assertion = rp.assertion(aud=[rp.sim.token_endpoint])
    refused(rp.token(rp.code(), client_assertion=assertion), "aud_array")


def test_aud_array_holding_the_token_endpoint_is_accepted_when_enabled() -> None:
    with fresh_rp(accept_aud_list=True, explain=True) as rp:
        listed = rp.assertion(aud=[rp.sim.token_endpoint])
        wrong = rp.assertion(aud=["https://wrong.test/"])

        assert rp.token(rp.code(), client_assertion=listed).status_code == 200
        refused(rp.token(rp.code(), client_assertion=wrong), "aud_mismatch")


def test_exp_must_be_present(rp: RelyingParty) -> None:
    refused(
        rp.token(rp.code(), client_assertion=rp.assertion(drop=("exp",))), "exp_missing"
    )


def test_exp_must_be_an_integer(rp: RelyingParty) -> None:
    assertion = rp.assertion(exp=int(time.time()) + 100.5)
    refused(rp.token(rp.code(), client_assertion=assertion), "exp_not_integer")


def test_exp_must_be_in_the_future(rp: RelyingParty) -> None:
    assertion = rp.assertion(exp=int(time.time()) - 60)
    refused(rp.token(rp.code(), client_assertion=assertion), "exp_passed")


def test_exp_at_most_300_seconds_ahead(rp: RelyingParty) -> None:
    assertion = rp.assertion(exp=int(time.time()) + 400)
    refused(rp.token(rp.code(), client_assertion=assertion), "exp_too_far")


def test_iat_must_be_an_integer(rp: RelyingParty) -> None:
    assertion = rp.assertion(iat=str(int(time.time())))
    refused(rp.token(rp.code(), client_assertion=assertion), "iat_not_integer")


def test_iat_must_not_be_in_the_future(rp: RelyingParty) -> None:
    assertion = rp.assertion(iat=int(time.time()) + 120)
    refused(rp.token(rp.code(), client_assertion=assertion), "iat_in_future")


def test_missing_iat_is_accepted_by_default(rp: RelyingParty) -> None:
    assertion = rp.assertion(drop=("iat",))
    assert rp.token(rp.code(), client_assertion=assertion).status_code == 200


def test_require_iat_refuses_a_missing_iat() -> None:
    with fresh_rp(explain=True, require_iat=True) as rp:
        assertion = rp.assertion(drop=("iat",))
        refused(rp.token(rp.code(), client_assertion=assertion), "iat_missing")


def test_nbf_is_respected(rp: RelyingParty) -> None:
    assertion = rp.assertion(nbf=int(time.time()) + 120)
    refused(rp.token(rp.code(), client_assertion=assertion), "nbf_in_future")


def test_jti_must_be_present(rp: RelyingParty) -> None:
    refused(
        rp.token(rp.code(), client_assertion=rp.assertion(drop=("jti",))), "jti_missing"
    )


def test_jti_must_be_a_string(rp: RelyingParty) -> None:
    refused(
        rp.token(rp.code(), client_assertion=rp.assertion(jti=12345)), "jti_not_string"
    )


def test_jti_must_never_be_seen_twice(rp: RelyingParty) -> None:
    assertion = rp.assertion(jti=str(uuid.uuid4()))
    assert rp.token(rp.code(), client_assertion=assertion).status_code == 200

    refused(rp.token(rp.code(), client_assertion=assertion), "jti_reused")


def test_typ_other_than_jwt_is_refused(rp: RelyingParty) -> None:
    assertion = rp.assertion(header={"typ": "at+jwt"})
    refused(rp.token(rp.code(), client_assertion=assertion), "typ_invalid")


def test_unknown_client_is_invalid_client(rp: RelyingParty) -> None:
    response = rp.token(rp.code(), client_id="000000000000.apps.national")
    refused(response, "client_unknown")


def test_a_client_secret_sent_by_a_private_key_jwt_client_is_refused(
    rp: RelyingParty,
) -> None:
    response = rp.token(rp.code(), client_secret="guess")
    refused(response, "auth_method_not_registered")


def test_jwks_uri_is_fetched_once_and_cached(
    sim: RunningSimulator, http: httpx.Client, uri_key: SigningKey, receiver: Receiver
) -> None:
    rp = RelyingParty(sim, http, uri_key, client_id=URI_CLIENT)
    assert rp.tokens()["id_token"]
    fetched = receiver.jwks_fetches

    assert rp.tokens()["id_token"]
    assert receiver.jwks_fetches == fetched


def test_jwks_uri_refetched_once_for_a_new_kid(
    sim: RunningSimulator, http: httpx.Client, receiver: Receiver, uri_key: SigningKey
) -> None:
    rp = RelyingParty(sim, http, uri_key, client_id=URI_CLIENT)
    rp.tokens()
    rolled = generate_signing_key(alg="RS256")
    receiver.jwks = {"keys": [uri_key.public_jwk(), rolled.public_jwk()]}
    time.sleep(1.1)

    assert RelyingParty(sim, http, rolled, client_id=URI_CLIENT).tokens()


def test_unreachable_jwks_uri_is_invalid_client(
    client_key: SigningKey,
) -> None:
    from cis2.simulator import ClientRegistration

    client = ClientRegistration(
        client_id="444444444444.apps.supplier",
        redirect_uris=("http://127.0.0.1/callback",),
        jwks_uri="http://127.0.0.1:9/jwks.json",
    )
    with fresh_rp(explain=True, clients=(client,)) as demo:
        rp = RelyingParty(
            demo.sim,
            demo.http,
            client_key,
            client_id=client.client_id,
            redirect_uri="http://127.0.0.1:4000/callback",
        )
        refused(rp.token(rp.code()), "jwks_unreachable")


def test_client_secret_post_client(sim: RunningSimulator, http: httpx.Client) -> None:
    rp = RelyingParty(
        sim,
        http,
        generate_signing_key(),
        client_id=SECRET_CLIENT,
        redirect_uri="https://rp.example.test/callback",
    )
    code = rp.code()
    wrong = rp.token(
        code, client_assertion=None, client_assertion_type=None, client_secret="wrong"
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert wrong.json()["error_description"] == "Client authentication failed"

    right = rp.token(
        rp.code(),
        client_assertion=None,
        client_assertion_type=None,
        client_secret="s3cret-for-tests",
    )
    assert right.status_code == 200, right.text
    assert "refresh_token" not in right.json()


def test_assertion_from_a_client_secret_client_is_refused(
    sim: RunningSimulator, http: httpx.Client
) -> None:
    key = generate_signing_key()
    rp = RelyingParty(
        sim,
        http,
        key,
        client_id=SECRET_CLIENT,
        redirect_uri="https://rp.example.test/callback",
    )
    refused(rp.token(rp.code()), "auth_method_not_registered")


def test_without_explain_the_reason_stays_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with fresh_rp() as rp, caplog.at_level(logging.INFO, logger="cis2.simulator"):
        response = rp.token(rp.code(), client_assertion=rp.assertion(aud="x"))

    assert response.status_code == 401
    assert response.json() == JWT_NOT_VALID
    assert any("aud_mismatch" in r.getMessage() for r in caplog.records)
    assert not any("eyJ" in r.getMessage() for r in caplog.records)


def test_invalid_client_status_can_be_400() -> None:
    with fresh_rp(invalid_client_status=400) as rp:
        response = rp.token(rp.code(), client_assertion=rp.assertion(aud="x"))
    assert response.status_code == 400
    assert response.json() == JWT_NOT_VALID


def test_a_published_key_whose_alg_differs_is_refused() -> None:
    key = generate_signing_key(alg="RS256")
    client = client_registration(
        "555555555555.apps.supplier",
        "http://127.0.0.1/callback",
        key,
        token_endpoint_auth_signing_alg="RS512",
    )
    with fresh_rp(explain=True, clients=(client,)) as demo:
        rp = RelyingParty(
            demo.sim,
            demo.http,
            key,
            client_id=client.client_id,
            redirect_uri="http://127.0.0.1:4000/callback",
        )
        assertion = rp.assertion(alg="RS512")
        refused(rp.token(rp.code(), client_assertion=assertion), "key_alg_mismatch")


def test_a_jwks_uri_that_serves_no_jwks_is_refused(
    receiver: Receiver, client_key: SigningKey
) -> None:
    from cis2.simulator import ClientRegistration

    client = ClientRegistration(
        client_id="666666666666.apps.supplier",
        redirect_uris=("http://127.0.0.1/callback",),
        jwks_uri=f"{receiver.base_url}/not-jwks.json",
    )
    with fresh_rp(explain=True, clients=(client,)) as demo:
        rp = RelyingParty(
            demo.sim,
            demo.http,
            client_key,
            client_id=client.client_id,
            redirect_uri="http://127.0.0.1:4000/callback",
        )
        refused(rp.token(rp.code()), "jwks_invalid")


def test_require_typ_refuses_a_missing_typ() -> None:
    with fresh_rp(explain=True, require_typ=True) as rp:
        assertion = rp.assertion(drop=("typ",))
        refused(rp.token(rp.code(), client_assertion=assertion), "typ_missing")
