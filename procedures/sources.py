"""The outside sources the catalogue is imported from, and what each may be trusted for.

One record per source: where it came from (repository and commit, as the sources' README
states), when it was crawled, and its licence. Every imported fact names its source by id, so
nothing downstream guesses provenance. The raw files stay outside the repository.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

__all__ = ["PORTAL_DETAILS", "PORTAL_LIST", "MINISTRY_PAGES", "SOURCES", "Source", "default_sources_dir"]


@dataclass(frozen=True)
class Source:
    id: str
    file: str  # relative to the sources directory
    origin: str  # repository and commit the compilation came from
    retrieved: date
    licence: str  # "none": the facts are published by the state, the compilation is a third party's
    trusted_for: str

    def as_json(self) -> dict[str, str]:
        return {
            "id": self.id,
            "file": self.file,
            "origin": self.origin,
            "retrieved": self.retrieved.isoformat(),
            "licence": self.licence,
            "trusted_for": self.trusted_for,
        }


PORTAL_LIST = Source(
    id="portal-list",
    file="national-portal-crawl/catalog.jsonl",
    origin="github.com/VoidKeishi/OpenGOV@feccba6e4bfc",
    retrieved=date(2026, 7, 18),
    licence="none",
    trusted_for="code, name, sector, executing agencies, promulgating body, type, state",
)
PORTAL_DETAILS = Source(
    id="portal-details",
    file="national-portal-crawl/details.jsonl.gz",
    origin="github.com/VoidKeishi/OpenGOV@feccba6e4bfc",
    retrieved=date(2026, 7, 18),
    licence="none",
    trusted_for="levels, per-channel time limits and fees, cases, documents, results, legal bases, dates",
)
MINISTRY_PAGES = Source(
    id="ministry-pages",
    file="ministry-lists/procedure-pages.jsonl.gz",
    origin="github.com/chatbot-tthc/chatbot_tthc@53229487610b",
    retrieved=date(2026, 7, 20),
    licence="none",
    trusted_for="authority level and announcing decision (names, levels, decision numbers; not figures)",
)
SOURCES = (PORTAL_LIST, PORTAL_DETAILS, MINISTRY_PAGES)


def default_sources_dir() -> Path:
    """`../shared/catalogue-sources` beside the repository, where CI and the sessions keep it."""
    return Path(__file__).resolve().parents[2] / "shared" / "catalogue-sources"
