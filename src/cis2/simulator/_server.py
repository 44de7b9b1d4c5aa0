"""Running the simulator: ``serve``, the demo client's key, ``rotate_keys``.

``serve`` is what ``python -m cis2.simulator`` and the ``cis2 simulator``
command both call. With no clients configured it registers the demo client,
whose private key is made once and kept in the data folder (mode 0600), and
prints where it is along with the issuer and the discovery URL.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import TextIO

import uvicorn

from cis2.keys import jwks
from cis2.simulator._app import create_app
from cis2.simulator._config import (
    DEMO_KEY_FILE,
    SimulatorConfig,
    data_dir_for,
    demo_client,
    demo_client_key,
)
from cis2.simulator._signing import KeyRing
from cis2.simulator._store import Store

__all__ = ["DEMO_KEY_FILE", "demo_client_key", "rotate_keys", "serve", "with_demo"]


def serve(config: SimulatorConfig, *, out: TextIO | None = None) -> None:
    """Run the simulator in the foreground until interrupted."""
    config = with_demo(config)
    app = create_app(config)
    _log_to_stderr()
    _print_settings(config, out or sys.stdout)
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        access_log=False,
        log_level="info",
    )


def with_demo(config: SimulatorConfig) -> SimulatorConfig:
    """The config, with the demo client added when it registers no client."""
    if config.clients:
        return config
    key, _ = demo_client_key(data_dir_for(config))
    return config.with_options(clients=(demo_client(jwks(key)),))


def rotate_keys(data_dir: str | Path, *, id_token_lifetime: int = 300) -> str:
    """One rotation step in the data folder; the kid that now signs.

    The next key (published already) starts signing, the old one stays
    published until its tokens have expired, and a new next key is published.
    A running simulator picks the change up on its next signature.
    """
    store = Store(Path(data_dir))
    try:
        ring = KeyRing(store)
        return ring.rotate(_now(), id_token_lifetime)
    finally:
        store.close()


def _now() -> int:
    return int(time.time())


def _log_to_stderr() -> None:
    """The simulator's INFO log (requests, refusals and their reasons)."""
    logger = logging.getLogger("cis2.simulator")
    if logger.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def _print_settings(config: SimulatorConfig, out: TextIO) -> None:
    data_dir = data_dir_for(config)
    lines = [
        "cis2 simulator",
        f"  issuer:        {config.issuer}",
        f"  discovery:     {config.issuer}/.well-known/openid-configuration",
        f"  admin:         {config.base_url}/admin",
        f"  data folder:   {data_dir}",
        f"  headless:      {'on' if config.headless else 'off'}",
    ]
    for client in config.clients:
        lines += [
            f"  client:        {client.client_id}",
            f"    auth:        {client.token_endpoint_auth_method} "
            f"{client.token_endpoint_auth_signing_alg}",
            f"    redirects:   {' '.join(client.redirect_uris)}",
        ]
        key_path = data_dir / DEMO_KEY_FILE
        if client.client_name == "cis2 demo" and key_path.exists():
            lines.append(f"    key:         {key_path}")
    print("\n".join(lines), file=out, flush=True)
