"""Reading `definitions/national/`: every listed procedure, and versions where facts are known.

A listed procedure is known to the catalogue (list, search, show) whatever the sources say of it;
it runs a dossier only when its execution facts are known. Each facts version becomes a
`ProcedureVersion` with the default internal process of its authority level (a province's own
process replaces it at receipt, see `processes.py`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from procedures.catalogue_files import CatalogueError, read_json_list
from procedures.models import AuthorityLevel, ProcedureVersion
from procedures.problems import describe_validation_error
from procedures.processes import InternalProcesses
from procedures.sources import PORTAL_DETAILS

__all__ = ["ListedProcedure", "build_version", "check_facts", "load_national", "read_facts_files"]

_LISTING = "listing.jsonl"


@dataclass(frozen=True, slots=True)
class ListedProcedure:
    """A procedure as the national list states it, with where each part came from."""

    code: str
    name: str
    sector: str = ""
    agencies: tuple[str, ...] = ()
    promulgated_by: str = ""
    type: str = ""
    state: str = ""
    levels: tuple[str, ...] = ()  # commune, province, ministry, other
    levels_source: str = ""
    decision: str = ""
    sources: tuple[str, ...] = ()
    record_updated: str = ""
    not_receivable: str = ""  # why facts from the sources cannot run a dossier
    notes: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, entry: dict[str, Any]) -> ListedProcedure:
        return cls(
            code=entry["code"],
            name=entry["name"],
            sector=entry.get("sector", ""),
            agencies=tuple(entry.get("agencies", ())),
            promulgated_by=entry.get("promulgated_by", ""),
            type=entry.get("type", ""),
            state=entry.get("state", ""),
            levels=tuple(entry.get("levels", ())),
            levels_source=entry.get("levels_source", ""),
            decision=entry.get("decision", ""),
            sources=tuple(entry.get("sources", ())),
            record_updated=entry.get("record_updated", ""),
            not_receivable=entry.get("not_receivable", ""),
            notes=tuple(entry.get("notes", ())),
        )

    def as_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


def read_facts_files(directory: Path) -> dict[str, dict[str, Any]]:
    """The procedures of every `facts-*.json` in `directory`, by code (raw JSON, with `_file`)."""
    procedures: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("facts-*.json")):
        document = read_json_list(path, "procedures")
        for procedure in document["procedures"]:
            if not isinstance(procedure, dict) or not isinstance(procedure.get("code"), str):
                raise CatalogueError(f"{path.name}: each procedure is an object with a code")
            if procedure["code"] in procedures:
                raise CatalogueError(
                    f"{path.name}: {procedure['code']}: procedure appears in two facts files"
                )
            procedures[procedure["code"]] = {**procedure, "_file": path.name}
    return procedures


def build_version(
    listed: dict[str, Any], code: str, version: dict[str, Any], processes: InternalProcesses
) -> ProcedureVersion:
    """A facts version with the default process of its level (ValidationError if malformed)."""
    facts = dict(version["facts"])
    legal_basis = facts.pop("legal_basis", ())
    level = AuthorityLevel(facts["authority_level"])  # ValueError names an unknown level
    updated = version.get("record_updated")
    fields = {
        "procedure_code": code,
        "procedure_name": listed["name"],
        "sector": listed.get("sector", ""),
        "ministry": listed.get("promulgated_by", ""),
        "version_id": version["version_id"],
        "effective_from": version["effective_from"],
        "effective_to": version.get("effective_to"),
        **facts,
        "steps": [{"id": "placeholder", "name": "placeholder", "role": "specialist"}],
        "provenance": {  # validated with the version, in one call
            "status": "portal",
            "legal_basis": legal_basis,
            "source": PORTAL_DETAILS.id,
            "record_updated": updated,
            "retrieved": PORTAL_DETAILS.retrieved,
            "licence": PORTAL_DETAILS.licence,
        },
    }
    if "decision" not in facts and listed.get("decision"):
        fields["decision"] = listed["decision"]
    parsed = ProcedureVersion.model_validate(fields)
    return InternalProcesses.apply(parsed, processes.default_for(level))


def check_facts(
    listed: dict[str, Any], procedure: dict[str, Any], processes: InternalProcesses | None = None
) -> str:
    """What is wrong with a procedure's facts versions, naming the version and the field; "" if nothing."""
    processes = processes or InternalProcesses.load()
    for version in procedure["versions"]:
        try:
            build_version(listed, procedure["code"], version, processes)
        except ValidationError as err:
            return (
                f"version {version.get('version_id', '?')}: {describe_validation_error(err, whole='version')}"
            )
        except (KeyError, TypeError, ValueError) as err:
            return f"version {version.get('version_id', '?')}: malformed ({err})"
    return ""


def load_national(
    directory: Path, processes: InternalProcesses
) -> tuple[dict[str, ListedProcedure], list[ProcedureVersion]]:
    """The listing and the facts versions of `directory`, all valid, or CatalogueError."""
    listing: dict[str, ListedProcedure] = {}
    raw: dict[str, dict[str, Any]] = {}
    path = directory / _LISTING
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise CatalogueError(f"{path.name}: cannot read: {err}") from err
    try:
        # One parse of the whole file: a third faster than one json.loads per line.
        entries = json.loads("[" + ",".join(lines) + "]")
    except json.JSONDecodeError:
        entries = None
    for number, line in enumerate(lines, start=1):
        try:
            entry = entries[number - 1] if entries is not None else json.loads(line)
            listed = ListedProcedure.from_json(entry)
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise CatalogueError(f"{path.name}: line {number}: malformed entry ({err})") from err
        if listed.code in listing:
            raise CatalogueError(f"{path.name}: line {number}: {listed.code}: listed twice")
        listing[listed.code] = listed
        raw[listed.code] = entry
    versions: list[ProcedureVersion] = []
    for code, procedure in read_facts_files(directory).items():
        if code not in raw:
            raise CatalogueError(f"{procedure['_file']}: {code}: has facts but is not in {_LISTING}")
        for version in procedure.get("versions") or []:
            try:
                versions.append(build_version(raw[code], code, version, processes))
            except ValidationError as err:
                problems = describe_validation_error(err, whole="version")
                raise CatalogueError(
                    f"{procedure['_file']}: {code}: version {version.get('version_id', '?')}: {problems}"
                ) from err
            except (KeyError, TypeError, ValueError) as err:
                raise CatalogueError(f"{procedure['_file']}: {code}: malformed version ({err})") from err
    return listing, versions
