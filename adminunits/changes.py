"""Unit changes after 2025-07-01 and corrections of the package's codes, read from data.

`unit_changes.json` holds (1) corrections where the `vietnamadminunits` package differs from
the official list (a commune code), and (2) dated changes: from an instant on, a province or
commune bears a new name (and type: a commune that became a ward, a province that became a
centrally-run city). Codes do not change with them. A receipt from that instant shows the new
names; a dossier received before keeps the names it was received under.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

__all__ = ["CHANGES_FILE", "CodeCorrection", "Rename", "UnitChanges"]

CHANGES_FILE = Path(__file__).with_name("unit_changes.json")


class UnitChangesError(ValueError):
    """The unit-changes file is malformed; nothing was loaded."""


@dataclass(frozen=True, slots=True)
class CodeCorrection:
    package_code: str  # as vietnamadminunits has it
    code: str  # as the official list has it
    name: str
    province_code: str
    basis: str


@dataclass(frozen=True, slots=True)
class Rename:
    effective: datetime
    kind: str  # "province" or "commune"
    code: str
    name: str
    was: str
    basis: str


@dataclass(frozen=True)
class UnitChanges:
    corrections: tuple[CodeCorrection, ...]
    renames: tuple[Rename, ...]  # in effective order

    @classmethod
    @functools.cache
    def load(cls, path: Path = CHANGES_FILE) -> UnitChanges:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            corrections = tuple(CodeCorrection(**entry) for entry in document.get("code_corrections", []))
            renames = []
            for change in document.get("changes", []):
                effective = datetime.fromisoformat(change["effective"])
                if effective.tzinfo is None:
                    raise UnitChangesError(f"{path.name}: effective {change['effective']} has no offset")
                for kind in ("provinces", "communes"):
                    for entry in change.get(kind, []):
                        renames.append(
                            Rename(
                                effective,
                                kind[:-1],
                                entry["code"],
                                entry["name"],
                                entry["was"],
                                change["basis"],
                            )
                        )
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise UnitChangesError(f"{path.name}: {err}") from err
        return cls(corrections, tuple(sorted(renames, key=lambda r: r.effective)))

    def name_at(self, kind: str, code: str, at: datetime, name: str) -> str:
        """The name of the unit `code` at `at`, given its name on 2025-07-01."""
        for rename in self.renames:
            if rename.kind == kind and rename.code == code and rename.effective <= at:
                name = rename.name
        return name

    def renames_at(self, at: datetime) -> list[Rename]:
        """The renames in force at `at` (the latest per unit)."""
        latest: dict[tuple[str, str], Rename] = {}
        for rename in self.renames:
            if rename.effective <= at:
                latest[(rename.kind, rename.code)] = rename
        return list(latest.values())
