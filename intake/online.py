"""Submitting a dossier online: the counter's checks and numbering, then status 1.

An online-service client (which has identified the applicant) sends the request and the
documents' digital copies (uploaded first to `DocumentFiles`, referenced here by hash). The
checks, the dossier code and the idempotency are the counter's (`IntakeService`): the
client's idempotency key is the request id, scoped to the receiving unit, so a retry after a
lost answer finds the same dossier and another request under the same key is refused.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from intake.document_files import DocumentFiles
from intake.forms import IntakeOutcome, IntakeRequest, ReceiptSlip
from intake.group_forms import GroupReceipt, GroupRequest, MemberReceipt
from intake.groups import GroupIntake, GroupOutcome
from intake.service import IntakeService
from model.dossier_inputs import SubmittedDocument
from model.dossier_state import DossierStatus
from model.dossier_view import DossierView
from procedures.models import Channel
from records.database import RecordsStore
from records.ratings import RatedDossier, Rating, RatingInput, rate
from workflows.dossier import DossierWorkflow

__all__ = [
    "MissingFiles",
    "NotReturned",
    "OnlineGroupRegistration",
    "OnlineIntake",
    "OnlineRegistration",
    "is_applicant",
    "missing_files",
    "rate_returned",
]


class MissingFiles(ValueError):
    """Documents whose digital copy is not referenced or not stored: nothing was started."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))
        self.problems = problems


class OnlineRegistration(BaseModel):
    """The answer to an online submission: registered (status 1), waiting for the counter."""

    dossier_code: str
    status_code: int = 1
    procedure_code: str
    procedure_name: str
    receiving_unit: str
    handling_unit: str
    submitted_at: AwareDatetime
    check_due_at: AwareDatetime  # the counter checks it by then, or it shows as late
    documents: tuple[str, ...]
    resubmitted: bool
    # The citizens' lookup secret (records/lookup_secrets.py): given once, again only minutes after.
    lookup_secret: str | None = None

    @classmethod
    def of(cls, slip: ReceiptSlip) -> OnlineRegistration:
        return cls(
            dossier_code=slip.dossier_code,
            procedure_code=slip.procedure_code,
            procedure_name=slip.procedure_name,
            receiving_unit=slip.receiving_unit,
            handling_unit=slip.handling_unit,
            submitted_at=slip.received_at,
            check_due_at=slip.due_at,
            documents=slip.documents,
            resubmitted=slip.resubmitted,
            lookup_secret=slip.lookup_secret,
        )


class OnlineGroupRegistration(BaseModel):
    """The answer to an online group's submission: registered (status 1), waiting for the
    counter's check; no member starts before it."""

    group_dossier_code: str
    status_code: int = 1
    group_code: str
    group_name: str
    version_id: str
    receiving_unit: str
    submitted_at: AwareDatetime
    check_due_at: AwareDatetime  # the counter checks it by then, or it shows as late
    members: tuple[MemberReceipt, ...]
    resubmitted: bool
    lookup_secret: str | None = None

    @classmethod
    def of(cls, receipt: GroupReceipt) -> OnlineGroupRegistration:
        return cls(
            group_dossier_code=receipt.group_dossier_code,
            group_code=receipt.group_code,
            group_name=receipt.group_name,
            version_id=receipt.version_id,
            receiving_unit=receipt.receiving_unit,
            submitted_at=receipt.received_at,
            check_due_at=receipt.due_at,
            members=receipt.members,
            resubmitted=receipt.resubmitted,
            lookup_secret=receipt.lookup_secret,
        )


def missing_files(files: DocumentFiles, documents: tuple[SubmittedDocument, ...]) -> list[tuple[str, str]]:
    """(field, problem) for each document without a stored digital copy."""
    problems = []
    for index, document in enumerate(documents):
        if not files.has(document.reference):
            problems.append(
                (
                    f"documents.{index}.reference",
                    "upload the document's file first (PUT /online/files/SHA256) and give sha256:SHA256 here",
                )
            )
    return problems


class OnlineIntake:
    def __init__(
        self,
        intake: IntakeService,
        files: DocumentFiles,
        check_hours: float,
        groups: GroupIntake | None = None,
    ) -> None:
        self._intake = intake
        self.files = files
        self._check_hours = check_hours
        self._groups = groups

    async def submit(self, request: IntakeRequest) -> IntakeOutcome | OnlineRegistration:
        """Status 1 and its registration, or form 02/03 as at a counter (nothing started).

        Raises MissingFiles, and what IntakeService.receive raises.
        """
        problems = missing_files(self.files, request.documents)
        if problems:
            raise MissingFiles(problems)
        outcome = await self._intake.register_online(
            request.model_copy(update={"channel": Channel.ONLINE}), self._check_hours
        )
        return OnlineRegistration.of(outcome) if isinstance(outcome, ReceiptSlip) else outcome

    async def submit_group(self, request: GroupRequest) -> GroupOutcome | OnlineGroupRegistration:
        """An interlinked group in status 1 and its registration, or form 02/03 as at a counter.

        Raises MissingFiles (fields `documents.KEY.N.reference`), and what GroupIntake.receive raises.
        """
        if self._groups is None:
            raise LookupError("this online intake has no group intake")
        problems = [
            (f"documents.{key}.{field.removeprefix('documents.')}", message)
            for key, documents in request.documents.items()
            for field, message in missing_files(self.files, documents)
        ]
        if problems:
            raise MissingFiles(problems)
        outcome = await self._groups.register_online(request, self._check_hours)
        return OnlineGroupRegistration.of(outcome) if isinstance(outcome, GroupReceipt) else outcome


class NotReturned(Exception):
    """The dossier's result is not returned yet: nothing to rate."""


async def is_applicant(client: Client, code: str, personal_id: str) -> bool:
    """Whether `personal_id` is the applicant's of dossier `code` (False for an unknown code too:
    the credential must not be guessable part by part). The workflow compares in constant time."""
    handle = client.get_workflow_handle_for(DossierWorkflow.run, code)
    try:
        return await handle.query(DossierWorkflow.is_applicant, personal_id)
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            return False
        raise


async def rate_returned(
    client: Client, records: RecordsStore, code: str, rating: RatingInput, now: datetime
) -> Rating:
    """The applicant's rating of a returned dossier, once; whoever calls has checked the
    applicant's credential (the API: the personal ID; the web: the slip's lookup secret).

    Raises NotReturned, and records.ratings.AlreadyRated for a different second rating.
    """
    handle = client.get_workflow_handle_for(DossierWorkflow.run, code)
    view = await handle.query(DossierWorkflow.view)
    if view.status is not DossierStatus.RETURNED:
        raise NotReturned(f"dossier {code} has no returned result yet ({view.status.value})")
    sealed = None
    if rating.comment is not None:
        # Sealed by the payload keys, as Temporal keeps the applicant's data: it may name them.
        [payload] = await client.data_converter.encode([rating.comment])
        sealed = payload.SerializeToString()
    dossier = RatedDossier(
        code=code,
        handling_unit=view.handling_unit,
        receiving_unit=view.receiving_unit,
        procedure_code=view.procedure_code,
        channel=_channel(view),
    )
    return await rate(records, dossier, rating, sealed, now)


def _channel(view: DossierView) -> str:
    received = next((e for e in view.timeline if e.action in ("received", "registered_online")), None)
    return received.details.get("channel", Channel.COUNTER.value) if received else Channel.COUNTER.value
