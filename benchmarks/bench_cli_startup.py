"""How quickly ``cis2`` starts: ``cis2 --help`` against Python's own start.

A developer runs ``cis2`` dozens of times while integrating, and shell
completion runs it on every Tab, so its start-up is the command line's
speed. Each program runs as a fresh process, N times, and the median wall
time is compared with baselines measured in the same run:

- ``python -c pass``: the interpreter alone. Goal: ``cis2 --help`` within
  12x of it, about 100 ms here: the interpreter takes about 10 ms, click
  about 25 ms and cryptography's RSA and X.509 code, which every command
  needs, about 40 ms. This row misses while ``import cis2`` loads httpx
  (over 100 ms, as httpx imports its own command line when click and rich
  are installed); with the client imported lazily it should pass.
- ``python -c "import cis2"``: the library the command line is built on.
  Goal: ``cis2 --help`` within 1.25x of it, i.e. the command line itself
  (click, the command tree, the settings) adds at most a quarter; the
  simulator, the doctor and the web stack are imported only by the
  commands that use them.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

GOAL_VS_PYTHON = 12.0
GOAL_VS_LIBRARY = 1.25
_PYTHON = sys.executable
_CIS2 = str(Path(sys.executable).with_name("cis2"))


def run(quick: bool) -> list[dict[str, Any]]:
    """Rows comparing ``cis2 --help`` with the two baselines."""
    rounds = 5 if quick else 21
    help_time = _median_seconds([_CIS2, "--help"], rounds)
    python_time = _median_seconds([_PYTHON, "-c", "pass"], rounds)
    library_time = _median_seconds([_PYTHON, "-c", "import cis2"], rounds)
    return [
        _row("cis2 --help vs python -c pass", help_time, python_time, GOAL_VS_PYTHON),
        _row("cis2 --help vs import cis2", help_time, library_time, GOAL_VS_LIBRARY),
    ]


def _median_seconds(command: list[str], rounds: int) -> float:
    """The median wall time of command over rounds runs, after one warm-up."""
    subprocess.run(command, capture_output=True, check=True)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _row(name: str, value: float, baseline: float, goal: float) -> dict[str, Any]:
    ratio = value / baseline
    return {
        "name": name,
        "value": round(value * 1000, 1),
        "baseline": round(baseline * 1000, 1),
        "ratio": round(ratio, 2),
        "goal": goal,
        "ok": ratio <= goal,
    }


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
