"""Run every benchmark: ``python -m benchmarks [--quick] [NAME ...]``.

Each ``bench_*.py`` module has ``run(quick) -> list[dict]``; every row is a
ratio against a baseline measured in the same run, so the numbers mean the
same on a fast machine and a slow one. Results are printed as a table and
written to benchmarks/results/latest.json. The exit status is 1 when a goal
is missed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="short runs, for CI")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    args = parser.parse_args(argv)
    names = args.names or sorted(
        info.name.removeprefix("bench_")
        for info in pkgutil.iter_modules([str(HERE)])
        if info.name.startswith("bench_")
    )
    rows: list[dict[str, Any]] = []
    for name in names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        print(f"== {name}", flush=True)
        for result in module.run(args.quick):
            row = {"benchmark": name, **result}
            rows.append(row)
            _print(row)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "latest.json").write_text(json.dumps(rows, indent=2))
    missed = [row for row in rows if not row.get("ok", True)]
    print(f"{len(rows) - len(missed)} met, {len(missed)} missed")
    return 1 if missed else 0


def _print(row: dict[str, Any]) -> None:
    mark = "ok  " if row.get("ok", True) else "MISS"
    unit = row.get("unit", "")
    print(
        f"  {mark} {row['name']}: {row.get('value')} {unit} vs {row.get('baseline')}"
        f" -> ratio {row.get('ratio')} (goal {row.get('goal')})",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
