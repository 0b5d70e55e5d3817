"""The citizens' lookup: a dossier's code plus the secret printed on its slip.

The secret is issued with the slip, whichever way the dossier was received
(`records/lookup_secrets.py`, called by `IntakeService`); the store keeps only its SHA-256.
What a citizen sees is the status, the appointment and the steps done with the office that did
each, read from the records store (a fraction of a second behind the workflow, and holding no
applicant's data): never a name, a personal ID or an officer's id.
Failed lookups are rate-limited per client address (api/limits.py), so secrets cannot be
guessed online.
"""

from __future__ import annotations

import functools

from pydantic import AwareDatetime, BaseModel
from sqlalchemy import Select, String, and_, bindparam, select

from api.limits import FailureLimiter
from model.dossier_state import DossierStatus
from records.database import RecordsStore
from records.lookup_secrets import secret_hash, secret_matches
from records.staff_tables import LookupSecretRow
from records.tables import DossierEventRow, DossierRow, GroupMemberRow, SatisfactionRatingRow

__all__ = [
    "CitizenGroupView",
    "CitizenMember",
    "CitizenView",
    "LookupLimiter",
    "PublicStep",
    "look_up",
    "look_up_group",
]


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


@functools.cache
def _lookup_statement() -> Select:
    """The lookup's one query, built once (building it cost more than running it): the code
    and the given secret's hash are bound at each call."""
    d, e, s, r = DossierRow, DossierEventRow, LookupSecretRow, SatisfactionRatingRow
    code, given = bindparam("code", type_=String), bindparam("given", type_=String)
    return (
        select(s.secret_hash, d.procedure_code, d.status, d.received_at, d.due_at, d.overdue, r.score)
        .add_columns(e.at, e.action, e.actor_unit)
        .select_from(s)
        .outerjoin(d, d.code == s.dossier_code)
        .outerjoin(r, and_(r.dossier_code == s.dossier_code, s.secret_hash == given))
        .outerjoin(e, and_(e.dossier_code == s.dossier_code, s.secret_hash == given))
        .where(s.dossier_code == code)
        .order_by(e.seq)
    )


async def look_up(records: RecordsStore, code: str, secret: str) -> CitizenView | None:
    """What a citizen may see of the dossier, or None alike for an unknown code, a wrong secret
    and a dossier the records store does not know yet.

    One query, by primary key and unique index: the secret's row, the dossier's, and its
    entries, which are joined only when the secret's hash matches (a wrong secret reads no more
    than an unknown code); only the columns shown. The page is asked by many citizens at once,
    and each round trip to the database waits its turn on a busy server.
    """
    parameters = {"code": code, "given": secret_hash(secret)}
    async with records.reads() as session:
        rows = (await session.execute(_lookup_statement(), parameters)).all()
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
        rating=first.score,
    )


async def look_up_group(records: RecordsStore, code: str, secret: str) -> CitizenGroupView | None:
    """What a citizen may see of an interlinked group with the secret of the group's slip, from
    the records store: the group's rows (its status and appointment as the group last projected
    them) and each started member's own dossier row (fresher: projected at every step); None
    alike for an unknown code, a wrong secret and no group."""
    async with records.reads() as session:
        stored = await session.get(LookupSecretRow, code)
        if not secret_matches(stored.secret_hash if stored is not None else None, secret):
            return None
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


# The lookup's limiter is the API's (api/limits.py), one instance per page kind.
LookupLimiter = FailureLimiter
