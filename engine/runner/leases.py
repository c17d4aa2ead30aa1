"""Campaign leases: exactly one engine runs each running campaign when engines share a database.

Every watch period an engine renews a lease (``campaign_leases``: campaign, engine
``node_id``, expiry ``ttl`` ahead) on each running campaign it may run, and runs only the
campaigns whose lease it holds. A lease that has expired (its engine stopped, died or lost the
database for longer than ``ttl``) is taken by whichever engine asks next, so a dead engine's
campaigns move to another within ``ttl``. Taking is one conditional UPDATE (or an INSERT that
a concurrent INSERT makes fail on the primary key), atomic on SQLite and PostgreSQL: two
engines never both hold one campaign. An engine restarted under its ``node_id`` finds its
leases its own at once. Engines sharing a database need clocks that agree well within ``ttl``.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.store.models import CampaignLease


def hold(session: Session, engine: str, campaign_ids: Collection[int], now: datetime,
         ttl_s: float) -> dict[int, str]:
    """Take or renew ``engine``'s leases on ``campaign_ids``; returns each campaign's holder
    (``engine`` where it holds the lease now)."""
    if not campaign_ids:
        return {}
    lease = CampaignLease
    expires = now + timedelta(seconds=ttl_s)
    session.execute(update(lease)
                    .where(lease.campaign_id.in_(campaign_ids),
                           or_(lease.engine == engine, lease.expires_at < now))
                    .values(engine=engine, expires_at=expires)
                    .execution_options(synchronize_session=False))
    holders = {campaign_id: holder for campaign_id, holder in session.execute(
        select(lease.campaign_id, lease.engine).where(lease.campaign_id.in_(campaign_ids)))}
    for campaign_id in set(campaign_ids) - set(holders):
        try:
            with session.begin_nested():
                session.add(CampaignLease(campaign_id=campaign_id, engine=engine,
                                          expires_at=expires))
            holders[campaign_id] = engine
        except IntegrityError:  # another engine inserted it first
            holders[campaign_id] = session.scalars(select(lease.engine).where(
                lease.campaign_id == campaign_id)).one()
    return holders


class CampaignElsewhere(ValueError):
    """The campaign runs on another engine (it holds the campaign's lease)."""


def holder(session: Session, campaign_id: int, now: datetime) -> str | None:
    """The engine holding an unexpired lease on the campaign (None: no engine does)."""
    return session.scalars(select(CampaignLease.engine).where(
        CampaignLease.campaign_id == campaign_id, CampaignLease.expires_at >= now)).first()


def release(session: Session, engine: str, keep: Collection[int] = ()) -> None:
    """Give up ``engine``'s leases, except those on ``keep``."""
    session.execute(delete(CampaignLease).where(CampaignLease.engine == engine,
                                                CampaignLease.campaign_id.not_in(keep)))
