"""Receiving an interlinked group at a counter: one check, one code, one parent workflow.

The request is checked as a whole (every member's procedure, documents and agency, the
counter, the address) and every problem reported at once, as form 02 or 03. A received group
is one GroupWorkflow whose id is a code reserved at the counter as a dossier's is (the same
request id gives the same group); its members get codes of their own, `CODE-1`, `CODE-2`...
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.calendar import check_deadline
from adminunits import VN_TZ, AdminUnits, AgencyDirectory
from intake.checks import IntakeReview, _check_documents, check_receipt_time, review_request, unit_of
from intake.errors import RequestIdConflict
from intake.forms import IntakeRequest, MissingDocument, RefusalNotice, SupplementNotice
from intake.group_agencies import member_unit
from intake.group_forms import GroupReceipt, GroupRequest, MemberReceipt
from intake.starting import owner_of, started_input
from model.dossier_inputs import OnlineSubmission
from model.queue_routing import QueueRouting
from procedures.calendar import WorkingCalendar
from procedures.catalogue import (
    Catalogue,
    NotReceivable,
    NoVersionInForce,
    UnknownProcedure,
    default_catalogue,
)
from procedures.groups import (
    HANDOVER_CHANNEL,
    GroupCatalogue,
    GroupMember,
    GroupVersion,
    NoGroupVersionInForce,
    UnknownGroup,
    default_groups,
)
from procedures.models import Channel, ProcedureVersion
from records.database import RecordsStore
from records.dossier_codes import Claim, DossierCodeAllocator
from records.lookup_secrets import LookupSecrets
from runtime.partner_settings import PartnerSettings
from workflows.group import GroupWorkflow
from workflows.group_models import GroupInput, MemberPlan, PartnerHandover

__all__ = ["GroupForm", "GroupIntake", "MemberForm"]

log = structlog.get_logger(__name__)
CLOCK_TOLERANCE = timedelta(minutes=5)
BACKFILL_TOLERANCE = timedelta(minutes=5)

GroupOutcome = GroupReceipt | SupplementNotice | RefusalNotice


@dataclass(frozen=True)
class MemberForm:
    """A member as the counter's form shows it: its definition and the procedure version in
    force for the applicant's province now (None, with the reason, when there is none)."""

    member: GroupMember
    version: ProcedureVersion | None
    problem: str = ""


@dataclass(frozen=True)
class GroupForm:
    version: GroupVersion
    members: tuple[MemberForm, ...]


class GroupIntake:
    def __init__(
        self,
        client: Client,
        task_queue: str | QueueRouting,
        allocator: DossierCodeAllocator,
        *,
        secrets: LookupSecrets,
        catalogue: Catalogue,
        groups: GroupCatalogue,
        units: AdminUnits,
        agencies: AgencyDirectory,
        calendar: WorkingCalendar,
        clock: Callable[[], datetime] | None = None,
        partners: PartnerSettings | None = None,
    ) -> None:
        self._client = client
        # Agencies whose part a partner's system does; none: every member by officers here.
        self._partners = partners or PartnerSettings()
        # The group runs on the shared queue (the routing's default); its members on their
        # handling units' provinces' queues, as single dossiers (intake.starting).
        self._routing = (
            task_queue if isinstance(task_queue, QueueRouting) else QueueRouting(default=task_queue)
        )
        self._allocator = allocator
        self._secrets = secrets
        self._catalogue = catalogue
        self._groups = groups
        self._units = units
        self._agencies = agencies
        self._calendar = calendar
        self._clock = clock or (lambda: datetime.now(VN_TZ))

    @classmethod
    def standard(
        cls,
        client: Client,
        task_queue: str | QueueRouting,
        records: RecordsStore,
        *,
        clock: Callable[[], datetime] | None = None,
        partners: PartnerSettings | None = None,
    ) -> GroupIntake:
        """The group intake on the shipped catalogue, groups, units and calendar, and the partner
        systems of the environment (runtime.partner_settings) unless `partners` is given.
        `task_queue`: the shared queue, or the deployment's routing by province (its default is
        the group's queue; members go to their provinces' queues)."""
        return cls(
            client,
            task_queue,
            DossierCodeAllocator(records.engine, records.sessions),
            secrets=LookupSecrets(records.engine, records.sessions),
            catalogue=default_catalogue(),
            groups=default_groups(),
            units=AdminUnits.load(),
            agencies=AgencyDirectory.load(),
            calendar=WorkingCalendar.default(),
            clock=clock,
            partners=partners or PartnerSettings.from_env(),
        )

    def listed(self) -> list[GroupVersion]:
        """Every group's latest version (what a counter may offer)."""
        return self._groups.latest()

    def form(self, group_code: str, province: str | None) -> GroupForm:
        """The group in force now and each member's procedure version, as receive() will resolve
        them: the counter's form asks for what they list. UnknownGroup or NoGroupVersionInForce."""
        now = self._clock()
        version = self._groups.resolve(group_code, now)
        members = []
        for member in version.members:
            try:
                found = self._catalogue.resolve(member.procedure_code, now, province=province)
                members.append(MemberForm(member, found))
            except (UnknownProcedure, NoVersionInForce, NotReceivable) as err:
                members.append(MemberForm(member, None, str(err)))
        return GroupForm(version, tuple(members))

    async def receive(self, request: GroupRequest) -> GroupOutcome:
        """One receipt for the group, or form 02/03 with every problem; RequestIdConflict when
        the request id names another request at this counter."""
        return await self._receive(request, None)

    async def register_online(self, request: GroupRequest, check_hours: float) -> GroupOutcome:
        """Status 1 for a group submitted online (intake.online): the counter's checks and
        numbering, then a group that waits for the counter to check it within `check_hours`
        office hours. The receipt's `received_at` is the submission, its `due_at` the check's
        deadline. Same errors as `receive`."""
        return await self._receive(request.model_copy(update={"channel": Channel.ONLINE}), check_hours)

    async def _receive(self, request: GroupRequest, online_check_hours: float | None) -> GroupOutcome:
        now = self._clock()
        fingerprint = request.content_hash()
        unit = request.receiving_unit
        claim = await self._allocator.find(unit, request.request_id) if request.request_id else None
        if claim is not None:
            if claim.content_hash and claim.content_hash != fingerprint:
                raise RequestIdConflict(claim.receiving_unit, claim.request_id, claim.dossier_code)
            if claim.started:
                return await self._with_secret(
                    _receipt(await self._stored(claim.dossier_code), resubmitted=True)
                )
        received_at = (
            claim.received_at if claim is not None and claim.received_at else request.received_at or now
        ).astimezone(VN_TZ)
        reasons: list[str] = []
        missing: list[MissingDocument] = []
        backfill_reason = check_receipt_time(
            _as_member_request(request, "", ()),
            received_at,
            now,
            CLOCK_TOLERANCE,
            BACKFILL_TOLERANCE,
            reasons,
        )
        version = None
        try:
            version = self._groups.resolve(request.group_code, received_at)
        except (UnknownGroup, NoGroupVersionInForce) as err:
            reasons.append(f"group_code: {err}")
        plans: list[MemberPlan] = []
        if version is not None:
            plans = self._plan_members(request, version, received_at, reasons, missing)
        counter = self._agencies.get(unit)
        if counter is None:
            reasons.append(f"receiving_unit: no agency {unit}")
        if reasons:
            return RefusalNotice(
                procedure_code=request.group_code, reasons=tuple(reasons), missing=tuple(missing)
            )
        if missing:
            return SupplementNotice(procedure_code=request.group_code, missing=tuple(missing))
        assert version is not None
        if claim is None:
            request_id = request.request_id or f"auto-{uuid.uuid4()}"
            claim = await self._allocator.reserve(
                unit, received_at.date(), request_id, fingerprint, received_at
            )
        first_version = plans[0].procedure  # its afternoon cut-off is the counter's
        limit = version.time_limit
        due_at = self._calendar.due_at(
            received_at, limit.amount, limit.unit.value, first_version.afternoon_cutoff
        )
        assert counter is not None  # refused above
        receiving = self._agencies.as_of(counter, received_at)
        group = GroupInput(
            code=claim.dossier_code,
            group_code=version.group_code,
            group_name=version.group_name,
            version_id=version.version_id,
            decision=version.decision,
            applicant=request.applicant,
            receiving_unit=unit_of(receiving),
            received_by=request.received_by,
            received_at=received_at,
            due_at=due_at,
            channel=request.channel,
            request_id=claim.request_id,
            members=_member_codes(plans, claim.dossier_code),
            task_queue=self._routing.default,
            # The workflow learns the routing from its input; none when no province has a queue.
            task_queues=self._routing if self._routing.by_province else None,
        )
        if online_check_hours is not None:
            # Until the counter receives it the group has no appointment: its due moment is the
            # check's deadline, and the group's limit travels with it.
            group = group.model_copy(
                update={
                    "online": OnlineSubmission(time_limit=limit, check_hours=online_check_hours),
                    "due_at": check_deadline(self._calendar, received_at, online_check_hours),
                }
            )
        group, claim, created = await self._start(group, claim, received_at)
        await self._allocator.mark_started(claim)
        log.info(
            "group received",
            group_code=group.group_code,
            dossier_code=group.code,
            unit=unit,
            members=len(group.members),
            resubmitted=not created,
            backfill=backfill_reason is not None,
        )
        return await self._with_secret(_receipt(group, resubmitted=not created))

    async def _with_secret(self, receipt: GroupReceipt) -> GroupReceipt:
        # As for one dossier (IntakeService): once, on the first receipt that leaves the intake.
        # The group's code (its slip, its lookup) and each member's (their own dossiers).
        codes = [receipt.group_dossier_code, *(member.dossier_code for member in receipt.members)]
        return receipt.model_copy(update={"lookup_secret": await self._secrets.issue_once_for(codes)})

    def _plan_members(
        self,
        request: GroupRequest,
        version: GroupVersion,
        received_at: datetime,
        reasons: list[str],
        missing: list[MissingDocument],
    ) -> list[MemberPlan]:
        keys = {m.key for m in version.members}
        for key in sorted(set(request.documents) - keys):
            reasons.append(
                f"documents.{key}: not a member of {version.version_id} (members: {', '.join(sorted(keys))})"
            )
        address = request.applicant.address
        plans = []
        for index, member in enumerate(version.members):
            documents = request.documents.get(member.key, ())
            channel = request.channel if not member.depends_on else HANDOVER_CHANNEL
            as_request = _as_member_request(request, member.procedure_code, documents, channel)
            if index == 0:
                # The member the counter takes in: the counter, the address, the documents.
                review = review_request(as_request, received_at, self._catalogue, self._units, self._agencies)
            else:
                review = IntakeReview(received_at=received_at)
                try:
                    review.version = self._catalogue.resolve(
                        member.procedure_code, received_at, province=address.province_code
                    )
                    _check_documents(as_request, review.version, review)
                except (UnknownProcedure, NoVersionInForce, NotReceivable) as err:
                    review.reasons.append(f"procedure_code: {err}")
            reasons.extend(f"members.{member.key}.{reason}" for reason in review.reasons)
            missing.extend(m.model_copy(update={"id": f"{member.key}.{m.id}"}) for m in review.missing)
            unit = member_unit(member.agency, address, received_at, self._agencies)
            if unit is None:
                reasons.append(
                    f"members.{member.key}.agency: no {member.agency.value} for commune {address.commune_code}"
                )
            if review.version is not None and unit is not None:
                plans.append(
                    MemberPlan(
                        key=member.key,
                        code="-",
                        procedure=review.version,
                        agency=member.agency.value,
                        handling_unit=unit,
                        depends_on=member.depends_on,
                        documents=documents,
                        channel=channel,
                        partner=self._handover(member.agency.value),
                    )
                )
        return plans

    def _handover(self, agency: str) -> PartnerHandover | None:
        """The partner's system that does `agency`'s part, pinned in the member's plan."""
        url = self._partners.systems.get(agency)
        if not url:
            return None
        return PartnerHandover(
            agency=agency, system=url, poll_every=self._partners.poll_every, poll_max=self._partners.poll_max
        )

    async def _start(
        self, group: GroupInput, claim: Claim, received_at: datetime
    ) -> tuple[GroupInput, Claim, bool]:
        """Start the group under its claim's code: the group, its claim and whether this call
        created it. A code already started for this request (an earlier submission, or this one's
        unanswered attempt) answers that group; a code another group holds (the counter's row was
        behind Temporal, e.g. a records store restored from a backup) is renumbered, as a single
        dossier's is (`intake.starting`), never answered with that other applicant's group."""
        while True:
            try:
                await self._client.start_workflow(
                    GroupWorkflow.run,
                    group,
                    id=group.code,
                    task_queue=self._routing.default,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                )
                return group, claim, True
            except WorkflowAlreadyStartedError:
                # Read by its type: a single dossier may hold the code (one counter's sequence).
                stored = await started_input(self._client, group.code)
                if isinstance(stored, GroupInput) and owner_of(stored) == owner_of(group):
                    return stored, claim, False
                log.warning("group code taken; renumbering", dossier_code=group.code)
                claim = await self._allocator.renumber(claim, received_at.astimezone(VN_TZ).date())
                group = _with_code(group, claim.dossier_code)

    async def _stored(self, code: str) -> GroupInput:
        stored = await started_input(self._client, code)
        if not isinstance(stored, GroupInput):
            raise LookupError(f"{code} was started as a dossier, not an interlinked group")
        return stored


def _member_codes(plans, code: str) -> tuple:
    """The members' own codes: the group's, then -1, -2, … in the plan's order."""
    return tuple(
        plan.model_copy(update={"code": f"{code}-{index}"}) for index, plan in enumerate(plans, start=1)
    )


def _with_code(group: GroupInput, code: str) -> GroupInput:
    return group.model_copy(update={"code": code, "members": _member_codes(group.members, code)})


def _as_member_request(request: GroupRequest, procedure_code: str, documents, channel=None) -> IntakeRequest:
    return IntakeRequest.model_construct(
        procedure_code=procedure_code,
        applicant=request.applicant,
        receiving_unit=request.receiving_unit,
        documents=tuple(documents),
        channel=channel or request.channel,
        case=None,
        received_by=request.received_by,
        received_at=request.received_at,
        request_id=request.request_id,
        backfill_reason=request.backfill_reason,
    )


def _receipt(group: GroupInput, *, resubmitted: bool) -> GroupReceipt:
    return GroupReceipt(
        group_dossier_code=group.code,
        group_code=group.group_code,
        group_name=group.group_name,
        version_id=group.version_id,
        applicant_name=group.applicant.full_name,
        receiving_unit=group.receiving_unit.code,
        received_at=group.received_at.astimezone(VN_TZ),
        due_at=group.due_at.astimezone(VN_TZ),
        received_by=group.received_by.id,
        members=tuple(
            MemberReceipt(
                key=m.key,
                dossier_code=m.code,
                procedure_code=m.procedure.procedure_code,
                procedure_name=m.procedure.procedure_name,
                handling_unit=m.handling_unit.code,
                handling_unit_name=m.handling_unit.name,
                depends_on=m.depends_on,
            )
            for m in group.members
        ),
        resubmitted=resubmitted,
    )
