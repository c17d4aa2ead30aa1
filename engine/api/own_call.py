"""One click from a lead card: an agent calls a contact now, when the strategy allows it.

The agent (logged in, ready or paused) is reserved and the number is dialed the
progressive way by the runner of the agent's campaign: the same gate as every dial
(``engine.strategy.decide`` via ``load_decisions``: DNC, calling window in the callee's
zones, caps, other tenants' blocks, attempt budgets, a call already in progress).
"""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from engine.agents import AgentSession, AgentState
from engine.calls import Call
from engine.runner.base import CampaignRunner
from engine.runner.core import DialerCore
from engine.runner.ivr import IvrRunner
from engine.store.models import Campaign, Contact, Phone
from engine.store.queries import DialCandidate, load_decisions, strategy_of
from engine.strategy.explain import explain, explain_phone


class CallRefused(Exception):
    """The call cannot be made; ``status`` is the HTTP status (404 or 409)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Target:
    contact_id: int
    phone_id: int | None


def choose_number(session: Session, campaign: Campaign, tenant_id: int, target: Target,
                  now: datetime) -> DialCandidate:
    """The number to dial for ``target`` in ``campaign`` now, or why not (the strategy's
    own explanation)."""
    contact = session.get(Contact, target.contact_id)
    if contact is None or contact.tenant_id != tenant_id:
        raise CallRefused(404, f"contact {target.contact_id} is not a contact of the "
                               "agent's tenant")
    if target.phone_id is not None:
        phone = session.get(Phone, target.phone_id)
        if phone is None or phone.contact_id != contact.id:
            raise CallRefused(404, f"phone {target.phone_id} is not a phone of contact "
                                   f"{contact.id}")
    config = strategy_of(campaign)
    decisions = load_decisions(session, campaign, [contact.id], now, config)
    if not decisions:
        raise CallRefused(404, f"contact {contact.id} does not exist")
    decision = decisions[0]
    if target.phone_id is None:
        chosen = decision.chosen
        if chosen is None:
            raise CallRefused(409, explain(decision, config))
    else:
        chosen = next(p for p in decision.phones if p.phone.id == target.phone_id)
        if not chosen.dialable:
            raise CallRefused(409, "\n".join(explain_phone(chosen, config, now)))
    callback = chosen.callback
    return DialCandidate(contact.id, chosen.phone.id, chosen.phone.number, callback is not None,
                         callback.id if callback else None, callback.agent_id if callback else None,
                         chosen.zones.names)


def runner_for(core: DialerCore, agent: AgentSession) -> CampaignRunner:
    runner = core.runners.get(agent.campaign_id or -1)
    if runner is None:
        raise CallRefused(409, f"agent {agent.agent_id}'s campaign {agent.campaign_id} is not "
                               "running")
    if isinstance(runner, IvrRunner):
        raise CallRefused(409, f"campaign {agent.campaign_id} is an IVR-only campaign: it has "
                               "no agent calls")
    return runner


def call_contact(core: DialerCore, agent: AgentSession, target: Target) -> Call:
    """Reserve the agent, dial the contact for them; the call is bridged on answer."""
    refusal = agent.own_call_refusal()
    if refusal:
        raise CallRefused(409, refusal)
    runner = runner_for(core, agent)
    if not runner.can_dial():
        raise CallRefused(409, f"campaign {runner.campaign_id} is at its call rate or channel "
                               "limit; try again in a moment")
    with core.sessions() as session:
        campaign = session.get_one(Campaign, runner.campaign_id)
        item = choose_number(session, campaign, agent.tenant_id, target, core.clock.now())
    placeholder = f"own-{uuidlib.uuid4()}"
    agent.reserve_for_own_call(placeholder)
    runner.withdraw(item.contact_id)
    call = runner.dial(item, agent)
    if call is None:  # refused by the switch (the agent is freed then) or by the gateway
        if agent.state is AgentState.RESERVED and agent.call_uuid == placeholder:
            agent.release()
        raise CallRefused(409, f"the call to {item.number} could not be started (see the "
                               "engine log and the phone's disabled reason)")
    return call
