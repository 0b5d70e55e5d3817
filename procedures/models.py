"""The declarative shape of a procedure version: everything a dossier needs, pinned at receipt.

A `ProcedureVersion` is copied whole into each dossier's workflow input, so a running dossier
never re-reads the catalogue and replaying its history never depends on today's files.
New fields must get defaults so that recorded inputs still decode.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "DISTRICT_LEVEL_ENDS",
    "PROCEDURE_FIELDS",
    "MAX_FEE_VND",
    "MAX_TIME_LIMIT",
    "AuthorityLevel",
    "Channel",
    "ChannelTerms",
    "Department",
    "Fee",
    "Provenance",
    "Procedure",
    "ProcedureCase",
    "ProcedureVersion",
    "RequiredDocument",
    "Role",
    "Step",
    "StepPlace",
    "TimeLimit",
    "TimeUnit",
]


# The district level of local government ended at this instant (Resolution 202/2025/QH15).
DISTRICT_LEVEL_ENDS = datetime.fromisoformat("2025-07-01T00:00:00+07:00")

# Fields a catalogue file states once per procedure rather than per version.
PROCEDURE_FIELDS = ("procedure_code", "procedure_name", "sector", "ministry", "decision", "provenance")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AuthorityLevel(StrEnum):
    """Which authority is competent; the handling agency is resolved from this and the address."""

    COMMUNE_PEOPLES_COMMITTEE = "commune_peoples_committee"
    DISTRICT_PEOPLES_COMMITTEE = "district_peoples_committee"  # only versions ending 2025-07-01
    PROVINCE_PEOPLES_COMMITTEE = "province_peoples_committee"
    PROVINCE_DEPARTMENT = "province_department"
    SPECIALISED_AGENCY = "specialised_agency"


class Role(StrEnum):
    """Roles an officer may hold; a step names the one role allowed to complete it."""

    COUNTER_OFFICER = "counter_officer"  # one-stop section: receives, supplements, returns results
    SPECIALIST = "specialist"  # reviews the dossier
    LEADER = "leader"  # assigns, approves and signs
    AUDITOR = "auditor"  # reads only
    OPERATOR = "operator"  # may enter receipts dated in the past (a backfill, with its reason)
    # Not an officer: an online public-service client submitting and completing dossiers for
    # applicants it has identified (docs/online.md).
    ONLINE_SERVICE = "online_service"


class Channel(StrEnum):
    COUNTER = "counter"
    ONLINE = "online"
    POST = "post"


class TimeUnit(StrEnum):
    WORKING_DAYS = "working_days"
    WORKING_HOURS = "working_hours"  # same-day procedures
    CALENDAR_DAYS = "calendar_days"  # the portal's DAY: weekends and holidays count
    MONTHS = "months"


# The longest limit any published procedure states is a few months; anything beyond these is a
# typing or import error, refused at load before the calendar tries to count it.
MAX_TIME_LIMIT = {
    TimeUnit.WORKING_DAYS: 730,
    TimeUnit.WORKING_HOURS: 2_000,
    TimeUnit.CALENDAR_DAYS: 1_095,
    TimeUnit.MONTHS: 36,
}
# A fee above a thousand billion đồng is not a fee the one-stop counter collects.
MAX_FEE_VND = 10**12
# Office hours per day and per calendar span, used only to check step shares against a limit.
_HOURS_PER_DAY = 8


class StepPlace(StrEnum):
    """Where a step is done: at the handling authority, or at the counter that received the dossier."""

    HANDLING = "handling"
    RECEIVING = "receiving"


class TimeLimit(_Model):
    # 0 working days means "within the working day of receipt" (civil-status procedures
    # resolved on the spot); the afternoon cut-off then moves it to the next working day.
    amount: float = Field(ge=0)
    unit: TimeUnit = TimeUnit.WORKING_DAYS

    @model_validator(mode="after")
    def _bounded(self) -> TimeLimit:
        bound = MAX_TIME_LIMIT[self.unit]
        if self.amount > bound:
            raise ValueError(f"amount: {self.amount:g} {self.unit.value} is above the bound of {bound}")
        return self

    @property
    def working_hours(self) -> float:
        """The office time the limit can hold, for checking step shares against it.

        Provincial systems store durations in working hours, 8 to a working day. A calendar
        day or month holds at most as many working hours as the days it spans.
        """
        if self.unit is TimeUnit.WORKING_HOURS:
            return self.amount
        if self.unit is TimeUnit.MONTHS:
            return self.amount * 31 * _HOURS_PER_DAY
        return self.amount * _HOURS_PER_DAY

    def describe(self) -> str:
        return f"{self.amount:g} {self.unit.value.replace('_', ' ')}"


class RequiredDocument(_Model):
    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1)
    mandatory: bool = True
    copies: int = Field(default=1, ge=1, le=100)
    # Data the authority can read from a national database (population, land...) need not be submitted.
    replaceable_by_national_db: bool = False
    # As the portal states them: originals and copies asked for, and the case the document belongs to.
    originals: int | None = Field(default=None, ge=0, le=100)
    copies_stated: int | None = Field(default=None, ge=0, le=100)
    group: str = ""


class Step(_Model):
    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1)
    role: Role
    share_hours: float = Field(default=0, ge=0)  # this step's share of the time limit
    place: StepPlace = StepPlace.HANDLING
    inter_agency: bool = False


class Fee(_Model):
    name: str
    amount_vnd: int = Field(ge=0, le=MAX_FEE_VND)
    note: str = ""


class ChannelTerms(_Model):
    """What a channel (counter, online, post) promises: its time limit and its fees.

    `time_limit` is None when the limit follows the case the counter selects.
    """

    channel: Channel
    time_limit: TimeLimit | None = None
    fees: tuple[Fee, ...] = ()


class ProcedureCase(_Model):
    """A case of a procedure with its own time limit (e.g. marriage with or without verification)."""

    code: str = Field(min_length=1, max_length=32)
    name: str = ""
    time_limit: TimeLimit


class Department(_Model):
    """A specialised department of a province People's Committee, e.g. STP = Sở Tư pháp."""

    code: str = Field(pattern=r"^[A-Z]{2,10}$")
    name: str = Field(min_length=1)


class Provenance(_Model):
    """Where the facts come from. `unverified` marks a code, limit or fee we are not sure of."""

    # "portal": imported from the national portal's records (see `source`).
    status: Literal["verified", "unverified", "synthetic", "portal"]
    legal_basis: tuple[str, ...] = ()
    notes: str = ""
    # For imported facts: the source (file, repository and commit), the record's own update
    # date, when the source was crawled, and the licence of the compilation ("none").
    source: str = ""
    record_updated: date | None = None
    retrieved: date | None = None
    licence: str = ""


class ProcedureVersion(_Model):
    # Bounded by the records store's columns (tests/records/test_column_limits.py).
    procedure_code: str = Field(pattern=r"^\d\.\d{6}(\.[A-Z0-9]+)?$", max_length=32)
    procedure_name: str = Field(min_length=1)
    sector: str = ""
    ministry: str = ""  # the responsible ministry
    decision: str = ""  # the decree or decision the procedure comes from
    version_id: str = Field(min_length=1, max_length=100)
    effective_from: datetime
    effective_to: datetime | None = None  # exclusive
    authority_level: AuthorityLevel
    department: Department | None = None  # for province_department versions
    channels: tuple[Channel, ...] = (Channel.COUNTER,)
    time_limit: TimeLimit
    afternoon_cutoff: time | None = None
    fees: tuple[Fee, ...] = ()
    required_documents: tuple[RequiredDocument, ...] = ()
    steps: tuple[Step, ...] = Field(min_length=1)
    result_documents: tuple[str, ...] = ()
    provenance: Provenance
    # Per-channel limits and fees, and cases with their own limits (national facts).
    channel_terms: tuple[ChannelTerms, ...] = ()
    cases: tuple[ProcedureCase, ...] = ()
    # Which internal process (steps, roles, shares) applies: "curated", a level default or a
    # province's own; the dossier pins it with the version.
    internal_process: str = ""

    @model_validator(mode="after")
    def _check(self) -> ProcedureVersion:
        for name in ("effective_from", "effective_to"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} must carry a timezone (Asia/Ho_Chi_Minh)")
        if self.authority_level is AuthorityLevel.DISTRICT_PEOPLES_COMMITTEE and (
            self.effective_to is None or self.effective_to > DISTRICT_LEVEL_ENDS
        ):
            raise ValueError("a district_peoples_committee version must end by 2025-07-01T00:00+07:00")
        if self.authority_level is AuthorityLevel.PROVINCE_DEPARTMENT and self.department is None:
            raise ValueError("a province_department version must name its department")
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError("effective_to must be after effective_from")
        for kind, ids in (
            ("step", [s.id for s in self.steps]),
            ("document", [d.id for d in self.required_documents]),
            ("case", [c.code for c in self.cases]),
            ("channel", [t.channel.value for t in self.channel_terms]),
        ):
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise ValueError(f"duplicate {kind} ids: {', '.join(duplicates)}")
        if sum(s.share_hours for s in self.steps) > self.time_limit.working_hours + 1e-9:
            raise ValueError("step shares add up to more than the time limit")
        return self

    def terms(self, channel: Channel, case: str | None = None) -> tuple[TimeLimit, tuple[Fee, ...]]:
        """The time limit and fees for a dossier received on `channel` in `case`.

        A named case's limit wins; then the channel's own; then the version's general limit.
        Fees follow the channel when the version states them per channel. Raises KeyError
        for a case the version does not have.
        """
        terms = next((t for t in self.channel_terms if t.channel is channel), None)
        fees = terms.fees if terms is not None else self.fees
        if case is not None:
            found = next((c for c in self.cases if c.code == case), None)
            if found is None:
                raise KeyError(case)
            return found.time_limit, fees
        if terms is not None and terms.time_limit is not None:
            return terms.time_limit, fees
        return self.time_limit, fees

    def in_force_at(self, instant: datetime) -> bool:
        return self.effective_from <= instant and (self.effective_to is None or instant < self.effective_to)

    @property
    def has_fees(self) -> bool:
        return any(fee.amount_vnd > 0 for fee in self.fees)

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def document(self, document_id: str) -> RequiredDocument | None:
        return next((d for d in self.required_documents if d.id == document_id), None)


class Procedure(_Model):
    """A procedure of the catalogue: its facts and its versions, in effective order.

    The facts are stated once per procedure in a catalogue file and pinned into each version.
    """

    code: str
    name: str
    sector: str = ""
    ministry: str = ""
    decision: str = ""
    provenance: Provenance
    versions: tuple[ProcedureVersion, ...] = Field(min_length=1)

    @classmethod
    def of(cls, versions: list[ProcedureVersion]) -> Procedure:
        ordered = sorted(versions, key=lambda v: v.effective_from)
        first = ordered[0]
        return cls(
            code=first.procedure_code,
            name=first.procedure_name,
            sector=first.sector,
            ministry=first.ministry,
            decision=first.decision,
            provenance=first.provenance,
            versions=tuple(ordered),
        )

    @model_validator(mode="after")
    def _check_versions(self) -> Procedure:
        ids = [v.version_id for v in self.versions]
        if len(set(ids)) != len(ids):
            raise ValueError(f"version ids repeat: {', '.join(ids)}")
        for version in self.versions:
            if version.procedure_code != self.code:
                raise ValueError(f"version {version.version_id} belongs to {version.procedure_code}")
        for earlier, later in zip(self.versions, self.versions[1:]):
            if later.effective_from < earlier.effective_from:
                raise ValueError("versions must be in effective order")
            if earlier.effective_to is None or earlier.effective_to > later.effective_from:
                raise ValueError(f"versions {earlier.version_id!r} and {later.version_id!r} overlap")
        return self
