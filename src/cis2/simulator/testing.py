"""Helpers for tests: a real simulator on loopback, and client registrations.

``run_simulator`` binds a socket on 127.0.0.1 port 0 first, so the port (and
with it the issuer) is known before the app is built, serves the app with
uvicorn in a background thread on that socket, waits until it answers, and
stops it cleanly::

    with run_simulator(headless=True) as sim:
        httpx.get(sim.issuer + "/.well-known/openid-configuration")
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import uvicorn
from starlette.applications import Starlette

from cis2.errors import Cis2Error
from cis2.keys import SigningKey, generate_signing_key, jwks
from cis2.simulator._app import create_app
from cis2.simulator._config import ClientRegistration, SimulatorConfig
from cis2.simulator._state import Simulator

__all__ = ["RunningSimulator", "client_registration", "run_app", "run_simulator"]

_START_TIMEOUT: Final = 10.0


@dataclass
class RunningSimulator:
    """A simulator serving on loopback in this process."""

    config: SimulatorConfig
    app: Starlette
    demo_key: SigningKey | None = None
    _server: uvicorn.Server | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def issuer(self) -> str:
        return self.config.issuer

    @property
    def base_url(self) -> str:
        return self.config.base_url

    @property
    def token_endpoint(self) -> str:
        return self.config.token_endpoint

    @property
    def state(self) -> Simulator:
        """The simulator's state (store, keys), for assertions in tests."""
        sim: Simulator = self.app.state.sim
        return sim

    def stop(self) -> None:
        """Stop serving and wait for the thread; safe to call twice."""
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=_START_TIMEOUT)
        self._server = None


@contextmanager
def run_simulator(
    config: SimulatorConfig | None = None, **overrides: Any
) -> Iterator[RunningSimulator]:
    """A running simulator for the length of the ``with`` block.

    With no config: the default personas and a demo client
    (``999999999999.apps.national``) whose fresh key is ``.demo_key``, in a
    temporary data folder. ``overrides`` change options of either; a
    ``port`` among them is bound instead of a free one (to restart a
    simulator on the same issuer).
    """
    with tempfile.TemporaryDirectory(prefix="cis2-sim-") as scratch:
        sock = _loopback_socket(int(overrides.pop("port", 0)))
        port = sock.getsockname()[1]
        built, demo_key = _config(config, port, Path(scratch), overrides)
        running = RunningSimulator(built, create_app(built), demo_key)
        try:
            running._server, running._thread = _start(running.app, sock)
            yield running
        finally:
            running.stop()
            sock.close()


@contextmanager
def run_app(app: Any) -> Iterator[str]:
    """Serve any ASGI app on 127.0.0.1 for the block; yields its base URL.

    For the other side of a test: a back-channel logout receiver, a client's
    jwks_uri.
    """
    sock = _loopback_socket()
    server, thread = _start(app, sock)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=_START_TIMEOUT)
        sock.close()


def client_registration(
    client_id: str, redirect_uri: str, signing_key: SigningKey, **kw: Any
) -> ClientRegistration:
    """A private_key_jwt registration with the key's public JWKS inline."""
    kw.setdefault("token_endpoint_auth_signing_alg", signing_key.alg)
    redirect_uris = (redirect_uri, *kw.pop("redirect_uris", ()))
    return ClientRegistration(
        client_id=client_id,
        redirect_uris=redirect_uris,
        jwks=jwks(signing_key),
        **kw,
    )


def _config(
    config: SimulatorConfig | None,
    port: int,
    scratch: Path,
    overrides: dict[str, Any],
) -> tuple[SimulatorConfig, SigningKey | None]:
    options = {"host": "127.0.0.1", "port": port, **overrides}
    if config is not None:
        options.setdefault("data_dir", config.data_dir or scratch)
        return config.with_options(**options), None
    options.setdefault("data_dir", scratch)
    key = generate_signing_key(alg="RS512")
    return SimulatorConfig.default(demo_client_key_jwks=jwks(key), **options), key


def _loopback_socket(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def _start(app: Any, sock: socket.socket) -> tuple[uvicorn.Server, threading.Thread]:
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True
    )
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise Cis2Error(
                "The server did not start within 10 s: see the log for why."
            )
        time.sleep(0.01)
    return server, thread
