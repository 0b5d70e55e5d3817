"""The citizens' lookup: a dossier's code plus the secret printed on its slip.

The secret is random (10 characters of an alphabet without look-alikes, about 50 bits); the
store keeps only its SHA-256. What a citizen sees is the status, the appointment and the
steps done with the office that did each, read from the records store (a fraction of a second
behind the workflow, and holding no applicant's data): never a name, a personal ID or an
officer's id.
Failed lookups are rate-limited per client address (api/limits.py), so secrets cannot be
guessed online.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from pydantic import AwareDatetime, BaseModel
from sqlalchemy import select

from api.limits import FailureLimiter
from model.dossier_state import DossierStatus
from records.database import RecordsStore, insert_for
from records.staff_tables import LookupSecretRow
from records.tables import DossierEventRow, DossierRow, SatisfactionRatingRow

__all__ = ["CitizenView", "LookupLimiter", "LookupSecrets", "PublicStep"]

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SECRET_LENGTH = 10


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.strip().upper().encode()).hexdigest()


class PublicStep(BaseModel):
    at: AwareDatetime
    action: str
    office: str  # the unit's agency code; the page shows its name


class CitizenView(BaseModel):
    code: str
    procedure_code: str
    status: str
    status_code: int
    received_at: AwareDatetime
    due_at: AwareDatetime
    overdue: bool
    steps: list[PublicStep]
    rating: int | None = None  # the applicant's score, once rated


class LookupSecrets:
    def __init__(self, records: RecordsStore) -> None:
        self._records = records

    async def issue(self, code: str) -> str:
        """A new secret for the dossier's slip (a reprint replaces the one printed before)."""
        secret = "".join(secrets.choice(_ALPHABET) for _ in range(SECRET_LENGTH))
        values = {"dossier_code": code, "secret_hash": _hash(secret), "created_at": datetime.now(UTC)}
        insert = insert_for(self._records.engine, LookupSecretRow).values(**values)
        async with self._records.sessions() as session, session.begin():
            await session.execute(
                insert.on_conflict_do_update(
                    index_elements=["dossier_code"],
                    set_={"secret_hash": values["secret_hash"], "created_at": values["created_at"]},
                )
            )
        return secret

    async def matches(self, code: str, secret: str) -> bool:
        async with self._records.sessions() as session:
            row = await session.get(LookupSecretRow, code)
        # Compared even for an unknown code, so that the answer's time tells nothing.
        stored = row.secret_hash if row is not None else "0" * 64
        return hmac.compare_digest(stored, _hash(secret)) and row is not None

    async def view(self, code: str) -> CitizenView | None:
        """What a citizen may see of the dossier, from the records store (which holds no
        applicant's data and no officer's note); None when it does not know the dossier."""
        async with self._records.sessions() as session:
            row = await session.get(DossierRow, code)
            if row is None:
                return None
            events = (
                await session.execute(
                    select(DossierEventRow.at, DossierEventRow.action, DossierEventRow.actor_unit)
                    .where(DossierEventRow.dossier_code == code)
                    .order_by(DossierEventRow.seq)
                )
            ).all()
            rated = await session.get(SatisfactionRatingRow, code)
        return CitizenView(
            code=row.code,
            procedure_code=row.procedure_code,
            status=row.status,
            status_code=DossierStatus(row.status).portal_code,
            received_at=row.received_at,
            due_at=row.due_at,
            overdue=row.overdue,
            # Only the action, the moment and the office: no officer, no note, no detail.
            steps=[PublicStep(at=e.at, action=e.action, office=e.actor_unit) for e in events],
            rating=rated.score if rated is not None else None,
        )


# The lookup's limiter is the API's (api/limits.py), one instance per page kind.
LookupLimiter = FailureLimiter
