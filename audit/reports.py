"""Service reports per unit, per procedure and per period (the counts one-stop systems report).

For a period [start, end) and the moment `as_of` (end, or now if the period is not over):
- received: received in the period; of which online (channel `online`);
- resolved early / on time / late: result ready in the period. Late: after the due moment,
  or after the deadline was first missed (an apology moves the due moment, not the fact);
  early: on a day (Vietnam time) before the due day; on time: the rest;
- pending within deadline / pending overdue: still held at `as_of` (not resolved, not
  closed), by whether the deadline had passed at `as_of`. A dossier waiting for the
  applicant's supplementation at `as_of` has its clock stopped: it is overdue only if the
  deadline was missed before the pause (`overdue_at`), never because its stored (unshifted)
  due moment passed while it waited; of which paused: `pending_paused`;
- supplementation requested: dossiers with a supplement request in the period;
- withdrawn, refused: closed so in the period; of which late (`withdrawn_late`,
  `refused_late`): closed after the deadline was missed (an `overdue` entry before the
  closure, or a closure after the due moment while the clock was running). Late closures
  count in the on-time rate as late; closures within the deadline stay outside it;
- carried over in / out: carried to / from the handling unit in the period (grouped by
  anything else than the handling unit, in = out = the dossiers carried over);
- on-time rate = (early + on time + pending within deadline)
  / (resolved + pending + refused late + withdrawn late).
The reasoning is in docs/records.md. The counts reflect what the records store knows now: a
later supplement shifts `due_at`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, model_validator
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased

from model.input_bounds import Instant
from records.database import RecordsStore
from records.tables import DossierEventRow, DossierRow

__all__ = ["GROUPINGS", "Grouping", "Report", "ReportCounts", "ReportQuery", "ReportRow", "report"]

Grouping = Literal["handling_unit", "receiving_unit", "procedure"]
GROUPINGS: dict[str, str] = {
    "handling_unit": "handling_unit",
    "receiving_unit": "receiving_unit",
    "procedure": "procedure_code",
}
VN_OFFSET_HOURS = 7  # Vietnam has had no daylight saving since 1975


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: Instant
    end: Instant
    group_by: tuple[Grouping, ...] = ()
    handling_unit: str | None = None
    receiving_unit: str | None = None
    procedure_code: str | None = None
    as_of: Instant | None = None  # default: end, or now if earlier

    @model_validator(mode="after")
    def _period(self) -> ReportQuery:
        if self.start >= self.end:
            raise ValueError(
                f"the period must start before it ends ({self.start.isoformat()} >= {self.end.isoformat()})"
            )
        if len(set(self.group_by)) != len(self.group_by):
            raise ValueError("group_by repeats a grouping")
        return self


class ReportCounts(BaseModel):
    received: int = 0
    received_online: int = 0
    resolved_early: int = 0
    resolved_on_time: int = 0
    resolved_late: int = 0
    pending_within_deadline: int = 0
    pending_overdue: int = 0
    pending_paused: int = 0  # of the pending: waiting for the applicant's supplementation at as_of
    supplement_requested: int = 0
    withdrawn: int = 0
    withdrawn_late: int = 0  # of the withdrawn: after the deadline was missed
    refused: int = 0
    refused_late: int = 0  # of the refused: after the deadline was missed
    carried_over_in: int = 0
    carried_over_out: int = 0

    @property
    def total(self) -> int:
        return (
            self.resolved_early
            + self.resolved_on_time
            + self.resolved_late
            + self.pending_within_deadline
            + self.pending_overdue
            + self.refused_late
            + self.withdrawn_late
        )

    @property
    def on_time_rate(self) -> float | None:
        if self.total == 0:
            return None
        return (self.resolved_early + self.resolved_on_time + self.pending_within_deadline) / self.total

    def add(self, other: ReportCounts) -> ReportCounts:
        return ReportCounts(
            **{name: getattr(self, name) + getattr(other, name) for name in ReportCounts.model_fields}
        )

    def summary(self) -> dict:
        return {**self.model_dump(), "total": self.total, "on_time_rate": self.on_time_rate}


class ReportRow(BaseModel):
    group: dict[str, str]
    counts: ReportCounts
    total: int
    on_time_rate: float | None


class Report(BaseModel):
    query: ReportQuery
    as_of: AwareDatetime
    rows: list[ReportRow]
    totals: ReportRow


def _vn_day(column, dialect: str):
    """The Vietnam calendar day of an instant, as something comparable in SQL."""
    if dialect == "postgresql":
        return func.date(func.timezone("Asia/Ho_Chi_Minh", column))
    return func.date(column, f"+{VN_OFFSET_HOURS} hours")


def _paused_at(moment):
    """The dossier waits for the applicant at `moment`: its last supplement request up to then
    has no `supplemented` after it (the clock is stopped)."""
    requested, supplied = aliased(DossierEventRow), aliased(DossierEventRow)
    d = DossierRow
    last_request = (
        select(func.max(requested.at))
        .where(
            requested.dossier_code == d.code,
            requested.action == "supplement_requested",
            requested.at <= moment,
        )
        .scalar_subquery()
    )
    last_supply = (
        select(func.max(supplied.at))
        .where(supplied.dossier_code == d.code, supplied.action == "supplemented", supplied.at <= moment)
        .scalar_subquery()
    )
    return and_(last_request.isnot(None), or_(last_supply.is_(None), last_supply < last_request))


def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def report(store: RecordsStore, query: ReportQuery, now: datetime | None = None) -> Report:
    now = now or datetime.now(UTC)
    as_of = query.as_of or min(query.end, now)
    d = DossierRow
    dialect = store.engine.dialect.name
    start, end = query.start, query.end
    keys = [getattr(d, GROUPINGS[g]) for g in query.group_by]

    in_period = lambda column: and_(column >= start, column < end)  # noqa: E731
    late = or_(d.resolved_at > d.due_at, and_(d.overdue_at.isnot(None), d.overdue_at <= d.resolved_at))
    resolved = in_period(d.resolved_at)
    early = _vn_day(d.resolved_at, dialect) < _vn_day(d.due_at, dialect)
    pending = and_(
        d.received_at < as_of,
        or_(d.resolved_at.is_(None), d.resolved_at >= as_of),
        or_(d.closed_at.is_(None), d.closed_at >= as_of),
    )
    paused = _paused_at(as_of)
    # While paused only a deadline missed before the pause counts: the stored due moment is the
    # unshifted one, and the shift is only computed when the supplement arrives.
    overdue_at_as_of = or_(
        and_(d.due_at < as_of, ~paused), and_(d.overdue_at.isnot(None), d.overdue_at <= as_of)
    )
    closed_late = or_(
        and_(d.overdue_at.isnot(None), d.overdue_at <= d.closed_at),
        and_(d.closed_at > d.due_at, ~_paused_at(d.closed_at)),
    )
    withdrawn = and_(d.status == "withdrawn", in_period(d.closed_at))
    refused = and_(d.status == "refused", in_period(d.closed_at))
    measures = {
        "received": _count(in_period(d.received_at)),
        "received_online": _count(and_(in_period(d.received_at), d.channel == "online")),
        "resolved_early": _count(and_(resolved, ~late, early)),
        "resolved_on_time": _count(and_(resolved, ~late, ~early)),
        "resolved_late": _count(and_(resolved, late)),
        "pending_within_deadline": _count(and_(pending, ~overdue_at_as_of)),
        "pending_overdue": _count(and_(pending, overdue_at_as_of)),
        "pending_paused": _count(and_(pending, paused)),
        "withdrawn": _count(withdrawn),
        "withdrawn_late": _count(and_(withdrawn, closed_late)),
        "refused": _count(refused),
        "refused_late": _count(and_(refused, closed_late)),
        "carried_over_in": _count(in_period(d.carried_over_at)),
    }
    # Everything counted was received before the period ended (or before as_of).
    scope = d.received_at < max(end, as_of)
    counts: dict[tuple, dict[str, int]] = {}
    async with store.sessions() as session:
        main = select(*keys, *(m.label(n) for n, m in measures.items())).where(scope, *_filters(query))
        if keys:
            main = main.group_by(*keys)
        for row in await session.execute(main):
            values = row._mapping
            key = tuple(values[k.key] for k in keys)
            counts[key] = {name: int(values[name]) for name in measures}

        e = DossierEventRow
        supplements = (
            select(*keys, func.count(func.distinct(e.dossier_code)).label("n"))
            .select_from(e)
            .join(d, d.code == e.dossier_code)
            .where(e.action == "supplement_requested", e.at >= start, e.at < end, *_filters(query))
        )
        if keys:
            supplements = supplements.group_by(*keys)
        for row in await session.execute(supplements):
            key = tuple(row[:-1])
            counts.setdefault(key, {}).update(supplement_requested=int(row.n))

        # Carried out: the same dossiers, counted at the unit they left.
        out_keys = [
            d.carried_over_from if g == "handling_unit" else getattr(d, GROUPINGS[g]) for g in query.group_by
        ]
        out_filters = _filters(query, handling_unit_column=d.carried_over_from)
        carried_out = select(*out_keys, func.count().label("n")).where(
            d.carried_over_at >= start, d.carried_over_at < end, *out_filters
        )
        if out_keys:
            carried_out = carried_out.group_by(*out_keys)
        for row in await session.execute(carried_out):
            key = tuple(row[:-1])
            if row.n:
                counts.setdefault(key, {}).update(carried_over_out=int(row.n))

    rows = []
    totals = ReportCounts()
    for key in sorted(counts, key=lambda k: tuple("" if v is None else str(v) for v in k)):
        row_counts = ReportCounts(**counts[key])
        if row_counts == ReportCounts():
            continue  # a group with nothing to report (e.g. only older closed dossiers)
        totals = totals.add(row_counts)
        rows.append(_row(dict(zip(query.group_by, (str(v) for v in key))), row_counts))
    return Report(query=query, as_of=as_of, rows=rows, totals=_row({}, totals))


def _row(group: dict[str, str], counts: ReportCounts) -> ReportRow:
    return ReportRow(group=group, counts=counts, total=counts.total, on_time_rate=counts.on_time_rate)


def _filters(query: ReportQuery, handling_unit_column=None) -> Sequence:
    d = DossierRow
    filters = []
    if query.handling_unit is not None:
        filters.append(
            (handling_unit_column if handling_unit_column is not None else d.handling_unit)
            == query.handling_unit
        )
    if query.receiving_unit is not None:
        filters.append(d.receiving_unit == query.receiving_unit)
    if query.procedure_code is not None:
        filters.append(d.procedure_code == query.procedure_code)
    return filters
