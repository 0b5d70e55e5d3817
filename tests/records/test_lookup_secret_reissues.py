"""`LookupSecrets.replace`: a new secret whatever the slip had, recorded append-only."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from records.lookup_secrets import LookupSecrets, Reissue, ReissueKeyUsed
from records.staff_tables import LookupSecretReissueRow

UNIT = "000.00004.01.H01"


def code() -> str:
    return f"{UNIT}-990101-{uuid.uuid4().int % 10_000:04d}{uuid.uuid4().hex[:4]}"


def reissue(key: str) -> Reissue:
    return Reissue(action_id=key, officer_id="c-own", officer_unit=UNIT, reason="mất phiếu hẹn")


class TestReplace:
    async def test_replaces_even_past_the_receipts_window(self, records):
        """issue_once gives none after its window; replace still gives a new secret, the old one
        stops matching, and one record is made."""
        secrets = LookupSecrets(records.engine, records.sessions, reissue_within=timedelta(0))
        dossier = code()
        first = await secrets.issue_once(dossier)
        assert first is not None and await secrets.issue_once(dossier) is None
        replaced = await secrets.replace(dossier, reissue("k1"))
        assert not replaced.resent and replaced.secret != first
        assert await secrets.matches(dossier, replaced.secret)
        assert not await secrets.matches(dossier, first)
        assert [r.action_id for r in await secrets.reissues(dossier)] == ["k1"]

    async def test_a_dossier_without_a_secret_gets_one(self, records):
        """A dossier received before secrets existed has no row: replace creates it."""
        secrets = LookupSecrets(records.engine, records.sessions)
        dossier = code()
        replaced = await secrets.replace(dossier, reissue("k1"))
        assert await secrets.matches(dossier, replaced.secret)

    async def test_the_same_key_within_the_window_and_after_it(self, records):
        """Within the window: another new secret, no second record; after it: ReissueKeyUsed,
        nothing changed."""
        secrets = LookupSecrets(records.engine, records.sessions)
        dossier = code()
        first = await secrets.replace(dossier, reissue("k1"))
        again = await secrets.replace(dossier, reissue("k1"))
        assert again.resent and again.secret != first.secret and again.reissued_at == first.reissued_at
        assert len(await secrets.reissues(dossier)) == 1
        later = LookupSecrets(records.engine, records.sessions, reissue_within=timedelta(0))
        with pytest.raises(ReissueKeyUsed):
            await later.replace(dossier, reissue("k1"))
        assert await secrets.matches(dossier, again.secret)
        assert len(await secrets.reissues(dossier)) == 1

    async def test_the_record_refuses_updates_and_deletes(self, records):
        """Only inserts reach lookup_secret_reissues: database guards refuse UPDATE and DELETE."""
        secrets = LookupSecrets(records.engine, records.sessions)
        dossier = code()
        await secrets.replace(dossier, reissue("k1"))
        row = LookupSecretReissueRow
        for statement in (
            update(row).where(row.dossier_code == dossier).values(reason="x"),
            text("DELETE FROM lookup_secret_reissues WHERE dossier_code = :code"),
        ):
            with pytest.raises((DBAPIError, IntegrityError), match="append-only"):
                async with records.sessions() as session:
                    await session.execute(statement, {"code": dossier})
                    await session.commit()
        [kept] = await secrets.reissues(dossier)
        assert kept.reason == "mất phiếu hẹn"
