"""Finds the tenant, campaign and contact list an import or export is about."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.store.models import Campaign, ContactList, Tenant


class TargetError(ValueError):
    """A named tenant, campaign or list does not exist or does not fit."""


def resolve_tenant(session: Session, name: str | None) -> Tenant:
    """The tenant by name; without a name, the only tenant there is."""
    if name is not None:
        tenant = session.scalar(select(Tenant).where(Tenant.name == name))
        if tenant is None:
            raise TargetError(f"no tenant named {name!r}")
        return tenant
    count = session.scalar(select(func.count()).select_from(Tenant))
    if count != 1:
        raise TargetError(f"there are {count} tenants: name one with --tenant")
    return session.scalars(select(Tenant)).one()


def resolve_campaign(session: Session, tenant: Tenant, ref: str) -> Campaign:
    """A campaign of the tenant by id (digits) or by name."""
    query = select(Campaign).where(Campaign.tenant_id == tenant.id)
    query = query.where(Campaign.id == int(ref)) if ref.isdigit() else query.where(
        Campaign.name == ref)
    campaign = session.scalar(query)
    if campaign is None:
        raise TargetError(f"tenant {tenant.name!r} has no campaign {ref!r}")
    return campaign


def ensure_list(session: Session, tenant: Tenant, name: str, campaign: Campaign | None,
                clock: Clock) -> ContactList:
    """The tenant's list of that name, created (and linked to the campaign) when missing."""
    contact_list = session.scalar(select(ContactList).where(
        ContactList.tenant_id == tenant.id, ContactList.name == name))
    if contact_list is None:
        contact_list = ContactList(tenant_id=tenant.id, name=name, created_at=clock.now(),
                                   campaign_id=campaign.id if campaign else None)
        session.add(contact_list)
    elif campaign is not None and contact_list.campaign_id not in (None, campaign.id):
        raise TargetError(f"list {name!r} belongs to another campaign "
                          f"(id {contact_list.campaign_id}), not {campaign.name!r}")
    elif campaign is not None:
        contact_list.campaign_id = campaign.id
    session.flush()
    return contact_list
