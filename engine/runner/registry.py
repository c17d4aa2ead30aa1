"""Which runner class drives which dial mode."""

from __future__ import annotations

from engine.store.models import DialMode

from .base import CampaignRunner
from .ivr import IvrRunner
from .predictive import PredictiveRunner
from .preview import PreviewRunner
from .progressive import ProgressiveRunner

RUNNERS: dict[DialMode, type[CampaignRunner]] = {
    DialMode.PROGRESSIVE: ProgressiveRunner,
    DialMode.IVR: IvrRunner,
    DialMode.PREVIEW: PreviewRunner,
    DialMode.PREDICTIVE: PredictiveRunner,
}
