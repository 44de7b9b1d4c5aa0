"""The saved login file: refused when exposed, explained when broken."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Runner


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
