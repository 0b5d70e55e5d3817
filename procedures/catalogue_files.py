"""Reading and writing catalogue files: JSON, one file per sector or decree group.

A file holds procedures; each procedure states its own facts once (code, name, sector,
ministry, decision, provenance) and lists its versions. Reading validates everything and
names the file, the procedure code and the field of the first problem.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from procedures.models import PROCEDURE_FIELDS, ProcedureVersion
from procedures.problems import describe_validation_error

__all__ = ["CatalogueError", "read_catalogue_file", "read_json_list", "write_catalogue_file"]

_FILE_KEYS = {"sector", "procedures", "note"}
# File key -> model field, for the procedure-level keys.
_PROCEDURE_KEYS = {
    "code": "procedure_code",
    "name": "procedure_name",
    "sector": "sector",
    "ministry": "ministry",
    "decision": "decision",
    "provenance": "provenance",
}


class CatalogueError(ValueError):
    """A catalogue file is malformed or contradicts itself; nothing was loaded."""


def read_json_list(path: Path, key: str) -> dict[str, Any]:
    """The JSON object in `path`, which holds a list under `key`; CatalogueError naming the file."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CatalogueError(f"{path.name}: cannot read: {err}") from err
    if not isinstance(document, dict) or not isinstance(document.get(key), list):
        raise CatalogueError(f"{path.name}: expected an object with a '{key}' list")
    return document


def read_catalogue_file(path: Path) -> list[ProcedureVersion]:
    document = read_json_list(path, "procedures")
    unknown = set(document) - _FILE_KEYS
    if unknown:
        raise CatalogueError(f"{path.name}: unknown keys {sorted(unknown)}")
    versions: list[ProcedureVersion] = []
    seen: set[str | None] = set()
    for index, procedure in enumerate(document["procedures"]):
        code = procedure.get("code") if isinstance(procedure, dict) else None
        where = f"{path.name}: {code or f'procedure #{index + 1}'}"
        if not isinstance(procedure, dict):
            raise CatalogueError(f"{where}: expected an object")
        if code in seen:
            raise CatalogueError(f"{where}: procedure code appears twice in the file")
        seen.add(code)
        unknown = set(procedure) - set(_PROCEDURE_KEYS) - {"versions"}
        if unknown:
            raise CatalogueError(f"{where}: unknown keys {sorted(unknown)}")
        entries = procedure.get("versions")
        if not isinstance(entries, list) or not entries:
            raise CatalogueError(f"{where}: versions: at least one version is required")
        facts = {field: procedure[key] for key, field in _PROCEDURE_KEYS.items() if key in procedure}
        facts.setdefault("sector", document.get("sector", ""))
        for entry in entries:
            clash = set(entry) & set(PROCEDURE_FIELDS) if isinstance(entry, dict) else set()
            if not isinstance(entry, dict) or clash:
                raise CatalogueError(f"{where}: versions: each version is an object without {sorted(clash)}")
            try:
                versions.append(ProcedureVersion.model_validate({**facts, **entry}))
            except ValidationError as err:
                version = entry.get("version_id", "?")
                problems = describe_validation_error(err, whole="version")
                raise CatalogueError(f"{where}: version {version}: {problems}") from err
    return versions


def write_catalogue_file(
    path: Path, sector: str, versions: Iterable[ProcedureVersion], note: str = ""
) -> None:
    """Write versions as a catalogue file, grouped by procedure in code order."""
    by_code: dict[str, list[ProcedureVersion]] = {}
    for version in versions:
        by_code.setdefault(version.procedure_code, []).append(version)
    procedures = [
        _procedure_entry(sorted(group, key=lambda v: v.effective_from))
        for _, group in sorted(by_code.items())
    ]
    document: dict[str, Any] = {
        "sector": sector,
        **({"note": note} if note else {}),
        "procedures": procedures,
    }
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _procedure_entry(versions: list[ProcedureVersion]) -> dict[str, Any]:
    first = versions[0].model_dump(mode="json", include=set(PROCEDURE_FIELDS))
    entry = {
        key: first[field] for key, field in _PROCEDURE_KEYS.items() if first.get(field) not in ("", None)
    }
    entry["versions"] = [
        v.model_dump(mode="json", exclude=set(PROCEDURE_FIELDS), exclude_defaults=True) for v in versions
    ]
    return entry
