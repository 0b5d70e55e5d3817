"""Vietnam's administrative units in both eras, keyed by code *and* era.

On 2025-07-01 00:00 (Asia/Ho_Chi_Minh) the country went from 63 provinces,
~700 districts and ~10,000 communes to 34 provinces and 3,321 communes with no
district level.  Dossiers filed before the cut-over keep referring to the old
units, so both geographies have to stay addressable.

Codes are NOT stable across the reform: ward codes are reused (new ``00004`` is
"Phường Ba Đình", legacy ``00004`` is "Phường Trúc Bạch") and so are province
codes (legacy ``80`` is "Tỉnh Long An", new ``80`` is "Tỉnh Tây Ninh").  Every
lookup therefore takes an :class:`Era` alongside the code.

The data comes from the SQLite file bundled with ``vietnamadminunits``; it is
read lazily on the first :meth:`AdminUnits.load` and cached for the process.
"""

from __future__ import annotations

import functools
import importlib.util
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from procedures.calendar import VN_TZ
from procedures.models import DISTRICT_LEVEL_ENDS

from .changes import UnitChanges

__all__ = [
    "VN_TZ",
    "REFORM_INSTANT",
    "Era",
    "era_at",
    "Province",
    "Commune",
    "AdminUnits",
]

_PACKAGE = "vietnamadminunits"
_DATASET = "data/dataset.db"  # SQLite file bundled inside the package (1.0.x layout)

#: First instant at which the 34-province / commune-only geography applies: the instant the
#: district level ended.
REFORM_INSTANT = DISTRICT_LEVEL_ENDS


class Era(StrEnum):
    """Which administrative geography a code or instant belongs to."""

    LEGACY = "legacy"
    FROM_2025 = "from_2025"


def era_at(instant: datetime) -> Era:
    """Return the era in force at ``instant`` (which must be timezone-aware).

    Naive datetimes are rejected rather than guessed: a naive UTC timestamp read
    as local time (or vice versa) would misclassify the 7 hours around the
    cut-over.
    """
    if not isinstance(instant, datetime):
        raise TypeError(f"instant must be a datetime, got {type(instant).__name__}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"instant must be timezone-aware, got naive {instant.isoformat()}")
    return Era.LEGACY if instant < REFORM_INSTANT else Era.FROM_2025


@dataclass(frozen=True, slots=True)
class Province:
    """A province-level unit (tỉnh / thành phố trực thuộc trung ương) of one era."""

    code: str
    name: str
    era: Era


@dataclass(frozen=True, slots=True)
class Commune:
    """A commune-level unit (xã / phường / thị trấn / đặc khu) of one era.

    ``district_code``/``district_name`` are set only for LEGACY communes; the
    FROM_2025 geography has no district level.
    """

    code: str
    name: str
    province_code: str
    era: Era
    district_code: str | None = None
    district_name: str | None = None


class AdminUnits:
    """Immutable in-memory index of both eras' provinces, districts and communes."""

    __slots__ = ("_provinces", "_communes", "_communes_by_province", "_districts", "aliases")

    def __init__(
        self,
        provinces: dict[tuple[str, Era], Province],
        communes: dict[tuple[str, Era], Commune],
        districts: dict[str, list[tuple[str, str]]],
        aliases: dict[str, str] | None = None,
    ) -> None:
        self._provinces = dict(provinces)
        self._communes = dict(communes)
        # Package commune code -> official code (FROM_2025), see unit_changes.json.
        self.aliases = dict(aliases or {})
        by_province: dict[tuple[str, Era], list[Commune]] = defaultdict(list)
        for commune in self._communes.values():
            by_province[(commune.province_code, commune.era)].append(commune)
        # Store tuples so callers can't mutate the index through returned lists.
        self._communes_by_province = {
            key: tuple(sorted(items, key=lambda c: c.code)) for key, items in by_province.items()
        }
        self._districts = {code: tuple(sorted(items)) for code, items in districts.items()}

    @classmethod
    @functools.cache
    def load(cls) -> AdminUnits:
        """Read both tables (one query each) on first call; later calls return the same object."""
        provinces: dict[tuple[str, Era], Province] = {}
        communes: dict[tuple[str, Era], Commune] = {}
        districts: dict[str, set[tuple[str, str]]] = defaultdict(set)

        # Selecting only the needed columns keeps the load ~5x faster than SELECT *.
        legacy, current = _query(
            "SELECT provinceCode, province, districtCode, district, wardCode, ward FROM admin_units_legacy",
            "SELECT provinceCode, province, wardCode, ward FROM admin_units",
        )
        for row in legacy:
            pcode = row["provinceCode"]
            provinces.setdefault((pcode, Era.LEGACY), Province(pcode, row["province"], Era.LEGACY))
            districts[pcode].add((row["districtCode"], row["district"]))
            # Island districts without communes (Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa,
            # Lý Sơn, Côn Đảo) appear as one row with NULL ward columns.
            if row["wardCode"] is None:
                continue
            communes[(row["wardCode"], Era.LEGACY)] = Commune(
                code=row["wardCode"],
                name=row["ward"],
                province_code=pcode,
                era=Era.LEGACY,
                district_code=row["districtCode"],
                district_name=row["district"],
            )

        # Where the package's code differs from the official list, the official code wins; the
        # package's code stays an alias, since address conversions still return it.
        corrections = {c.package_code: c for c in UnitChanges.load().corrections}
        aliases: dict[str, str] = {}
        for row in current:
            pcode = row["provinceCode"]
            provinces.setdefault((pcode, Era.FROM_2025), Province(pcode, row["province"], Era.FROM_2025))
            code = row["wardCode"]
            fix = corrections.get(code)
            if fix is not None and fix.province_code == pcode:
                aliases[code] = code = fix.code
            communes[(code, Era.FROM_2025)] = Commune(
                code=code, name=row["ward"], province_code=pcode, era=Era.FROM_2025
            )

        return cls(provinces, communes, {k: sorted(v) for k, v in districts.items()}, aliases)

    def province(self, code: str, era: Era) -> Province | None:
        """The province with ``code`` in ``era``, or None."""
        return self._provinces.get((code, Era(era)))

    def commune(self, code: str, era: Era) -> Commune | None:
        """The commune with ``code`` in ``era``, or None (a corrected package code finds the
        commune under its official code)."""
        era = Era(era)
        if era is Era.FROM_2025:
            code = self.aliases.get(code, code)
        return self._communes.get((code, era))

    def provinces(self, era: Era) -> list[Province]:
        """All provinces of ``era``, sorted by code."""
        era = Era(era)
        chosen = (p for (_, e), p in self._provinces.items() if e is era)
        return sorted(chosen, key=lambda p: p.code)

    def communes(self, era: Era, province_code: str) -> list[Commune]:
        """Communes of ``province_code`` in ``era``, sorted by code (empty if unknown)."""
        return list(self._communes_by_province.get((province_code, Era(era)), ()))

    def districts(self, province_code: str) -> list[tuple[str, str]]:
        """LEGACY districts of a legacy province as ``(district_code, district_name)``, by code."""
        return list(self._districts.get(province_code, ()))


def _query(*sqls: str) -> list[list[dict]]:
    """Run each SQL statement against the ``vietnamadminunits`` dataset.

    Importing ``vietnamadminunits`` executes its ``__init__``, which pulls in
    its address parser (shapely, geopy, ~0.35 s) that we never use; so the
    bundled SQLite file is located with ``find_spec`` (no import) and opened
    read-only.  If a future release moves the file, fall back to the public
    ``vietnamadminunits.database.query``.
    """
    spec = importlib.util.find_spec(_PACKAGE)
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / _DATASET
        if path.is_file():
            conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
            try:
                conn.row_factory = sqlite3.Row
                return [[dict(row) for row in conn.execute(sql)] for sql in sqls]
            finally:
                conn.close()
    from vietnamadminunits.database import query  # slow import; see above

    return [query(sql) for sql in sqls]
