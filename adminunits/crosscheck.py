"""Cross-check the `vietnamadminunits` package against the official list of units.

The official list (Decision 19/2025/QĐ-TTg and its later changes) is read from the MIT-licensed
compilation in `../shared/catalogue-sources/admin-units/`. Names are compared without accents,
so the two spellings of one name ("Hòa"/"Hoà": where the tone mark sits) are not differences.
Each real difference is reported with whether `unit_changes.json` resolves it: a code correction,
or a dated rename whose new name is the official one.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from procedures.vietnamese import fold

from .changes import UnitChanges
from .registry import VN_TZ, AdminUnits, Era

__all__ = ["CrossCheck", "Difference", "cross_check"]

OFFICIAL_FILE = "admin-units/vietnamese-provinces-database-v3.1.0.json"


@dataclass(frozen=True)
class Difference:
    kind: str  # "province name", "commune name", "commune code"
    code: str
    package: str
    official: str
    resolved_by: str  # "" when unit_changes.json does not resolve it

    def line(self) -> str:
        status = f"resolved: {self.resolved_by}" if self.resolved_by else "UNRESOLVED"
        return f"{self.kind}\t{self.code}\tpackage: {self.package}\tofficial: {self.official}\t{status}"


@dataclass
class CrossCheck:
    provinces: int = 0
    communes: int = 0
    spelling_variants: int = 0  # same name, tone mark placed differently
    differences: list[Difference] = field(default_factory=list)

    @property
    def unresolved(self) -> list[Difference]:
        return [d for d in self.differences if not d.resolved_by]


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip())


def cross_check(
    sources: Path, units: AdminUnits | None = None, changes: UnitChanges | None = None
) -> CrossCheck:
    """Compare the package (before this project's corrections) with the official list."""
    units = units or AdminUnits.load()
    changes = changes or UnitChanges.load()
    document = json.loads((sources / OFFICIAL_FILE).read_text(encoding="utf-8"))
    official_provinces = {p["Code"]: _nfc(p["FullName"]) for p in document}
    official_communes = {w["Code"]: (_nfc(w["FullName"]), p["Code"]) for p in document for w in p["Wards"]}
    package_to_official = {c.package_code: c for c in changes.corrections}
    far_future = datetime(2100, 1, 1, tzinfo=VN_TZ)
    renamed = {(r.kind, r.code): r for r in changes.renames_at(far_future)}
    report = CrossCheck(provinces=len(official_provinces), communes=len(official_communes))

    for province in units.provinces(Era.FROM_2025):
        official = official_provinces.get(province.code)
        if official is None:
            report.differences.append(Difference("province code", province.code, province.name, "-", ""))
        elif fold(official) != fold(province.name):
            rename = renamed.get(("province", province.code))
            resolved = (
                f"renamed from {rename.effective:%Y-%m-%d} ({rename.basis})"
                if rename and rename.name == official
                else ""
            )
            report.differences.append(
                Difference("province name", province.code, province.name, official, resolved)
            )
        elif official != _nfc(province.name):
            report.spelling_variants += 1

    package_codes = set()
    for province in units.provinces(Era.FROM_2025):
        for commune in units.communes(Era.FROM_2025, province.code):
            # The registry already applies code corrections: undo them to compare the package itself.
            package_code = next((a for a, o in units.aliases.items() if o == commune.code), commune.code)
            package_codes.add(package_code)
            official_commune = official_communes.get(package_code)
            if official_commune is None:
                fix = package_to_official.get(package_code)
                resolved = (
                    f"official_commune code {fix.code} ({fix.basis})"
                    if fix and official_communes.get(fix.code, ("", ""))[1] == commune.province_code
                    else ""
                )
                official_name = official_communes.get(fix.code, ("-", ""))[0] if fix else "-"
                report.differences.append(
                    Difference(
                        "commune code",
                        package_code,
                        commune.name,
                        f"{fix.code if fix else '-'} {official_name}",
                        resolved,
                    )
                )
                continue
            name, province_code = official_commune
            if fold(name) != fold(commune.name) or province_code != commune.province_code:
                rename = renamed.get(("commune", package_code))
                resolved = (
                    f"renamed from {rename.effective:%Y-%m-%d} ({rename.basis})"
                    if rename and rename.name == name
                    else ""
                )
                report.differences.append(
                    Difference("commune name", package_code, commune.name, name, resolved)
                )
            elif name != _nfc(commune.name):
                report.spelling_variants += 1
    corrected = {c.code for c in changes.corrections}
    for code in sorted(set(official_communes) - package_codes - corrected):
        report.differences.append(Difference("commune code", code, "-", official_communes[code][0], ""))
    return report
