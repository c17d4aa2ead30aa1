"""Statistics: the honesty check, occupancy, abandon rate against the cap, AMD."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from uuid import uuid4
from zoneinfo import ZoneInfo

from sqlalchemy import select

from admin import statistics
from admin.report_filter import ReportFilter
from engine.store.models import AgentStateLog, AttemptState, CallAttempt, Outcome

MSK = ZoneInfo("Europe/Moscow")


def _report(**kw) -> ReportFilter:
    now = datetime(2026, 11, 23, 10, tzinfo=timezone.utc)
    return ReportFilter.from_args({k: str(v) for k, v in kw.items()}, now, MSK)


def test_occupancy_is_work_over_available_time():
    assert statistics.occupancy({"ready": 75, "talking": 240, "wrap_up": 60, "paused": 999}) == 0.8
    assert statistics.occupancy({"paused": 100}) is None


def test_rate_flags_pick_the_agent_far_above_average():
    honest = statistics.AgentStatuses(1, "honest", {"no_answer": 5, "interested": 45})
    lazy = statistics.AgentStatuses(2, "lazy", {"no_answer": 16, "interested": 34})
    averages = statistics.average_shares([honest, lazy])
    assert statistics.flag_rates(lazy, averages) == set()  # 32% vs 21% average: not 2x
    third = statistics.AgentStatuses(3, "third", {"no_answer": 2, "interested": 98})
    averages = statistics.average_shares([honest, third, lazy])
    assert averages["no_answer"] == 100 * 23 / 200
    assert statistics.flag_rates(lazy, averages) == {"no_answer"}
    assert statistics.flag_rates(honest, averages) == set()


def test_statuses_set_without_a_call_are_counted_per_agent(session, world):
    rows = statistics.statuses_by_agent(session, world.a.id, _report())
    by_name = {row.name: row for row in rows}
    lazy = by_name[world.a_demo.agents[-1].name]  # the seeded agent who skips calls
    honest = by_name[world.a_demo.agents[0].name]
    assert lazy.total_without_call > 0
    assert honest.total_without_call == 0
    assert "assigned" not in lazy.by_status


def test_statuses_called_counts_leads_never_called(session, world):
    rows = {r.code: r for r in statistics.statuses_called(session, world.a.id, _report())}
    called_ids = set(session.scalars(select(CallAttempt.contact_id).where(
        CallAttempt.tenant_id == world.a.id)))
    for code, row in rows.items():
        leads = [c for c in world.a_demo.contacts if c.status == code]
        assert row.leads == len(leads)
        assert row.called == sum(c.id in called_ids for c in leads)
    assert rows["assigned"].called == 0
    assert rows["no_answer"].not_called > 0  # the lazy agent's leads
    assert sum(r.leads for r in rows.values()) == 60


def test_agent_time_clips_to_the_period_and_counts_calls(session, world):
    agent = world.a_demo.agents[0]
    start = datetime(2026, 11, 23, 20, 30, tzinfo=timezone.utc)  # 23:30 Moscow
    session.add_all([
        AgentStateLog(agent_id=agent.id, state="talking", started_at=start,
                      ended_at=start + timedelta(hours=1)),  # half of it on the next day
        AgentStateLog(agent_id=agent.id, state="ready", started_at=start - timedelta(minutes=30),
                      ended_at=start),
    ])
    session.commit()
    report = _report(date_from="2026-11-23", date_to="2026-11-23")
    times = {t.agent_id: t for t in statistics.agent_time(session, world.a.id, report,
                                                          datetime.now(timezone.utc))}
    mine = times[agent.id]
    assert mine.seconds == {"talking": 1800.0, "ready": 1800.0}
    assert mine.occupancy == 0.5


def test_abandon_rate_against_the_campaign_cap(session, world):
    campaign = world.a_demo.campaign
    moment = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)
    contact = world.a_demo.contacts[0]
    for outcome in [Outcome.ABANDONED] * 3 + [Outcome.ANSWERED] * 7 + [Outcome.MACHINE]:
        session.add(CallAttempt(
            tenant_id=world.a.id, campaign_id=campaign.id, contact_id=contact.id, number="+1",
            mode="predictive", call_uuid=str(uuid4()), state=AttemptState.ENDED,
            outcome=outcome, created_at=moment, answered_at=moment,
            amd_result="machine" if outcome is Outcome.MACHINE else "human"))
    session.commit()
    report = _report(date_from="2026-11-23", date_to="2026-11-23")
    row = next(c for c in statistics.campaign_calls(session, world.a.id, report)
               if c.campaign_id == campaign.id)
    assert (row.attempts, row.live, row.abandoned) == (11, 10, 3)
    assert row.abandon_rate == 0.3 and row.cap == 0.03 and row.over_cap
    assert row.amd == {"human": 10, "machine": 1}


def test_statistics_page_marks_the_dishonest_agent(as_user, world):
    page = as_user("a_supervisor").get("/statistics/?date_from=2026-11-01").get_data(as_text=True)
    table = page.split('id="agent-statuses"')[1].split("</table>")[0]
    lazy_row = next(row for row in table.split("<tr") if world.a_demo.agents[-1].name in row)
    assert 'class="alert"' in lazy_row
    honest_row = next(row for row in table.split("<tr") if world.a_demo.agents[0].name in row)
    assert 'class="alert"' not in honest_row
    for section in ('id="status-called"', 'id="agent-time"', 'id="campaign-calls"'):
        assert section in page
