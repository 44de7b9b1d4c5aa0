"""How quickly ``cis2`` starts: ``cis2 --help`` against Python's own start.

A developer runs ``cis2`` dozens of times while integrating, and shell
completion runs it on every Tab, so its start-up is the command line's
speed. Each program runs as a fresh process, N times, and the median wall
time is compared with baselines measured in the same run:

- ``python -c pass``: the interpreter alone. Goal: ``cis2 --help`` within
  12x of it, about 100 ms here: the interpreter takes about 10 ms, click
  about 25 ms and cryptography's RSA code about 40 ms. ``import cis2`` is
  lazy (PEP 562), so httpx, the simulator, the doctor and the web stack are
  imported only by the commands that use them.
- ``python -c "import click"``: the command-line toolkit alone, shown
  beside it (no goal) to tell what cis2's own command tree costs.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ._rows import ratio_row

GOAL_VS_PYTHON = 12.0
_PYTHON = sys.executable
_CIS2 = str(Path(sys.executable).with_name("cis2"))


def run(quick: bool) -> list[dict[str, Any]]:
    """Rows comparing ``cis2 --help`` with the two baselines."""
    rounds = 5 if quick else 21
    help_time = _median_seconds([_CIS2, "--help"], rounds)
    python_time = _median_seconds([_PYTHON, "-c", "pass"], rounds)
    click_time = _median_seconds([_PYTHON, "-c", "import click"], rounds)
    return [
        _row("cis2 --help vs python -c pass", help_time, python_time, GOAL_VS_PYTHON),
        _row("cis2 --help vs import click", help_time, click_time, None),
    ]


def _row(
    name: str, seconds: float, baseline: float, goal: float | None
) -> dict[str, Any]:
    return ratio_row(
        name, seconds * 1000, baseline * 1000, goal=goal, better="lower", unit="ms"
    )


def _median_seconds(command: list[str], rounds: int) -> float:
    """The median wall time of command over rounds runs, after one warm-up."""
    subprocess.run(command, capture_output=True, check=True)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
