"""The `dialer` command: thin click wrappers that parse, call one function and print."""

from __future__ import annotations

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


@click.group()
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


# --- subcommands from the feature packages (one import and one add_command line each) ---
