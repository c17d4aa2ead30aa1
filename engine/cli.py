"""The `dialer` command: thin click wrappers that parse, call one function and print."""

from __future__ import annotations

import importlib
import logging
import sys

import click

from engine.config import ConfigError, Settings, load_settings


class AppContext:
    """Settings loaded once per invocation, plus lazily made database handles."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._sessionmaker = None

    @property
    def sessionmaker(self):  # type: ignore[no-untyped-def]
        from engine.store.db import make_engine, make_sessionmaker

        if self._sessionmaker is None:
            self._sessionmaker = make_sessionmaker(make_engine(self.settings.database_url))
        return self._sessionmaker


pass_app = click.make_pass_decorator(AppContext)

# Feature packages' commands, imported only when used so a cron job's `dialer import` does not
# pay for loading the admin, the simulator or librosa.
LAZY_COMMANDS = {
    "admin": "admin.cli:admin",
    "agent": "engine.api.cli:agent",
    "amd": "engine.amd.cli:amd",
    "bench": "engine.bench.cli:bench",
    "demo": "engine.demo.cli:demo",
    "explain": "engine.strategy.cli:explain",
    "export": "engine.exchange.cli:export_group",
    "import": "engine.exchange.cli:import_command",
    "numbering-plan": "engine.numbering.cli:numbering_plan",
    "recordings": "engine.runner.cli:recordings",
    "run": "engine.runner.cli:run",
    "simulate-switch": "engine.sim.cli:simulate_switch",
}


class LazyGroup(click.Group):
    """A group whose subcommands named in ``LAZY_COMMANDS`` are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS:
            module, attribute = LAZY_COMMANDS[cmd_name].split(":")
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="TOML settings file (default: $DIALER_CONFIG or ./dialer.toml).")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """Outbound dialer for FreeSWITCH."""
    try:
        settings = load_settings(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    logging.basicConfig(
        level=settings.log_level.upper(), stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its INFO lines are noise here
    ctx.obj = AppContext(settings)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@pass_app
def db_upgrade(app: AppContext, revision: str) -> None:
    """Bring the database to the newest schema (or REVISION)."""
    from engine.store.migrate import current_revision, upgrade

    upgrade(app.settings.database_url, revision)
    click.echo(f"database at revision {current_revision(app.settings.database_url)}")
