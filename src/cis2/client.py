"""``Client`` and ``AsyncClient``: the relying party over httpx.

Both are thin drivers of the sans-I/O core in ``cis2._core``: they send each
``HttpRequest`` the core yields and hand back the response. Connections are
reused across calls; discovery and the provider's JWKS are cached by the
core, so once warm a login costs one token request (and one UserInfo
request when the scope asks for UserInfo claims).
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Self, TypeVar, Unpack

import httpx

from cis2._authorization import Callback, LoginOptions, LoginRequest
from cis2._client_auth import (
    MAX_ASSERTION_LIFETIME,
    ClientAuth,
    ClientSecretPost,
    PrivateKeyJwt,
)
from cis2._core import DEFAULT_SCOPE, Login, RelyingParty, Settings, UserInfo
from cis2._discovery import ProviderMetadata
from cis2._http import HttpRequest, HttpResponse, Operation, redact_url
from cis2._logout import JtiStore, LogoutEvent
from cis2._secret import Secret
from cis2.errors import (
    ConfigurationError,
    InsecureSettingWarning,
    ProviderUnreachableError,
)
from cis2.keys import SigningKey

__all__ = ["AsyncClient", "Client"]

logger = logging.getLogger("cis2.client")
T = TypeVar("T")
_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class _Base:
    """What both clients share: settings, validation and the core."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        redirect_uri: str,
        *,
        signing_key: SigningKey | None = None,
        client_secret: str | Secret | None = None,
        scope: str | Iterable[str] = DEFAULT_SCOPE,
        id_token_signing_algs: Iterable[str] = ("RS256",),
        logout_token_signing_algs: Iterable[str] = ("RS256",),
        leeway: int = 60,
        pkce: bool = True,
        prompt: str | None = "login",
        auth_time_max_age: int | None = 300,
        logout_token_max_age: int | None = None,
        assertion_lifetime: int = MAX_ASSERTION_LIFETIME,
        allow_long_assertion_lifetime: bool = False,
        allow_insecure_http: bool = False,
        skip_nonce_check: bool = False,
        min_id_assurance_level: int | None = None,
        userinfo_signing_algs: Iterable[str] = ("RS256",),
        clock: Callable[[], float] = time.time,
        jti_store: JtiStore | None = None,
    ) -> None:
        auth = _client_auth(
            signing_key,
            client_secret,
            assertion_lifetime,
            allow_long_assertion_lifetime,
        )
        if allow_insecure_http:
            warnings.warn(
                "allow_insecure_http=True: tokens may travel unencrypted. Use it "
                "only against a local test provider.",
                InsecureSettingWarning,
                stacklevel=3,
            )
        if skip_nonce_check:
            warnings.warn(
                "skip_nonce_check=True: a replayed ID token will not be noticed.",
                InsecureSettingWarning,
                stacklevel=3,
            )
        if not isinstance(leeway, int) or not 0 <= leeway <= 300:
            raise ConfigurationError(
                "leeway must be 0 to 300 seconds (default 60).", field="leeway"
            )
        settings = Settings(
            issuer=issuer,
            client_id=client_id,
            redirect_uri=redirect_uri,
            auth=auth,
            scope=scope if isinstance(scope, str) else " ".join(scope),
            id_token_signing_algs=frozenset(id_token_signing_algs),
            logout_token_signing_algs=frozenset(logout_token_signing_algs),
            leeway=leeway,
            pkce=pkce,
            prompt=prompt,
            auth_time_max_age=auth_time_max_age,
            logout_token_max_age=logout_token_max_age,
            allow_insecure_http=allow_insecure_http,
            skip_nonce_check=skip_nonce_check,
            min_id_assurance_level=min_id_assurance_level,
            userinfo_signing_algs=frozenset(userinfo_signing_algs),
        )
        self._rp = RelyingParty(settings, clock=clock, jti_store=jti_store)

    @property
    def settings(self) -> Settings:
        return self._rp.settings

    @property
    def issuer(self) -> str:
        return self._rp.settings.issuer

    @property
    def client_id(self) -> str:
        return self._rp.settings.client_id

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(issuer={self.issuer!r}, "
            f"client_id={self.client_id!r}, auth={self.settings.auth.method!r})"
        )


class Client(_Base):
    """A CIS2 relying party over a synchronous httpx.Client.

    >>> client = Client(cis2.environments.INT.issuer, "123.apps.national",
    ...                 "https://app.example/callback", signing_key=key)
    >>> request = client.start_login(acr_values="AAL3_ANY")  # redirect to .url
    >>> login = client.finish_login(callback_url, request)
    """

    def __init__(
        self,
        issuer: str,
        client_id: str,
        redirect_uri: str,
        *,
        http: httpx.Client | None = None,
        **options: Any,
    ) -> None:
        super().__init__(issuer, client_id, redirect_uri, **options)
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=_TIMEOUT, follow_redirects=False)

    def discover(self) -> ProviderMetadata:
        """The provider metadata (fetched once, then cached)."""
        return self._run(self._rp.metadata())

    def start_login(self, **options: Unpack[LoginOptions]) -> LoginRequest:
        """A new authorization request; send the browser to its ``url``.

        options: scope, acr_values, prompt, max_age, login_hint (LoginOptions).
        """
        return self._run(self._rp.start_login(**options))

    def finish_login(
        self,
        callback: Callback,
        login_request: LoginRequest,
        *,
        fetch_userinfo: bool | None = None,
    ) -> Login:
        """Check the callback, redeem the code and validate every token."""
        operation = self._rp.finish_login(
            callback, login_request, fetch_userinfo=fetch_userinfo
        )
        return self._run(operation)

    def refresh(self, login: Login) -> Login:
        return self._run(self._rp.refresh(login))

    def userinfo(self, login: Login) -> UserInfo:
        return self._run(self._rp.userinfo(login))

    def logout_url(
        self,
        login: Login | None,
        *,
        post_logout_redirect_uri: str | None = None,
        state: str | None = None,
    ) -> str:
        operation = self._rp.logout_url(
            login, post_logout_redirect_uri=post_logout_redirect_uri, state=state
        )
        return self._run(operation)

    def end_session(self, login: Login) -> int:
        """End the CIS2 session from the back end; returns the HTTP status."""
        return self._run(self._rp.end_session(login))

    def verify_logout_token(self, token: str) -> LogoutEvent:
        return self._run(self._rp.verify_logout_token(token))

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self, operation: Operation[T]) -> T:
        try:
            request = next(operation)
            while True:
                request = operation.send(self._send(request))
        except StopIteration as done:
            result: T = done.value
            return result
        finally:
            operation.close()

    def _send(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self._http.request(**_arguments(request))
        except httpx.HTTPError as exc:
            raise _unreachable(request, exc) from None
        return _received(request, response)


class AsyncClient(_Base):
    """The same relying party over httpx.AsyncClient; every call is awaited."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        redirect_uri: str,
        *,
        http: httpx.AsyncClient | None = None,
        **options: Any,
    ) -> None:
        super().__init__(issuer, client_id, redirect_uri, **options)
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=_TIMEOUT, follow_redirects=False)

    async def discover(self) -> ProviderMetadata:
        return await self._run(self._rp.metadata())

    async def start_login(self, **options: Unpack[LoginOptions]) -> LoginRequest:
        return await self._run(self._rp.start_login(**options))

    async def finish_login(
        self,
        callback: Callback,
        login_request: LoginRequest,
        *,
        fetch_userinfo: bool | None = None,
    ) -> Login:
        operation = self._rp.finish_login(
            callback, login_request, fetch_userinfo=fetch_userinfo
        )
        return await self._run(operation)

    async def refresh(self, login: Login) -> Login:
        return await self._run(self._rp.refresh(login))

    async def userinfo(self, login: Login) -> UserInfo:
        return await self._run(self._rp.userinfo(login))

    async def logout_url(
        self,
        login: Login | None,
        *,
        post_logout_redirect_uri: str | None = None,
        state: str | None = None,
    ) -> str:
        operation = self._rp.logout_url(
            login, post_logout_redirect_uri=post_logout_redirect_uri, state=state
        )
        return await self._run(operation)

    async def end_session(self, login: Login) -> int:
        return await self._run(self._rp.end_session(login))

    async def verify_logout_token(self, token: str) -> LogoutEvent:
        return await self._run(self._rp.verify_logout_token(token))

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _run(self, operation: Operation[T]) -> T:
        try:
            request = next(operation)
            while True:
                request = operation.send(await self._send(request))
        except StopIteration as done:
            result: T = done.value
            return result
        finally:
            operation.close()

    async def _send(self, request: HttpRequest) -> HttpResponse:
        try:
            response = await self._http.request(**_arguments(request))
        except httpx.HTTPError as exc:
            raise _unreachable(request, exc) from None
        return _received(request, response)


def _client_auth(
    signing_key: SigningKey | None,
    client_secret: str | Secret | None,
    lifetime: int,
    allow_long: bool,
) -> ClientAuth:
    if signing_key is not None and client_secret is not None:
        raise ConfigurationError(
            "Give signing_key (private_key_jwt) or client_secret "
            "(client_secret_post), not both: CIS2 registers one method per client.",
            field="signing_key",
        )
    if signing_key is not None:
        if not isinstance(signing_key, SigningKey):
            raise ConfigurationError(
                "signing_key must be a cis2.SigningKey: load it with "
                "cis2.load_signing_key(path).",
                field="signing_key",
            )
        return PrivateKeyJwt(signing_key, lifetime, allow_long)
    if client_secret:
        secret = (
            client_secret
            if isinstance(client_secret, Secret)
            else Secret(client_secret)
        )
        return ClientSecretPost(secret)
    raise ConfigurationError(
        "No client authentication: give signing_key=cis2.load_signing_key(...) "
        "for private_key_jwt (CIS2's recommendation) or client_secret=...",
        field="signing_key",
    )


def _arguments(request: HttpRequest) -> dict[str, Any]:
    """httpx's request arguments for a core HttpRequest."""
    return {
        "method": request.method,
        "url": request.url,
        "headers": dict(request.headers),
        "data": dict(request.form) if request.form is not None else None,
    }


def _unreachable(
    request: HttpRequest, exc: httpx.HTTPError
) -> ProviderUnreachableError:
    url = redact_url(request.url)
    logger.info("%s %s failed: %s", request.method, url, type(exc).__name__)
    return ProviderUnreachableError(
        f"Could not reach the provider for {request.purpose or 'a request'} at "
        f"{url} ({type(exc).__name__}): check the issuer, the network and TLS.",
        url=url,
        field=request.purpose or None,
    )


def _received(request: HttpRequest, response: httpx.Response) -> HttpResponse:
    logger.info(
        "%s %s -> %d", request.method, redact_url(request.url), response.status_code
    )
    return HttpResponse(response.status_code, dict(response.headers), response.content)
