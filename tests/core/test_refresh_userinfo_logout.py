"""Refresh (OIDC Core 12), UserInfo (5.3) and back-channel logout tokens."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from cis2._http import HttpResponse
from cis2._logout import BACKCHANNEL_LOGOUT_EVENT
from cis2.errors import (
    ConfigurationError,
    LogoutTokenError,
    TokenValidationError,
    UserInfoError,
)

from .conftest import RpFactory
from .provider import CLIENT_ID, ISSUER, Provider, callback_for, nonce_of
from .test_id_token import sign_in


def test_refresh_keeps_the_subject_and_the_refresh_token(
    provider: Provider, make_rp: RpFactory
) -> None:
    rp = make_rp()
    login = sign_in(provider, rp)
    provider.now += 100
    provider.token_body = {
        "access_token": provider.access_token,
        "token_type": "Bearer",
        "expires_in": 3599,
        "id_token": provider.id_token(nonce=None),
    }
    refreshed = provider.run(rp.refresh(login))
    assert refreshed.sub == login.sub
    assert refreshed.refresh_token == login.refresh_token
    form = provider.requests[-1].form or {}
    assert form["grant_type"] == "refresh_token"
    assert "client_assertion" in form


def test_refreshed_id_token_for_another_sub_is_refused(
    provider: Provider, make_rp: RpFactory
) -> None:
    rp = make_rp()
    login = sign_in(provider, rp)
    provider.id_token_overrides = {"sub": "656005750999"}
    with pytest.raises(TokenValidationError) as caught:
        provider.run(rp.refresh(login))
    assert caught.value.claim == "sub"


def test_refresh_without_a_refresh_token_says_so(
    provider: Provider, make_rp: RpFactory
) -> None:
    rp = make_rp()
    login = sign_in(provider, rp)
    from dataclasses import replace

    with pytest.raises(ConfigurationError, match="no refresh token"):
        provider.run(rp.refresh(replace(login, refresh_token=None)))


def test_userinfo_is_fetched_for_userinfo_scopes_and_merged(
    provider: Provider, make_rp: RpFactory
) -> None:
    provider.userinfo_claims = {
        "name": "Test User",
        "nhsid_nrbac_roles": [
            {
                "person_orgid": "656008045105",
                "person_roleid": "656014452101",
                "org_code": "Y51",
                "role_name": '"Support":"Support":"Admin/Clinical Support Access Role"',
                "role_code": "S8001:G8002:R8008",
                "activity_codes": ["B0145"],
            }
        ],
        "nhsid_user_orgs": [{"org_code": "Y51", "org_name": "NMEPFIT"}],
    }
    provider.id_token_overrides = {"selected_roleid": "656014452101"}
    user = sign_in(provider, make_rp()).user
    assert user.name == "Test User"
    role = user.roles[0]
    assert role.role_name_parts == (
        "Support",
        "Support",
        "Admin/Clinical Support Access Role",
    )
    assert role.job_role_code == "R8008"
    assert role.has_activity("B0145")
    assert user.selected_role == role
    assert user.organisations[0].org_code == "Y51"


def test_openid_only_scope_skips_userinfo(
    provider: Provider, make_rp: RpFactory
) -> None:
    login = sign_in(provider, make_rp(scope="openid"))
    assert login.userinfo is None
    assert "userinfo" not in list(provider.paths())


def test_userinfo_sub_mismatch_is_refused(
    provider: Provider, make_rp: RpFactory
) -> None:
    provider.userinfo_claims = {"sub": "someone-else"}
    with pytest.raises(UserInfoError) as caught:
        sign_in(provider, make_rp())
    assert caught.value.field == "sub"


def test_userinfo_401_keeps_cis2s_answer(
    provider: Provider, make_rp: RpFactory
) -> None:
    rp = make_rp(scope="openid")
    login = sign_in(provider, rp)
    operation = rp.userinfo(login)
    next(operation)
    body = {
        "error_description": "The access token provided is expired, revoked, "
        "malformed, or invalid for other reasons.",
        "error": "invalid_token",
    }
    with pytest.raises(UserInfoError) as caught:
        operation.send(HttpResponse(401, {}, json.dumps(body).encode()))
    assert (caught.value.status_code, caught.value.error) == (401, "invalid_token")


def test_signed_userinfo_is_verified(provider: Provider, make_rp: RpFactory) -> None:
    provider.userinfo_claims = {"name": "Signed User"}
    provider.userinfo_as_jwt = True
    login = sign_in(provider, make_rp())
    assert login.userinfo is not None and login.userinfo.signed
    assert login.user.name == "Signed User"


def test_signed_userinfo_with_a_bad_signature_is_refused(
    provider: Provider, make_rp: RpFactory
) -> None:
    provider.userinfo_as_jwt = True
    provider.userinfo_tamper = True
    with pytest.raises(TokenValidationError) as caught:
        sign_in(provider, make_rp())
    assert caught.value.claim == "signature"


def logout_claims(provider: Provider, **overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "iat": int(provider.now),
        "exp": int(provider.now) + 120,
        "jti": str(uuid.uuid4()),
        "sub": "656005750104",
        "sid": "a3b1c9d2",
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def test_a_good_logout_token_passes_once(
    provider: Provider, make_rp: RpFactory
) -> None:
    rp = make_rp()
    token = provider.sign(logout_claims(provider))
    event = provider.run(rp.verify_logout_token(token))
    assert (event.sub, event.sid) == ("656005750104", "a3b1c9d2")
    with pytest.raises(LogoutTokenError) as caught:
        provider.run(rp.verify_logout_token(token))
    assert caught.value.claim == "jti"


@pytest.mark.parametrize(
    ("override", "claim"),
    [
        ({"nonce": "n"}, "nonce"),
        ({"events": None}, "events"),
        ({"events": {"other": {}}}, "events"),
        ({"sub": None, "sid": None}, "sid"),
        ({"jti": None}, "jti"),
        ({"aud": "other"}, "aud"),
        ({"iss": "https://other.test"}, "iss"),
        ({"exp": None}, "exp"),
        ({"iat": None}, "iat"),
    ],
)
def test_logout_token_rules(
    provider: Provider, make_rp: RpFactory, override: dict[str, Any], claim: str
) -> None:
    token = provider.sign(logout_claims(provider, **override))
    with pytest.raises(LogoutTokenError) as caught:
        provider.run(make_rp().verify_logout_token(token))
    assert caught.value.claim == claim


def test_logout_token_max_age_refuses_a_stale_token(
    provider: Provider, make_rp: RpFactory
) -> None:
    stale = logout_claims(provider, iat=int(provider.now) - 400)
    token = provider.sign(stale)
    provider.run(make_rp().verify_logout_token(token))
    with pytest.raises(LogoutTokenError) as caught:
        fresh_jti = provider.sign({**stale, "jti": "another"})
        provider.run(make_rp(logout_token_max_age=300).verify_logout_token(fresh_jti))
    assert caught.value.claim == "iat"


def test_logout_token_with_a_wrong_alg_is_refused(
    provider: Provider, make_rp: RpFactory
) -> None:
    key = provider.signing_key
    token = provider.sign(
        logout_claims(provider), {"alg": "PS256", "kid": key.kid, "typ": "logout+jwt"}
    )
    with pytest.raises(LogoutTokenError) as caught:
        provider.run(make_rp().verify_logout_token(token))
    assert caught.value.claim == "alg"


def test_logout_url_carries_the_hint_and_redirect(
    provider: Provider, make_rp: RpFactory
) -> None:
    rp = make_rp()
    login = sign_in(provider, rp)
    url = provider.run(
        rp.logout_url(login, post_logout_redirect_uri="https://app.test/bye", state="s")
    )
    assert url.startswith(f"{ISSUER}/connect/endSession?")
    assert "id_token_hint=" in url and "post_logout_redirect_uri=" in url
    assert "state=s" in url


def test_end_session_sends_the_hint_and_bearer(
    provider: Provider, make_rp: RpFactory
) -> None:
    rp = make_rp()
    login = sign_in(provider, rp)
    provider.run(rp.end_session(login))
    request = provider.requests[-1]
    assert request.headers["Authorization"] == f"Bearer {provider.access_token}"
    assert "id_token_hint=" in request.url


def test_a_refused_end_session_is_an_end_session_error(
    provider: Provider, make_rp: RpFactory
) -> None:
    from cis2.errors import EndSessionError

    rp = make_rp()
    login = sign_in(provider, rp)
    operation = rp.end_session(login)
    next(operation)
    with pytest.raises(EndSessionError) as caught:
        operation.send(HttpResponse(400, {}, b"{}"))
    assert caught.value.status_code == 400


def test_callback_helpers_agree(provider: Provider, make_rp: RpFactory) -> None:
    request = provider.run(make_rp().start_login())
    assert nonce_of(request.url) == request.nonce
    assert request.state in callback_for(request.url)
