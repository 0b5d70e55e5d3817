"""Searching the dossiers projection and exporting the result as CSV.

Plain async functions over a RecordsStore returning pydantic models, shared by the CLI and
the HTTP API. Date ranges are half-open: `received_from <= received_at < received_to`.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from typing import TextIO

from pydantic import AwareDatetime, BaseModel, ConfigDict, model_validator
from sqlalchemy import Select, func, select

from procedures.instants import VietnamInstant, in_vietnam_time
from records.database import RecordsStore
from records.tables import DossierRow

__all__ = [
    "CSV_COLUMNS",
    "DossierRecord",
    "SearchFilter",
    "SearchPage",
    "export_csv",
    "iter_dossiers",
    "search",
]

MAX_PAGE_SIZE = 500


class SearchFilter(BaseModel):
    """Which dossiers: every field left empty matches all."""

    model_config = ConfigDict(extra="forbid")

    procedure_code: str | None = None
    handling_unit: str | None = None
    receiving_unit: str | None = None
    status: str | None = None
    received_from: VietnamInstant | None = None
    received_to: VietnamInstant | None = None
    due_from: VietnamInstant | None = None
    due_to: VietnamInstant | None = None
    overdue: bool | None = None
    carried_over: bool | None = None
    carried_over_from: str | None = None

    @model_validator(mode="after")
    def _ranges(self) -> SearchFilter:
        for start, end in (("received_from", "received_to"), ("due_from", "due_to")):
            a, b = getattr(self, start), getattr(self, end)
            if a is not None and b is not None and a >= b:
                raise ValueError(f"{start} ({a.isoformat()}) must be before {end} ({b.isoformat()})")
        return self


class DossierRecord(BaseModel):
    """A dossier as the records store knows it."""

    code: str
    procedure_code: str
    version_id: str
    receiving_unit: str  # the current counter
    original_receiving_unit: str  # the counter of receipt (differs once a carryover moved it)
    handling_unit: str
    status: str
    channel: str
    received_at: AwareDatetime
    due_at: AwareDatetime
    resolved_at: AwareDatetime | None
    closed_at: AwareDatetime | None
    overdue: bool
    overdue_at: AwareDatetime | None
    carried_over_from: str | None
    carried_over_at: AwareDatetime | None
    current_step: str | None
    current_roles: tuple[str, ...]
    last_event_seq: int


class SearchPage(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[DossierRecord]


CSV_COLUMNS = tuple(DossierRecord.model_fields)


def _filtered(query: Select, search_filter: SearchFilter) -> Select:
    equal = {
        DossierRow.procedure_code: search_filter.procedure_code,
        DossierRow.handling_unit: search_filter.handling_unit,
        DossierRow.receiving_unit: search_filter.receiving_unit,
        DossierRow.status: search_filter.status,
        DossierRow.carried_over_from: search_filter.carried_over_from,
    }
    for column, value in equal.items():
        if value is not None:
            query = query.where(column == value)
    if search_filter.received_from is not None:
        query = query.where(DossierRow.received_at >= search_filter.received_from)
    if search_filter.received_to is not None:
        query = query.where(DossierRow.received_at < search_filter.received_to)
    if search_filter.due_from is not None:
        query = query.where(DossierRow.due_at >= search_filter.due_from)
    if search_filter.due_to is not None:
        query = query.where(DossierRow.due_at < search_filter.due_to)
    if search_filter.overdue is not None:
        query = query.where(DossierRow.overdue.is_(search_filter.overdue))
    if search_filter.carried_over is not None:
        query = query.where(
            DossierRow.carried_over_from.isnot(None)
            if search_filter.carried_over
            else DossierRow.carried_over_from.is_(None)
        )
    return query


def _ordered(query: Select) -> Select:
    return query.order_by(DossierRow.received_at.desc(), DossierRow.code)


async def search(
    store: RecordsStore, search_filter: SearchFilter, page: int = 1, page_size: int = 50
) -> SearchPage:
    """One page (1-based) of the dossiers matching `search_filter`, newest receipt first."""
    if page < 1:
        raise ValueError(f"page must be 1 or more, not {page}")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page size must be between 1 and {MAX_PAGE_SIZE}, not {page_size}")
    async with store.sessions() as session:
        total = await session.scalar(_filtered(select(func.count()).select_from(DossierRow), search_filter))
        rows = await session.scalars(
            _ordered(_filtered(select(DossierRow), search_filter))
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
        items = [_record(row) for row in rows]
    return SearchPage(total=total or 0, page=page, page_size=page_size, items=items)


async def iter_dossiers(store: RecordsStore, search_filter: SearchFilter) -> AsyncIterator[DossierRecord]:
    """Every dossier matching `search_filter`, streamed (exports can be large)."""
    async with store.sessions() as session:
        result = await session.stream_scalars(
            _ordered(_filtered(select(DossierRow), search_filter)).execution_options(yield_per=1000)
        )
        async for row in result:
            yield _record(row)


async def export_csv(store: RecordsStore, search_filter: SearchFilter, out: TextIO) -> int:
    """Write the matching dossiers as CSV (header first, instants in ISO 8601, Vietnam time); returns the count."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    async for record in iter_dossiers(store, search_filter):
        values = in_vietnam_time(record.model_dump(mode="json"))
        values["current_roles"] = ",".join(record.current_roles)
        writer.writerow("" if values[c] is None else values[c] for c in CSV_COLUMNS)
        count += 1
    return count


def _record(row: DossierRow) -> DossierRecord:
    return DossierRecord(
        code=row.code,
        procedure_code=row.procedure_code,
        version_id=row.version_id,
        receiving_unit=row.receiving_unit,
        original_receiving_unit=row.original_receiving_unit,
        handling_unit=row.handling_unit,
        status=row.status,
        channel=row.channel,
        received_at=row.received_at,
        due_at=row.due_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        overdue=row.overdue,
        overdue_at=row.overdue_at,
        carried_over_from=row.carried_over_from,
        carried_over_at=row.carried_over_at,
        current_step=row.current_step,
        current_roles=tuple(r for r in row.current_roles.split(",") if r),
        last_event_seq=row.last_event_seq,
    )
