"""Tables of the records store: a projection of dossiers for search, reports and audit.

Temporal's history is the source of truth; these rows are rebuilt from it by idempotent
activities. The schema is created and changed by the Alembic migrations in
`records/migrations` (never by `create_all`): a change here needs a new migration, and
tests/records/test_migrations.py fails while the two disagree.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ColumnClause,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql import column, literal_column, text
from sqlalchemy.types import TypeDecorator

__all__ = [
    "OPEN_STATUS_VALUES",
    "Base",
    "DossierEventRow",
    "DossierRow",
    "DossierSequenceRow",
    "GroupMemberRow",
    "IntakeRequestRow",
    "NotificationRow",
    "OfficerRow",
    "ProcedureRow",
    "ProcedureVersionRow",
    "UnitRow",
    "UnitSuccessionRow",
    "UtcDateTime",
    "inline_value",
]

CODE = 100  # dossier codes: agency code (up to 64) + date + number
UNIT = 64


class UtcDateTime(TypeDecorator):
    """An instant stored in UTC and read back timezone-aware on both dialects.

    SQLite has no time zone type: SQLAlchemy writes the wall-clock digits and drops the
    offset, so a Vietnam-time instant would come back 7 hours off. Converting to UTC first
    keeps comparisons and date ranges right on both dialects.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the records store needs aware instants")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _receiving_unit_at_insert(context) -> str:
    return context.get_current_parameters()["receiving_unit"]


class Base(DeclarativeBase):
    pass


class DossierSequenceRow(Base):
    """The last dossier number given out per receiving agency and receipt day."""

    __tablename__ = "dossier_sequences"
    agency_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[str] = mapped_column(String(6), primary_key=True)  # YYMMDD
    last_number: Mapped[int] = mapped_column(Integer, nullable=False)


def inline_value(value: str) -> ColumnClause[str]:
    """A status written into a statement as a quoted literal, not a parameter: only then do SQLite
    and PostgreSQL see that a query stays within a partial index's condition (the worklist's, the
    waiting checks'). Part of the statement SQLAlchemy compiles and caches, not rewritten at each
    execution as `literal_execute` values are (about 0.3 ms a worklist page, docs/benchmarks.md)."""
    if not value.replace("_", "").isalpha():  # the statuses' own names: nothing to escape
        raise ValueError(f"status {value!r} is not a plain name")
    return literal_column(f"'{value}'")


# The statuses in which a dossier still waits for someone: the inbox's rule
# (`officers.inbox.OPEN_STATUSES`, where it lives; tests/officers/test_worklist.py checks that
# the two agree) spelled out for the worklist's partial indexes, which only open dossiers enter.
OPEN_STATUS_VALUES = (
    "registered_online",
    "received",
    "processing",
    "supplement_requested",
    "payment_requested",
    "processed",
)
_OPEN = column("status").in_(OPEN_STATUS_VALUES).compile(compile_kwargs={"literal_binds": True})
_OPEN_ONLY = text(str(_OPEN))


class DossierRow(Base):
    """One row per dossier: its searchable facts as of its last recorded event."""

    __tablename__ = "dossiers"
    __table_args__ = (
        # Reports scan a period of receipts per unit or procedure; search filters on these.
        Index("ix_dossiers_received_at", "received_at"),
        Index("ix_dossiers_handling_unit_received_at", "handling_unit", "received_at"),
        Index("ix_dossiers_procedure_code_received_at", "procedure_code", "received_at"),
        Index("ix_dossiers_receiving_unit", "receiving_unit"),
        Index("ix_dossiers_original_receiving_unit", "original_receiving_unit"),
        Index("ix_dossiers_status", "status"),
        Index("ix_dossiers_due_at", "due_at"),
        Index("ix_dossiers_carried_over_from", "carried_over_from"),
    )
    code: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    procedure_code: Mapped[str] = mapped_column(String(32))
    version_id: Mapped[str] = mapped_column(String(100))
    # The current counter (a carryover may move it to the successor's): inbox, search, reports.
    receiving_unit: Mapped[str] = mapped_column(String(UNIT))
    # The counter where the dossier was received; never changes. At insert it is the
    # receiving unit unless given (a dossier is first projected at its receipt).
    original_receiving_unit: Mapped[str] = mapped_column(String(UNIT), default=_receiving_unit_at_insert)
    handling_unit: Mapped[str] = mapped_column(String(UNIT))
    status: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16), default="counter")
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)  # result ready
    closed_at: Mapped[datetime | None] = mapped_column(
        UtcDateTime, nullable=True
    )  # returned/refused/withdrawn
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the deadline was first missed (the first `overdue` entry): it stays after an apology
    # moves `due_at`, so a report still counts the dossier as late.
    overdue_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    carried_over_from: Mapped[str | None] = mapped_column(String(UNIT), nullable=True)
    carried_over_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    current_step: Mapped[str | None] = mapped_column(String(64), nullable=True)
    current_roles: Mapped[str] = mapped_column(String(200), default="")  # comma-separated role values
    last_event_seq: Mapped[int] = mapped_column(Integer, default=0)
    # Hash of the last event: the head of the chain, so a truncated chain shows.
    last_event_hash: Mapped[str] = mapped_column(String(64), default="")


def _worklist_index(unit: str, other_unit: str) -> Index:
    """A unit's open dossiers in the worklist's order (overdue first, then by due moment),
    with what the worklist's filter reads (roles, status, the other unit): a page reads its
    rows in order, a count the index alone (SQLite covers a query only with every column it
    names, the partial index's `status` too)."""
    c = DossierRow.__table__.c
    return Index(
        f"ix_dossiers_open_{unit}",
        c[unit],
        c.overdue.desc(),
        c.due_at,
        c.code,
        c.current_roles,
        c.status,
        c[other_unit],
        postgresql_where=_OPEN_ONLY,
        sqlite_where=_OPEN_ONLY,
    )


# The worklists and inboxes (officers.inbox.waiting_rows): migration 0011.
_worklist_index("handling_unit", "receiving_unit")
_worklist_index("receiving_unit", "handling_unit")


class DossierEventRow(Base):
    """Append-only, hash-chained: one row per timeline entry, unique per (dossier, seq).

    hash = SHA-256 over (dossier code, seq, prev_hash, payload); prev_hash is the hash of
    seq - 1 (64 zeros for seq 1). The columns beside `payload` are copies for querying;
    `verify` checks they agree with it.
    """

    __tablename__ = "dossier_events"
    __table_args__ = (
        UniqueConstraint("dossier_code", "seq"),
        # Reports count sparse actions (supplement requested, carried over) in a period.
        Index("ix_dossier_events_action_at", "action", "at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dossier_code: Mapped[str] = mapped_column(String(CODE))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(64))
    # An officer's action id (100) or a carryover's transfer id (200): migration 0004.
    action_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_roles: Mapped[str] = mapped_column(String(200), default="")
    actor_unit: Mapped[str] = mapped_column(String(UNIT))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    status_before: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status_after: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)  # the timeline entry as JSON: what is hashed
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # When the projection wrote the row (not hashed): projection lag = recorded_at - at.
    recorded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class NotificationRow(Base):
    """Messages to the applicant, waiting for the SMS/e-mail gateway; unique per event."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("dossier_code", "event_seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dossier_code: Mapped[str] = mapped_column(String(CODE), index=True)
    event_seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # An interlinked group's notice: its facts as JSON (a group has no dossier row or events).
    facts: Mapped[str | None] = mapped_column(Text, nullable=True)


class SatisfactionRatingRow(Base):
    """The applicant's rating of the service for a returned dossier (Decision 766/QĐ-TTg), one
    per dossier (records.ratings). The units and procedure are the dossier's at its return, so
    reports group ratings without reading the dossier; the comment, which may name the
    applicant, is kept only sealed by the payload keys, as Temporal keeps the rest."""

    __tablename__ = "satisfaction_ratings"
    __table_args__ = (
        Index("ix_satisfaction_ratings_rated_at", "rated_at"),
        Index("ix_satisfaction_ratings_handling_unit_rated_at", "handling_unit", "rated_at"),
        CheckConstraint("score BETWEEN 1 AND 5", name="ck_satisfaction_ratings_score"),
    )
    dossier_code: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)
    comment_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # SHA-256 of the score and comment: the same rating sent again is recognised, another refused.
    content_hash: Mapped[str] = mapped_column(String(64))
    handling_unit: Mapped[str] = mapped_column(String(UNIT))
    receiving_unit: Mapped[str] = mapped_column(String(UNIT))
    procedure_code: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    rated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IntakeRequestRow(Base):
    """A counter's request id, claimed with the code reserved for its dossier.

    Request ids are scoped to the receiving counter: two counters may use the same id. The
    hash of the request's content tells a true resubmission from another request that reuses
    the id. The code is reserved here, and committed, before the dossier is started, so a
    start whose outcome is unknown (a network cut) keeps its code: a resend of the request
    starts or finds that very dossier, never a second one.
    """

    __tablename__ = "intake_requests"
    __table_args__ = (UniqueConstraint("dossier_code", name="uq_intake_requests_dossier_code"),)
    receiving_unit: Mapped[str] = mapped_column(String(UNIT), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    dossier_code: Mapped[str] = mapped_column(String(CODE))
    # SHA-256 of the request's content; empty for claims made before migration 0004.
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    # The receipt instant fixed by the first submission (a resend keeps it); NULL before 0004.
    received_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # False while the dossier's start is not confirmed (reserved, outcome unknown).
    started: Mapped[bool] = mapped_column(Boolean, default=False)


# Reference data: snapshots that let reports and auditors name what the codes stand for.


class ProcedureRow(Base):
    """A procedure of the catalogue, as of the last snapshot."""

    __tablename__ = "procedures"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    sector: Mapped[str] = mapped_column(String(200), default="")


class ProcedureVersionRow(Base):
    """A version of a procedure, with its definition as JSON (what dossiers pin)."""

    __tablename__ = "procedure_versions"
    version_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    procedure_code: Mapped[str] = mapped_column(String(32), index=True)
    effective_from: Mapped[datetime] = mapped_column(UtcDateTime)
    effective_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    authority_level: Mapped[str] = mapped_column(String(32))
    definition: Mapped[str] = mapped_column(Text)


class UnitRow(Base):
    """An agency (authority or counter) of either era, and where its functions went."""

    __tablename__ = "units"
    code: Mapped[str] = mapped_column(String(UNIT), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(40))
    province_code: Mapped[str] = mapped_column(String(2), index=True)
    district_code: Mapped[str | None] = mapped_column(String(3), nullable=True)
    commune_code: Mapped[str | None] = mapped_column(String(5), nullable=True)
    legacy: Mapped[bool] = mapped_column(Boolean)  # exists before 2025-07-01
    current: Mapped[bool] = mapped_column(Boolean)  # exists from 2025-07-01
    successor_code: Mapped[str | None] = mapped_column(String(UNIT), nullable=True)


class UnitSuccessionRow(Base):
    """Where an abolished authority's dossiers went on 1 July 2025, per pre-2025 commune of the
    applicant's address ("" when one successor takes them all, as for a merged department)."""

    __tablename__ = "unit_successions"
    old_code: Mapped[str] = mapped_column(String(UNIT), primary_key=True)
    legacy_commune_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    successor_code: Mapped[str] = mapped_column(String(UNIT), index=True)
    # A split commune: the other candidates (agency codes, comma-separated) besides the default.
    alternatives: Mapped[str] = mapped_column(Text, default="")


class OfficerRow(Base):
    """An officer seen acting on dossiers: who did what, for auditors."""

    __tablename__ = "officers"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    unit: Mapped[str] = mapped_column(String(UNIT), index=True)
    roles: Mapped[str] = mapped_column(String(200), default="")
    first_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


# A group submitted online waiting for its counter's check (workflows.group_models' status).
_WAITING_CHECK = text("group_status = 'registered_online'")


class GroupMemberRow(Base):
    """A member of an interlinked group as its group last projected it, for the groups' report:
    which agency, whether it was late when the group went overdue, how the group ended; and,
    with the group's counter, the groups submitted online waiting for that counter's check
    (`officers.group_checks`, its index partial on `registered_online`)."""

    __tablename__ = "group_members"
    __table_args__ = (
        Index(
            "ix_group_members_waiting_check",
            "receiving_unit",
            "group_due_at",
            "group_code",
            postgresql_where=_WAITING_CHECK,
            sqlite_where=_WAITING_CHECK,
        ),
    )
    group_code: Mapped[str] = mapped_column(String(CODE), primary_key=True)  # the group's dossier code
    member_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    dossier_code: Mapped[str] = mapped_column(String(CODE))
    group_kind: Mapped[str] = mapped_column(String(32))  # e.g. LT296.01
    handling_unit: Mapped[str] = mapped_column(String(UNIT), index=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    group_due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(32))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    group_status: Mapped[str] = mapped_column(String(32))
    group_resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # The group's counter (migration 0014; '' for a row of a group that has not projected since
    # and whose code's claim was not found).
    receiving_unit: Mapped[str] = mapped_column(String(UNIT), default="", server_default="")


# The outbox tables share this metadata (migrations compare it whole): registered on import.
from records import outbox_tables as _outbox_tables  # noqa: E402, F401

# The web application's tables share this metadata (migrations and their check read it whole).
from records import staff_tables as _staff_tables  # noqa: E402,F401
