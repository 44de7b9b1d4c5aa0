"""``cis2 simulator``: serve the local CIS2, or rotate its signing keys.

A front for ``cis2.simulator``; the simulator and its web stack are imported
only when one of these commands runs. A flag that is not given leaves the
config file's value (or the simulator's default) alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

__all__ = ["simulator"]

_DATA = click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for its state: keys, clients, sessions [default: a per-user folder].",
)


@click.group(invoke_without_command=True)
@click.option("--host", help="Loopback address to listen on [default: 127.0.0.1].")
@click.option("--port", type=click.IntRange(1, 65535), help="Port [default: 8400].")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A TOML file of simulator options, clients and personas.",
)
@_DATA
@click.option(
    "--headless", is_flag=True, help="Sign the login_hint persona in at once."
)
@click.option("--explain", is_flag=True, help="Add cis2_sim_reason to each refusal.")
@click.pass_context
def simulator(
    ctx: click.Context,
    /,
    *,
    config_path: Path | None,
    **flags: Any,
) -> None:
    """Serve a local CIS2 on loopback for development and tests.

    With no config it registers a demo client (private_key_jwt RS512, key
    kept in the data folder) and the test personas, and prints the issuer
    and the client's settings.

    \b
    Examples:
      cis2 simulator --port 8400 --explain
      cis2 simulator --config simulator.toml --headless
      cis2 simulator rotate-keys
    """
    if ctx.invoked_subcommand is not None:
        return
    from cis2 import simulator as sim

    options = _options(flags)
    if config_path is not None:
        config = sim.SimulatorConfig.load(config_path, **options)
    else:
        config = sim.SimulatorConfig(**options)
    sim.serve(config)


@simulator.command("rotate-keys")
@_DATA
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The simulator config whose data folder to use.",
)
def rotate_keys(data: Path | None, config_path: Path | None) -> None:
    """Rotate the simulator's ID-token signing key, without an outage.

    The next key (already published) starts signing, the old one stays
    published until its tokens expire, and a new next key is published. A
    running simulator picks the change up on its next signature.

    \b
    Example:
      cis2 simulator rotate-keys --data .cis2
    """
    from cis2 import simulator as sim
    from cis2.simulator import data_dir_for

    options = _options({"data": data})
    if config_path is not None:
        config = sim.SimulatorConfig.load(config_path, **options)
    else:
        config = sim.SimulatorConfig(**options)
    folder = data_dir_for(config)
    kid = sim.rotate_keys(folder, id_token_lifetime=config.id_token_lifetime)
    click.echo(f"Rotated the signing keys in {folder}: kid {kid} now signs.")


def _options(flags: dict[str, Any]) -> dict[str, Any]:
    """The simulator options the flags set; unset flags say nothing."""
    names = {"host": "host", "port": "port", "data": "data_dir"}
    options = {names[k]: v for k, v in flags.items() if k in names and v is not None}
    options.update({k: True for k in ("headless", "explain") if flags.get(k)})
    return options
