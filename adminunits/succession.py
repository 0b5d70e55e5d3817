"""Who took over from whom on 2025-07-01: communes, provinces and the authorities built on them.

Commune and province succession is read from the conversion tables that ship with
``vietnamadminunits`` (``data/converter_2025.json``, the data behind its
``convert_address_2025``): each pre-2025 (province, district, commune) maps to one 2025
commune, or, for a commune split between several, to a default one with the others as
alternatives.  The tables are keyed by the package's normalised names; the bundled dataset
turns those keys into codes.  Looking up by code, not by parsing an address, keeps it exact
and never reaches the geocoder the package uses for street-level addresses.

Authorities (agency codes of :mod:`adminunits.agencies`):

- a district People's Committee -> People's Committee of the 2025 commune of the
  applicant's address;
- a pre-2025 commune People's Committee -> People's Committee of that commune's successor;
- a province People's Committee, public-service centre or department of a merged province
  -> the same body of the 2025 province;
- an agency that exists in both eras is not carried over; anything that cannot be resolved
  is reported as such (the carryover puts it on the province's manual-assignment list).
"""

from __future__ import annotations

import functools
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

from .agencies import Agency, AgencyDirectory, AgencyKind
from .registry import AdminUnits, Era, _query

__all__ = ["AuthoritySuccession", "CommuneSuccessor", "Succession", "SuccessorTable", "SuccessorUnit"]

_CONVERTER = "data/converter_2025.json"


@dataclass(frozen=True, slots=True)
class CommuneSuccessor:
    """The 2025 commune (and province) a pre-2025 commune became."""

    commune_code: str
    province_code: str
    # Other 2025 communes that received part of a split commune; empty when not split.
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SuccessorUnit:
    """The authority that took over an abolished or merged one, for one dossier."""

    code: str
    name: str
    province_code: str
    commune_code: str | None = None
    alternatives: tuple[str, ...] = ()  # agency codes of the other candidates (split commune)


@dataclass(frozen=True, slots=True)
class SuccessorTable:
    """An old authority's successors for all its dossiers at once: one successor, or one per
    pre-2025 commune of the applicant's address (a district's dossiers)."""

    old_unit: str
    default: SuccessorUnit | None
    by_commune: dict[str, SuccessorUnit]

    def for_commune(self, legacy_commune_code: str | None) -> SuccessorUnit | None:
        if self.default is not None:
            return self.default
        return self.by_commune.get(legacy_commune_code) if legacy_commune_code else None


class Succession:
    """Pre-2025 commune and province codes -> their 2025 successors."""

    __slots__ = ("_communes", "_provinces")

    def __init__(self, communes: dict[str, CommuneSuccessor], provinces: dict[str, str]) -> None:
        self._communes = dict(communes)
        self._provinces = dict(provinces)

    @classmethod
    @functools.cache
    def load(cls) -> Succession:
        """Read the package's conversion tables once per process."""
        legacy_rows, current_rows = _query(
            "SELECT provinceKey, provinceCode, districtKey, wardKey, wardCode FROM admin_units_legacy",
            "SELECT provinceKey, provinceCode, wardKey, wardCode FROM admin_units",
        )
        data = json.loads(_converter_path().read_text(encoding="utf-8"))
        new_province = {row["provinceKey"]: row["provinceCode"] for row in current_rows}
        new_ward = {(row["provinceKey"], row["wardKey"]): row["wardCode"] for row in current_rows}
        old_to_new_province_key = {old: new for new, olds in data["DICT_PROVINCE"].items() for old in olds}
        # "province_district_ward" key of the package -> (new province key, default ward key, others)
        by_old_key: dict[str, tuple[str, str, tuple[str, ...]]] = {}
        for new_pk, wards in data["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
            for new_wk, olds in wards.items():
                for old in olds:
                    by_old_key[old] = (new_pk, new_wk, ())
        for new_pk, olds in data["DICT_PROVINCE_WARD_DIVIDED"].items():
            for old, candidates in olds.items():
                default = next(c["newWardKey"] for c in candidates if c["isDefaultNewWard"])
                others = tuple(c["newWardKey"] for c in candidates if c["newWardKey"] != default)
                by_old_key[old] = (new_pk, default, others)

        communes: dict[str, CommuneSuccessor] = {}
        provinces: dict[str, str] = {}
        for row in legacy_rows:
            new_pk = old_to_new_province_key.get(row["provinceKey"])
            if new_pk in new_province:
                provinces[row["provinceCode"]] = new_province[new_pk]
            if row["wardCode"] is None:
                continue  # island districts without communes
            found = by_old_key.get(f"{row['provinceKey']}_{row['districtKey']}_{row['wardKey']}")
            if found is None:
                continue
            pk, default, others = found
            code = new_ward.get((pk, default))
            if code is None:
                continue
            communes[row["wardCode"]] = CommuneSuccessor(
                commune_code=code,
                province_code=new_province[pk],
                alternatives=tuple(new_ward[(pk, o)] for o in others if (pk, o) in new_ward),
            )
        return cls(communes, provinces)

    def commune(self, legacy_commune_code: str) -> CommuneSuccessor | None:
        """The 2025 successor of a pre-2025 commune, or None if the code is unknown."""
        return self._communes.get(legacy_commune_code)

    def province(self, legacy_province_code: str) -> str | None:
        """The 2025 province code a pre-2025 province became part of, or None."""
        return self._provinces.get(legacy_province_code)

    def __len__(self) -> int:
        return len(self._communes)


class AuthoritySuccession:
    """Which authority continues a dossier held by an abolished or merged one."""

    def __init__(self, agencies: AgencyDirectory | None = None, succession: Succession | None = None) -> None:
        self._agencies = agencies or AgencyDirectory.load()
        self._succession = succession or Succession.load()

    def is_abolished(self, agency_code: str) -> bool:
        """Whether an agency code names an authority that stopped existing on 2025-07-01."""
        agency = self._agency_or_department(agency_code)
        return agency is not None and not agency.valid_in(Era.FROM_2025)

    def province_of(self, agency_code: str) -> str | None:
        """The (pre-2025) province of an agency code, for the manual-assignment lists."""
        agency = self._agency_or_department(agency_code)
        return agency.province_code if agency else None

    def successor(self, agency_code: str, address_commune_code: str | None) -> SuccessorUnit | None:
        """The successor of `agency_code` for a dossier whose applicant lives in the given
        pre-2025 commune; None when it cannot be resolved (manual assignment)."""
        department, group_agency = self._split_department(agency_code)
        agency = group_agency if department else self._agencies.get(agency_code)
        if agency is None or agency.valid_in(Era.FROM_2025):
            return None
        kind = agency.kind
        if kind is AgencyKind.DISTRICT_PEOPLES_COMMITTEE:
            return self._commune_committee(address_commune_code, agency)
        if kind is AgencyKind.COMMUNE_PEOPLES_COMMITTEE:
            return self._commune_committee(agency.commune_code, None)
        new_province = self._succession.province(agency.province_code)
        if new_province is None:
            return None
        if kind is AgencyKind.PROVINCE_SERVICE_CENTRE:
            new = self._agencies.province_service_centre(new_province, Era.FROM_2025)
        else:
            new = self._agencies.province_peoples_committee(new_province, Era.FROM_2025)
        if new is None:
            return None
        if department:
            # Same department, new province: 000.STP.00.H{new}.
            head, _, group, tail = new.code.split(".")
            return SuccessorUnit(
                code=f"{head}.{department}.{group}.{tail}",
                name=f"{department} ({new.name})",
                province_code=new_province,
            )
        return _unit(new)

    def table(self, agency_code: str) -> SuccessorTable:
        """Successors of `agency_code` for every applicant's commune (cached per authority)."""
        return self._table(agency_code)

    @functools.lru_cache(maxsize=4096)
    def _table(self, agency_code: str) -> SuccessorTable:
        agency = self._agencies.get(agency_code)
        if (
            agency is not None
            and agency.kind is AgencyKind.DISTRICT_PEOPLES_COMMITTEE
            and not agency.valid_in(Era.FROM_2025)
        ):
            communes = [
                c
                for c in AdminUnits.load().communes(Era.LEGACY, agency.province_code)
                if c.district_code == agency.district_code
            ]
            by_commune = {c.code: self._commune_committee(c.code, agency) for c in communes}
            return SuccessorTable(agency_code, None, {k: v for k, v in by_commune.items() if v is not None})
        return SuccessorTable(agency_code, self.successor(agency_code, None), {})

    def counter_table(self, agency_code: str) -> SuccessorTable:
        """Like `table`, for a counter the dossier was received at: the one-stop counter that
        took over (a commune's public-service centre, or the new province's centre)."""
        table = self.table(agency_code)
        return SuccessorTable(
            agency_code,
            self._counter(table.default) if table.default else None,
            {
                c: counter
                for c, unit in table.by_commune.items()
                if (counter := self._counter(unit)) is not None
            },
        )

    def _counter(self, unit: SuccessorUnit) -> SuccessorUnit | None:
        if unit.commune_code is not None:
            centre = self._agencies.commune_service_centre(unit.commune_code)
        else:
            centre = self._agencies.province_service_centre(unit.province_code, Era.FROM_2025)
        return _unit(centre) if centre is not None else None

    def _commune_committee(self, legacy_commune: str | None, district: Agency | None) -> SuccessorUnit | None:
        if legacy_commune is None:
            return None
        legacy = AdminUnits.load().commune(legacy_commune, Era.LEGACY)
        # A district's dossier follows the applicant's commune only if it lies in that district.
        if legacy is None or (district is not None and legacy.district_code != district.district_code):
            return None
        found = self._succession.commune(legacy_commune)
        if found is None:
            return None
        new = self._agencies.commune_peoples_committee(found.commune_code, Era.FROM_2025)
        if new is None:
            return None
        others = tuple(
            a.code
            for a in (self._agencies.commune_peoples_committee(c, Era.FROM_2025) for c in found.alternatives)
            if a is not None
        )
        return _unit(new, alternatives=others)

    def _split_department(self, agency_code: str) -> tuple[str | None, Agency | None]:
        # Department codes are derived from the province committee's: 000.STP.00.H01.
        parts = agency_code.split(".")
        if len(parts) != 4 or not parts[1].isalpha():
            return None, None
        committee = self._agencies.get(f"{parts[0]}.00.{parts[2]}.{parts[3]}")
        if committee is None or committee.kind is not AgencyKind.PROVINCE_PEOPLES_COMMITTEE:
            return None, None
        return parts[1], committee

    def _agency_or_department(self, agency_code: str) -> Agency | None:
        department, committee = self._split_department(agency_code)
        return committee if department else self._agencies.get(agency_code)


def _unit(agency: Agency, alternatives: tuple[str, ...] = ()) -> SuccessorUnit:
    return SuccessorUnit(
        code=agency.code,
        name=agency.name,
        province_code=agency.province_code,
        commune_code=agency.commune_code,
        alternatives=alternatives,
    )


def _converter_path() -> Path:
    spec = importlib.util.find_spec("vietnamadminunits")
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / _CONVERTER
        if path.is_file():
            return path
    raise FileNotFoundError(f"vietnamadminunits does not ship {_CONVERTER}; succession cannot be read")
