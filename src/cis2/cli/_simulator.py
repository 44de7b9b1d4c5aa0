"""``cis2 simulator``: serve the local CIS2, or rotate its signing keys.

A front for ``cis2.simulator``; the simulator and its web stack are imported
only when one of these commands runs.
"""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["simulator"]


@click.group(invoke_without_command=True)
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on."
)
@click.option("--port", type=int, default=None, help="Port (default: from the config).")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A simulator config file (TOML).",
)
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for its state: keys, clients, sessions.",
)
@click.option(
    "--headless", is_flag=True, help="Sign the login_hint persona in at once."
)
@click.option("--explain", is_flag=True, help="Add the reason for each refusal.")
@click.pass_context
def simulator(
    ctx: click.Context,
    /,
    *,
    host: str,
    port: int | None,
    config_path: Path | None,
    data: Path | None,
    headless: bool,
    explain: bool,
) -> None:
    """Serve a local CIS2 on loopback for development and tests.

    \b
    Examples:
      cis2 simulator --port 9000 --explain
      cis2 simulator rotate-keys --data .cis2
    """
    if ctx.invoked_subcommand is not None:
        ctx.obj = {"data": data, "config": config_path}
        return
    from cis2 import simulator as sim

    overrides: dict[str, object] = {
        "host": host,
        "headless": headless,
        "explain": explain,
    }
    if port is not None:
        overrides["port"] = port
    if data is not None:
        overrides["data_dir"] = data
    if config_path is not None:
        config = sim.SimulatorConfig.load(config_path, **overrides)
    else:
        config = sim.SimulatorConfig.default(**overrides)
    sim.serve(config)


@simulator.command("rotate-keys")
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    help="The simulator's state folder.",
)
@click.pass_context
def rotate_keys(ctx: click.Context, data: Path | None) -> None:
    """Make a new signing key for the simulator, keeping the old one published.

    \b
    Example:
      cis2 simulator rotate-keys --data .cis2
    """
    from cis2 import simulator as sim

    folder = data or (ctx.obj or {}).get("data") or Path(".cis2")
    result = sim.rotate_keys(folder)
    click.echo(f"Rotated the simulator's keys in {folder}: {result}")
