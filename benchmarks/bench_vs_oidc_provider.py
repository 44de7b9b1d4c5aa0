"""Full logins per second: one simulator process beside node's oidc-provider.

A full login is what every test run of a CIS2 integration does: the
authorization request (headless: the provider signs the login_hint persona
in and redirects with a code), the token request with a private_key_jwt
assertion, and UserInfo. The simulator (``python -m cis2.simulator
--headless``, one process) and oidc-provider (interop/cis2-like-provider.mjs,
one node process, NODE_ENV=production) are configured alike: the same
personas, the same RS512 client, RS256 ID tokens, PKCE, refresh tokens. The
same load client (benchmarks/loadclient.py) drives both in the same run,
alternating rounds so that a noisy neighbour hurts both. oidc-provider's
sign-in takes three redirects where the simulator's takes one: that is how
its interaction works, and it is part of what is measured.

Goal: the simulator completes at least 1.5 x oidc-provider's logins per
second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Final

import httpx

from cis2.keys import SigningKey, generate_signing_key, jwks
from cis2.simulator import Persona, SimulatorConfig

from ._rows import ratio_row
from .loadclient import LoadResult, run_logins

GOAL: Final = 1.5
NAME: Final = "full logins/s, simulator vs oidc-provider"
CLIENT_ID: Final = "999999999999.apps.national"
REDIRECT_URI: Final = "http://127.0.0.1:9/bench-callback"
PERSONA: Final = "656005750108"
CONCURRENCY: Final = 8
INTEROP: Final = Path(__file__).resolve().parents[1] / "interop"
REALM_PATH: Final = "/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare"


def run(quick: bool) -> list[dict[str, Any]]:
    """One row: the simulator's rate against oidc-provider's."""
    missing = _node_missing()
    if missing:
        return [_row(None, None, note=missing)]
    seconds = 2.0 if quick else 6.0
    rounds = 1 if quick else 2
    key = generate_signing_key(alg="RS512")
    with _simulator(key) as simulator, _oidc_provider(key) as provider:
        simulator_results, provider_results = [], []
        for _ in range(rounds):
            simulator_results.append(_drive(simulator, key, seconds))
            provider_results.append(_drive(provider, key, seconds))
    return [_row(_rate(simulator_results), _rate(provider_results))]


def _drive(issuer: str, key: SigningKey, seconds: float) -> LoadResult:
    # Each of the load client's workers has its own cookie jar, which
    # oidc-provider's cookie-held sign-in state needs.
    return asyncio.run(
        run_logins(
            issuer,
            CLIENT_ID,
            REDIRECT_URI,
            key,
            login_hint=PERSONA,
            concurrency=CONCURRENCY,
            duration=seconds,
        )
    )


def _row(value: float | None, baseline: float | None, note: str = "") -> dict[str, Any]:
    return ratio_row(NAME, value, baseline, goal=GOAL, unit="logins/s", note=note)


def _rate(results: list[LoadResult]) -> float:
    logins = sum(result.logins for result in results)
    elapsed = sum(result.seconds for result in results)
    failures = sum(result.failures for result in results)
    if failures:
        errors = dict(sum((result.errors for result in results), Counter()))
        raise RuntimeError(
            f"{failures} logins failed during the benchmark ({errors}): the "
            "rate would not be one of full logins. Run the interop tests first."
        )
    return logins / elapsed


def _node_missing() -> str:
    if shutil.which("node") is None:
        return "node is not on PATH: install Node.js 20 or later"
    if not (INTEROP / "node_modules" / "oidc-provider").is_dir():
        return "interop/node_modules is missing: run 'make node-deps'"
    return ""


# The two providers, each in its own process on a free loopback port.


@contextlib.contextmanager
def _simulator(key: SigningKey) -> Iterator[str]:
    """``python -m cis2.simulator --headless``, with the benchmark's client."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="cis2-bench-") as data:
        config = Path(data) / "simulator.toml"
        config.write_text(_simulator_toml(key))
        argv = [
            sys.executable,
            "-m",
            "cis2.simulator",
            "--headless",
            f"--port={port}",
            f"--config={config}",
            f"--data={data}",
        ]
        with _process(argv) as process:
            issuer = f"http://127.0.0.1:{port}{REALM_PATH}"
            _wait_for(issuer, process)
            yield issuer


def _simulator_toml(key: SigningKey) -> str:
    """The client registration as the simulator's TOML (strings JSON-quoted)."""
    jwk = ", ".join(f"{k} = {json.dumps(v)}" for k, v in key.public_jwk().items())
    return (
        "[[clients]]\n"
        f"client_id = {json.dumps(CLIENT_ID)}\n"
        f"redirect_uris = [{json.dumps(REDIRECT_URI)}]\n"
        'grant_types = ["authorization_code", "refresh_token"]\n'
        f"jwks = {{keys = [{{{jwk}}}]}}\n"
    )


@contextlib.contextmanager
def _oidc_provider(key: SigningKey) -> Iterator[str]:
    """One oidc-provider process configured like CIS2, same client."""
    config = {
        "clients": [_registration(key)],
        "accounts": {p.uid: _account(p) for p in SimulatorConfig().personas},
    }
    port = _free_port()
    script = str(INTEROP / "cis2-like-provider.mjs")
    with _process(["node", script, str(port), json.dumps(config)]) as process:
        issuer = f"http://127.0.0.1:{port}{REALM_PATH}"
        _wait_for(issuer, process)
        yield issuer


def _registration(key: SigningKey) -> dict[str, Any]:
    return {
        "client_id": CLIENT_ID,
        "redirect_uris": [REDIRECT_URI],
        "response_types": ["code"],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_signing_alg": key.alg,
        "jwks": jwks(key),
        "id_token_signed_response_alg": "RS256",
        "require_auth_time": True,
    }


def _account(persona: Persona) -> dict[str, Any]:
    return {
        "uid": persona.uid,
        "name": persona.name,
        "given_name": persona.given_name,
        "family_name": persona.family_name,
        "id_assurance_level": str(persona.id_assurance_level),
        "authentication_assurance_level": str(persona.aal),
        "nhsid_nrbac_roles": [role.claim() for role in persona.roles],
        "nhsid_user_orgs": persona.organisations(),
    }


@contextlib.contextmanager
def _process(argv: list[str]) -> Iterator[subprocess.Popen[bytes]]:
    # Output goes to a file: a pipe nobody drains would stall a busy server.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            argv,
            cwd=INTEROP,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env={**os.environ, "NODE_ENV": "production"},
        )
        try:
            yield process
        except BaseException:
            _print_log(log)
            raise
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _print_log(log: IO[bytes]) -> None:
    log.seek(0)
    sys.stderr.write(log.read()[-3000:].decode(errors="replace"))


def _wait_for(issuer: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    url = f"{issuer}/.well-known/openid-configuration"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the provider at {issuer} exited with {process.returncode}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"no discovery document at {url} within 20 s")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
