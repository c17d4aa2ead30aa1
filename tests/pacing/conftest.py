"""Fixtures for the pacing tests: settings, estimates and guard states in known conditions."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from engine.pacing import GuardState, PacingEstimates, PacingSettings
from engine.pacing.guard import GuardBucket

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def settings() -> PacingSettings:
    return PacingSettings.from_dict({})


@pytest.fixture
def estimates(settings: PacingSettings) -> PacingEstimates:
    return PacingEstimates.from_settings(settings)


def guard_with(live: int, abandoned: int, at: datetime = NOW) -> GuardState:
    """A guard whose window holds ``live`` live answers, ``abandoned`` of them abandoned."""
    start = at.replace(minute=0, second=0, microsecond=0)
    return GuardState((GuardBucket(start, live=live, abandoned=abandoned),))


@pytest.fixture
def warm_guard() -> GuardState:
    """Plenty of history well under the cap: a budget of 3% * 5000 - 50 = 100 abandons."""
    return guard_with(5000, 50)
