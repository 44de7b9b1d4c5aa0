"""The authorization request and the callback (OIDC Core 3.1.2, RFC 9207)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from cis2 import LoginRequest
from cis2._authorization import code_challenge
from cis2.errors import AuthorizationError, CallbackError, StateMismatchError

from .conftest import RpFactory
from .provider import ISSUER, Provider


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_request_has_state_nonce_and_pkce(
    provider: Provider, make_rp: RpFactory
) -> None:
    request = provider.run(make_rp().start_login())
    query = _query(request.url)
    assert request.url.startswith(f"{ISSUER}/authorize?")
    assert query["response_type"] == "code"
    assert query["state"] == request.state and len(request.state) >= 22
    assert query["nonce"] == request.nonce and len(request.nonce) >= 22
    assert query["code_challenge_method"] == "S256"
    assert request.code_verifier is not None
    assert query["code_challenge"] == code_challenge(request.code_verifier)
    assert query["prompt"] == "login"
    assert query["scope"].split()[0] == "openid"


def test_state_and_nonce_are_fresh_each_time(
    provider: Provider, make_rp: RpFactory
) -> None:
    rp = make_rp()
    states = {provider.run(rp.start_login()).state for _ in range(20)}
    assert len(states) == 20


def test_openid_is_always_in_the_scope(provider: Provider, make_rp: RpFactory) -> None:
    request = provider.run(make_rp(scope="profile email").start_login())
    assert _query(request.url)["scope"] == "openid profile email"
    request = provider.run(make_rp().start_login(scope="nhsperson openid"))
    assert _query(request.url)["scope"] == "openid nhsperson"


def test_optional_parameters_pass_through(
    provider: Provider, make_rp: RpFactory
) -> None:
    request = provider.run(
        make_rp().start_login(
            acr_values="AAL2_OR_AAL3_ANY", max_age=300, login_hint="656005750108"
        )
    )
    query = _query(request.url)
    assert query["acr_values"] == "AAL2_OR_AAL3_ANY"
    assert query["max_age"] == "300"
    assert query["login_hint"] == "656005750108"


def test_pkce_can_be_turned_off(provider: Provider, make_rp: RpFactory) -> None:
    request = provider.run(make_rp(pkce=False).start_login())
    assert "code_challenge" not in _query(request.url)
    assert request.code_verifier is None


def test_login_request_round_trips_through_json(
    provider: Provider, make_rp: RpFactory
) -> None:
    request = provider.run(make_rp().start_login(acr_values="AAL3_ANY"))
    assert LoginRequest.from_json(request.to_json()) == request
    assert request.state not in repr(request)


def _request(provider: Provider, make_rp: RpFactory) -> LoginRequest:
    return provider.run(make_rp().start_login())


@pytest.mark.parametrize("form", ["url", "query", "mapping", "lists"])
def test_callback_forms_are_all_accepted(
    provider: Provider, make_rp: RpFactory, form: str
) -> None:
    from cis2._authorization import parse_callback

    request = _request(provider, make_rp)
    query = f"code=abc&state={request.state}&session_state=s1"
    callbacks: dict[str, Any] = {
        "url": f"https://app.test/callback?{query}",
        "query": f"?{query}",
        "mapping": {"code": "abc", "state": request.state},
        "lists": {"code": ["abc"], "state": [request.state]},
    }
    assert parse_callback(callbacks[form], request).code == "abc"


def test_state_mismatch_and_absence_are_refused(
    provider: Provider, make_rp: RpFactory
) -> None:
    from cis2._authorization import parse_callback

    request = _request(provider, make_rp)
    with pytest.raises(StateMismatchError):
        parse_callback({"code": "abc", "state": request.state + "x"}, request)
    with pytest.raises(StateMismatchError):
        parse_callback({"code": "abc"}, request)


def test_provider_error_is_raised_as_such(
    provider: Provider, make_rp: RpFactory
) -> None:
    from cis2._authorization import parse_callback

    request = _request(provider, make_rp)
    with pytest.raises(AuthorizationError) as caught:
        parse_callback(
            {
                "error": "access_denied",
                "error_description": "User cancelled",
                "state": request.state,
            },
            request,
        )
    assert caught.value.error == "access_denied"
    assert caught.value.error_description == "User cancelled"


def test_iss_is_checked_when_present(provider: Provider, make_rp: RpFactory) -> None:
    from cis2._authorization import parse_callback

    request = _request(provider, make_rp)
    parse_callback({"code": "a", "state": request.state, "iss": ISSUER}, request)
    with pytest.raises(CallbackError) as caught:
        parse_callback(
            {"code": "a", "state": request.state, "iss": "https://evil.test"}, request
        )
    assert caught.value.field == "iss"


def test_missing_code_is_an_error(provider: Provider, make_rp: RpFactory) -> None:
    from cis2._authorization import parse_callback

    request = _request(provider, make_rp)
    with pytest.raises(CallbackError) as caught:
        parse_callback({"state": request.state}, request)
    assert caught.value.field == "code"
