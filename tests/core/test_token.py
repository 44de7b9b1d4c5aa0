"""The token endpoint's answers, and what reaches the caller (RFC 6749 §5)."""

from __future__ import annotations

from typing import Any

import pytest

from cis2.errors import (
    InvalidClientError,
    InvalidGrantError,
    TokenEndpointError,
    TokenValidationError,
)
from cis2.keys import SigningKey

from .conftest import RpFactory
from .provider import Provider, callback_for, nonce_of

JWT_NOT_VALID = {"error_description": "JWT is not valid", "error": "invalid_client"}


def _finish(provider: Provider, make_rp: RpFactory, **settings: Any) -> Any:
    rp = make_rp(**settings)
    request = provider.run(rp.start_login())
    provider.nonce = nonce_of(request.url)
    return provider.run(rp.finish_login(callback_for(request.url), request))


@pytest.mark.parametrize("status", [400, 401])
def test_invalid_client_keeps_cis2s_answer(
    provider: Provider, make_rp: RpFactory, status: int
) -> None:
    provider.token_status, provider.token_body = status, JWT_NOT_VALID
    with pytest.raises(InvalidClientError) as caught:
        _finish(provider, make_rp)
    error = caught.value
    assert (error.error, error.error_description) == (
        "invalid_client",
        "JWT is not valid",
    )
    assert error.status_code == status


def test_the_token_request_is_what_cis2_expects(
    provider: Provider, make_rp: RpFactory, client_key: SigningKey
) -> None:
    _finish(provider, make_rp)
    token_request = next(
        r for r in provider.requests if r.url.endswith("/access_token")
    )
    form = dict(token_request.form or {})
    assert form["grant_type"] == "authorization_code"
    assert form["code"] == "the-code"
    assert form["redirect_uri"] == "https://app.test/callback"
    assert form["client_id"] == "999999999999.apps.national"
    assert form["client_assertion_type"].endswith("jwt-bearer")
    assert len(form["code_verifier"]) >= 43
    assert "client_secret" not in form


def test_invalid_grant_is_its_own_error(provider: Provider, make_rp: RpFactory) -> None:
    provider.token_status = 400
    provider.token_body = {
        "error_description": (
            "The provided access grant is invalid, expired, or revoked."
        ),
        "error": "invalid_grant",
    }
    with pytest.raises(InvalidGrantError) as caught:
        _finish(provider, make_rp)
    assert caught.value.status_code == 400


def test_other_errors_keep_their_code(provider: Provider, make_rp: RpFactory) -> None:
    provider.token_status, provider.token_body = 400, {"error": "invalid_scope"}
    with pytest.raises(TokenEndpointError) as caught:
        _finish(provider, make_rp)
    assert caught.value.error == "invalid_scope"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"token_type": "Bearer"}, "access_token"),
        ({"access_token": "a", "token_type": "mac"}, "token_type"),
        (
            {"access_token": "a", "token_type": "Bearer", "expires_in": "soon"},
            "expires_in",
        ),
    ],
)
def test_malformed_success_is_named(
    provider: Provider, make_rp: RpFactory, body: dict[str, Any], field: str
) -> None:
    provider.token_body = body
    with pytest.raises(TokenEndpointError) as caught:
        _finish(provider, make_rp)
    assert caught.value.field == field


def test_missing_id_token_is_named(provider: Provider, make_rp: RpFactory) -> None:
    provider.token_body = {"access_token": "a", "token_type": "bearer"}
    with pytest.raises(TokenValidationError) as caught:
        _finish(provider, make_rp)
    assert caught.value.claim == "id_token"


def test_expires_in_as_a_string_is_accepted(
    provider: Provider, make_rp: RpFactory
) -> None:
    rp = make_rp()
    request = provider.run(rp.start_login())
    provider.nonce = nonce_of(request.url)
    provider.token_body = {
        "access_token": provider.access_token,
        "token_type": "Bearer",
        "expires_in": "599",
        "id_token": provider.id_token(),
    }
    login = provider.run(rp.finish_login(callback_for(request.url), request))
    assert login.expires_at == provider.now + 599


def test_client_secret_post_sends_no_assertion(
    provider: Provider, make_rp: RpFactory
) -> None:
    from cis2._client_auth import ClientSecretPost
    from cis2._secret import Secret

    _finish(provider, make_rp, auth=ClientSecretPost(Secret("pw")))
    form = next(r.form for r in provider.requests if r.url.endswith("/access_token"))
    assert form is not None and form["client_secret"] == "pw"
    assert "client_assertion" not in form


def test_no_token_or_secret_in_errors(provider: Provider, make_rp: RpFactory) -> None:
    provider.token_status, provider.token_body = 401, JWT_NOT_VALID
    with pytest.raises(InvalidClientError) as caught:
        _finish(provider, make_rp)
    text = str(caught.value) + repr(caught.value)
    assert "eyJ" not in text and "the-code" not in text
