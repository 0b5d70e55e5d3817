"""The citizens' lookup: a dossier's code plus the secret printed on its slip.

The secret is random (10 characters of an alphabet without look-alikes, about 50 bits); the
store keeps only its SHA-256. What a citizen sees is the status, the appointment and the
steps done with the office that did each, read from the records store (a fraction of a second
behind the workflow, and holding no applicant's data): never a name, a personal ID or an
officer's id.
Failed lookups are rate-limited per client address, so secrets cannot be guessed online.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import AwareDatetime, BaseModel
from sqlalchemy import select

from model.dossier_state import DossierStatus
from records.database import RecordsStore, insert_for
from records.staff_tables import LookupSecretRow
from records.tables import DossierEventRow, DossierRow, GroupMemberRow

__all__ = ["CitizenGroupView", "CitizenMember", "CitizenView", "LookupLimiter", "LookupSecrets", "PublicStep"]

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


class CitizenMember(BaseModel):
    key: str
    code: str
    procedure_code: str  # "" while the member waits for the results it needs
    office: str  # the agency doing this part; the page shows its name
    status: str  # its dossier's status, or waiting / stopped
    due_at: AwareDatetime | None = None


class CitizenGroupView(BaseModel):
    """What a citizen may see of an interlinked group: its state and each part's progress."""

    code: str
    group_kind: str
    status: str
    received_at: AwareDatetime
    due_at: AwareDatetime
    overdue: bool
    members: list[CitizenMember]


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
        )

    async def group_view(self, code: str) -> CitizenGroupView | None:
        """What a citizen may see of an interlinked group, from the records store: the group's
        rows (its status and appointment as the group last projected them) and each started
        member's own dossier row (fresher: projected at every step); None for no group."""
        async with self._records.sessions() as session:
            rows = (
                await session.scalars(
                    select(GroupMemberRow)
                    .where(GroupMemberRow.group_code == code)
                    .order_by(GroupMemberRow.dossier_code)
                )
            ).all()
            if not rows:
                return None
            dossiers = {
                row.code: row
                for row in (
                    await session.scalars(
                        select(DossierRow).where(DossierRow.code.in_([r.dossier_code for r in rows]))
                    )
                ).all()
            }
        members = []
        for row in rows:
            dossier = dossiers.get(row.dossier_code)
            members.append(
                CitizenMember(
                    key=row.member_key,
                    code=row.dossier_code,
                    procedure_code=dossier.procedure_code if dossier else "",
                    office=row.handling_unit,
                    status=dossier.status if dossier else row.status,
                    due_at=dossier.due_at if dossier else None,
                )
            )
        first = rows[0]
        return CitizenGroupView(
            code=code,
            group_kind=first.group_kind,
            status=first.group_status,
            received_at=first.received_at,
            due_at=first.group_due_at,
            overdue=any(r.late for r in rows),
            members=members,
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
