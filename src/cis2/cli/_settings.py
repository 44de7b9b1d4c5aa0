"""Settings for the command line: flags, then environment, then ``cis2.toml``.

Each setting has one name used everywhere: the flag ``--client-id``, the
environment variable ``CIS2_CLIENT_ID`` and the key ``client_id`` in a
``cis2.toml`` in the working folder. The first layer that sets a value wins.
``cis2 config`` shows the merged result, with secrets masked.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cis2.errors import ConfigurationError

__all__ = [
    "CONFIG_FILE",
    "DEFAULT",
    "ENVIRONMENT",
    "FILE",
    "FLAG",
    "SETTINGS",
    "MissingSettingError",
    "Resolved",
    "Setting",
    "Settings",
    "default_login_file",
    "setting",
]

CONFIG_FILE: Final = "cis2.toml"
DEFAULT_REDIRECT_URI: Final = "http://127.0.0.1:8765/callback"
DEFAULT_SCOPE: Final = "openid profile nationalrbacaccess"
MASK: Final = "********"


class MissingSettingError(ConfigurationError):
    """A setting the command needs is not given: a usage error (exit 2).

    Kept apart from ConfigurationError, which also covers settings that are
    given but cannot work (a key file others can read, a busy port): those
    stay operational errors (exit 1).
    """


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: its name, what it is, and whether its value is secret."""

    name: str
    help: str
    secret: bool = False
    default: str | None = None

    @property
    def env(self) -> str:
        return f"CIS2_{self.name.upper()}"

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


SETTINGS: Final[tuple[Setting, ...]] = (
    Setting("env", "CIS2 environment: dev, int, dep or live"),
    Setting("issuer", "issuer URL, exactly as published (with :443)"),
    Setting("token_endpoint", "token endpoint URL, the assertion's aud"),
    Setting("client_id", "the client_id CIS2 registered"),
    Setting("key", "private key file for private_key_jwt"),
    Setting("key_password_file", "file holding the key's password"),
    Setting("client_secret_file", "file holding the client secret"),
    Setting("client_secret", "the client secret itself", secret=True),
    Setting("alg", "assertion signing algorithm as registered", default="RS512"),
    Setting("redirect_uri", "loopback redirect URI", default=DEFAULT_REDIRECT_URI),
    Setting("scope", "scopes to request", default=DEFAULT_SCOPE),
    Setting("acr", "acr_values to request, e.g. AAL3_ANY"),
    Setting("login_file", "where the saved login is kept"),
    Setting("timeout", "seconds to wait for the sign-in", default="300"),
)
_BY_NAME: Final = {setting.name: setting for setting in SETTINGS}


#: The layers a value can come from, first wins.
FLAG, ENVIRONMENT, FILE, DEFAULT = range(4)


@dataclass(frozen=True, slots=True)
class Resolved:
    """A setting's merged value, the layer it came from and how to say so."""

    setting: Setting
    value: str | None
    source: str
    layer: int

    def shown(self) -> str:
        """The value as ``cis2 config`` prints it: secrets masked."""
        if self.value is None:
            return ""
        return MASK if self.setting.secret else self.value


class Settings:
    """The merged settings for one command run."""

    def __init__(
        self,
        flags: Mapping[str, object] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        folder: Path | None = None,
    ) -> None:
        self._flags = {k: v for k, v in (flags or {}).items() if v is not None}
        self._environ = os.environ if environ is None else environ
        self._path = (folder or Path.cwd()) / CONFIG_FILE
        self._file = _read_config(self._path)

    def resolve(self, name: str) -> Resolved:
        """Where name's value comes from: flag, environment, file or default."""
        setting = _BY_NAME[name]
        if name in self._flags:
            flag = "flag " + setting.flag
            return Resolved(setting, str(self._flags[name]), flag, FLAG)
        if self._environ.get(setting.env):
            value = self._environ[setting.env]
            return Resolved(setting, value, setting.env, ENVIRONMENT)
        if name in self._file:
            return Resolved(setting, self._file[name], CONFIG_FILE, FILE)
        default = setting.default
        if name == "login_file":
            default = str(default_login_file(self._environ))
        source = "default" if default is not None else "unset"
        return Resolved(setting, default, source, DEFAULT)

    def get(self, name: str) -> str | None:
        return self.resolve(name).value

    def require(self, name: str, why: str) -> str:
        """name's value, or a ConfigurationError saying the three ways to set it."""
        value = self.get(name)
        if value:
            return value
        setting = _BY_NAME[name]
        raise MissingSettingError(
            f"{name} is not set and {why}: pass {setting.flag}, set {setting.env} "
            f'or add {name} = "..." to {CONFIG_FILE}.',
            field=name,
        )

    def integer(self, name: str) -> int:
        """name's value as a positive whole number."""
        value = self.get(name) or ""
        if not value.isdigit() or int(value) <= 0:
            raise ConfigurationError(
                f"{name} must be a positive whole number of seconds, not {value!r}.",
                field=name,
            )
        return int(value)

    def layer_of(self, name: str) -> int:
        """FLAG, ENVIRONMENT, FILE or DEFAULT: where name's value comes from."""
        return self.resolve(name).layer

    def all(self) -> list[Resolved]:
        return [self.resolve(setting.name) for setting in SETTINGS]

    @property
    def config_path(self) -> Path:
        return self._path


def setting(name: str) -> Setting:
    """The setting called name."""
    return _BY_NAME[name]


def default_login_file(environ: Mapping[str, str]) -> Path:
    """``$XDG_CONFIG_HOME/cis2/login.json``, else ``~/.config/cis2/login.json``."""
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "cis2" / "login.json"


def _read_config(path: Path) -> dict[str, str]:
    """The settings in a cis2.toml (empty when there is none).

    A key that is not a setting is refused rather than ignored: a typo such
    as ``clientid`` would otherwise send a login to the wrong place quietly.
    """
    import tomllib

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(
            f"{path} is not valid TOML ({exc}): fix the file or remove it.",
            field="config",
        ) from None
    return {name: _config_value(path, name, v) for name, v in document.items()}


def _config_value(path: Path, name: str, value: object) -> str:
    if name not in _BY_NAME:
        known = ", ".join(_BY_NAME)
        raise ConfigurationError(
            f"{path}: {name!r} is not a cis2 setting; the settings are {known}.",
            field=name,
        )
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigurationError(
            f"{path}: {name} must be a string or a number.", field=name
        )
    return str(value)
