"""``cis2 completion``: the shell completion script for bash, zsh or fish."""

from __future__ import annotations

import click

__all__ = ["completion"]


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL.

    \b
    Examples:
      eval "$(cis2 completion bash)"        # in ~/.bashrc
      cis2 completion fish > ~/.config/fish/completions/cis2.fish
    """
    from click.shell_completion import get_completion_class

    root = ctx.find_root().command
    completer = get_completion_class(shell)
    if completer is None:  # click.Choice has already refused other shells.
        raise click.UsageError(f"No completion for {shell}.")
    click.echo(completer(root, {}, "cis2", "_CIS2_COMPLETE").source())
