"""The `dialer` group: every feature command resolves, and the database can be upgraded."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from engine.cli import LAZY_COMMANDS, main
from engine.store.migrate import current_revision, head_revision


@pytest.mark.parametrize("name", sorted(LAZY_COMMANDS))
def test_lazy_command_resolves_to_itself(name: str) -> None:
    command = main.get_command(click.Context(main), name)
    assert isinstance(command, click.Command)
    assert command.name == name


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in [*LAZY_COMMANDS, "db"]:
        assert f"  {name} " in result.output


def test_db_upgrade_from_environment(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, ["db", "upgrade"], env={"DIALER_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    url = f"sqlite:///{tmp_path / 'dialer.sqlite3'}"
    assert current_revision(url) == head_revision()
    assert f"database at revision {head_revision()}" in result.output


def test_bad_config_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "dialer.toml"
    config.write_text("api_port = 'x'")
    result = CliRunner().invoke(main, ["--config", str(config), "db", "upgrade"])
    assert result.exit_code == 1
    assert "api_port must be an integer" in result.output
