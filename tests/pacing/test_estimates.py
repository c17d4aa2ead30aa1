from __future__ import annotations

import numpy as np

from engine.pacing import AttemptOutcome, PacingEstimates, PacingSettings


def _feed(est: PacingEstimates, rng: np.random.Generator, n: int, human: float,
          talk_mean: float) -> PacingEstimates:
    sigma = np.sqrt(np.log(2.0))  # CV 1
    for _ in range(n):
        u = rng.random()
        outcome = (AttemptOutcome.HUMAN if u < human else
                   AttemptOutcome.MACHINE if u < human + 0.1 else AttemptOutcome.NO_ANSWER)
        est = est.observe_attempt(outcome, float(rng.lognormal(np.log(8), 0.4)))
        if outcome is AttemptOutcome.HUMAN:
            est = est.observe_talk(float(rng.lognormal(np.log(talk_mean) - sigma**2 / 2, sigma)))
    return est


def test_estimators_converge_to_the_world() -> None:
    settings = PacingSettings.from_dict({"memory_calls": 500})
    est = _feed(PacingEstimates.from_settings(settings), np.random.default_rng(7), 6000,
                human=0.12, talk_mean=90.0)
    assert abs(est.human_rate.value - 0.12) < 0.03
    assert abs(est.machine_rate.value - 0.10) < 0.03
    assert abs(est.talk.dist.mean - 90.0) < 15.0
    assert abs(est.ring_answer.dist.mean - 8.0 * np.exp(0.08)) < 1.0


def test_memory_forgets_an_old_world() -> None:
    settings = PacingSettings.from_dict({"memory_calls": 100})
    rng = np.random.default_rng(3)
    est = _feed(PacingEstimates.from_settings(settings), rng, 2000, human=0.40, talk_mean=60)
    est = _feed(est, rng, 1000, human=0.10, talk_mean=60)
    assert abs(est.human_rate.value - 0.10) < 0.05


def test_updates_return_new_objects_and_keep_the_old() -> None:
    est = PacingEstimates.from_settings(PacingSettings())
    wrap_before = est.wrap
    after = est.observe_attempt(AttemptOutcome.HUMAN, 5.0).observe_wrap(40.0)
    assert est.human_rate.value == 0.25 and est.wrap is wrap_before
    assert after.human_rate.value > est.human_rate.value
    assert after.wrap.dist.mean > est.wrap.dist.mean


def test_cold_start_is_pessimistic_about_answers() -> None:
    est = PacingEstimates.from_settings(PacingSettings())
    assert est.human_rate.upper(2.0) > est.human_rate.value + 0.1  # 20 calls of prior only
