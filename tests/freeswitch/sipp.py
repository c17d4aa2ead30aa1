"""Run the project's sipp scenarios (tests/freeswitch/sipp/) as far ends on loopback."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tests.freeswitch.switch import LOOPBACK, free_port

SCENARIO_DIR = Path(__file__).resolve().parent / "sipp"
_TRACE_SEPARATOR = "----------------------------------------------- "


def find_sipp() -> str | None:
    return shutil.which("sipp")


def _udp_port_taken(ip: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((ip, port))
        except OSError:
            return True
    return False


@dataclass
class SippAgent:
    """One sipp process; its working directory holds ``audio.pcap`` and what the scenario writes.

    A UAS listens on ``port``; ``uri(user)`` is what the switch dials to reach it.
    """

    scenario: str
    workdir: Path
    calls: int = 1
    extra_args: list[str] = field(default_factory=list)
    remote: str | None = None
    ip: str = LOOPBACK
    port: int = field(default_factory=free_port)  # pass a fixed port to listen where the switch sends
    media_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> SippAgent:
        self.workdir.mkdir(parents=True, exist_ok=True)
        command = [
            "sipp", "-sf", str(SCENARIO_DIR / self.scenario),
            "-i", self.ip, "-p", str(self.port), "-mi", self.ip, "-mp", str(self.media_port),
            "-m", str(self.calls), "-nostdin",
            "-trace_err", "-error_file", str(self.workdir / "sipp_errors.log"),
            "-trace_msg", "-message_file", str(self.workdir / "messages.log"),
            *self.extra_args,
        ]  # fmt: skip
        if self.remote:
            command.append(self.remote)
        self.process = subprocess.Popen(command, cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_until_listening()
        return self

    def _wait_until_listening(self, timeout_s: float = 5.0) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sipp {self.scenario} exited with {self.process.returncode}; see {self.workdir}")
            if _udp_port_taken(self.ip, self.port):
                return
            time.sleep(0.02)
        raise RuntimeError(f"sipp {self.scenario} did not bind {self.port}; see {self.workdir}")

    def uri(self, user: str) -> str:
        return f"{user}@{self.ip}:{self.port}"

    def wait(self, timeout_s: float) -> int | None:
        """sipp's exit status once all its calls are done, or None if still running after timeout_s."""
        assert self.process is not None
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            if self.wait(3.0) is None:
                self.process.kill()
                self.process.wait()

    def errors(self) -> str:
        """What sipp wrote to its error log (unexpected messages name the SIP response)."""
        path = self.workdir / "sipp_errors.log"
        return path.read_text() if path.exists() else ""

    def received(self, method: str) -> list[tuple[float, str]]:
        """(wall-clock time, message) of every SIP request *method* sipp received (-trace_msg log)."""
        path = self.workdir / "messages.log"
        found = []
        for block in path.read_text().split(_TRACE_SEPARATOR)[1:] if path.exists() else []:
            stamp, _, rest = block.partition("\n")
            direction, _, message = rest.partition("\n\n")
            if "message received" in direction and message.startswith(f"{method} "):
                found.append((datetime.strptime(stamp.strip(), "%Y-%m-%d %H:%M:%S.%f").timestamp(), message))
        return found

    def ack_received_at(self) -> float | None:
        """Wall-clock time the last ACK arrived (a UAS starts its audio right then), or None."""
        acks = self.received("ACK")
        return acks[-1][0] if acks else None
