"""Auditors' routes: a dossier's history checked against the audit trail, search, CSV export,
service reports (the dossiers' and the interlinked groups' per agency) and the chain verification. Read only; every route needs the auditor role."""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field, ValidationError

from api.deps import Services, auditor, services
from api.routes.dossiers import CODE
from audit.group_history import GroupHistory, history_of
from audit.group_reports import GroupAgencyCounts, groups_by_agency
from audit.history import AuditorHistory
from audit.lag import verify_against_temporal
from audit.reports import Grouping, Report, ReportQuery, report
from audit.search import MAX_PAGE_SIZE, SearchFilter, SearchPage, export_csv, search
from audit.verify import VerifyResult
from procedures.instants import VietnamInstant

__all__ = ["router"]

router = APIRouter(
    prefix="/audit",
    tags=["audit"],
    dependencies=[Depends(auditor)],
    responses={403: {"description": "WrongRole: not an auditor"}},
)


@router.get(
    "/dossiers/{code}/history",
    summary="Temporal's history as a timeline, checked against the audit trail; for an interlinked"
    " group's code, the group's timeline and its members (each member's history at its own code)",
    responses={
        404: {"description": "UnknownDossier: Temporal has no such dossier"},
        502: {"description": "TemporalError: Temporal failed the request"},
        503: {"description": "TemporalUnavailable: Temporal unreachable"},
    },
)
async def history(code: str = CODE, deps: Services = Depends(services)) -> AuditorHistory | GroupHistory:
    return await history_of(deps.client, deps.records, code)


class SearchParameters(SearchFilter):
    page: int = Field(1, ge=1)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


@router.get("/dossiers", summary="search the records store (paginated)")
async def search_dossiers(
    parameters: Annotated[SearchParameters, Query()], deps: Services = Depends(services)
) -> SearchPage:
    where = SearchFilter(**parameters.model_dump(exclude={"page", "page_size"}))
    return await search(deps.records, where, page=parameters.page, page_size=parameters.page_size)


@router.get(
    "/dossiers.csv",
    summary="export what a search finds as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_dossiers(
    where: Annotated[SearchFilter, Query()], deps: Services = Depends(services)
) -> Response:
    out = io.StringIO()
    await export_csv(deps.records, where, out)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="dossiers.csv"'},
    )


class ReportParameters(BaseModel):
    start: VietnamInstant
    end: VietnamInstant
    by: list[Grouping] = []
    handling_unit: str | None = None
    receiving_unit: str | None = None
    procedure_code: str | None = None
    as_of: VietnamInstant | None = None


@router.get("/report", summary="service report for a period, per unit and/or procedure")
async def service_report(
    parameters: Annotated[ReportParameters, Query()], deps: Services = Depends(services)
) -> Report:
    fields = parameters.model_dump(exclude={"by"}) | {"group_by": tuple(parameters.by)}
    return await report(deps.records, _report_query(fields))


def _report_query(fields: dict) -> ReportQuery:
    try:
        return ReportQuery(**fields)
    except ValidationError as err:
        # The period's own rules (start before end, no repeated grouping) as a 422 like any other.
        raise RequestValidationError(
            [{**e, "loc": ("query", *e["loc"])} for e in err.errors(include_url=False)]
        ) from err


class GroupReportParameters(BaseModel):
    start: VietnamInstant
    end: VietnamInstant


@router.get(
    "/groups/report",
    summary="interlinked groups received in a period: per agency, its parts on time, late, open and"
    " not answered (the same counts as `starter.py group report`)",
)
async def groups_report(
    parameters: Annotated[GroupReportParameters, Query()], deps: Services = Depends(services)
) -> list[GroupAgencyCounts]:
    # The period is checked as the service report's is (start before end), then counted by the
    # one function the CLI calls.
    query = _report_query(parameters.model_dump())
    return await groups_by_agency(deps.records, query.start, query.end)


@router.get(
    "/verify",
    summary="recompute the audit trail's hash chains and compare it with Temporal; list what was edited, "
    "deleted, reordered or is lagging",
)
async def verify_chains(
    dossier: list[str] = Query(default=[], description="only these dossiers (default: all)"),
    deps: Services = Depends(services),
) -> VerifyResult:
    return await verify_against_temporal(deps.records, deps.client, dossier or None)
