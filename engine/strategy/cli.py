"""``dialer explain CONTACT``: why a contact is or is not dialable now, phone by phone."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.cli import AppContext, pass_app
from engine.clock import SystemClock
from engine.store.models import Campaign, Contact, ContactList

from .config import StrategyError
from .explain import explain as explain_text

EXIT_DIALABLE, EXIT_NOT_DIALABLE, EXIT_NOT_FOUND = 0, 1, 2


class NotFound(LookupError):
    """The contact or campaign named on the command line does not exist (or is ambiguous)."""


def find_campaign(session: Session, ref: str) -> Campaign:
    found = session.scalars(select(Campaign).where(
        (Campaign.id == int(ref)) if ref.isdigit() else (Campaign.name == ref))).all()
    if len(found) != 1:
        raise NotFound(f"campaign {ref!r}: " + ("not found" if not found else
                                                  f"{len(found)} campaigns have this name"))
    return found[0]


def find_contact(session: Session, ref: str, campaign: Campaign | None) -> Contact:
    """By id, else by external id (within the campaign's lists when a campaign is given)."""
    stmt = select(Contact).where(Contact.external_id == ref)
    if campaign is not None:
        stmt = stmt.join(ContactList, ContactList.id == Contact.list_id).where(
            ContactList.campaign_id == campaign.id)
    found = list(session.scalars(stmt))
    if not found and ref.isdigit() and (by_id := session.get(Contact, int(ref))) is not None:
        found = [by_id]
    if len(found) != 1:
        raise NotFound(f"contact {ref!r}: " + ("not found" if not found else
                                                 f"{len(found)} contacts match; give --campaign"))
    return found[0]


def parse_at(value: str | None) -> datetime:
    if value is None:
        return SystemClock().now()
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO date-time") from exc
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)


@click.command("explain")
@click.argument("contact_ref", metavar="CONTACT")
@click.option("--campaign", "campaign_ref",
              help="Campaign id or name (default: the campaign of the contact's list).")
@click.option("--at", "at_text", help="Decide at this ISO time instead of now (naive = UTC).")
@pass_app
def explain(app: AppContext, contact_ref: str, campaign_ref: str | None,
            at_text: str | None) -> None:
    """Tell why CONTACT (id or external id) is or is not dialable now.

    Exit status: 0 dialable now, 1 not dialable, 2 contact or campaign not found.
    """
    from engine.store.queries import load_decisions, strategy_of

    at = parse_at(at_text)
    with app.sessionmaker() as session:
        try:
            campaign = find_campaign(session, campaign_ref) if campaign_ref else None
            contact = find_contact(session, contact_ref, campaign)
            if campaign is None:
                contact_list = session.get(ContactList, contact.list_id)
                if contact_list is None or contact_list.campaign_id is None:
                    raise NotFound(f"contact {contact_ref!r}: its list has no campaign; "
                                   "give --campaign")
                campaign = session.get_one(Campaign, contact_list.campaign_id)
            config = strategy_of(campaign)
        except NotFound as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_NOT_FOUND)
        except StrategyError as exc:
            raise click.ClickException(f"campaign {campaign.name!r}: {exc}") from exc
        decision, = load_decisions(session, campaign, [contact.id], at, config)
    click.echo(f"campaign #{campaign.id} {campaign.name!r}, contact external id "
               f"{contact.external_id!r}, {contact.name or 'no name'}")
    click.echo(explain_text(decision, config))
    sys.exit(EXIT_DIALABLE if decision.dialable else EXIT_NOT_DIALABLE)
