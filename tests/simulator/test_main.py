"""``python -m cis2.simulator``: starts with the demo client, says where it is."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_with_no_options_it_serves_the_demo_client_and_prints_its_settings(
    tmp_path: Path,
) -> None:
    port = free_port()
    out = tmp_path / "out.txt"
    with out.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cis2.simulator",
                "--port",
                str(port),
                "--data",
                str(tmp_path / "data"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            issuer = (
                f"http://127.0.0.1:{port}/openam/oauth2/realms/root/realms"
                "/NHSIdentity/realms/Healthcare"
            )
            document = _wait(issuer, process)
        finally:
            process.terminate()
            process.wait(timeout=10)

    assert document["issuer"] == issuer
    printed = out.read_text()
    assert f"issuer:        {issuer}" in printed
    assert "/.well-known/openid-configuration" in printed
    assert "999999999999.apps.national" in printed
    assert "private_key_jwt RS512" in printed
    assert str(tmp_path / "data" / "demo-client-key.pem") in printed
    assert "BEGIN" not in printed


def _wait(issuer: str, process: subprocess.Popen[bytes]) -> dict[str, object]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, "the simulator exited"
        try:
            answer = httpx.get(f"{issuer}/.well-known/openid-configuration")
        except httpx.HTTPError:
            time.sleep(0.1)
            continue
        document: dict[str, object] = answer.json()
        return document
    raise AssertionError("the simulator did not start")


def test_a_non_loopback_host_is_a_usage_error_of_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cis2.simulator",
            "--host",
            "0.0.0.0",
            "--data",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("Error: field 'host': ")
    assert "loopback" in done.stderr
    assert done.stderr.count("\n") == 1, "one line, no traceback"


def test_an_unusable_data_folder_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    done = subprocess.run(
        [sys.executable, "-m", "cis2.simulator", "--data", str(not_a_folder)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("Error: ")
    assert "data folder" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_corrupt_state_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "simulator.sqlite3").write_bytes(b"not a database" * 100)
    done = subprocess.run(
        [sys.executable, "-m", "cis2.simulator", "--data", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 1
    assert "simulator.sqlite3" in done.stderr
    assert "Traceback" not in done.stderr
