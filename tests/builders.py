"""Builders shared by the tests: officers, applicants, requests, and moving the clock."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, time, timedelta

import holidays
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from adminunits import VN_TZ, AgencyDirectory
from intake.checks import unit_of
from intake.forms import IntakeOutcome, IntakeRequest
from intake.service import IntakeService
from model.dossier_inputs import Actor, Address, Applicant, DossierInput, SubmittedDocument
from model.dossier_view import DossierView
from model.queue_routing import QueueRouting
from procedures.catalogue import default_catalogue
from procedures.models import Role
from records import migrate
from records.database import RecordsStore, open_records
from workflows.dossier import DossierWorkflow

# Hà Nội after the reform: Phường Ba Đình (00004) and its counter, and the city's centre.
BA_DINH_COMMITTEE = "000.00004.00.H01"
BA_DINH_COUNTER = "000.00004.01.H01"
CITY_CENTRE = "000.00.01.H01"
NGOC_HA_COUNTER = "000.00008.01.H01"

COUNTER = Actor(id="counter-1", roles=(Role.COUNTER_OFFICER,), unit=BA_DINH_COUNTER)
SPECIALIST = Actor(id="specialist-1", roles=(Role.SPECIALIST,), unit=BA_DINH_COMMITTEE)
LEADER = Actor(id="leader-1", roles=(Role.LEADER,), unit=BA_DINH_COMMITTEE)
OTHER_SPECIALIST = Actor(id="specialist-9", roles=(Role.SPECIALIST,), unit="000.00008.00.H01")

APPLICANT = Applicant(
    full_name="Nguyễn Văn An",
    personal_id="001090123456",
    address=Address(province_code="01", commune_code="00004", detail="12 Phố Đội Cấn"),
    phone="0912345678",
)

# Documents that satisfy each curated procedure's mandatory list.
DOCUMENTS = {
    "1.001193": ("declaration", "birth_certificate"),
    "2.000815": ("original", "copy"),
    "1.004884": ("declaration", "commitment"),
    "1.004873": ("declaration",),
    "1.001612": ("application",),
    "3.000333": ("declaration",),
}


# Tests that date a receipt in the past enter it as an operator's backfill, with this reason.
TEST_BACKFILL = "test: a receipt dated in the past"


def request(procedure_code: str = "1.004873", **changes) -> IntakeRequest:
    """A complete request; one with `received_at` is sent as an operator's backfill unless
    `backfill_reason` is given (None: a plain receipt)."""
    if changes.get("received_at") is not None and "backfill_reason" not in changes:
        officer = changes.get("received_by", COUNTER)
        if Role.COUNTER_OFFICER in officer.roles and Role.OPERATOR not in officer.roles:
            changes["received_by"] = officer.model_copy(update={"roles": (*officer.roles, Role.OPERATOR)})
        changes["backfill_reason"] = TEST_BACKFILL
    fields = {
        "procedure_code": procedure_code,
        "applicant": APPLICANT,
        "receiving_unit": COUNTER.unit,
        "documents": tuple(SubmittedDocument(id=d) for d in DOCUMENTS.get(procedure_code, ())),
        "received_by": COUNTER,
    }
    fields.update(changes)
    return IntakeRequest(**fields)


def action_id() -> str:
    return str(uuid.uuid4())


class Counter:
    """An intake service whose clock is the test server's clock."""

    def __init__(
        self,
        env: WorkflowEnvironment,
        task_queue: str,
        records: RecordsStore,
        routing: QueueRouting | None = None,
    ) -> None:
        self.env = env
        self.task_queue = task_queue
        self.started: list[str] = []
        self._now = datetime.now(VN_TZ)
        self.service = IntakeService.standard(
            env.client, routing or task_queue, records, clock=lambda: self._now
        )

    async def receive(self, intake_request: IntakeRequest) -> IntakeOutcome:
        self._now = (await self.env.get_current_time()).astimezone(VN_TZ)
        outcome = await self.service.receive(intake_request)
        if getattr(outcome, "dossier_code", None):
            self.started.append(outcome.dossier_code)
        return outcome

    async def start(self, procedure: str = "1.004873", **changes) -> WorkflowHandle:
        """Start a DossierWorkflow directly (no intake), for tests about the workflow alone."""
        now = (await self.env.get_current_time()).astimezone(VN_TZ)
        changes = {"received_at": now, "due_at": now + timedelta(days=30), **changes}
        handle = await start_dossier(self.env.client, self.task_queue, procedure, **changes)
        self.started.append(handle.id)
        return handle

    async def close_open_dossiers(self) -> None:
        # An open dossier left on a queue without a worker stalls the test server's time
        # skipping for every later test of its module (tests/conftest.py), so each test ends
        # what it started. It waits for
        # the projection first: terminating under a running activity leaves the test
        # server's time-skipping lock held.
        for code in self.started:
            handle = self.env.client.get_workflow_handle(code)
            if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
                continue
            await settled(handle)
            try:
                await handle.terminate("test finished")
            except RPCError:
                pass  # it closed meanwhile

    def handle(self, code: str) -> WorkflowHandle[DossierWorkflow, DossierView]:
        return self.env.client.get_workflow_handle_for(DossierWorkflow.run, code)


def quiet_day(after: datetime, weekday: int, days_clear: int = 21) -> date:
    """The first date after `after` with this weekday and no public holiday in the following weeks."""
    calendar = holidays.VN(years=range(after.year, after.year + 3))
    day = after.astimezone(VN_TZ).date() + timedelta(days=1)
    while day.weekday() != weekday or any(day + timedelta(days=i) in calendar for i in range(-3, days_clear)):
        day += timedelta(days=1)
    return day


async def travel_to(env: WorkflowEnvironment, instant: datetime) -> None:
    """Move the time-skipping server's clock forward to `instant`."""
    now = await env.get_current_time()
    assert instant >= now, f"cannot travel back from {now} to {instant}"
    await env.sleep(instant - now)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), VN_TZ)


async def settled(handle: WorkflowHandle, timeout: float = 10) -> DossierView:
    """The dossier's view once every timeline entry has reached the records store."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        view = await handle.query(DossierWorkflow.view)
        if view.unrecorded_events == 0:
            return view
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{view.unrecorded_events} events still unrecorded")
        await asyncio.sleep(0.05)


async def start_dossier(client, task_queue: str, procedure: str = "1.004873", **changes) -> WorkflowHandle:
    """Start a DossierWorkflow directly (no intake), for tests about the workflow alone."""
    agencies = AgencyDirectory.load()
    received_at = datetime.now(VN_TZ)
    version = default_catalogue().resolve(procedure, received_at)
    fields = {
        "code": f"TEST-{uuid.uuid4()}",
        "procedure": version,
        "applicant": APPLICANT,
        "receiving_unit": unit_of(agencies.get(BA_DINH_COUNTER)),
        "handling_unit": unit_of(agencies.get(BA_DINH_COMMITTEE)),
        "received_by": COUNTER,
        "received_at": received_at,
        "due_at": received_at + timedelta(days=30),
    }
    fields.update(changes)
    dossier = DossierInput(**fields)
    return await client.start_workflow(DossierWorkflow.run, dossier, id=dossier.code, task_queue=task_queue)


def free_port() -> int:
    """A loopback port nobody listens on now, for a server a test starts itself."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def fresh_records(url: str) -> AsyncIterator[RecordsStore]:
    """A records store on `url` that tests own: emptied and rebuilt by the migrations, as
    production builds it."""
    async with open_records(url) as store:
        await migrate.downgrade(store.engine, "base")
        await migrate.upgrade(store.engine)
        yield store
