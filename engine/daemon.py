"""``dialer run``: the gevent daemon.

Connects to the configured switches (or starts the built-in simulator in-process
when none is configured), reconciles, logs in the agents given on the command
line, and keeps one runner per running campaign until SIGINT/SIGTERM.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Sequence

import gevent
import gevent.event
from gevent.pywsgi import WSGIServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock, SystemClock
from engine.config import Settings, SwitchNode
from engine.store.db import transaction
from engine.store.models import Campaign, CampaignStatus, DialMode
from engine.store.queries import next_dialable
from engine.switch.connection import SwitchError, SwitchUnavailable

from .api.app import create_api
from .api.hub import EventHub, PublishingStateLog
from .runner.base import CampaignRunner
from .runner.core import DialerCore
from .runner.finish import default_hooks
from .runner.leases import CampaignElsewhere, hold, release
from .runner.limits import gateway_limits
from .runner.registry import RUNNERS
from .runner.settings import CampaignConfigError

log = logging.getLogger(__name__)


class Daemon:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session], *,
                 clock: Clock | None = None, logins: Sequence[tuple[int, int]] = (),
                 watch_s: float = 1.0, simulator_seed: int | None = None) -> None:
        self.settings = settings
        self.sessions = sessions
        self.clock = clock or SystemClock()
        self.logins = tuple(logins)
        self.watch_s = watch_s
        self.simulator_seed = simulator_seed
        self.simulator = None
        self.core: DialerCore | None = None
        self.api_server: WSGIServer | None = None
        self._refused: set[int] = set()
        self._holders: dict[int, str] = {}  # running campaign -> the engine holding its lease
        self._stop = gevent.event.Event()
        self._greenlets: list[gevent.Greenlet] = []

    def _nodes(self) -> tuple[SwitchNode, ...]:
        if not self.settings.uses_simulator:
            return self.settings.switches
        from engine.sim.server import SwitchSimulator

        self.simulator = SwitchSimulator(seed=self.simulator_seed).start()
        host, port = self.simulator.address
        log.info("no switch configured: using the built-in simulator on %s:%d", host, port)
        return (SwitchNode("sim", host, port, self.simulator.password),)

    def start(self) -> DialerCore:
        self.core = DialerCore(
            nodes=self._nodes(), sessions=self.sessions, clock=self.clock, source=next_dialable,
            recordings_dir=self.settings.recordings_dir, node_id=self.settings.node_id,
            finish_hooks=default_hooks(self.settings.block_days),
            gateway_limits=gateway_limits(self.settings.extra.get("gateway_limits", {}),
                                          self.clock.monotonic),
            region=self.settings.default_region)
        self._start_api(self.core)
        self.sync_runners()  # before connecting: reconciliation hands adopted calls to them
        self.core.start()
        self._greenlets = [gevent.spawn(self._login_agents), gevent.spawn(self._watch_campaigns)]
        return self.core

    def _start_api(self, core: DialerCore) -> None:
        """The control API on ``api_host:api_port``, when an ``api_token`` is set."""
        if not self.settings.api_token:
            log.warning("control API off: set api_token (DIALER_API_TOKEN) to enable it")
            return
        hub = EventHub()
        core.state_log = PublishingStateLog(core.writer, core.writer.announce)
        core.send_events_to(hub.publish)
        app = create_api(core, hub, self.settings.api_token)
        self.api_server = WSGIServer((self.settings.api_host, self.settings.api_port), app,
                                     log=None)
        self.api_server.start()
        log.info("control API on http://%s:%d", self.settings.api_host,
                 self.api_server.server_port)

    def stop(self) -> None:
        self._stop.set()
        if self.api_server is not None:
            self.api_server.stop(timeout=2)
        gevent.killall(self._greenlets)
        if self.core is not None:
            self.core.stop()
            self._release_leases()  # another engine may take the campaigns at once
        if self.simulator is not None:
            self.simulator.stop()

    def run_forever(self) -> None:
        """Start, then serve until SIGINT or SIGTERM."""
        self.start()
        for signum in (signal.SIGINT, signal.SIGTERM):
            gevent.signal_handler(signum, self._stop.set)
        self._stop.wait()
        log.info("stopping")
        self.stop()

    def _hold_leases(self) -> dict[int, DialMode]:
        """The running campaigns this engine may run and holds the lease of, by mode."""
        me = self.settings.node_id
        with transaction(self.sessions) as session:
            running = {c.id: c.mode for c in session.scalars(
                select(Campaign).where(Campaign.status == CampaignStatus.RUNNING))}
            holders = hold(session, me, [c for c in running if c not in self._refused],
                           self.clock.now(), self.settings.campaign_lease_s)
            release(session, me, keep=[c for c, engine in holders.items() if engine == me])
        for campaign_id, engine in holders.items():
            if engine != me and self._holders.get(campaign_id) != engine:
                log.info("campaign %s runs on engine %s", campaign_id, engine)
        self._holders = holders
        return {c: running[c] for c, engine in holders.items() if engine == me}

    def _release_leases(self) -> None:
        with transaction(self.sessions) as session:
            release(session, self.settings.node_id)

    def _login_agents(self) -> None:
        assert self.core is not None
        pending = list(self.logins)
        while pending and not self._stop.is_set():
            self.core.pool.wait_up(5)
            for agent_id, campaign_id in list(pending):
                try:
                    self.core.login(agent_id, campaign_id)
                    pending.remove((agent_id, campaign_id))
                except (SwitchError, SwitchUnavailable) as exc:
                    log.warning("agent %s: login failed, retrying: %s", agent_id, exc)
                except (LookupError, CampaignElsewhere) as exc:
                    log.error("%s", exc)
                    pending.remove((agent_id, campaign_id))
            gevent.sleep(1)

    def _watch_campaigns(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync_runners()
            except Exception:
                log.exception("campaign watch failed")
            gevent.sleep(self.watch_s)

    def sync_runners(self) -> None:
        """Start a runner for each running campaign this engine holds the lease of (engines
        sharing a database split the campaigns, ``runner/leases.py``); stop the runners of
        campaigns that stopped or whose lease went to another engine."""
        assert self.core is not None
        running = self.core.writer.run(self._hold_leases)  # on the database thread
        for campaign_id, runner in list(self.core.runners.items()):
            if campaign_id not in running:
                runner.stop()
        for campaign_id, mode in running.items():
            if campaign_id in self.core.runners or campaign_id in self._refused:
                continue
            runner_class = RUNNERS.get(mode)
            if runner_class is None:
                log.error("campaign %s: %s mode is not available in this engine", campaign_id, mode)
                self._refused.add(campaign_id)
                continue
            try:
                runner: CampaignRunner = runner_class(self.core, campaign_id)
            except CampaignConfigError as exc:
                log.error("campaign %s not started: %s", campaign_id, exc)
                self._refused.add(campaign_id)
                continue
            runner.start()
            log.info("campaign %s (%s) started", campaign_id, mode)
