"""``dialer run`` and ``dialer recordings purge``."""

from __future__ import annotations

import click

from engine.cli import AppContext, pass_app


def _login_pair(_ctx: click.Context, _param: click.Parameter,
                values: tuple[str, ...]) -> list[tuple[int, int]]:
    pairs = []
    for value in values:
        agent, sep, campaign = value.partition(":")
        if not sep or not agent.isdigit() or not campaign.isdigit():
            raise click.BadParameter(f"{value!r} must be AGENT_ID:CAMPAIGN_ID")
        pairs.append((int(agent), int(campaign)))
    return pairs


@click.command("run")
@click.option("--login", "logins", multiple=True, callback=_login_pair, metavar="AGENT:CAMPAIGN",
              help="Log an agent in to a campaign at start (repeatable).")
@click.option("--sim-seed", type=int, default=None,
              help="Seed of the built-in simulator (used when no switch is configured).")
@pass_app
def run(app: AppContext, logins: list[tuple[int, int]], sim_seed: int | None) -> None:
    """Run the dialer: connect to the switches and dial the running campaigns."""
    from engine.daemon import Daemon

    Daemon(app.settings, app.sessionmaker, logins=logins, simulator_seed=sim_seed).run_forever()


@click.group("recordings")
def recordings() -> None:
    """Call recordings."""


@recordings.command("purge")
@click.option("--older-than", "days", type=click.IntRange(min=0), required=True, metavar="DAYS",
              help="Delete recordings from days more than DAYS ago (UTC dates).")
@pass_app
def purge(app: AppContext, days: int) -> None:
    """Delete old recordings and clear their paths on the attempts."""
    from engine.clock import SystemClock
    from engine.recording import purge as purge_recordings
    from engine.store.db import transaction

    with transaction(app.sessionmaker) as session:
        removed = purge_recordings(app.settings.recordings_dir, days,
                                   SystemClock().now().date(), session)
    for directory in removed:
        click.echo(f"removed {directory}")
    click.echo(f"{len(removed)} day folder(s) removed")
