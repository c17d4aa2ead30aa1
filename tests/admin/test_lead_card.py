"""Lead card and recordings: contact data, progress bar, history, calls, audio files."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from admin import audio
from admin.views.leads import progress_steps
from engine.store.models import CallAttempt, Contact, LeadStatus


def _lead_with_status(session, tenant_id: int, status: str) -> Contact:
    return session.scalar(select(Contact).where(Contact.tenant_id == tenant_id,
                                                Contact.status == status).order_by(Contact.id))


def test_card_shows_contact_progress_history_and_calls(as_user, session, world):
    contact = _lead_with_status(session, world.a.id, "client_interested")
    page = as_user("a_admin").get(f"/leads/{contact.id}").get_data(as_text=True)
    assert contact.name in page and contact.phones[0].number in page
    assert contact.fields["city"] in page
    assert '<span class="passed">Назначен</span>' in page
    assert '<span class="passed">Интересуется</span>' in page
    assert '<span class="current">Клиент заинтересован</span>' in page
    assert "Отказ" not in page.split('id="progress"')[1].split("</div>")[0]  # lost end not reached
    assert page.count("<audio controls") >= 1
    attempts = session.scalars(select(CallAttempt.id).where(CallAttempt.contact_id == contact.id)).all()
    for attempt_id in attempts:
        assert f"<td>{attempt_id}</td>" in page


def test_status_set_without_a_call_is_marked_on_the_card(as_user, session, world):
    lazy = world.a_demo.agents[-1]
    change_without_call = session.execute(
        select(Contact.id).join(CallAttempt, CallAttempt.contact_id == Contact.id, isouter=True)
        .where(Contact.assigned_agent_id == lazy.id, Contact.status == "no_answer",
               CallAttempt.id.is_(None))).scalar()
    page = as_user("a_admin").get(f"/leads/{change_without_call}").get_data(as_text=True)
    assert "без звонка" in page


def test_progress_steps_show_the_working_path_and_a_lost_end():
    statuses = [LeadStatus(code=c, name=c, position=p, category=k) for c, p, k in (
        ("new", 0, "in_progress"), ("assigned", 1, "in_progress"), ("won", 2, "success"),
        ("refused", 3, "lost"), ("wrong", 4, "lost"))]
    assert progress_steps(statuses, {"new", "assigned"}, "assigned") == [
        ("new", "passed"), ("assigned", "current"), ("won", "")]
    assert progress_steps(statuses, {"assigned", "refused"}, "refused") == [
        ("new", ""), ("assigned", "passed"), ("won", ""), ("refused", "lost")]
    assert progress_steps(statuses, set(), "legacy")[-1] == ("legacy", "current")


def test_recording_plays_inline_and_downloads(as_user, session, world):
    attempt = session.scalar(select(CallAttempt).where(
        CallAttempt.tenant_id == world.a.id, CallAttempt.recording_path.is_not(None)))
    client = as_user("a_admin")
    inline = client.get(f"/recordings/{attempt.id}")
    assert inline.status_code == 200 and inline.data[:4] == b"RIFF"
    assert inline.mimetype in ("audio/wav", "audio/x-wav")
    assert "attachment" not in inline.headers.get("Content-Disposition", "")
    ranged = client.get(f"/recordings/{attempt.id}", headers={"Range": "bytes=0-3"})
    assert ranged.status_code == 206 and ranged.data == b"RIFF"
    download = client.get(f"/recordings/{attempt.id}/download")
    disposition = download.headers["Content-Disposition"]
    if audio.mp3_encoder() is None:
        assert download.data[:4] == b"RIFF" and f"call-{attempt.id}.wav" in disposition
    else:
        assert f"call-{attempt.id}.mp3" in disposition and download.mimetype == "audio/mpeg"


def test_recording_outside_the_recordings_dir_is_never_served(as_user, session, world, tmp_path):
    attempt = session.scalar(select(CallAttempt).where(
        CallAttempt.tenant_id == world.a.id, CallAttempt.recording_path.is_not(None)))
    secret = tmp_path / "secret.wav"
    secret.write_bytes(b"RIFFsecret")
    for stored in (str(secret), "../../secret.wav", "missing.wav"):
        attempt.recording_path = stored
        session.commit()
        assert as_user("a_admin").get(f"/recordings/{attempt.id}").status_code == 404


def test_resolve_accepts_relative_and_absolute_inside(tmp_path: Path):
    (tmp_path / "a").mkdir()
    wav = tmp_path / "a" / "x.wav"
    wav.write_bytes(b"RIFF")
    assert audio.resolve(tmp_path, "a/x.wav") == wav
    assert audio.resolve(tmp_path, str(wav)) == wav
    with pytest.raises(audio.RecordingMissing):
        audio.resolve(tmp_path / "a", "../a/../../etc/passwd")
