"""What one running simulator holds: its config, store, keys and HTTP client.

The request handlers take a ``Simulator`` and nothing else, so each one can
be read without knowing how the Starlette app is put together.
"""

from __future__ import annotations

import datetime
import secrets
import time
from pathlib import Path

import httpx
from starlette.templating import Jinja2Templates

from cis2.simulator._assertion import AssertionChecker, ClientJwks
from cis2.simulator._config import SimulatorConfig, data_dir_for
from cis2.simulator._signing import KeyRing
from cis2.simulator._store import Store

__all__ = ["TEMPLATES_DIR", "Simulator", "data_dir_for", "new_token"]

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def new_token() -> str:
    """A fresh random bearer value: 256 bits, base64url."""
    return secrets.token_urlsafe(32)


def _utc(timestamp: int) -> str:
    """A NumericDate as the admin page shows it: ``2026-12-03 15:04:05Z``."""
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%SZ")


class Simulator:
    """The state behind one app; created at start-up, closed at shutdown."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.data_dir = data_dir_for(config)
        self.store = Store(self.data_dir)
        self.keys = KeyRing(self.store)
        self.keys.ensure(self.now())
        self.http = httpx.AsyncClient(timeout=5.0, follow_redirects=False)
        self.checker = AssertionChecker(
            config, ClientJwks(self.http, config.jwks_cache_seconds)
        )
        self.templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
        self.templates.env.filters["utc"] = _utc
        # The admin page's forms carry this token; a page from elsewhere
        # cannot read it, so it cannot make the browser post them.
        self.admin_csrf = secrets.token_urlsafe(24)

    @staticmethod
    def now() -> int:
        return int(time.time())

    async def aclose(self) -> None:
        await self.http.aclose()
        self.store.close()
