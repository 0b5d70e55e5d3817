"""Groups submitted online waiting for the counter's check, listed for that counter's officers
from the group's projected rows: late first, one row per group, nobody else sees them."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert, select, text

from activities.group_records import GroupMemberRecord, GroupRecordActivities, RecordGroupInput
from api import create_app
from intake.service import IntakeService
from model.dossier_inputs import Actor
from officers.accounts import StaffAccounts
from officers.group_checks import groups_waiting_check, waiting_check_rows
from procedures.models import Role
from records.tables import GroupMemberRow
from runtime.settings import Settings
from tests.officers.test_worklist import PASSWORD, unit_pair
from web import install_web

MEMBERS = ("birth", "residence", "insurance")


async def write_group(records, code: str, counter: str, status: str, due_at: datetime) -> None:
    """A group's rows as its projection writes them: one per member, the group's fields on each."""
    rows = [
        dict(
            group_code=code,
            member_key=key,
            dossier_code=f"{code}-{n}",
            group_kind="LT296.01",
            handling_unit=f"000.{n:05d}.CA.H01",
            received_at=due_at - timedelta(hours=8),
            group_due_at=due_at,
            status="waiting",
            late=False,
            group_status=status,
            group_resolved_at=None,
            receiving_unit=counter,
        )
        for n, key in enumerate(MEMBERS, start=1)
    ]
    async with records.sessions() as session, session.begin():
        await session.execute(insert(GroupMemberRow), rows)


async def write_groups(records, counter: str) -> list[str]:
    """Waiting groups at `counter` (two late), and groups that must not be listed: received,
    asked for completion (form 02), refused (form 03), waiting at another counter. The codes
    the counter should see, in order."""
    now = datetime.now(UTC)
    tag = uuid.uuid4().hex[:6]
    waiting = {
        f"{counter}-{tag}-0003": now + timedelta(hours=2),
        f"{counter}-{tag}-0001": now - timedelta(hours=3),  # late
        f"{counter}-{tag}-0004": now + timedelta(days=1),
        f"{counter}-{tag}-0002": now - timedelta(minutes=5),  # late
    }
    for code, due in waiting.items():
        await write_group(records, code, counter, "registered_online", due)
    for n, status in enumerate(("processing", "online_incomplete", "not_received", "withdrawn"), start=5):
        await write_group(records, f"{counter}-{tag}-{n:04d}", counter, status, now - timedelta(days=1))
    await write_group(records, f"000.99998.01.H01-{tag}-0001", "000.99998.01.H01", "registered_online", now)
    return sorted(waiting, key=waiting.__getitem__)


async def test_the_counter_s_officers_see_their_waiting_groups_late_first(records):
    _, counter = unit_pair()
    expected = await write_groups(records, counter)
    officer = Actor(id="c", unit=counter, roles=(Role.COUNTER_OFFICER,))
    found = await groups_waiting_check(records, officer)
    assert [g.code for g in found] == expected  # once each, though a group has three rows
    assert [g.check_late for g in found] == [True, True, False, False]
    assert {g.group_code for g in found} == {"LT296.01"} and {g.receiving_unit for g in found} == {counter}
    assert all(g.submitted_at < g.check_due_at for g in found)
    assert [g.code for g in await groups_waiting_check(records, officer, limit=3)] == expected[:3]
    # Lateness is the deadline passed at the moment asked.
    earlier = await groups_waiting_check(records, officer, now=datetime.now(UTC) - timedelta(days=1))
    assert not any(g.check_late for g in earlier)
    with pytest.raises(ValueError, match="limit 0"):
        await groups_waiting_check(records, officer, limit=0)


@pytest.mark.parametrize(
    "officer",
    [
        pytest.param(lambda counter: Actor(id="s", unit=counter, roles=(Role.SPECIALIST,)), id="specialist"),
        pytest.param(lambda counter: Actor(id="l", unit=counter, roles=(Role.LEADER,)), id="leader"),
        pytest.param(lambda counter: Actor(id="a", unit=counter, roles=(Role.AUDITOR,)), id="auditor"),
        pytest.param(
            lambda counter: Actor(id="o", unit="000.99997.01.H01", roles=(Role.COUNTER_OFFICER,)),
            id="another-counter",
        ),
    ],
)
async def test_nobody_but_the_counter_s_officers_sees_them(records, officer):
    _, counter = unit_pair()
    await write_groups(records, counter)
    assert await groups_waiting_check(records, officer(counter)) == []


async def test_the_list_is_read_from_its_partial_index(records):
    if records.engine.dialect.name != "sqlite":
        pytest.skip("the plan asserted is SQLite's")
    officer = Actor(id="c", unit="000.00001.01.H01", roles=(Role.COUNTER_OFFICER,))
    query = waiting_check_rows(officer, 50)
    sql = str(query.compile(records.engine, compile_kwargs={"literal_binds": True}))
    async with records.engine.connect() as connection:
        plan = " | ".join(row[-1] for row in await connection.execute(text("EXPLAIN QUERY PLAN " + sql)))
    assert re.search(r"USING (COVERING )?INDEX ix_group_members_waiting_check", plan), plan


async def test_the_projection_writes_the_group_s_counter_and_keeps_it(records):
    """`record_group` writes the counter on each member's row; an input without it (scheduled
    before the field existed) keeps the counter the rows have."""
    _, counter = unit_pair()
    code = f"{counter}-{uuid.uuid4().hex[:6]}-0001"
    now = datetime.now(UTC)

    def projected(status: str, receiving_unit: str) -> RecordGroupInput:
        return RecordGroupInput(
            group_code=code,
            group_kind="LT296.01",
            received_at=now,
            due_at=now + timedelta(hours=8),
            status=status,
            members=tuple(
                GroupMemberRecord(
                    key=k, dossier_code=f"{code}-{n}", handling_unit="000.00001.00.H01", status="waiting"
                )
                for n, k in enumerate(MEMBERS, start=1)
            ),
            receiving_unit=receiving_unit,
        )

    activities = GroupRecordActivities(records)
    officer = Actor(id="c", unit=counter, roles=(Role.COUNTER_OFFICER,))
    await activities.record_group(projected("registered_online", counter))
    assert [g.code for g in await groups_waiting_check(records, officer)] == [code]
    await activities.record_group(projected("registered_online", ""))
    async with records.sessions() as session:
        units = (
            await session.scalars(
                select(GroupMemberRow.receiving_unit).where(GroupMemberRow.group_code == code)
            )
        ).all()
    assert units == [counter] * 3
    await activities.record_group(projected("processing", counter))  # received: it leaves the list
    assert await groups_waiting_check(records, officer) == []


async def sign_in(http: httpx.AsyncClient, username: str) -> None:
    page = await http.get("/web/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
    signed = await http.post(
        "/web/sign-in", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert signed.status_code == 303, signed.text


async def test_the_web_worklist_lists_them_for_the_counter_with_a_link_to_each_group(
    env, records, task_queue, tmp_path: Path
):
    """The counter officer's worklist shows the groups waiting for its check above its dossiers,
    late ones first and marked, each linked to the group's page (where the check is done); a
    specialist of the same unit sees no such table."""
    _, counter = unit_pair()
    expected = await write_groups(records, counter)
    settings = Settings.from_env({"DATA_DIR": str(tmp_path), "TASK_QUEUE": task_queue})
    intake = IntakeService.standard(env.client, task_queue, records)
    app = create_app(env.client, records, settings, intake=intake, key=b"k" * 32)
    install_web(app, "http://mot-cua.test")
    accounts = StaffAccounts(records)
    tag = uuid.uuid4().hex[:8]
    await accounts.create(f"counter-{tag}", unit=counter, roles=(Role.COUNTER_OFFICER,), password=PASSWORD)
    await accounts.create(f"specialist-{tag}", unit=counter, roles=(Role.SPECIALIST,), password=PASSWORD)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mot-cua.test") as http:
        await sign_in(http, f"counter-{tag}")
        page = await http.get("/web/worklist")
        assert page.status_code == 200
        assert 'data-test="group-checks"' in page.text
        listed = re.findall(r'data-test="group-check" data-code="([^"]+)"( data-late="1")?', page.text)
        assert [code for code, _ in listed] == expected
        assert [bool(late) for _, late in listed] == [True, True, False, False]
        assert page.text.count("Quá hạn kiểm tra") == 2
        for code in expected:
            assert f'href="/web/groups/{code}"' in page.text
        assert "Không có hồ sơ nào đang chờ." in page.text  # no dossier waits: said below the groups
        second = await http.get("/web/worklist?page=2")
        assert 'data-test="group-checks"' not in second.text  # on the first page only
    async with httpx.AsyncClient(transport=transport, base_url="http://mot-cua.test") as http:
        await sign_in(http, f"specialist-{tag}")
        page = await http.get("/web/worklist")
        assert page.status_code == 200 and 'data-test="group-check' not in page.text
