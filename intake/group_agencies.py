"""The agency that does each member of an interlinked group, for the applicant's address.

The commune People's Committee comes from the agency directory. Commune police and social
insurance are not in the units data we hold: their codes are DERIVED, NOT OFFICIAL, in the
directory's scheme (adminunits.agencies), and replaceable from data once the official list is
at hand: commune police `000.{wwwww}.CA.H{pp}` beside the commune's committee
`000.{wwwww}.00.H{pp}`, social insurance `000.BHXH.00.H{pp}` beside the province's committee
`000.00.00.H{pp}` (whether a province's or a region's social insurance does the card after 2025
is unverified).
"""

from __future__ import annotations

from datetime import datetime

from adminunits import AgencyDirectory, era_at
from intake.checks import unit_of
from model.dossier_inputs import Address, Unit
from procedures.groups import MemberAgency

__all__ = ["member_unit"]


def member_unit(
    agency: MemberAgency, address: Address, at: datetime, agencies: AgencyDirectory
) -> Unit | None:
    """The unit doing `agency`'s part for an applicant at `address`, named as on `at`; None if
    the address has no such authority then."""
    era = era_at(at)
    if agency is MemberAgency.SOCIAL_INSURANCE:
        committee = agencies.province_peoples_committee(address.province_code, era)
        if committee is None:
            return None
        committee = agencies.as_of(committee, at)
        head, _, group, tail = committee.code.split(".")
        province = committee.name.removeprefix("Ủy ban nhân dân ")
        return Unit(
            code=f"{head}.BHXH.{group}.{tail}",
            name=f"Bảo hiểm xã hội {province}",
            province_code=address.province_code,
        )
    committee = agencies.commune_peoples_committee(address.commune_code, era)
    if committee is None or not committee.valid_in(era):
        return None
    unit = unit_of(agencies.as_of(committee, at))
    if agency is MemberAgency.COMMUNE_PEOPLES_COMMITTEE:
        return unit
    head, commune, _, tail = unit.code.split(".")
    return unit.model_copy(
        update={
            "code": f"{head}.{commune}.CA.{tail}",
            "name": "Công an " + unit.name.removeprefix("Ủy ban nhân dân "),
        }
    )
