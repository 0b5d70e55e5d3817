"""Catalogue commands for counters and operators: list, search, show, validate, import.

Each function prints to `out` and returns a process exit code; starter.py only parses.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TextIO

from procedures.catalogue import Catalogue, CatalogueError, NoVersionInForce, UnknownProcedure
from procedures.vietnamese import fold

__all__ = ["import_export", "list_procedures", "search_procedures", "show_procedure", "validate_directory"]

EXIT_OK, EXIT_INVALID, EXIT_NOT_FOUND = 0, 2, 3


def list_procedures(catalogue: Catalogue, at: datetime, out: TextIO) -> int:
    """Every procedure with a version in force at `at`, one line each."""
    for code in catalogue.codes:
        try:
            version = catalogue.resolve(code, at)
        except NoVersionInForce:
            continue
        print(f"{code}\t{version.version_id}\t{version.authority_level.value}\t{version.procedure_name}", file=out)
    return EXIT_OK


def search_procedures(catalogue: Catalogue, text: str, out: TextIO) -> int:
    """Procedures whose code, name or sector contains `text`, accents and case ignored."""
    wanted = fold(text)
    found = 0
    for code in catalogue.codes:
        latest = catalogue.versions_by_code[code][-1]
        if wanted in fold(f"{code} {latest.procedure_name} {latest.sector}"):
            print(f"{code}\t{latest.sector}\t{latest.procedure_name}", file=out)
            found += 1
    return EXIT_OK if found else EXIT_NOT_FOUND


def show_procedure(catalogue: Catalogue, code: str, at: datetime, out: TextIO) -> int:
    """The version of `code` in force at `at`, as JSON."""
    try:
        version = catalogue.resolve(code, at)
    except (UnknownProcedure, NoVersionInForce) as err:
        print(f"error: {err}", file=out)
        return EXIT_NOT_FOUND
    print(json.dumps(version.model_dump(mode="json"), ensure_ascii=False, indent=2), file=out)
    return EXIT_OK


def validate_directory(directory: Path, out: TextIO) -> int:
    try:
        catalogue = Catalogue.load(directory)
    except CatalogueError as err:
        print(f"invalid: {err}", file=out)
        return EXIT_INVALID
    versions = sum(len(v) for v in catalogue.versions_by_code.values())
    print(f"valid: {len(catalogue.codes)} procedures, {versions} versions", file=out)
    return EXIT_OK


def import_export(export: Path, out_file: Path, sector: str, out: TextIO) -> int:
    """Import an official export into a catalogue file; every rejected row is printed."""
    from procedures.importer import import_to_catalogue  # openpyxl only when importing

    try:
        result = import_to_catalogue(export, out_file, sector)
    except CatalogueError as err:
        print(f"error: {err}", file=out)
        return EXIT_INVALID
    for row in result.rejected:
        print(f"rejected row {row.row} ({row.code or 'no code'}): {row.reason}", file=out)
    written = f"written to {out_file}" if result.versions else "nothing written"
    print(f"imported {len(result.versions)} versions, rejected {len(result.rejected)} rows; {written}", file=out)
    return EXIT_OK if result.versions and not result.rejected else EXIT_INVALID
