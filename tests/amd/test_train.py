"""Threshold tuning on replayed checkpoints: the human-loss cap, then speed within an accuracy slack."""

import numpy as np
import pytest

from engine.amd.classifier import FEATURE_NAMES
from engine.amd.evaluate import LabelledFile
from engine.amd.train import ClipTrace, score, tune

ELAPSED, TRAILING = FEATURE_NAMES.index("elapsed_ms"), FEATURE_NAMES.index("trailing_silence_ms")


def trace(label: str, steps: list[tuple[int, int]]) -> ClipTrace:
    """A clip whose checkpoints are at the given (elapsed_ms, trailing_silence_ms)."""
    vectors = np.zeros((len(steps), len(FEATURE_NAMES)))
    for row, (elapsed, trailing) in zip(vectors, steps):
        row[ELAPSED], row[TRAILING] = elapsed, trailing
    return ClipTrace(LabelledFile(f"{label}.wav", label), label, vectors, None)  # type: ignore[arg-type]


@pytest.fixture
def corpus() -> tuple[list[ClipTrace], list[np.ndarray]]:
    """Humans who stop at once; machines that pause 400 ms, look human and are plain only at 2.6 s."""
    times = list(range(600, 3001, 200))
    humans = [trace("human", [(at, max(at - 600, 0)) for at in times]) for _ in range(10)]
    machines = [trace("machine", [(at, 0 if at < 1200 else 400) for at in times]) for _ in range(10)]
    late = np.array([0.04 if at < 2600 else 0.97 for at in times])
    return humans + machines, [np.full(len(times), 0.04)] * 10 + [late] * 10


def test_most_accurate_thresholds_within_the_human_loss(corpus) -> None:  # type: ignore[no-untyped-def]
    traces, probabilities = corpus
    thresholds, (accuracy, loss, median) = tune(traces, probabilities, 3000, max_human_loss=0.0)
    assert (accuracy, loss, median) == (1.0, 0.0, (1200 + 2600) / 2)  # humans wait out 600 ms of silence
    assert thresholds.human_silence_ms == 600
    assert score(traces, probabilities, thresholds, 3000) == (accuracy, loss, median)


def test_slack_trades_accuracy_for_a_faster_median_only_as_far_as_allowed(corpus) -> None:  # type: ignore[no-untyped-def]
    traces, probabilities = corpus
    _, (accuracy, loss, median) = tune(traces, probabilities, 3000, 0.0, accuracy_slack=0.6)
    assert (accuracy, loss, median) == (0.5, 0.0, (800 + 1200) / 2)  # the pausing machines pass for humans
    _, (accuracy, _, median) = tune(traces, probabilities, 3000, 0.0, accuracy_slack=0.4)
    assert (accuracy, median) == (1.0, (1200 + 2600) / 2)
