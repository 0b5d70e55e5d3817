"""How much of the national list the catalogue can run: per level and sector, listed / with
execution facts / receivable.

A procedure of several levels (commune and province, say) counts under each of them; the total
row counts each procedure once. "With execution facts" means the sources give its limits, fees
and documents (a portal record) or a curated entry does; "receivable" means a dossier can be
received for it at the instant asked (a version in force at a level a one-stop counter routes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from procedures.catalogue import Catalogue, NotReceivable, NoVersionInForce
from procedures.models import AuthorityLevel
from procedures.sources import PORTAL_DETAILS

__all__ = ["CoverageRow", "coverage_rows", "format_coverage"]

_LEVEL_OF = {
    AuthorityLevel.COMMUNE_PEOPLES_COMMITTEE: "commune",
    AuthorityLevel.DISTRICT_PEOPLES_COMMITTEE: "district",
    AuthorityLevel.PROVINCE_PEOPLES_COMMITTEE: "province",
    AuthorityLevel.PROVINCE_DEPARTMENT: "province",
    AuthorityLevel.SPECIALISED_AGENCY: "other",
}
LEVELS = ("commune", "province", "ministry", "other", "unknown")
TOTAL = "all levels"


@dataclass
class CoverageRow:
    level: str
    sector: str
    listed: int = 0
    with_facts: int = 0
    receivable: int = 0


def coverage_rows(catalogue: Catalogue, at: datetime) -> list[CoverageRow]:
    """Rows per (level, sector), then one per level over all sectors, then the total."""
    rows: dict[tuple[str, str], CoverageRow] = {}
    for code in catalogue.known_codes:
        listed = catalogue.listing.get(code)
        versions = catalogue.versions_by_code.get(code)
        sector = (
            (listed.sector if listed else "") or (versions[-1].sector if versions else "") or "(no sector)"
        )
        has_facts = versions is not None or (listed is not None and PORTAL_DETAILS.id in listed.sources)
        try:
            version = catalogue.resolve(code, at)
            receivable = True
        except (NoVersionInForce, NotReceivable):
            version, receivable = None, False
        levels = set(listed.levels) if listed and listed.levels else set()
        if version is not None:
            levels.add(_LEVEL_OF[version.authority_level])
        elif versions:
            levels.add(_LEVEL_OF[versions[-1].authority_level])
        ordered = [*(lv for lv in LEVELS if lv in levels), *sorted(levels - set(LEVELS))] or ["unknown"]
        keys = [*((lv, k) for lv in ordered for k in (sector, "")), (TOTAL, "")]
        for key in keys:
            row = rows.setdefault(key, CoverageRow(*key))
            row.listed += 1
            row.with_facts += has_facts
            row.receivable += receivable
    return sorted(
        rows.values(), key=lambda r: (r.level == TOTAL, _order(r.level), r.sector == "", -r.listed, r.sector)
    )


def _order(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


def format_coverage(rows: list[CoverageRow]) -> str:
    lines = ["level\tsector\tlisted\twith facts\treceivable"]
    for row in rows:
        sector = row.sector or "(all sectors)"
        lines.append(f"{row.level}\t{sector}\t{row.listed}\t{row.with_facts}\t{row.receivable}")
    return "\n".join(lines)
