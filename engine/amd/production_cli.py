"""`dialer amd review ...` and `dialer amd quality`: AMD measured on a campaign's real calls."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from engine.cli import AppContext, pass_app


@click.group()
def review() -> None:
    """Kept audio of machine-dropped calls: list, play, label."""


@review.command("list")
@click.option("--campaign", "campaign_id", type=int, help="Only this campaign.")
@click.option("--all", "show_all", is_flag=True, help="Labelled samples too.")
@pass_app
def review_list(app: AppContext, campaign_id: int | None, show_all: bool) -> None:
    """Samples waiting for a label (id, campaign, attempt, reason, label, audio)."""
    from engine.amd.review import reviews

    with app.sessionmaker() as session:
        rows = reviews(session, campaign_id, pending_only=not show_all)
        for row in rows:
            click.echo(f"{row.id}\t{row.campaign_id}\t{row.attempt_id}\t{row.amd_reason}\t"
                       f"{row.label or '-'}\t{row.audio_path}")
    if not rows:
        click.echo("no samples", err=True)


@review.command("play")
@click.argument("review_id", type=int)
@pass_app
def review_play(app: AppContext, review_id: int) -> None:
    """Print the WAV path of a sample (for a player: `play $(dialer amd review play 7)`)."""
    from engine.amd.review import ReviewError, get_review

    with app.sessionmaker() as session:
        try:
            click.echo(get_review(session, review_id).audio_path)
        except ReviewError as exc:
            raise click.ClickException(str(exc)) from exc


@review.command("label")
@click.argument("review_id", type=int)
@click.argument("label", type=click.Choice(["human", "machine"]))
@click.option("--reviewer", help="Who listened.")
@pass_app
def review_label(app: AppContext, review_id: int, label: str, reviewer: str | None) -> None:
    """Store what the sample really was."""
    from engine.amd.review import ReviewError, label_review
    from engine.store.db import transaction

    try:
        with transaction(app.sessionmaker) as session:
            label_review(session, review_id, label, reviewer=reviewer,
                         now=datetime.now(UTC))
    except ReviewError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"review {review_id}: {label}")


@click.command("quality")
@click.option("--campaign", "campaign_id", type=int, required=True)
@click.option("--since", help="Only attempts created since (UTC date or date-time).")
@pass_app
def quality(app: AppContext, campaign_id: int, since: str | None) -> None:
    """The campaign's production confusion matrix and humans dropped as machines."""
    from engine.amd.quality import campaign_quality, report
    from engine.amd.review import ReviewError
    from engine.exchange.cli import _parse_since  # the same --since as `dialer export`
    from engine.store.models import Campaign

    start = _parse_since(since)
    with app.sessionmaker() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise click.ClickException(f"campaign {campaign_id} does not exist")
        try:
            result = campaign_quality(session, campaign, start)
        except ReviewError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"campaign {campaign_id} ({campaign.name})"
               + (f" since {start:%Y-%m-%d %H:%M} UTC" if start else ""))
    click.echo(report(result))

