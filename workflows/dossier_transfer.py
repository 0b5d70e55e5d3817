"""Carrying a dossier over to a successor authority: the checks, the appointment policy hook,
and what the carryover may read about a dossier. Pure and deterministic (used in workflows).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from model.dossier_inputs import DossierInput, TransferInput
from model.dossier_state import TERMINAL, DossierState, Unit
from model.dossier_view import TransferFacts
from model.errors import ActionRefused, ErrorType

__all__ = [
    "AppointmentPolicy",
    "appointment_after_transfer",
    "check_transfer",
    "current_handling_unit",
    "current_receiving_unit",
    "receiving_target",
    "transfer_facts",
    "transfer_target",
]


class AppointmentPolicy(StrEnum):
    """What a carryover does to the appointment (due date).

    Whether deadlines change for carried-over dossiers is unverified in law (docs/carryover.md), so
    the original appointment is kept; a different rule is added here, never in the workflow.
    """

    KEEP = "keep"


DEFAULT_APPOINTMENT_POLICY = AppointmentPolicy.KEEP


def appointment_after_transfer(
    due_at: datetime, policy: AppointmentPolicy = DEFAULT_APPOINTMENT_POLICY
) -> datetime:
    if policy is AppointmentPolicy.KEEP:
        return due_at
    raise ValueError(f"unknown appointment policy {policy!r}")


def current_handling_unit(dossier: DossierInput, state: DossierState) -> Unit:
    """The authority handling the dossier now: the successor once carried over."""
    return state.handling_unit or dossier.handling_unit


def current_receiving_unit(dossier: DossierInput, state: DossierState) -> Unit:
    """The counter for receiving-side steps now: the successor counter once carried over."""
    return state.receiving_unit or dossier.receiving_unit


def receiving_target(dossier: DossierInput, transfer: TransferInput) -> Unit | None:
    """The counter a transfer moves the receiving-side steps to, or None (unchanged)."""
    if transfer.to_receiving_unit is not None:
        return transfer.to_receiving_unit
    return transfer.to_receiving_unit_by_commune.get(dossier.applicant.address.commune_code)


def transfer_target(dossier: DossierInput, transfer: TransferInput) -> Unit | None:
    """The unit a transfer sends this dossier to, or None if it names none for its commune."""
    if transfer.to_unit is not None:
        return transfer.to_unit
    return transfer.to_unit_by_commune.get(dossier.applicant.address.commune_code)


def check_transfer(dossier: DossierInput, state: DossierState, transfer: TransferInput) -> bool:
    """Raise ActionRefused if the transfer may not be applied; False if it already was, or the
    dossier is no longer at `from_unit` or already at the target (so a second carryover under
    another id, or one working from a stale listing, is a no-op)."""
    applied = state.applied_actions.get(transfer.transfer_id)
    if applied is not None:
        if applied != "TransferInput":
            raise ActionRefused(
                ErrorType.ACTION_ID_REUSED,
                f"transfer id {transfer.transfer_id!r} was already used for {applied}",
            )
        return False
    current = current_handling_unit(dossier, state).code
    if transfer.from_unit is not None and transfer.from_unit != current:
        return False
    if state.status in TERMINAL:
        raise ActionRefused(
            ErrorType.WRONG_STATE,
            f"a {state.status.value} dossier is closed and cannot be carried over",
        )
    target = transfer_target(dossier, transfer)
    if target is None:
        raise ActionRefused(
            ErrorType.NO_SUCCESSOR,
            f"the transfer names no successor for the applicant's commune"
            f" {dossier.applicant.address.commune_code}: needs manual assignment",
        )
    return target.code != current


def transfer_facts(dossier: DossierInput, state: DossierState) -> TransferFacts:
    address = dossier.applicant.address
    return TransferFacts(
        code=dossier.code,
        status=state.status.value,
        handling_unit=current_handling_unit(dossier, state).code,
        original_handling_unit=dossier.handling_unit.code,
        received_at=dossier.received_at,
        due_at=state.due_at,
        procedure_code=dossier.procedure.procedure_code,
        version_id=dossier.procedure.version_id,
        address_province_code=address.province_code,
        address_district_code=address.district_code,
        address_commune_code=address.commune_code,
        carried_over_from=state.carried_over_from,
    )
