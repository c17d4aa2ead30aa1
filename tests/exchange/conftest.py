"""Fixtures for list exchange tests: a tenant with a campaign and list, CSV writing, imports."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import ManualClock
from engine.exchange.importer import Importer, ImportSummary
from engine.exchange.mapping import Mapping
from engine.store.models import Campaign, Contact, ContactList, Tenant

from ..factories import Factory


class Target:
    """A committed tenant, campaign and contact list to import into."""

    def __init__(self, tenant: Tenant, campaign: Campaign, contact_list: ContactList) -> None:
        self.tenant_id = tenant.id
        self.campaign_id = campaign.id
        self.list_id = contact_list.id


@pytest.fixture
def target(factory: Factory, session: Session) -> Target:
    tenant = factory.tenant(name="acme")
    campaign = factory.campaign(tenant, name="collections")
    contact_list = factory.contact_list(campaign, name="november")
    session.commit()
    return Target(tenant, campaign, contact_list)


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """Write text (or bytes) to a file in tmp_path and return its path."""

    def write(text: str | bytes, name: str = "contacts.csv", encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        data = text if isinstance(text, bytes) else text.encode(encoding)
        path.write_bytes(data)
        return path

    return write


class ImportRun:
    """Runs the importer and collects its rejects."""

    def __init__(self, factory: sessionmaker[Session], target: Target,
                 clock: ManualClock) -> None:
        self.factory = factory
        self.target = target
        self.clock = clock
        self.rejects: list[tuple[int, str, list[str]]] = []
        self.importer: Importer | None = None

    def __call__(self, path: Path, mapping: Mapping | None = None,
                 progress: Callable[[int], None] = lambda position: None,
                 **options: Any) -> ImportSummary:
        self.rejects = []
        self.importer = Importer(self.factory, path, tenant_id=self.target.tenant_id,
                                 list_id=self.target.list_id, mapping=mapping or Mapping(),
                                 region=options.pop("region", "RU"), clock=self.clock, **options)
        return self.importer.run(lambda line, reason, cells: self.rejects.append(
            (line, reason, cells)), on_progress=progress)

    def reasons(self) -> dict[int, str]:
        return {line: reason for line, reason, _ in self.rejects}

    def contacts(self) -> dict[str, Contact]:
        """The list's contacts by external id, with phones loaded, from a fresh session."""
        with self.factory() as session:
            contacts = session.scalars(select(Contact).where(
                Contact.list_id == self.target.list_id)).all()
            for contact in contacts:
                contact.phones  # noqa: B018 (load before the session closes)
            return {contact.external_id: contact for contact in contacts}


@pytest.fixture
def run_import(sessionmaker_: sessionmaker[Session], target: Target,
               clock: ManualClock) -> ImportRun:
    return ImportRun(sessionmaker_, target, clock)
