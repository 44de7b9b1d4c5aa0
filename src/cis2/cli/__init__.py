"""The ``cis2`` command: keys, assertions, a login from the terminal, the demo.

``main`` is the console entry point and the one place that turns exceptions
into exit codes: a ``Cis2Error`` prints ``Error: <message>`` on stderr and
exits 1; a usage error (a bad option, a setting missing or two that
conflict) exits 2; a traceback shows only with ``--debug``.

Startup stays quick: importing this package loads click and cis2's key code,
never the simulator, the doctor or the web stack (httpx, starlette, uvicorn,
jinja2); each command imports what it needs when it runs.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence

import click

from cis2.errors import Cis2Error

__all__ = ["EXIT_ERROR", "EXIT_OK", "EXIT_USAGE", "main"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
_EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``cis2`` with argv (default: the process's) and return its exit code."""
    from cis2.cli._app import cli

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    # Every exception ends here, so that one function decides what the user
    # sees and which exit code the shell gets.
    try:
        result = cli.main(args=args, prog_name="cis2", standalone_mode=False)
    except BaseException as exc:
        return _exit_code_for(exc, debug=debug)
    return result if isinstance(result, int) else EXIT_OK


def _exit_code_for(exc: BaseException, *, debug: bool) -> int:
    """Report exc on stderr the way the command line promises; its exit code."""
    if isinstance(exc, click.exceptions.Exit):
        return exc.exit_code
    if isinstance(exc, click.UsageError):
        exc.show()
        return EXIT_USAGE
    if isinstance(exc, click.ClickException):
        exc.show()
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt | click.Abort):
        click.echo("Interrupted.", err=True)
        return _EXIT_INTERRUPTED
    if isinstance(exc, SystemExit):
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    if debug:
        traceback.print_exception(exc)
    click.echo(f"Error: {_one_line(exc)}", err=True)
    return EXIT_USAGE if _is_missing_setting(exc) else EXIT_ERROR


def _is_missing_setting(exc: BaseException) -> bool:
    """A setting the command needs was not given: issue 4 makes that exit 2."""
    from cis2.cli._settings import MissingSettingError

    return isinstance(exc, MissingSettingError)


def _one_line(exc: BaseException) -> str:
    """What went wrong, on one line, without repeating anything secret.

    cis2's own errors are written never to hold a secret. Other exceptions
    may quote a URL, a header or a form, so only their kind is shown, with
    the way to learn more.
    """
    if isinstance(exc, Cis2Error):
        return " ".join(exc.message.split())
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror}{where}."
    return (
        f"unexpected {type(exc).__name__}: run the command again with --debug "
        "to see the traceback, and report it if it looks like a cis2 bug."
    )
