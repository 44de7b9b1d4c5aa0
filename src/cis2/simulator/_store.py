"""The simulator's state in SQLite: keys, codes, sessions, tokens, seen jtis.

Everything a relying party could notice across a restart lives here, so a
restart loses nothing: a used code stays used, a seen jti stays seen, a
refresh token still works. Bearer values (codes, access and refresh tokens)
are stored only as SHA-256 hashes, so the file holds nothing a reader could
replay. One connection is shared under a lock; WAL mode lets the rotate
command write while a server reads.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cis2.errors import ConfigurationError

__all__ = ["DB_NAME", "Grant", "Store", "token_hash"]

DB_NAME: Final = "simulator.sqlite3"

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS signing_keys (
    kid TEXT PRIMARY KEY, pem TEXT NOT NULL, state TEXT NOT NULL,
    created_at INTEGER NOT NULL, retire_at INTEGER
);
CREATE TABLE IF NOT EXISTS sessions (
    sid TEXT PRIMARY KEY, sub TEXT NOT NULL, authenticator TEXT NOT NULL,
    acr TEXT NOT NULL, auth_time INTEGER NOT NULL, selected_roleid TEXT,
    ended_at INTEGER
);
CREATE TABLE IF NOT EXISTS grants (
    grant_id TEXT PRIMARY KEY, client_id TEXT NOT NULL, sid TEXT NOT NULL,
    sub TEXT NOT NULL, scope TEXT NOT NULL, nonce TEXT, acr TEXT NOT NULL,
    selected_roleid TEXT, revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS codes (
    code_hash TEXT PRIMARY KEY, grant_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,
    code_challenge TEXT, state TEXT, expires_at INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS access_tokens (
    token_hash TEXT PRIMARY KEY, grant_id TEXT NOT NULL, expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash TEXT PRIMARY KEY, grant_id TEXT NOT NULL, expires_at INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS seen_jtis (
    client_id TEXT NOT NULL, jti TEXT NOT NULL, expires_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE TABLE IF NOT EXISTS pending_logins (
    txn TEXT PRIMARY KEY, csrf TEXT NOT NULL, request TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, at INTEGER NOT NULL,
    client_id TEXT, detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_kind ON events (kind, id);
CREATE INDEX IF NOT EXISTS access_grant ON access_tokens (grant_id);
CREATE INDEX IF NOT EXISTS refresh_grant ON refresh_tokens (grant_id);
CREATE INDEX IF NOT EXISTS grants_sid ON grants (sid);
"""
# The admin page shows the latest events; older ones are pruned so that a
# long load run keeps the file (and memory for the page) bounded.
_EVENTS_KEPT: Final = 500
# The tables of single-use values and their key columns: fixed names only,
# so the SQL built from them can hold nothing from a request.
_SINGLE_USE: Final = {"codes": "code_hash", "refresh_tokens": "token_hash"}
# The file holds the simulator's private signing keys, so only its owner may
# read it, whatever the umask; SQLite's journal files hold the same pages.
_DIR_MODE: Final = 0o700
_FILE_MODE: Final = 0o600
_SIDE_FILES: Final = ("", "-wal", "-shm")


def _open(path: Path) -> sqlite3.Connection:
    """The database at path, made owner-only before any key is written.

    A umask of 0o077 covers the files SQLite creates now (the database, its
    -wal and -shm); the chmod covers files left by an earlier, looser run.
    """
    previous = os.umask(0o077)
    try:
        db = sqlite3.connect(
            path, check_same_thread=False, isolation_level=None, timeout=10
        )
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        _restrict_files(path)
        db.executescript(_SCHEMA)
    finally:
        os.umask(previous)
    return db


def _restrict_files(path: Path) -> None:
    for suffix in _SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.chmod(_FILE_MODE)


def _private_folder(data_dir: Path) -> None:
    """The data folder, made if absent and owner-only either way.

    ``mkdir(mode=...)`` leaves an existing folder as it was, so the mode is
    set again here.
    """
    data_dir.mkdir(parents=True, exist_ok=True, mode=_DIR_MODE)
    data_dir.chmod(_DIR_MODE)


def token_hash(value: str) -> str:
    """The stored form of a bearer value: its SHA-256, hex."""
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Grant:
    """What one authorization produced tokens for."""

    grant_id: str
    client_id: str
    sid: str
    sub: str
    scope: str
    nonce: str | None
    acr: str
    selected_roleid: str | None
    revoked: bool


class Store:
    """The SQLite file under the data folder, behind one lock."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / DB_NAME
        self._lock = threading.Lock()
        try:
            _private_folder(data_dir)
            self._db = _open(self.path)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigurationError(
                f"The data folder {data_dir} cannot hold the simulator's state "
                f"({type(exc).__name__}: {exc}): give --data a folder you can "
                "write, or delete a corrupt simulator.sqlite3 to start afresh.",
                field="data_dir",
            ) from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic step; BEGIN IMMEDIATE so two redemptions cannot race."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def query(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def execute(self, sql: str, *args: Any) -> int:
        """Run one statement; the number of rows it changed."""
        with self._lock:
            return self._db.execute(sql, args).rowcount

    def take_once(self, table: str, value: str) -> sqlite3.Row | None:
        """The row for a single-use value, marked used in the same step.

        The row returned shows ``used`` as it was before, so a caller can
        tell a first use from a replay. ``table`` is ``codes`` or
        ``refresh_tokens``.
        """
        column = _SINGLE_USE[table]
        with self.transaction() as db:
            row: sqlite3.Row | None = db.execute(
                f"SELECT * FROM {table} WHERE {column} = ?",  # noqa: S608
                (token_hash(value),),
            ).fetchone()
            if row is not None and not row["used"]:
                db.execute(
                    f"UPDATE {table} SET used = 1 WHERE {column} = ?",  # noqa: S608
                    (row[column],),
                )
        return row

    # Signing keys

    def signing_keys(self) -> list[sqlite3.Row]:
        return self.query("SELECT * FROM signing_keys ORDER BY created_at, rowid")

    # Sessions and grants

    def add_session(
        self,
        sid: str,
        sub: str,
        authenticator: str,
        acr: str,
        auth_time: int,
        selected_roleid: str | None,
    ) -> None:
        self.execute(
            "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, NULL)",
            sid,
            sub,
            authenticator,
            acr,
            auth_time,
            selected_roleid,
        )

    def session(self, sid: str) -> sqlite3.Row | None:
        rows = self.query(
            "SELECT * FROM sessions WHERE sid = ? AND ended_at IS NULL", sid
        )
        return rows[0] if rows else None

    def add_grant(self, grant: Grant) -> None:
        self.execute(
            "INSERT INTO grants VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
            grant.grant_id,
            grant.client_id,
            grant.sid,
            grant.sub,
            grant.scope,
            grant.nonce,
            grant.acr,
            grant.selected_roleid,
        )

    def grant(self, grant_id: str) -> Grant | None:
        rows = self.query("SELECT * FROM grants WHERE grant_id = ?", grant_id)
        if not rows:
            return None
        row = rows[0]
        return Grant(
            row["grant_id"],
            row["client_id"],
            row["sid"],
            row["sub"],
            row["scope"],
            row["nonce"],
            row["acr"],
            row["selected_roleid"],
            bool(row["revoked"]),
        )

    def revoke_grant(self, grant_id: str) -> None:
        self.execute("UPDATE grants SET revoked = 1 WHERE grant_id = ?", grant_id)

    def end_session(self, sid: str, now: int) -> list[str]:
        """End the session and revoke its grants; the clients it had tokens for."""
        with self.transaction() as db:
            db.execute(
                "UPDATE sessions SET ended_at = ? WHERE sid = ? AND ended_at IS NULL",
                (now, sid),
            )
            rows = db.execute(
                "SELECT DISTINCT client_id FROM grants WHERE sid = ?", (sid,)
            ).fetchall()
            db.execute("UPDATE grants SET revoked = 1 WHERE sid = ?", (sid,))
        return [row["client_id"] for row in rows]

    # Events, for the admin page: the log of what happened, decoded

    def record(
        self, kind: str, now: int, client_id: str | None, detail: Mapping[str, Any]
    ) -> None:
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO events (kind, at, client_id, detail) VALUES (?, ?, ?, ?)",
                (kind, now, client_id, json.dumps(detail)),
            )
            if cursor.lastrowid and cursor.lastrowid % 100 == 0:
                self._db.execute(
                    "DELETE FROM events WHERE id <= ?",
                    (cursor.lastrowid - _EVENTS_KEPT,),
                )

    def events(self, kind: str, limit: int = 50) -> list[dict[str, Any]]:
        rows = self.query(
            "SELECT * FROM events WHERE kind = ? ORDER BY id DESC LIMIT ?", kind, limit
        )
        return [
            {"at": r["at"], "client_id": r["client_id"], **json.loads(r["detail"])}
            for r in rows
        ]

    def live_sessions(self, limit: int = 50) -> list[sqlite3.Row]:
        return self.query(
            "SELECT * FROM sessions WHERE ended_at IS NULL "
            "ORDER BY auth_time DESC LIMIT ?",
            limit,
        )

    def prune(self, now: int) -> None:
        """Drop what has expired: codes, tokens, jtis, pending logins."""
        with self.transaction() as db:
            for table in ("access_tokens", "refresh_tokens", "seen_jtis"):
                db.execute(f"DELETE FROM {table} WHERE expires_at < ?", (now,))  # noqa: S608
            # Used codes are kept past expiry for a while, so a late replay is
            # still recognised as a replay and revokes what the code issued.
            db.execute("DELETE FROM codes WHERE expires_at < ?", (now - 3600,))
            db.execute("DELETE FROM pending_logins WHERE expires_at < ?", (now,))
