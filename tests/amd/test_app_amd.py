import numpy as np

from engine.amd.app_amd import AppAmd, AppAmdParams
from engine.amd.evaluate import run_detector

from .conftest import frames_of, pcm, silence


def loud(ms: float) -> np.ndarray:
    return 0.1 * np.sign(np.sin(np.arange(int(8 * ms)) * 0.3))  # mean |x| ~ 3200 >> 256


def decide(audio: np.ndarray, params: AppAmdParams | None = None):  # type: ignore[no-untyped-def]
    return run_detector(AppAmd(params), frames_of(audio))


def test_initial_silence_is_a_machine() -> None:
    d = decide(pcm(silence(4000)))
    assert (d.label, d.reason, d.decision_ms) == ("machine", "INITIALSILENCE-2500-2500", 2500)


def test_short_greeting_then_silence_is_human() -> None:
    d = decide(pcm(silence(300), loud(600), silence(2000)))
    assert (d.label, d.reason) == ("human", "HUMAN-800-800")
    assert d.decision_ms == 300 + 600 + 800


def test_long_greeting_is_a_machine_at_1500_ms_of_voice() -> None:
    d = decide(pcm(silence(200), loud(3000)))
    assert (d.label, d.reason, d.decision_ms) == ("machine", "LONGGREETING-1500-1500", 1700)


def three_words() -> np.ndarray:
    return pcm(silence(300), loud(200), silence(100), loud(200), silence(100), loud(200), silence(2000))


def test_a_third_word_exceeds_the_default_two() -> None:
    d = decide(three_words())
    assert (d.label, d.reason) == ("machine", "MAXWORDS-3-2")


def test_the_real_default_is_two_words_and_configurable() -> None:
    assert AppAmdParams().maximum_number_of_words == 2
    assert decide(three_words(), AppAmdParams(maximum_number_of_words=3)).label == "human"


def test_a_word_without_silence_before_it_is_not_counted() -> None:
    # as in Asterisk, the state starts "in word": speech right at the answer opens no new word
    d = decide(pcm(loud(200), silence(100), loud(200), silence(100), loud(200), silence(2000)))
    assert (d.label, d.reason) == ("human", "HUMAN-800-800")


def test_noise_above_the_threshold_is_voice_and_runs_out_the_clock() -> None:
    audio = pcm(silence(6000), noise_db=-30)  # mean |x| ~ 800 > 256: never silent
    d = decide(audio, AppAmdParams(greeting=10_000, maximum_number_of_words=99))
    assert (d.label, d.reason) == ("unknown", "TOOLONG-5000")


def test_finish_without_a_decision_is_notsure_and_feed_after_is_ignored() -> None:
    amd = AppAmd()
    for frame in frames_of(pcm(silence(200), loud(400))):
        assert amd.feed(frame) is None
    d = amd.finish()
    assert d.label == "unknown" and d.reason.startswith("TOOLONG")
    assert amd.feed(frames_of(pcm(loud(20)))[0]) is None and amd.finish() is d
