"""The interlinked groups' report per agency (`GET /audit/groups/report`), for auditors only.

The groups are written to the records store by the projection the group workflow calls
(`record_group`), in a period of their own; the workflow tests check that a real group writes
these rows (tests/workflows/test_group_workflow.py).
"""

from __future__ import annotations

from datetime import datetime

from activities.group_records import GroupMemberRecord, GroupRecordActivities, RecordGroupInput
from adminunits import VN_TZ
from records.database import RecordsStore
from tests.api.test_authorization import OFFICERS
from tests.builders import BA_DINH_COMMITTEE
from tests.group_builders import BA_DINH_POLICE, HANOI_SOCIAL_INSURANCE

auditor, leader = OFFICERS["auditor/other"], OFFICERS["leader/own"]
PERIOD = {"start": "2031-03-01", "end": "2031-04-01"}
# Per agency: (groups, on time, late, open, not answered) for the groups below.
EXPECTED = {
    BA_DINH_COMMITTEE: (3, 2, 0, 1, 0),
    BA_DINH_POLICE: (2, 1, 1, 0, 0),
    HANOI_SOCIAL_INSURANCE: (2, 2, 0, 0, 0),
}


async def two_answered_groups_and_an_open_one(records: RecordsStore) -> None:
    """March 2031: a group answered on time, one answered after the police's part was late, and
    one still open at the commune. Fixed codes: writing them again changes nothing."""

    def at(day: int, hour: int = 9) -> datetime:
        return datetime(2031, 3, day, hour, tzinfo=VN_TZ)

    def members(late_police: bool) -> tuple[GroupMemberRecord, ...]:
        return (
            GroupMemberRecord(
                key="birth", dossier_code="T18-B", handling_unit=BA_DINH_COMMITTEE, status="processed"
            ),
            GroupMemberRecord(
                key="residence",
                dossier_code="T18-R",
                handling_unit=BA_DINH_POLICE,
                status="processed",
                late=late_police,
            ),
            GroupMemberRecord(
                key="insurance",
                dossier_code="T18-I",
                handling_unit=HANOI_SOCIAL_INSURANCE,
                status="processed",
            ),
        )

    project = GroupRecordActivities(records).record_group
    await project(
        RecordGroupInput(
            group_code="T18-GROUP-ONTIME",
            group_kind="LT296.01",
            received_at=at(2),
            due_at=at(5, 17),
            status="processed",
            resolved_at=at(4),
            members=members(late_police=False),
        )
    )
    await project(
        RecordGroupInput(
            group_code="T18-GROUP-LATE",
            group_kind="LT296.01",
            received_at=at(9),
            due_at=at(12, 17),
            status="processed",
            resolved_at=at(14),
            members=members(late_police=True),
        )
    )
    await project(
        RecordGroupInput(
            group_code="T18-GROUP-OPEN",
            group_kind="LT296.01",
            received_at=at(30),
            due_at=datetime(2031, 4, 2, 17, tzinfo=VN_TZ),
            status="processing",
            members=(
                GroupMemberRecord(
                    key="birth", dossier_code="T18-OB", handling_unit=BA_DINH_COMMITTEE, status="processing"
                ),
            ),
        )
    )


def by_agency(rows: list[dict]) -> dict[str, tuple[int, ...]]:
    return {
        r["handling_unit"]: (r["groups"], r["on_time"], r["late"], r["open"], r["not_answered"]) for r in rows
    }


class TestGroupsReportRoute:
    async def test_an_auditor_reads_each_agencys_groups_on_time_and_late(self, api):
        """The police's part late in one group of two; the commune's third group still open."""
        await two_answered_groups_and_an_open_one(api.records)
        response = await api.http.get("/audit/groups/report", params=PERIOD, headers=api.auth(auditor))
        assert response.status_code == 200, response.text
        assert by_agency(response.json()) == EXPECTED

    async def test_the_period_bounds_which_groups_count(self, api):
        """Only groups received in [start, end): the first week of March holds the on-time one."""
        await two_answered_groups_and_an_open_one(api.records)
        response = await api.http.get(
            "/audit/groups/report",
            params={"start": "2031-03-01", "end": "2031-03-08T00:00:00+07:00"},
            headers=api.auth(auditor),
        )
        assert response.status_code == 200, response.text
        assert by_agency(response.json()) == {
            BA_DINH_COMMITTEE: (1, 1, 0, 0, 0),
            BA_DINH_POLICE: (1, 1, 0, 0, 0),
            HANOI_SOCIAL_INSURANCE: (1, 1, 0, 0, 0),
        }

    async def test_a_reversed_period_is_a_422_like_the_service_reports(self, api):
        response = await api.http.get(
            "/audit/groups/report",
            params={"start": "2031-04-01", "end": "2031-03-01"},
            headers=api.auth(auditor),
        )
        assert response.status_code == 422
        assert response.json()["type"] == "ValidationError"
        assert "must start before it ends" in response.json()["message"]

    async def test_a_bad_or_missing_bound_is_a_422_naming_the_field(self, api):
        wrong = await api.http.get(
            "/audit/groups/report", params={"start": "March", "end": "2031-04-01"}, headers=api.auth(auditor)
        )
        assert wrong.status_code == 422
        assert [p["field"] for p in wrong.json()["problems"]] == ["query.start"]
        assert "a date (2025-06-01" in wrong.json()["message"]
        missing = await api.http.get(
            "/audit/groups/report", params={"start": "2031-03-01"}, headers=api.auth(auditor)
        )
        assert missing.status_code == 422
        assert [p["field"] for p in missing.json()["problems"]] == ["query.end"]

    async def test_an_officer_who_is_not_an_auditor_is_refused(self, api):
        """A leader gets 403 WrongRole, as on every auditor route."""
        response = await api.http.get("/audit/groups/report", params=PERIOD, headers=api.auth(leader))
        assert response.status_code == 403 and response.json()["type"] == "WrongRole"
