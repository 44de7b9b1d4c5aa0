"""The root ``cis2`` group: global options and the list of commands."""

from __future__ import annotations

import click

from cis2 import __version__
from cis2.cli import _assertion, _config, _doctor, _keys, _login, _simulator
from cis2.cli._completion import completion

__all__ = ["cli"]

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 88}


@click.group(context_settings=_CONTEXT)
@click.version_option(__version__, "--version", prog_name="cis2")
@click.option(
    "--debug",
    is_flag=True,
    help="Show the traceback when a command fails.",
)
def cli(debug: bool) -> None:
    """Sign NHS staff in with CIS2 from the terminal, and test it offline.

    \b
    First steps, all on this machine:
      cis2 demo                      the whole journey against a local CIS2
      cis2 keys new --out key.pem    a signing key for private_key_jwt
      cis2 keys jwks key.pem         the JWKS to publish at your jwks_uri

    Settings come from flags, then CIS2_* environment variables, then a
    cis2.toml in the working folder: 'cis2 config' shows the result.
    """


for command in (
    _keys.keys,
    _assertion.assertion,
    _login.login,
    _login.refresh,
    _login.userinfo,
    _login.logout,
    _doctor.doctor,
    _simulator.simulator,
    _config.config,
    completion,
):
    cli.add_command(command)


@cli.command(context_settings=_CONTEXT)
def demo() -> None:
    """Run the whole CIS2 journey against a local simulator, traced.

    Starts the simulator in this process on a free loopback port, signs a
    test persona in with a fresh key and private_key_jwt, refreshes, calls
    UserInfo, logs out with back-channel logout, then shows the doctor
    naming each mistake in a deliberately broken assertion. Nothing leaves
    this machine.

    \b
    Example:
      cis2 demo
    """
    from cis2.demo import run_demo

    run_demo()
