"""Two engines on one switch: each inbound call is routed by exactly one (simulator)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from engine.api.hub import EventHub
from engine.runner.core import DialerCore
from engine.runner.finish import default_hooks
from engine.runner.inbound_claim import (
    REALM,
    ClaimError,
    check_node_id,
    claim,
    owner,
    release,
)
from engine.sim.scenario import IncomingCall
from engine.store.models import Outcome
from engine.store.queries import next_dialable

from .conftest import attempts, drain, login_ready, make_campaign, sim_node, wait_for
from .test_inbound_sim import CAMPAIGN_NUMBER


@pytest.fixture
def second_core(simulator, sessionmaker_, running_clock, tmp_path) -> Iterator[DialerCore]:  # type: ignore[no-untyped-def]
    core = DialerCore(nodes=[sim_node(simulator)], sessions=sessionmaker_, clock=running_clock,
                      source=next_dialable, recordings_dir=tmp_path / "rec2",
                      finish_hooks=default_hooks(90), tick_s=0.02, node_id="dialer-2")
    core.start()
    assert core.pool.wait_up(5)
    yield core
    core.stop()


def test_each_inbound_call_is_routed_by_one_engine(core, second_core, simulator, factory,  # type: ignore[no-untyped-def]
                                                   session, sessionmaker_) -> None:
    known = ["+79001000501", "+79001000502"]
    campaign, agents = make_campaign(factory, session, known, agents=2)
    login_ready(core, agents[:1], campaign.id)
    login_ready(second_core, agents[1:], campaign.id)
    subscriptions = []
    for engine in (core, second_core):
        hub = EventHub()
        engine.send_events_to(hub.publish)
        subscriptions.append(hub.subscribe())
    callers = [*known, "+79005550501", "+79005550502"]  # two known, two unknown callers
    channels = [simulator.call_in(IncomingCall(caller=number, dialled=CAMPAIGN_NUMBER,
                                               patience_seconds=20, talk_seconds=0.5))
                for number in callers]
    wait_for(lambda: all(simulator.switch.find(c.uuid) is None for c in channels), 20,
             "every caller served and gone")
    bridged = Counter()
    for queue in subscriptions:
        bridged.update(data["call_uuid"] for kind, data in drain(queue)
                       if kind == "call" and data["state"] == "bridged")
    assert bridged == Counter({channel.uuid: 1 for channel in channels})
    rows = attempts(sessionmaker_)
    assert sorted(r.number for r in rows) == known  # one attempt per known caller
    assert all(r.outcome is Outcome.ANSWERED and r.bridged_at is not None for r in rows)
    assert {r.node for r in rows} == {"sim"}
    wait_for(lambda: not simulator.switch.hash_store, 5, "the claims to be released")


def test_claim_is_won_once_and_kept_by_its_engine(core, simulator) -> None:  # type: ignore[no-untyped-def]
    connection = core.pool["sim"]
    assert claim(connection, "leg-1", "dialer-1")
    assert not claim(connection, "leg-1", "dialer-2")
    assert claim(connection, "leg-1", "dialer-1")  # the same engine again (a restart)
    assert simulator.switch.hash_store == {f"{REALM}_leg-1": "dialer-1"}
    release(connection, "leg-1", "dialer-2")  # not the owner: kept
    assert simulator.switch.hash_store
    release(connection, "leg-1", "dialer-1")
    assert simulator.switch.hash_store == {} and owner(connection, "leg-1") is None


@pytest.mark.parametrize("node_id", ["", "a/b", "a b"])
def test_node_ids_that_cannot_be_claimed_under_are_refused(node_id: str) -> None:
    with pytest.raises(ClaimError, match="node_id"):
        check_node_id(node_id)
