import numpy as np
import pytest

from engine.amd.classifier import FEATURE_NAMES, AmdModel, Thresholds
from engine.amd.corpus import sit_tones
from engine.amd.detector import Decision, StreamingDetector
from engine.amd.evaluate import run_detector
from engine.amd.fingerprint import FingerprintDB

from .conftest import frames_of, pcm, silence, tone


class FixedModel:
    """A stand-in model that always says the same P(machine) and counts its calls."""

    def __init__(self, p: float, thresholds: Thresholds | None = None) -> None:
        self.p, self.calls = p, 0
        self.thresholds = thresholds or Thresholds()

    def p_machine(self, vector: np.ndarray) -> float:
        assert vector.shape == (len(FEATURE_NAMES),) and np.isfinite(vector).all()
        self.calls += 1
        return self.p


def decide(audio: np.ndarray, **kwargs) -> Decision:  # type: ignore[no-untyped-def]
    return run_detector(StreamingDetector(**kwargs), frames_of(audio))


def test_sit_means_unreachable_early_even_with_an_eager_classifier() -> None:
    model = FixedModel(0.999)
    d = decide(pcm(silence(200), sit_tones("intercept"), silence(3000), noise_db=-50, law="ulaw"), model=model)
    assert (d.label, d.reason) == ("machine", "unreachable:sit") and d.unreachable
    assert d.decision_ms <= 1400
    assert model.calls == 0  # the classifier waits while SIT tones sound


def test_a_fingerprinted_announcement_decides_at_once(phrases) -> None:  # type: ignore[no-untyped-def]
    db = FingerprintDB()
    db.add(pcm(phrases["ru-operator"]), "ru-operator", "unreachable")
    d = decide(pcm(silence(150), phrases["ru-operator"][5000:], noise_db=-45, law="alaw"),
               fingerprints=db, model=FixedModel(0.5))
    assert (d.label, d.reason) == ("machine", "unreachable:fingerprint:ru-operator")
    assert d.decision_ms <= 1600


def test_a_beep_means_machine_and_is_reported() -> None:
    d = decide(pcm(silence(300), tone(1000, 500), silence(2000), noise_db=-50))
    assert (d.label, d.reason) == ("machine", "beep") and d.beep_at_ms is not None
    assert 500 <= d.beep_at_ms <= d.decision_ms <= 900


def test_classifier_decides_machine_when_confident(phrases) -> None:  # type: ignore[no-untyped-def]
    model = FixedModel(0.99)
    d = decide(pcm(silence(300), phrases["en-voicemail"]), model=model)
    assert (d.label, d.reason) == ("machine", "classifier") and d.confidence == 0.99
    assert model.calls == 1  # the first checkpoint after the greeting began


def test_classifier_decides_human_only_after_silence(phrases) -> None:  # type: ignore[no-untyped-def]
    d = decide(pcm(silence(300), phrases["hello"], silence(3000), noise_db=-50), model=FixedModel(0.01))
    assert (d.label, d.reason) == ("human", "classifier")
    speech_end_ms = 300 + int(np.nonzero(np.abs(phrases["hello"]) > 0.01)[0][-1]) // 8
    assert speech_end_ms + 400 <= d.decision_ms <= speech_end_ms + 800


def test_budget_gives_unknown_or_a_confident_enough_machine(phrases) -> None:  # type: ignore[no-untyped-def]
    audio = pcm(silence(300), phrases["en-voicemail"])
    unsure = decide(audio, model=FixedModel(0.5), budget_s=2.0)
    assert (unsure.label, unsure.reason, unsure.decision_ms) == ("unknown", "budget", 2000)
    leaning = decide(audio, model=FixedModel(0.8, Thresholds(budget_machine=0.75)), budget_s=2.0)
    assert (leaning.label, leaning.reason, leaning.decision_ms) == ("machine", "classifier:budget", 2000)
    assert decide(pcm(silence(5000))).reason == "budget"


def test_one_decision_only_and_finish_returns_it() -> None:
    detector = StreamingDetector(budget_s=0.5)
    decisions = [d for d in (detector.feed(f) for f in frames_of(pcm(silence(2000)))) if d]
    assert len(decisions) == 1 and detector.finish() is decisions[0]


def test_no_audio_and_bad_frames() -> None:
    assert StreamingDetector().finish().reason == "no-audio"
    assert decide(pcm(silence(1000))).reason == "audio-ended"
    with pytest.raises(ValueError, match="160 samples"):
        StreamingDetector().feed(np.zeros(80, np.int16))
    with pytest.raises(ValueError, match="budget_s"):
        StreamingDetector(budget_s=0)


def test_shipped_model_loads_and_its_compiled_trees_equal_sklearn() -> None:
    from engine.amd import load_default_detector

    detector = load_default_detector()
    model = detector.model
    assert isinstance(model, AmdModel) and detector._matcher is not None
    x = np.random.default_rng(0).normal(size=(50, len(FEATURE_NAMES))) * 500
    expected = model.estimator.predict_proba(x)[:, 1]
    np.testing.assert_allclose([model.p_machine(row) for row in x], expected, rtol=1e-9, atol=1e-12)
