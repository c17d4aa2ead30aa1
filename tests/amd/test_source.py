import threading
import time

import numpy as np
import pytest
import soundfile as sf

from engine.amd.frames import FRAME_SAMPLES
from engine.amd.source import AudioFileError, RawTailer, file_frames, read_audio


def test_tailer_yields_frames_while_another_thread_writes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "call.r8"
    audio = (np.arange(FRAME_SAMPLES * 25) % 300).astype(np.int16)

    def writer() -> None:
        time.sleep(0.05)  # the file appears after the reader started waiting
        with path.open("wb") as handle:
            data = audio.astype("<i2").tobytes()
            for start in range(0, len(data), 1000):  # pieces that split frames
                handle.write(data[start:start + 1000])
                handle.flush()
                time.sleep(0.005)

    thread = threading.Thread(target=writer)
    thread.start()
    frames = list(RawTailer(path, timeout_s=0.3, poll_s=0.005).frames())
    thread.join()
    assert len(frames) == 25
    assert np.array_equal(np.concatenate(frames), audio)


def test_tailer_gives_up_without_a_file_and_can_be_stopped(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert list(RawTailer(tmp_path / "never.r8", timeout_s=0.05, poll_s=0.01).frames()) == []
    path = tmp_path / "long.r8"
    path.write_bytes(np.zeros(FRAME_SAMPLES * 10, "<i2").tobytes())
    tailer = RawTailer(path, timeout_s=10)
    got = []
    for frame in tailer.frames():
        got.append(frame)
        if len(got) == 3:
            tailer.stop()
    assert len(got) == 3


def test_tailer_timeout_follows_the_injected_clock(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "stalled.r8"
    path.write_bytes(np.ones(FRAME_SAMPLES * 2, "<i2").tobytes())
    naps: list[float] = []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        clock.advance(seconds)

    frames = list(RawTailer(path, timeout_s=1.0, poll_s=0.25, clock=clock, sleep=sleep).frames())
    assert len(frames) == 2 and sum(naps) == 1.0


def test_wav_is_resampled_and_channels_chosen(tmp_path) -> None:  # type: ignore[no-untyped-def]
    t = np.arange(16000) / 16000
    stereo = np.column_stack([0.5 * np.sin(2 * np.pi * 440 * t), np.zeros_like(t)])
    path = tmp_path / "x.wav"
    sf.write(path, stereo, 16000, subtype="PCM_16")
    left = read_audio(path)
    assert len(left) == 8000 and np.abs(left).max() > 10000
    assert np.abs(read_audio(path, channel=1)).max() == 0
    assert len(list(file_frames(path))) == 50
    with pytest.raises(AudioFileError, match="channel 2"):
        read_audio(path, channel=2)


def test_unreadable_files_are_named_in_the_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    with pytest.raises(AudioFileError, match="bad.wav"):
        read_audio(bad)
    odd = tmp_path / "odd.r8"
    odd.write_bytes(b"abc")
    with pytest.raises(AudioFileError, match="odd number of bytes"):
        read_audio(odd)
