"""The saved login file: refused when exposed, explained when broken."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from cis2.cli._saved import SavedLogin

from .conftest import CLIENT_ID, Runner


@pytest.fixture
def login_file(workdir: Path) -> Path:
    return workdir / "login.json"


def test_a_saved_login_others_can_read_is_refused(
    run: Runner, login_file: Path
) -> None:
    login_file.write_text('{"format": 1}')
    login_file.chmod(0o644)

    result = run("userinfo", "--login-file", str(login_file))

    assert result.code == 1
    assert "can be read by other users" in result.err


def test_a_corrupt_saved_login_says_to_sign_in_again(
    run: Runner, login_file: Path
) -> None:
    login_file.write_text("{not json")
    login_file.chmod(0o600)

    result = run("refresh", "--login-file", str(login_file))

    assert result.code == 1
    assert "sign in again with 'cis2 login'" in result.err


def test_a_file_from_something_else_is_not_taken_for_a_login(
    run: Runner, login_file: Path
) -> None:
    login_file.write_text('{"access_token": "x"}')
    login_file.chmod(0o600)

    result = run("logout", "--login-file", str(login_file))

    assert result.code == 1
    assert "not a login saved by this cis2" in result.err
    assert login_file.exists()


def test_the_login_file_setting_comes_from_the_environment(
    run: Runner, login_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIS2_LOGIN_FILE", str(login_file))

    result = run("userinfo")

    assert result.code == 1
    assert f"No saved login at {login_file}" in result.err


def _saved(access_token: str = "at-1") -> SavedLogin:
    return SavedLogin(
        issuer="https://issuer.test",
        client_id=CLIENT_ID,
        redirect_uri="http://127.0.0.1:8765/callback",
        scope="openid",
        auth_method="private_key_jwt",
        key="/keys/key.pem",
        alg="RS512",
        key_password_file=None,
        client_secret_file=None,
        login={"access_token": access_token},
    )


def test_saving_does_not_follow_a_planted_temporary_symlink(
    login_file: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "attacker-reads-this"
    (login_file.parent / (login_file.name + ".tmp")).symlink_to(elsewhere)

    _saved().save(login_file)

    assert not elsewhere.exists()
    assert SavedLogin.load(login_file).login == {"access_token": "at-1"}
    assert stat.S_IMODE(login_file.stat().st_mode) == 0o600


def test_saving_leaves_no_temporary_file_behind(login_file: Path) -> None:
    _saved("at-1").save(login_file)
    _saved("at-2").save(login_file)

    assert sorted(p.name for p in login_file.parent.iterdir()) == [login_file.name]
    assert SavedLogin.load(login_file).login == {"access_token": "at-2"}


def test_two_logins_saving_at_once_leave_one_whole_login(login_file: Path) -> None:
    tokens = [f"at-{n}" for n in range(8)]
    threads = [
        threading.Thread(target=_saved(token).save, args=(login_file,))
        for token in tokens
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert SavedLogin.load(login_file).login["access_token"] in tokens
    assert [p.name for p in login_file.parent.iterdir()] == [login_file.name]


def test_the_config_folder_cis2_creates_is_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        login_file = tmp_path / "config" / "cis2" / "login.json"
        _saved().save(login_file)
    finally:
        os.umask(previous)

    assert stat.S_IMODE((tmp_path / "config" / "cis2").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "config").stat().st_mode) == 0o700
    assert stat.S_IMODE(login_file.stat().st_mode) == 0o600


def test_an_existing_folder_keeps_its_mode(login_file: Path) -> None:
    login_file.parent.chmod(0o755)

    _saved().save(login_file)

    assert stat.S_IMODE(login_file.parent.stat().st_mode) == 0o755
