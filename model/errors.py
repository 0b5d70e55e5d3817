"""Error types a caller of a dossier can act on; they travel as ApplicationError types."""

from __future__ import annotations

from enum import StrEnum

from temporalio.exceptions import ApplicationError

__all__ = ["ActionRefused", "ErrorType"]


class ErrorType(StrEnum):
    WRONG_ROLE = "WrongRole"
    WRONG_UNIT = "WrongUnit"
    WRONG_STATE = "WrongState"
    UNKNOWN_STEP = "UnknownStep"
    INVALID_REQUEST = "InvalidRequest"
    ACTION_ID_REUSED = "ActionIdReused"
    NO_SUCCESSOR = "NoSuccessor"  # a transfer names no successor for the applicant's commune


class ActionRefused(ApplicationError):
    """A human action was refused; nothing was applied. `type` says why."""

    def __init__(self, error_type: ErrorType, message: str) -> None:
        # ApplicationError (not another exception) so a refusal in a handler fails only the
        # update, never the workflow task, which would be retried forever.
        super().__init__(message, type=error_type.value, non_retryable=True)
