"""The citizens' lookup secret of each received dossier: made once, at its receipt, for its slip.

The secret is random (10 characters of an alphabet without look-alikes, about 50 bits), so a
plain SHA-256 of it is enough; the store keeps only that. Every way of receiving (the API, the
CLI, the web counter, online submission, the demo) gets its slip from `IntakeService`, which
issues the secret here: one home for the rule "a dossier's slip carries its lookup secret".

An interlinked group's receipt carries one secret, valid for each of its members' codes.

Issued once, with one exception: the same request sent again within a few minutes of the first
slip (`REISSUE_WITHIN`: a double click, a browser's resubmission, a client that lost the first
answer) gets a new secret that replaces the first, since the first answer was most likely never
seen (a browser shows only the second page). Later, a resubmission gets none and the first slip's
stays valid: a secret that could be issued again at any time would let whoever resends a
counter's request take over a citizen's lookup for good.

A citizen who lost the slip gets a new secret at the counter (`replace`, called only by
`officers.lookup_secret.reissue_lookup_secret`, which checks who may): unconditional, the old
secret stops working at once, and the reissue is recorded in the same transaction in the
append-only `lookup_secret_reissues` (who, which unit, when, why; never the secret). Its
idempotency key follows the receipt's rule: sent again within `REISSUE_WITHIN` of the reissue
(the answer was lost), a new secret replaces the one just given and no second record is made;
later, the key is refused (`ReissueKeyUsed`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from records.database import insert_for
from records.staff_tables import LookupSecretReissueRow, LookupSecretRow

__all__ = [
    "REISSUE_WITHIN",
    "SECRET_LENGTH",
    "LookupSecrets",
    "Reissue",
    "ReissueKeyUsed",
    "Replaced",
    "secret_hash",
    "secret_matches",
]

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SECRET_LENGTH = 10
REISSUE_WITHIN = timedelta(minutes=10)
# Compared against when the code is unknown, so that the answer's time tells nothing.
_NO_HASH = "0" * 64


@dataclass(frozen=True)
class Reissue:
    """Who issues a dossier's secret again, and why: what `lookup_secret_reissues` records."""

    action_id: str
    officer_id: str
    officer_unit: str
    reason: str


@dataclass(frozen=True)
class Replaced:
    """The new secret (shown once, never stored), when the reissue was recorded, and whether
    this was the same idempotency key sent again (no second record)."""

    secret: str
    reissued_at: datetime
    resent: bool


class ReissueKeyUsed(Exception):
    """The idempotency key already made this dossier's reissue, longer ago than `reissue_within`:
    nothing was changed (a new secret needs a new key)."""

    def __init__(self, code: str, action_id: str, reissued_at: datetime) -> None:
        super().__init__(
            f"the key {action_id!r} issued a new lookup secret for {code} at {reissued_at.isoformat()};"
            " to issue another, send a new key"
        )
        self.reissued_at = reissued_at


def _new_secret() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(SECRET_LENGTH))


def secret_hash(secret: str) -> str:
    """What the store keeps of a secret; a citizen may type it in lower case or with spaces."""
    return hashlib.sha256(secret.strip().upper().encode()).hexdigest()


def secret_matches(stored_hash: str | None, secret: str) -> bool:
    """`secret` against the stored hash (None: no secret for that code), in constant time."""
    return hmac.compare_digest(stored_hash or _NO_HASH, secret_hash(secret)) and stored_hash is not None


class LookupSecrets:
    def __init__(
        self, engine: AsyncEngine, sessions: async_sessionmaker, reissue_within: timedelta = REISSUE_WITHIN
    ) -> None:
        self._engine = engine
        self._sessions = sessions
        self._reissue_within = reissue_within

    async def issue_once(self, code: str) -> str | None:
        """A secret for the dossier's slip, or None for a resubmission after `reissue_within`."""
        return await self.issue_once_for((code,))

    async def issue_once_for(self, codes: Sequence[str]) -> str | None:
        """One secret for the dossiers of one slip (an interlinked group's members): new, or
        replacing one issued less than `reissue_within` ago; None when theirs is older. All are
        written in one transaction, or none."""
        secret = _new_secret()
        now, hashed = datetime.now(UTC), secret_hash(secret)
        row = LookupSecretRow
        insert = (
            insert_for(self._engine, row)
            .values([{"dossier_code": code, "secret_hash": hashed, "created_at": now} for code in codes])
            .on_conflict_do_update(
                index_elements=["dossier_code"],
                # created_at stays the first issue's: the window never slides.
                set_={"secret_hash": hashed},
                where=row.created_at > now - self._reissue_within,
            )
        )
        async with self._sessions() as session, session.begin():
            written = (await session.execute(insert)).rowcount
            if written != len(codes):
                await session.rollback()
                return None
        return secret

    async def replace(self, code: str, reissue: Reissue) -> Replaced:
        """A new secret for dossier `code` whatever its slip had: the old one stops working at
        once. Recorded with `reissue` in the same transaction (both, or neither). Raises
        ReissueKeyUsed for a key that made this dossier's reissue more than `reissue_within` ago."""
        try:
            return await self._replace(code, reissue)
        except IntegrityError:
            # The same key, at the same moment, from another request: that one recorded it.
            return await self._replace(code, reissue)

    async def _replace(self, code: str, reissue: Reissue) -> Replaced:
        secret = _new_secret()
        now, hashed = datetime.now(UTC), secret_hash(secret)
        record = LookupSecretReissueRow
        async with self._sessions() as session, session.begin():
            earlier = await session.scalar(
                select(record.reissued_at).where(
                    record.dossier_code == code, record.action_id == reissue.action_id
                )
            )
            if earlier is not None and earlier <= now - self._reissue_within:
                raise ReissueKeyUsed(code, reissue.action_id, earlier)
            if earlier is None:
                session.add(
                    record(
                        dossier_code=code,
                        action_id=reissue.action_id,
                        officer_id=reissue.officer_id,
                        officer_unit=reissue.officer_unit,
                        reason=reissue.reason,
                        reissued_at=now,
                    )
                )
                await session.flush()
            # created_at stays the receipt's: the receipt's resubmission window never reopens.
            upsert = (
                insert_for(self._engine, LookupSecretRow)
                .values(dossier_code=code, secret_hash=hashed, created_at=now)
                .on_conflict_do_update(index_elements=["dossier_code"], set_={"secret_hash": hashed})
            )
            await session.execute(upsert)
        return Replaced(secret, earlier or now, resent=earlier is not None)

    async def reissues(self, code: str) -> list[LookupSecretReissueRow]:
        """The dossier's recorded reissues, oldest first (for auditors and tests)."""
        record = LookupSecretReissueRow
        async with self._sessions() as session:
            found = await session.scalars(
                select(record).where(record.dossier_code == code).order_by(record.reissued_at, record.id)
            )
            return list(found)

    async def matches(self, code: str, secret: str) -> bool:
        async with self._sessions() as session:
            row = await session.get(LookupSecretRow, code)
        return secret_matches(row.secret_hash if row is not None else None, secret)
