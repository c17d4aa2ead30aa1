"""Synthetic 8 kHz G.711 call audio for training and evaluation, reproducible from a seed.

Each clip is what the dialer hears in the first seconds after an answer: a human greeting
("Алло?", "Hello?", a long introduction, a repeated "Алло?") over room or street noise, or a
machine (voicemail with or without a beep, a voice assistant, a company IVR, a network
announcement with SIT tones, or one of the *known* recordings that the fingerprint database
holds, joined at an unknown offset). Speech comes from espeak-ng (many languages, voice
variants, speeds, pitches); sox resamples to 8 kHz and shapes it (companding for recorded
greetings, reverb for speakerphones); numpy adds noise, tones and the G.711 codec.

Layout written by `generate`: DIR/<split>/<label>/<id>.wav and DIR/manifest.csv.
"""

from __future__ import annotations

import csv
import functools
import subprocess
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import soundfile as sf

from engine.amd import corpus_texts as texts
from engine.amd.frames import SAMPLE_RATE, g711_roundtrip, to_int16

CLIP_SECONDS = 5.0
SPLITS = ("train", "test")
HUMAN_KINDS = {"human_short": 0.5, "human_long": 0.3, "human_again": 0.2}
MACHINE_KINDS = {"voicemail": 0.3, "voicemail_short": 0.12, "assistant": 0.13, "ivr": 0.1,
                 "operator": 0.2, "known": 0.15}
SIT_CODES = {  # first tone, second tone, third tone durations: (Hz, ms) triples
    "vacant": ((985.2, 380), (1428.5, 380), (1776.7, 380)),
    "intercept": ((913.8, 274), (1370.6, 274), (1776.7, 380)),
    "reorder": ((913.8, 274), (1428.5, 380), (1776.7, 380)),
    "no_circuit": ((985.2, 380), (1370.6, 380), (1776.7, 380)),
}
KNOWN = {  # the recordings the fingerprint database knows: label, language, text, voice, SIT code
    "ru-unavailable": ("unreachable", "ru", "Аппарат абонента выключен или находится вне зоны действия сети. Пожалуйста, позвоните позднее.", "ru+f2", "vacant"),
    "ru-not-answering": ("unreachable", "ru", "Абонент не отвечает. Попробуйте позвонить позднее или отправьте сообщение.", "ru+m3", ""),
    "en-not-in-service": ("unreachable", "en", "The number you have dialed is not in service. Please check the number and try again.", "en-us+f3", "intercept"),
    "en-carrier-voicemail": ("machine", "en", "The person you are calling is not available. Please leave a message after the tone. When you have finished recording, you may hang up.", "en-us+m2", ""),
    "ru-carrier-voicemail": ("machine", "ru", "Абонент не может ответить на ваш звонок. Оставьте голосовое сообщение после звукового сигнала.", "ru+f4", ""),
    "ru-assistant": ("machine", "ru", "Здравствуйте, вы позвонили абоненту, который пользуется услугой секретарь. Представьтесь, пожалуйста, и скажите, что передать.", "ru+m1", ""),
}


class CorpusError(RuntimeError):
    """A synthesis tool failed or is missing."""


@dataclass(frozen=True, slots=True)
class ClipSpec:
    clip_id: str
    split: str
    label: str
    kind: str
    lang: str
    voice: str
    speed: int
    pitch: int
    text: str
    again_text: str
    pre_silence_ms: int
    noise: str
    snr_db: float
    level_db: float
    law: str
    beep_hz: float
    sit: str
    known: str
    known_offset_ms: int
    reverb: bool
    render_seed: int


def _choose(rng: np.random.Generator, weights: dict[str, float]) -> str:
    names = list(weights)
    p = np.array([weights[name] for name in names])
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def _pick(rng: np.random.Generator, items: list[str]) -> str:
    return items[int(rng.integers(len(items)))]


def _fill(template: str, lang: str, split: str, rng: np.random.Generator) -> str:
    return template.format(name=_pick(rng, texts.pool_for(texts.NAMES[lang], split, 3)),
                           company=_pick(rng, texts.pool_for(texts.COMPANIES[lang], split, 3)))


def make_spec(seed: int, split: str, index: int) -> ClipSpec:
    """The recipe of one clip; the same (seed, split, index) always gives the same clip."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r} (expected one of {', '.join(SPLITS)})")
    rng = np.random.default_rng([seed, SPLITS.index(split), index])
    label = "human" if rng.random() < 0.5 else "machine"
    kind = _choose(rng, HUMAN_KINDS if label == "human" else MACHINE_KINDS)
    lang = "ru" if rng.random() < 0.55 else "en"
    known = _pick(rng, sorted(KNOWN)) if kind == "known" else ""
    if known:
        lang = KNOWN[known][1]
    pool = {"human_short": texts.HUMAN_SHORT, "human_again": texts.HUMAN_SHORT, "human_long": texts.HUMAN_LONG,
            "voicemail": texts.VOICEMAIL, "voicemail_short": texts.VOICEMAIL_SHORT,
            "assistant": texts.ASSISTANT, "ivr": texts.IVR, "operator": texts.OPERATOR}.get(kind)
    text = _fill(_pick(rng, texts.pool_for(pool[lang], split, 4)), lang, split, rng) if pool else KNOWN[known][2]
    again = _pick(rng, texts.pool_for(texts.HUMAN_AGAIN[lang], split, 4)) if kind == "human_again" else ""
    variants = texts.pool_for(texts.VARIANTS, split, 4)
    if kind in ("assistant", "ivr", "operator") and rng.random() < 0.4:
        variants = texts.pool_for(texts.ROBOT_VARIANTS, split, 4)
    voice = f"{_pick(rng, texts.LANGUAGES[lang])}+{_pick(rng, variants)}"
    is_human = label == "human"
    pre = rng.gamma(2.0, 250.0) if is_human else rng.uniform(50, 900)
    noise = _pick(rng, ["white", "pink", "brown", "street", "hum", "none"] if is_human else ["white", "pink", "hum", "none"])
    beep = 0.0
    if kind == "voicemail_short" or (kind in ("voicemail", "known") and rng.random() < 0.6):
        beep = float(rng.choice([440.0, 800.0, 1000.0, 1400.0]) + rng.uniform(-20, 20))
    sit = ""
    if kind == "operator" and rng.random() < 0.6:
        sit = _pick(rng, sorted(SIT_CODES))
    return ClipSpec(
        clip_id=f"{split}-{index:05d}", split=split, label=label, kind=kind, lang=lang, voice=voice,
        speed=int(rng.integers(130, 200)) if is_human else int(rng.integers(140, 190)),
        pitch=int(rng.integers(25, 75)), text=text, again_text=again,
        pre_silence_ms=int(min(pre, 2600)), noise=noise,
        snr_db=float(rng.uniform(8, 35) if is_human else rng.uniform(18, 45)),
        level_db=float(rng.uniform(-30, -8)),
        law=("alaw" if lang == "ru" else "ulaw") if rng.random() < 0.8 else ("ulaw" if lang == "ru" else "alaw"),
        beep_hz=beep, sit=sit, known=known,
        known_offset_ms=int(rng.uniform(0, 2500)) if known else 0,
        reverb=bool(is_human and rng.random() < 0.2),
        render_seed=int(rng.integers(2 ** 31)),
    )


def speak(text: str, voice: str, speed: int = 170, pitch: int = 50, effects: tuple[str, ...] = ()) -> np.ndarray:
    """espeak-ng speech resampled to 8 kHz by sox (with optional sox effects), as float64."""
    try:
        wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
                             capture_output=True, check=True).stdout
        raw = subprocess.run(["sox", "-D", "-t", "wav", "-", "-t", "raw", "-e", "signed", "-b", "16", "-c", "1", "-",
                              *effects, "rate", str(SAMPLE_RATE)], input=wav, capture_output=True, check=True).stdout
    except FileNotFoundError as exc:
        raise CorpusError(f"{exc.filename} is not installed (the corpus needs espeak-ng and sox)") from exc
    except subprocess.CalledProcessError as exc:
        raise CorpusError(f"{exc.cmd[0]} failed for voice {voice!r}: {exc.stderr.decode(errors='replace').strip()}") from exc
    return np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0


def tone(hz: float, ms: float, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(SAMPLE_RATE * ms / 1000)) / SAMPLE_RATE
    ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.005) if len(t) else t
    return amplitude * ramp * np.sin(2 * np.pi * hz * t)


def sit_tones(code: str) -> np.ndarray:
    return np.concatenate([tone(hz, ms) for hz, ms in SIT_CODES[code]])


def silence(ms: float) -> np.ndarray:
    return np.zeros(int(SAMPLE_RATE * ms / 1000))


def make_noise(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Background noise with unit RMS ('none' is digital silence)."""
    if kind == "none":
        return np.zeros(n)
    white = rng.normal(size=n)
    if kind == "white":
        noise = white
    elif kind == "hum":
        t = np.arange(n) / SAMPLE_RATE
        noise = sum(np.sin(2 * np.pi * 50 * h * t + rng.uniform(0, 6)) / h for h in (1, 2, 3)) + 0.3 * white
    else:
        spectrum = np.fft.rfft(white)
        f = np.maximum(np.fft.rfftfreq(n, 1 / SAMPLE_RATE), 20.0)
        noise = np.fft.irfft(spectrum / (f if kind == "brown" else np.sqrt(f)), n)
        if kind == "street":
            envelope = np.interp(np.arange(n), np.linspace(0, n, 12), rng.uniform(0.3, 1.5, 12))
            noise = noise * envelope
    return noise / (np.sqrt(np.mean(noise ** 2)) + 1e-12)


def active_rms(signal: np.ndarray) -> float:
    """RMS over the 20 ms frames within 30 dB of the loudest one."""
    n = len(signal) // 160 * 160
    frames = signal[:n].reshape(-1, 160)
    power = (frames ** 2).mean(axis=1)
    return float(np.sqrt(power[power > power.max() * 1e-3].mean())) if n and power.max() > 0 else 0.0


@functools.lru_cache(maxsize=None)
def known_greeting(name: str) -> np.ndarray:
    """The canonical recording of a known greeting (int16, clean, before any call leg)."""
    label, _, text, voice, sit = KNOWN[name]
    speech = speak(text, voice, 160, 50, ("compand", "0.02,0.2", "6:-70,-60,-20", "-6"))
    parts = [sit_tones(sit), silence(150)] if sit else []
    return to_int16(np.concatenate(parts + [0.5 * speech / (np.abs(speech).max() + 1e-9)]))


def render(spec: ClipSpec) -> np.ndarray:
    """The clip as int16 PCM heard after the G.711 leg."""
    rng = np.random.default_rng(spec.render_seed)
    total = int(CLIP_SECONDS * SAMPLE_RATE)
    if spec.known:
        speech = known_greeting(spec.known).astype(np.float64) / 32768.0
        parts = [silence(spec.pre_silence_ms % 400), speech[spec.known_offset_ms * SAMPLE_RATE // 1000:]]
    else:
        parts = [silence(spec.pre_silence_ms), *_speech_parts(spec, rng)]
    signal = np.concatenate(parts)
    if spec.beep_hz and len(signal) < total - 0.5 * SAMPLE_RATE:
        signal = np.concatenate([signal, silence(rng.uniform(150, 700)), tone(spec.beep_hz, rng.uniform(250, 1000))])
    signal = np.concatenate([signal, silence(CLIP_SECONDS * 1000)])[:total]
    level = 10 ** (spec.level_db / 20)
    signal *= level / (active_rms(signal) + 1e-12)
    signal += make_noise(spec.noise, total, rng) * level * 10 ** (-spec.snr_db / 20)
    return g711_roundtrip(to_int16(signal), spec.law)


def _speech_parts(spec: ClipSpec, rng: np.random.Generator) -> list[np.ndarray]:
    effects: tuple[str, ...] = ("highpass", "250", "lowpass", "3600")
    if spec.label == "machine":
        effects += ("compand", "0.02,0.2", "6:-70,-60,-20", "-6")
    elif spec.reverb:
        effects += ("reverb", str(int(rng.uniform(20, 60))))
    parts = [speak(spec.text, spec.voice, spec.speed, spec.pitch, effects)]
    if spec.sit:
        parts = [sit_tones(spec.sit), silence(rng.uniform(50, 400)), *parts]
    if spec.again_text:
        parts += [silence(rng.uniform(1000, 2000)), speak(spec.again_text, spec.voice, spec.speed, spec.pitch, effects)]
    return parts


def generate(out_dir: str | Path, seed: int, count: int, split: str) -> list[ClipSpec]:
    """Write `count` clips of one split under out_dir/<split>/<label>/ and append to the manifest."""
    out = Path(out_dir)
    specs = [make_spec(seed, split, index) for index in range(count)]
    for spec in specs:
        path = out / split / spec.label / f"{spec.clip_id}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, render(spec), SAMPLE_RATE, subtype="PCM_16")
    write_manifest(out / "manifest.csv", specs)
    return specs


def write_manifest(path: Path, specs: list[ClipSpec]) -> None:
    """Append rows (with a `path` column relative to the manifest) to the manifest CSV."""
    new = not path.exists()
    with path.open("a", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["path", *(f.name for f in fields(ClipSpec))])
        if new:
            writer.writeheader()
        for spec in specs:
            writer.writerow({"path": f"{spec.split}/{spec.label}/{spec.clip_id}.wav", **asdict(spec)})


def write_known(out_dir: str | Path) -> list[tuple[Path, str]]:
    """Write the known recordings to out_dir/known/<name>.wav; returns (path, fingerprint label) pairs."""
    folder = Path(out_dir) / "known"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (label, *_) in sorted(KNOWN.items()):
        path = folder / f"{name}.wav"
        sf.write(path, known_greeting(name), SAMPLE_RATE, subtype="PCM_16")
        written.append((path, label))
    return written
