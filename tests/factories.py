"""Small builders for test data; each returns a flushed ORM object."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.store.models import (
    Agent,
    Campaign,
    Contact,
    ContactList,
    DialMode,
    Phone,
    PhoneType,
    Tenant,
)


class Factory:
    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock
        self._seq = 0

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def _add(self, obj: Any) -> Any:
        self.session.add(obj)
        self.session.flush()
        return obj

    def tenant(self, **kw: Any) -> Tenant:
        kw.setdefault("name", f"tenant-{self._next()}")
        kw.setdefault("created_at", self.clock.now())
        return self._add(Tenant(**kw))

    def campaign(self, tenant: Tenant | None = None, **kw: Any) -> Campaign:
        tenant = tenant or self.tenant()
        now = self.clock.now()
        kw.setdefault("name", f"campaign-{self._next()}")
        kw.setdefault("mode", DialMode.PROGRESSIVE)
        return self._add(Campaign(tenant_id=tenant.id, created_at=now, updated_at=now, **kw))

    def contact_list(self, campaign: Campaign, **kw: Any) -> ContactList:
        kw.setdefault("name", f"list-{self._next()}")
        return self._add(ContactList(tenant_id=campaign.tenant_id, campaign_id=campaign.id,
                                     created_at=self.clock.now(), **kw))

    def contact(self, contact_list: ContactList, phones: list[str] | None = None,
                **kw: Any) -> Contact:
        now = self.clock.now()
        kw.setdefault("external_id", f"ext-{self._next()}")
        contact = Contact(tenant_id=contact_list.tenant_id, list_id=contact_list.id,
                          created_at=now, updated_at=now, **kw)
        for index, number in enumerate(phones or ["+79161234567"]):
            contact.phones.append(Phone(number=number, phone_type=PhoneType.MOBILE, priority=index))
        return self._add(contact)

    def agent(self, tenant: Tenant, **kw: Any) -> Agent:
        n = self._next()
        kw.setdefault("name", f"agent-{n}")
        kw.setdefault("dial_string", f"user/{1000 + n}@dialer.local")
        return self._add(Agent(tenant_id=tenant.id, **kw))
