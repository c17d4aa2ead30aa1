"""Call recordings: inline playback and download (MP3 when an encoder exists, else as recorded)."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

from flask import Blueprint, abort, send_file
from flask_login import login_required

from engine.store.models import CallAttempt

from .. import audio
from ..access import tenant_get
from ..extensions import state
from .leads import visible_lead

bp = Blueprint("recordings", __name__, url_prefix="/recordings")
log = logging.getLogger(__name__)


def _recording(attempt_id: int) -> Path:
    attempt = tenant_get(CallAttempt, attempt_id)
    visible_lead(attempt.contact_id)
    if not attempt.recording_path:
        abort(404)
    try:
        return audio.resolve(Path(state().settings.recordings_dir), attempt.recording_path)
    except audio.RecordingMissing:
        log.warning("recording of attempt %s is missing or outside the recordings dir", attempt_id)
        abort(404)


@bp.route("/<int:attempt_id>")
@login_required
def play(attempt_id: int):  # type: ignore[no-untyped-def]
    return send_file(_recording(attempt_id), conditional=True, max_age=0)


@bp.route("/<int:attempt_id>/download")
@login_required
def download(attempt_id: int):  # type: ignore[no-untyped-def]
    source = _recording(attempt_id)
    cache = Path(state().settings.data_dir) / "cache" / "mp3"
    try:
        mp3 = audio.to_mp3(source, cache, f"call-{attempt_id}")
    except (subprocess.SubprocessError, OSError) as exc:
        log.error("mp3 transcoding of attempt %s failed: %s", attempt_id, exc)
        mp3 = None
    chosen = mp3 or source
    return send_file(chosen, as_attachment=True,
                     download_name=f"call-{attempt_id}{chosen.suffix}", max_age=0)
