"""The demo's live part in one process: the switch simulator, the engine of ``dialer run``
(with its control API) and the admin web, started together and stopped cleanly.

The simulator and the engine are greenlets of this (main) thread. The admin runs in its own
OS thread on Werkzeug's threaded server, as ``dialer admin serve`` does: its views call the
control API with blocking ``requests``, which inside the engine's unpatched gevent loop would
wait on the very loop that has to answer them.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import socket
import threading
from dataclasses import dataclass, field

import gevent
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import BaseWSGIServer, make_server

from engine.clock import Clock
from engine.config import Settings, SwitchNode
from engine.daemon import Daemon
from engine.sim.scenario import default_scenario
from engine.sim.server import SwitchSimulator
from engine.store.models import CampaignStatus

from .seed import DemoSeed, set_campaign_status

HANGUP_WAIT_S = 5.0


@dataclass
class DemoServices:
    """Simulator, engine and admin for the demo campaign; ``start`` then ``stop``."""

    settings: Settings
    sessions: sessionmaker[Session]
    seed: DemoSeed
    clock: Clock
    admin_port: int
    time_scale: float = 1.0
    sim_seed: int | None = None
    simulator: SwitchSimulator | None = field(default=None, init=False)
    daemon: Daemon | None = field(default=None, init=False)
    admin: BaseWSGIServer | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.api_token = self.settings.api_token or secrets.token_urlsafe(24)

    def start(self) -> None:
        """Raises OSError when the admin's or the control API's port is taken."""
        from admin import create_app

        listener = socket.create_server(("127.0.0.1", self.admin_port))  # fails before the rest
        try:
            self._start_engine()
            api = self.daemon.api_server if self.daemon else None
            admin_settings = dataclasses.replace(
                self.settings, api_token=self.api_token,
                api_port=api.server_port if api else self.settings.api_port)
            # Plain HTTP on loopback: a Secure session cookie would be dropped by some browsers.
            app = create_app(admin_settings, clock=self.clock, session_factory=self.sessions,
                             overrides={"SESSION_COOKIE_SECURE": False,
                                        "REMEMBER_COOKIE_SECURE": False})
            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
            self.admin = make_server("127.0.0.1", self.admin_port, app, threaded=True,
                                     fd=listener.fileno())
        finally:
            listener.close()  # the admin server holds its own duplicate of the socket
        threading.Thread(target=self.admin.serve_forever, name="demo-admin", daemon=True).start()

    def _start_engine(self) -> None:
        self.simulator = SwitchSimulator(default_scenario(time_scale=self.time_scale),
                                         seed=self.sim_seed).start()
        host, port = self.simulator.address
        # The simulator is configured like a FreeSWITCH node, so the daemon connects to it.
        engine_settings = dataclasses.replace(
            self.settings, switches=(SwitchNode("sim", host, port, self.simulator.password),),
            api_token=self.api_token)
        self.daemon = Daemon(engine_settings, self.sessions, clock=self.clock,
                             logins=[(agent, self.seed.campaign_id)
                                     for agent in self.seed.agent_ids])
        self.daemon.start()

    @property
    def admin_url(self) -> str:
        assert self.admin is not None
        return f"http://127.0.0.1:{self.admin.server_address[1]}/login"

    @property
    def api_url(self) -> str | None:
        server = self.daemon.api_server if self.daemon else None
        return f"http://{self.settings.api_host}:{server.server_port}" if server else None

    def live(self) -> tuple[int, int]:
        """(calls in progress, agents ready) right now."""
        core = self.daemon.core if self.daemon else None
        return (len(core.calls), len(core.agents.ready(self.seed.campaign_id))) if core else (0, 0)

    def stop(self) -> None:
        """Stop the admin; pause the campaign, hang up its calls and wait for them to end, log
        the agents out; then stop the engine and the simulator."""
        if self.admin is not None:
            self.admin.shutdown()
            self.admin.server_close()
        core = self.daemon.core if self.daemon else None
        if core is not None:
            set_campaign_status(self.sessions, self.seed, CampaignStatus.PAUSED, self.clock)
            for runner in list(core.runners.values()):
                runner.stop()
            for call in list(core.calls.values()):
                core.kill(call, "MANAGER_REQUEST")
            deadline = self.clock.monotonic() + HANGUP_WAIT_S
            while core.calls and self.clock.monotonic() < deadline:
                gevent.sleep(0.1)
            for agent in core.agents:  # the simulated ones and a seat that joined
                core.logout(agent.agent_id)
        if self.daemon is not None:
            self.daemon.stop()
        if self.simulator is not None:
            self.simulator.stop()
