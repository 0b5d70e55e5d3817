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
from sqlalchemy import and_, select

from model.dossier_state import DossierStatus
from records.database import RecordsStore
from records.lookup_secrets import secret_hash, secret_matches
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

    One query, by primary key and unique index: the secret's row, the dossier's, and its
    entries, which are joined only when the secret's hash matches (a wrong secret reads no more
    than an unknown code); only the columns shown. The page is asked by many citizens at once,
    and each round trip to the database waits its turn on a busy server.
    """
    d, e, s = DossierRow, DossierEventRow, LookupSecretRow
    given = secret_hash(secret)
    query = (
        select(s.secret_hash, d.procedure_code, d.status, d.received_at, d.due_at, d.overdue)
        .add_columns(e.at, e.action, e.actor_unit)
        .select_from(s)
        .outerjoin(d, d.code == s.dossier_code)
        .outerjoin(e, and_(e.dossier_code == s.dossier_code, s.secret_hash == given))
        .where(s.dossier_code == code)
        .order_by(e.seq)
    )
    async with records.sessions() as session:
        rows = (await session.execute(query)).all()
    first = rows[0] if rows else None
    # Compared even for an unknown code, so that the answer's time tells nothing.
    if not secret_matches(first.secret_hash if first is not None else None, secret):
        return None
    assert first is not None
    if first.status is None:
        return None  # received, not projected yet: as unknown, for a moment
    return CitizenView(
        code=code,
        procedure_code=first.procedure_code,
        status=first.status,
        status_code=DossierStatus(first.status).portal_code,
        received_at=first.received_at,
        due_at=first.due_at,
        overdue=first.overdue,
        # Only the action, the moment and the office: no officer, no note, no detail.
        steps=[PublicStep(at=r.at, action=r.action, office=r.actor_unit) for r in rows if r.at is not None],
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
