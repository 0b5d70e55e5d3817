"""A worklist page's rows read from the records store alone: the inbox's candidates (the same
rule, `officers.inbox.waiting_rows`) without asking each workflow.

The inbox confirms every candidate with a `view` query (about 4.5 ms each, docs/benchmarks.md):
right for the API's `/inbox`, too slow for a page many officers reload all day on a unit of
thousands of open dossiers. Here the projection's status, step and due moment are shown as they
were last recorded (a fraction of a second behind, docs/records.md); the dossier's page, which
reads the workflow, offers only the actions the officer may take now.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel

from model.dossier_inputs import Actor
from officers.inbox import waiting_rows
from records.database import RecordsStore
from records.tables import DossierRow

__all__ = ["WorklistRow", "worklist"]


class WorklistRow(BaseModel):
    code: str
    procedure_code: str
    status: str
    current_step: str | None
    received_at: AwareDatetime
    due_at: AwareDatetime
    overdue: bool


async def worklist(records: RecordsStore, officer: Actor, limit: int = 50) -> list[WorklistRow]:
    """Up to `limit` dossiers waiting for `officer`, overdue first, then by due moment."""
    d = DossierRow
    query = waiting_rows(
        officer, d.code, d.procedure_code, d.status, d.current_step, d.received_at, d.due_at, d.overdue
    ).limit(limit)
    async with records.sessions() as session:
        rows = (await session.execute(query)).all()
    return [
        WorklistRow(
            code=r.code,
            procedure_code=r.procedure_code,
            status=r.status,
            current_step=r.current_step,
            received_at=r.received_at,
            due_at=r.due_at,
            overdue=r.overdue,
        )
        for r in rows
    ]
