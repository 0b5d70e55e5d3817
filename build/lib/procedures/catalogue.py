"""The catalogue of procedures: declarative JSON files, validated whole, resolved by instant.

Each file under `definitions/` holds the procedures of one sector. A procedure carries its
facts once; its versions say what changed over time (the July 2025 reform moved many from
district to commune level). Loading is all-or-nothing: one bad entry fails the whole load
with the file, the procedure code and the field named.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from procedures.catalogue_files import CatalogueError, read_catalogue_file
from pydantic import ValidationError

from procedures.models import Procedure, ProcedureVersion

__all__ = [
    "Catalogue",
    "CatalogueError",
    "NoVersionInForce",
    "UnknownProcedure",
    "DEFINITIONS_DIR",
]

DEFINITIONS_DIR = Path(__file__).with_name("definitions")


class UnknownProcedure(LookupError):
    """No procedure with this code exists in the catalogue."""

    def __init__(self, code: str) -> None:
        super().__init__(
            f"unknown procedure code {code!r}: `starter.py catalogue search WORDS` finds a procedure's code by its name"
        )
        self.code = code


class NoVersionInForce(LookupError):
    """The procedure exists but no version of it is in force at the instant asked for."""

    def __init__(self, code: str, at: datetime, replaced_by: ProcedureVersion | None) -> None:
        message = f"procedure {code!r} has no version in force at {at.isoformat()}"
        if replaced_by is not None:
            message += (
                f"; version {replaced_by.version_id!r} ({replaced_by.authority_level.value})"
                f" applies from {replaced_by.effective_from.isoformat()}"
            )
        super().__init__(message)
        self.code = code
        self.at = at
        self.replaced_by = replaced_by


@dataclass(frozen=True)
class Catalogue:
    procedures: dict[str, Procedure]
    versions_by_code: dict[str, tuple[ProcedureVersion, ...]]  # each sorted by effective_from

    @classmethod
    def load(cls, directory: Path = DEFINITIONS_DIR) -> Catalogue:
        """Every `*.json` file of `directory`, all valid, or CatalogueError and nothing."""
        paths = sorted(directory.glob("*.json"))
        if not paths:
            raise CatalogueError(f"{directory}: no catalogue files (*.json)")
        versions: list[ProcedureVersion] = []
        file_of: dict[str, str] = {}
        for path in paths:
            loaded = read_catalogue_file(path)
            for code in {v.procedure_code for v in loaded}:
                if code in file_of:
                    raise CatalogueError(f"{path.name}: {code}: procedure code already defined in {file_of[code]}")
                file_of[code] = path.name
            versions.extend(loaded)
        return cls.from_versions(versions, file_of)

    @classmethod
    def from_versions(cls, versions: Iterable[ProcedureVersion], file_of: dict[str, str] | None = None) -> Catalogue:
        grouped: dict[str, list[ProcedureVersion]] = {}
        for version in versions:
            grouped.setdefault(version.procedure_code, []).append(version)
        procedures: dict[str, Procedure] = {}
        for code, group in grouped.items():
            try:
                procedures[code] = Procedure.of(group)
            except ValidationError as err:
                where = f"{file_of[code]}: {code}" if file_of and code in file_of else code
                problems = "; ".join(e["msg"].removeprefix("Value error, ") for e in err.errors())
                raise CatalogueError(f"{where}: {problems}") from err
        return cls(procedures, {code: p.versions for code, p in procedures.items()})

    @property
    def codes(self) -> list[str]:
        return sorted(self.versions_by_code)

    def resolve(self, code: str, at: datetime) -> ProcedureVersion:
        """The version in force at `at`, which must be timezone-aware."""
        if at.tzinfo is None:
            raise ValueError("resolve() needs a timezone-aware instant")
        versions = self.versions_by_code.get(code)
        if versions is None:
            raise UnknownProcedure(code)
        for version in versions:
            if version.in_force_at(at):
                return version
        later = [v for v in versions if v.effective_from > at]
        raise NoVersionInForce(code, at, later[0] if later else None)


@cache
def default_catalogue() -> Catalogue:
    return Catalogue.load()
