"""Server-side sessions of signed-in staff, and the CSRF token each one carries.

The cookie holds a random id only (HttpOnly, SameSite=Strict, Secure behind TLS); the store
keeps its SHA-256, the account's name and the session's CSRF token, so a stolen database
gives no usable cookie. Every form of a signed-in page carries the CSRF token; a post whose
token differs from the session's is refused. The sign-in form, before any session, uses the
double-submit pattern: a random cookie and the same value in the form.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, String, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from model.dossier_inputs import Actor
from officers.accounts import actor_of
from records.database import RecordsStore
from records.staff_tables import StaffAccountRow, StaffSessionRow

__all__ = ["SESSION_COOKIE", "SIGN_IN_COOKIE", "SESSION_TTL", "Session", "WebSessions", "same_token"]

SESSION_COOKIE = "onestop_session"
SIGN_IN_COOKIE = "onestop_signin_csrf"
# A working day, as for API tokens (API_TOKEN_MAX_HOURS).
SESSION_TTL = timedelta(hours=8)


@dataclass(frozen=True)
class Session:
    username: str
    csrf_token: str


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def same_token(expected: str | None, given: str | None) -> bool:
    """A constant-time comparison of two CSRF tokens; absent or empty ones never match."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


@functools.cache
def _signed_in_statement() -> Select:
    """Every staff page's first query, built once: the cookie's hash and the moment are bound
    at each call."""
    return (
        select(StaffSessionRow, StaffAccountRow)
        .join(StaffAccountRow, StaffAccountRow.username == StaffSessionRow.username)
        .where(StaffSessionRow.id_hash == bindparam("id_hash", type_=String))
        .where(StaffSessionRow.expires_at > bindparam("now", type_=StaffSessionRow.expires_at.type))
        .where(StaffAccountRow.disabled.is_(False))
    )


class WebSessions:
    def __init__(self, records: RecordsStore, clock: Callable[[], datetime] | None = None) -> None:
        self._records = records
        self._clock = clock or (lambda: datetime.now(UTC))

    async def start(self, username: str) -> tuple[str, Session]:
        """A new session for `username`: the cookie's value, and the session."""
        cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self._clock()
        async with self._records.sessions() as session, session.begin():
            # Expired sessions go as new ones come, so the table never outgrows the staff.
            await session.execute(delete(StaffSessionRow).where(StaffSessionRow.expires_at < now))
            session.add(
                StaffSessionRow(
                    id_hash=_hash(cookie),
                    username=username,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=now + SESSION_TTL,
                )
            )
        return cookie, Session(username, csrf)

    async def find(self, cookie: str | None) -> Session | None:
        if not cookie or len(cookie) > 100:
            return None
        async with self._records.reads() as session:
            row = await session.get(StaffSessionRow, _hash(cookie))
        if row is None or row.expires_at <= self._clock():
            return None
        return Session(row.username, row.csrf_token)

    async def signed_in(
        self, cookie: str | None, reads: AsyncSession | None = None
    ) -> tuple[Session, Actor] | None:
        """The session and its account's identity, in one query (every staff page asks), read
        through `reads` if given (a page's own read session) else a read session of its own:
        None for no session, an expired one, or a disabled account."""
        if not cookie or len(cookie) > 100:
            return None
        parameters = {"id_hash": _hash(cookie), "now": self._clock()}
        if reads is not None:
            found = (await reads.execute(_signed_in_statement(), parameters)).first()
        else:
            async with self._records.reads() as session:
                found = (await session.execute(_signed_in_statement(), parameters)).first()
        if found is None:
            return None
        row, account = found
        return Session(row.username, row.csrf_token), actor_of(account)

    async def end(self, cookie: str | None) -> None:
        if not cookie:
            return
        async with self._records.sessions() as session, session.begin():
            await session.execute(delete(StaffSessionRow).where(StaffSessionRow.id_hash == _hash(cookie)))
