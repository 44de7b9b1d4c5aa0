"""``cis2 login``, ``refresh``, ``userinfo`` and ``logout`` from the terminal.

``login`` runs the authorization code flow (OpenID Connect Core section 3.1)
as a native application: it listens on the loopback redirect URI, opens the
browser, waits for the authorization response, redeems the code, validates
everything through ``cis2.Client`` and saves the login for the other three
commands.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cis2.cli._common import (
    load_key_file,
    read_secret_file,
    resolve_provider,
    setting_options,
)
from cis2.cli._output import login_document, print_json, print_user, to_plain
from cis2.cli._saved import SavedLogin
from cis2.cli._settings import Settings

if TYPE_CHECKING:
    from cis2 import Client, Login
    from cis2.cli._loopback import CallbackListener

__all__ = ["login", "logout", "refresh", "userinfo"]

_SAVED = setting_options("login_file", "key", "key_password_file", "client_secret_file")
_JSON = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON on stdout instead of tables."
)


@click.command()
@setting_options(
    "env",
    "issuer",
    "client_id",
    "key",
    "key_password_file",
    "alg",
    "client_secret_file",
    "redirect_uri",
    "scope",
    "acr",
    "timeout",
    "login_file",
)
@click.option(
    "--login-hint", help="Suggest who signs in (a UID; the simulator's persona)."
)
@click.option("--no-browser", is_flag=True, help="Print the URL on stderr instead.")
@_JSON
def login(
    login_hint: str | None, no_browser: bool, as_json: bool, **flags: str | None
) -> None:
    """Sign in through the browser and show who signed in.

    Listens on the loopback redirect URI (register it exactly for the
    client), opens the authorization URL, waits for the sign-in, redeems
    the code and validates the ID token. The login, tokens included, is
    saved readable by you alone for refresh, userinfo and logout.

    \b
    Examples:
      cis2 login --env int --client-id 999999999999.apps.national --key key.pem
      cis2 login --issuer "$SIMULATOR_ISSUER" --client-id 999999999999.apps.national \\
          --key demo-client-key.pem --no-browser --login-hint 656005750108 --json
    """
    from cis2.cli._loopback import CallbackListener

    settings = Settings(flags)
    saved = _saved_settings(settings)
    timeout = settings.integer("timeout")
    with _client_for(saved, settings) as client:
        request = client.start_login(
            acr_values=settings.get("acr") or None, login_hint=login_hint
        )
        with CallbackListener(saved.redirect_uri, state=request.state) as listener:
            _send_user_to(request.url, open_browser=not no_browser)
            callback = _wait(listener, timeout)
        result = client.finish_login(callback, request)
    _store(saved, result, settings)
    _show(result, as_json, title="Signed in")


@click.command()
@_SAVED
@_JSON
def refresh(as_json: bool, **flags: str | None) -> None:
    """Renew the saved login's tokens with its refresh token.

    \b
    Example:
      cis2 refresh --json
    """
    settings = Settings(flags)
    saved, current = _restore(settings)
    with _client_for(saved, settings) as client:
        renewed = client.refresh(current)
    _store(saved, renewed, settings)
    _show(renewed, as_json, title="Refreshed")


@click.command()
@_SAVED
@_JSON
def userinfo(as_json: bool, **flags: str | None) -> None:
    """Call UserInfo with the saved login's access token.

    \b
    Example:
      cis2 userinfo --json
    """
    settings = Settings(flags)
    saved, current = _restore(settings)
    with _client_for(saved, settings) as client:
        info = client.userinfo(current)
    if as_json:
        print_json({"claims": to_plain(info.claims), "user": to_plain(info.user)})
        return
    print_user(info.user, title="UserInfo")


@click.command()
@_SAVED
def logout(**flags: str | None) -> None:
    """End the CIS2 session of the saved login, then forget the login.

    Calls the end-session endpoint from here with id_token_hint and the
    access token; CIS2 then sends back-channel logout to the applications
    the user signed in to.

    \b
    Example:
      cis2 logout
    """
    settings = Settings(flags)
    saved, current = _restore(settings)
    with _client_for(saved, settings) as client:
        client.end_session(current)
    path = _login_file(settings)
    path.unlink(missing_ok=True)
    click.echo(f"Logged out; removed {path}.")


# Helpers


def _saved_settings(settings: Settings) -> SavedLogin:
    """The client settings login will save, checked before anything starts."""
    from cis2.cli._loopback import check_loopback_redirect_uri

    provider = resolve_provider(settings, need="issuer")
    client_id = settings.require("client_id", "CIS2 needs it to sign in")
    redirect_uri = settings.require("redirect_uri", "the callback needs it")
    check_loopback_redirect_uri(redirect_uri)
    method = _auth_method(settings)
    uses_key = method == "private_key_jwt"
    return SavedLogin(
        issuer=str(provider.issuer),
        client_id=client_id,
        redirect_uri=redirect_uri,
        scope=settings.get("scope") or "openid",
        auth_method=method,
        key=_absolute(settings.get("key")) if uses_key else None,
        alg=settings.get("alg") if uses_key else None,
        key_password_file=_absolute(settings.get("key_password_file")),
        client_secret_file=None
        if uses_key
        else _absolute(settings.get("client_secret_file")),
        login={},
    )


def _auth_method(settings: Settings) -> str:
    """private_key_jwt with a key, client_secret_post with a secret; never both."""
    has_key = bool(settings.get("key"))
    has_secret = bool(
        settings.get("client_secret_file") or settings.get("client_secret")
    )
    if has_key and has_secret:
        raise click.UsageError(
            "Both a key and a client secret are set: give --key for "
            "private_key_jwt or --client-secret-file for client_secret_post."
        )
    if not (has_key or has_secret):
        from cis2.cli._settings import MissingSettingError

        raise MissingSettingError(
            "No client credentials: pass --key FILE (private_key_jwt, what CIS2 "
            "recommends) or --client-secret-file FILE (client_secret_post).",
            field="key",
        )
    return "private_key_jwt" if has_key else "client_secret_post"


def _client_for(saved: SavedLogin, settings: Settings) -> Client:
    """A cis2.Client for the saved settings; flags may point at a moved key."""
    import cis2

    credentials: dict[str, Any] = {}
    if saved.auth_method == "private_key_jwt":
        credentials["signing_key"] = load_key_file(
            settings.get("key") or str(saved.key),
            password_file=settings.get("key_password_file") or saved.key_password_file,
            alg=saved.alg,
        )
    else:
        credentials["client_secret"] = _client_secret(saved, settings)
    return cis2.Client(
        saved.issuer,
        saved.client_id,
        saved.redirect_uri,
        scope=saved.scope,
        **credentials,
    )


def _client_secret(saved: SavedLogin, settings: Settings) -> str:
    path = settings.get("client_secret_file") or saved.client_secret_file
    if path:
        return read_secret_file(path, "client_secret_file")
    return settings.require("client_secret", "the client authenticates with a secret")


def _send_user_to(url: str, *, open_browser: bool) -> None:
    """Open url in the browser, or print it on stderr for the user to open."""
    if open_browser:
        import webbrowser

        if webbrowser.open(url):
            click.echo("Opened the browser to sign in.", err=True)
            return
        click.echo("Could not open a browser.", err=True)
    click.echo("Open this URL in a browser to sign in:", err=True)
    click.echo(url, err=True)


def _wait(listener: CallbackListener, timeout: int) -> str:
    """The callback URL, with a spinner on a terminal and a line elsewhere."""
    text = f"Waiting for the sign-in (up to {timeout} s; Ctrl-C to stop)"
    if not sys.stderr.isatty():
        click.echo(text + "...", err=True)
        return listener.wait(timeout)
    from rich.console import Console

    with Console(stderr=True).status(text):
        return listener.wait(timeout)


def _restore(settings: Settings) -> tuple[SavedLogin, Login]:
    """The saved login's settings and its Login object."""
    import json

    import cis2

    saved = SavedLogin.load(_login_file(settings))
    return saved, cis2.Login.from_json(json.dumps(saved.login))


def _store(saved: SavedLogin, result: Login, settings: Settings) -> None:
    import dataclasses
    import json

    path = _login_file(settings)
    dataclasses.replace(saved, login=json.loads(result.to_json())).save(path)
    click.echo(f"Saved the login to {path} (mode 0600).", err=True)


def _show(result: Login, as_json: bool, *, title: str) -> None:
    if as_json:
        print_json(login_document(result))
        return
    print_user(result.user, title=title)


def _login_file(settings: Settings) -> Path:
    return Path(settings.get("login_file") or "login.json").expanduser()


def _absolute(path: str | None) -> str | None:
    return str(Path(path).expanduser().resolve()) if path else None
