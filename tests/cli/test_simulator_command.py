"""``cis2 simulator``: serves a CIS2 on loopback; rotate-keys rotates."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from cis2.simulator import SimulatorConfig

from .conftest import CIS2, Runner, free_port


def test_rotate_keys_moves_signing_to_the_next_key(run: Runner, workdir: Path) -> None:
    data = workdir / "sim-data"

    first = run("simulator", "rotate-keys", "--data", str(data))
    second = run("simulator", "rotate-keys", "--data", str(data))

    assert first.code == 0, first.err
    assert second.code == 0, second.err
    kids = [line.rsplit("kid ", 1)[1].split(" ")[0] for line in (first.out, second.out)]
    assert kids[0] != kids[1]


def test_simulator_serves_discovery_with_the_port_in_the_issuer(workdir: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            CIS2,
            "simulator",
            "--port",
            str(port),
            "--data",
            str(workdir / "d"),
            "--headless",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        document = _discovery(f"http://127.0.0.1:{port}", process)
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=15)

    issuer = SimulatorConfig(port=port).issuer
    assert document["issuer"] == issuer
    assert f"127.0.0.1:{port}/" in document["token_endpoint"]
    assert issuer in out
    assert "headless:      on" in out


def test_a_missing_config_file_is_a_usage_error(run: Runner) -> None:
    result = run("simulator", "--config", "absent.toml")

    assert result.code == 2
    assert "absent.toml" in result.err


def test_a_bad_config_file_names_the_problem(run: Runner, workdir: Path) -> None:
    (workdir / "sim.toml").write_text("[[clients]]\nclient_id = 3\n")

    result = run("simulator", "--config", "sim.toml")

    assert result.code == 1
    assert result.err.startswith("Error: ")
    assert "sim.toml" in result.err


def _discovery(base: str, process: subprocess.Popen[str]) -> dict[str, str]:
    """The discovery document, once the simulator answers (10 s at most)."""
    realm = "/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare"
    url = f"{base}{realm}/.well-known/openid-configuration"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        assert process.poll() is None, "the simulator exited early"
        try:
            document: dict[str, str] = httpx.get(url).json()
            return document
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"no discovery document at {url}")
