"""Fixtures for tests against a real FreeSWITCH started from freeswitch_conf/ on loopback.

Every test module here sets ``pytestmark = pytest.mark.freeswitch``; the tests skip when the
binary (FREESWITCH_BIN, PATH or /usr/local/freeswitch, /opt/freeswitch) or sipp is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.freeswitch.audio import speech_ulaw, tone_ulaw, write_rtp_pcap
from tests.freeswitch.esl_client import DialerEsl
from tests.freeswitch.sipp import SippAgent, find_sipp
from tests.freeswitch.switch import FreeSwitchProcess, SwitchInfo, find_freeswitch

CUSTOMER_TEXT = "Hello, this is the customer speaking. Who is calling, please?"
AGENT_TONE_HZ = 1000.0


@pytest.fixture(scope="session")
def freeswitch_binary() -> str:
    binary = find_freeswitch()
    if binary is None:
        pytest.skip("no FreeSWITCH binary: set FREESWITCH_BIN, put freeswitch on PATH "
                    "or install it under /usr/local/freeswitch")
    if find_sipp() is None:
        pytest.skip("sipp is not installed (Debian package sip-tester)")
    return binary


@pytest.fixture(scope="session")
def switch(freeswitch_binary: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SwitchInfo]:
    """One FreeSWITCH for the whole session, on free loopback ports, stopped at the end."""
    process = FreeSwitchProcess(freeswitch_binary, tmp_path_factory.mktemp("freeswitch"))
    info = process.start()
    try:
        yield info
    finally:
        process.stop()


@pytest.fixture
def esl(switch: SwitchInfo) -> Iterator[DialerEsl]:
    client = DialerEsl(switch).connect()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pcap files the far ends play: customer speech, and a 1 kHz tone for the agent."""
    path = tmp_path_factory.mktemp("audio")
    write_rtp_pcap(speech_ulaw(CUSTOMER_TEXT, path), path / "speech.pcap")
    write_rtp_pcap(tone_ulaw(AGENT_TONE_HZ, 6.0), path / "tone.pcap")
    return path


FarEnd = Callable[..., SippAgent]


@pytest.fixture
def far_end(tmp_path: Path, audio_dir: Path, switch: SwitchInfo) -> Iterator[FarEnd]:
    """Factory: ``far_end("uas_answer.xml", audio="speech.pcap")`` starts a sipp; all stop at teardown."""
    started: list[SippAgent] = []

    def start(scenario: str, audio: str | None = None, **kwargs: object) -> SippAgent:
        workdir = tmp_path / f"sipp{len(started)}"
        workdir.mkdir()
        if audio is not None:
            (workdir / "audio.pcap").symlink_to(audio_dir / audio)
        agent = SippAgent(scenario, workdir, **kwargs)  # type: ignore[arg-type]
        started.append(agent)
        return agent.start()

    yield start
    for agent in started:
        agent.stop()
