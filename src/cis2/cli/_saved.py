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
import tempfile
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
        """Write the login to path with mode 0600, replacing any old one.

        The temporary file is made by mkstemp (O_EXCL, mode 0600, a fresh
        name) beside path: a fixed name could be a planted symlink sending
        the tokens elsewhere, and two logins at once would write into one
        file. It is flushed to disk before the atomic rename.
        """
        _make_private_folder(path.parent)
        document = {"format": _FORMAT, **asdict(self)}
        descriptor, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(document, handle, indent=2)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

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


def _make_private_folder(folder: Path) -> None:
    """Create folder and any missing parents readable by the user alone.

    mkdir's mode gives way to the umask and covers only the last folder, so
    each folder cis2 creates is set to 0700 afterwards; a folder that
    already exists is left as its owner made it.
    """
    missing: list[Path] = []
    for each in (folder, *folder.parents):
        if each.exists():
            break
        missing.append(each)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for each in missing:
        each.chmod(0o700)
