"""The CIS2-like oidc-provider's side of the interop tests.

Client registrations and accounts shaped like CIS2's, a loopback receiver
for back-channel logout tokens, and a headless browser walk through the
provider's redirects.
"""

from __future__ import annotations

import queue
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import parse_qs, urljoin

import httpx

import cis2
from cis2.keys import SigningKey
from cis2.simulator import Persona

__all__ = [
    "CLIENT_ID",
    "PERSONA",
    "REDIRECT_URI",
    "RS256_CLIENT_ID",
    "LogoutReceiver",
    "accounts",
    "browse_to_callback",
    "registration",
]

CLIENT_ID: Final = "999999999999.apps.national"
RS256_CLIENT_ID: Final = "999999999998.apps.national"
REDIRECT_URI: Final = "http://127.0.0.1:9/cis2_redirect"
PERSONA: Final = "656005750108"


class LogoutReceiver:
    """A back-channel logout URI on loopback that keeps what it is sent."""

    def __init__(self) -> None:
        self.tokens: queue.Queue[str] = queue.Queue()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = parse_qs(self.rfile.read(length).decode())
                receiver.tokens.put(form.get("logout_token", [""])[0])
                self.send_response(200)
                self.send_header("Cache-Control", "no-store")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self._server.server_address[1]}/back-channel"
        self._thread = threading.Thread(target=self._server.serve_forever)

    def __enter__(self) -> LogoutReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def registration(
    client_id: str, key: SigningKey, backchannel_logout_uri: str | None
) -> dict[str, Any]:
    """oidc-provider client metadata shaped like a CIS2 registration."""
    metadata: dict[str, Any] = {
        "client_id": client_id,
        "redirect_uris": [REDIRECT_URI],
        "response_types": ["code"],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_signing_alg": key.alg,
        "jwks": cis2.jwks(key),
        "id_token_signed_response_alg": "RS256",
        "require_auth_time": True,
    }
    if backchannel_logout_uri is not None:
        metadata["backchannel_logout_uri"] = backchannel_logout_uri
        metadata["backchannel_logout_session_required"] = True
    return metadata


def accounts(personas: tuple[Persona, ...]) -> dict[str, dict[str, Any]]:
    """The simulator's personas as oidc-provider accounts, claim for claim."""
    return {
        persona.uid: {
            "uid": persona.uid,
            "name": persona.name,
            "given_name": persona.given_name,
            "family_name": persona.family_name,
            "email": persona.email,
            "id_assurance_level": str(persona.id_assurance_level),
            "authentication_assurance_level": str(persona.aal),
            "nhsid_useruid": persona.uid,
            "idassurancelevel": str(persona.id_assurance_level),
            "nhsid_nrbac_roles": [role.claim() for role in persona.roles],
            "nhsid_user_orgs": persona.organisations(),
        }
        for persona in personas
    }


def browse_to_callback(browser: httpx.Client, url: str) -> str:
    """Follow the provider's redirects, cookies kept, up to the redirect_uri."""
    for _ in range(8):
        response = browser.get(url)
        location = response.headers.get("location")
        if response.status_code not in (302, 303) or location is None:
            raise AssertionError(
                f"the sign-in stopped at HTTP {response.status_code}: "
                f"{response.text[:300]}"
            )
        url = urljoin(url, location)
        if url.startswith(REDIRECT_URI):
            return url
    raise AssertionError("the sign-in never reached the redirect_uri")
