"""``dialer demo``: seed, import and explain the demo list, then run it against the simulator."""

from __future__ import annotations

import signal
from datetime import datetime
from typing import TYPE_CHECKING

import click
import gevent
import gevent.event

from engine.cli import AppContext, pass_app
from engine.clock import Clock, SystemClock

from .seed import (
    CAMPAIGN_NAME,
    CONTACTS_CSV,
    PASSWORD,
    SIMULATED_EXTENSIONS,
    DemoSeed,
    import_contacts,
    seed_demo,
)

if TYPE_CHECKING:
    from .run import DemoServices

PROGRESS_EVERY_S = 10.0


@click.command("demo")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port of the admin web on 127.0.0.1 (0: any free port).")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Stop after this many seconds (default: run until Ctrl-C).")
@click.option("--anytime", is_flag=True,
              help="DEMO ONLY: open the demo campaign's calling window 00:00-24:00 so a trial "
                   "at night still shows calls. Never do this to a real campaign.")
@click.option("--sim-time-scale", default=1.0, show_default=True,
              type=click.FloatRange(min=0.001, max=10),
              help="Multiply the simulated callees' durations (0.1: ten times faster).")
@click.option("--sim-seed", type=int, default=None, help="Seed of the simulated world.")
@pass_app
def demo(app: AppContext, port: int, duration: float | None, anytime: bool,
         sim_time_scale: float, sim_seed: int | None) -> None:
    """Try the dialer on the embedded defaults: a demo campaign, list and agents, the switch
    simulator, the engine and the admin web (SQLite under the data dir). Safe to run again:
    nothing is duplicated."""
    from engine.store.migrate import upgrade

    clock = SystemClock()
    app.settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(app.settings.database_url, "head")
    seed = _prepare(app, clock, anytime)
    _run(app, seed, clock, port=port, duration=duration, time_scale=sim_time_scale,
         sim_seed=sim_seed)


def _prepare(app: AppContext, clock: Clock, anytime: bool) -> DemoSeed:
    """Seed, import and print the dialing plan."""
    from engine.store.db import transaction
    from engine.store.models import Campaign

    from .report import dialing_plan, format_plan, idle_note

    with transaction(app.sessionmaker) as session:
        seed = seed_demo(session, clock, anytime=anytime)
    window = "00:00-24:00 (--anytime, demo only)" if anytime else "the preset's windows"
    click.echo(f"campaign: {CAMPAIGN_NAME!r} (progressive, strategy ru_collection, {window})")
    click.echo("logins: " + ", ".join(f"{name} ({role.value})" for name, role in seed.users)
               + f", password {PASSWORD}")
    rejects = app.settings.data_dir / "demo" / "rejects.csv"
    summary = import_contacts(app.sessionmaker, seed, app.settings.default_region, rejects, clock)
    click.echo(f"import {CONTACTS_CSV.name}: {summary.line()}")
    if summary.rejected:
        click.echo(f"reject report ({summary.rejected} rows, line and reason): {rejects}")
    click.echo("")
    with app.sessionmaker() as session:
        rows = dialing_plan(session, session.get_one(Campaign, seed.campaign_id), clock.now())
    click.echo(format_plan(rows))
    note = idle_note(rows)
    if note:
        click.echo(f"\n{note}")
    click.echo("")
    return seed


def _run(app: AppContext, seed: DemoSeed, clock: Clock, *, port: int,
         duration: float | None, time_scale: float, sim_seed: int | None) -> None:
    from .report import format_counts, outcome_counts
    from .run import DemoServices

    services = DemoServices(app.settings, app.sessionmaker, seed, clock, admin_port=port,
                            time_scale=time_scale, sim_seed=sim_seed)
    started = clock.now()
    try:
        services.start()
    except OSError as exc:
        services.stop()
        raise click.ClickException(
            f"cannot listen: {exc} (admin port {port}, control API port "
            f"{app.settings.api_port}); pick others with --port and DIALER_API_PORT") from exc
    stop = gevent.event.Event()
    handlers = [gevent.signal_handler(signum, stop.set)
                for signum in (signal.SIGINT, signal.SIGTERM)]
    try:
        click.echo(f"admin:   {services.admin_url}  (login demo-admin, or demo-agent for the "
                   "agent seat)")
        if services.api_url:
            click.echo(f"control API: {services.api_url}  (Authorization: Bearer "
                       f"{services.api_token})")
        click.echo(f"engine: {len(seed.agent_ids)} simulated agents (extensions "
                   f"{', '.join(SIMULATED_EXTENSIONS)}) join campaign {seed.campaign_id}; "
                   + (f"stopping after {duration:g} s" if duration else "Ctrl-C stops"))
        _wait(app, services, seed.campaign_id, started, stop, duration, clock)
    finally:
        click.echo("stopping: pausing the demo campaign and hanging up its calls")
        services.stop()
        for handler in handlers:
            handler.cancel()
    with app.sessionmaker() as session:
        this_run = outcome_counts(session, seed.campaign_id, since=started)
        overall = outcome_counts(session, seed.campaign_id)
    click.echo(f"this run: {format_counts(this_run)}")
    click.echo(f"campaign total: {format_counts(overall)}")


def _wait(app: AppContext, services: DemoServices, campaign_id: int,
          started: datetime, stop: gevent.event.Event, duration: float | None,
          clock: Clock) -> None:
    """Until ``stop`` or the duration is over, printing a progress line now and then."""
    from .report import format_counts, outcome_counts

    deadline = None if duration is None else clock.monotonic() + duration
    while True:
        left = None if deadline is None else deadline - clock.monotonic()
        if left is not None and left <= 0:
            return
        if stop.wait(PROGRESS_EVERY_S if left is None else min(left, PROGRESS_EVERY_S)):
            return
        with app.sessionmaker() as session:
            counts = outcome_counts(session, campaign_id, since=started)
        calls, ready = services.live()
        elapsed = (clock.now() - started).total_seconds()
        click.echo(f"[{elapsed:5.0f}s] {format_counts(counts)} | live calls {calls}, "
                   f"agents ready {ready}")
