"""Kept samples of machine drops: settings, the draw, the WAV and the review rows."""

from __future__ import annotations

import random

import numpy as np
import pytest
import soundfile as sf

from engine.amd.review import (
    ReviewError,
    ReviewSettings,
    keep_sample,
    label_review,
    review_path,
    reviews,
)
from engine.runner.amd import AmdSettings
from engine.runner.settings import CampaignConfigError
from engine.store.models import AttemptState, CallAttempt, Outcome


@pytest.mark.parametrize(("amd", "field"), [
    ({"review_sample": 1.5}, "review_sample"),
    ({"review_sample": True}, "review_sample"),
    ({"review_min_samples": 2.5}, "review_min_samples"),
    ({"review_min_samples": 0}, "review_min_samples"),
    ({"machine_disposition": " "}, "machine_disposition"),
])
def test_bad_settings_name_the_field(amd: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ReviewError, match=rf"campaign 3 amd\.{field} must be"):
        ReviewSettings.from_amd(amd, "campaign 3 amd")


def test_campaign_settings_carry_review_and_early_media(factory) -> None:  # type: ignore[no-untyped-def]
    campaign = factory.campaign(factory.tenant(), amd={
        "enabled": True, "review_sample": 0.1, "review_min_samples": 50,
        "machine_disposition": "voicemail", "early_media": False})
    settings = AmdSettings.from_campaign(campaign)
    assert settings is not None and settings.early_media is False
    assert settings.review == ReviewSettings(0.1, 50, "voicemail")
    campaign.amd = {"enabled": True, "review_sample": -0.1}
    with pytest.raises(CampaignConfigError, match=rf"campaign {campaign.id} .* amd\.review_sample"):
        AmdSettings.from_campaign(campaign)
    campaign.amd = {"enabled": True, "early_media": "yes"}
    with pytest.raises(CampaignConfigError, match=r"amd\.early_media must be true or false"):
        AmdSettings.from_campaign(campaign)


def test_the_draw_keeps_about_the_share() -> None:
    rng = random.Random(11)
    kept = sum(ReviewSettings(sample=0.05).keeps(rng) for _ in range(4000))
    assert 150 < kept < 250  # 5 % of 4000 is 200
    assert not any(ReviewSettings(sample=0).keeps(rng) for _ in range(100))
    assert all(ReviewSettings(sample=1).keeps(rng) for _ in range(100))


def test_kept_sample_is_a_wav_and_a_pending_row(factory, session, clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    campaign = factory.campaign(factory.tenant())
    contact = factory.contact(factory.contact_list(campaign))
    attempt = CallAttempt(tenant_id=campaign.tenant_id, campaign_id=campaign.id,
                          contact_id=contact.id, number="+79161234567", mode="progressive",
                          call_uuid="u-1", state=AttemptState.ENDED, outcome=Outcome.MACHINE,
                          created_at=clock.now(), result={})
    session.add(attempt)
    session.flush()
    audio = (np.sin(np.arange(12_000) / 3) * 8000).astype(np.int16)
    target = review_path(tmp_path, campaign.tenant_id, attempt.id)
    review = keep_sample(session, audio=audio, target=target, attempt_id=attempt.id,
                         campaign_id=campaign.id, amd_reason="classifier", now=clock.now())
    assert target == tmp_path / "amd-review" / str(campaign.tenant_id) / f"{attempt.id}.wav"
    written, rate = sf.read(target, dtype="int16")
    assert rate == 8000 and np.array_equal(written, audio)
    assert reviews(session, campaign.id) == [review]
    label_review(session, review.id, "machine", reviewer=None, now=clock.now())
    assert reviews(session, campaign.id) == []
    assert reviews(session, campaign.id, pending_only=False) == [review]
    assert reviews(session, campaign.id + 1, pending_only=False) == []
