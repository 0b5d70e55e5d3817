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
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from records.database import insert_for
from records.staff_tables import LookupSecretRow

__all__ = ["REISSUE_WITHIN", "SECRET_LENGTH", "LookupSecrets", "secret_hash", "secret_matches"]

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SECRET_LENGTH = 10
REISSUE_WITHIN = timedelta(minutes=10)
# Compared against when the code is unknown, so that the answer's time tells nothing.
_NO_HASH = "0" * 64


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
        secret = "".join(secrets.choice(_ALPHABET) for _ in range(SECRET_LENGTH))
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

    async def matches(self, code: str, secret: str) -> bool:
        async with self._sessions() as session:
            row = await session.get(LookupSecretRow, code)
        return secret_matches(row.secret_hash if row is not None else None, secret)
