"""Dossiers whose projection the records store refused for good, as operators list and retry them.

The dossier workflow flags itself with the `ProjectionFailed` search attribute when the records
store refuses a batch of its entries as bad data (records.data_errors); its deadline and its
actions go on, the entries wait in its state. The list comes from Temporal visibility, not
from the store that refused them. After fixing the cause (a migration widening a column, a
corrected row), `retry_projection` sends the waiting entries again.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from temporalio.client import Client

from model import search_attributes
from workflows.dossier import DossierWorkflow

__all__ = ["FailedProjection", "projection_failures", "retry_projection"]

QUERY = f"{search_attributes.PROJECTION_FAILED.name} = true"


class FailedProjection(BaseModel):
    code: str
    status: str | None
    handling_unit: str | None
    received_at: datetime | None


async def projection_failures(client: Client, limit: int = 1000) -> list[FailedProjection]:
    """Running dossiers flagged ProjectionFailed, as visibility lists them (at most `limit`)."""
    found = []
    async for execution in client.list_workflows(QUERY, limit=limit):
        attributes = execution.typed_search_attributes
        found.append(
            FailedProjection(
                code=execution.id,
                status=attributes.get(search_attributes.STATUS),
                handling_unit=attributes.get(search_attributes.HANDLING_UNIT),
                received_at=attributes.get(search_attributes.RECEIVED_AT),
            )
        )
    return found


async def retry_projection(client: Client, code: str) -> bool:
    """Ask the dossier to send its refused entries again. False if it was not flagged."""
    handle = client.get_workflow_handle_for(DossierWorkflow.run, code)
    flagged = (await handle.describe()).typed_search_attributes.get(
        search_attributes.PROJECTION_FAILED
    ) is True
    await handle.signal(DossierWorkflow.retry_projection)
    return flagged
