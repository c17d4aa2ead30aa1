"""Start and stop a real FreeSWITCH on loopback with the project's freeswitch_conf/.

The configuration is copied to a temporary directory and a ``local_vars/test.xml`` is written
there with free loopback ports and a random Event Socket password, so the repository copy is
never modified and several switches can run side by side.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.freeswitch.raw_esl import esl_api

REPO_ROOT = Path(__file__).resolve().parents[2]
CONF_SOURCE = REPO_ROOT / "freeswitch_conf"
LOOPBACK = "127.0.0.1"
SIP_PROFILES = ("agents", "trunk")
AGENT_IDS = tuple(str(n) for n in range(1001, 1011))


# Where a source build installs it (FreeSWITCH's default prefix, and a common /opt one).
INSTALL_PREFIXES = ("/usr/local/freeswitch", "/opt/freeswitch")


def find_freeswitch() -> str | None:
    """The FreeSWITCH binary from $FREESWITCH_BIN, else PATH, else a usual install prefix."""
    configured = os.environ.get("FREESWITCH_BIN")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    candidates = [f"{prefix}/bin/freeswitch" for prefix in INSTALL_PREFIXES]
    return shutil.which("freeswitch") or next(
        (path for path in candidates if os.access(path, os.X_OK)), None)


def free_port() -> int:
    """A loopback port that is free for both UDP and TCP right now (SIP listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((LOOPBACK, 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((LOOPBACK, port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free loopback port found")


@dataclass(frozen=True)
class SwitchInfo:
    """Where a running test switch listens and where it keeps its files."""

    host: str
    esl_port: int
    esl_password: str
    agents_sip_port: int
    trunk_sip_port: int
    pbx_port: int  # where gateway "pbx" sends calls; a test's sipp listens there
    domain: str
    agent_passwords: dict[str, str]
    base_dir: Path
    recordings_dir: Path
    log_file: Path


@dataclass
class FreeSwitchProcess:
    """One FreeSWITCH process run in the foreground (-nc -nf) from a temp copy of the config."""

    binary: str
    base_dir: Path
    esl_password: str | None = None  # random when None
    process: subprocess.Popen[bytes] | None = None
    info: SwitchInfo | None = field(default=None, init=False)

    def start(self, timeout_s: float = 60.0) -> SwitchInfo:
        info = self._prepare()
        dirs = {name: info.base_dir / name for name in ("log", "db", "run", "temp", "storage", "cache", "sounds", "certs")}
        for path in [*dirs.values(), info.recordings_dir]:
            path.mkdir(parents=True, exist_ok=True)
        command = [
            self.binary, "-nonat", "-nonatmap", "-nocal", "-nc", "-nf",
            "-conf", str(info.base_dir / "conf"),
            "-log", str(dirs["log"]), "-db", str(dirs["db"]), "-run", str(dirs["run"]),
            "-temp", str(dirs["temp"]), "-storage", str(dirs["storage"]), "-cache", str(dirs["cache"]),
            "-sounds", str(dirs["sounds"]), "-certs", str(dirs["certs"]), "-recordings", str(info.recordings_dir),
        ]  # fmt: skip
        with (info.base_dir / "stdout.log").open("wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.info = info
        self._wait_for_esl(timeout_s)
        self._wait_for_sip_profiles(timeout_s)
        return info

    def _prepare(self) -> SwitchInfo:
        conf = self.base_dir / "conf"
        shutil.copytree(CONF_SOURCE, conf)
        info = SwitchInfo(
            host=LOOPBACK,
            esl_port=free_port(),
            esl_password=self.esl_password or "test-" + secrets.token_hex(8),
            agents_sip_port=free_port(),
            trunk_sip_port=free_port(),
            pbx_port=free_port(),
            domain="dialer.test",
            agent_passwords={agent: secrets.token_hex(6) for agent in AGENT_IDS},
            base_dir=self.base_dir,
            recordings_dir=self.base_dir / "recordings",
            log_file=self.base_dir / "log" / "freeswitch.log",
        )
        rtp_start = 20000 + secrets.randbelow(400) * 100
        overrides = {
            "dialer_local_ip": LOOPBACK,
            "dialer_external_ip": LOOPBACK,
            "dialer_esl_ip": LOOPBACK,
            "dialer_esl_port": info.esl_port,
            "dialer_esl_password": info.esl_password,
            "dialer_agents_sip_port": info.agents_sip_port,
            "dialer_trunk_sip_port": info.trunk_sip_port,
            "dialer_pbx_host": LOOPBACK,
            "dialer_pbx_port": info.pbx_port,
            "dialer_pbx_cidr": f"{LOOPBACK}/32",
            "dialer_rtp_start_port": rtp_start,
            "dialer_rtp_end_port": rtp_start + 99,
            "dialer_domain": info.domain,
            "dialer_loglevel": "info",
            "dialer_inbound_wait_s": 30,
            **{f"dialer_agent_{agent}_password": pw for agent, pw in info.agent_passwords.items()},
        }
        (conf / "local_vars" / "test.xml").write_text(render_vars(overrides))
        return info

    def _wait_for_esl(self, timeout_s: float) -> None:
        assert self.info is not None and self.process is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"FreeSWITCH exited with {self.process.returncode}; see {self.info.base_dir}")
            if esl_greeting(self.info.host, self.info.esl_port):
                return
            time.sleep(0.2)
        raise RuntimeError(f"FreeSWITCH Event Socket did not answer within {timeout_s} s; see {self.info.base_dir}")

    def _wait_for_sip_profiles(self, timeout_s: float) -> None:
        """mod_event_socket loads before mod_sofia: wait until every SIP profile is RUNNING."""
        assert self.info is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status = esl_api(self.info.host, self.info.esl_port, self.info.esl_password, "sofia status")
            running = {line.split()[0] for line in status.splitlines() if "profile" in line and "RUNNING" in line}
            if running >= set(SIP_PROFILES):
                return
            time.sleep(0.2)
        raise RuntimeError(f"SIP profiles {SIP_PROFILES} not all RUNNING within {timeout_s} s; see {self.info.base_dir}")

    def stop(self, timeout_s: float = 20.0) -> None:
        """``fsctl shutdown`` over the Event Socket, then SIGKILL if it is still running."""
        if self.process is None or self.process.poll() is not None:
            return
        assert self.info is not None
        try:
            esl_api(self.info.host, self.info.esl_port, self.info.esl_password, "fsctl shutdown")
        except OSError:
            pass  # the switch may close the socket before replying
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=timeout_s)


def render_vars(values: dict[str, object]) -> str:
    """A vars include file that sets each name to its value."""
    lines = [f'  <X-PRE-PROCESS cmd="set" data="{name}={value}"/>' for name, value in values.items()]
    return "<include>\n" + "\n".join(lines) + "\n</include>\n"


def esl_greeting(host: str, port: int) -> bool:
    """True when something on host:port sends FreeSWITCH's ``auth/request`` greeting."""
    try:
        with socket.create_connection((host, port), timeout=1.0) as sock:
            return b"auth/request" in sock.recv(256)
    except OSError:
        return False
