"""``cis2 demo``: the whole CIS2 journey once, offline, as a numbered trace.

The demo starts the simulator in this process on a free loopback port and
plays a relying party against it over real HTTP: a fresh RS512 key and
private_key_jwt, discovery, a headless sign-in through the loopback redirect
URI, the code redeemed and the ID token validated, a refresh, UserInfo, a
back-end logout answered by a back-channel logout token, and last a
deliberately broken assertion that CIS2 would refuse with "JWT is not
valid", with the doctor naming each mistake. Every HTTP exchange is printed
as it happens, tokens, codes and assertions redacted.
"""

from __future__ import annotations

import http.server
import json
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl, urlsplit

from cis2.errors import Cis2Error

if TYPE_CHECKING:
    import httpx
    from rich.console import Console

    import cis2
    from cis2 import Login, LogoutEvent
    from cis2.doctor import Finding
    from cis2.keys import SigningKey
    from cis2.simulator.testing import RunningSimulator

__all__ = ["DemoRun", "redact", "run_demo"]

CLIENT_ID: Final = "100000000001.apps.supplier"
PERSONA: Final = "656005750108"  # the GP test user at AAL3 (reference 9.6)
#: A made-up NHS API Platform application key, the most common wrong iss.
API_PLATFORM_KEY: Final = "Xq7Tz2Lm9Pw4Rn6Vb8Kc3Hd5Jf1Gs0Ya"
#: Form fields, query parameters and JSON members that carry a secret.
SECRET_NAMES: Final = frozenset(
    {
        "access_token",
        "client_assertion",
        "client_secret",
        "code",
        "code_verifier",
        "id_token",
        "id_token_hint",
        "logout_token",
        "refresh_token",
        "subject_token",
    }
)
_SHOWN_MEMBERS = 6
_LONGEST_VALUE = 64


@dataclass
class DemoRun:
    """What a demo run did: its logins (for tests that look for leaks)."""

    logins: list[Login] = field(default_factory=list)
    steps: int = 0
    logout_event: LogoutEvent | None = None
    doctor_findings: tuple[Finding, ...] = ()


def run_demo(console: Console | None = None) -> DemoRun:
    """Run the journey, printing the trace on console (default: stdout)."""
    from rich.console import Console

    from cis2.keys import generate_signing_key
    from cis2.simulator.testing import client_registration, run_simulator

    out = console or Console(highlight=False)
    trace = Trace(out)
    record = DemoRun()
    trace.step("Make a signing key for private_key_jwt")
    key = generate_signing_key(alg="RS512")
    trace.checked(f"RSA {key.size}, alg {key.alg}, kid {key.kid} (RFC 7638 thumbprint)")
    with _BackChannelReceiver() as receiver, _callback_port() as port:
        redirect_uri = f"http://127.0.0.1:{port}/callback"
        registration = client_registration(
            CLIENT_ID,
            redirect_uri,
            key,
            backchannel_logout_uri=receiver.uri,
            grant_types=("authorization_code", "refresh_token"),
        )
        with run_simulator(clients=(registration,), headless=True) as sim:
            _journey(trace, record, sim, key, redirect_uri, receiver)
    record.steps = trace.number
    out.print(f"\n[bold green]Done:[/] {trace.number} steps, all on this machine.")
    return record


def _journey(
    trace: Trace,
    record: DemoRun,
    sim: RunningSimulator,
    key: SigningKey,
    redirect_uri: str,
    receiver: _BackChannelReceiver,
) -> None:
    """Steps 2 onwards, against the running simulator."""
    import cis2

    trace.note(f"Simulator (a local CIS2): issuer = {sim.issuer}")
    trace.issuer = sim.issuer
    trace.note(f"Registered {CLIENT_ID}: private_key_jwt RS512, {redirect_uri}")
    with _traced_http(trace) as http:
        client = cis2.Client(
            sim.issuer, CLIENT_ID, redirect_uri, signing_key=key, http=http
        )
        receiver.client = client
        login = _sign_in(trace, client, http, redirect_uri)
        record.logins.append(login)
        renewed = _refresh(trace, client, login)
        record.logins.append(renewed)
        _userinfo(trace, client, renewed)
        record.logout_event = _logout(trace, client, renewed, receiver)
        record.doctor_findings = _broken_assertion(trace, http, sim, key, redirect_uri)


def _sign_in(
    trace: Trace, client: cis2.Client, http: httpx.Client, redirect_uri: str
) -> Login:
    """Discovery, the authorization request, the callback and the code."""
    from cis2.cli._loopback import CallbackListener
    from cis2.cli._output import print_user

    trace.step("Discover the provider")
    client.discover()
    trace.checked("issuer byte-identical to the configured one; endpoints on it")

    trace.step(f"Send the browser to /authorize (headless persona {PERSONA})")
    request = client.start_login(acr_values="AAL3_ANY", login_hint=PERSONA)
    trace.checked("state, nonce and a PKCE S256 challenge are fresh for this login")
    with CallbackListener(redirect_uri, state=request.state) as listener:
        answer = http.get(request.url)
        location = answer.headers.get("location", "")
        trace.note("The simulator signs the persona in and redirects to the RP")
        http.get(location)
        callback = listener.wait(5)

    trace.step("Redeem the code at the token endpoint and validate the ID token")
    login = client.finish_login(callback, request)
    trace.note("Sent: client_assertion signed RS512, aud = the token endpoint")
    trace.checked("the callback's state is this login's; PKCE verifier sent")
    trace.checked(
        "ID token: RS256 signature by a key in the provider JWKS, iss exact, aud "
        "and azp = client_id, exp/iat, nonce, auth_time, acr "
        f"{login.claims.get('acr')}, assurance levels"
    )
    print_user(login.user, title="Signed in", console=trace.console)
    return login


def _refresh(trace: Trace, client: cis2.Client, login: Login) -> Login:
    trace.step("Refresh the tokens (grant_type=refresh_token)")
    renewed = client.refresh(login)
    trace.checked("a new access token; the new ID token is for the same sub")
    return renewed


def _userinfo(trace: Trace, client: cis2.Client, login: Login) -> None:
    trace.step("Call UserInfo with the access token")
    info = client.userinfo(login)
    roles = ", ".join(role.role_code for role in info.user.roles) or "none"
    trace.checked(f"sub equals the ID token's sub; NRBAC roles {roles}")


def _logout(
    trace: Trace, client: cis2.Client, login: Login, receiver: _BackChannelReceiver
) -> LogoutEvent:
    trace.step("Log out: end the session from the back end")
    client.end_session(login)
    trace.note("CIS2 now POSTs a logout token to the back-channel logout URI")
    event = receiver.wait(5)
    trace.console.print(
        f"   [magenta]<-[/] POST {receiver.uri} (from the simulator)", soft_wrap=True
    )
    trace.note(f"        logout_token={redact('eyJ')}")
    trace.console.print(f"   [magenta]->[/] {receiver.answered} application/json {{}}")
    sid_note = "matches" if event.sid == login.claims.get("sid") else "differs from"
    trace.checked(
        f"logout token verified: signature, iss, aud, iat/exp, jti, events, no "
        f"nonce; sub {event.sub}, sid {sid_note} the login's sid"
    )
    return event


def _broken_assertion(
    trace: Trace,
    http: httpx.Client,
    sim: RunningSimulator,
    key: SigningKey,
    redirect_uri: str,
) -> tuple[Finding, ...]:
    """Send an assertion with classic mistakes, then let the doctor explain."""
    from cis2 import doctor
    from cis2.keys import SigningKey, jwks

    trace.step("Send a deliberately broken client assertion")
    now = int(time.time())
    wrong_alg = SigningKey(key.private_key, alg="RS256")
    broken = wrong_alg.sign_jwt(
        {
            "iss": API_PLATFORM_KEY,
            "sub": API_PLATFORM_KEY,
            "aud": sim.issuer,
            "jti": str(uuid.uuid4()),
            "iat": now,
            "exp": now + 3600,
        }
    )
    trace.note(
        "Mistakes: iss/sub = an API Platform key, aud = the issuer, alg RS256 "
        "(RS512 registered), exp an hour ahead"
    )
    http.post(
        sim.config.token_endpoint,
        data={
            "grant_type": "authorization_code",
            "code": "not-a-real-code",
            "redirect_uri": redirect_uri,
            "client_id": CLIENT_ID,
            "client_assertion_type": (
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            ),
            "client_assertion": broken,
        },
    )

    trace.step("Ask the doctor why")
    report = doctor.diagnose(
        broken,
        client_id=CLIENT_ID,
        token_endpoint=sim.config.token_endpoint,
        alg="RS512",
        jwks=jwks(key),
        now=now,
    )
    for finding in report.findings:
        mark = "[red]x[/]" if finding.severity == "error" else "[yellow]![/]"
        trace.console.print(f"   {mark} [bold]{finding.rule}[/] {finding.message}")
        trace.console.print(f"     fix: {finding.fix}", markup=False)
    return tuple(report.findings)


# The trace


class Trace:
    """Prints numbered steps and the HTTP exchanges inside them.

    URLs under the issuer are shown as ``{issuer}/...``: the issuer is
    printed once, and the path is what tells the endpoints apart.
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self.number = 0
        self.issuer: str | None = None

    def step(self, title: str) -> None:
        self.number += 1
        self.console.print(f"\n[bold cyan]{self.number}.[/] [bold]{title}[/]")

    def note(self, text: str) -> None:
        self.console.print(f"   {text}", markup=False, soft_wrap=True)

    def checked(self, text: str) -> None:
        self.console.print(f"   [green]checked[/] {text}", soft_wrap=True)

    def request(self, request: httpx.Request) -> None:
        """One line for the request, then its parameters, secrets redacted."""
        url = urlsplit(str(request.url))
        path = self._short(f"{url.scheme}://{url.netloc}{url.path}")
        self.console.print(f"   [magenta]->[/] {request.method} {path}", soft_wrap=True)
        for name, value in parse_qsl(url.query):
            self.note(f"     {name}={_shown(name, value)}")
        authorization = request.headers.get("authorization")
        if authorization:
            scheme = authorization.split(" ", 1)[0]
            self.note(f"     Authorization: {scheme} {redact('')}")
        if request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            for name, value in parse_qsl(request.content.decode()):
                self.note(f"     {name}={_shown(name, value)}")

    def response(self, response: httpx.Response) -> None:
        """The status, and the start of a JSON body with secrets redacted."""
        response.read()
        kind = response.headers.get("content-type", "").split(";")[0]
        line = f"   [magenta]<-[/] {response.status_code} {kind}".rstrip()
        location = response.headers.get("location")
        if location:
            line += f" Location: {self._short(_redacted_url(location))}"
        self.console.print(line, soft_wrap=True)
        summary = _json_summary(response, self._short)
        if summary:
            self.note(f"     {summary}")

    def _short(self, text: str) -> str:
        if not self.issuer:
            return text
        return text.replace(self.issuer, "{issuer}")


def redact(value: str) -> str:
    """A secret as the trace shows it: a JWT's harmless start, nothing else."""
    if value.startswith("eyJ"):
        return value[:10] + "…(redacted)"
    return "…(redacted)"


def _shown(name: str, value: str) -> str:
    if name in SECRET_NAMES:
        return redact(value)
    return value if len(value) <= _LONGEST_VALUE else value[:_LONGEST_VALUE] + "…"


def _redacted_url(url: str) -> str:
    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    if not parts.query:
        return base
    query = [f"{k}={_shown(k, v)}" for k, v in parse_qsl(parts.query)]
    return base + "?" + "&".join(query)


def _json_summary(response: httpx.Response, short: Callable[[str], str]) -> str:
    """The first members of a JSON object body, secrets redacted."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, Mapping):
        return ""
    members = [
        f"{name}: {_member(name, value, short)}"
        for name, value in list(body.items())[:_SHOWN_MEMBERS]
    ]
    more = len(body) - _SHOWN_MEMBERS
    if more > 0:
        members.append(f"+{more} more")
    return "{" + ", ".join(members) + "}"


def _member(name: str, value: Any, short: Callable[[str], str]) -> str:
    if isinstance(value, str):
        return _shown(name, short(value))
    if isinstance(value, list):
        return f"[{len(value)} items]"
    if isinstance(value, dict):
        return "{...}"
    return json.dumps(value)


@contextmanager
def _traced_http(trace: Trace) -> Iterator[httpx.Client]:
    """An httpx.Client that prints every exchange through trace."""
    import httpx

    hooks: dict[str, list[Any]] = {
        "request": [trace.request],
        "response": [trace.response],
    }
    with httpx.Client(event_hooks=hooks, timeout=10) as client:
        yield client


# The relying party's two loopback listeners


@contextmanager
def _callback_port() -> Iterator[int]:
    """A loopback port that was free a moment ago, for the redirect URI.

    The port must be known before the client is registered, while the
    listener starts only when the sign-in does. Another program could take
    the port in between; Linux hands out ephemeral ports in a spread, so
    that is rare, and the listener then says the port is in use.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    yield port


class _BackChannelReceiver:
    """The RP's backchannel_logout_uri (Back-Channel Logout 1.0 section 2.5)."""

    def __init__(self) -> None:
        self.client: cis2.Client | None = None
        self._events: queue.Queue[LogoutEvent | Cis2Error] = queue.Queue()
        self.answered = 0
        self._server = http.server.HTTPServer(("127.0.0.1", 0), self._handler())
        self.uri = f"http://127.0.0.1:{self._server.server_port}/backchannel-logout"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def wait(self, timeout: float) -> LogoutEvent:
        """The verified logout event, or the error that refused the token."""
        outcome = self._events.get(timeout=timeout)
        if isinstance(outcome, Cis2Error):
            raise outcome
        return outcome

    def _verify(self, token: str) -> tuple[int, dict[str, str]]:
        assert self.client is not None  # set before any logout can happen
        try:
            event = self.client.verify_logout_token(token)
        except Cis2Error as exc:
            self.answered = 400
            self._events.put(exc)
            return 400, {"error": "invalid_request", "error_description": exc.message}
        self.answered = 200
        self._events.put(event)
        return 200, {}

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        receiver = self

        class _Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                status, body = receiver._verify(form.get("logout_token", ""))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                return

        return _Handler

    def __enter__(self) -> _BackChannelReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
