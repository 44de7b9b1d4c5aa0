"""Running the pinned node peers under interop/ from the tests.

The node side is checked once: node on PATH and ``npm ci`` done in
interop/. Without them the interop tests skip with the reason, except when
``CIS2_REQUIRE_NODE=1`` (set by .ci/run), where they fail: CI must never
pass by skipping them.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Final

import pytest

__all__ = ["INTEROP_DIR", "NodeProcess", "require_node", "run_node", "start_node"]

INTEROP_DIR: Final = Path(__file__).resolve().parents[2] / "interop"
_PEERS: Final = ("oidc-provider", "openid-client", "jose")


def require_node() -> str:
    """The node executable, or skip (fail under CIS2_REQUIRE_NODE=1)."""
    node = shutil.which("node")
    missing = [
        name for name in _PEERS if not (INTEROP_DIR / "node_modules" / name).is_dir()
    ]
    if node is not None and not missing:
        return node
    if node is None:
        reason = "node is not on PATH: install Node.js 20 or later"
    else:
        reason = (
            f"interop/node_modules lacks {', '.join(missing)}: run "
            "'npm ci' in interop/ (or 'make node-deps')"
        )
    if os.environ.get("CIS2_REQUIRE_NODE") == "1":
        pytest.fail(f"CIS2_REQUIRE_NODE=1 but {reason}", pytrace=False)
    pytest.skip(f"interop test skipped: {reason}")


class NodeProcess:
    """A node script that printed its ready line; ``ready`` is that JSON."""

    def __init__(self, process: subprocess.Popen[str], ready: dict[str, Any]) -> None:
        self.process = process
        self.ready = ready


@contextmanager
def start_node(script: str, args: Sequence[str]) -> Iterator[NodeProcess]:
    """Start interop/<script>, wait for its JSON ready line, stop it after."""
    node = require_node()
    # stderr goes to a file, not a pipe nobody drains, so a chatty peer can
    # never block on a full pipe in the middle of a test.
    with tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(
            [node, str(INTEROP_DIR / script), *args],
            cwd=INTEROP_DIR,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        try:
            yield NodeProcess(process, _ready_line(process, script, stderr))
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


def run_node(script: str, args: Sequence[str], timeout: float = 60) -> dict[str, Any]:
    """Run interop/<script> to completion; its stdout is one JSON document."""
    node = require_node()
    done = subprocess.run(
        [node, str(INTEROP_DIR / script), *args],
        cwd=INTEROP_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(
            f"{script} exited with {done.returncode}:\n{done.stderr[-3000:]}"
        )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _ready_line(
    process: subprocess.Popen[str], script: str, stderr: IO[str]
) -> dict[str, Any]:
    assert process.stdout is not None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        readable, _, _ = select.select([process.stdout], [], [], 0.1)
        if readable:
            line = process.stdout.readline()
            if line:
                ready: dict[str, Any] = json.loads(line)
                return ready
        if process.poll() is not None:
            break
    process.kill()
    process.wait()
    stderr.seek(0)
    raise AssertionError(f"{script} never became ready:\n{stderr.read()[-3000:]}")
