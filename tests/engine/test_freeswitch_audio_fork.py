"""AMD on a real FreeSWITCH hearing the customer through mod_audio_fork's websocket stream.

The node is configured with ``amd_source = "audio_fork"`` and the real-switch AMD tests of
tests/freeswitch/test_amd_engine.py run on it: sipp far ends play a machine greeting and a human
greeting (held-out corpus clips), and a SIT announcement as early media; the machine is dropped,
the human bridged to a sipp agent, the announcement hung up while it rings. Here, in addition,
every call was heard through a stream that reached the engine's websocket server, and none fell
back to recording. Skipped, with the reason, where the switch has no mod_audio_fork (build and
install it as docs/amd.md says).
"""

from __future__ import annotations

import functools

import pytest

from engine.amd.audio_fork import AudioForkServer, ForkStream
from engine.config import SwitchNode
from tests.freeswitch import test_amd_engine as stock
from tests.freeswitch.switch import SwitchInfo, esl_api
from tests.freeswitch.test_amd_engine import engine, phones  # noqa: F401 (fixtures by name)

from .conftest import attempts

pytestmark = [pytest.mark.freeswitch, pytest.mark.slow]  # real-time calls, espeak-ng clips


@pytest.fixture(autouse=True)
def streams(switch: SwitchInfo, monkeypatch: pytest.MonkeyPatch) -> list[ForkStream]:
    """Every stream the switch connected to the engine's server; before the ``engine`` fixture
    starts, its node is given ``amd_source = "audio_fork"``. Skips without the module."""
    loaded = esl_api(switch.host, switch.esl_port, switch.esl_password,
                     "module_exists mod_audio_fork").strip()
    if loaded != "true":
        pytest.skip("this FreeSWITCH has no mod_audio_fork (module_exists says "
                    f"{loaded!r}): build and install it as docs/amd.md describes")
    monkeypatch.setattr(stock, "SwitchNode", functools.partial(SwitchNode, amd_source="audio_fork"))
    attached: list[ForkStream] = []
    original = AudioForkServer.attach

    def spy(self: AudioForkServer, name: str) -> ForkStream:
        stream = original(self, name)
        attached.append(stream)
        return stream

    monkeypatch.setattr(AudioForkServer, "attach", spy)
    return attached


def no_fallback(caplog: pytest.LogCaptureFixture) -> None:
    assert "recording for AMD instead" not in caplog.text


def test_machine_dropped_human_bridged_from_the_stream(  # type: ignore[no-untyped-def]
        engine, streams, phones, factory, session, sessionmaker_, caplog) -> None:
    stock.test_machine_dropped_human_bridged(engine, phones, factory, session, sessionmaker_)
    answered = {f"{a.call_uuid}/dialer_amd" for a in attempts(sessionmaker_)}
    assert len(answered) == 2 and answered <= {s.name for s in streams}  # heard from the stream
    assert all(s.error is None for s in streams)
    assert all(len(s.heard()) > 8000 for s in streams if s.name in answered)  # > 1 s each
    no_fallback(caplog)  # ... and never from a recording


def test_sit_in_early_media_heard_from_the_stream(  # type: ignore[no-untyped-def]
        engine, streams, phones, factory, session, sessionmaker_, tmp_path, caplog) -> None:
    stock.test_sit_in_early_media_hung_up_while_ringing(engine, phones, factory, session,
                                                        sessionmaker_, tmp_path)
    (row,) = attempts(sessionmaker_)
    assert [s.name for s in streams] == [f"{row.call_uuid}/dialer_amd_early"]
    no_fallback(caplog)
