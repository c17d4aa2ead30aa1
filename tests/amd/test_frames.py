import numpy as np
import pytest

from engine.amd.frames import (
    FRAME_SAMPLES, alaw_decode, alaw_encode, g711_roundtrip, split_frames, ulaw_decode, ulaw_encode,
)


def test_g711_silence_codes_and_extremes() -> None:
    assert ulaw_encode(np.array([0], np.int16))[0] == 0xFF
    assert alaw_encode(np.array([0], np.int16))[0] == 0xD5
    assert ulaw_decode(np.array([0x80], np.uint8))[0] == 32124
    assert alaw_decode(np.array([0xAA], np.uint8))[0] == 32256


@pytest.mark.parametrize("law", ["ulaw", "alaw"])
def test_g711_roundtrip_is_monotonic_with_bounded_relative_error(law: str) -> None:
    x = np.arange(-32768, 32768, dtype=np.int32).astype(np.int16)
    y = g711_roundtrip(x, law).astype(np.int64)
    assert np.all(np.diff(y) >= 0)
    big = np.abs(x.astype(np.int64)) > 256
    assert np.max(np.abs(y[big] - x[big]) / np.abs(x[big])) < 0.07  # 8-bit logarithmic: ~3 % steps


@pytest.mark.parametrize(("encode", "decode"), [(ulaw_encode, ulaw_decode), (alaw_encode, alaw_decode)])
def test_every_code_decodes_to_a_value_that_encodes_back(encode, decode) -> None:  # type: ignore[no-untyped-def]
    codes = np.arange(256, dtype=np.uint8)
    again = encode(decode(codes))
    assert np.array_equal(decode(again), decode(codes))


def test_unknown_law_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown G.711 law"):
        g711_roundtrip(np.zeros(4, np.int16), "gsm")


def test_split_frames_pads_the_last_frame() -> None:
    frames = list(split_frames(np.ones(FRAME_SAMPLES * 2 + 10, np.int16)))
    assert len(frames) == 3 and all(f.shape == (FRAME_SAMPLES,) for f in frames)
    assert frames[2][:10].tolist() == [1] * 10 and not frames[2][10:].any()
    assert len(list(split_frames(np.ones(FRAME_SAMPLES + 10, np.int16), pad=False))) == 1
