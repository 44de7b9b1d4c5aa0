"""The loopback redirect URI listener that ``cis2 login`` waits on.

A native application receives the authorization response on a loopback
redirect URI (RFC 8252 section 7.3; CIS2 allows http only for such a
localhost callback, reference section 3). The listener is a small
``http.server`` in a thread, so the login command needs no web framework.
It hands over the first request to the callback path that carries ``code``
or ``error`` with the ``state`` this login sent; any other local process can
reach the port, so a callback with another state gets a 400 page and the
wait goes on. The client then checks ``state`` again, and everything else.
"""

from __future__ import annotations

import hmac
import http.server
import queue
import socket
import threading
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from cis2.errors import CallbackError, ConfigurationError

__all__ = ["CallbackListener", "LoginTimeoutError", "check_loopback_redirect_uri"]

_LOOPBACK_HOSTS = {"127.0.0.1": "127.0.0.1", "localhost": "127.0.0.1", "::1": "::1"}
_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>cis2</title>"
    "<body style='font-family:sans-serif;margin:3em'><h1>{heading}</h1>"
    "<p>Return to the terminal: cis2 shows the result there. You can close "
    "this tab.</p></body></html>"
)


class LoginTimeoutError(CallbackError):
    """No authorization response reached the redirect URI in time."""


def check_loopback_redirect_uri(redirect_uri: str) -> tuple[str, int, str]:
    """The (bind address, port, path) of a loopback redirect URI, or an error.

    The port must be explicit: CIS2 matches the registered redirect URI
    exactly, so a listener on a random port would never be called.
    """
    parts = urlsplit(redirect_uri)
    host = parts.hostname or ""
    if parts.scheme != "http" or host not in _LOOPBACK_HOSTS:
        raise ConfigurationError(
            f"redirect_uri {redirect_uri!r} is not a loopback URI: cis2 login "
            "listens on http://127.0.0.1:PORT/callback (register that exact URI "
            "for the client).",
            field="redirect_uri",
        )
    try:
        port = parts.port
    except ValueError:
        port = None
    if not port:
        raise ConfigurationError(
            f"redirect_uri {redirect_uri!r} has no port: give the registered one, "
            "e.g. http://127.0.0.1:8765/callback.",
            field="redirect_uri",
        )
    return _LOOPBACK_HOSTS[host], port, parts.path or "/"


class CallbackListener:
    """Listens on a loopback redirect URI until one authorization response comes."""

    def __init__(self, redirect_uri: str, *, state: str | None = None) -> None:
        """Bind the listener; state is the one the authorization request sent.

        state None hands over the first callback whatever its state, which a
        forged callback can win. Only src/cis2/demo.py still relies on it (it
        talks to its own simulator); the default can go once it passes its
        request's state.
        """
        address, port, self._path = check_loopback_redirect_uri(redirect_uri)
        self._redirect_uri = redirect_uri
        self._responses: queue.Queue[str] = queue.Queue(maxsize=1)
        parts = urlsplit(redirect_uri)
        base = f"{parts.scheme}://{parts.netloc}"
        handler = _handler_for(base, self._path, state, self._responses)
        server_class = _server_class(address)
        try:
            self._server = server_class((address, port), handler)
        except OSError as exc:
            raise ConfigurationError(
                f"Cannot listen on {redirect_uri} ({exc.strerror}): stop what uses "
                f"port {port}, or register and pass another --redirect-uri.",
                field="redirect_uri",
            ) from None
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="cis2-callback", daemon=True
        )

    def __enter__(self) -> CallbackListener:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def wait(self, timeout: float) -> str:
        """The full callback URL of the first authorization response."""
        try:
            return self._responses.get(timeout=timeout)
        except queue.Empty:
            raise LoginTimeoutError(
                f"No sign-in reached {self._redirect_uri} within {timeout:g} s: "
                "finish signing in in the browser, or give more time with "
                "--timeout.",
                field="timeout",
            ) from None

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()


def _server_class(address: str) -> type[http.server.HTTPServer]:
    if ":" not in address:
        return http.server.HTTPServer

    class _IPv6Server(http.server.HTTPServer):
        address_family = socket.AF_INET6

    return _IPv6Server


def _handler_for(
    base: str, path: str, state: str | None, responses: queue.Queue[str]
) -> type[http.server.BaseHTTPRequestHandler]:
    """A request handler class bound to the callback path, state and hand-over.

    The callback URL handed over is rebuilt on the registered redirect URI
    rather than the request's Host header, which the browser may spell
    differently (localhost for 127.0.0.1).
    """

    class _Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            target = urlsplit(self.path)
            params = parse_qs(target.query)
            if target.path != path or not ({"code", "error"} & params.keys()):
                self._answer(404, "Not the sign-in callback")
                return
            if not _state_matches(params, state):
                # Forged, or from an older sign-in: the real one may follow.
                self._answer(400, "Not the sign-in cis2 is waiting for")
                return
            try:
                responses.put_nowait(base + self.path)
            except queue.Full:
                self._answer(409, "A sign-in response was already received")
                return
            heading = "Sign-in refused" if "error" in params else "Signed in"
            self._answer(200, heading)

        def _answer(self, status: int, heading: str) -> None:
            body = _PAGE.format(heading=heading).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            # The default logs each request line, which holds the code.
            return

    return _Handler


def _state_matches(params: dict[str, list[str]], state: str | None) -> bool:
    """The callback carries exactly the state this login sent (RFC 6749 10.12)."""
    if state is None:
        return True
    given = params.get("state", [])
    if len(given) != 1:
        return False
    return hmac.compare_digest(given[0].encode(), state.encode())
