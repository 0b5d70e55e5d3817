"""The citizens' lookup secret of each received dossier: made once, at its receipt, for its slip.

The secret is random (10 characters of an alphabet without look-alikes, about 50 bits), so a
plain SHA-256 of it is enough; the store keeps only that. Every way of receiving (the API, the
CLI, the web counter, online submission, the demo) gets its slip from `IntakeService`, which
issues the secret here: one home for the rule "a dossier's slip carries its lookup secret".

An interlinked group's receipt carries one secret, valid for each of its members' codes.

Issued once: the same request sent again finds the dossier and its secret's row, and gets no
new secret (the first slip's stays valid). A secret that could be issued again silently would
let anyone who can resend a counter's request take over a citizen's lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from records.database import insert_for
from records.staff_tables import LookupSecretRow

__all__ = ["SECRET_LENGTH", "LookupSecrets", "secret_hash", "secret_matches"]

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SECRET_LENGTH = 10
# Compared against when the code is unknown, so that the answer's time tells nothing.
_NO_HASH = "0" * 64


def secret_hash(secret: str) -> str:
    """What the store keeps of a secret; a citizen may type it in lower case or with spaces."""
    return hashlib.sha256(secret.strip().upper().encode()).hexdigest()


def secret_matches(stored_hash: str | None, secret: str) -> bool:
    """`secret` against the stored hash (None: no secret for that code), in constant time."""
    return hmac.compare_digest(stored_hash or _NO_HASH, secret_hash(secret)) and stored_hash is not None


class LookupSecrets:
    def __init__(self, engine: AsyncEngine, sessions: async_sessionmaker) -> None:
        self._engine = engine
        self._sessions = sessions

    async def issue_once(self, code: str) -> str | None:
        """A new secret for the dossier's slip, or None when it already has one (a resubmission)."""
        return await self.issue_once_for((code,))

    async def issue_once_for(self, codes: Sequence[str]) -> str | None:
        """One new secret for the dossiers of one slip (an interlinked group's members), or None
        when they already have theirs: all are written in one transaction, or none."""
        secret = "".join(secrets.choice(_ALPHABET) for _ in range(SECRET_LENGTH))
        now, hashed = datetime.now(UTC), secret_hash(secret)
        insert = (
            insert_for(self._engine, LookupSecretRow)
            .values([{"dossier_code": code, "secret_hash": hashed, "created_at": now} for code in codes])
            .on_conflict_do_nothing(index_elements=["dossier_code"])
        )
        async with self._sessions() as session, session.begin():
            inserted = (await session.execute(insert)).rowcount
        return secret if inserted == len(codes) else None

    async def matches(self, code: str, secret: str) -> bool:
        async with self._sessions() as session:
            row = await session.get(LookupSecretRow, code)
        return secret_matches(row.secret_hash if row is not None else None, secret)
