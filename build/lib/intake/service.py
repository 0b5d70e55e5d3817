"""Receiving a dossier at a one-stop counter: check, number, start, answer with a form.

Nothing is started for a refused or incomplete request. A received dossier becomes one
DossierWorkflow whose id is its code; the code's number is committed only once the
workflow exists.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from temporalio.client import Client, WorkflowHandle, WorkflowQueryFailedError
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from adminunits import VN_TZ, AdminUnits, AgencyDirectory
from intake.checks import IntakeForbidden, review_request, unit_of
from intake.forms import IntakeOutcome, IntakeRequest, ReceiptSlip, RefusalNotice, SupplementNotice
from procedures.calendar import WorkingCalendar
from procedures.catalogue import Catalogue, default_catalogue
from records.database import RecordsStore
from records.dossier_codes import CodeTaken, DossierCodeAllocator
from workflows import search_attributes as sa
from workflows.dossier import DossierWorkflow
from workflows.dossier_inputs import DossierInput
from workflows.dossier_state import DossierStatus

__all__ = ["IntakeForbidden", "IntakeService"]

log = structlog.get_logger(__name__)
# A counter's clock may be a little ahead of the server's; more than this is a mistake.
CLOCK_TOLERANCE = timedelta(minutes=5)


class IntakeService:
    def __init__(
        self,
        client: Client,
        task_queue: str,
        allocator: DossierCodeAllocator,
        *,
        catalogue: Catalogue,
        units: AdminUnits,
        agencies: AgencyDirectory,
        calendar: WorkingCalendar,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._client = client
        self._task_queue = task_queue
        self._allocator = allocator
        self._catalogue = catalogue
        self._units = units
        self._agencies = agencies
        self._calendar = calendar
        self._clock = clock or (lambda: datetime.now(VN_TZ))

    @classmethod
    def standard(
        cls,
        client: Client,
        task_queue: str,
        records: RecordsStore,
        *,
        catalogue: Catalogue | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> IntakeService:
        """The service on the shipped catalogue, units and calendar."""
        return cls(
            client,
            task_queue,
            DossierCodeAllocator(records.engine, records.sessions),
            catalogue=catalogue or default_catalogue(),
            units=AdminUnits.load(),
            agencies=AgencyDirectory.load(),
            calendar=WorkingCalendar.default(),
            clock=clock,
        )

    @staticmethod
    async def _started_for(handle: WorkflowHandle, request_id: str) -> bool:
        try:
            view = await handle.query(DossierWorkflow.view)
        except (RPCError, WorkflowQueryFailedError):
            return False
        return view.request_id == request_id

    async def receive(self, request: IntakeRequest) -> IntakeOutcome:
        now = self._clock()
        received_at = (request.received_at or now).astimezone(VN_TZ)
        review = review_request(request, received_at, self._catalogue, self._units, self._agencies)
        if received_at > now + CLOCK_TOLERANCE:
            review.reasons.append(f"received_at: {received_at.isoformat()} is in the future")
        if review.reasons:
            # The missing documents too, so that a corrected request needs one round only.
            return RefusalNotice(
                procedure_code=request.procedure_code,
                reasons=tuple(review.reasons),
                missing=tuple(review.missing),
            )
        if review.missing:
            return SupplementNotice(procedure_code=request.procedure_code, missing=tuple(review.missing))
        version, receiving, handling = review.version, review.receiving_unit, review.handling_unit
        assert version is not None and receiving is not None and handling is not None
        due_at = self._calendar.due_at(
            received_at, version.time_limit.amount, version.time_limit.unit.value, version.afternoon_cutoff
        )

        async def start(code: str) -> WorkflowHandle:
            dossier = DossierInput(
                code=code,
                procedure=version,
                applicant=request.applicant,
                receiving_unit=unit_of(receiving),
                handling_unit=handling,
                documents=request.documents,
                channel=request.channel,
                received_by=request.received_by,
                received_at=received_at,
                due_at=due_at,
                request_id=request.request_id,
            )
            try:
                return await self._client.start_workflow(
                    DossierWorkflow.run,
                    dossier,
                    id=code,
                    task_queue=self._task_queue,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                    search_attributes=TypedSearchAttributes(
                        [
                            SearchAttributePair(sa.PROCEDURE_CODE, version.procedure_code),
                            SearchAttributePair(sa.HANDLING_UNIT, handling.code),
                            SearchAttributePair(sa.RECEIVING_UNIT, receiving.code),
                            # The workflow hands a received dossier to its authority at once.
                            SearchAttributePair(sa.STATUS, DossierStatus.PROCESSING.value),
                            SearchAttributePair(sa.RECEIVED_AT, received_at),
                            SearchAttributePair(sa.DUE_AT, due_at),
                            SearchAttributePair(sa.OVERDUE, False),
                        ]
                    ),
                )
            except WorkflowAlreadyStartedError as err:
                existing = self._client.get_workflow_handle(code)
                if request.request_id is not None and await self._started_for(existing, request.request_id):
                    # Started for this very request by an attempt whose commit was lost:
                    # this is the dossier, not a reason to open a second one.
                    log.warning("dossier of a lost commit adopted", dossier_code=code)
                    return existing
                raise CodeTaken(code) from err
            except RPCError:
                # The reply may be lost after the server started the dossier (a timeout).
                # While this transaction holds the code's number nobody else can start it,
                # so a dossier under this code now is this one.
                handle = self._client.get_workflow_handle(code)
                try:
                    await handle.describe()
                except RPCError:
                    raise  # not started: the number is rolled back
                log.warning("dossier start reply lost; the dossier exists", dossier_code=code)
                return handle

        code, handle = await self._allocator.allocate(
            receiving.code, received_at.date(), start, request_id=request.request_id
        )
        if handle is None:
            # The same request was received before: answer with that dossier's slip.
            view = await self._client.get_workflow_handle(code).query(DossierWorkflow.view)
            # The slip of that dossier: its own receipt time, not this resubmission's.
            received_at, due_at = view.received_at.astimezone(VN_TZ), view.due_at.astimezone(VN_TZ)
            resubmitted = True
        else:
            resubmitted = False
        log.info(
            "dossier received",
            dossier_code=code,
            workflow_id=code,
            unit=receiving.code,
            handling_unit=handling.code,
            procedure=version.version_id,
            resubmitted=resubmitted,
        )
        return ReceiptSlip(
            dossier_code=code,
            procedure_code=version.procedure_code,
            procedure_name=version.procedure_name,
            version_id=version.version_id,
            applicant_name=request.applicant.full_name,
            receiving_unit=receiving.code,
            receiving_unit_name=receiving.name,
            handling_unit=handling.code,
            handling_unit_name=handling.name,
            received_at=received_at,
            due_at=due_at,
            documents=tuple(d.id for d in request.documents),
            fees=version.fees,
            received_by=request.received_by.id,
            resubmitted=resubmitted,
        )
