"""The simulator's configuration: its options, its clients and its personas.

Clients use the OAuth dynamic-registration metadata names (RFC 7591 section 2,
OpenID Connect Registration 1.0 section 2), so a registration reads the same
here as in CIS2's Connection Manager. Options carry the project defaults of
the reference's section 10. A bad TOML file is refused at start-up with an
error naming the file, the entry and the field.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import platformdirs

from cis2._secret import Secret
from cis2.environments import HEALTHCARE_REALM
from cis2.errors import ConfigurationError, KeyLoadError
from cis2.keys import (
    SIGNING_ALGORITHMS,
    KeySet,
    SigningKey,
    generate_signing_key,
    jwks,
    load_signing_key,
)
from cis2.simulator._personas import (
    Persona,
    default_personas,
)

__all__ = [
    "AUTH_METHODS",
    "DEMO_KEY_FILE",
    "GRANT_TYPES",
    "SCOPES",
    "ClientRegistration",
    "SimulatorConfig",
    "SimulatorConfigError",
    "data_dir_for",
    "demo_client",
    "demo_client_key",
]

#: Every scope CIS2 documents (reference section 3.2); others get invalid_scope.
SCOPES: Final = (
    "openid",
    "profile",
    "email",
    "nhsperson",
    "associatedorgs",
    "nationalrbacaccess",
    "professionalmemberships",
    "organisationalmemberships",
    "selectedrole",
    "changedrole",
)
AUTH_METHODS: Final = ("private_key_jwt", "client_secret_post")
GRANT_TYPES: Final = ("authorization_code", "refresh_token")
DEMO_CLIENT_ID: Final = "999999999999.apps.national"
DEMO_REDIRECT_URIS: Final = (
    "http://127.0.0.1:8765/callback",
    "http://127.0.0.1/callback",
)
DEMO_KEY_FILE: Final = "demo-client-key.pem"
_LOOPBACK_HOSTS: Final = ("127.0.0.1", "::1", "localhost")


class SimulatorConfigError(ConfigurationError):
    """The simulator's configuration cannot work.

    ``file``, ``entry`` (e.g. ``clients[0]``) and ``field`` say where.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        entry: str | None = None,
        field: str | None = None,
    ) -> None:
        where = ", ".join(
            part
            for part in (
                file,
                entry,
                f"field '{field}'" if field else None,
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message, field=field)
        self.file = file
        self.entry = entry


@dataclass(frozen=True, slots=True)
class ClientRegistration:
    """One relying party as CIS2 would have it registered (RFC 7591 names)."""

    client_id: str
    redirect_uris: tuple[str, ...]
    token_endpoint_auth_method: str = "private_key_jwt"
    token_endpoint_auth_signing_alg: str = "RS512"
    jwks: Mapping[str, Any] | None = None
    jwks_uri: str | None = None
    client_secret: Secret | None = None
    post_logout_redirect_uris: tuple[str, ...] = ()
    grant_types: tuple[str, ...] = ("authorization_code",)
    scope: str | None = None
    backchannel_logout_uri: str | None = None
    client_name: str | None = None

    def __post_init__(self) -> None:
        _check_client(self)

    @property
    def allowed_scopes(self) -> frozenset[str]:
        """The scopes this client may ask for (all CIS2 scopes by default)."""
        if self.scope is None:
            return frozenset(SCOPES)
        return frozenset(self.scope.split()) | {"openid"}

    def key_set(self) -> KeySet | None:
        """The inline JWKS, parsed; None when the client uses jwks_uri."""
        if self.jwks is None:
            return None
        return KeySet.from_json(self.jwks)


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """Everything one simulator runs with; the issuer is derived, port explicit.

    The options below ``clients`` and ``personas`` are the reference's
    section 10 defaults, each changeable.
    """

    host: str = "127.0.0.1"
    port: int = 8400
    data_dir: Path | None = None
    headless: bool = False
    explain: bool = False
    clients: tuple[ClientRegistration, ...] = ()
    personas: tuple[Persona, ...] = field(default_factory=default_personas)
    # Section 10 item 2: iat and typ are optional (RFC 7523) unless required.
    require_iat: bool = False
    require_typ: bool = False
    # Section 10 item 7: PKCE is verified when a challenge was sent.
    require_pkce: bool = False
    # Section 10 item 12: assurance levels are strings, as most models show.
    integer_assurance: bool = False
    # Section 10 item 6: refresh tokens for clients with that grant type.
    refresh_tokens: bool = True
    # Section 10 item 4: the status of invalid_client.
    invalid_client_status: int = 401
    id_token_lifetime: int = 300
    access_token_lifetime: int = 3599
    refresh_token_lifetime: int = 43199
    code_lifetime: int = 120
    # Section 10 item 10: iss on the authorization response (RFC 9207).
    authorization_response_iss: bool = False
    # Section 10 item 13: profile claims go to UserInfo only, unless enabled.
    profile_claims_in_id_token: bool = False
    # Section 10 item 3: only the token endpoint is an accepted aud.
    accept_issuer_as_aud: bool = False
    # An assertion aud is one string, as CIS2 compares it; RFC 7523 allows
    # an array, accepted only when this is set.
    accept_aud_list: bool = False
    max_assertion_lifetime: int = 300
    clock_skew: int = 10
    jwks_cache_seconds: int = 300

    def __post_init__(self) -> None:
        _check_options(self)

    @property
    def base_url(self) -> str:
        """The server's origin, port explicit: ``http://127.0.0.1:8400``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def issuer(self) -> str:
        """CIS2's Healthcare realm path under this server (reference 1.1)."""
        return f"{self.base_url}{HEALTHCARE_REALM}"

    @property
    def token_endpoint(self) -> str:
        """The exact aud every client assertion must carry (reference 4.2)."""
        return f"{self.issuer}/access_token"

    def client(self, client_id: str) -> ClientRegistration | None:
        """The registration for client_id, or None."""
        for client in self.clients:
            if client.client_id == client_id:
                return client
        return None

    def persona(self, uid: str) -> Persona | None:
        """The persona with this uid, or None."""
        for persona in self.personas:
            if persona.uid == uid:
                return persona
        return None

    def with_options(self, **changes: Any) -> SimulatorConfig:
        """A copy with some options changed (and checked again)."""
        return replace(self, **changes)

    @classmethod
    def default(
        cls,
        *,
        demo_client_key_jwks: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> SimulatorConfig:
        """The demo client, the default personas, and any other clients given.

        The demo client's public keys are ``demo_client_key_jwks``; without
        them, the key kept in the data folder (made on first use) is used.
        """
        clients = tuple(options.pop("clients", ()))
        if demo_client_key_jwks is None:
            folder = data_dir_for(cls(**options))
            demo_client_key_jwks = jwks(demo_client_key(folder)[0])
        return cls(clients=(demo_client(demo_client_key_jwks), *clients), **options)

    @classmethod
    def load(cls, path: str | Path, **options: Any) -> SimulatorConfig:
        """Read a TOML file of ``[simulator]`` options, clients and personas.

        ``options`` (from the command line) win over the file's.
        """
        from cis2.simulator._config_file import load_config

        return load_config(cls, Path(path), options)


def demo_client(jwks: Mapping[str, Any]) -> ClientRegistration:
    """The demo client: private_key_jwt RS512, loopback redirects, refresh."""
    return ClientRegistration(
        client_id=DEMO_CLIENT_ID,
        redirect_uris=DEMO_REDIRECT_URIS,
        token_endpoint_auth_method="private_key_jwt",
        token_endpoint_auth_signing_alg="RS512",
        jwks=jwks,
        post_logout_redirect_uris=("http://127.0.0.1:8765/signed-out",),
        grant_types=("authorization_code", "refresh_token"),
        client_name="cis2 demo",
    )


def demo_client_key(data_dir: Path) -> tuple[SigningKey, Path]:
    """The demo client's RS512 key, made on first use and kept (mode 0600)."""
    path = data_dir / DEMO_KEY_FILE
    if path.exists():
        return load_signing_key(path, alg="RS512"), path
    key = generate_signing_key(alg="RS512")
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(key.private_pem())
    except OSError as exc:
        raise SimulatorConfigError(
            f"The data folder {data_dir} cannot hold the demo client's key "
            f"({exc.strerror}): give --data a folder you can write.",
            field="data_dir",
        ) from None
    return key, path


def data_dir_for(config: SimulatorConfig) -> Path:
    """The data folder: the configured one, else a per-user folder."""
    if config.data_dir is not None:
        return Path(config.data_dir)
    return Path(platformdirs.user_data_dir("cis2-simulator", appauthor=False))


def is_loopback_http(url: str) -> bool:
    """Whether url is plain http on a loopback host (RFC 8252 section 7.3)."""
    parts = urlsplit(url)
    return parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK_HOSTS


# Checks


def _check_client(client: ClientRegistration) -> None:
    _require_text(client.client_id, "client_id")
    if not client.redirect_uris:
        raise SimulatorConfigError(
            "redirect_uris is empty: register at least one exact callback URL.",
            field="redirect_uris",
        )
    for uri in (*client.redirect_uris, *client.post_logout_redirect_uris):
        _check_redirect(uri)
    _check_auth_method(client)
    _check_grant_types(client.grant_types)
    if client.scope is not None:
        _check_scope(client.scope)
    if client.backchannel_logout_uri is not None:
        _check_absolute(client.backchannel_logout_uri, "backchannel_logout_uri")


def _check_auth_method(client: ClientRegistration) -> None:
    method = client.token_endpoint_auth_method
    if method not in AUTH_METHODS:
        raise SimulatorConfigError(
            f"token_endpoint_auth_method {method!r} is not offered: use "
            "'private_key_jwt' (recommended by CIS2) or 'client_secret_post'.",
            field="token_endpoint_auth_method",
        )
    if method == "client_secret_post":
        if not client.client_secret:
            raise SimulatorConfigError(
                "client_secret_post needs a client_secret: add one, or use "
                "private_key_jwt with jwks or jwks_uri.",
                field="client_secret",
            )
        return
    _check_key_source(client)


def _check_key_source(client: ClientRegistration) -> None:
    alg = client.token_endpoint_auth_signing_alg
    if alg not in SIGNING_ALGORITHMS:
        raise SimulatorConfigError(
            f"token_endpoint_auth_signing_alg {alg!r} is not offered: use RS512 "
            "or RS256, the algorithm the client signs its assertions with.",
            field="token_endpoint_auth_signing_alg",
        )
    if (client.jwks is None) == (client.jwks_uri is None):
        raise SimulatorConfigError(
            "private_key_jwt needs exactly one of jwks (the public keys inline) "
            "or jwks_uri (where the client publishes them).",
            field="jwks",
        )
    if client.jwks_uri is not None:
        _check_absolute(client.jwks_uri, "jwks_uri")
        return
    try:
        keys = KeySet.from_json(client.jwks)
    except KeyLoadError as exc:
        raise SimulatorConfigError(exc.message, field="jwks") from None
    if not len(keys):
        raise SimulatorConfigError(
            "jwks holds no usable public key: give RSA JWKs with kid, n and e.",
            field="jwks",
        )


def _check_grant_types(grant_types: Sequence[str]) -> None:
    unknown = [g for g in grant_types if g not in GRANT_TYPES]
    if unknown or "authorization_code" not in grant_types:
        raise SimulatorConfigError(
            f"grant_types {list(grant_types)!r} must include 'authorization_code' "
            "and may add 'refresh_token'; nothing else is offered.",
            field="grant_types",
        )


def _check_scope(scope: str) -> None:
    unknown = sorted(set(scope.split()) - set(SCOPES))
    if unknown:
        raise SimulatorConfigError(
            f"scope names unknown scopes {unknown}: use CIS2's scopes "
            f"({' '.join(SCOPES)}).",
            field="scope",
        )


def _check_redirect(uri: str) -> None:
    _check_absolute(uri, "redirect_uris")
    parts = urlsplit(uri)
    if parts.fragment:
        raise SimulatorConfigError(
            f"redirect URI {uri!r} has a fragment: RFC 6749 section 3.1.2 forbids "
            "one; drop the '#...'.",
            field="redirect_uris",
        )
    if parts.scheme == "http" and not is_loopback_http(uri):
        raise SimulatorConfigError(
            f"redirect URI {uri!r} is plain http on a non-loopback host: CIS2 "
            "takes https, or http only on 127.0.0.1, [::1] or localhost.",
            field="redirect_uris",
        )


def _check_absolute(url: str, name: str) -> None:
    _require_text(url, name)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SimulatorConfigError(
            f"{name} value {url!r} is not an absolute http(s) URL.", field=name
        )


def _require_text(value: object, name: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise SimulatorConfigError(f"{name} must be a non-empty string.", field=name)


def _check_options(config: SimulatorConfig) -> None:
    if config.host not in _LOOPBACK_HOSTS:
        raise SimulatorConfigError(
            f"host {config.host!r} is not loopback: the simulator listens on "
            "loopback only, so nothing outside this machine reaches it; give "
            "127.0.0.1, ::1 or localhost.",
            field="host",
        )
    if not isinstance(config.port, int) or not 0 <= config.port <= 65535:
        raise SimulatorConfigError(
            "port must be a whole number from 0 to 65535.", field="port"
        )
    for name in (
        "id_token_lifetime",
        "access_token_lifetime",
        "refresh_token_lifetime",
        "code_lifetime",
        "max_assertion_lifetime",
        "jwks_cache_seconds",
    ):
        value = getattr(config, name)
        if not isinstance(value, int) or value <= 0:
            raise SimulatorConfigError(
                f"{name} must be a positive whole number of seconds.", field=name
            )
    for f in fields(config):
        if f.type in ("bool", bool) and not isinstance(getattr(config, f.name), bool):
            raise SimulatorConfigError(f"{f.name} must be true or false.", field=f.name)
    if config.invalid_client_status not in (400, 401):
        raise SimulatorConfigError(
            "invalid_client_status must be 401 (the default) or 400.",
            field="invalid_client_status",
        )
    _check_unique([c.client_id for c in config.clients], "client_id")
    _check_unique([p.uid for p in config.personas], "uid")


def _check_unique(values: Sequence[str], name: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise SimulatorConfigError(
                f"{name} {value!r} appears twice: each must be unique.", field=name
            )
        seen.add(value)
