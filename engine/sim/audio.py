"""What each leg says and hears: cached clips (espeak-ng + sox, or a synthetic voice) placed on a sample timeline."""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from pathlib import Path

import numpy as np
import soundfile
from gevent import subprocess  # cooperative: generating a clip must not stall the switch

RATE = 8000
log = logging.getLogger(__name__)

HELLO_TEXT = {"ru": "Алло?", "en": "Hello?"}
ANNOUNCEMENT_TEXT = {
    "ru": "Неправильно набран номер или такого номера не существует.",
    "en": "The number you have dialled is not in service. Please check the number and try again.",
}
SIT_TONES = ((913.8, 0.274), (1370.6, 0.274), (1776.7, 0.380))  # ITU-T E.180 vacant code
MACHINE_TEXT = {
    "ru": "Здравствуйте. Вы позвонили на автоответчик. Оставьте, пожалуйста, сообщение после сигнала.",
    "en": "Hello, you have reached the voicemail of this number. Please leave a message after the tone.",
}


def synthetic_voice(seconds: float, seed: int, pitch_hz: float = 140.0) -> np.ndarray:
    """A speech-like signal: voiced harmonics with vibrato, shaped into syllables and pauses."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    f0 = pitch_hz * (1 + 0.08 * np.sin(2 * np.pi * 3.1 * t + rng.uniform(0, 6)))
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    voiced = sum((0.6 / k) * np.sin(k * phase) for k in range(1, 12))
    envelope = np.zeros(n)
    pos = 0
    while pos < n:
        syllable = int(rng.uniform(0.12, 0.28) * RATE)
        end = min(n, pos + syllable)
        envelope[pos:end] = np.hanning(syllable)[: end - pos]
        pos = end + int(rng.choice([0.03, 0.05, 0.08, 0.35]) * RATE)
    noise = rng.normal(0, 0.02, n)
    signal = (voiced * envelope + noise) * 0.35
    return np.clip(signal * 32767, -32768, 32767).astype(np.int16)


def tone(seconds: float, freq: float = 1000.0, level: float = 0.4) -> np.ndarray:
    """A pure tone, e.g. the answering machine's beep."""
    t = np.arange(int(seconds * RATE)) / RATE
    return (np.sin(2 * np.pi * freq * t) * level * 32767).astype(np.int16)


def read_clip(path: str | Path) -> np.ndarray:
    """Any sound file as 8 kHz mono int16."""
    data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    mono = data.mean(axis=1)
    if rate != RATE:
        from scipy.signal import resample_poly

        g = np.gcd(int(rate), RATE)
        mono = resample_poly(mono, RATE // g, int(rate) // g)
    return np.clip(mono * 32767, -32768, 32767).astype(np.int16)


class ClipLibrary:
    """Clips by role, generated once into a cache directory; espeak-ng is used when installed."""

    def __init__(self, cache_dir: str | Path | None = None, language: str = "ru") -> None:
        base = Path(cache_dir) if cache_dir else Path(tempfile.gettempdir()) / "dialer-sim-clips"
        self.cache_dir = base
        self.language = language
        self._memory: dict[str, np.ndarray] = {}

    def _tts(self, text: str, voice: str, fallback_seconds: float, seed: int) -> np.ndarray:
        key = hashlib.sha1(f"{voice}|{text}".encode()).hexdigest()[:16]
        if key in self._memory:
            return self._memory[key]
        target = self.cache_dir / f"tts-{key}.wav"
        if not target.exists() and shutil.which("espeak-ng") and shutil.which("sox"):
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            raw = target.with_suffix(".raw.wav")
            try:
                subprocess.run(["espeak-ng", "-v", voice, "-w", str(raw), text], check=True,
                               capture_output=True, timeout=30)
                subprocess.run(["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(target)],
                               check=True, capture_output=True, timeout=30)
            except (subprocess.SubprocessError, OSError) as exc:
                log.warning("espeak-ng/sox failed (%s); using a synthetic voice", exc)
            finally:
                raw.unlink(missing_ok=True)
        clip = read_clip(target) if target.exists() else synthetic_voice(fallback_seconds, seed)
        self._memory[key] = clip
        return clip

    def clip_file(self, path: str) -> np.ndarray:
        """A clip from a file named in the scenario (read once)."""
        if path not in self._memory:
            self._memory[path] = read_clip(path)
        return self._memory[path]

    def warm_up(self) -> None:
        """Generate (or load) the standard clips now rather than during the first calls."""
        self.hello()
        self.machine_greeting(beep=True)

    def hello(self) -> np.ndarray:
        return self._tts(HELLO_TEXT.get(self.language, HELLO_TEXT["en"]), self.language, 0.6, 1)

    def machine_greeting(self, beep: bool) -> np.ndarray:
        greeting = self._tts(MACHINE_TEXT.get(self.language, MACHINE_TEXT["en"]), self.language, 5.0, 2)
        if not beep:
            return greeting
        return np.concatenate([greeting, np.zeros(RATE // 2, np.int16), tone(0.6)])

    def announcement(self) -> np.ndarray:
        """The network's early-media announcement: SIT tones, then the recorded words."""
        text = ANNOUNCEMENT_TEXT.get(self.language, ANNOUNCEMENT_TEXT["en"])
        sit = np.concatenate([tone(seconds, hz) for hz, seconds in SIT_TONES])
        return np.concatenate([sit, np.zeros(RATE // 10, np.int16), self._tts(text, self.language, 3.0, 3)])

    def talk(self, turn: int, pitch_hz: float) -> np.ndarray:
        """One conversational turn (2-4 s of voice), cycled from a few cached variants."""
        key = f"talk-{turn % 4}-{int(pitch_hz)}"
        if key not in self._memory:
            self._memory[key] = synthetic_voice(2.0 + (turn % 4) * 0.6, 100 + turn % 4, pitch_hz)
        return self._memory[key]


class LegAudio:
    """A leg's two directions on the switch's absolute sample clock.

    `received` is what the far end sends us (the callee's voice); `sent` is what we send to it
    (playback, or the bridged partner's received audio).
    """

    def __init__(self) -> None:
        self.received: list[tuple[int, np.ndarray]] = []
        self.sent: list[tuple[int, np.ndarray]] = []
        self.partner: LegAudio | None = None
        self.partner_since = 0
        self._sent_clip: tuple[int, np.ndarray] | None = None
        self.playing = False  # a playback (even of silence) is being sent
        self.comfort_noise = False  # `send_silence_when_idle`: an idle leg is sent silence

    @property
    def sending(self) -> bool:
        """Whether the switch sends this leg any audio at all (a parked leg gets none, unless
        it has `send_silence_when_idle`)."""
        return self.playing or self.partner is not None or self.comfort_noise

    def say(self, at_sample: int, clip: np.ndarray) -> None:
        self.received.append((at_sample, clip))

    def send(self, at_sample: int, clip: np.ndarray) -> None:
        self._sent_clip = (at_sample, clip)
        self.sent.append(self._sent_clip)
        self.playing = True

    def stop_sending(self, at_sample: int) -> None:
        self.playing = False
        if self._sent_clip is not None and self._sent_clip in self.sent:
            start, clip = self._sent_clip
            self.sent.remove(self._sent_clip)
            self.sent.append((start, clip[: max(0, at_sample - start)]))
        self._sent_clip = None

    def connect(self, partner: LegAudio, at_sample: int) -> None:
        self.partner, partner.partner = partner, self
        self.partner_since = partner.partner_since = at_sample

    def disconnect(self) -> None:
        if self.partner is not None:
            self.partner.partner = None
        self.partner = None

    @staticmethod
    def _render(segments: list[tuple[int, np.ndarray]], start: int, end: int) -> np.ndarray:
        out = np.zeros(end - start, np.int32)
        for seg_start, clip in segments:
            lo, hi = max(start, seg_start), min(end, seg_start + len(clip))
            if lo < hi:
                out[lo - start:hi - start] += clip[lo - seg_start:hi - seg_start]
        return out

    def render_received(self, start: int, end: int) -> np.ndarray:
        return np.clip(self._render(self.received, start, end), -32768, 32767).astype(np.int16)

    def render_sent(self, start: int, end: int) -> np.ndarray:
        mixed = self._render(self.sent, start, end)
        if self.partner is not None:
            lo = max(start, self.partner_since)
            if lo < end:
                mixed[lo - start:] += self.partner._render(self.partner.received, lo, end)
        return np.clip(mixed, -32768, 32767).astype(np.int16)
