"""The state file holds private signing keys, so only its owner may read it."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from cis2.simulator._store import DB_NAME, Store


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_private_key_store_is_owner_only_under_a_loose_umask(
    tmp_path: Path, loose_umask: None
) -> None:
    data = tmp_path / "data"
    store = Store(data)
    store.execute("INSERT INTO events (kind, at, detail) VALUES ('x', 0, '{}')")

    files = [data / name for name in (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm")]
    assert all(path.exists() for path in files)
    assert {path.name: mode_of(path) for path in files} == {
        path.name: 0o600 for path in files
    }
    assert mode_of(data) == 0o700
    store.close()


def test_private_key_store_tightens_an_existing_open_folder_and_file(
    tmp_path: Path, loose_umask: None
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    Store(data).close()
    (data / DB_NAME).chmod(0o644)

    store = Store(data)

    assert mode_of(data) == 0o700
    assert mode_of(data / DB_NAME) == 0o600
    store.close()


def test_private_key_store_leaves_the_process_umask_as_it_was(
    tmp_path: Path, loose_umask: None
) -> None:
    Store(tmp_path / "data").close()

    assert os.umask(0o022) == 0o022
