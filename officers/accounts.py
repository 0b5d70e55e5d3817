"""Staff accounts of the web application: created and managed by an operator, checked at sign-in.

Passwords are hashed with argon2 (argon2-cffi's defaults, rehashed when those change). After
`MAX_FAILURES` wrong passwords in a row an account is locked for `LOCKOUT`; a good password
resets the count. Every sign-in, refusal and change is logged, never with the password.
The web application signs an account in as the `Actor` its roles and unit make, the same
identity a token carries, so the policy and the workflow's validator see no difference.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import ValidationError
from sqlalchemy import delete, select

from model.dossier_inputs import Actor
from procedures.models import Role
from records.database import RecordsStore
from records.staff_tables import StaffAccountRow, StaffSessionRow

__all__ = [
    "AccountError",
    "LOCKOUT",
    "MAX_FAILURES",
    "MIN_PASSWORD_LENGTH",
    "SignInRefused",
    "StaffAccounts",
    "actor_of",
]

log = structlog.get_logger("officers.accounts")

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()
# Verified against when the username is unknown, so that a wrong name costs the same time.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class AccountError(ValueError):
    """An operator's account command cannot be done; the message names the field."""


class SignInRefused(Exception):
    """A sign-in is refused; `reason` (unknown, password, locked, disabled) is for the log only:
    the person is told the same thing for an unknown name and a wrong password."""

    def __init__(self, reason: str, username: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.username = username


def _roles_text(roles: tuple[Role, ...]) -> str:
    return ",".join(role.value for role in roles)


def actor_of(row: StaffAccountRow) -> Actor:
    """The identity an account acts as: the same model a token carries."""
    return Actor(
        id=row.username,
        name=row.display_name,
        unit=row.unit,
        roles=tuple(Role(r) for r in row.roles.split(",") if r),
    )


class StaffAccounts:
    """The accounts in the records store; `clock` is replaceable for tests of the lock-out."""

    def __init__(self, records: RecordsStore, clock: Callable[[], datetime] | None = None) -> None:
        self._records = records
        self._clock = clock or (lambda: datetime.now(UTC))

    async def create(
        self, username: str, *, unit: str, roles: tuple[Role, ...], password: str, name: str = ""
    ) -> Actor:
        actor = self._check(username, unit, roles, name)
        _check_password(password)
        now = self._clock()
        async with self._records.sessions() as session, session.begin():
            if await session.get(StaffAccountRow, username) is not None:
                raise AccountError(f"username: {username!r} already exists")
            session.add(
                StaffAccountRow(
                    username=username,
                    display_name=name,
                    unit=unit,
                    roles=_roles_text(roles),
                    password_hash=_hasher.hash(password),
                    disabled=False,
                    failed_attempts=0,
                    created_at=now,
                    password_changed_at=now,
                )
            )
        log.info("staff account created", username=username, unit=unit, roles=_roles_text(roles))
        return actor

    async def set_roles(
        self, username: str, *, roles: tuple[Role, ...] | None = None, unit: str | None = None
    ) -> Actor:
        async with self._records.sessions() as session, session.begin():
            row = await self._row(session, username)
            new_roles = roles if roles is not None else actor_of(row).roles
            actor = self._check(username, unit or row.unit, new_roles, row.display_name)
            row.unit, row.roles = actor.unit, _roles_text(actor.roles)
            await _end_sessions(session, username)  # the next request signs in with the new roles
        log.info("staff account changed", username=username, unit=actor.unit, roles=row.roles)
        return actor

    async def set_disabled(self, username: str, disabled: bool) -> None:
        async with self._records.sessions() as session, session.begin():
            row = await self._row(session, username)
            row.disabled = disabled
            if disabled:
                await _end_sessions(session, username)
        log.info("staff account disabled" if disabled else "staff account enabled", username=username)

    async def reset_password(self, username: str, password: str) -> None:
        """A new password; it also lifts a lock-out and ends the account's sessions."""
        _check_password(password)
        async with self._records.sessions() as session, session.begin():
            row = await self._row(session, username)
            row.password_hash = _hasher.hash(password)
            row.password_changed_at = self._clock()
            row.failed_attempts, row.locked_until = 0, None
            await _end_sessions(session, username)
        log.info("staff password reset", username=username)

    async def list(self) -> list[StaffAccountRow]:
        async with self._records.sessions() as session:
            return list(
                (await session.scalars(select(StaffAccountRow).order_by(StaffAccountRow.username))).all()
            )

    async def authenticate(self, username: str, password: str) -> Actor:
        """The account's identity if the password is right and the account may sign in now;
        SignInRefused otherwise (logged with its reason). A wrong password counts towards the
        lock-out; a locked or disabled account is refused even with the right password."""
        now = self._clock()
        async with self._records.sessions() as session, session.begin():
            row = await session.get(StaffAccountRow, username[:64])
            if row is None:
                _verify(_DUMMY_HASH, password)
                raise self._refused("unknown", username)
            if row.disabled:
                raise self._refused("disabled", username)
            if row.locked_until is not None and row.locked_until > now:
                raise self._refused("locked", username)
            if not _verify(row.password_hash, password):
                row.failed_attempts += 1
                if row.failed_attempts >= MAX_FAILURES:
                    row.locked_until, row.failed_attempts = now + LOCKOUT, 0
                    log.warning("staff account locked", username=username, until=row.locked_until.isoformat())
                await session.commit()
                raise self._refused("password", username)
            row.failed_attempts, row.locked_until = 0, None
            if _hasher.check_needs_rehash(row.password_hash):
                row.password_hash = _hasher.hash(password)
            actor = actor_of(row)
        log.info("staff signed in", username=username, unit=actor.unit)
        return actor

    async def actor(self, username: str) -> Actor | None:
        """The identity of an enabled account, read afresh (a session follows role changes)."""
        async with self._records.sessions() as session:
            row = await session.get(StaffAccountRow, username)
            return None if row is None or row.disabled else actor_of(row)

    @staticmethod
    def _refused(reason: str, username: str) -> SignInRefused:
        log.warning("staff sign-in refused", username=username[:64], reason=reason)
        return SignInRefused(reason, username)

    @staticmethod
    async def _row(session, username: str) -> StaffAccountRow:
        row = await session.get(StaffAccountRow, username)
        if row is None:
            raise AccountError(f"username: no account {username!r}")
        return row

    @staticmethod
    def _check(username: str, unit: str, roles: tuple[Role, ...], name: str) -> Actor:
        if not username or len(username) > 64 or not username.replace("-", "").replace(".", "").isalnum():
            raise AccountError("username: 1-64 letters, digits, '-' or '.'")
        try:
            return Actor(id=username, unit=unit, roles=roles, name=name)
        except ValidationError as err:
            fields = ", ".join(str(e["loc"][0]) for e in err.errors())
            raise AccountError(f"{fields}: not valid for an officer") from err


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password: at least {MIN_PASSWORD_LENGTH} characters")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def _end_sessions(session, username: str) -> None:
    await session.execute(delete(StaffSessionRow).where(StaffSessionRow.username == username))
