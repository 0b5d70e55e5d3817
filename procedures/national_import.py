"""Import the national sources into `definitions/national/`: the listing and the execution facts.

One reader per source (the portal's list, the portal's records, the ministries' pages), each
naming its source on every entry it contributes. The output is the project's own files:

- `sources.json`: where each source came from (repository and commit), when it was crawled,
  and that the compilation has no licence;
- `listing.jsonl`: every listed procedure, one line each in code order: code, name, sector,
  agencies, promulgating body, type, state, levels and decision where a source gives them,
  the record's own update date, and why it is not receivable when it is not;
- `facts-<sector>.json`: for procedures with a portal record, the versions of their facts.

Versions come from the data: when a record's facts differ from the latest version already in
the output directory, a new version starts on the record's own update date and the previous one
ends there; a version is never rewritten otherwise, so the versions dossiers pinned stay as they
were. Re-importing the same sources writes the same bytes.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from procedures.calendar import VN_TZ
from procedures.catalogue_files import CatalogueError
from procedures.models import DISTRICT_LEVEL_ENDS
from procedures.national_catalogue import check_facts, read_facts_files
from procedures.portal_records import facts_of_record, levels_of_record, record_updated
from procedures.processes import InternalProcesses
from procedures.sources import MINISTRY_PAGES, PORTAL_DETAILS, PORTAL_LIST, SOURCES
from procedures.vietnamese import fold

__all__ = ["ImportProblem", "NationalImport", "import_national", "read_facts_files"]

# The two-level government's lists took effect then; a record's earlier history is not in the data.
FIRST_EFFECTIVE = DISTRICT_LEVEL_ENDS
_MINISTRY_LEVELS = {
    "cap bo": "ministry",
    "cap tinh": "province",
    "cap xa": "commune",
    "co quan khac": "other",
}
_LEVEL_ORDER = ("commune", "province", "ministry", "other")


@dataclass(frozen=True)
class ImportProblem:
    code: str
    message: str


@dataclass
class NationalImport:
    listed: int = 0
    with_facts: int = 0
    new_versions: list[str] = field(default_factory=list)  # version ids added by this run
    problems: list[ImportProblem] = field(default_factory=list)


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as err:
                        raise CatalogueError(f"{path.name}: line {number}: {err}") from err
    except OSError as err:
        raise CatalogueError(f"{path}: cannot read: {err.strerror or err}") from err


def _slug(text: str) -> str:
    return "-".join(re.sub(r"[^a-z0-9]+", " ", fold(text)).split())[:60] or "other"


def _portal_list(sources: Path) -> dict[str, dict[str, Any]]:
    listing: dict[str, dict[str, Any]] = {}
    for row in _lines(sources / PORTAL_LIST.file):
        # Codes are kept as published, even malformed (" 1.014325" is another procedure than
        # "1.014325"): the listing reports them, and only well-formed codes can get versions.
        code = str(row.get("code") or "")
        if not code.strip() or code in listing:
            continue
        categories = [c for c in row.get("categories") or [] if c]
        listing[code] = {
            "code": code,
            "name": " ".join(str(row.get("name") or "").split()),
            "sector": categories[0] if categories else "",
            "agencies": sorted({a.strip() for a in row.get("departments") or [] if a and a.strip()}),
            "promulgated_by": str(row.get("departmentPromulgate") or "").strip(),
            "type": str(row.get("type") or ""),
            "state": str(row.get("state") or ""),
            "sources": [PORTAL_LIST.id],
        }
    return listing


def _ministry_pages(sources: Path) -> dict[str, dict[str, Any]]:
    pages: dict[str, dict[str, Any]] = {}
    for page in _lines(sources / MINISTRY_PAGES.file):
        code = str(page.get("ma_thu_tuc") or "").strip()
        if not code:
            continue
        levels = {
            _MINISTRY_LEVELS.get(" ".join(fold(part).split()))
            for part in str(page.get("cap_thuc_hien") or "").split(",")
        }
        pages[code] = {
            "levels": [lv for lv in _LEVEL_ORDER if lv in levels],
            "decision": " ".join(str(page.get("so_quyet_dinh") or "").split())[:60],
        }
    return pages


def _portal_details(sources: Path) -> dict[str, dict[str, Any]]:
    records: dict[str, dict[str, Any]] = {}
    for line in _lines(sources / PORTAL_DETAILS.file):
        data = line.get("data") if isinstance(line, dict) else None
        if isinstance(data, dict) and data.get("code"):
            records[str(data["code"]).strip()] = data
    return records


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=VN_TZ)


def _versions(
    code: str, facts: dict[str, Any], updated: date | None, previous: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], str | None]:
    """The procedure's versions after this import, and the id of a version it added."""
    if previous and previous[-1]["facts"] == facts:
        return previous, None
    if not previous:
        start = FIRST_EFFECTIVE
    else:
        last_from = datetime.fromisoformat(previous[-1]["effective_from"])
        start = _midnight(updated) if updated else last_from + timedelta(days=1)
        if start <= last_from:
            start = _midnight(last_from.astimezone(VN_TZ).date() + timedelta(days=1))
    version: dict[str, Any] = {
        "version_id": f"{code}@{start:%Y-%m-%d}-portal",
        "effective_from": start.isoformat(),
        "record_updated": updated.isoformat() if updated else None,
        "facts": facts,
    }
    kept = [dict(v) for v in previous]
    if kept:
        kept[-1]["effective_to"] = start.isoformat()  # its facts stay as dossiers pinned them
    return [*kept, version], version["version_id"]


def _facts_file(sector: str, procedures: list[dict[str, Any]]) -> str:
    """A facts file with one version per line: compact, and a changed fact is a one-line diff."""
    head = json.dumps({"sector": sector, "source": PORTAL_DETAILS.id}, ensure_ascii=False)[:-1]
    lines = []
    for procedure in sorted(procedures, key=lambda p: p["code"]):
        versions = ",\n".join(
            "   " + json.dumps(v, ensure_ascii=False, separators=(",", ":")) for v in procedure["versions"]
        )
        name = json.dumps(procedure["name"], ensure_ascii=False)
        lines.append(
            f'  {{"code":{json.dumps(procedure["code"])},"name":{name},"versions":[\n{versions}\n  ]}}'
        )
    return head + ', "procedures": [\n' + ",\n".join(lines) + "\n ]}\n"


def import_national(sources: Path, out_dir: Path) -> NationalImport:
    """Read the sources and (re)write `out_dir`; nothing is written when a problem is found."""
    if not sources.is_dir():
        raise CatalogueError(f"{sources}: not a directory of catalogue sources")
    if out_dir.exists() and not out_dir.is_dir():
        raise CatalogueError(f"{out_dir}: not a directory")
    listing = _portal_list(sources)
    pages = _ministry_pages(sources)
    records = _portal_details(sources)
    previous = read_facts_files(out_dir) if out_dir.is_dir() else {}
    processes = InternalProcesses.load()  # versions are checked as the loader will build them
    result = NationalImport()
    by_sector: dict[str, list[dict[str, Any]]] = {}

    for code in sorted(set(listing) | set(records)):
        entry = listing.get(code) or {"code": code, "name": "", "sector": "", "sources": []}
        page = pages.get(code)
        if page:
            if page["levels"]:
                entry["levels"] = page["levels"]
                entry["levels_source"] = MINISTRY_PAGES.id
            if page["decision"]:
                entry["decision"] = page["decision"]
            entry["sources"] = [*entry["sources"], MINISTRY_PAGES.id]
        record = records.get(code)
        if record is not None:
            portal = facts_of_record(record)
            updated = record_updated(record)
            levels = levels_of_record(record)
            if levels:
                entry["levels"] = levels
                entry["levels_source"] = PORTAL_DETAILS.id
            entry["name"] = entry["name"] or " ".join(str(record.get("name") or "").split())
            category = (record.get("category") or {}).get("name") or ""
            entry["sector"] = entry["sector"] or category
            entry["sources"] = [*entry["sources"], PORTAL_DETAILS.id]
            if updated:
                entry["record_updated"] = updated.isoformat()
            if portal.notes:
                entry["notes"] = portal.notes
            if portal.not_receivable:
                entry["not_receivable"] = portal.not_receivable
            else:
                versions, added = _versions(
                    code, portal.facts, updated, previous.get(code, {}).get("versions", [])
                )
                procedure = {"code": code, "name": entry["name"], "versions": versions}
                problem = check_facts(entry, procedure, processes)
                if problem:
                    result.problems.append(ImportProblem(code, problem))
                    continue
                by_sector.setdefault(entry["sector"] or "Khác", []).append(procedure)
                result.with_facts += 1
                if added and code in previous:
                    result.new_versions.append(added)
        elif code in previous:
            # The record is gone from this crawl: its versions stay, dossiers may have pinned them.
            procedure = {k: v for k, v in previous[code].items() if k != "_file"}
            by_sector.setdefault(entry.get("sector") or "Khác", []).append(procedure)
        if not entry["name"]:
            result.problems.append(ImportProblem(code, "name: missing in every source"))
            continue
        listing[code] = entry
    if result.problems:
        return result
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("facts-*.json"):
        stale.unlink()
    (out_dir / "sources.json").write_text(
        json.dumps({"sources": [s.as_json() for s in SOURCES]}, ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8",
    )
    with open(out_dir / "listing.jsonl", "w", encoding="utf-8") as handle:
        for code in sorted(listing):
            handle.write(json.dumps(listing[code], ensure_ascii=False, separators=(",", ":")) + "\n")
    for sector, procedures in sorted(by_sector.items()):
        (out_dir / f"facts-{_slug(sector)}.json").write_text(
            _facts_file(sector, procedures), encoding="utf-8"
        )
    result.listed = len(listing)
    return result
