"""Staff accounts of the web application: argon2 hashes, lock-out, roles, disabling, resets,
and the operator's `starter.py staff` commands."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, datetime

import pytest

import starter
from officers.accounts import LOCKOUT, MAX_FAILURES, AccountError, SignInRefused, StaffAccounts
from procedures.models import Role
from records.staff_tables import StaffAccountRow
from runtime.settings import Settings
from tests.builders import BA_DINH_COMMITTEE
from web.sessions import SESSION_TTL, WebSessions

PASSWORD = "mot-mat-khau-dai"


def name() -> str:
    return f"staff-{uuid.uuid4().hex[:8]}"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


class TestAccounts:
    async def test_the_password_is_kept_as_an_argon2_hash(self, records):
        username = name()
        await StaffAccounts(records).create(
            username, unit=BA_DINH_COMMITTEE, roles=(Role.LEADER,), password=PASSWORD
        )
        async with records.sessions() as session:
            row = await session.get(StaffAccountRow, username)
        assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash

    async def test_bad_fields_are_named(self, records):
        accounts = StaffAccounts(records)
        with pytest.raises(AccountError, match="password"):
            await accounts.create(name(), unit=BA_DINH_COMMITTEE, roles=(Role.LEADER,), password="short")
        with pytest.raises(AccountError, match="username"):
            await accounts.create("a b", unit=BA_DINH_COMMITTEE, roles=(Role.LEADER,), password=PASSWORD)
        username = name()
        await accounts.create(username, unit=BA_DINH_COMMITTEE, roles=(Role.LEADER,), password=PASSWORD)
        with pytest.raises(AccountError, match="already exists"):
            await accounts.create(username, unit=BA_DINH_COMMITTEE, roles=(Role.LEADER,), password=PASSWORD)

    async def test_locked_after_repeated_failures_until_the_lockout_passes(self, records):
        clock = Clock()
        accounts, username = StaffAccounts(records, clock), name()
        await accounts.create(username, unit=BA_DINH_COMMITTEE, roles=(Role.SPECIALIST,), password=PASSWORD)
        for _ in range(MAX_FAILURES):
            with pytest.raises(SignInRefused) as refused:
                await accounts.authenticate(username, "wrong-password")
            assert refused.value.reason == "password"
        with pytest.raises(SignInRefused) as refused:
            await accounts.authenticate(username, PASSWORD)
        assert refused.value.reason == "locked"
        clock.now += LOCKOUT
        officer = await accounts.authenticate(username, PASSWORD)
        assert officer.id == username and officer.roles == (Role.SPECIALIST,)

    async def test_a_reset_lifts_the_lock_and_ends_the_sessions(self, records):
        accounts, sessions, username = StaffAccounts(records), WebSessions(records), name()
        await accounts.create(username, unit=BA_DINH_COMMITTEE, roles=(Role.SPECIALIST,), password=PASSWORD)
        cookie, _ = await sessions.start(username)
        for _ in range(MAX_FAILURES):
            with pytest.raises(SignInRefused):
                await accounts.authenticate(username, "wrong-password")
        await accounts.reset_password(username, "un-mat-khau-moi")
        assert await sessions.find(cookie) is None
        assert (await accounts.authenticate(username, "un-mat-khau-moi")).id == username

    async def test_roles_and_unit_change_and_a_disabled_account_is_refused(self, records):
        accounts, sessions, username = StaffAccounts(records), WebSessions(records), name()
        await accounts.create(username, unit=BA_DINH_COMMITTEE, roles=(Role.SPECIALIST,), password=PASSWORD)
        cookie, _ = await sessions.start(username)
        await accounts.set_roles(username, roles=(Role.SPECIALIST, Role.LEADER), unit="000.00008.00.H01")
        assert await sessions.find(cookie) is None  # signed in again, with the new roles
        officer = await accounts.actor(username)
        assert officer.roles == (Role.SPECIALIST, Role.LEADER) and officer.unit == "000.00008.00.H01"
        cookie, _ = await sessions.start(username)
        assert (await sessions.signed_in(cookie))[1] == officer
        await accounts.set_disabled(username, True)
        assert await accounts.actor(username) is None
        assert await sessions.signed_in(cookie) is None
        with pytest.raises(SignInRefused) as refused:
            await accounts.authenticate(username, PASSWORD)
        assert refused.value.reason == "disabled"


class TestSessions:
    async def test_an_expired_session_is_not_found(self, records):
        clock = Clock()
        sessions = WebSessions(records, clock)
        cookie, session = await sessions.start("someone")
        assert await sessions.find(cookie) == session
        clock.now += SESSION_TTL
        assert await sessions.find(cookie) is None
        assert await sessions.signed_in(cookie) is None


@pytest.fixture
def settings(tmp_path, records) -> Settings:
    url = records.engine.url.render_as_string(hide_password=False)
    return Settings.from_env({"DATA_DIR": str(tmp_path), "DATABASE_URL": url})


class TestStaffCommands:
    async def test_the_operator_manages_an_account(self, settings, capsys, monkeypatch):
        username = name()
        monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
        create = [
            "staff",
            "create",
            username,
            "--unit",
            BA_DINH_COMMITTEE,
            "--roles",
            "leader",
            "--password-file",
            "-",
        ]
        assert await starter.main(create, None, settings) == 0
        assert (
            await starter.main(
                ["staff", "set-roles", username, "--roles", "leader,specialist"], None, settings
            )
            == 0
        )
        assert await starter.main(["staff", "disable", username], None, settings) == 0
        capsys.readouterr()
        assert await starter.main(["staff", "list"], None, settings) == 0
        listed = {a["username"]: a for a in json.loads(capsys.readouterr().out)}
        assert listed[username]["roles"] == ["leader", "specialist"] and listed[username]["disabled"]
        monkeypatch.setattr("sys.stdin", io.StringIO("mat-khau-moi-1234\n"))
        assert (
            await starter.main(["staff", "reset-password", username, "--password-file", "-"], None, settings)
            == 0
        )

    async def test_bad_input_exits_2_naming_the_field(self, settings, capsys, monkeypatch):
        monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
        create = [
            "staff",
            "create",
            name(),
            "--unit",
            BA_DINH_COMMITTEE,
            "--roles",
            "leader",
            "--password-file",
            "-",
        ]
        assert await starter.main(create, None, settings) == 2
        assert "password" in capsys.readouterr().err
        assert await starter.main(["staff", "disable", "nobody-at-all"], None, settings) == 2
        assert "username" in capsys.readouterr().err
