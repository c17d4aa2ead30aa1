"""Recording files: safe lookup under the recordings directory and MP3 transcoding.

MP3 needs ``ffmpeg`` or ``lame`` on PATH; without either, downloads stay in their recorded
format (WAV), which :func:`mp3_encoder` lets callers report.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

TRANSCODE_TIMEOUT_S = 120


class RecordingMissing(LookupError):
    """The recording file is absent or lies outside the recordings directory."""


def resolve(recordings_dir: Path, stored: str) -> Path:
    """The file for a stored path (absolute or relative), only if inside ``recordings_dir``."""
    root = recordings_dir.resolve()
    path = Path(stored)
    path = (path if path.is_absolute() else root / path).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise RecordingMissing(stored)
    return path


def mp3_encoder() -> list[str] | None:
    """The command prefix that turns a WAV into MP3, or None when no encoder is installed."""
    if shutil.which("ffmpeg"):
        return ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i"]
    if shutil.which("lame"):
        return ["lame", "--quiet"]
    return None


def to_mp3(source: Path, cache_dir: Path, name: str) -> Path | None:
    """An MP3 of ``source`` cached as ``cache_dir/name.mp3``; None without an encoder."""
    encoder = mp3_encoder()
    if encoder is None:
        return None
    target = cache_dir / f"{name}.mp3"
    if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part.mp3")
    subprocess.run([*encoder, str(source), str(partial)], check=True, timeout=TRANSCODE_TIMEOUT_S,
                   stdin=subprocess.DEVNULL, capture_output=True)
    partial.replace(target)
    return target
