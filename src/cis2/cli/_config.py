"""``cis2 config``: the merged settings and where each one came from."""

from __future__ import annotations

import json

import click

from cis2.cli._settings import CONFIG_FILE, Settings

__all__ = ["config"]


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
def config(as_json: bool) -> None:
    """Show the settings the commands would use, with secrets masked.

    Each value comes from the first of: a flag, a CIS2_* environment
    variable, the cis2.toml in the working folder, the built-in default.

    \b
    Example:
      CIS2_CLIENT_ID=999999999999.apps.national cis2 config
    """
    settings = Settings()
    rows = settings.all()
    if as_json:
        document = {
            r.setting.name: {"value": r.shown() or None, "source": r.source}
            for r in rows
        }
        click.echo(json.dumps(document, indent=2))
        return
    found = "read" if settings.config_path.is_file() else "none there"
    click.echo(f"{CONFIG_FILE}: {settings.config_path} ({found})")
    width = max(len(r.setting.name) for r in rows) + 2
    for row in rows:
        click.echo(f"{row.setting.name:{width}}{row.shown() or '-':50} {row.source}")
