"""Fixtures for the command-line tests: run ``cis2`` in process or as a process.

``run`` goes through ``cis2.cli.main``, the real entry point with its exit
code mapping, and captures what it prints. ``run_process`` starts the
installed console script, for what only a separate process shows (startup
imports, the login listener, signals).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cis2._secret import Secret
from cis2.cli import main
from cis2.keys import SigningKey, generate_signing_key
from cis2.simulator import ClientRegistration
from cis2.simulator.testing import RunningSimulator, client_registration, run_simulator

CIS2 = str(Path(sys.executable).with_name("cis2"))
#: Registered with the test simulator: private_key_jwt with ``signing_key``.
CLIENT_ID = "100000000002.apps.supplier"
#: Registered with the test simulator: client_secret_post.
SECRET_CLIENT_ID = "100000000003.apps.supplier"
CLIENT_SECRET = "a-long-enough-client-secret-for-the-simulator"


@dataclass(frozen=True)
class Result:
    """What one command run gave: exit code, stdout, stderr."""

    code: int
    out: str
    err: str


Runner = Callable[..., Result]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with no cis2.toml and no CIS2_* settings leaking in."""
    for name in list(os.environ):
        if name.startswith("CIS2_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def run(workdir: Path, capsys: pytest.CaptureFixture[str]) -> Runner:
    """Run cis2 in this process through its entry point."""

    def invoke(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def run_process(workdir: Path) -> Runner:
    """Run the installed cis2 console script in a child process."""

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        done = subprocess.run(
            [CIS2, *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **(env or {})},
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    return invoke


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return generate_signing_key()


@pytest.fixture
def key_file(workdir: Path, signing_key: SigningKey) -> Iterator[Path]:
    path = workdir / "key.pem"
    path.write_bytes(signing_key.private_pem())
    path.chmod(0o600)
    yield path


def free_port() -> int:
    """A loopback port free at the time of asking."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def redirect_uri() -> str:
    return f"http://127.0.0.1:{free_port()}/callback"


@pytest.fixture(scope="session")
def sim(signing_key: SigningKey, redirect_uri: str) -> Iterator[RunningSimulator]:
    """A headless simulator with one client per authentication method."""
    grants = ("authorization_code", "refresh_token")
    keyed = client_registration(
        CLIENT_ID, redirect_uri, signing_key, grant_types=grants
    )
    secret = ClientRegistration(
        client_id=SECRET_CLIENT_ID,
        redirect_uris=(redirect_uri,),
        token_endpoint_auth_method="client_secret_post",
        client_secret=Secret(CLIENT_SECRET),
        grant_types=grants,
    )
    with run_simulator(clients=(keyed, secret), headless=True) as running:
        yield running
