"""``cis2 login``, ``refresh``, ``userinfo`` and ``logout`` against the simulator.

``login --no-browser`` runs as a child process, as a developer would run it:
the test reads the authorization URL from its stderr, follows it with httpx
(the headless simulator redirects to the loopback redirect URI with the
code), delivers that redirect to the command's own listener, and checks what
the command prints and saves.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import socket
import stat
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from cis2.simulator.testing import RunningSimulator

from .conftest import (
    CIS2,
    CLIENT_ID,
    CLIENT_SECRET,
    SECRET_CLIENT_ID,
    Runner,
    free_port,
)

GP = "656005750108"


class LoginProcess:
    """``cis2 login --no-browser`` in a child process, driven like a browser."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [CIS2, "login", "--no-browser", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        self.stderr_seen: list[str] = []

    def authorization_url(self) -> str:
        """The URL the command prints for the user to open."""
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr_seen.append(line)
            if line.startswith("http"):
                return line.strip()
        raise AssertionError("no URL on stderr: " + "".join(self.stderr_seen))

    def sign_in(self) -> httpx.Response:
        """Follow the URL to the simulator, then its redirect to the listener."""
        answer = httpx.get(self.authorization_url())
        assert answer.status_code in (302, 303), answer.text
        return httpx.get(answer.headers["location"])

    def finish(self) -> tuple[int, str, str]:
        """Exit code, stdout and the whole of stderr.

        The pipes are read through their file objects, not communicate():
        reading the URL line has buffered what followed it there.
        """
        assert self.process.stdout is not None and self.process.stderr is not None
        self.process.wait(timeout=30)
        out, err = self.process.stdout.read(), self.process.stderr.read()
        self.process.stdout.close()
        self.process.stderr.close()
        return self.process.returncode, out, "".join(self.stderr_seen) + err


def _login_args(sim: RunningSimulator, redirect_uri: str, *more: str) -> list[str]:
    return [
        "--issuer", sim.issuer, "--redirect-uri", redirect_uri,
        "--login-hint", GP, "--timeout", "20", *more,
    ]  # fmt: skip


def _keyed_json_login(
    sim: RunningSimulator, redirect_uri: str, key_file: Path
) -> LoginProcess:
    """login --json as the private_key_jwt client, as the GP persona."""
    return LoginProcess(
        *_login_args(
            sim, redirect_uri, "--client-id", CLIENT_ID, "--key", str(key_file)
        ),
        "--json",
    )


def _saved(workdir: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (workdir / "config" / "cis2" / "login.json").read_text()
    )
    return document


def test_login_no_browser_signs_in_and_saves_the_login(
    workdir: Path, sim: RunningSimulator, redirect_uri: str, key_file: Path
) -> None:
    login = _keyed_json_login(sim, redirect_uri, key_file)

    page = login.sign_in()
    code, out, err = login.finish()

    assert page.status_code == 200
    assert "Signed in" in page.text
    assert code == 0, err
    document = json.loads(out)
    assert document["user"]["uid"] == GP
    assert document["claims"]["iss"] == sim.issuer
    assert document["claims"]["aud"] == CLIENT_ID
    assert document["token"]["refresh_token"] is True
    path = workdir / "config" / "cis2" / "login.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = _saved(workdir)
    tokens = [saved["login"][name] for name in ("access_token", "id_token")]
    assert all(tokens)
    assert not any(token in out + err for token in tokens)
    assert saved["key"] == str(key_file)
    assert "PRIVATE" not in path.read_text()


def test_a_forged_callback_is_refused_and_the_real_sign_in_still_lands(
    workdir: Path, sim: RunningSimulator, redirect_uri: str, key_file: Path
) -> None:
    login = _keyed_json_login(sim, redirect_uri, key_file)
    url = login.authorization_url()

    forged = [
        httpx.get(f"{redirect_uri}?code=forged&state=not-this-login"),
        httpx.get(f"{redirect_uri}?error=access_denied"),
    ]
    answer = httpx.get(url)
    page = httpx.get(answer.headers["location"])
    code, out, err = login.finish()

    assert [each.status_code for each in forged] == [400, 400]
    assert "Not the sign-in cis2 is waiting for" in forged[0].text
    assert page.status_code == 200
    assert code == 0, err
    assert json.loads(out)["user"]["uid"] == GP


def test_login_prints_who_signed_in_as_a_table(
    workdir: Path, sim: RunningSimulator, redirect_uri: str, key_file: Path
) -> None:
    login = LoginProcess(
        *_login_args(
            sim, redirect_uri, "--client-id", CLIENT_ID, "--key", str(key_file)
        )
    )

    login.sign_in()
    code, out, err = login.finish()

    assert code == 0, err
    assert GP in out
    assert "Roles (national RBAC)" in out
    assert "R0260" in out
    assert "AAL3" in out
    assert "Waiting for the sign-in" in err


def test_refresh_userinfo_and_logout_use_the_saved_login(
    workdir: Path, sim: RunningSimulator, redirect_uri: str, key_file: Path, run: Runner
) -> None:
    login = LoginProcess(
        *_login_args(
            sim, redirect_uri, "--client-id", CLIENT_ID, "--key", str(key_file)
        )
    )
    login.sign_in()
    assert login.finish()[0] == 0
    first = _saved(workdir)["login"]["access_token"]

    refreshed = run("refresh", "--json")
    assert refreshed.code == 0, refreshed.err
    assert json.loads(refreshed.out)["user"]["uid"] == GP
    assert _saved(workdir)["login"]["access_token"] != first

    info = run("userinfo", "--json")
    assert info.code == 0, info.err
    assert json.loads(info.out)["claims"]["sub"] == GP

    out = run("logout")
    assert out.code == 0, out.err
    assert not (workdir / "config" / "cis2" / "login.json").exists()

    after = run("userinfo")
    assert after.code == 1
    assert "No saved login" in after.err
    assert "cis2 login" in after.err


def test_login_with_a_client_secret_file(
    workdir: Path, sim: RunningSimulator, redirect_uri: str
) -> None:
    secret = workdir / "secret.txt"
    secret.write_text(CLIENT_SECRET + "\n")
    secret.chmod(0o600)
    login = LoginProcess(
        *_login_args(sim, redirect_uri, "--client-id", SECRET_CLIENT_ID),
        "--client-secret-file", str(secret), "--json",
    )  # fmt: skip

    login.sign_in()
    code, out, err = login.finish()

    assert code == 0, err
    assert json.loads(out)["claims"]["aud"] == SECRET_CLIENT_ID
    assert CLIENT_SECRET not in out + err
    assert CLIENT_SECRET not in (workdir / "config" / "cis2" / "login.json").read_text()


def test_a_sign_in_that_never_comes_times_out(
    workdir: Path, sim: RunningSimulator, key_file: Path
) -> None:
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    login = LoginProcess(
        "--issuer", sim.issuer, "--redirect-uri", redirect, "--timeout", "1",
        "--client-id", CLIENT_ID, "--key", str(key_file),
    )  # fmt: skip

    login.authorization_url()
    code, _, err = login.finish()

    assert code == 1
    assert "No sign-in reached" in err
    assert "--timeout" in err
    assert "Traceback" not in err


def test_a_busy_redirect_port_is_named(
    run: Runner, sim: RunningSimulator, key_file: Path
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(
            "login", "--issuer", sim.issuer, "--client-id", CLIENT_ID,
            "--key", str(key_file), "--no-browser",
            "--redirect-uri", f"http://127.0.0.1:{port}/callback",
        )  # fmt: skip

    assert result.code == 1
    assert f"port {port}" in result.err


def test_a_redirect_uri_off_loopback_is_refused_before_anything_starts(
    run: Runner, sim: RunningSimulator, key_file: Path
) -> None:
    result = run(
        "login", "--issuer", sim.issuer, "--client-id", CLIENT_ID, "--key",
        str(key_file), "--redirect-uri", "https://rp.example/callback",
    )  # fmt: skip

    assert result.code == 1
    assert "not a loopback URI" in result.err


def test_login_without_credentials_is_a_usage_error(
    run: Runner, sim: RunningSimulator
) -> None:
    result = run("login", "--issuer", sim.issuer, "--client-id", CLIENT_ID)

    assert result.code == 2
    assert result.err.startswith("Error: No client credentials")


def test_login_with_only_a_token_endpoint_is_a_usage_error(
    run: Runner,
    sim: RunningSimulator,
    key_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CIS2_TOKEN_ENDPOINT", sim.token_endpoint)

    result = run("login", "--client-id", CLIENT_ID, "--key", str(key_file))

    assert result.code == 2
    assert "it needs the issuer" in result.err


def test_a_key_and_a_secret_together_is_a_usage_error(
    run: Runner, sim: RunningSimulator, key_file: Path
) -> None:
    result = run(
        "login", "--issuer", sim.issuer, "--client-id", CLIENT_ID, "--key",
        str(key_file), "--client-secret-file", str(key_file),
    )  # fmt: skip

    assert result.code == 2
    assert "not both" in result.err or "Both a key and a client secret" in result.err


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync"
)


@pytest.mark.browser
def test_login_opens_the_browser_which_completes_the_sign_in(
    workdir: Path, sim: RunningSimulator, redirect_uri: str, key_file: Path
) -> None:
    """The default path: webbrowser starts Chromium (via $BROWSER), which
    follows the authorization URL and the redirect to the listener."""
    if not CHROMIUM.exists():
        if os.environ.get("CIS2_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required (CIS2_REQUIRE_BROWSER) but missing")
        pytest.skip("needs Chromium from Debian's packages")
    browser = workdir / "browser.sh"
    browser.write_text(
        f"#!/bin/sh\nexec {CHROMIUM} {CHROMIUM_FLAGS} "
        f'--user-data-dir="{workdir}/profile" --dump-dom "$1" >/dev/null 2>&1\n'
    )
    browser.chmod(0o700)
    args = _login_args(
        sim, redirect_uri, "--client-id", CLIENT_ID, "--key", str(key_file)
    )

    done = subprocess.run(
        [CIS2, "login", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "BROWSER": str(browser)},
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "Opened the browser" in done.stderr
    assert json.loads(done.stdout)["user"]["uid"] == GP


def test_ctrl_c_while_waiting_stops_cleanly(
    workdir: Path, sim: RunningSimulator, key_file: Path
) -> None:
    login = LoginProcess(
        "--issuer", sim.issuer, "--redirect-uri",
        f"http://127.0.0.1:{free_port()}/callback",
        "--client-id", CLIENT_ID, "--key", str(key_file),
    )  # fmt: skip
    login.authorization_url()

    login.process.send_signal(signal.SIGINT)
    code, _, err = login.finish()

    assert code == 130
    assert "Interrupted." in err
    assert "Traceback" not in err


def test_on_a_terminal_the_wait_shows_a_spinner(
    workdir: Path, sim: RunningSimulator, redirect_uri: str, key_file: Path
) -> None:
    controller, terminal = pty.openpty()
    args = _login_args(
        sim, redirect_uri, "--client-id", CLIENT_ID, "--key", str(key_file)
    )
    process = subprocess.Popen(
        [CIS2, "login", "--no-browser", *args, "--json"],
        stdout=subprocess.PIPE,
        stderr=terminal,
        text=True,
    )
    os.close(terminal)
    seen = _read_terminal_until(controller, b"/authorize?")
    url = re.search(rb"http://\S+/authorize\?\S+", seen)
    assert url is not None
    answer = httpx.get(url.group().decode())
    httpx.get(answer.headers["location"])
    out, _ = process.communicate(timeout=30)
    seen += _read_terminal_until(controller, b"")
    os.close(controller)

    assert process.returncode == 0
    assert json.loads(out)["user"]["uid"] == GP
    assert b"Waiting for the sign-in" in seen
    assert b"\x1b[" in seen  # the spinner redraws with terminal controls


def _read_terminal_until(controller: int, marker: bytes) -> bytes:
    """What the pseudo-terminal shows, until marker appears or output stops."""
    seen = b""
    while not marker or marker not in seen:
        ready, _, _ = select.select([controller], [], [], 5)
        if not ready:
            break
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the child closed its side
            break
        if not chunk:
            break
        seen += chunk
    return seen


def test_a_refused_sign_in_is_one_line_with_the_providers_reason(
    workdir: Path, sim: RunningSimulator, redirect_uri: str, key_file: Path
) -> None:
    aal2_gp = "656005750111"
    login = LoginProcess(
        "--issuer", sim.issuer, "--redirect-uri", redirect_uri, "--timeout", "20",
        "--client-id", CLIENT_ID, "--key", str(key_file),
        "--login-hint", aal2_gp, "--acr", "AAL3_ANY",
    )  # fmt: skip

    page = login.sign_in()
    code, out, err = login.finish()

    assert "Sign-in refused" in page.text
    assert code == 1
    assert out == ""
    assert "Error: CIS2 refused the sign-in (access_denied" in err
    assert not (workdir / "config" / "cis2" / "login.json").exists()


def test_a_secret_from_the_environment_is_used_and_never_saved(
    workdir: Path,
    sim: RunningSimulator,
    redirect_uri: str,
    run: Runner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CIS2_CLIENT_SECRET", CLIENT_SECRET)
    login = LoginProcess(
        *_login_args(sim, redirect_uri, "--client-id", SECRET_CLIENT_ID)
    )
    login.sign_in()
    assert login.finish()[0] == 0
    saved = (workdir / "config" / "cis2" / "login.json").read_text()
    assert CLIENT_SECRET not in saved

    refreshed = run("refresh", "--json")

    assert refreshed.code == 0, refreshed.err
    assert CLIENT_SECRET not in refreshed.out + refreshed.err
