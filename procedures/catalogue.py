"""The catalogue of procedures: declarative JSON files, validated whole, resolved by instant.

Two sources of versions. The curated files under `definitions/` hold hand-checked procedures
with their curated internal process; `definitions/national/` holds every procedure of the
national list, with versions of facts imported from the portal's records (see
`national_import.py`), run with the default internal process of their level. A curated
procedure wins over the imported facts of the same code. A listed procedure without execution
facts is known (list, search, show) but not receivable. Loading is all-or-nothing: one bad
entry fails the whole load with the file, the procedure code and the field named.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, cached_property
from pathlib import Path

from pydantic import ValidationError

from procedures.catalogue_files import CatalogueError, read_catalogue_file
from procedures.models import Procedure, ProcedureVersion
from procedures.national_catalogue import ListedProcedure, load_national
from procedures.processes import PROCESSES_DIR, InternalProcesses
from procedures.vietnamese import fold

__all__ = [
    "Catalogue",
    "CatalogueError",
    "ListedProcedure",
    "NoVersionInForce",
    "NotReceivable",
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


class NotReceivable(LookupError):
    """The procedure is on the national list, but its execution facts are not known."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"procedure {code!r} is listed but cannot be received here: {reason}")
        self.code = code
        self.reason = reason


NATIONAL_SUBDIR = "national"
_NO_FACTS = "no execution facts (time limits, fees, documents) in the sources"


@dataclass(frozen=True)
class Catalogue:
    procedures: dict[str, Procedure]
    versions_by_code: dict[str, tuple[ProcedureVersion, ...]]  # each sorted by effective_from
    listing: dict[str, ListedProcedure] = field(default_factory=dict)  # the national list
    processes: InternalProcesses | None = None

    @cached_property
    def _index(self) -> tuple[str, list[int], list[str]]:
        """Every known procedure's folded "code name sector", one per line in code order, with
        each line's start offset and code. Built on first use: folding 5,670 names is a third of
        a load, and most processes never search."""
        names: dict[str, str] = {}
        for code, listed in self.listing.items():
            names[code] = f"{code} {listed.name} {listed.sector}"
        for code, versions in self.versions_by_code.items():
            names[code] = f"{code} {versions[-1].procedure_name} {versions[-1].sector}"
        codes = sorted(names)
        lines = [fold(names[c]).replace("\n", " ") for c in codes]
        starts, offset = [], 0
        for line in lines:
            starts.append(offset)
            offset += len(line) + 1
        return "\n".join(lines), starts, codes

    @classmethod
    def load(cls, directory: Path = DEFINITIONS_DIR, processes_dir: Path = PROCESSES_DIR) -> Catalogue:
        """Every `*.json` file of `directory` and its `national/` listing and facts, all valid,
        or CatalogueError and nothing."""
        paths = sorted(directory.glob("*.json"))
        national = directory / NATIONAL_SUBDIR
        if not paths and not national.is_dir():
            raise CatalogueError(f"{directory}: no catalogue files (*.json)")
        versions: list[ProcedureVersion] = []
        file_of: dict[str, str] = {}
        for path in paths:
            loaded = read_catalogue_file(path)
            for code in {v.procedure_code for v in loaded}:
                if code in file_of:
                    raise CatalogueError(
                        f"{path.name}: {code}: procedure code already defined in {file_of[code]}"
                    )
                file_of[code] = path.name
            versions.extend(loaded)
        processes = InternalProcesses.load(processes_dir)
        listing: dict[str, ListedProcedure] = {}
        if national.is_dir():
            listing, imported = load_national(national, processes)
            # A curated procedure (facts checked by hand, its own process) wins over imported facts.
            versions.extend(v for v in imported if v.procedure_code not in file_of)
            for v in imported:
                file_of.setdefault(v.procedure_code, f"{NATIONAL_SUBDIR}/facts")
        return cls.from_versions(versions, file_of, listing=listing, processes=processes)

    @classmethod
    def from_versions(
        cls,
        versions: Iterable[ProcedureVersion],
        file_of: dict[str, str] | None = None,
        *,
        listing: dict[str, ListedProcedure] | None = None,
        processes: InternalProcesses | None = None,
    ) -> Catalogue:
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
        return cls(
            procedures,
            {code: p.versions for code, p in procedures.items()},
            listing=listing or {},
            processes=processes,
        )

    @property
    def codes(self) -> list[str]:
        """Codes of the procedures that have versions (that can run a dossier at some instant)."""
        return sorted(self.versions_by_code)

    @property
    def known_codes(self) -> list[str]:
        """Every code the catalogue knows: the national list and the curated procedures."""
        return sorted(self.listing.keys() | self.versions_by_code.keys())

    def listed(self, code: str) -> ListedProcedure | None:
        return self.listing.get(code)

    def resolve(self, code: str, at: datetime, province: str | None = None) -> ProcedureVersion:
        """The version in force at `at`, which must be timezone-aware.

        With `province`, that province's own internal process replaces the default one where
        it has a file for this procedure or its level.
        """
        if at.tzinfo is None:
            raise ValueError("resolve() needs a timezone-aware instant")
        versions = self.versions_by_code.get(code)
        if versions is None:
            listed = self.listing.get(code)
            if listed is not None:
                raise NotReceivable(code, listed.not_receivable or _NO_FACTS)
            raise UnknownProcedure(code)
        for version in versions:
            if version.in_force_at(at):
                if province is not None and self.processes is not None:
                    own = self.processes.override(province, version)
                    if own is not None:
                        return InternalProcesses.apply(version, own)
                return version
        later = [v for v in versions if v.effective_from > at]
        raise NoVersionInForce(code, at, later[0] if later else None)

    def search(self, text: str) -> list[str]:
        """Codes whose code, name or sector contains `text`, accents and case ignored."""
        wanted = fold(text).strip()
        if "\n" in wanted:
            return []
        text_, starts, codes = self._index
        if not wanted:
            return list(codes)
        # One C-level scan of the joined index instead of a substring test per name.
        found: list[str] = []
        position = text_.find(wanted)
        while position >= 0:
            line = bisect_right(starts, position) - 1
            found.append(codes[line])
            next_line = starts[line + 1] if line + 1 < len(starts) else len(text_)
            position = text_.find(wanted, next_line)
        return found


@cache
def default_catalogue() -> Catalogue:
    return Catalogue.load()
