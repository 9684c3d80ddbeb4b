"""The ``pixserve`` command loads a subcommand's module only when that subcommand runs."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from pixserve.cli.main import COMMANDS, cli


def test_help_lists_every_command_in_order() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    lines = result.output.split("Commands:")[1].strip().splitlines()
    assert [line.split()[0] for line in lines] == list(COMMANDS)


def test_an_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["serv"])
    assert result.exit_code == 2
    assert "No such command 'serv'" in result.output


def test_the_server_does_not_hold_other_commands_modules() -> None:
    # `pixserve serve` is a long-lived process; the benchmark's ONNX parser (~13 MB) and
    # the Turnstile client's HTTP library are not its business.
    code = (
        "import sys, click\n"
        "from pixserve.cli.main import cli\n"
        "cli.get_command(click.Context(cli), 'serve')\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('onnx', 'httpx', 'alembic') or m.startswith('pixserve.cli.'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = done.stdout.split()
    assert loaded == ["pixserve.cli.main", "pixserve.cli.options", "pixserve.cli.serve"]
