"""Seed data for tests and the demo: a tenant, its users, statuses and worked-on leads."""

from __future__ import annotations

import math
import random
import struct
import wave
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from engine.clock import Clock
from engine.store.models import (
    Agent,
    AgentStateLog,
    AttemptState,
    CallAttempt,
    Campaign,
    Contact,
    ContactList,
    DialMode,
    LeadStatusChange,
    Outcome,
    Phone,
    PhoneType,
    Role,
    Team,
    Tenant,
    User,
)

from engine.leads import ensure_default_statuses


def create_user(session: Session, clock: Clock, tenant: Tenant, username: str, password: str,
                role: Role, locale: str = "ru", hash_method: str = "scrypt") -> User:
    """A user with a salted password hash (scrypt; tests may pick a cheaper ``hash_method``)."""
    if len(password) < 8:
        raise ValueError(f"password for {username!r} must have at least 8 characters")
    user = User(tenant_id=tenant.id, username=username, role=role, locale=locale,
                password_hash=generate_password_hash(password, method=hash_method),
                created_at=clock.now())
    session.add(user)
    session.flush()
    return user


def seed_tenant(session: Session, clock: Clock, name: str, passwords: dict[Role, str],
                *, mask_numbers: bool = False, prefix: str = "",
                hash_method: str = "scrypt") -> Tenant:
    """A tenant with one user per role in ``passwords`` (named ``{prefix}{role}``)."""
    tenant = Tenant(name=name, mask_numbers=mask_numbers, created_at=clock.now())
    session.add(tenant)
    session.flush()
    for role, password in passwords.items():
        user = create_user(session, clock, tenant, f"{prefix}{role.value}", password, role,
                           hash_method=hash_method)
        if role is Role.AGENT:
            session.add(Agent(tenant_id=tenant.id, user_id=user.id, name=user.username,
                              dial_string=f"user/{user.username}@dialer.local"))
    ensure_default_statuses(session)
    session.flush()
    return tenant


@dataclass
class DemoData:
    campaign: Campaign
    contact_list: ContactList
    agents: list[Agent]
    contacts: list[Contact] = field(default_factory=list)


# Where a worked lead ends up, with weights: most stay in progress, a few succeed.
_PATHS = (
    (("assigned",), 30),
    (("assigned", "no_answer"), 20),
    (("assigned", "no_answer", "not_reached"), 8),
    (("assigned", "callback"), 8),
    (("assigned", "refused"), 12),
    (("assigned", "wrong_number"), 8),
    (("assigned", "interested"), 6),
    (("assigned", "interested", "client_interested"), 4),
)


def write_tone_wav(path: Path, seconds: float = 1.5, rate: int = 8000) -> Path:
    """A small stereo WAV (agent left, customer right) standing in for a call recording."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = bytearray()
        for i in range(int(seconds * rate)):
            left = int(8000 * math.sin(2 * math.pi * 440 * i / rate))
            right = int(6000 * math.sin(2 * math.pi * 660 * i / rate))
            frames += struct.pack("<hh", left, right)
        out.writeframes(bytes(frames))
    return path


def seed_demo_leads(session: Session, clock: Clock, tenant: Tenant, *, contacts: int = 120,
                    agents: int = 3, recordings_dir: Path | None = None,
                    seed: int = 7) -> DemoData:
    """A campaign with a list of leads worked by agents: history, calls, recordings, states.

    Recordings are one generated WAV in ``recordings_dir``, stored by its relative name.

    Some agents set statuses without calling (``attempt_id`` empty), as the statistics page's
    honesty check must reveal. Deterministic for a given ``seed``.
    """
    rng = random.Random(seed)
    now = clock.now()
    campaign = Campaign(tenant_id=tenant.id, name=f"Demo campaign {tenant.id}",
                        mode=DialMode.PROGRESSIVE, caller_id_number="+74950000000",
                        pacing={"abandon_cap": 0.03}, created_at=now, updated_at=now)
    session.add(campaign)
    session.flush()
    contact_list = ContactList(tenant_id=tenant.id, campaign_id=campaign.id,
                               name=f"Demo list {tenant.id}", created_at=now)
    team = Team(tenant_id=tenant.id, name=f"Team {tenant.id}")
    session.add_all([contact_list, team])
    session.flush()
    seats = list(session.scalars(select(Agent).where(Agent.tenant_id == tenant.id)))
    for n in range(len(seats), agents):
        seats.append(Agent(tenant_id=tenant.id, name=f"Agent {n + 1}",
                           dial_string=f"user/{1001 + n}@dialer.local"))
    for seat in seats:
        seat.team_id = team.id
    session.add_all(seats)
    session.flush()
    recording = None
    if recordings_dir is not None:
        recording = write_tone_wav(recordings_dir / f"demo-{tenant.id}.wav")
    data = DemoData(campaign, contact_list, seats)
    paths, weights = zip(*_PATHS)
    for n in range(contacts):
        agent = seats[n % len(seats)]
        honest = agent is not seats[-1]  # the last agent marks leads without calling
        created = now - timedelta(days=7, minutes=n)
        contact = Contact(tenant_id=tenant.id, list_id=contact_list.id, external_id=f"D{n:05d}",
                          name=f"Client {n + 1}", fields={"city": rng.choice(["Moscow", "Kazan"])},
                          status="new", assigned_agent_id=agent.id, consent=n % 5 == 0,
                          created_at=created, updated_at=created)
        contact.phones.append(Phone(number=f"+7916{1000000 + n:07d}", phone_type=PhoneType.MOBILE))
        session.add(contact)
        session.flush()
        moment = created
        for step in rng.choices(paths, weights)[0]:
            moment += timedelta(hours=rng.randint(1, 20))
            attempt = None
            if step != "assigned" and (honest or rng.random() < 0.3):
                attempt = _demo_attempt(session, campaign, contact, agent, moment, step, recording,
                                        rng)
            session.add(LeadStatusChange(contact_id=contact.id, from_status=contact.status,
                                         to_status=step, changed_at=moment, agent_id=agent.id,
                                         attempt_id=attempt.id if attempt else None))
            contact.status, contact.updated_at = step, moment
        data.contacts.append(contact)
    for seat in seats:
        _demo_agent_day(session, seat, campaign, now - timedelta(days=1), rng)
    session.flush()
    return data


def _demo_attempt(session: Session, campaign: Campaign, contact: Contact, agent: Agent,
                  moment: datetime, step: str, recording: Path | None,
                  rng: random.Random) -> CallAttempt:
    reached = step in ("callback", "interested", "client_interested", "refused")
    outcome = {"no_answer": Outcome.NO_ANSWER, "not_reached": Outcome.NO_ANSWER,
               "wrong_number": Outcome.INVALID_NUMBER}.get(step, Outcome.ANSWERED)
    attempt = CallAttempt(
        tenant_id=contact.tenant_id, campaign_id=campaign.id, contact_id=contact.id,
        phone_id=contact.phones[0].id, number=contact.phones[0].number, agent_id=agent.id,
        mode=campaign.mode.value, call_uuid=str(UUID(int=rng.getrandbits(128), version=4)),
        state=AttemptState.ENDED, outcome=outcome, amd_result="human" if reached else None,
        recording_path=recording.name if reached and recording else None, disposition=step,
        created_at=moment - timedelta(minutes=2), originated_at=moment - timedelta(minutes=2),
        answered_at=moment - timedelta(minutes=1) if reached else None,
        bridged_at=moment - timedelta(minutes=1) if reached else None, ended_at=moment,
    )
    session.add(attempt)
    session.flush()
    contact.attempts += 1
    contact.last_attempt_at = moment
    return attempt


def _demo_agent_day(session: Session, agent: Agent, campaign: Campaign, start: datetime,
                    rng: random.Random) -> None:
    moment = start
    for _ in range(24):
        state = rng.choices(["ready", "talking", "wrap_up", "paused"], [3, 5, 2, 1])[0]
        length = timedelta(minutes=rng.randint(2, 20))
        session.add(AgentStateLog(agent_id=agent.id, state=state, campaign_id=campaign.id,
                                  started_at=moment, ended_at=moment + length))
        moment += length
