"""IVR-only campaigns against the simulator: messages, DTMF menu, DNC, consent."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.agents import AgentState
from engine.runner.ivr import IvrRunner
from engine.runner.settings import CampaignConfigError
from engine.store.models import AttemptState, CallAttempt, DialMode, DncEntry, Outcome

from .conftest import make_campaign, wait_for

IVR = {"messages": ["silence_stream://300", "silence_stream://300"],
       "menu": {"1": "agent", "9": "dnc"}, "digit_timeout_s": 1}


def test_menu_choices(core, factory, session, sessionmaker_) -> None:  # type: ignore[no-untyped-def]
    numbers = ["+79008010001", "+79008090001", "+79008000001"]  # press 1, press 9, press nothing
    campaign, agents = make_campaign(factory, session, numbers, agents=1, mode=DialMode.IVR, ivr=IVR)
    core.login(agents[0].id, campaign.id)
    wait_for(lambda: core.agents.get(agents[0].id).state is AgentState.READY, 5, "agent ready")
    runner = IvrRunner(core, campaign.id, tick_s=0.02)
    runner.start()

    def attempts() -> list[CallAttempt]:
        with sessionmaker_() as s:
            return list(s.scalars(select(CallAttempt).order_by(CallAttempt.number)))
    try:
        wait_for(lambda: len(attempts()) == 3 and all(a.state is AttemptState.ENDED
                                                      for a in attempts()), 20, "IVR calls")
    finally:
        runner.stop()
    silent, to_agent, opt_out = attempts()
    assert to_agent.result["ivr_choice"] == "agent" and to_agent.bridged_at is not None
    assert to_agent.agent_id == agents[0].id and to_agent.outcome is Outcome.ANSWERED
    assert opt_out.result == {"ivr_choice": "dnc", "ivr_digits": "9"}
    assert silent.result["ivr_choice"] == "none" and silent.outcome is Outcome.ANSWERED
    with sessionmaker_() as s:
        dnc = s.scalars(select(DncEntry)).all()
    assert [(d.number, d.source, d.tenant_id) for d in dnc] == [
        ("+79008090001", "ivr", campaign.tenant_id)]


def test_advertising_without_consent_is_refused(core, factory, session) -> None:  # type: ignore[no-untyped-def]
    campaign, _ = make_campaign(factory, session, ["+79008000001", "+79008000002"], agents=0,
                                mode=DialMode.IVR, ivr=IVR, advertising=True)
    with pytest.raises(CampaignConfigError, match="2 of its contacts have no recorded consent"):
        IvrRunner(core, campaign.id)
