"""The OpenID Foundation's RP conformance cases for a code-flow client.

Each test is named after the case it reproduces (the old suite's
``rp-...`` name; the new suite calls them ``oidcc-client-test-...``) and
keeps to the cases that apply to a code-flow client authenticating with
private_key_jwt. A misbehaving provider commits exactly one fault per case
over real HTTP; ``cis2.Client`` must refuse it with the right error naming
the claim, and must pass the good cases.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

import cis2
from cis2.errors import (
    DiscoveryError,
    LogoutTokenError,
    TokenValidationError,
    UserInfoError,
)

from ._misbehaving_op import DELETE, PERSONA, Fault, MisbehavingProvider


def sign_in(client: cis2.Client, http: httpx.Client) -> cis2.Login:
    """Run the code flow against the headless provider."""
    login_request = client.start_login(acr_values="AAL3_ANY", login_hint=PERSONA)
    response = http.get(login_request.url, follow_redirects=False)
    assert response.status_code == 302, response.text
    return client.finish_login(response.headers["location"], login_request)


RefusedClaim = Callable[[Fault], str]


@pytest.fixture
def refused_claim(
    client: cis2.Client,
    http: httpx.Client,
    provider: MisbehavingProvider,
    caplog: pytest.LogCaptureFixture,
) -> RefusedClaim:
    """Sign in against the fault; the claim the client's refusal names.

    The refusal must not carry any token or code the provider issued, in
    its message, its repr or the log.
    """

    def refuse(fault: Fault) -> str:
        provider.fault = fault
        with (
            caplog.at_level(logging.DEBUG, "cis2"),
            pytest.raises(TokenValidationError) as caught,
        ):
            sign_in(client, http)
        told = f"{caught.value} {caught.value!r} {caplog.text}"
        assert provider.issued and caplog.records
        assert not [secret for secret in provider.issued if secret in told]
        return caught.value.claim

    return refuse


# The good cases: a correct provider must be accepted.


def test_rp_id_token_sig_rs256(client: cis2.Client, http: httpx.Client) -> None:
    login = sign_in(client, http)

    assert login.claims["sub"] == PERSONA
    assert login.user.uid == PERSONA
    assert login.refresh_token is not None
    assert login.userinfo is not None


def test_rp_userinfo_bearer_header(client: cis2.Client, http: httpx.Client) -> None:
    login = sign_in(client, http)

    userinfo = client.userinfo(login)

    assert userinfo.claims["sub"] == PERSONA
    assert userinfo.user.roles[0].role_code == "S0010:G0020:R0260"


def test_rp_refresh_token(client: cis2.Client, http: httpx.Client) -> None:
    login = sign_in(client, http)

    refreshed = client.refresh(login)

    assert refreshed.access_token != login.access_token
    assert refreshed.claims["sub"] == PERSONA


# ID token claims (OIDC Core 3.1.3.7).


def test_rp_id_token_iss(refused_claim: RefusedClaim) -> None:
    assert (
        refused_claim(Fault(id_token={"iss": "https://op.example.test/other"})) == "iss"
    )


def test_rp_id_token_iss_without_port(
    refused_claim: RefusedClaim, provider: MisbehavingProvider
) -> None:
    """CIS2 compares issuers byte for byte: a dropped port is another issuer."""
    portless = provider.issuer.replace(f":{provider.port}", "", 1)

    assert refused_claim(Fault(id_token={"iss": portless})) == "iss"


def test_rp_id_token_aud(refused_claim: RefusedClaim) -> None:
    assert (
        refused_claim(
            Fault(id_token={"aud": "888888888888.apps.national", "azp": DELETE})
        )
        == "aud"
    )


def test_rp_id_token_aud_missing(refused_claim: RefusedClaim) -> None:
    assert refused_claim(Fault(id_token={"aud": DELETE})) == "aud"


def test_rp_id_token_sub(refused_claim: RefusedClaim) -> None:
    assert refused_claim(Fault(id_token={"sub": DELETE})) == "sub"


def test_rp_id_token_iat(refused_claim: RefusedClaim) -> None:
    assert refused_claim(Fault(id_token={"iat": DELETE})) == "iat"


def test_rp_id_token_expired(refused_claim: RefusedClaim) -> None:
    assert refused_claim(Fault(id_token={"exp": 1_000_000_000})) == "exp"


def test_rp_nonce_invalid(refused_claim: RefusedClaim) -> None:
    assert (
        refused_claim(Fault(id_token={"nonce": "not-the-nonce-the-client-sent"}))
        == "nonce"
    )


def test_rp_nonce_missing(refused_claim: RefusedClaim) -> None:
    assert refused_claim(Fault(id_token={"nonce": DELETE})) == "nonce"


def test_rp_id_token_bad_at_hash(refused_claim: RefusedClaim) -> None:
    assert (
        refused_claim(Fault(id_token={"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"}))
        == "at_hash"
    )


def test_rp_id_token_azp(refused_claim: RefusedClaim) -> None:
    assert refused_claim(Fault(id_token={"azp": "888888888888.apps.national"})) == "azp"


# ID token signatures and keys (OIDC Core 3.1.3.7 steps 6-8, 10.1).


def test_rp_id_token_bad_sig_rs256(refused_claim: RefusedClaim) -> None:
    assert refused_claim(Fault(signature="bad")) == "signature"


def test_rp_id_token_sig_none(refused_claim: RefusedClaim) -> None:
    assert refused_claim(Fault(signature="none")) == "alg"


def test_rp_id_token_bad_sig_hs256(refused_claim: RefusedClaim) -> None:
    """HMAC keyed with the provider's public key must never verify."""
    assert refused_claim(Fault(header={"alg": "HS256"})) == "alg"


def test_rp_id_token_kid_absent_single_jwks(
    client: cis2.Client, http: httpx.Client, provider: MisbehavingProvider
) -> None:
    """One key and no kid: the RP must use that key and accept."""
    provider.publish_kids = False

    login = sign_in(client, http)

    assert login.claims["sub"] == PERSONA


def test_rp_id_token_kid_absent_multiple_jwks(
    refused_claim: RefusedClaim, provider: MisbehavingProvider
) -> None:
    """Several keys and no kid: the RP may refuse; cis2 does, naming kid."""
    provider.publish_kids = False
    spare = cis2.generate_signing_key(alg="RS256")
    provider.published = [spare, provider.signing_key]

    assert refused_claim(Fault()) == "kid"


def test_rp_id_token_kid_unknown(
    refused_claim: RefusedClaim, provider: MisbehavingProvider
) -> None:
    """A kid the JWKS never publishes: refused after exactly one refetch."""
    assert refused_claim(Fault(header={"kid": "bm90LXB1Ymxpc2hlZA=="})) == "kid"
    assert provider.jwks_fetches == 2


def test_rp_key_rotation_op_sign_key(
    client: cis2.Client, http: httpx.Client, provider: MisbehavingProvider
) -> None:
    """The provider rotates between logins: one refetch finds the new key."""
    sign_in(client, http)
    fetches = provider.jwks_fetches
    provider.rotate_key()

    login = sign_in(client, http)

    assert login.claims["sub"] == PERSONA
    assert provider.jwks_fetches == fetches + 1


def test_rp_key_rotation_op_sign_key_just_before_signing(
    client: cis2.Client, http: httpx.Client, provider: MisbehavingProvider
) -> None:
    sign_in(client, http)
    provider.fault = Fault(rotate_before_signing=True)

    login = sign_in(client, http)

    assert login.claims["sub"] == PERSONA


def test_rp_ignores_unparseable_key_in_jwks(
    client: cis2.Client, http: httpx.Client, provider: MisbehavingProvider
) -> None:
    """Keys the RP cannot use are skipped; the good key still verifies."""
    provider.extra_jwks = [
        {"kty": "XYZ", "kid": "unknown-type"},
        {"kty": "RSA", "kid": "no-modulus", "e": "AQAB"},
        {"kty": "EC", "kid": "bad-curve", "crv": "P-0", "x": "AA", "y": "AA"},
    ]

    assert sign_in(client, http).claims["sub"] == PERSONA


# Discovery (OpenID Connect Discovery 1.0 section 4.3).


def test_rp_discovery_issuer_mismatch(
    client: cis2.Client, http: httpx.Client, provider: MisbehavingProvider
) -> None:
    provider.fault = Fault(discovery_issuer=provider.issuer + "/")

    with pytest.raises(DiscoveryError) as caught:
        sign_in(client, http)

    assert caught.value.field == "issuer"


# UserInfo (OIDC Core 5.3.4).


def test_rp_userinfo_bad_sub_claim(
    client: cis2.Client, http: httpx.Client, provider: MisbehavingProvider
) -> None:
    """Both the UserInfo call in finish_login and an explicit one refuse it."""
    provider.fault = Fault(userinfo={"sub": "656005750111"})
    login_request = client.start_login(acr_values="AAL3_ANY", login_hint=PERSONA)
    callback = http.get(login_request.url).headers["location"]
    login = client.finish_login(callback, login_request, fetch_userinfo=False)

    with pytest.raises(UserInfoError) as explicit:
        client.userinfo(login)
    with pytest.raises(UserInfoError) as in_login:
        sign_in(client, http)

    assert explicit.value.field == in_login.value.field == "sub"


# Refreshed ID tokens (OIDC Core 12.2).


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("sub", "656005750111"),
        ("iss", "https://op.example.test/other"),
        ("aud", "888888888888.apps.national"),
        ("azp", "888888888888.apps.national"),
    ],
    ids=["sub", "iss", "aud", "azp"],
)
def test_rp_refresh_token_invalid(
    client: cis2.Client,
    http: httpx.Client,
    provider: MisbehavingProvider,
    claim: str,
    value: str,
) -> None:
    """oidcc-client-test-refresh-token-invalid-{sub,issuer,aud,azp}."""
    login = sign_in(client, http)
    provider.fault = Fault(refreshed_id_token={claim: value})

    with pytest.raises(TokenValidationError) as caught:
        client.refresh(login)

    assert caught.value.claim == claim


# Back-channel logout tokens (OIDC Back-Channel Logout 1.0 section 2.6).


def test_rp_init_logout(
    client: cis2.Client, http: httpx.Client, provider: MisbehavingProvider
) -> None:
    """RP-initiated logout: end_session_endpoint with id_token_hint and state."""
    login = sign_in(client, http)

    url = client.logout_url(
        login, post_logout_redirect_uri="http://127.0.0.1:9/signed-out", state="s-1"
    )

    endpoint, _, query = url.partition("?")
    params = dict(parse_qsl(query))
    assert endpoint == f"{provider.issuer}/connect/endSession"
    assert params["id_token_hint"] == login.id_token
    assert params["post_logout_redirect_uri"] == "http://127.0.0.1:9/signed-out"
    assert params["state"] == "s-1"


def test_rp_backchannel_rpinitlogout(
    client: cis2.Client, provider: MisbehavingProvider
) -> None:
    event = client.verify_logout_token(provider.logout_token())

    assert event.sub == PERSONA
    assert event.sid == "sid-" + PERSONA


RefusedLogoutClaim = Callable[[str], str]


@pytest.fixture
def refused_logout_claim(client: cis2.Client) -> RefusedLogoutClaim:
    """Verify a logout token; the claim the client's refusal names."""

    def refuse(token: str) -> str:
        with pytest.raises(LogoutTokenError) as caught:
            client.verify_logout_token(token)
        return caught.value.claim

    return refuse


def test_rp_backchannel_rpinitlogout_lt_with_nonce(
    refused_logout_claim: RefusedLogoutClaim, provider: MisbehavingProvider
) -> None:
    token = provider.logout_token({"nonce": "n-0S6_WzA2Mj"})

    assert refused_logout_claim(token) == "nonce"


def test_rp_backchannel_rpinitlogout_lt_no_event(
    refused_logout_claim: RefusedLogoutClaim, provider: MisbehavingProvider
) -> None:
    token = provider.logout_token({"events": DELETE})

    assert refused_logout_claim(token) == "events"


def test_rp_backchannel_rpinitlogout_lt_wrong_event(
    refused_logout_claim: RefusedLogoutClaim, provider: MisbehavingProvider
) -> None:
    events: dict[str, Any] = {"http://schemas.openid.net/event/other": {}}
    token = provider.logout_token({"events": events})

    assert refused_logout_claim(token) == "events"


@pytest.mark.parametrize("alg", ["HS256", "RS512"])
def test_rp_backchannel_rpinitlogout_lt_wrong_alg(
    refused_logout_claim: RefusedLogoutClaim, provider: MisbehavingProvider, alg: str
) -> None:
    token = provider.logout_token(header={"alg": alg})

    assert refused_logout_claim(token) == "alg"


def test_rp_backchannel_rpinitlogout_lt_alg_none(
    refused_logout_claim: RefusedLogoutClaim, provider: MisbehavingProvider
) -> None:
    token = provider.logout_token(signature="none")

    assert refused_logout_claim(token) == "alg"


def test_rp_backchannel_rpinitlogout_lt_bad_sig(
    refused_logout_claim: RefusedLogoutClaim, provider: MisbehavingProvider
) -> None:
    token = provider.logout_token(signature="bad")

    assert refused_logout_claim(token) == "signature"


def test_rp_backchannel_rpinitlogout_lt_wrong_aud(
    refused_logout_claim: RefusedLogoutClaim, provider: MisbehavingProvider
) -> None:
    token = provider.logout_token({"aud": "888888888888.apps.national"})

    assert refused_logout_claim(token) == "aud"


def test_rp_backchannel_rpinitlogout_lt_wrong_issuer(
    refused_logout_claim: RefusedLogoutClaim, provider: MisbehavingProvider
) -> None:
    token = provider.logout_token({"iss": "https://op.example.test/other"})

    assert refused_logout_claim(token) == "iss"


def test_rp_backchannel_rpinitlogout_lt_no_sub_or_sid(
    refused_logout_claim: RefusedLogoutClaim, provider: MisbehavingProvider
) -> None:
    token = provider.logout_token({"sub": DELETE, "sid": DELETE})

    assert refused_logout_claim(token) in ("sub", "sid")


def test_rp_backchannel_rpinitlogout_lt_replayed(
    refused_logout_claim: RefusedLogoutClaim,
    client: cis2.Client,
    provider: MisbehavingProvider,
) -> None:
    """The same logout token twice: the jti is remembered and refused."""
    token = provider.logout_token()
    client.verify_logout_token(token)

    assert refused_logout_claim(token) == "jti"


def test_rp_backchannel_rpinitlogout_lt_no_jti(
    refused_logout_claim: RefusedLogoutClaim, provider: MisbehavingProvider
) -> None:
    token = provider.logout_token({"jti": DELETE})

    assert refused_logout_claim(token) == "jti"
