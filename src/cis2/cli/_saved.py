"""The saved login: what ``cis2 login`` keeps for refresh, userinfo and logout.

The file holds ``Login.to_json()`` (tokens included) and the settings needed
to build the same client again: issuer, client_id, redirect URI, scope and
where the key or secret file is. It never holds the key or the secret
themselves. It is written readable by the user alone (mode 0600) and
replaced atomically, so a crash never leaves half a login behind.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cis2.errors import Cis2Error, ConfigurationError

__all__ = ["NoSavedLoginError", "SavedLogin"]

_FORMAT = 1


class NoSavedLoginError(Cis2Error):
    """There is no saved login to use, or it cannot be read."""


@dataclass(frozen=True, slots=True)
class SavedLogin:
    """A login and the client settings that made it."""

    issuer: str
    client_id: str
    redirect_uri: str
    scope: str
    auth_method: str  # "private_key_jwt" or "client_secret_post"
    key: str | None
    alg: str | None
    key_password_file: str | None
    client_secret_file: str | None
    login: dict[str, Any]

    def save(self, path: Path) -> None:
        """Write the login to path with mode 0600, replacing any old one."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        document = {"format": _FORMAT, **asdict(self)}
        temporary = path.with_name(path.name + ".tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        descriptor = os.open(temporary, flags, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            json.dump(document, handle, indent=2)
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path) -> SavedLogin:
        """The login saved at path, or an error saying to sign in first."""
        try:
            mode = path.stat().st_mode
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NoSavedLoginError(
                f"No saved login at {path}: sign in first with 'cis2 login', or "
                "pass --login-file.",
                field="login_file",
            ) from None
        except (OSError, ValueError) as exc:
            raise NoSavedLoginError(
                f"The saved login at {path} cannot be read ({type(exc).__name__}): "
                "sign in again with 'cis2 login'.",
                field="login_file",
            ) from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigurationError(
                f"The saved login {path} can be read by other users: its tokens may "
                f"be exposed. Delete it, run 'cis2 login' again, and keep it 0600.",
                field="login_file",
            )
        return cls._from_document(path, document)

    @classmethod
    def _from_document(cls, path: Path, document: Any) -> SavedLogin:
        if not isinstance(document, dict) or document.get("format") != _FORMAT:
            raise NoSavedLoginError(
                f"{path} is not a login saved by this cis2: sign in again with "
                "'cis2 login'.",
                field="login_file",
            )
        fields = {k: v for k, v in document.items() if k != "format"}
        try:
            return cls(**fields)
        except TypeError:
            raise NoSavedLoginError(
                f"{path} is incomplete: sign in again with 'cis2 login'.",
                field="login_file",
            ) from None

    def __repr__(self) -> str:
        return f"SavedLogin(issuer={self.issuer!r}, client_id={self.client_id!r})"
