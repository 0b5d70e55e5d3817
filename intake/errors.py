"""What a receipt can fail with besides a form: the caller can act on each."""

from __future__ import annotations

__all__ = ["RequestIdConflict", "StartOutcomeUnknown"]


class RequestIdConflict(Exception):
    """The request id was used at this counter for another request; nothing was received."""

    def __init__(self, receiving_unit: str, request_id: str, dossier_code: str) -> None:
        super().__init__(
            f"request_id {request_id!r} was already used at counter {receiving_unit} for another"
            f" request (dossier {dossier_code}); nothing was received: give this request a new request_id"
        )
        self.receiving_unit, self.request_id, self.dossier_code = receiving_unit, request_id, dossier_code


class StartOutcomeUnknown(Exception):
    """Temporal did not confirm the dossier's start in time; its code stays reserved."""

    def __init__(self, receiving_unit: str, request_id: str, dossier_code: str) -> None:
        super().__init__(
            f"Temporal did not confirm the start of dossier {dossier_code} (request_id {request_id!r}"
            f" at counter {receiving_unit}); the code is reserved for this request: send the same"
            " request again to get its slip"
        )
        self.receiving_unit, self.request_id, self.dossier_code = receiving_unit, request_id, dossier_code
