"""Call attempts: one row per dial, written before the originate so a crash can reconcile."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, str_enum


class AttemptState(enum.StrEnum):
    PENDING = "pending"  # row written, originate not yet sent
    DIALING = "dialing"  # originate sent, no answer yet
    ANSWERED = "answered"
    BRIDGED = "bridged"
    ENDED = "ended"


class Outcome(enum.StrEnum):
    """What an attempt came to; the strategy's retry rules key on these."""

    ANSWERED = "answered"  # a human, talked to an agent or completed the IVR
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    REJECTED = "rejected"
    INVALID_NUMBER = "invalid_number"
    NETWORK_FAILURE = "network_failure"
    ABANDONED = "abandoned"  # a human answered and no agent came in time
    MACHINE = "machine"
    CANCELLED = "cancelled"  # the dialer withdrew the call before an answer
    LOST = "lost"  # reconciliation found no trace of the channel


OUTBOUND = "outbound"  # CallAttempt.direction: the dialer called
INBOUND = "inbound"  # the customer called a campaign's number back


class CallAttempt(Base):
    __tablename__ = "call_attempts"
    __table_args__ = (
        Index("ix_call_attempts_campaign_created", "campaign_id", "created_at"),
        Index("ix_call_attempts_number_created", "number", "created_at"),
        # Predictive restore: a campaign's attempts ended in the abandon rule's window.
        Index("ix_call_attempts_campaign_ended", "campaign_id", "ended_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    phone_id: Mapped[int | None] = mapped_column(ForeignKey("phones.id", ondelete="SET NULL"))
    number: Mapped[str] = mapped_column(String(20))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callbacks.id"))
    mode: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(8), default=OUTBOUND, server_default=OUTBOUND)
    node: Mapped[str] = mapped_column(String(64), default="")  # switch node name
    # node_id of the engine that dialed (or took) the call: only it reconciles the attempt.
    engine: Mapped[str] = mapped_column(String(64), default="", server_default="")
    call_uuid: Mapped[str] = mapped_column(String(36), unique=True)  # origination_uuid
    state: Mapped[AttemptState] = mapped_column(
        str_enum(AttemptState), default=AttemptState.PENDING, index=True
    )
    outcome: Mapped[Outcome | None] = mapped_column(str_enum(Outcome))
    hangup_cause: Mapped[str | None] = mapped_column(String(48))
    sip_code: Mapped[int | None]
    amd_result: Mapped[str | None] = mapped_column(String(16))  # human/machine/unknown
    amd_reason: Mapped[str | None] = mapped_column(String(80))
    amd_decision_ms: Mapped[int | None]
    dead_air_ms: Mapped[int | None]  # answer to bridge
    recording_path: Mapped[str | None] = mapped_column(String(500))
    disposition: Mapped[str | None] = mapped_column(String(40))
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)  # result fields, IVR digits
    created_at: Mapped[datetime]
    originated_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    bridged_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # Set once when the attempt ends, from a monotonic counter: the export watermark.
    final_seq: Mapped[int | None] = mapped_column(BigId, unique=True)
