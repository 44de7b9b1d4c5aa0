"""50 concurrent headless logins against one simulator process, sustained.

The simulator runs as ``python -m cis2.simulator --headless`` in its own
process, with the demo client whose key it writes to its data folder; the
load client (``benchmarks/loadclient.py``) drives full logins (authorize,
token with private_key_jwt, UserInfo) for 60 s (10 s in quick mode). Three
rows, each a ratio measured in this run:

- errors: failed logins over all logins (goal 0);
- memory: the server's RSS at the end over its RSS after a warm-up (goal at
  most 1.25, "flat");
- sustained rate: the median logins/s in the last third of the run over
  that of the first third (goal at least 0.8).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import httpx

from cis2.keys import load_signing_key

from ._rows import ratio_row
from .loadclient import LoadResult, run_logins

CLIENT_ID: Final = "999999999999.apps.national"
REDIRECT_URI: Final = "http://127.0.0.1:8765/callback"
PERSONA: Final = "656005750108"
CONCURRENCY: Final = 50
WARM_UP: Final = 2.0
MEMORY_GOAL: Final = 1.25
SUSTAIN_GOAL: Final = 0.8


def run(quick: bool) -> list[dict[str, Any]]:
    """Warm up, note the RSS, run the load, note the RSS again."""
    duration = 10.0 if quick else 60.0
    with _simulator() as (issuer, pid, data):
        key = load_signing_key(data / "demo-client-key.pem", alg="RS512")
        _drive(issuer, key, WARM_UP)
        rss_start = _rss_kib(pid)
        result = _drive(issuer, key, duration)
        rss_end = _rss_kib(pid)
    return [
        _errors_row(result),
        _memory_row(rss_start, rss_end),
        _sustained_row(result),
    ]


def _drive(issuer: str, key: Any, seconds: float) -> LoadResult:
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


def _errors_row(result: LoadResult) -> dict[str, Any]:
    total = result.logins + result.failures
    ratio = result.failures / total if total else 1.0
    return {
        "name": f"{CONCURRENCY} concurrent headless logins: failed / all",
        "value": result.failures,
        "baseline": total,
        "ratio": round(ratio, 4),
        "goal": 0,
        "ok": result.failures == 0 and result.logins > 0,
        "unit": "logins",
        "note": (
            f"{result.rate:.1f} logins/s, p50 "
            f"{1000 * result.percentile(0.5):.0f} ms, p95 "
            f"{1000 * result.percentile(0.95):.0f} ms"
            + (f"; errors {dict(result.errors)}" if result.errors else "")
        ),
    }


def _memory_row(start: int, end: int) -> dict[str, Any]:
    return ratio_row(
        "simulator RSS, end of load / after warm-up",
        end,
        start,
        goal=MEMORY_GOAL,
        better="lower",
        unit="KiB",
        places=0,
    )


def _sustained_row(result: LoadResult) -> dict[str, Any]:
    # The last second is partial, so it is left out of the last third. The
    # median of each third is used: the machine is shared, and a second in
    # which another process took the CPU says nothing about the simulator.
    seconds = result.per_second[:-1] or result.per_second
    third = max(1, len(seconds) // 3)
    first = statistics.median(seconds[:third])
    last = statistics.median(seconds[-third:])
    return ratio_row(
        "sustained rate, last third / first third",
        last,
        first,
        goal=SUSTAIN_GOAL,
        unit="logins/s",
    )


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@contextlib.contextmanager
def _simulator() -> Iterator[tuple[str, int, Path]]:
    """``python -m cis2.simulator --headless`` on a free port, then stopped."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="cis2-load-") as scratch:
        data = Path(scratch)
        argv = [
            sys.executable,
            "-m",
            "cis2.simulator",
            "--headless",
            "--port",
            str(port),
            "--data",
            str(data),
        ]
        with (data / "server.log").open("wb") as log:
            process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
            try:
                issuer = (
                    f"http://127.0.0.1:{port}"
                    "/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare"
                )
                _wait_for(issuer, process, data / "server.log")
                yield issuer, process.pid, data
            finally:
                process.terminate()
                process.wait(timeout=10)


def _wait_for(issuer: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the simulator exited: {log.read_text()[-800:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{issuer}/.well-known/openid-configuration").is_success:
                return
        time.sleep(0.1)
    raise RuntimeError("the simulator did not start within 20 s")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
