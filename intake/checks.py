"""Checking an intake request against the catalogue and the units in force at receipt.

Every problem is collected, not just the first, so the applicant hears all of them at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from adminunits import AdminUnits, Agency, AgencyDirectory, AgencyKind, Era, era_at
from intake.forms import IntakeRequest, MissingDocument
from model.dossier_inputs import Unit
from procedures.catalogue import Catalogue, NotReceivable, NoVersionInForce, UnknownProcedure
from procedures.models import AuthorityLevel, Fee, ProcedureVersion, Role, TimeLimit

__all__ = ["IntakeForbidden", "IntakeReview", "check_receipt_time", "review_request", "unit_of"]

RECEIVING_KINDS = frozenset(
    {
        AgencyKind.PROVINCE_SERVICE_CENTRE,
        AgencyKind.COMMUNE_SERVICE_CENTRE,
        AgencyKind.COMMUNE_PEOPLES_COMMITTEE,
        AgencyKind.DISTRICT_PEOPLES_COMMITTEE,
    }
)


class IntakeForbidden(PermissionError):
    """The officer may not receive dossiers at this counter; nothing was checked further."""

    error_type = "WrongUnit"

    def __init__(self, message: str, error_type: str | None = None) -> None:
        super().__init__(message)
        if error_type is not None:
            self.error_type = error_type


@dataclass
class IntakeReview:
    """The result of checking a request: what is wrong, what is missing, where it goes."""

    received_at: datetime
    version: ProcedureVersion | None = None
    receiving_unit: Agency | None = None
    handling_unit: Unit | None = None
    reasons: list[str] = field(default_factory=list)
    missing: list[MissingDocument] = field(default_factory=list)
    # What the channel and the case select: the limit the appointment is counted from, the fees.
    time_limit: TimeLimit | None = None
    fees: tuple[Fee, ...] = ()


def review_request(
    request: IntakeRequest,
    received_at: datetime,
    catalogue: Catalogue,
    units: AdminUnits,
    agencies: AgencyDirectory,
) -> IntakeReview:
    review = IntakeReview(received_at=received_at)
    era = era_at(received_at)
    review.receiving_unit = _check_receiving_unit(request, era, agencies, review.reasons)
    if review.receiving_unit is not None:
        # The names the units bear on the receipt date (a ward since 2026-04-30, say).
        review.receiving_unit = agencies.as_of(review.receiving_unit, received_at)
    try:
        # The applicant's province: its own internal process, where it has one, replaces the default.
        review.version = catalogue.resolve(
            request.procedure_code, received_at, province=request.applicant.address.province_code
        )
    except (UnknownProcedure, NoVersionInForce, NotReceivable) as err:
        review.reasons.append(f"procedure_code: {err}")
    address_ok = _check_address(request, era, units, review.reasons)
    if review.version is None:
        return review
    if request.channel not in review.version.channels:
        offered = ", ".join(c.value for c in review.version.channels)
        review.reasons.append(f"channel: {request.channel.value} is not offered (offered: {offered})")
    try:
        review.time_limit, review.fees = review.version.terms(request.channel, request.case)
    except KeyError:
        cases = ", ".join(c.code for c in review.version.cases) or "none"
        review.reasons.append(
            f"case: {request.case} is not a case of {review.version.version_id} (cases: {cases})"
        )
    _check_documents(request, review.version, review)
    if address_ok:
        review.handling_unit = _route(
            request, review.version, era, units, agencies, review.reasons, received_at
        )
    return review


def check_receipt_time(
    request: IntakeRequest,
    received_at: datetime,
    now: datetime,
    clock_tolerance: timedelta,
    backfill_tolerance: timedelta,
    reasons: list[str],
) -> str | None:
    """The backfill reason to record when the receipt is dated in the past, else None.

    A counter's clock may be a little off: `clock_tolerance` ahead, `backfill_tolerance`
    behind. An older receipt picks older procedure versions and report periods and may be
    overdue at birth, so it is an operator's decision (the `operator` role) with a reason.
    """
    if received_at > now + clock_tolerance:
        reasons.append(f"received_at: {received_at.isoformat()} is in the future")
        return None
    if received_at >= now - backfill_tolerance:
        return None
    minutes = int(backfill_tolerance.total_seconds() // 60)
    if request.backfill_reason is None:
        reasons.append(
            f"received_at: {received_at.isoformat()} is more than {minutes} minutes in the past;"
            " entering a past receipt is a backfill: it needs the operator role and a backfill_reason"
        )
        return None
    if Role.OPERATOR not in request.received_by.roles:
        raise IntakeForbidden(
            f"officer {request.received_by.id} may not backfill a receipt dated {received_at.isoformat()}"
            f" (more than {minutes} minutes in the past): that needs the operator role",
            "WrongRole",
        )
    return request.backfill_reason


def _check_receiving_unit(
    request: IntakeRequest, era: Era, agencies: AgencyDirectory, reasons: list[str]
) -> Agency | None:
    actor = request.received_by
    if Role.COUNTER_OFFICER not in actor.roles:
        raise IntakeForbidden(f"officer {actor.id} is not a counter officer", "WrongRole")
    if actor.unit != request.receiving_unit:
        raise IntakeForbidden(
            f"officer {actor.id} belongs to {actor.unit}, not to the receiving unit {request.receiving_unit}"
        )
    agency = agencies.get(request.receiving_unit)
    if agency is None or agency.kind not in RECEIVING_KINDS:
        reasons.append(f"receiving_unit: {request.receiving_unit} is not a known one-stop counter")
        return None
    if not agency.valid_in(era):
        message = f"receiving_unit: {agency.name} ({agency.code}) does not exist on that date"
        successor = _successor_counter(agency, request, era, agencies) if era is Era.FROM_2025 else None
        if successor is not None:
            # Abolished on 2025-07-01: say where the applicant should go instead.
            message += f"; from 2025-07-01 its dossiers go to {successor.name} ({successor.code})"
        reasons.append(message)
        return None
    # Decree 118/2025: any counter of the province may receive, whatever the commune.
    if agency.province_code != request.applicant.address.province_code:
        reasons.append(
            f"receiving_unit: {agency.name} is in province {agency.province_code}; the applicant's"
            f" address is in province {request.applicant.address.province_code}"
        )
    return agency


def _successor_counter(
    agency: Agency, request: IntakeRequest, era: Era, agencies: AgencyDirectory
) -> Agency | None:
    """The counter that took over from an abolished one, for this applicant."""
    address = request.applicant.address
    if agency.kind in (AgencyKind.DISTRICT_PEOPLES_COMMITTEE, AgencyKind.COMMUNE_PEOPLES_COMMITTEE):
        # The commune of the applicant's (2025) address took over the district's functions.
        return agencies.commune_service_centre(address.commune_code)
    from adminunits.succession import Succession  # loaded only when a retired counter is used

    province = Succession.load().province(agency.province_code)
    return agencies.province_service_centre(province, era) if province else None


def _check_address(request: IntakeRequest, era: Era, units: AdminUnits, reasons: list[str]) -> bool:
    address = request.applicant.address
    when = "before 2025-07-01" if era is Era.LEGACY else "from 2025-07-01"
    if units.province(address.province_code, era) is None:
        reasons.append(f"applicant.address.province_code: {address.province_code} is not a province {when}")
        return False
    commune = units.commune(address.commune_code, era)
    if commune is None or commune.province_code != address.province_code:
        reasons.append(
            f"applicant.address.commune_code: {address.commune_code} is not a commune of province"
            f" {address.province_code} {when}"
        )
        return False
    if address.district_code is not None and commune.district_code not in (None, address.district_code):
        reasons.append(
            f"applicant.address.district_code: commune {address.commune_code} is in district"
            f" {commune.district_code}, not {address.district_code}"
        )
        return False
    return True


def _check_documents(request: IntakeRequest, version: ProcedureVersion, review: IntakeReview) -> None:
    submitted: dict[str, int] = {}
    for document in request.documents:
        if version.document(document.id) is None:
            review.reasons.append(f"documents: {document.id!r} is not a document of {version.version_id}")
        submitted[document.id] = submitted.get(document.id, 0) + document.copies
    for required in version.required_documents:
        # Data the authority reads from a national database need not be brought.
        if not required.mandatory or required.replaceable_by_national_db:
            continue
        copies = submitted.get(required.id, 0)
        if copies == 0:
            review.missing.append(MissingDocument(id=required.id, name=required.name, reason="missing"))
        elif copies < required.copies:
            review.missing.append(
                MissingDocument(
                    id=required.id,
                    name=required.name,
                    reason=f"{required.copies} copies required, {copies} given",
                )
            )


def _route(
    request: IntakeRequest,
    version: ProcedureVersion,
    era: Era,
    units: AdminUnits,
    agencies: AgencyDirectory,
    reasons: list[str],
    received_at: datetime,
) -> Unit | None:
    """The competent authority, from the version's level and the applicant's commune, named as
    its unit is named on the receipt date."""
    address = request.applicant.address
    level = version.authority_level
    agency: Agency | None = None
    if level is AuthorityLevel.COMMUNE_PEOPLES_COMMITTEE:
        agency = agencies.commune_peoples_committee(address.commune_code, era)
    elif level is AuthorityLevel.DISTRICT_PEOPLES_COMMITTEE:
        commune = units.commune(address.commune_code, era)
        if commune is not None and commune.district_code is not None:
            agency = agencies.district_peoples_committee(commune.district_code)
    elif level is AuthorityLevel.PROVINCE_PEOPLES_COMMITTEE:
        agency = agencies.province_peoples_committee(address.province_code, era)
    elif level is AuthorityLevel.PROVINCE_DEPARTMENT and version.department is not None:
        committee = agencies.province_peoples_committee(address.province_code, era)
        if committee is not None:
            committee = agencies.as_of(committee, received_at)
            department = version.department
            # Derived code (department codes are not in the data we hold): 000.STP.00.H01;
            # the committee's group is kept (90 for a retired province code: 000.STP.90.H80).
            head, _, group, tail = committee.code.split(".")
            return Unit(
                code=f"{head}.{department.code}.{group}.{tail}",
                name=f"{department.name} ({committee.name})",
                province_code=address.province_code,
            )
    if agency is None or not agency.valid_in(era):
        reasons.append(
            f"procedure_code: no {level.value} is competent for commune {address.commune_code}"
            f" ({era.value} units)"
        )
        return None
    return unit_of(agencies.as_of(agency, received_at))


def unit_of(agency: Agency) -> Unit:
    return Unit(
        code=agency.code,
        name=agency.name,
        province_code=agency.province_code,
        commune_code=agency.commune_code,
    )
