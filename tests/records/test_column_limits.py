"""Every value the workflow accepts fits the records store's columns: no input can freeze a projection."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import pytest
from annotated_types import MaxLen
from pydantic import BaseModel
from sqlalchemy import String, select

from model.dossier_inputs import ActionInput, Actor, DossierInput, TransferInput
from model.dossier_state import DossierStatus, Unit
from procedures.models import Channel, ProcedureVersion, Role, Step
from records.tables import DossierEventRow, DossierRow, NotificationRow, OfficerRow
from tests.records.dataset import entry, new_code, received_entries, record, summary
from workflows.dossier import NOTIFIED_ACTIONS, SYSTEM_ACTOR


def max_length(model: type[BaseModel], field: str) -> int | None:
    """The longest string the model lets through this field (None: unbounded)."""
    info = model.model_fields[field]
    return next((m.max_length for m in info.metadata if isinstance(m, MaxLen)), None)


def joined_roles_length() -> int | None:
    """Actor.roles as the projection stores them: role values joined by commas."""
    count = max_length(Actor, "roles")
    if count is None:
        return None
    return count * max(len(r.value) for r in Role) + count - 1


def enum_length(enum: type[StrEnum]) -> int:
    return max(len(member.value) for member in enum)


# column -> the longest value each source of it can hold (None: the source is unbounded).
SOURCES = {
    DossierRow.code: {"DossierInput.code": max_length(DossierInput, "code")},
    DossierEventRow.dossier_code: {"DossierInput.code": max_length(DossierInput, "code")},
    NotificationRow.dossier_code: {"DossierInput.code": max_length(DossierInput, "code")},
    DossierRow.procedure_code: {
        "ProcedureVersion.procedure_code": max_length(ProcedureVersion, "procedure_code")
    },
    DossierRow.version_id: {"ProcedureVersion.version_id": max_length(ProcedureVersion, "version_id")},
    DossierRow.receiving_unit: {"Unit.code": max_length(Unit, "code")},
    DossierRow.handling_unit: {"Unit.code": max_length(Unit, "code")},
    DossierRow.carried_over_from: {"Unit.code": max_length(Unit, "code")},
    DossierRow.status: {"DossierStatus": enum_length(DossierStatus)},
    DossierRow.channel: {"Channel": enum_length(Channel)},
    DossierRow.current_step: {"Step.id": max_length(Step, "id")},
    DossierRow.current_roles: {"roles joined": len(",".join(r.value for r in Role))},
    DossierEventRow.action_id: {
        "action_id": max_length(ActionInput, "action_id"),
        "TransferInput.transfer_id": max_length(TransferInput, "transfer_id"),
    },
    DossierEventRow.actor_id: {
        "Actor.id": max_length(Actor, "id"),
        "TransferInput.actor_id": max_length(TransferInput, "actor_id"),
        "system": len(SYSTEM_ACTOR),
    },
    DossierEventRow.actor_roles: {"Actor.roles joined": joined_roles_length()},
    DossierEventRow.actor_unit: {"Actor.unit": max_length(Actor, "unit")},
    DossierEventRow.status_before: {"DossierStatus": enum_length(DossierStatus)},
    DossierEventRow.status_after: {"DossierStatus": enum_length(DossierStatus)},
    NotificationRow.kind: {"notified actions": max(len(a) for a in NOTIFIED_ACTIONS)},
    OfficerRow.id: {"Actor.id": max_length(Actor, "id")},
    OfficerRow.unit: {"Actor.unit": max_length(Actor, "unit")},
    OfficerRow.roles: {"Actor.roles joined": joined_roles_length()},
}


@pytest.mark.parametrize("column", list(SOURCES), ids=[str(c) for c in SOURCES])
def test_column_holds_the_longest_value_its_inputs_allow(column):
    """A bounded column never receives a value the input models let be longer."""
    column_type = column.type
    assert isinstance(column_type, String)
    for source, longest in SOURCES[column].items():
        if column_type.length is None:
            continue
        assert longest is not None, f"{column} is {column_type.length} long but {source} is unbounded"
        assert longest <= column_type.length, (
            f"{column} is {column_type.length} long but {source} allows {longest}"
        )


async def test_a_transfer_id_of_the_longest_allowed_length_is_recorded(records):
    """A transfer id of 200 characters (TransferInput's limit) reaches the audit trail (PostgreSQL refused it)."""
    code = new_code("LIMIT")
    t0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    transfer_id = "carryover-" + "x" * (max_length(TransferInput, "transfer_id") - len("carryover-"))
    carried = entry(
        3,
        t0,
        "carried_over",
        DossierStatus.PROCESSING,
        action_id=transfer_id,
        details={"from": "a", "to": "b", "transfer_id": transfer_id},
    )
    await record(records, summary(code, t0), [*received_entries(t0), carried])
    async with records.sessions() as session:
        stored = await session.scalar(
            select(DossierEventRow.action_id).where(
                DossierEventRow.dossier_code == code, DossierEventRow.seq == 3
            )
        )
    assert stored == transfer_id
