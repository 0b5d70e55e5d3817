"""The worklist: one page of the inbox's rows read in order from the worklist's indexes, and
their count; the web page pages through them."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import event, insert, text
from sqlalchemy.dialects import postgresql, sqlite

from api import create_app
from intake.service import IntakeService
from model.dossier_inputs import Actor
from officers.accounts import StaffAccounts
from officers.inbox import OPEN_STATUSES, waiting_rows
from officers.worklist import worklist
from procedures.models import Role
from records.tables import OPEN_STATUS_VALUES, DossierRow
from runtime.settings import Settings
from web import install_web

PASSWORD = "mat-khau-cua-bai-thu"


def unit_pair() -> tuple[str, str]:
    """A handling unit and a counter of the test's own (the records store is the session's)."""
    tag = uuid.uuid4().int % 90000 + 10000
    return f"000.{tag:05d}.00.H01", f"000.{tag:05d}.01.H01"


async def write_rows(records, handling: str, counter: str, n: int) -> list[str]:
    """`n` open dossiers handled at `handling` (one in seven overdue), a few that must not be
    listed (closed, at another unit, waiting for another role), and two received at `counter`
    and handled elsewhere, returned for the counter. The codes the specialist should see, in
    the worklist's order."""
    now = datetime.now(UTC)
    rows, expected = [], []

    def row(
        code,
        *,
        handling_unit=handling,
        receiving_unit=counter,
        status="processing",
        roles="specialist",
        **more,
    ):
        due = more.pop("due_at")
        rows.append(
            dict(
                code=code,
                procedure_code="1.004873",
                version_id="1.004873@2016-01-01",
                receiving_unit=receiving_unit,
                original_receiving_unit=receiving_unit,
                handling_unit=handling_unit,
                status=status,
                received_at=due - timedelta(days=10),
                due_at=due,
                overdue=more.pop("overdue", False),
                current_step="review",
                current_roles=roles,
                **more,
            )
        )

    for i in range(n):
        overdue = i % 7 == 0
        due = now + timedelta(hours=(i * 37) % 500) - (timedelta(days=30) if overdue else timedelta(0))
        code = f"{counter}-W{uuid.uuid4().hex[:8]}-{i:04d}"
        row(code, due_at=due, overdue=overdue)
        expected.append((not overdue, due, code))
    row(f"{counter}-closed", status="returned", due_at=now - timedelta(days=90))
    row(f"{counter}-leader", roles="leader", due_at=now - timedelta(days=80))
    row(
        f"{counter}-elsewhere",
        handling_unit="000.99999.00.H01",
        receiving_unit="000.99999.01.H01",
        due_at=now,
    )
    row(
        f"{counter}-at-the-counter",
        handling_unit="000.99999.00.H01",
        status="processed",
        roles="counter_officer",
        due_at=now,
    )
    async with records.sessions() as session, session.begin():
        await session.execute(insert(DossierRow), rows)
    return [code for _, _, code in sorted(expected)]


async def test_the_index_spells_the_inbox_rule_s_open_statuses():
    """The worklist's partial indexes list the open statuses as the inbox's rule does; if they
    drifted apart, the queries would stop using them (and a dossier could go missing)."""
    assert OPEN_STATUS_VALUES == tuple(s.value for s in OPEN_STATUSES)


@pytest.mark.parametrize("dialect", [postgresql.dialect(), sqlite.dialect()], ids=["postgresql", "sqlite"])
def test_the_open_statuses_are_written_into_the_statement_once(dialect):
    """Inline, so that the partial indexes apply, and written when the statement is compiled
    (then cached), not at each execution: `literal_execute` values were rewritten into the SQL
    at every page (about 0.3 ms, docs/benchmarks.md)."""
    officer = Actor(id="s", unit="000.00004.00.H01", roles=(Role.SPECIALIST,))
    compiled = waiting_rows(officer, "code", offset=0, limit=50).compile(dialect=dialect)
    assert "POSTCOMPILE" not in str(compiled) and not compiled.literal_execute_params
    assert "IN ('registered_online', 'received', 'processing'," in str(compiled)


async def test_pages_of_the_worklist_in_order_with_their_count(records):
    """120 rows: pages of 50, 50 and 20, overdue first then by due moment, nothing closed,
    nothing of another unit or role; a page past the end is empty, with the count."""
    handling, counter = unit_pair()
    expected = await write_rows(records, handling, counter, 120)
    specialist = Actor(id="s", unit=handling, roles=(Role.SPECIALIST,))
    pages = [await worklist(records, specialist, page=p) for p in (1, 2, 3, 4)]
    assert [len(p.rows) for p in pages] == [50, 50, 20, 0]
    assert {p.total for p in pages} == {120} and pages[0].pages == 3
    assert [r.code for p in pages for r in p.rows] == expected
    with pytest.raises(ValueError, match="page 0"):
        await worklist(records, specialist, page=0)
    # The counter sees what it received and another unit handles, once.
    at_counter = await worklist(records, Actor(id="c", unit=counter, roles=(Role.COUNTER_OFFICER,)))
    assert [r.code for r in at_counter.rows] == [f"{counter}-at-the-counter"] and at_counter.total == 1


async def test_the_count_stops_past_the_page_at_a_multiple_of_its_step(records):
    """The count reads up to the first multiple of its step past the page's last row: with
    120 rows and a step of 20, page 1 counts "more than 60", page 2 (rows 51-100) counts to
    120 and gets the exact 120; the rows themselves are the same."""
    handling, counter = unit_pair()
    expected = await write_rows(records, handling, counter, 120)
    specialist = Actor(id="s", unit=handling, roles=(Role.SPECIALIST,))
    first, second = [await worklist(records, specialist, page=p, count_step=20) for p in (1, 2)]
    assert (first.total, first.more) == (60, True)
    assert (second.total, second.more, second.pages) == (120, False, 3)
    assert [r.code for p in (first, second) for r in p.rows] == expected[:100]
    exact = await worklist(records, specialist, page=1, count_step=1000)
    assert (exact.total, exact.more) == (120, False)


async def test_the_page_is_read_from_the_worklist_s_index(records):
    """The query plan reads each branch from its partial index, in order (SQLite's planner
    says so; PostgreSQL's choice depends on its statistics)."""
    if records.engine.dialect.name != "sqlite":
        pytest.skip("the plan asserted is SQLite's")
    specialist = Actor(id="s", unit="000.00001.00.H01", roles=(Role.SPECIALIST,))
    query = waiting_rows(specialist, "code", offset=50, limit=50)
    sql = str(query.compile(records.engine, compile_kwargs={"literal_binds": True}))
    async with records.engine.connect() as connection:
        plan = " | ".join(row[-1] for row in await connection.execute(text("EXPLAIN QUERY PLAN " + sql)))
    assert re.search(r"USING (COVERING )?INDEX ix_dossiers_open_handling_unit", plan), plan
    assert re.search(r"USING (COVERING )?INDEX ix_dossiers_open_receiving_unit", plan), plan


async def test_the_web_worklist_shows_a_page_and_goes_to_the_next(env, records, task_queue, tmp_path: Path):
    """GET /web/worklist shows 50 rows and the count, reading them and checking the staff
    session on one connection; "Trang sau" opens the next 50."""
    handling, counter = unit_pair()
    expected = await write_rows(records, handling, counter, 60)
    settings = Settings.from_env({"DATA_DIR": str(tmp_path), "TASK_QUEUE": task_queue})
    intake = IntakeService.standard(env.client, task_queue, records)
    app = create_app(env.client, records, settings, intake=intake, key=b"k" * 32)
    install_web(app, "http://mot-cua.test")
    username = f"worklist-{uuid.uuid4().hex[:8]}"
    await StaffAccounts(records).create(username, unit=handling, roles=(Role.SPECIALIST,), password=PASSWORD)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mot-cua.test") as http:
        page = await http.get("/web/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
        signed = await http.post(
            "/web/sign-in", data={"username": username, "password": PASSWORD, "csrf_token": token}
        )
        assert signed.status_code == 303, signed.text
        async with records.reads() as session:
            pool = session.bind.sync_engine.pool
        checkouts: list[object] = []

        def checked_out(*_: object) -> None:
            checkouts.append(_)

        event.listen(pool, "checkout", checked_out)
        try:
            first = await http.get("/web/worklist")
        finally:
            event.remove(pool, "checkout", checked_out)
        assert first.status_code == 200
        # The staff check and the page's rows share one read connection.
        assert len(checkouts) == 1
        assert re.findall(r'data-code="([^"]+)"', first.text) == expected[:50]
        assert "60 hồ sơ đang chờ · trang 1/2" in first.text
        next_link = re.search(r'href="([^"]+)" data-test="next-page"', first.text)[1]
        second = await http.get(next_link)
        assert re.findall(r'data-code="([^"]+)"', second.text) == expected[50:]
        assert 'data-test="next-page"' not in second.text and 'data-test="previous-page"' in second.text
        assert (await http.get("/web/worklist?page=0")).status_code == 422
        # A unit with more than the count's step waiting: "more than", and no page count.
        with mock.patch("officers.worklist.COUNT_STEP", 1):
            bounded = await http.get("/web/worklist")
        assert "hơn 51 hồ sơ đang chờ · trang 1<" in bounded.text
        assert 'data-test="next-page"' in bounded.text


def test_the_page_writes_moments_in_vietnam_time_as_offices_do():
    """The worklist's moments (the template's `when` and `date` filters), in Vietnam time,
    written by hand as strftime would: 17:00 30/06/2025, whatever the instant's own zone."""
    from web.pages import TEMPLATES

    when, day = TEMPLATES.filters["when"], TEMPLATES.filters["date"]
    minus_five = timezone(timedelta(hours=-5))
    for instant in (
        datetime(2025, 6, 30, 10, 0, tzinfo=UTC),
        datetime(2026, 12, 31, 17, 5, tzinfo=UTC),  # past midnight in Vietnam: the next year
        datetime(2025, 1, 1, 3, 4, tzinfo=minus_five),
    ):
        local = instant.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
        assert when(instant) == local.strftime("%H:%M %d/%m/%Y")
        assert day(instant) == local.strftime("%d/%m/%Y")
    assert when(datetime(2025, 6, 30, 10, 0, tzinfo=UTC)) == "17:00 30/06/2025"
    assert (when(None), day(None)) == ("", "")
