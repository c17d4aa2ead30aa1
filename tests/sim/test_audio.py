"""Clips: espeak-ng when installed, a synthetic voice otherwise; both cached."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from engine.sim import audio
from engine.sim.audio import RATE, ClipLibrary, LegAudio, synthetic_voice


def test_without_espeak_the_clips_are_a_synthetic_voice(tmp_path, monkeypatch):
    monkeypatch.setattr(audio.shutil, "which", lambda name: None)
    library = ClipLibrary(tmp_path, "ru")
    hello = library.hello()
    assert len(hello) == int(0.6 * RATE) and np.abs(hello).max() > 1000
    greeting = library.machine_greeting(beep=True)
    assert len(greeting) > 5 * RATE and list(tmp_path.iterdir()) == []
    assert library.hello() is hello  # cached in memory


@pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("sox") is None, reason="needs espeak-ng and sox")
def test_espeak_clips_are_cached_on_disk(tmp_path):
    hello = ClipLibrary(tmp_path, "en").hello()
    assert len(list(tmp_path.glob("tts-*.wav"))) == 1 and len(hello) > 0.2 * RATE
    again = ClipLibrary(tmp_path, "en").hello()
    assert np.array_equal(hello, again)


def test_synthetic_voice_has_syllables_and_pauses():
    voice = synthetic_voice(2.0, seed=3).astype(np.float64)
    frames = np.abs(voice[: len(voice) // 160 * 160]).reshape(-1, 160).mean(axis=1)  # 20 ms frames
    assert (frames > 2000).sum() > 20 and (frames < 300).sum() > 5


def test_leg_audio_mixes_partner_voice_into_what_we_send():
    caller, agent = LegAudio(), LegAudio()
    agent.say(100, np.full(50, 1000, np.int16))
    caller.send(0, np.full(20, 7, np.int16))
    caller.connect(agent, 90)
    sent = caller.render_sent(0, 200)
    assert sent[:20].tolist() == [7] * 20 and sent[100:150].tolist() == [1000] * 50 and sent[150:].max() == 0
    assert caller.sending and not LegAudio().sending
    assert caller.render_received(0, 200).max() == 0
