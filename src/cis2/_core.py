"""The sans-I/O relying party: every rule of a CIS2 login, and no I/O.

Each operation is a generator: it yields the ``HttpRequest`` it needs, is
sent the ``HttpResponse``, and returns its result or raises a ``Cis2Error``.
``cis2.client`` drives these generators with httpx, synchronously or not, so
caching, key refetching and every check live here once.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final, Unpack

from cis2._authorization import (
    Callback,
    LoginOptions,
    LoginRequest,
    build_login_request,
    normalise_scope,
    parse_callback,
)
from cis2._client_auth import ClientAuth, PrivateKeyJwt
from cis2._discovery import (
    ProviderMetadata,
    check_issuer,
    discovery_request,
    parse_discovery,
)
from cis2._http import HttpRequest, Operation
from cis2._id_token import IdTokenExpectations, check_header, check_id_token_claims
from cis2._jws import UnverifiedJws, parse_compact, verify_signature
from cis2._logout import (
    JtiStore,
    LogoutEvent,
    MemoryJtiStore,
    check_logout_claims,
    end_session_request,
    logout_url,
)
from cis2._provider_keys import ProviderKeys, jwks_request
from cis2._token import (
    TokenResponse,
    code_request,
    parse_token_response,
    refresh_request,
)
from cis2._userinfo import (
    check_userinfo_claims,
    parse_userinfo_json,
    refusal,
    userinfo_request,
)
from cis2.errors import (
    ConfigurationError,
    EndSessionError,
    InvalidClientError,
    LogoutTokenError,
    TokenValidationError,
    UserInfoError,
)
from cis2.identity import Cis2User
from cis2.keys import VerificationKey

__all__ = ["Login", "RelyingParty", "Settings", "UserInfo"]

logger = logging.getLogger("cis2.client")

DEFAULT_SCOPE: Final = "openid profile nationalrbacaccess"
#: Scopes whose claims only UserInfo carries (reference section 3.2).
_USERINFO_SCOPES: Final = frozenset(
    {
        "profile",
        "email",
        "nhsperson",
        "nationalrbacaccess",
        "associatedorgs",
        "professionalmemberships",
        "organisationalmemberships",
    }
)


@dataclass(frozen=True, slots=True)
class Settings:
    """How this relying party is registered and how strictly it checks."""

    issuer: str
    client_id: str
    redirect_uri: str
    auth: ClientAuth
    scope: str = DEFAULT_SCOPE
    id_token_signing_algs: frozenset[str] = frozenset({"RS256"})
    logout_token_signing_algs: frozenset[str] = frozenset({"RS256"})
    leeway: int = 60
    pkce: bool = True
    prompt: str | None = "login"
    #: CIS2 practice: refuse an auth_time older than this (reference §3.4).
    auth_time_max_age: int | None = 300
    logout_token_max_age: int | None = None
    allow_insecure_http: bool = False
    skip_nonce_check: bool = False
    min_id_assurance_level: int | None = None
    #: Signed UserInfo algorithms (reference section 10, row 19: RS512 by option).
    userinfo_signing_algs: frozenset[str] = frozenset({"RS256"})


@dataclass(frozen=True, slots=True)
class UserInfo:
    """The UserInfo answer, checked; ``signed`` when it came as a JWT."""

    claims: Mapping[str, Any] = field(repr=False)
    signed: bool = False

    @property
    def user(self) -> Cis2User:
        return Cis2User.from_claims({}, self.claims)


@dataclass(frozen=True, slots=True)
class Login:
    """A finished sign-in: the tokens, the validated claims and the user."""

    issuer: str
    client_id: str
    id_token: str = field(repr=False)
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: float | None
    scope: str | None
    claims: Mapping[str, Any] = field(repr=False)
    userinfo: UserInfo | None = field(default=None, repr=False)
    session_state: str | None = field(default=None, repr=False)

    @property
    def user(self) -> Cis2User:
        """The CIS2 identity: ID token claims merged with UserInfo."""
        extra = self.userinfo.claims if self.userinfo is not None else None
        return Cis2User.from_claims(self.claims, extra)

    @property
    def sub(self) -> str:
        return str(self.claims["sub"])

    def to_json(self) -> str:
        """All of this login as JSON; it holds tokens: store it like a secret."""
        data = {
            "issuer": self.issuer,
            "client_id": self.client_id,
            "id_token": self.id_token,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at,
            "scope": self.scope,
            "claims": dict(self.claims),
            "userinfo": None if self.userinfo is None else dict(self.userinfo.claims),
            "userinfo_signed": bool(self.userinfo and self.userinfo.signed),
            "session_state": self.session_state,
        }
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Login:
        """A login saved by to_json (trusted: it was validated when made)."""
        try:
            data = json.loads(text)
            info = data.pop("userinfo")
            signed = data.pop("userinfo_signed", False)
            userinfo = None if info is None else UserInfo(info, signed)
            return cls(**data, userinfo=userinfo)
        except (ValueError, TypeError, KeyError, AttributeError):
            raise ConfigurationError(
                "The saved login is not one Login.to_json() wrote: sign in again.",
                field="login",
            ) from None


class RelyingParty:
    """The protocol state of one client: settings, provider metadata and keys."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        jti_store: JtiStore | None = None,
    ) -> None:
        check_issuer(settings.issuer, allow_insecure_http=settings.allow_insecure_http)
        if not settings.client_id:
            raise ConfigurationError(
                "client_id is empty: give the CIS2 client_id (e.g. "
                "999999999999.apps.national), not the API Platform key.",
                field="client_id",
            )
        self.settings = replace(settings, scope=normalise_scope(settings.scope))
        self.clock = clock
        self.jti_store: JtiStore = jti_store or MemoryJtiStore()
        self.provider_keys = ProviderKeys()
        self._metadata: ProviderMetadata | None = None

    # Discovery and keys

    def metadata(self) -> Operation[ProviderMetadata]:
        """The provider metadata, fetched once and cached until it expires."""
        now = self.clock()
        if self._metadata is not None and now < self._metadata.expires_at:
            return self._metadata
        response = yield discovery_request(self.settings.issuer)
        self._metadata = parse_discovery(
            response,
            self.settings.issuer,
            now=self.clock(),
            allow_insecure_http=self.settings.allow_insecure_http,
        )
        return self._metadata

    def verified_claims(
        self, token: str, algs: frozenset[str], what: str
    ) -> Operation[tuple[dict[str, Any], str]]:
        """Parse, pick the key (refetching once for an unknown kid), verify."""
        jws = parse_compact(token)
        alg = check_header(jws, algs, what)
        key = self._cached_key(jws, alg)
        if key is None:
            key = yield from self._key_for(jws, alg)
        verify_signature(alg, key.key, jws.signing_input, jws.signature)
        return jws.unverified_claims(), alg

    def _cached_key(self, jws: UnverifiedJws, alg: str) -> VerificationKey | None:
        """The key from warm caches alone: the path every login takes once warm."""
        now = self.clock()
        metadata = self._metadata
        if metadata is None or now >= metadata.expires_at:
            return None
        if not self.provider_keys.is_fresh(now):
            return None
        return self.provider_keys.choose(jws.unverified_header, alg)

    def _key_for(self, jws: UnverifiedJws, alg: str) -> Operation[VerificationKey]:
        metadata = yield from self.metadata()
        keys = self.provider_keys
        if not keys.is_fresh(self.clock()):
            yield from self._fetch_keys(metadata)
        key = keys.choose(jws.unverified_header, alg)
        if key is not None:
            return key
        if not keys.may_force_refetch(self.clock()):
            raise TokenValidationError(
                "The token's kid is not in the provider's JWKS, and the JWKS was "
                f"refetched less than {int(keys.refetch_interval)} s ago, so it is "
                "not fetched again yet: retry in a minute if the provider is "
                "rotating keys.",
                claim="kid",
            )
        yield from self._fetch_keys(metadata)
        key = keys.choose(jws.unverified_header, alg)
        if key is None:
            raise TokenValidationError(
                "The token's kid is not in the provider's JWKS, even after a "
                "refetch: it was not signed by this provider's current keys.",
                claim="kid",
            )
        return key

    def _fetch_keys(self, metadata: ProviderMetadata) -> Operation[None]:
        response = yield jwks_request(metadata.jwks_uri)
        self.provider_keys.store(response, self.clock())

    # The login

    def start_login(self, **options: Unpack[LoginOptions]) -> Operation[LoginRequest]:
        """A new authorization request (OIDC Core 3.1.2.1)."""
        metadata = yield from self.metadata()
        settings = self.settings
        scope = options.get("scope")
        prompt = options.get("prompt")
        return build_login_request(
            authorization_endpoint=metadata.authorization_endpoint,
            issuer=metadata.issuer,
            client_id=settings.client_id,
            redirect_uri=settings.redirect_uri,
            scope=normalise_scope(scope) if scope else settings.scope,
            now=self.clock(),
            pkce=settings.pkce,
            acr_values=options.get("acr_values"),
            prompt=settings.prompt if prompt is None else (prompt or None),
            max_age=options.get("max_age"),
            login_hint=options.get("login_hint"),
        )

    def finish_login(
        self,
        callback: Callback,
        request: LoginRequest,
        *,
        fetch_userinfo: bool | None = None,
    ) -> Operation[Login]:
        """Check the callback, redeem the code, validate the ID token."""
        self._check_request_is_ours(request)
        params = parse_callback(callback, request)
        metadata = yield from self.metadata()
        token_request = code_request(
            token_endpoint=metadata.token_endpoint,
            code=params.code,
            redirect_uri=request.redirect_uri,
            code_verifier=request.code_verifier,
            client_id=self.settings.client_id,
            auth=self.settings.auth,
            now=int(self.clock()),
        )
        tokens = yield from self._redeem(token_request)
        if tokens.id_token is None:
            raise TokenValidationError(
                "The token response has no id_token: is openid in the scope?",
                claim="id_token",
            )
        expected = self._id_token_expectations(request, tokens.access_token)
        claims, alg = yield from self.verified_claims(
            tokens.id_token, expected.algs, "ID token"
        )
        check_id_token_claims(claims, expected, alg, self.clock())
        login = self._login(tokens, claims, params.session_state, tokens.id_token)
        if fetch_userinfo is None:
            fetch_userinfo = bool(_USERINFO_SCOPES & set(request.scope.split()))
        if fetch_userinfo and metadata.userinfo_endpoint:
            info = yield from self.userinfo(login)
            login = replace(login, userinfo=info)
        return login

    def refresh(self, login: Login) -> Operation[Login]:
        """Redeem the refresh token; a new ID token must keep iss and sub."""
        if not login.refresh_token:
            raise ConfigurationError(
                "This login has no refresh token: CIS2 issues one only to clients "
                "registered for the refresh_token grant. Sign in again instead.",
                field="refresh_token",
            )
        metadata = yield from self.metadata()
        token_request = refresh_request(
            token_endpoint=metadata.token_endpoint,
            refresh_token=login.refresh_token,
            client_id=self.settings.client_id,
            auth=self.settings.auth,
            now=int(self.clock()),
        )
        tokens = yield from self._redeem(token_request)
        claims: Mapping[str, Any] = login.claims
        id_token = login.id_token
        if tokens.id_token is not None:
            expected = IdTokenExpectations(
                issuer=login.issuer,
                client_id=self.settings.client_id,
                algs=self.settings.id_token_signing_algs,
                leeway=self.settings.leeway,
                nonce=None,
                access_token=tokens.access_token,
            )
            claims, alg = yield from self.verified_claims(
                tokens.id_token, expected.algs, "ID token"
            )
            check_id_token_claims(claims, expected, alg, self.clock())
            _same_subject(login.claims, claims)
            id_token = tokens.id_token
        refreshed = self._login(tokens, claims, login.session_state, id_token)
        if tokens.refresh_token is None:
            refreshed = replace(refreshed, refresh_token=login.refresh_token)
        return replace(refreshed, userinfo=login.userinfo)

    def userinfo(self, login: Login) -> Operation[UserInfo]:
        """GET UserInfo with the access token; its sub must be the login's."""
        metadata = yield from self.metadata()
        if not metadata.userinfo_endpoint:
            raise UserInfoError(
                "The provider publishes no userinfo_endpoint.",
                field="userinfo_endpoint",
            )
        response = yield userinfo_request(
            metadata.userinfo_endpoint, login.access_token
        )
        problem = refusal(response)
        if problem is not None:
            raise problem
        signed = response.media_type == "application/jwt"
        if signed:
            claims, _ = yield from self.verified_claims(
                response.content.decode("ascii", "replace").strip(),
                self.settings.userinfo_signing_algs,
                "signed UserInfo",
            )
        else:
            claims = parse_userinfo_json(response)
        check_userinfo_claims(
            claims,
            sub=login.sub,
            issuer=login.issuer,
            client_id=self.settings.client_id,
        )
        return UserInfo(claims, signed)

    # Logout

    def logout_url(
        self,
        login: Login | None,
        *,
        post_logout_redirect_uri: str | None = None,
        state: str | None = None,
    ) -> Operation[str]:
        """Where to send the browser to end the CIS2 session."""
        endpoint = yield from self._end_session_endpoint()
        return logout_url(
            endpoint,
            id_token_hint=login.id_token if login else None,
            client_id=self.settings.client_id,
            post_logout_redirect_uri=post_logout_redirect_uri,
            state=state,
        )

    def end_session(self, login: Login) -> Operation[int]:
        """End the CIS2 session from the back end, as CIS2's own clients do."""
        endpoint = yield from self._end_session_endpoint()
        response = yield end_session_request(
            endpoint, id_token_hint=login.id_token, access_token=login.access_token
        )
        if response.status_code >= 400:
            raise EndSessionError(
                f"End session answered HTTP {response.status_code}: the session "
                "may still be live at CIS2; send the user to logout_url() instead.",
                status_code=response.status_code,
            )
        return response.status_code

    def verify_logout_token(self, token: str) -> Operation[LogoutEvent]:
        """A back-channel logout token, verified (Back-Channel Logout 1.0 §2.6)."""
        try:
            claims, _ = yield from self.verified_claims(
                token, self.settings.logout_token_signing_algs, "logout token"
            )
        except TokenValidationError as exc:
            raise LogoutTokenError(exc.message, claim=exc.claim) from None
        settings = self.settings
        now = self.clock()
        # The issuer as discovery published it: a portless configuration is
        # accepted there, and CIS2's logout tokens carry the ':443'.
        metadata = yield from self.metadata()
        check_logout_claims(
            claims,
            issuer=metadata.issuer,
            client_id=settings.client_id,
            leeway=settings.leeway,
            now=now,
            max_age=settings.logout_token_max_age,
        )
        expires = float(claims["exp"]) + settings.leeway
        if not self.jti_store.add(claims["jti"], expires, now):
            raise LogoutTokenError(
                "This logout token's jti was seen before: a replay, refused.",
                claim="jti",
            )
        return LogoutEvent(
            iss=claims["iss"],
            sub=claims.get("sub"),
            sid=claims.get("sid"),
            jti=claims["jti"],
            iat=int(claims["iat"]),
            claims=claims,
        )

    # Helpers

    def _end_session_endpoint(self) -> Operation[str]:
        metadata = yield from self.metadata()
        if not metadata.end_session_endpoint:
            raise ConfigurationError(
                "The provider publishes no end_session_endpoint.",
                field="end_session_endpoint",
            )
        return metadata.end_session_endpoint

    def _redeem(self, request: HttpRequest) -> Operation[TokenResponse]:
        response = yield request
        try:
            return parse_token_response(response)
        except InvalidClientError as exc:
            exc.add_findings(self._diagnose(request))
            raise

    def _diagnose(self, request: HttpRequest) -> tuple[Any, ...]:
        """The doctor's offline findings on the assertion just sent."""
        auth = self.settings.auth
        assertion = (request.form or {}).get("client_assertion")
        if not isinstance(auth, PrivateKeyJwt) or not assertion:
            return ()
        try:
            from cis2.doctor import diagnose
        except ImportError:
            return ()
        try:
            report = diagnose(
                assertion,
                client_id=self.settings.client_id,
                token_endpoint=request.url,
                alg=auth.key.alg,
                key=auth.key,
                now=self.clock(),
            )
        except Exception:  # the doctor must never hide CIS2's own answer
            logger.debug("the doctor failed on the assertion", exc_info=True)
            return ()
        return tuple(report.findings)

    def _id_token_expectations(
        self, request: LoginRequest, access_token: str
    ) -> IdTokenExpectations:
        settings = self.settings
        return IdTokenExpectations(
            issuer=request.issuer,
            client_id=settings.client_id,
            algs=settings.id_token_signing_algs,
            leeway=settings.leeway,
            nonce=None if settings.skip_nonce_check else request.nonce,
            acr_values=request.acr_values,
            max_age=request.max_age,
            auth_time_max_age=settings.auth_time_max_age
            if request.prompt == "login" or request.max_age is not None
            else None,
            access_token=access_token,
            min_id_assurance_level=settings.min_id_assurance_level,
        )

    def _check_request_is_ours(self, request: LoginRequest) -> None:
        if request.client_id != self.settings.client_id:
            raise ConfigurationError(
                "This LoginRequest was made by another client (client_id differs).",
                field="login_request",
            )

    def _login(
        self,
        tokens: TokenResponse,
        claims: Mapping[str, Any],
        session_state: str | None,
        id_token: str,
    ) -> Login:
        now = self.clock()
        return Login(
            issuer=str(claims["iss"]),
            client_id=self.settings.client_id,
            id_token=id_token,
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            expires_at=None if tokens.expires_in is None else now + tokens.expires_in,
            scope=tokens.scope,
            claims=claims,
            session_state=session_state,
        )


def _same_subject(old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """OIDC Core 12.2: a refreshed ID token keeps iss and sub."""
    for claim in ("iss", "sub"):
        if old.get(claim) != new.get(claim):
            raise TokenValidationError(
                f"The refreshed ID token's {claim} differs from the original's: "
                "the refresh answered for another user; sign in again.",
                claim=claim,
            )
