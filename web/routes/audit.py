"""Auditors: search with the API's filters (and its CSV), a dossier's history beside its audit
trail with every disagreement marked, the chains' verification, and the service report for a
period with its on-time rate per unit and month, and the interlinked groups' parts per agency
for the same period (with their own CSV). The same reads as `/audit/...` and the CLI.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError
from temporalio.service import RPCError, RPCStatusCode

from adminunits import VN_TZ
from api.routes.dossiers import CODE
from audit.group_history import GroupHistory, history_of
from audit.group_reports import GroupAgencyCounts, groups_by_agency
from audit.lag import verify_against_temporal
from audit.reports import ReportCounts, ReportQuery, report
from audit.search import SearchFilter, export_csv, search
from procedures.instants import parse_instant
from procedures.problems import describe_validation_error
from records.lookup_secrets import LookupSecrets
from web.pages import Staff, render, require, services_of, staff_page

__all__ = ["router"]

router = APIRouter(prefix="/web/audit", include_in_schema=False)
FILTERS = tuple(SearchFilter.model_fields)


def _filter(request: Request) -> tuple[SearchFilter | None, dict[str, str], str]:
    values = {k: v for k, v in request.query_params.items() if k in FILTERS and v != ""}
    try:
        return SearchFilter.model_validate(values), values, ""
    except ValidationError as err:
        return None, values, "Điều kiện tìm kiếm chưa hợp lệ: " + describe_validation_error(err)


@router.get("")
async def search_page(request: Request, page: int = 1, staff: Staff = Depends(staff_page)):
    require(staff, "auditor")
    where, values, message = _filter(request)
    found = await search(services_of(request).records, where, page=max(page, 1)) if where else None
    query = "&".join(f"{k}={v}" for k, v in values.items())
    return render(
        request,
        "audit_search.html",
        422 if message else 200,
        staff=staff,
        found=found,
        values=values,
        message=message,
        query=query,
    )


@router.get("/dossiers.csv")
async def export(request: Request, staff: Staff = Depends(staff_page)):
    require(staff, "auditor")
    where, _, message = _filter(request)
    if where is None:
        return Response(message, status_code=422, media_type="text/plain; charset=utf-8")
    out = io.StringIO()
    await export_csv(services_of(request).records, where, out)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="dossiers.csv"'},
    )


@router.get("/dossiers/{code}")
async def history(request: Request, code: str = CODE, staff: Staff = Depends(staff_page)):
    require(staff, "auditor")
    deps = services_of(request)
    try:
        found = await history_of(deps.client, deps.records, code)
    except RPCError as err:
        if err.status is not RPCStatusCode.NOT_FOUND:
            raise
        return render(request, "not_found.html", 404, staff=staff, code=code)
    if isinstance(found, GroupHistory):
        # An interlinked group's own history, each member linked to its own.
        return render(request, "audit_group_history.html", staff=staff, history=found)
    marked = {d.seq for d in found.disagreements if d.seq is not None}
    # The lookup secrets issued again for lost slips: who, when, why (never the secret).
    reissues = await LookupSecrets(deps.records.engine, deps.records.sessions).reissues(code)
    return render(request, "audit_history.html", staff=staff, history=found, marked=marked, reissues=reissues)


@router.get("/verify")
async def verify(request: Request, staff: Staff = Depends(staff_page)):
    require(staff, "auditor")
    deps = services_of(request)
    result = await verify_against_temporal(deps.records, deps.client)
    return render(request, "audit_verify.html", staff=staff, result=result)


def _months(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The calendar months (Vietnam time) the period covers, cut to the period."""
    months, at = [], start.astimezone(VN_TZ)
    while at < end:
        first = at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        following = first.replace(year=first.year + (first.month == 12), month=first.month % 12 + 1)
        months.append((at, min(following, end)))
        at = following
    return months


async def _report(request: Request) -> tuple[dict, str]:
    params = request.query_params
    values = {"start": params.get("start", ""), "end": params.get("end", "")}
    if not values["start"] or not values["end"]:
        return {"values": values}, ""
    try:
        # Dates and local times are Vietnam time, as the API and the CLI read them.
        start, end = parse_instant(values["start"]), parse_instant(values["end"])
        query = ReportQuery(start=start, end=end, group_by=("handling_unit",))
    except ValidationError as err:
        return {"values": values}, "Kỳ báo cáo chưa hợp lệ: " + describe_validation_error(err)
    except ValueError as err:
        return {"values": values}, f"Kỳ báo cáo chưa hợp lệ: {err}"
    records = services_of(request).records
    whole = await report(records, query)
    monthly = []
    for start, end in _months(query.start, query.end):
        part = await report(records, query.model_copy(update={"start": start, "end": end}))
        monthly.append((start, part))
    groups = await groups_by_agency(records, query.start, query.end)
    return {"values": values, "report": whole, "monthly": monthly, "groups": groups}, ""


@router.get("/report")
async def report_page(request: Request, staff: Staff = Depends(staff_page)):
    require(staff, "auditor")
    context, message = await _report(request)
    return render(
        request, "audit_report.html", 422 if message else 200, staff=staff, message=message, **context
    )


@router.get("/report.csv")
async def report_csv(request: Request, staff: Staff = Depends(staff_page)):
    require(staff, "auditor")
    context, message = await _report(request)
    if "report" not in context:
        return Response(
            message or "start, end: required", status_code=422, media_type="text/plain; charset=utf-8"
        )
    out = io.StringIO()
    writer = csv.writer(out)
    counts = list(ReportCounts.model_fields)
    writer.writerow(["month", "handling_unit", *counts, "total", "on_time_rate"])
    for start, part in context["monthly"]:
        for row in part.rows:
            writer.writerow(
                [
                    start.strftime("%Y-%m"),
                    row.group.get("handling_unit", ""),
                    *(getattr(row.counts, c) for c in counts),
                    row.total,
                    row.on_time_rate,
                ]
            )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="report.csv"'},
    )


@router.get("/groups-report.csv")
async def groups_report_csv(request: Request, staff: Staff = Depends(staff_page)):
    """The page's table of interlinked groups per agency, for the same period."""
    require(staff, "auditor")
    context, message = await _report(request)
    if "groups" not in context:
        return Response(
            message or "start, end: required", status_code=422, media_type="text/plain; charset=utf-8"
        )
    out = io.StringIO()
    writer = csv.writer(out)
    columns = list(GroupAgencyCounts.model_fields)
    writer.writerow(columns)
    for counts in context["groups"]:
        writer.writerow([getattr(counts, c) for c in columns])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="groups-report.csv"'},
    )
