"""Which events reach which listener: filter, myevents, nixevent, noevents, CUSTOM, linger."""

from __future__ import annotations

import uuid as uuidlib

from engine.sim.events import Event
from engine.sim.subscription import Subscription


def _event(name: str, uuid: str | None = None, **headers: str) -> Event:
    pairs = [("Event-Name", name)] + ([("Unique-ID", uuid)] if uuid else []) + list(headers.items())
    return Event(name, pairs, channel_uuid=uuid, subclass=headers.get("Event-Subclass"))


def test_filters_or_positive_and_veto_negative():
    sub = Subscription()
    sub.event(["plain", "ALL"])
    assert sub.filter("Unique-ID aaa") == "+OK filter added. [Unique-ID]=[aaa]"
    sub.filter("Unique-ID bbb")
    assert sub.wants(_event("CHANNEL_ANSWER", "aaa")) and sub.wants(_event("CHANNEL_ANSWER", "bbb"))
    assert not sub.wants(_event("CHANNEL_ANSWER", "ccc"))
    assert not sub.wants(_event("BACKGROUND_JOB"))  # no Unique-ID header: filtered out, as in FreeSWITCH
    sub.filter("Event-Name -CHANNEL_ANSWER")
    assert not sub.wants(_event("CHANNEL_ANSWER", "aaa"))
    assert sub.filter("delete Unique-ID aaa") == "+OK filter deleted. [Unique-ID][aaa]"
    assert not sub.wants(_event("CHANNEL_HANGUP", "aaa")) and sub.wants(_event("CHANNEL_HANGUP", "bbb"))
    sub.filter("delete all")
    assert sub.wants(_event("CHANNEL_HANGUP", "zzz"))
    sub.filter("Caller-Destination-Number /^79/")
    assert sub.wants(_event("CHANNEL_CREATE", "q", **{"Caller-Destination-Number": "7912"}))
    assert not sub.wants(_event("CHANNEL_CREATE", "q", **{"Caller-Destination-Number": "8912"}))


def test_custom_subclasses_nixevent_noevents():
    sub = Subscription()
    assert sub.event(["plain", "CHANNEL_CREATE", "CUSTOM", "sofia::register"]) == "+OK event listener enabled plain"
    assert sub.wants(_event("CUSTOM", **{"Event-Subclass": "sofia::register"}))
    assert not sub.wants(_event("CUSTOM", **{"Event-Subclass": "conference::maintenance"}))
    assert sub.nixevent(["CHANNEL_CREATE"]) == "+OK events nixed"
    assert not sub.wants(_event("CHANNEL_CREATE", "a"))
    assert sub.nixevent(["bogus"]) == "-ERR no keywords supplied"
    assert sub.noevents() == "+OK no longer listening for events"
    assert not sub.wants(_event("CUSTOM", **{"Event-Subclass": "sofia::register"}))


def test_myevents_follows_one_channel_over_the_wire(esl, sim):
    import gevent

    from tests.sim.helpers import wait_destroyed

    watcher = __import__("greenswitch").InboundESL(*sim.address, "ClueCon")
    watcher.connect()
    watcher.events = []
    watcher.register_handle("*", watcher.events.append)
    mine, other = str(uuidlib.uuid4()), str(uuidlib.uuid4())
    esl.send(f"api originate {{origination_uuid={mine}}}sofia/gateway/carrier/1000101 &park()")
    assert watcher.send(f"myevents {mine}").data == "+OK Events Enabled"
    assert watcher.send(f"myevents {mine}").data == "-ERR aready enabled."
    assert watcher.send("linger").data == "+OK will linger"
    assert watcher.send("nolinger").data == "+OK will not linger"
    esl.send(f"api originate {{origination_uuid={other}}}sofia/gateway/carrier/1000102 &park()")
    esl.send(f"api uuid_kill {other}")
    esl.send(f"api uuid_kill {mine}")
    wait_destroyed(watcher, mine)
    gevent.sleep(0.2)
    seen = {e.headers.get("Unique-ID") for e in watcher.events}
    assert seen == {mine}
    watcher.stop()
