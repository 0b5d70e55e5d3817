"""Submitting a dossier online: the counter's checks and numbering, then status 1.

An online-service client (which has identified the applicant) sends the request and the
documents' digital copies (uploaded first to `DocumentFiles`, referenced here by hash). The
checks, the dossier code and the idempotency are the counter's (`IntakeService`): the
client's idempotency key is the request id, scoped to the receiving unit, so a retry after a
lost answer finds the same dossier and another request under the same key is refused.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel

from intake.document_files import DocumentFiles
from intake.forms import IntakeOutcome, IntakeRequest, ReceiptSlip
from intake.service import IntakeService
from model.dossier_inputs import SubmittedDocument
from procedures.models import Channel

__all__ = ["MissingFiles", "OnlineIntake", "OnlineRegistration", "missing_files"]


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
    # The citizens' lookup secret, given once (records/lookup_secrets.py): none on a resubmission.
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
    def __init__(self, intake: IntakeService, files: DocumentFiles, check_hours: float) -> None:
        self._intake = intake
        self.files = files
        self._check_hours = check_hours

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
