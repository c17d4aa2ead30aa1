"""All models; importing this package registers every table on ``Base.metadata``."""

from .attempts import INBOUND, OUTBOUND, AttemptState, CallAttempt, Outcome
from .base import Base
from .campaigns import Campaign, CampaignLease, CampaignStatus, DialMode
from .compliance import ContactBlock, DncEntry, ExportCursor, NumberingRange
from .contacts import (
    Callback,
    CallbackStatus,
    Contact,
    ContactList,
    LeadStatus,
    LeadStatusChange,
    Phone,
    PhoneType,
)
from .tenancy import Agent, AgentStateLog, Role, Team, Tenant, User

__all__ = [
    "INBOUND", "OUTBOUND", "Agent", "AgentStateLog", "AttemptState", "Base", "CallAttempt", "Callback", "CallbackStatus",
    "Campaign", "CampaignLease", "CampaignStatus", "Contact", "ContactBlock", "ContactList", "DialMode", "DncEntry",
    "ExportCursor", "LeadStatus", "LeadStatusChange", "NumberingRange", "Outcome", "Phone",
    "PhoneType", "Role", "Team", "Tenant", "User",
]
from .counters import Counter  # noqa: E402,F401  (registers the counters table)
from .amd import AmdReview  # noqa: E402,F401  (registers the amd_reviews table)
from .security import LoginFailure  # noqa: E402,F401  (login throttling)
