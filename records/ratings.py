"""Satisfaction ratings (Decision 766/QĐ-TTg): one per returned dossier, kept once.

The applicant rates after the result is returned; whoever may (the lookup credential) is the
caller's business (api/routes/online.py). Here: the same rating sent again is answered as it
was, another one for the same dossier is refused (`AlreadyRated`), and two concurrent first
ratings end with one row (the primary key decides).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from records.database import RecordsStore
from records.tables import SatisfactionRatingRow

__all__ = ["AlreadyRated", "MAX_COMMENT", "RatedDossier", "Rating", "RatingInput", "rate"]

MAX_COMMENT = 1000  # characters: a few sentences, bounded so nobody stores a document here


class RatingInput(BaseModel):
    """What the applicant gives: a score from 1 (very dissatisfied) to 5 and an optional comment."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    score: int = Field(ge=1, le=5, strict=True)
    comment: str | None = Field(default=None, min_length=1, max_length=MAX_COMMENT)

    def content_hash(self) -> str:
        text = json.dumps({"score": self.score, "comment": self.comment}, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class RatedDossier:
    """The dossier's facts a rating is reported under, from its view at the rating."""

    code: str
    handling_unit: str
    receiving_unit: str
    procedure_code: str
    channel: str


class Rating(BaseModel):
    dossier_code: str
    score: int
    rated_at: AwareDatetime
    repeated: bool  # True: this very rating was already recorded (a retry)


class AlreadyRated(Exception):
    """The dossier was rated before with another score or comment; ratings are not changed."""


async def rate(
    store: RecordsStore,
    dossier: RatedDossier,
    rating: RatingInput,
    sealed_comment: bytes | None,
    now: datetime,
) -> Rating:
    """Record `rating` for `dossier` once. Raises AlreadyRated for a different second rating."""
    fingerprint = rating.content_hash()
    row = SatisfactionRatingRow(
        dossier_code=dossier.code,
        score=rating.score,
        comment_sealed=sealed_comment,
        content_hash=fingerprint,
        handling_unit=dossier.handling_unit,
        receiving_unit=dossier.receiving_unit,
        procedure_code=dossier.procedure_code,
        channel=dossier.channel,
        rated_at=now,
    )
    try:
        async with store.sessions() as session:
            session.add(row)
            await session.commit()
        return Rating(dossier_code=dossier.code, score=rating.score, rated_at=now, repeated=False)
    except IntegrityError:
        pass  # rated before (or at the same moment): compare with what is kept
    async with store.sessions() as session:
        kept = await session.get(SatisfactionRatingRow, dossier.code)
    if kept is None or kept.content_hash != fingerprint:
        raise AlreadyRated(f"dossier {dossier.code} was already rated; a rating is given once")
    return Rating(dossier_code=dossier.code, score=kept.score, rated_at=kept.rated_at, repeated=True)
