"""Receiving a dossier at a one-stop counter: check, number, start, answer with a form.

Nothing is started for a refused or incomplete request. A received dossier becomes one
DossierWorkflow whose id is its code. The code is reserved for the request's id, and
committed, before the start, and no database transaction is open during the call to
Temporal; so a start whose outcome is unknown (a network cut) keeps its code, and the same
request sent again starts or finds that very dossier: one request id, one dossier.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from temporalio.client import Client

from activities.calendar import check_deadline
from adminunits import VN_TZ, AdminUnits, AgencyDirectory
from intake.checks import IntakeForbidden, IntakeReview, check_receipt_time, review_request, unit_of
from intake.errors import RequestIdConflict, StartOutcomeUnknown
from intake.forms import IntakeOutcome, IntakeRequest, ReceiptSlip, RefusalNotice, SupplementNotice
from intake.starting import DossierStarter, UnsettledReceipt
from intake.timeouts import IntakeTimeouts
from model.dossier_inputs import DossierInput, OnlineSubmission
from model.queue_routing import QueueRouting
from procedures.calendar import WorkingCalendar
from procedures.catalogue import Catalogue, default_catalogue
from records.database import RecordsStore
from records.dossier_codes import Claim, DossierCodeAllocator
from records.lookup_secrets import LookupSecrets
from runtime.metrics import RECEIPTS

__all__ = [
    "IntakeForbidden",
    "IntakeService",
    "IntakeTimeouts",
    "RequestIdConflict",
    "StartOutcomeUnknown",
    "UnsettledReceipt",
]

log = structlog.get_logger(__name__)
# A counter's clock may be a little ahead of the server's; more than this is a mistake.
CLOCK_TOLERANCE = timedelta(minutes=5)


class IntakeService:
    def __init__(
        self,
        client: Client,
        task_queue: str | QueueRouting,
        allocator: DossierCodeAllocator,
        *,
        secrets: LookupSecrets,
        catalogue: Catalogue,
        units: AdminUnits,
        agencies: AgencyDirectory,
        calendar: WorkingCalendar,
        clock: Callable[[], datetime] | None = None,
        timeouts: IntakeTimeouts | None = None,
    ) -> None:
        self._allocator = allocator
        self._secrets = secrets
        self._catalogue = catalogue
        self._units = units
        self._agencies = agencies
        self._calendar = calendar
        self._clock = clock or (lambda: datetime.now(VN_TZ))
        self._timeouts = timeouts or IntakeTimeouts()
        self._starter = DossierStarter(client, task_queue, allocator, self._timeouts)

    @classmethod
    def standard(
        cls,
        client: Client,
        task_queue: str | QueueRouting,
        records: RecordsStore,
        *,
        catalogue: Catalogue | None = None,
        clock: Callable[[], datetime] | None = None,
        timeouts: IntakeTimeouts | None = None,
        allocator: DossierCodeAllocator | None = None,
    ) -> IntakeService:
        """The service on the shipped catalogue, units and calendar; timeouts from the environment."""
        return cls(
            client,
            task_queue,
            allocator or DossierCodeAllocator(records.engine, records.sessions),
            secrets=LookupSecrets(records.engine, records.sessions),
            catalogue=catalogue or default_catalogue(),
            units=AdminUnits.load(),
            agencies=AgencyDirectory.load(),
            calendar=WorkingCalendar.default(),
            clock=clock,
            timeouts=timeouts or IntakeTimeouts.from_env(),
        )

    # What a counter's screen shows before receiving: the same catalogue, units, agencies,
    # calendar and clock the intake checks with (web/), so the form and the check agree.
    @property
    def catalogue(self) -> Catalogue:
        return self._catalogue

    @property
    def units(self) -> AdminUnits:
        return self._units

    @property
    def agencies(self) -> AgencyDirectory:
        return self._agencies

    @property
    def calendar(self) -> WorkingCalendar:
        return self._calendar

    def now(self) -> datetime:
        return self._clock()

    async def receive(self, request: IntakeRequest) -> IntakeOutcome:
        """Form 01, 02 or 03 for `request`; form 01 with the citizens' lookup secret, once.

        Raises RequestIdConflict when the request id names another request at this counter,
        StartOutcomeUnknown when Temporal did not confirm the start in time (the code stays
        reserved: send the same request again), IntakeForbidden for a caller who may not.
        """
        outcome = await self._receive(request)
        RECEIPTS.labels(outcome=_outcome_name(outcome)).inc()
        return outcome

    async def register_online(self, request: IntakeRequest, check_hours: float) -> IntakeOutcome:
        """Status 1 for a dossier submitted online: the counter's checks and numbering, then a
        dossier that waits for the counter to check it within `check_hours` office hours.

        Form 01 here is the registration: its `received_at` is the submission, its `due_at` the
        check's deadline. Same errors as `receive`.
        """
        outcome = await self._receive(request, online_check_hours=check_hours)
        RECEIPTS.labels(outcome=f"online_{_outcome_name(outcome)}").inc()
        return outcome

    async def _receive(
        self, request: IntakeRequest, online_check_hours: float | None = None
    ) -> IntakeOutcome:
        now = self._clock()
        fingerprint = request.content_hash()
        unit = request.receiving_unit
        claim = await self._allocator.find(unit, request.request_id) if request.request_id else None
        while True:
            if claim is not None:
                _check_same_request(claim, request, fingerprint)
            received_at = _receipt_instant(claim, request, now)
            review = review_request(request, received_at, self._catalogue, self._units, self._agencies)
            if claim is not None and claim.started:
                return await self._with_secret(await self._slip_of_stored(claim.dossier_code))
            backfill_reason = self._backfill_reason(claim, request, received_at, now, review)
            if review.reasons:
                # The missing documents too, so that a corrected request needs one round only.
                return RefusalNotice(
                    procedure_code=request.procedure_code,
                    reasons=tuple(review.reasons),
                    missing=tuple(review.missing),
                )
            if review.missing:
                return SupplementNotice(procedure_code=request.procedure_code, missing=tuple(review.missing))
            if claim is None:
                # Requests without an id get one of their own: the code is reserved all the same.
                request_id = request.request_id or f"auto-{uuid.uuid4()}"
                claim = await self._allocator.reserve(
                    unit, received_at.date(), request_id, fingerprint, received_at
                )
                if not claim.claimed_now:
                    continue  # a concurrent submission of this request claimed it first
            break
        dossier = self._dossier_input(request, review, claim, received_at, backfill_reason)
        if online_check_hours is not None:
            dossier = self._registered_online(dossier, review, online_check_hours)
        dossier, created = await self._starter.start_settled(claim, dossier)
        _log_receipt(dossier, request, created, received_at, backfill_reason)
        if not created:
            return await self._with_secret(await self._slip_of_stored(dossier.code))
        return await self._with_secret(_slip(dossier, resubmitted=False))

    async def _with_secret(self, slip: ReceiptSlip) -> ReceiptSlip:
        # A resubmission gets one too within minutes of the first slip (a double click, a lost
        # answer), or when no slip has carried one yet (the first start's outcome was unknown).
        return slip.model_copy(update={"lookup_secret": await self._secrets.issue_once(slip.dossier_code)})

    def _backfill_reason(
        self,
        claim: Claim | None,
        request: IntakeRequest,
        received_at: datetime,
        now: datetime,
        review: IntakeReview,
    ) -> str | None:
        """The reason a past receipt is entered now (check_receipt_time adds its problems to the
        review's reasons); None for a receipt of now."""
        if claim is None:
            return check_receipt_time(
                request, received_at, now, CLOCK_TOLERANCE, self._timeouts.backfill_tolerance, review.reasons
            )
        if request.backfill_reason is not None:
            # A reservation resent: its instant was accepted at the first submission; a
            # backfill keeps its reason on the dossier (and still needs an operator).
            return check_receipt_time(
                request, received_at, now, CLOCK_TOLERANCE, self._timeouts.backfill_tolerance, []
            )
        return None

    def _dossier_input(
        self,
        request: IntakeRequest,
        review: IntakeReview,
        claim: Claim,
        received_at: datetime,
        backfill_reason: str | None,
    ) -> DossierInput:
        version, receiving, handling = review.version, review.receiving_unit, review.handling_unit
        assert version is not None and receiving is not None and handling is not None
        limit = review.time_limit or version.time_limit  # as the channel and the case select it
        due_at = self._calendar.due_at(received_at, limit.amount, limit.unit.value, version.afternoon_cutoff)
        return DossierInput(
            code=claim.dossier_code,
            procedure=version,
            applicant=request.applicant,
            receiving_unit=unit_of(receiving),
            handling_unit=handling,
            documents=request.documents,
            channel=request.channel,
            received_by=request.received_by,
            received_at=received_at,
            due_at=due_at,
            request_id=claim.request_id,
            case=request.case,
            backfill_reason=backfill_reason,
        )

    def _registered_online(self, dossier: DossierInput, review: IntakeReview, hours: float) -> DossierInput:
        # Until the counter receives it the dossier has no appointment: its due moment is the
        # check's deadline, and the limit for the appointment travels with it.
        version = review.version
        assert version is not None
        return dossier.model_copy(
            update={
                "online": OnlineSubmission(
                    time_limit=review.time_limit or version.time_limit, check_hours=hours
                ),
                "due_at": check_deadline(self._calendar, dossier.received_at, hours),
            }
        )

    async def reprinted_slip(
        self, code: str, secret: str, reissued_at: datetime, due_at: datetime
    ) -> ReceiptSlip:
        """Form 01 of dossier `code` reprinted for a lost slip, with the new lookup secret
        (`officers.lookup_secret.reissue_lookup_secret` issued it) and the current appointment
        (`due_at`, from the dossier's view: an apology may have moved it)."""
        slip = await self._slip_of_stored(code)
        return slip.model_copy(
            update={"lookup_secret": secret, "reissued_at": reissued_at, "due_at": due_at.astimezone(VN_TZ)}
        )

    async def settle(self) -> list[UnsettledReceipt]:
        """Reconcile every claim whose start is unconfirmed with Temporal (DossierStarter.settle)."""
        return await self._starter.settle()

    async def _slip_of_stored(self, code: str) -> ReceiptSlip:
        return _slip(await self._starter.stored_dossier(code), resubmitted=True)


def _outcome_name(outcome: IntakeOutcome) -> str:
    if isinstance(outcome, ReceiptSlip):
        return "resubmitted" if outcome.resubmitted else "received"
    return "supplement" if isinstance(outcome, SupplementNotice) else "refused"


def _check_same_request(claim: Claim, request: IntakeRequest, fingerprint: str) -> None:
    # Claims from before content hashes were kept cannot be compared: they are trusted.
    if claim.content_hash and claim.content_hash != fingerprint:
        log.warning(
            "request id reused for another request",
            request_id=claim.request_id,
            unit=claim.receiving_unit,
            dossier_code=claim.dossier_code,
            officer=request.received_by.id,
        )
        raise RequestIdConflict(claim.receiving_unit, claim.request_id, claim.dossier_code)


def _slip(dossier: DossierInput, *, resubmitted: bool) -> ReceiptSlip:
    """Form 01 of a dossier, from what it was started with."""
    version = dossier.procedure
    return ReceiptSlip(
        dossier_code=dossier.code,
        procedure_code=version.procedure_code,
        procedure_name=version.procedure_name,
        version_id=version.version_id,
        applicant_name=dossier.applicant.full_name,
        receiving_unit=dossier.receiving_unit.code,
        receiving_unit_name=dossier.receiving_unit.name,
        handling_unit=dossier.handling_unit.code,
        handling_unit_name=dossier.handling_unit.name,
        received_at=dossier.received_at.astimezone(VN_TZ),
        due_at=dossier.due_at.astimezone(VN_TZ),
        documents=tuple(d.id for d in dossier.documents),
        fees=version.terms(dossier.channel, dossier.case)[1],  # as the channel and the case select them
        received_by=dossier.received_by.id,
        resubmitted=resubmitted,
        case=dossier.case,
        internal_process=version.internal_process or "curated",
    )


def _receipt_instant(claim: Claim | None, request: IntakeRequest, now: datetime) -> datetime:
    """When the dossier is received, in Vietnam time: a claimed request keeps the receipt
    instant of its first submission; otherwise the request's own, or now."""
    if claim is not None and claim.received_at is not None:
        return claim.received_at.astimezone(VN_TZ)
    return (request.received_at or now).astimezone(VN_TZ)


def _log_receipt(
    dossier: DossierInput,
    request: IntakeRequest,
    created: bool,
    received_at: datetime,
    backfill_reason: str | None,
) -> None:
    log.info(
        "dossier received",
        dossier_code=dossier.code,
        workflow_id=dossier.code,
        unit=dossier.receiving_unit.code,
        handling_unit=dossier.handling_unit.code,
        procedure=dossier.procedure.version_id,
        resubmitted=not created,
        backfill=backfill_reason is not None,
    )
    if backfill_reason is not None:
        log.warning(
            "past receipt backfilled",
            dossier_code=dossier.code,
            officer=request.received_by.id,
            received_at=received_at.isoformat(),
            reason=backfill_reason,
        )
