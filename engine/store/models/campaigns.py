"""Campaigns: mode, pacing, strategy and schedule settings (validated by their own modules)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigId, str_enum
from .tenancy import Tenant


class DialMode(enum.StrEnum):
    PREDICTIVE = "predictive"
    PROGRESSIVE = "progressive"
    PREVIEW = "preview"
    IVR = "ivr"


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    FINISHED = "finished"


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    mode: Mapped[DialMode] = mapped_column(str_enum(DialMode))
    status: Mapped[CampaignStatus] = mapped_column(
        str_enum(CampaignStatus), default=CampaignStatus.DRAFT
    )
    caller_id_number: Mapped[str] = mapped_column(String(32), default="")
    caller_id_name: Mapped[str] = mapped_column(String(80), default="")
    # Dial string template for customers, e.g. "sofia/gateway/trunk/{number}".
    gateway: Mapped[str] = mapped_column(String(255), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    advertising: Mapped[bool] = mapped_column(default=False)
    # Agents' phones ring for each answered customer instead of a nailed-up leg per login.
    agent_ringing: Mapped[bool] = mapped_column(default=False)
    # Strategy (phone order, retries, windows, caps) as engine.strategy reads it.
    strategy: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Pacing settings (abandon cap, ring timeout, wrap-up, ...) as engine.pacing reads them.
    pacing: Mapped[dict[str, Any]] = mapped_column(default=dict)
    amd: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ivr: Mapped[dict[str, Any]] = mapped_column(default=dict)
    recording: Mapped[dict[str, Any]] = mapped_column(default=dict)
    script: Mapped[str] = mapped_column(Text, default="")
    result_fields: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    tenant: Mapped[Tenant] = relationship()


class CampaignLease(Base):
    """Which engine (``node_id``) runs a running campaign, until ``expires_at`` unless renewed
    (engine/runner/leases.py)."""

    __tablename__ = "campaign_leases"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    engine: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
