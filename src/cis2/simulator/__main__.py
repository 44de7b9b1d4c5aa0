"""``python -m cis2.simulator``: run a local CIS2 on loopback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from cis2.errors import Cis2Error
from cis2.simulator._config import SimulatorConfig
from cis2.simulator._server import serve

# Exit statuses, as argparse uses 2 for a bad command line.
_OPERATIONAL: Final = 1
_USAGE: Final = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, build the config and serve.

    2 when the options or the config file are unusable (usage), 1 when
    serving fails (the data folder, the port); ``Error: ...`` on one line.
    """
    args = _parser().parse_args(argv)
    try:
        config = _config(args)
    except Cis2Error as exc:
        return _fail(exc, _USAGE)
    try:
        serve(config)
    except Cis2Error as exc:
        return _fail(exc, _OPERATIONAL)
    return 0


def _config(args: argparse.Namespace) -> SimulatorConfig:
    """The config from the options; the checks of SimulatorConfig apply."""
    options: dict[str, Any] = {"host": args.host, "port": args.port}
    if args.data is not None:
        options["data_dir"] = Path(args.data)
    if args.headless:
        options["headless"] = True
    if args.explain:
        options["explain"] = True
    if args.config is not None:
        return SimulatorConfig.load(args.config, **options)
    return SimulatorConfig(**options)


def _fail(exc: Cis2Error, status: int) -> int:
    print(f"Error: {exc.message}", file=sys.stderr)
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cis2.simulator",
        description="A local CIS2 (OpenID Provider) for development and tests.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address")
    parser.add_argument("--port", type=int, default=8400, help="port (8400)")
    parser.add_argument("--config", help="TOML file of clients and personas")
    parser.add_argument("--data", help="data folder (default: per-user folder)")
    parser.add_argument(
        "--headless",
        action="store_true",
        help="sign the login_hint persona in without a page",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="add cis2_sim_reason to invalid_client answers",
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
