"""The demo's data: a tenant with logins, simulated agents, a campaign and its imported list.

Everything is found by name before it is made, so seeding twice changes nothing but the demo
campaign's settings, which every run resets: running, the demo pacing, and the strategy with
or without the demo-only any-time window.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from admin.seed import seed_tenant
from engine.clock import Clock, SystemClock
from engine.exchange.importer import Importer, ImportSummary
from engine.exchange.mapping import Mapping
from engine.exchange.rejects import RejectWriter
from engine.exchange.targets import ensure_list
from engine.leads import ensure_default_statuses
from engine.store.db import transaction
from engine.store.models import Agent, Campaign, CampaignStatus, DialMode, Role, Tenant, User
from engine.strategy.config import StrategyConfig

CONTACTS_CSV = Path(__file__).with_name("contacts.csv")
TENANT_NAME = "dialer demo"
USER_PREFIX = "demo-"  # users demo-admin and demo-agent
PASSWORD = "demo-password"  # printed on every run; the admin only listens on 127.0.0.1
CAMPAIGN_NAME = "Demo: progressive collection"
LIST_NAME = "demo contacts"
# Extensions the simulator's default world registers (1000-1099): it plays their softphones.
SIMULATED_EXTENSIONS = ("1001", "1002", "1003", "1004", "1005")
SEAT_EXTENSION = "1000"  # the demo-agent user's seat, for joining from the agent desktop
GATEWAY = "sofia/gateway/carrier/{number}"
CALLER_ID = "+74950000000"
ANYTIME = "00:00-24:00"
PACING = {"ring_timeout_s": 20, "wrap_up_s": 3}


@dataclass(frozen=True)
class DemoSeed:
    tenant_id: int
    mask_numbers: bool
    campaign_id: int
    list_id: int
    agent_ids: tuple[int, ...]  # the simulated agents, logged in by the demo
    users: tuple[tuple[str, Role], ...]  # (username, role); the password is PASSWORD


def demo_strategy(anytime: bool) -> dict[str, Any]:
    """The ``ru_collection`` preset; ``anytime`` (demo only) opens it around the clock."""
    strategy: dict[str, Any] = {"preset": "ru_collection"}
    if anytime:
        strategy["windows"] = {"weekdays": ANYTIME, "weekends": ANYTIME, "holiday": ANYTIME}
    StrategyConfig.from_dict(strategy)  # fail here, not in the engine
    return strategy


def seed_demo(session: Session, clock: Clock, *, anytime: bool,
              hash_method: str = "scrypt") -> DemoSeed:
    """Find or make the demo tenant, users, agents, campaign and list; start the campaign."""
    roles = (Role.ADMIN, Role.AGENT)
    tenant = session.scalar(select(Tenant).where(Tenant.name == TENANT_NAME))
    if tenant is None:
        tenant = seed_tenant(session, clock, TENANT_NAME, {role: PASSWORD for role in roles},
                             prefix=USER_PREFIX, hash_method=hash_method)
    ensure_default_statuses(session)
    _point_seat_at_simulator(session, tenant, f"{USER_PREFIX}{Role.AGENT.value}")
    agents = [_simulated_agent(session, tenant, extension) for extension in SIMULATED_EXTENSIONS]
    campaign = _campaign(session, clock, tenant)
    campaign.strategy = demo_strategy(anytime)
    campaign.pacing = dict(PACING)
    campaign.status = CampaignStatus.RUNNING
    campaign.updated_at = clock.now()
    contact_list = ensure_list(session, tenant, LIST_NAME, campaign, clock)
    session.flush()
    return DemoSeed(tenant.id, tenant.mask_numbers, campaign.id, contact_list.id,
                    tuple(agent.id for agent in agents),
                    tuple((f"{USER_PREFIX}{role.value}", role) for role in roles))


def _point_seat_at_simulator(session: Session, tenant: Tenant, username: str) -> None:
    """The person's seat gets a softphone the simulator answers, so joining a campaign from
    the agent desktop works without a PBX."""
    seat = session.scalar(select(Agent).join(User, User.id == Agent.user_id).where(
        Agent.tenant_id == tenant.id, User.username == username))
    if seat is not None:
        seat.dial_string = _extension(SEAT_EXTENSION)


def _extension(extension: str) -> str:
    return f"user/{extension}@dialer.local"


def _simulated_agent(session: Session, tenant: Tenant, extension: str) -> Agent:
    dial_string = _extension(extension)
    agent = session.scalar(select(Agent).where(Agent.tenant_id == tenant.id,
                                               Agent.dial_string == dial_string))
    if agent is None:
        agent = Agent(tenant_id=tenant.id, name=f"Simulated agent {extension}",
                      dial_string=dial_string)
        session.add(agent)
        session.flush()
    return agent


def _campaign(session: Session, clock: Clock, tenant: Tenant) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.tenant_id == tenant.id,
                                                     Campaign.name == CAMPAIGN_NAME))
    if campaign is None:
        now = clock.now()
        campaign = Campaign(tenant_id=tenant.id, name=CAMPAIGN_NAME, mode=DialMode.PROGRESSIVE,
                            gateway=GATEWAY, caller_id_number=CALLER_ID, caller_id_name="Demo",
                            timezone="Europe/Moscow",
                            created_at=now, updated_at=now)
        session.add(campaign)
        session.flush()
    return campaign


def set_campaign_status(sessions: sessionmaker[Session], seed: DemoSeed,
                        status: CampaignStatus, clock: Clock) -> None:
    with transaction(sessions) as session:
        campaign = session.get_one(Campaign, seed.campaign_id)
        campaign.status = status
        campaign.updated_at = clock.now()


def import_contacts(sessions: sessionmaker[Session], seed: DemoSeed, region: str,
                    reject_path: Path, clock: Clock | None = None,
                    source: Path = CONTACTS_CSV) -> ImportSummary:
    """Import the demo CSV with the real importer; rejected rows go to ``reject_path``."""
    reject_path.parent.mkdir(parents=True, exist_ok=True)
    importer = Importer(sessions, source, tenant_id=seed.tenant_id, list_id=seed.list_id,
                        mapping=Mapping(), region=region, clock=clock or SystemClock())
    rejects = RejectWriter(reject_path)
    try:
        return importer.run(rejects, on_header=rejects.start)
    finally:
        rejects.close()
