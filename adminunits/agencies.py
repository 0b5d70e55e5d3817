"""Directory of the authorities that receive and decide one-stop dossiers.

The agencies are derived from :mod:`adminunits.registry`: every province has a
People's Committee and a public-service centre (Trung tâm Phục vụ hành chính
công), every LEGACY district and commune has a People's Committee, and every
FROM_2025 commune has a People's Committee and a public-service centre.

Agency codes are DERIVED, NOT OFFICIAL; replace them from data when the
official list (Decision 20/2020/QĐ-TTg as amended by 09/2025/QĐ-TTg) is
loaded.  The derived scheme mimics the official dotted layout, ending in the
province group ``H{pp}`` (``pp`` = that era's 2-digit province code):

=====================================  ===========================  ==========
agency                                 code                         eras
=====================================  ===========================  ==========
province People's Committee            ``000.00.00.H{pp}``          see below
province public-service centre         ``000.00.01.H{pp}``          see below
legacy district People's Committee     ``{ddd}.00.00.H{pp}``        LEGACY
legacy commune People's Committee      ``{ddd}.{wwwww}.00.H{pp}``   LEGACY
commune People's Committee (2025)      ``000.{wwwww}.00.H{pp}``     FROM_2025
commune public-service centre (2025)   ``000.{wwwww}.01.H{pp}``     FROM_2025
=====================================  ===========================  ==========

A province whose code and name are the same in both eras (e.g. ``01`` Thành
phố Hà Nội) is one agency valid in both eras; one that exists only before the
reform is valid only in LEGACY.  Seven codes were handed to a *different*
merged province (e.g. ``80`` was Tỉnh Long An, is now Tỉnh Tây Ninh); the
FROM_2025 province keeps the plain codes and the retired LEGACY province's
agencies get third group ``90`` (People's Committee) / ``91`` (centre), e.g.
``000.00.90.H80``, so that codes stay unique.  District codes are never
``000``, so the commune groups cannot collide across eras either.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from .changes import UnitChanges
from .registry import AdminUnits, Era

__all__ = ["AgencyKind", "Agency", "AgencyDirectory"]


class AgencyKind(StrEnum):
    """Role of an agency in the one-stop process."""

    PROVINCE_PEOPLES_COMMITTEE = "province_peoples_committee"
    PROVINCE_SERVICE_CENTRE = "province_service_centre"
    DISTRICT_PEOPLES_COMMITTEE = "district_peoples_committee"
    COMMUNE_PEOPLES_COMMITTEE = "commune_peoples_committee"
    COMMUNE_SERVICE_CENTRE = "commune_service_centre"


_PC = "Ủy ban nhân dân"
_CENTRE = "Trung tâm Phục vụ hành chính công"
# Ordering used by receiving_units: broadest first, service centres before committees.
_KIND_RANK = {
    kind: rank
    for rank, kind in enumerate(
        (
            AgencyKind.PROVINCE_SERVICE_CENTRE,
            AgencyKind.PROVINCE_PEOPLES_COMMITTEE,
            AgencyKind.DISTRICT_PEOPLES_COMMITTEE,
            AgencyKind.COMMUNE_SERVICE_CENTRE,
            AgencyKind.COMMUNE_PEOPLES_COMMITTEE,
        )
    )
}
_LEGACY_ONLY = frozenset({Era.LEGACY})
_NEW_ONLY = frozenset({Era.FROM_2025})
_BOTH = frozenset(Era)


@dataclass(frozen=True, slots=True)
class Agency:
    """An authority with a (derived) electronic code and the eras it exists in."""

    code: str
    name: str
    kind: AgencyKind
    province_code: str
    eras: frozenset[Era]
    district_code: str | None = None
    commune_code: str | None = None

    def valid_in(self, era: Era) -> bool:
        """Whether this agency exists in ``era``."""
        return Era(era) in self.eras


class AgencyDirectory:
    """Immutable lookup of agencies by code and by (unit code, era)."""

    __slots__ = ("_by_code", "_by_unit", "_by_province", "_aliases", "_changes")

    def __init__(
        self,
        agencies: list[Agency],
        aliases: dict[str, str] | None = None,
        changes: UnitChanges | None = None,
    ) -> None:
        self._aliases = dict(aliases or {})
        self._changes = changes
        self._by_code: dict[str, Agency] = {}
        # (kind, unit code, era) -> agency; unit code is the province, district
        # or commune code the agency is attached to.
        self._by_unit: dict[tuple[AgencyKind, str, Era], Agency] = {}
        by_province: dict[tuple[str, Era], list[Agency]] = defaultdict(list)
        for agency in agencies:
            if agency.code in self._by_code:
                # Fail loudly: a new data release breaking the scheme must not
                # silently shadow an agency.
                raise ValueError(f"duplicate derived agency code {agency.code!r}")
            self._by_code[agency.code] = agency
            unit = agency.commune_code or agency.district_code or agency.province_code
            for era in agency.eras:
                self._by_unit[(agency.kind, unit, era)] = agency
                by_province[(agency.province_code, era)].append(agency)
        self._by_province = {
            key: tuple(sorted(items, key=lambda a: (_KIND_RANK[a.kind], a.code)))
            for key, items in by_province.items()
        }

    @classmethod
    def load(cls, units: AdminUnits | None = None) -> AgencyDirectory:
        """Build from ``units`` (default: :meth:`AdminUnits.load`); cached per units object."""
        return cls._from_units(units if units is not None else AdminUnits.load())

    @classmethod
    @functools.lru_cache(maxsize=4)  # bounded: each directory holds ~17k agencies
    def _from_units(cls, units: AdminUnits) -> AgencyDirectory:
        return cls(list(_derive(units)), units.aliases, UnitChanges.load())

    def __len__(self) -> int:
        return len(self._by_code)

    def all(self) -> list[Agency]:
        """Every agency, sorted by code."""
        return sorted(self._by_code.values(), key=lambda a: a.code)

    def get(self, code: str) -> Agency | None:
        """The agency with ``code``, or None."""
        return self._by_code.get(code)

    def _unit(self, kind: AgencyKind, unit_code: str, era: Era) -> Agency | None:
        era = Era(era)
        if era is Era.FROM_2025:
            unit_code = self._aliases.get(unit_code, unit_code)
        return self._by_unit.get((kind, unit_code, era))

    def as_of(self, agency: Agency, at: datetime) -> Agency:
        """The agency under the names its unit bears at `at` (a ward since 2026-04-30, a city...).

        Codes never change with a rename; only the name shown on forms does.
        """
        if self._changes is None or not agency.valid_in(Era.FROM_2025):
            return agency
        name = agency.name
        for rename in self._changes.renames_at(at):
            unit = agency.commune_code if rename.kind == "commune" else agency.province_code
            at_this_level = (agency.commune_code is None) == (rename.kind == "province")
            if unit == rename.code and at_this_level and rename.was in name:
                name = name.replace(rename.was, rename.name)
        return agency if name == agency.name else replace(agency, name=name)

    def province_peoples_committee(self, province_code: str, era: Era) -> Agency | None:
        """People's Committee of the province ``province_code`` of ``era``."""
        return self._unit(AgencyKind.PROVINCE_PEOPLES_COMMITTEE, province_code, era)

    def province_service_centre(self, province_code: str, era: Era) -> Agency | None:
        """Public-service centre of the province ``province_code`` of ``era``."""
        return self._unit(AgencyKind.PROVINCE_SERVICE_CENTRE, province_code, era)

    def district_peoples_committee(self, district_code: str) -> Agency | None:
        """People's Committee of a LEGACY district."""
        return self._unit(AgencyKind.DISTRICT_PEOPLES_COMMITTEE, district_code, Era.LEGACY)

    def commune_peoples_committee(self, commune_code: str, era: Era) -> Agency | None:
        """People's Committee of the commune ``commune_code`` of ``era``."""
        return self._unit(AgencyKind.COMMUNE_PEOPLES_COMMITTEE, commune_code, era)

    def commune_service_centre(self, commune_code: str) -> Agency | None:
        """Public-service centre of a FROM_2025 commune."""
        return self._unit(AgencyKind.COMMUNE_SERVICE_CENTRE, commune_code, Era.FROM_2025)

    def receiving_units(self, province_code: str, era: Era) -> list[Agency]:
        """Service centres and People's Committees of a province valid in ``era``.

        Ordered province centre, province committee, districts, then communes
        (centre before committee), each group by code.
        """
        return list(self._by_province.get((province_code, Era(era)), ()))


def _derive(units: AdminUnits):
    """Yield every agency implied by ``units`` under the module's code scheme."""
    legacy = {p.code: p for p in units.provinces(Era.LEGACY)}
    current = {p.code: p for p in units.provinces(Era.FROM_2025)}

    for code in sorted(legacy.keys() | current.keys()):
        old, new = legacy.get(code), current.get(code)
        if old and new and old.name == new.name:
            yield from _province_agencies(new.code, new.name, _BOTH, pc="00", centre="01")
            continue
        if new:
            yield from _province_agencies(new.code, new.name, _NEW_ONLY, pc="00", centre="01")
        if old:
            # Retired code reused by a different merged province: shift the group.
            pc, centre = ("90", "91") if new else ("00", "01")
            yield from _province_agencies(old.code, old.name, _LEGACY_ONLY, pc=pc, centre=centre)

    for province in legacy.values():
        pp = province.code
        for district_code, district_name in units.districts(pp):
            yield Agency(
                code=f"{district_code}.00.00.H{pp}",
                name=f"{_PC} {district_name}",
                kind=AgencyKind.DISTRICT_PEOPLES_COMMITTEE,
                province_code=pp,
                eras=_LEGACY_ONLY,
                district_code=district_code,
            )
        for commune in units.communes(Era.LEGACY, pp):
            yield Agency(
                code=f"{commune.district_code}.{commune.code}.00.H{pp}",
                name=f"{_PC} {commune.name}",
                kind=AgencyKind.COMMUNE_PEOPLES_COMMITTEE,
                province_code=pp,
                eras=_LEGACY_ONLY,
                district_code=commune.district_code,
                commune_code=commune.code,
            )

    for province in current.values():
        pp = province.code
        for commune in units.communes(Era.FROM_2025, pp):
            for group, kind, prefix in (
                ("00", AgencyKind.COMMUNE_PEOPLES_COMMITTEE, _PC),
                ("01", AgencyKind.COMMUNE_SERVICE_CENTRE, _CENTRE),
            ):
                yield Agency(
                    code=f"000.{commune.code}.{group}.H{pp}",
                    name=f"{prefix} {commune.name}",
                    kind=kind,
                    province_code=pp,
                    eras=_NEW_ONLY,
                    commune_code=commune.code,
                )


def _province_agencies(pp: str, name: str, eras: frozenset[Era], *, pc: str, centre: str):
    yield Agency(f"000.00.{pc}.H{pp}", f"{_PC} {name}", AgencyKind.PROVINCE_PEOPLES_COMMITTEE, pp, eras)
    yield Agency(f"000.00.{centre}.H{pp}", f"{_CENTRE} {name}", AgencyKind.PROVINCE_SERVICE_CENTRE, pp, eras)
