"""A real engine for admin tests, and the desktop fixtures built on it.

The switch simulator, a DialerCore and the control API on a loopback port run in one thread
with its own gevent hub (the admin's test client blocks on plain sockets in the main thread,
as the threaded admin server does in production)."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import gevent
import pytest
from flask import Flask
from flask.testing import FlaskClient
from gevent.pywsgi import WSGIServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from admin import create_app
from admin.script_doc import Script, compose
from engine.api.app import create_api
from engine.api.hub import EventHub, PublishingStateLog
from engine.clock import ManualClock
from engine.runner.core import DialerCore
from engine.runner.finish import default_hooks
from engine.runner.preview import PreviewRunner
from engine.sim.scenario import scenario_from_dict
from engine.sim.server import SwitchSimulator
from engine.store.db import make_engine, make_sessionmaker
from engine.store.models import Agent, CampaignStatus, DialMode, Tenant, User
from engine.store.queries import next_dialable

from ..engine.conftest import RunningClock, sim_node, world
from .conftest import World, post

T = TypeVar("T")
TOKEN = "admin-test-token"


class EngineThread:
    """``start()`` returns the API's port; ``call(fn)`` runs ``fn(core)`` in the engine's
    thread (the core and the simulator are not thread-safe) and returns its result;
    ``simulator`` is the switch simulator the engine drives."""

    def __init__(self, db_url: str, recordings_dir: Path, clock: RunningClock) -> None:
        self._db_url, self._recordings, self._clock = db_url, recordings_dir, clock
        self._calls: queue.Queue[tuple[Callable[[DialerCore], Any], queue.Queue[Any]]] = \
            queue.Queue()
        self._stop = threading.Event()
        self._started: queue.Queue[int | BaseException] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="engine", daemon=True)
        self.port = 0
        self.simulator: SwitchSimulator | None = None

    def start(self) -> int:
        self._thread.start()
        port = self._started.get(timeout=30)
        if isinstance(port, BaseException):
            raise port
        self.port = port
        return port

    def call(self, fn: Callable[[DialerCore], T]) -> T:
        box: queue.Queue[Any] = queue.Queue()
        self._calls.put((fn, box))
        ok, value = box.get(timeout=30)
        if not ok:
            raise value
        return value

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        db = make_engine(self._db_url)
        simulator = self.simulator = SwitchSimulator(
            scenario_from_dict(world()), seed=7, record_tick=0.05, heartbeat_seconds=None).start()
        core = DialerCore(nodes=[sim_node(simulator)], sessions=make_sessionmaker(db),
                          clock=self._clock, source=next_dialable,
                          recordings_dir=self._recordings, finish_hooks=default_hooks(90),
                          tick_s=0.02)
        hub = EventHub()
        core.state_log = PublishingStateLog(core.writer, core.writer.announce)
        core.send_events_to(hub.publish)
        server = WSGIServer(("127.0.0.1", 0), create_api(core, hub, TOKEN), log=None)
        try:
            core.start()
            if not core.pool.wait_up(5):
                raise RuntimeError("the engine did not connect to the simulator")
            server.start()
            self._started.put(server.server_port)
            while not self._stop.is_set():
                try:
                    fn, box = self._calls.get_nowait()
                except queue.Empty:
                    gevent.sleep(0.02)
                    continue
                try:
                    box.put((True, fn(core)))
                except Exception as exc:  # handed back to the calling thread
                    box.put((False, exc))
        except BaseException as exc:
            self._started.put(exc)
        finally:
            server.stop(timeout=1)
            core.stop()
            simulator.stop()
            db.dispose()


SCRIPT = compose(Script("Good afternoon, this is Acme bank.", ["Speak slowly"],
                        [{"objection": "Too expensive", "answer": "No fee in the first year."}]))
RESULT_FIELDS = [{"name": "product", "label": "Product", "type": "choice",
                  "options": ["card", "loan"], "required": True},
                 {"name": "amount", "label": "Amount", "type": "number"}]


@dataclass
class Seat:
    username: str
    agent_id: int
    campaign_id: int
    contact_id: int
    number: str


def _seat(factory, session: Session, tenant: Tenant, username: str, extension: int,  # type: ignore[no-untyped-def]
          number: str) -> Seat:
    """The user's agent seat reaches simulator softphone ``extension``; a running preview
    campaign of the tenant holds one contact whose callee talks for 30 s."""
    agent = session.scalars(select(Agent).join(User, User.id == Agent.user_id)
                            .where(User.username == username)).one()
    agent.dial_string = f"user/{extension}@sim"
    campaign = factory.campaign(tenant, name=f"Desk {username}", mode=DialMode.PREVIEW,
                                status=CampaignStatus.RUNNING,
                                gateway="sofia/gateway/carrier/{number}",
                                caller_id_number="+74950000000", script=SCRIPT,
                                result_fields=RESULT_FIELDS,
                                pacing={"ring_timeout_s": 15, "wrap_up_s": 0.2,
                                        "preview_timeout_s": 300})
    contact = factory.contact(factory.contact_list(campaign), phones=[number],
                              name=f"Ivan {username}", timezone="Asia/Yekaterinburg",
                              fields={"city": "Yekaterinburg"})
    session.commit()
    return Seat(username, agent.id, campaign.id, contact.id, number)


@pytest.fixture
def seats(world: World, session: Session, factory) -> dict[str, Seat]:  # type: ignore[no-untyped-def]
    return {"a": _seat(factory, session, world.a, "a_agent", 1000, "+79007000001"),
            "b": _seat(factory, session, world.b, "b_agent", 1001, "+79007000002")}


@pytest.fixture
def engine(seats, db_url: str, tmp_path) -> Iterator[EngineThread]:  # type: ignore[no-untyped-def]
    thread = EngineThread(db_url, tmp_path / "rec",
                          RunningClock(datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)))
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture
def app(world: World, sessionmaker_: sessionmaker[Session], clock: ManualClock,
        engine: EngineThread) -> Flask:
    settings = replace(world.settings, api_port=engine.port, api_token=TOKEN)
    return create_app(settings, clock=clock, session_factory=sessionmaker_)


def start_preview(engine: EngineThread, seat: Seat) -> None:
    engine.call(lambda core: PreviewRunner(core, seat.campaign_id, tick_s=0.02).start())


def panel_until(client: FlaskClient, predicate: Callable[[str], bool], what: str,
                timeout: float = 10, url: str = "/desktop/panel") -> str:
    deadline = time.monotonic() + timeout
    while True:
        html = client.get(url).get_data(as_text=True)
        if predicate(html):
            return html
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last panel:\n{html}")
        time.sleep(0.05)


def in_state(state: str) -> Callable[[str], bool]:
    return lambda html: f'data-state="{state}"' in html


def join_ready(client: FlaskClient, seat: Seat) -> None:
    assert post(client, "/desktop/join", {"campaign_id": seat.campaign_id}).status_code == 302
    panel_until(client, in_state("ready"), "the softphone to answer")


class Relay:
    """An event stream in a browser tab of its own: its own client, requested and read in its
    own thread (a streamed response keeps its request context pushed in the thread that
    starts reading it, as the threaded server does per request)."""

    def __init__(self, client: FlaskClient, url: str) -> None:
        self._events: queue.Queue[dict] = queue.Queue()
        self._first: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=self._read, args=(client, url), daemon=True).start()
        self.first = self._first.get(timeout=10)

    def _read(self, client: FlaskClient, url: str) -> None:
        for chunk in client.get(url, buffered=False).response:
            if self._first.empty():
                self._first.put(chunk)
            for line in chunk.decode().splitlines():
                if line.startswith("data:"):
                    self._events.put(json.loads(line[5:]))

    def next(self, count: int) -> list[dict]:
        """The next ``count`` events (keep-alives skipped)."""
        return [self._events.get(timeout=10) for _ in range(count)]
