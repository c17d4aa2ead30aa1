"""Stereo call recordings: where they go, how they start, and how old ones are purged.

The engine records the customer leg with ``RECORD_STEREO=true`` set on it at the
originate. On FreeSWITCH 1.11.1 a stereo ``uuid_record`` puts what the leg sent
us on the left channel (the customer's voice) and what we sent it on the right
(the agent, or the IVR). Files go to
``<recordings_dir>/<tenant>/<YYYY>/<MM>/<DD>/<attempt>-<uuid>.wav`` (UTC date).
"""

from __future__ import annotations

import logging
import re
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.orm import Session

from engine.store.models import CallAttempt

log = logging.getLogger(__name__)

_DAY_DIR = re.compile(r"^\d{4}/\d{2}/\d{2}$")


def recording_path(root: Path, tenant_id: int, when: datetime, attempt_id: int,
                   call_uuid: str) -> Path:
    day = when.date()
    return Path(root) / str(tenant_id) / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}" / \
        f"{attempt_id}-{call_uuid}.wav"


def start_command(call_uuid: str, path: Path) -> str:
    """The ``api`` command that starts recording a leg to ``path``."""
    if re.search(r"\s", str(path)):
        raise ValueError(f"recording path {path} may not contain spaces")
    return f"uuid_record {call_uuid} start {path}"


def _day_dirs(root: Path) -> list[tuple[date, Path]]:
    days = []
    for directory in Path(root).glob("*/*/*/*"):
        relative = "/".join(directory.parts[-3:])
        if directory.is_dir() and _DAY_DIR.match(relative):
            try:
                days.append((date(*map(int, directory.parts[-3:])), directory))
            except ValueError:
                log.warning("skipping %s: not a date", directory)
    return days


def purge(root: Path, older_than_days: int, today: date, session: Session) -> list[Path]:
    """Delete day folders older than the retention and clear their paths on attempts.

    Returns the deleted folders. The attempts keep everything else.
    """
    if older_than_days < 0:
        raise ValueError(f"--older-than must be 0 or more days, got {older_than_days}")
    cutoff = today - timedelta(days=older_than_days)
    removed = []
    for day, directory in sorted(_day_dirs(root)):
        if day >= cutoff:
            continue
        session.execute(
            update(CallAttempt)
            .where(CallAttempt.recording_path.startswith(str(directory) + "/", autoescape=True))
            .values(recording_path=None)
        )
        shutil.rmtree(directory)
        removed.append(directory)
    return removed
