"""Catalogue commands for counters and operators: list, search, show, coverage, validate, import.

Each function prints results to `out`, problems to `err`, and returns a process exit code;
starter.py only parses.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO

from procedures.catalogue import Catalogue, CatalogueError, NotReceivable, NoVersionInForce, UnknownProcedure
from procedures.coverage import coverage_rows, format_coverage

__all__ = [
    "coverage",
    "import_export",
    "import_national_sources",
    "list_procedures",
    "search_procedures",
    "show_procedure",
    "validate_directory",
]

EXIT_OK, EXIT_INVALID, EXIT_NOT_FOUND = 0, 2, 3


def list_procedures(catalogue: Catalogue, at: datetime, out: TextIO, *, every: bool = False) -> int:
    """Every procedure receivable at `at`, one line each; with `every`, the whole national list too."""
    codes = catalogue.known_codes if every else catalogue.codes
    for code in codes:
        try:
            version = catalogue.resolve(code, at)
        except NoVersionInForce:
            if every:
                print(
                    f"{code}\t-\tno version in force\t{catalogue.versions_by_code[code][-1].procedure_name}",
                    file=out,
                )
            continue
        except NotReceivable as err:
            listed = catalogue.listing[code]
            levels = ",".join(listed.levels) or "level unknown"
            print(f"{code}\t-\t{levels}: not receivable ({err.reason})\t{listed.name}", file=out)
            continue
        print(
            f"{code}\t{version.version_id}\t{version.authority_level.value}\t{version.procedure_name}",
            file=out,
        )
    return EXIT_OK


def search_procedures(catalogue: Catalogue, text: str, out: TextIO) -> int:
    """Procedures whose code, name or sector contains `text`, accents and case ignored."""
    found = catalogue.search(text)
    for code in found:
        versions = catalogue.versions_by_code.get(code)
        if versions:
            print(f"{code}\t{versions[-1].sector}\t{versions[-1].procedure_name}", file=out)
        else:
            listed = catalogue.listing[code]
            print(f"{code}\t{listed.sector}\t{listed.name}\t(not receivable)", file=out)
    return EXIT_OK if found else EXIT_NOT_FOUND


def show_procedure(
    catalogue: Catalogue, code: str, at: datetime, out: TextIO, err: TextIO | None = None
) -> int:
    err = err or sys.stderr
    """The version of `code` in force at `at`, as JSON; a listed procedure without facts shows
    what the national list says of it and why it is not receivable."""
    try:
        version = catalogue.resolve(code, at)
    except NotReceivable as problem:
        listed = catalogue.listing[code].as_json()
        print(
            json.dumps({**listed, "not_receivable": problem.reason}, ensure_ascii=False, indent=2), file=out
        )
        return EXIT_OK
    except (UnknownProcedure, NoVersionInForce) as problem:
        print(f"error: {problem}", file=err)
        return EXIT_NOT_FOUND
    print(json.dumps(version.model_dump(mode="json"), ensure_ascii=False, indent=2), file=out)
    return EXIT_OK


def coverage(catalogue: Catalogue, at: datetime, out: TextIO) -> int:
    """Per level and sector: listed, with execution facts, receivable at `at`."""
    print(format_coverage(coverage_rows(catalogue, at)), file=out)
    return EXIT_OK


def validate_directory(directory: Path, out: TextIO, err: TextIO | None = None) -> int:
    err = err or sys.stderr
    try:
        catalogue = Catalogue.load(directory)
    except CatalogueError as problem:
        print(f"invalid: {problem}", file=err)
        return EXIT_INVALID
    versions = sum(len(v) for v in catalogue.versions_by_code.values())
    listed = f", {len(catalogue.listing)} listed" if catalogue.listing else ""
    print(f"valid: {len(catalogue.codes)} procedures, {versions} versions{listed}", file=out)
    return EXIT_OK


def _check_out_file(out_file: Path) -> str:
    if out_file.is_dir():
        return f"--out {out_file}: is a directory; name the catalogue file to write"
    if not out_file.parent.is_dir():
        return f"--out {out_file}: directory {out_file.parent} does not exist"
    return ""


def import_export(export: Path, out_file: Path, sector: str, out: TextIO, err: TextIO | None = None) -> int:
    err = err or sys.stderr
    """Import an official export into a catalogue file; every rejected row is printed."""
    from procedures.importer import import_to_catalogue  # openpyxl only when importing

    problem = _check_out_file(out_file)
    if problem:
        print(f"error: {problem}", file=err)
        return EXIT_INVALID
    try:
        result = import_to_catalogue(export, out_file, sector)
    except (CatalogueError, OSError) as problem:
        print(f"error: {problem}", file=err)
        return EXIT_INVALID
    for row in result.rejected:
        print(f"rejected row {row.row} ({row.code or 'no code'}): {row.reason}", file=err)
    written = f"written to {out_file}" if result.versions else "nothing written"
    print(
        f"imported {len(result.versions)} versions, rejected {len(result.rejected)} rows; {written}", file=out
    )
    return EXIT_OK if result.versions and not result.rejected else EXIT_INVALID


def import_national_sources(sources: Path, out_dir: Path, out: TextIO, err: TextIO | None = None) -> int:
    """Re-generate `out_dir` (definitions/national) from the national sources."""
    err = err or sys.stderr
    from procedures.national_import import import_national

    try:
        result = import_national(sources, out_dir)
    except CatalogueError as failure:
        print(f"error: {failure}", file=err)
        return EXIT_INVALID
    for problem in result.problems:
        print(f"refused {problem.code}: {problem.message}", file=err)
    if result.problems:
        print(f"error: {len(result.problems)} records refused; nothing written", file=err)
        return EXIT_INVALID
    for version_id in result.new_versions:
        print(f"new version {version_id}", file=out)
    print(
        f"listed {result.listed} procedures, {result.with_facts} with execution facts,"
        f" {len(result.new_versions)} new versions; written to {out_dir}",
        file=out,
    )
    return EXIT_OK
