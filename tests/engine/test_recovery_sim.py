"""Losing the Event Socket mid-call: reconnect, reconcile, lose and duplicate nothing."""

from __future__ import annotations

import socket

import gevent
from engine.agents import AgentState
from engine.runner.progressive import ProgressiveRunner
from engine.store.models import AttemptState, Outcome

from .conftest import attempts as rows
from .conftest import login_ready, make_campaign, wait_for


def cut_event_sockets(simulator) -> None:  # type: ignore[no-untyped-def]
    """Kill every ESL socket on the switch side, with no disconnect notice."""
    for session in list(simulator.sessions):
        session.sock.shutdown(socket.SHUT_RDWR)


def test_socket_killed_mid_call(core, simulator, factory, session, sessionmaker_) -> None:  # type: ignore[no-untyped-def]
    campaign, agents = make_campaign(factory, session, ["+79007000001", "+79007000002"], agents=2)
    login_ready(core, agents, campaign.id)
    runner = ProgressiveRunner(core, campaign.id, tick_s=0.02)
    runner.start()
    try:
        wait_for(lambda: [r.state for r in rows(sessionmaker_)] == [AttemptState.BRIDGED] * 2,
                 10, "both calls bridged")
        first, second = rows(sessionmaker_)
        connection = core.pool["sim"]
        cut_event_sockets(simulator)
        wait_for(lambda: not connection.is_up, 5, "the engine to notice the loss")
        # While the engine is away the first customer hangs up: its events are lost.
        simulator.switch.find(first.call_uuid).hangup("NORMAL_CLEARING", remote=True)
        wait_for(lambda: connection.is_up and connection.connects == 2, 10, "reconnect")
        wait_for(lambda: rows(sessionmaker_)[0].state is AttemptState.ENDED, 2,
                 "the reconciled attempt to be written")
        after = {r.call_uuid: r for r in rows(sessionmaker_)}
        assert after[first.call_uuid].state is AttemptState.ENDED
        assert after[first.call_uuid].outcome is Outcome.ANSWERED  # was bridged: closed as such
        assert after[first.call_uuid].result.get("reconciled") == "channel gone"
        assert after[second.call_uuid].state is AttemptState.BRIDGED  # still followed
        assert core.calls[second.call_uuid].state.value == "bridged"
        # The surviving call's hangup arrives over the new connection.
        connection.api(f"uuid_kill {second.call_uuid}")
        wait_for(lambda: all(r.state is AttemptState.ENDED for r in rows(sessionmaker_)), 5,
                 "the second call to end")
    finally:
        runner.stop()
    final = rows(sessionmaker_)
    assert len(final) == 2 and len({r.number for r in final}) == 2  # nothing dialed twice
    assert final[1].outcome is Outcome.ANSWERED and final[1].result.get("reconciled") is None
    wait_for(lambda: all(core.agents.get(a.id).state is AgentState.READY for a in agents), 5,
             "agents free again")
    gevent.sleep(0.3)
    assert len(rows(sessionmaker_)) == 2  # and nothing more dialed afterwards
