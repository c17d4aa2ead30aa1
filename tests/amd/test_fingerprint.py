import numpy as np
import pytest

from engine.amd.analysis import analyse_block
from engine.amd.fingerprint import FingerprintDB, FingerprintMatcher

from .conftest import frames_of, pcm, silence


@pytest.fixture(scope="module")
def db(phrases) -> FingerprintDB:  # type: ignore[no-untyped-def]
    db = FingerprintDB()
    db.add(pcm(phrases["ru-operator"]), "ru-operator", "unreachable")
    db.add(pcm(phrases["en-voicemail"]), "en-voicemail", "machine")
    return db


def first_match(db: FingerprintDB, audio: np.ndarray):  # type: ignore[no-untyped-def]
    matcher = FingerprintMatcher(db)
    frames = frames_of(audio)
    for start in range(0, len(frames), 10):
        match = matcher.update(analyse_block(frames[start:start + 10]), (start + 10) * 20)
        if match:
            return match
    return None


@pytest.mark.parametrize(("name", "offset_samples", "noise_db", "law"), [
    ("ru-operator", 0, None, None),
    ("ru-operator", 8000 + 37, -35, "alaw"),  # joined 1 s in, off the frame grid, white noise, A-law
    ("en-voicemail", 12000 + 101, -35, "ulaw"),  # SNR about 12 dB
])
def test_known_recording_matches_despite_offset_noise_and_codec(db, phrases, name, offset_samples, noise_db, law) -> None:  # type: ignore[no-untyped-def]
    audio = pcm(silence(300), 0.7 * phrases[name][offset_samples:], noise_db=noise_db, law=law, seed=offset_samples)
    match = first_match(db, audio)
    assert match is not None and match.name == name
    assert match.label == db.entries[[e["name"] for e in db.entries].index(name)]["label"]
    assert match.at_ms <= 2500  # decided within the first seconds of what was heard


def test_other_speech_by_the_same_voice_does_not_match(db, phrases) -> None:  # type: ignore[no-untyped-def]
    assert first_match(db, pcm(phrases["en-other"], noise_db=-40, law="ulaw")) is None
    assert first_match(db, pcm(phrases["hello"], silence(2000), noise_db=-40)) is None


def test_save_and_load_round_trip(db, tmp_path, phrases) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "fp.npz"
    db.save(path)
    again = FingerprintDB.load(path)
    assert again.entries == db.entries
    assert np.array_equal(again.hashes, db.hashes) and np.array_equal(again.times, db.times)
    assert first_match(again, pcm(phrases["ru-operator"][4000:])).name == "ru-operator"


def test_bad_additions_are_refused(db, phrases) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="label"):
        FingerprintDB().add(pcm(phrases["hello"]), "x", "human")
    with pytest.raises(ValueError, match="already"):
        db.add(pcm(phrases["hello"]), "ru-operator", "machine")
    with pytest.raises(ValueError, match="no audible landmarks"):
        FingerprintDB().add(np.zeros(8000, np.int16), "silence", "machine")


def test_loading_another_format_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "old.npz"
    np.savez(path, format=np.int64(0), hashes=np.zeros(0, np.uint32), tracks=np.zeros(0, np.uint16),
             times=np.zeros(0, np.uint16), entries=np.array("[]"))
    with pytest.raises(ValueError, match="format 0"):
        FingerprintDB.load(path)
