"""What `starter.py` prints for people: tables and timelines drawn with `rich`.

Machines get JSON (`--json`, or by default when standard output is not a terminal); people on
a terminal get these. Every instant is shown in Vietnam time with its offset
(procedures.instants), as in the JSON.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from datetime import datetime
from typing import TextIO

from rich.console import Console
from rich.table import Table

from procedures.calendar import VN_TZ

__all__ = [
    "REPORT_COLUMNS",
    "add_output_arguments",
    "catalogue_table",
    "console",
    "dossier_tables",
    "inbox_table",
    "moment",
    "print_tables",
    "report_table",
    "search_table",
    "wants_table",
]

# The report's counts as column headings, in the order of ReportCounts: received is split by
# what became of the dossiers (resolved, pending, withdrawn, refused), so the columns add up.
REPORT_COLUMNS = {
    "received": "received",
    "received_online": "online",
    "resolved_early": "early",
    "resolved_on_time": "on time",
    "resolved_late": "late",
    "pending_within_deadline": "pending",
    "pending_overdue": "overdue",
    "withdrawn": "withdrawn",
    "refused": "refused",
    "supplement_requested": "suppl.",
    "carried_over_in": "carried in",
    "carried_over_out": "carried out",
}


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="JSON (the default when output is not a terminal)")
    form.add_argument("--table", action="store_true", help="a table even when output is not a terminal")


def wants_table(args: argparse.Namespace, out: TextIO) -> bool:
    """A table when asked, or on a terminal unless JSON was asked for."""
    if getattr(args, "table", False):
        return True
    return not getattr(args, "json", False) and out.isatty()


def console(out: TextIO) -> Console:
    # Off a terminal (a forced table in a file or a pipe) rich would wrap at 80 columns.
    return Console(file=out, width=None if out.isatty() else 200, highlight=False)


def print_tables(out: TextIO, *renderables) -> None:
    target = console(out)
    for renderable in renderables:
        target.print(renderable)


def moment(value: datetime | None) -> str:
    """An instant in Vietnam time, to the minute, with its offset: 2025-06-30 08:15 +07:00."""
    if value is None:
        return "-"
    return value.astimezone(VN_TZ).strftime("%Y-%m-%d %H:%M %z").replace("+0700", "+07:00")


def dossier_tables(view) -> tuple[Table, Table]:
    """A dossier's state (one row per fact) and its timeline (one row per action)."""
    facts = Table(title=f"Dossier {view.code}", show_header=False, title_justify="left")
    facts.add_column(style="bold")
    facts.add_column()
    step = view.current_step
    rows = [
        ("procedure", f"{view.procedure_code} (version {view.version_id})"),
        ("status", f"{view.status.value} (code {view.status_code})" + ("  OVERDUE" if view.overdue else "")),
        ("current step", f"{step.id}: {step.name} ({step.role.value})" if step else "-"),
        ("received", f"{moment(view.received_at)} at {view.receiving_unit}"),
        ("handled by", view.handling_unit),
        ("due", moment(view.due_at)),
    ]
    if view.carried_over_from:
        rows.append(("carried over", f"from {view.carried_over_from} on {moment(view.carried_over_at)}"))
    if view.paused_since:
        rows.append(("clock stopped", f"since {moment(view.paused_since)}"))
    if view.supplement_request:
        rows.append(
            (
                "supplement asked",
                f"{', '.join(view.supplement_request.documents)}: {view.supplement_request.reason}",
            )
        )
    if view.payment:
        paid = f", paid {moment(view.payment.paid_at)}" if view.payment.paid_at else ", not paid yet"
        rows.append(("payment", f"{view.payment.amount_vnd:,} VND{paid}"))
    if view.apology_due:
        rows.append(("apology due", "yes: issue_apology with a new appointment"))
    if view.resolved_at:
        rows.append(("resolved", moment(view.resolved_at)))
    if view.closed_at:
        rows.append(("closed", moment(view.closed_at)))
    if view.outcome_reason:
        rows.append(("reason", view.outcome_reason))
    for name, value in rows:
        facts.add_row(name, value)
    timeline = Table(title="Timeline", title_justify="left")
    for heading in ("#", "at (Vietnam time)", "action", "by", "status", "note"):
        timeline.add_column(heading)
    for entry in view.timeline:
        by = entry.actor_id + (f" ({entry.actor_unit})" if entry.actor_unit else "")
        change = (
            entry.status_after.value
            if entry.status_before in (None, entry.status_after)
            else (f"{entry.status_before.value} -> {entry.status_after.value}")
        )
        what = entry.action + (f" {entry.step_id}" if entry.step_id else "")
        details = ", ".join(f"{k} {v}" for k, v in entry.details.items())
        timeline.add_row(
            str(entry.seq),
            moment(entry.at),
            what,
            by,
            change,
            "; ".join(x for x in (entry.note, details) if x),
        )
    return facts, timeline


def search_table(page) -> Table:
    table = Table(
        title=f"{page.total} dossier(s), page {page.page} of size {page.page_size}", title_justify="left"
    )
    for heading in (
        "code",
        "procedure",
        "status",
        "handling unit",
        "received",
        "due",
        "overdue",
        "carried over from",
    ):
        table.add_column(heading)
    for item in page.items:
        table.add_row(
            item.code,
            item.procedure_code,
            item.status,
            item.handling_unit,
            moment(item.received_at),
            moment(item.due_at),
            "yes" if item.overdue else "",
            item.carried_over_from or "",
        )
    return table


def report_table(report, title: str | None = None) -> Table:
    """The service report, one row per group and a total row; the columns of REPORT_COLUMNS."""
    query = report.query
    table = Table(
        title=title
        or f"Service report {moment(query.start)} to {moment(query.end)}, as of {moment(report.as_of)}",
        title_justify="left",
    )
    groups = list(query.group_by)
    for group in groups:
        table.add_column(group.replace("_", " "))
    for label in REPORT_COLUMNS.values():
        table.add_column(label, justify="right")
    table.add_column("on-time", justify="right")
    # Decision 766's other indicators; the online counts and the number of ratings are in --json/--csv.
    table.add_column("online %", justify="right")
    table.add_column("rating", justify="right")
    for row in [*report.rows, report.totals]:
        counts = row.counts.model_dump()
        keys = [row.group.get(g, "all") for g in groups]
        rate = "-" if row.on_time_rate is None else f"{row.on_time_rate:.0%}"
        share = "-" if row.counts.online_share is None else f"{row.counts.online_share:.0%}"
        rating = "-" if row.counts.rating_average is None else f"{row.counts.rating_average:.2f}"
        table.add_row(
            *keys,
            *(str(counts[c]) for c in REPORT_COLUMNS),
            rate,
            share,
            rating,
            end_section=row is report.rows[-1] if report.rows else False,
        )
    return table


def inbox_table(items: Iterable, officer) -> Table:
    table = Table(
        title=f"Waiting for {officer.id} at {officer.unit}: overdue first, then by due moment",
        title_justify="left",
    )
    for heading in ("", "due", "code", "procedure", "status", "you can"):
        table.add_column(heading)
    for item in items:
        what = ", ".join(
            f"{a} {item.step.id}" if a == "complete_step" and item.step else a for a in item.actions
        )
        table.add_row(
            # An online dossier nobody checked in time is late at the counter, not overdue.
            "OVERDUE" if item.overdue else "CHECK LATE" if getattr(item, "check_late", False) else "",
            moment(item.due_at),
            item.code,
            item.procedure_code,
            item.status.value,
            what,
        )
    return table


def catalogue_table(versions: Iterable, at: datetime) -> Table:
    """Procedures in force at `at`: code, name, level, time limit, fees."""
    table = Table(title=f"Procedures in force at {moment(at)}", title_justify="left")
    for heading in ("code", "procedure", "level", "time limit", "fees (VND)"):
        table.add_column(heading)
    for version in versions:
        table.add_row(
            version.procedure_code,
            version.procedure_name,
            version.authority_level.value,
            _time_limit(version),
            _fees(version),
        )
    return table


def _time_limit(version) -> str:
    limit = version.time_limit
    amount = f"{limit.amount:g}"
    return f"{amount} {limit.unit.value.replace('_', ' ')}"


def _fees(version) -> str:
    return "; ".join(f"{fee.amount_vnd:,} ({fee.name})" for fee in version.fees) or "none"
