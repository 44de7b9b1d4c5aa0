"""The command line as a whole: help, version, completion, errors, settings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from cis2 import __version__
from cis2.cli._app import cli

from .conftest import Runner


def _all_commands(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in sorted(group.commands.items()):
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found += _all_commands(command, (*prefix, name))
    return found


@pytest.mark.parametrize("path", _all_commands(cli), ids=" ".join)
def test_every_command_has_help_with_an_example(
    run: Runner, path: tuple[str, ...]
) -> None:
    result = run(*path, "--help")

    assert result.code == 0, result.err
    assert result.out.count("cis2 ") >= 2  # the usage line and an example
    assert "Usage: cis2 " + " ".join(path) in result.out
    assert "Example" in result.out


def test_version(run: Runner) -> None:
    result = run("--version")

    assert result.code == 0
    assert result.out.strip() == f"cis2, version {__version__}"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_name_the_completion_variable(
    run: Runner, shell: str
) -> None:
    result = run("completion", shell)

    assert result.code == 0
    assert "_CIS2_COMPLETE" in result.out


def test_completion_completes_subcommands(run_process: Runner) -> None:
    result = run_process(
        env={
            "_CIS2_COMPLETE": "bash_complete",
            "COMP_WORDS": "cis2 ke",
            "COMP_CWORD": "1",
        }
    )

    assert result.code == 0
    assert "plain,keys" in result.out


def test_a_usage_error_exits_2(run: Runner) -> None:
    result = run("keys", "new", "--no-such-option")

    assert result.code == 2
    assert "No such option" in result.err
    assert "Traceback" not in result.err


def test_an_operational_error_is_one_line_on_stderr_and_exits_1(run: Runner) -> None:
    result = run("keys", "show", "absent.pem")

    assert result.code == 1
    assert result.out == ""
    assert result.err.startswith("Error: No key file at absent.pem")
    assert len(result.err.splitlines()) == 1


def test_debug_shows_the_traceback(run: Runner) -> None:
    result = run("--debug", "keys", "show", "absent.pem")

    assert result.code == 1
    assert "Traceback (most recent call last)" in result.err
    assert result.err.rstrip().endswith("'cis2 keys new --out FILE'.")


def test_config_masks_secrets_and_names_each_source(
    run: Runner, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workdir / "cis2.toml").write_text(
        'client_id = "file-id"\nscope = "openid email"\n'
    )
    monkeypatch.setenv("CIS2_CLIENT_SECRET", "s3cret-value")
    monkeypatch.setenv("CIS2_SCOPE", "openid profile")

    result = run("config", "--json")

    settings = json.loads(result.out)
    assert settings["client_id"] == {"value": "file-id", "source": "cis2.toml"}
    assert settings["scope"] == {"value": "openid profile", "source": "CIS2_SCOPE"}
    assert settings["client_secret"] == {
        "value": "********",
        "source": "CIS2_CLIENT_SECRET",
    }
    assert settings["alg"] == {"value": "RS512", "source": "default"}
    assert settings["login_file"]["value"] == str(
        workdir / "config" / "cis2" / "login.json"
    )
    assert "s3cret-value" not in run("config").out


def test_a_misspelt_setting_in_cis2_toml_is_named(run: Runner, workdir: Path) -> None:
    (workdir / "cis2.toml").write_text('clientid = "x"\n')

    result = run("config")

    assert result.code == 1
    assert "'clientid' is not a cis2 setting" in result.err


def test_broken_toml_says_which_file(run: Runner, workdir: Path) -> None:
    (workdir / "cis2.toml").write_text("client_id = \n")

    result = run("config")

    assert result.code == 1
    assert "cis2.toml is not valid TOML" in result.err


def test_cli_import_stays_off_the_web_stack_the_simulator_and_the_doctor() -> None:
    """What cis2.cli adds on top of the cis2 package itself at startup."""
    probe = (
        "import sys; import cis2; before = set(sys.modules); "
        "import cis2.cli._app; "
        "print('\\n'.join(sorted(set(sys.modules) - before)))"
    )
    added = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()

    heavy = (
        "httpx",
        "starlette",
        "uvicorn",
        "jinja2",
        "rich",
        "cis2.simulator",
        "cis2.doctor",
    )
    assert [m for m in added if m.startswith(heavy)] == []


def test_the_console_script_runs(run_process: Runner) -> None:
    result = run_process("--help")

    assert result.code == 0
    assert "cis2 demo" in result.out
