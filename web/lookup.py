"""The citizens' lookup: a dossier's code plus the secret printed on its slip.

The secret is issued with the slip, whichever way the dossier was received
(`records/lookup_secrets.py`, called by `IntakeService`); the store keeps only its SHA-256.
What a citizen sees is the status, the appointment and the steps done with the office that did
each, read from the records store (a fraction of a second behind the workflow, and holding no
applicant's data): never a name, a personal ID or an officer's id.
Failed lookups are rate-limited per client address, so secrets cannot be guessed online.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import AwareDatetime, BaseModel
from sqlalchemy import select

from model.dossier_state import DossierStatus
from records.database import RecordsStore
from records.lookup_secrets import secret_matches
from records.staff_tables import LookupSecretRow
from records.tables import DossierEventRow, DossierRow

__all__ = ["CitizenView", "LookupLimiter", "PublicStep", "look_up"]


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


async def look_up(records: RecordsStore, code: str, secret: str) -> CitizenView | None:
    """What a citizen may see of the dossier, or None alike for an unknown code, a wrong secret
    and a dossier the records store does not know yet.

    Two queries by primary key or unique index (the secret with the dossier's row, then its
    entries), only the columns shown: the page is asked by many citizens at once.
    """
    d = DossierRow
    query = (
        select(LookupSecretRow.secret_hash, d.procedure_code, d.status, d.received_at, d.due_at, d.overdue)
        .select_from(LookupSecretRow)
        .outerjoin(d, d.code == LookupSecretRow.dossier_code)
        .where(LookupSecretRow.dossier_code == code)
    )
    async with records.sessions() as session:
        row = (await session.execute(query)).first()
        # Compared even for an unknown code, so that the answer's time tells nothing.
        if not secret_matches(row.secret_hash if row is not None else None, secret):
            return None
        assert row is not None
        if row.status is None:
            return None  # received, not projected yet: as unknown, for a moment
        events = (
            await session.execute(
                select(DossierEventRow.at, DossierEventRow.action, DossierEventRow.actor_unit)
                .where(DossierEventRow.dossier_code == code)
                .order_by(DossierEventRow.seq)
            )
        ).all()
    return CitizenView(
        code=code,
        procedure_code=row.procedure_code,
        status=row.status,
        status_code=DossierStatus(row.status).portal_code,
        received_at=row.received_at,
        due_at=row.due_at,
        overdue=row.overdue,
        # Only the action, the moment and the office: no officer, no note, no detail.
        steps=[PublicStep(at=e.at, action=e.action, office=e.actor_unit) for e in events],
    )


@dataclass
class LookupLimiter:
    """At most `failures` failed lookups per client address in `window` seconds (then 429)."""

    failures: int = 10
    window: float = 600.0
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self._failed: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, client: str) -> deque[float]:
        failed = self._failed[client]
        while failed and failed[0] <= self.clock() - self.window:
            failed.popleft()
        return failed

    def blocked(self, client: str) -> bool:
        return len(self._recent(client)) >= self.failures

    def failed(self, client: str) -> None:
        self._recent(client).append(self.clock())
