"""cis2.Client against node's oidc-provider, an OpenID Certified provider.

The provider (interop/cis2-like-provider.mjs) is configured the way CIS2
behaves: realm-path issuer with an explicit port, private_key_jwt RS512,
RS256 id_tokens, refresh tokens, NRBAC-shaped claims, back-channel logout
and a headless sign-in of the login_hint account. The tests run the whole
journey over real HTTP, then the refusals oidc-provider itself produces.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urljoin

import httpx
import pytest

import cis2
from cis2.errors import (
    AuthorizationError,
    Cis2Error,
    InvalidClientError,
    InvalidGrantError,
    TokenValidationError,
    UserInfoError,
)
from cis2.keys import SigningKey

from ._cis2_like import (
    CLIENT_ID,
    PERSONA,
    REDIRECT_URI,
    RS256_CLIENT_ID,
    LogoutReceiver,
    browse_to_callback,
)
from ._node import NodeProcess

pytestmark = pytest.mark.node
E = TypeVar("E", bound=Cis2Error)


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    """A cookie-keeping user agent that does not follow redirects itself."""
    with httpx.Client(timeout=10, follow_redirects=False) as agent:
        yield agent


@pytest.fixture
def issuer(oidc_provider: NodeProcess) -> str:
    issuer: str = oidc_provider.ready["issuer"]
    return issuer


def make_client(issuer: str, key: SigningKey, **options: Any) -> cis2.Client:
    return cis2.Client(issuer, CLIENT_ID, REDIRECT_URI, signing_key=key, **options)


def sign_in(
    client: cis2.Client, browser: httpx.Client, login_hint: str = PERSONA
) -> cis2.Login:
    login_request = client.start_login(acr_values="AAL3_ANY", login_hint=login_hint)
    callback = browse_to_callback(browser, login_request.url)
    return client.finish_login(callback, login_request)


def test_discovery_keeps_the_explicit_port_and_realm_path(
    issuer: str, oidc_provider: NodeProcess
) -> None:
    with cis2.Client(issuer, CLIENT_ID, REDIRECT_URI, client_secret="x") as client:
        metadata = client.discover()

    assert metadata.issuer == issuer
    assert issuer.startswith(f"http://127.0.0.1:{oidc_provider.ready['port']}/")
    assert metadata.token_endpoint == f"{issuer}/access_token"
    assert metadata.jwks_uri == f"{issuer}/connect/jwk_uri"


def test_full_login_refresh_userinfo_and_end_session(
    issuer: str, client_key: SigningKey, browser: httpx.Client
) -> None:
    scope = "openid profile nationalrbacaccess associatedorgs"
    with make_client(issuer, client_key, scope=scope) as client:
        login = sign_in(client, browser)
        refreshed = client.refresh(login)
        userinfo = client.userinfo(refreshed)
        status = client.end_session(refreshed)

    assert login.claims["iss"] == issuer
    assert login.claims["acr"] == "AAL3_ANY"
    assert login.claims["amr"] == ["N3_SMARTCARD"]
    assert login.user.authentication_assurance_level == 3
    assert login.user.roles[0].role_code == "S0010:G0020:R0260"
    assert login.refresh_token is not None
    assert refreshed.access_token != login.access_token
    assert refreshed.claims["sub"] == PERSONA
    assert userinfo.claims["sub"] == PERSONA
    assert userinfo.user.organisations[0].org_code.startswith("Y9")
    assert status == 200


async def test_async_client_full_login_refresh_and_userinfo(
    issuer: str, client_key: SigningKey, browser: httpx.Client
) -> None:
    """The same journey through AsyncClient and httpx.AsyncClient."""
    async with cis2.AsyncClient(
        issuer, CLIENT_ID, REDIRECT_URI, signing_key=client_key
    ) as client:
        login_request = await client.start_login(
            acr_values="AAL3_ANY", login_hint=PERSONA
        )
        callback = browse_to_callback(browser, login_request.url)
        login = await client.finish_login(callback, login_request)
        refreshed = await client.refresh(login)
        userinfo = await client.userinfo(refreshed)

    assert login.claims["sub"] == refreshed.claims["sub"] == PERSONA
    assert userinfo.user.uid == PERSONA


def test_back_channel_logout_token_from_oidc_provider_verifies(
    issuer: str,
    client_key: SigningKey,
    browser: httpx.Client,
    logout_receiver: LogoutReceiver,
) -> None:
    """RP-initiated logout in the browser; the provider posts a logout token."""
    with make_client(issuer, client_key) as client:
        login = sign_in(client, browser)
        confirm_logout(browser, client.logout_url(login))
        token = logout_receiver.tokens.get(timeout=10)
        event = client.verify_logout_token(token)

    assert event.iss == issuer
    assert event.sub == PERSONA
    assert event.sid == login.claims["sid"]


def confirm_logout(browser: httpx.Client, logout_url: str) -> None:
    """Post oidc-provider's logout confirmation form with logout=yes."""
    page = browser.get(logout_url)
    assert page.status_code == 200, page.text[:300]
    action = page.text.split('action="', 1)[1].split('"', 1)[0]
    xsrf = page.text.split('name="xsrf" value="', 1)[1].split('"', 1)[0]
    done = browser.post(
        urljoin(logout_url, action), data={"xsrf": xsrf, "logout": "yes"}
    )
    assert done.status_code in (200, 303), done.text[:300]


def test_reused_code_is_invalid_grant_and_revokes_the_first_tokens(
    issuer: str, client_key: SigningKey, browser: httpx.Client
) -> None:
    with make_client(issuer, client_key) as client:
        login_request = client.start_login(acr_values="AAL3_ANY", login_hint=PERSONA)
        callback = browse_to_callback(browser, login_request.url)
        first = client.finish_login(callback, login_request)

        with pytest.raises(InvalidGrantError) as caught:
            client.finish_login(callback, login_request)
        with pytest.raises(UserInfoError) as revoked:
            client.userinfo(first)

    assert caught.value.error == "invalid_grant"
    assert revoked.value.status_code == 401


# The refusals oidc-provider produces, and how cis2 reports each.


class Refusal:
    """Sign in with one thing wrong; the error cis2 raised for it."""

    def __init__(self, issuer: str, key: SigningKey, browser: httpx.Client) -> None:
        self.issuer, self.key, self.browser = issuer, key, browser

    def __call__(
        self,
        error: type[E],
        *,
        key: SigningKey | None = None,
        login_hint: str = PERSONA,
        **options: Any,
    ) -> E:
        client = make_client(self.issuer, key or self.key, **options)
        with client, pytest.raises(error) as caught:
            sign_in(client, self.browser, login_hint)
        return caught.value


@pytest.fixture
def refusal(issuer: str, client_key: SigningKey, browser: httpx.Client) -> Refusal:
    return Refusal(issuer, client_key, browser)


def test_assertion_signed_rs256_when_rs512_is_registered(
    refusal: Refusal, client_key: SigningKey
) -> None:
    wrong_alg = SigningKey(client_key.private_key, alg="RS256", kid=client_key.kid)

    error = refusal(InvalidClientError, key=wrong_alg)

    assert error.error == "invalid_client"
    assert error.status_code in (400, 401)


def test_assertion_signed_with_an_unregistered_key(refusal: Refusal) -> None:
    stranger = cis2.generate_signing_key(alg="RS512")

    assert refusal(InvalidClientError, key=stranger).error == "invalid_client"


def test_assertion_from_a_clock_ten_minutes_slow_is_expired(
    refusal: Refusal,
) -> None:
    """oidc-provider checks exp itself: a slow clock mints stale assertions."""
    error = refusal(InvalidClientError, clock=lambda: time.time() - 600)

    assert error.error == "invalid_client"


def test_unknown_login_hint_is_access_denied(refusal: Refusal) -> None:
    error = refusal(AuthorizationError, login_hint="000000000000")

    assert error.error == "access_denied"


def test_missing_pkce_is_refused_by_the_provider(refusal: Refusal) -> None:
    assert refusal(AuthorizationError, pkce=False).error == "invalid_request"


def test_id_token_algorithm_outside_the_allowlist_is_refused(
    refusal: Refusal,
) -> None:
    error = refusal(TokenValidationError, id_token_signing_algs=("RS512",))

    assert error.claim == "alg"


def test_rs256_registration_signs_in_with_rs256(
    issuer: str, rs256_key: SigningKey, browser: httpx.Client
) -> None:
    client = cis2.Client(issuer, RS256_CLIENT_ID, REDIRECT_URI, signing_key=rs256_key)
    with client:
        login = sign_in(client, browser)

    assert login.claims["aud"] == RS256_CLIENT_ID


def test_authorization_response_iss_is_checked(
    issuer: str, client_key: SigningKey, browser: httpx.Client
) -> None:
    """oidc-provider sends iss (RFC 9207); a forged one must be refused."""
    with make_client(issuer, client_key) as client:
        login_request = client.start_login(acr_values="AAL3_ANY", login_hint=PERSONA)
        callback = browse_to_callback(browser, login_request.url)
        query = dict(parse_qsl(callback.split("?", 1)[1]))
        assert query["iss"] == issuer
        query["iss"] = issuer + "/other"

        with pytest.raises(cis2.CallbackError):
            client.finish_login(query, login_request)
