"""What several commands share: setting options, the provider, the key.

Nothing here imports the web stack; the few helpers that need httpx or the
client import them when called.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from cis2 import environments
from cis2.cli._settings import (
    DEFAULT,
    FLAG,
    MissingSettingError,
    Settings,
    setting,
)
from cis2.errors import ConfigurationError, KeyLoadError, ProviderUnreachableError
from cis2.keys import SigningKey, load_signing_key

__all__ = [
    "Provider",
    "load_key",
    "load_key_file",
    "provider_values",
    "read_secret_file",
    "resolve_provider",
    "setting_options",
]

F = TypeVar("F", bound=Callable[..., Any])


def setting_options(*names: str, **overrides: str) -> Callable[[F], F]:
    """Click options for the named settings, each defaulting to None.

    None lets the environment and cis2.toml fill in what a flag leaves
    unset. overrides replace a setting's help text for one command.
    """

    def decorate(func: F) -> F:
        for name in reversed(names):
            known = setting(name)
            hint = f"{overrides.get(name, known.help)} [env {known.env}]"
            if known.default is not None:
                hint += f" [default: {known.default}]"
            func = click.option(known.flag, name, default=None, help=hint)(func)
        return func

    return decorate


class Provider:
    """Where the commands talk to: an issuer, a token endpoint, or both."""

    def __init__(self, issuer: str | None, token_endpoint: str | None) -> None:
        self.issuer = issuer
        self._token_endpoint = token_endpoint

    @property
    def token_endpoint(self) -> str:
        """The token endpoint: as given, or discovered from the issuer."""
        if self._token_endpoint is None:
            self._token_endpoint = _discover_token_endpoint(str(self.issuer))
        return self._token_endpoint


def provider_values(settings: Settings) -> dict[str, str | None]:
    """env, issuer and token_endpoint from the first layer that sets any.

    They name one provider together, so a flag for one of them hides an
    environment variable or a cis2.toml entry for another.
    """
    names = ("env", "issuer", "token_endpoint")
    layers = {name: settings.layer_of(name) for name in names}
    top = min(layers.values())
    if top == DEFAULT:
        return dict.fromkeys(names)
    return {name: settings.get(name) if layers[name] == top else None for name in names}


def resolve_provider(settings: Settings, *, need: str) -> Provider:
    """The provider the settings name.

    need is "issuer" when the command signs in (it needs discovery) and
    "token_endpoint" when an assertion's aud is enough.
    """
    values = provider_values(settings)
    chosen = [name for name, value in values.items() if value]
    if len(chosen) > 1 and "env" in chosen:
        flags = " and ".join("--" + name.replace("_", "-") for name in chosen)
        raise click.UsageError(
            f"{flags} are both set: give --env for a CIS2 environment, or the "
            "URL, not both."
        )
    if not chosen:
        flag = "--" + need.replace("_", "-")
        raise MissingSettingError(
            f"No CIS2 provider is set: pass --env int (or dep, live), or {flag} "
            f"URL; the settings CIS2_ENV and CIS2_{need.upper()} work too.",
            field=need,
        )
    if values["env"]:
        env = environments.by_name(values["env"])
        return Provider(env.issuer, env.token_endpoint)
    if need == "issuer" and not values["issuer"]:
        raise MissingSettingError(
            "This command signs in, so it needs the issuer, not only the token "
            "endpoint: pass --env or --issuer URL.",
            field="issuer",
        )
    if values["token_endpoint"]:
        _check_token_endpoint(values["token_endpoint"], settings)
    return Provider(values["issuer"], values["token_endpoint"])


def _check_token_endpoint(url: str, settings: Settings) -> None:
    """The token endpoint is https, or http on loopback (reference section 3).

    It becomes the assertion's aud byte for byte, so a slip such as a bare
    host name would mint an assertion CIS2 can only refuse. The core's
    message names a library parameter; this one names the flag.
    """
    from cis2._discovery import check_provider_url

    try:
        check_provider_url(url, "token_endpoint")
    except ConfigurationError:
        resolved = settings.resolve("token_endpoint")
        where = "" if resolved.layer == FLAG else f" (set by {resolved.source})"
        raise ConfigurationError(
            f"--token-endpoint{where} is not an https URL, nor http on a "
            "loopback host: give the full URL, e.g. "
            f"{environments.INT.token_endpoint}.",
            field="token_endpoint",
        ) from None


def load_key(settings: Settings, *, why: str) -> SigningKey:
    """The signing key named by the key setting, with its password and alg."""
    return load_key_file(
        settings.require("key", why),
        password_file=settings.get("key_password_file"),
        alg=settings.get("alg"),
    )


def load_key_file(
    path: str, *, password_file: str | None, alg: str | None
) -> SigningKey:
    """The signing key at path, decrypted with the password in password_file."""
    password = None
    if password_file:
        password = read_secret_file(password_file, "key_password_file")
    return load_signing_key(Path(path), password=password, alg=alg or "RS512")


def read_secret_file(path_text: str, name: str) -> str:
    """The secret in a file, trailing newline removed; never echoed.

    A file others can read is refused: a secret there is already exposed.
    """
    path = Path(path_text)
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError(
            f"{name}: no file at {path}. Write the secret alone in a file that "
            "only you can read (chmod 600).",
            field=name,
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"{name}: cannot read {path} ({type(exc).__name__}).", field=name
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"{name}: {path} can be read by other users: run 'chmod 600 {path}' "
            "and rotate the secret if others may have read it.",
            field=name,
        )
    secret = text.strip("\r\n")
    if not secret:
        raise KeyLoadError(f"{name}: {path} is empty.", field=name)
    return secret


def _discover_token_endpoint(issuer: str) -> str:
    """The token_endpoint the issuer's discovery document publishes.

    The core's own discovery rules apply (Discovery 1.0 sections 4.1 and
    4.3: the exact issuer, every endpoint on https or loopback), so the aud
    is the one the client would use.
    """
    import time

    import httpx

    from cis2._discovery import discovery_request, parse_discovery
    from cis2._http import HttpResponse

    request = discovery_request(issuer)
    try:
        answer = httpx.get(request.url, headers=dict(request.headers), timeout=10)
    except httpx.HTTPError:
        raise ProviderUnreachableError(
            f"No answer from {request.url}: check --issuer, or pass "
            "--token-endpoint URL directly.",
            url=request.url,
            field="issuer",
        ) from None
    response = HttpResponse(answer.status_code, dict(answer.headers), answer.content)
    return parse_discovery(response, issuer, now=time.time()).token_endpoint
