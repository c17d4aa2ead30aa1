"""Fixtures for the switch simulator tests: a simulator per world, greenswitch and raw clients."""

from __future__ import annotations

import greenswitch
import pytest

from engine.sim.scenario import scenario_from_dict
from engine.sim.server import SwitchSimulator
from tests.sim.eslclient import RawEsl

# A fast world: every duration scaled by 1/50; outcome chosen by the number's first digits.
FAST_WORLD = {
    "time_scale": 0.02,
    "defaults": {"outcomes": {"human": 1}, "post_dial_delay": 1, "ring": 5, "early_media": 0,
                 "patience": 50, "talk": 50, "machine_message": 10, "dtmf": None},
    "rules": [
        {"prefix": "10", "outcomes": {"human": 1}},
        {"prefix": "11", "outcomes": {"human": 1}, "talk": 10, "patience": 10},
        {"prefix": "12", "outcomes": {"human": 1}, "dtmf": {"digits": "42", "delay": 5}},
        {"prefix": "20", "outcomes": {"busy": 1}},
        {"prefix": "30", "outcomes": {"no_answer": 1}},
        {"prefix": "40", "outcomes": {"rejected": 1}},
        {"prefix": "50", "outcomes": {"unallocated": 1}},
        {"prefix": "60", "outcomes": {"network_failure": 1}},
        {"prefix": "70", "outcomes": {"machine_beep": 1}},
        {"match": "^8[0-9]+$", "outcomes": {"human": 1}, "early_media": 1},
    ],
    "agents": [{"extensions": "1000-1009", "answer": 25},
               {"extension": "1010", "answer": 5, "hangup_after": 10},
               {"extension": "1099", "registered": False}],
}


@pytest.fixture()
def make_sim():
    """Start simulators on free ports; all are stopped at teardown."""
    started: list[SwitchSimulator] = []

    def make(world: dict | None = None, **options) -> SwitchSimulator:
        options.setdefault("heartbeat_seconds", None)
        sim = SwitchSimulator(scenario_from_dict(world or FAST_WORLD, "test-world"), **options).start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


@pytest.fixture()
def sim(make_sim) -> SwitchSimulator:
    return make_sim()


@pytest.fixture()
def esl(sim):
    """A connected greenswitch client that records every event it receives."""
    client = greenswitch.InboundESL(*sim.address, "ClueCon")
    client.connect()
    client.events = []
    client.register_handle("*", client.events.append)
    yield client
    if client.connected:
        client.stop()


@pytest.fixture()
def raw(sim):
    client = RawEsl(sim.address)
    assert client.next().content_type == "auth/request"
    yield client
    client.close()
