"""Online submission and satisfaction through the API: files by hash, status 1, the counter's
check, the online completion, retries under one idempotency key, and the applicant's rating."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from adminunits import VN_TZ
from api import create_app
from api.limits import FailureLimiter
from audit.reports import ReportQuery, report
from intake.service import IntakeService
from model.dossier_inputs import Actor, CompleteStepInput
from procedures.models import Role
from records.lookup_secrets import SECRET_LENGTH, LookupSecrets
from records.tables import DossierRow, SatisfactionRatingRow
from runtime.settings import Settings
from tests.api.conftest import KEY, Api
from tests.api.test_authorization import OFFICERS, RECEIVE_BODY
from tests.builders import APPLICANT, BA_DINH_COMMITTEE, LEADER, SPECIALIST, Counter, settled
from workflows.dossier import DossierWorkflow

pytestmark = pytest.mark.usefixtures("worker")

ONLINE = Actor(id="dvc-portal", roles=(Role.ONLINE_SERVICE,), unit="000.00.00.H01")
COUNTER = OFFICERS["counter/own"]
MAX_FILE = 4096
PDF = b"%PDF-1.7\n" + b"declaration scan " * 40
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@pytest_asyncio.fixture
async def online(env, task_queue, records, counter: Counter, tmp_path: Path) -> AsyncIterator[Api]:
    """The API with a small file cap, so that a too-large file is cheap to send."""
    clock = [datetime.now(VN_TZ)]
    settings = Settings.from_env(
        {"DATA_DIR": str(tmp_path), "TASK_QUEUE": task_queue, "ONLINE_FILE_MAX_BYTES": str(MAX_FILE)}
    )
    intake = IntakeService.standard(env.client, task_queue, records, clock=lambda: clock[0])
    app = create_app(env.client, records, settings, intake=intake, key=KEY)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
        yield Api(counter, http, clock, records)


async def upload(api: Api, content: bytes, content_type: str = "application/pdf", name: str | None = None):
    return await api.http.put(
        f"/online/files/{name or sha(content)}",
        content=content,
        headers={**api.auth(ONLINE), "Content-Type": content_type},
    )


def submission(reference: str | None = None, **changes) -> dict:
    body = {
        **json.loads(json.dumps(RECEIVE_BODY)),
        "documents": [{"id": "declaration", "reference": reference or f"sha256:{sha(PDF)}"}],
    }
    return {**body, **changes}


async def submit(api: Api, body: dict, key: str | None = None) -> httpx.Response:
    api._clock[0] = (await api.env.get_current_time()).astimezone(VN_TZ)
    headers = api.auth(ONLINE) | ({"Idempotency-Key": key} if key else {})
    response = await api.http.post("/online/dossiers", json=body, headers=headers)
    if response.status_code == 201:
        api.counter.started.append(response.json()["dossier_code"])
    return response


def key() -> str:
    return f"online-{uuid.uuid4()}"


class TestFiles:
    async def test_a_file_is_stored_once_under_its_hash(self, online, tmp_path):
        """201 then 200 for the same content; the file sits under its SHA-256."""
        first, again = await upload(online, PDF), await upload(online, PDF)
        assert (first.status_code, again.status_code) == (201, 200), first.text
        assert first.json()["reference"] == f"sha256:{sha(PDF)}"
        assert (tmp_path / "online-files" / sha(PDF)[:2] / sha(PDF)).read_bytes() == PDF

    async def test_bad_files_are_refused_and_not_kept(self, online, tmp_path):
        """Hash mismatch 422, an undeclared or disguised type 415, too large 413: nothing written."""
        mismatch = await upload(online, PDF, name=sha(b"other content"))
        assert (mismatch.status_code, mismatch.json()["type"]) == (422, "HashMismatch")
        text = await upload(online, b"plain words", content_type="text/plain")
        assert (text.status_code, text.json()["type"]) == (415, "UnsupportedFileType")
        disguised = await upload(online, PNG, content_type="application/pdf")
        assert (disguised.status_code, disguised.json()["type"]) == (415, "UnsupportedFileType")
        big = b"%PDF-" + b"x" * MAX_FILE
        too_large = await upload(online, big)
        assert too_large.status_code == 413
        assert not (tmp_path / "online-files").exists() or not any((tmp_path / "online-files").rglob("*"))

    async def test_only_an_online_service_uploads(self, online):
        """A counter officer's token is refused (403 WrongRole)."""
        response = await online.http.put(
            f"/online/files/{sha(PDF)}",
            content=PDF,
            headers={**online.auth(COUNTER), "Content-Type": "application/pdf"},
        )
        assert (response.status_code, response.json()["type"]) == (403, "WrongRole")


class TestSubmission:
    async def test_submitted_online_is_status_1_and_a_retry_finds_the_same_dossier(self, online, records):
        """201 status 1 with the check's deadline; the same key and content again: 200, one dossier."""
        await upload(online, PDF)
        idempotency = key()
        first = await submit(online, submission(), idempotency)
        again = await submit(online, submission(), idempotency)
        assert (first.status_code, again.status_code) == (201, 200), first.text
        registration = first.json()
        assert (
            registration["status_code"] == 1 and again.json()["dossier_code"] == registration["dossier_code"]
        )
        assert first.headers["location"] == f"/dossiers/{registration['dossier_code']}"
        # The applicant's lookup secret; the retry at once (the first answer lost) gets a new one
        # that replaces it.
        secret = again.json()["lookup_secret"]
        assert len(registration["lookup_secret"]) == SECRET_LENGTH and secret != registration["lookup_secret"]
        secrets = LookupSecrets(records.engine, records.sessions)
        assert await secrets.matches(registration["dossier_code"], secret)
        assert not await secrets.matches(registration["dossier_code"], registration["lookup_secret"])
        view = await settled(online.counter.handle(registration["dossier_code"]))
        assert view.status == "registered_online"
        async with records.sessions() as session:
            rows = (
                await session.scalars(
                    select(DossierRow).where(DossierRow.code == registration["dossier_code"])
                )
            ).all()
        assert [(r.channel, r.status) for r in rows] == [("online", "registered_online")]

    async def test_the_same_key_for_another_submission_is_409(self, online):
        """Another applicant under a used key is refused, naming the key; nothing else starts."""
        await upload(online, PDF)
        idempotency = key()
        assert (await submit(online, submission(), idempotency)).status_code == 201
        other = submission()
        other["applicant"]["full_name"] = "Trần Thị Bình"
        response = await submit(online, other, idempotency)
        assert (response.status_code, response.json()["type"]) == (409, "RequestIdConflict")

    async def test_without_its_file_or_its_key_nothing_starts(self, online):
        """A document whose file was not uploaded: 422 naming documents.0.reference; no key: 422."""
        missing = await submit(online, submission(f"sha256:{sha(b'never uploaded')}"), key())
        assert missing.status_code == 422
        assert [p["field"] for p in missing.json()["problems"]] == ["documents.0.reference"]
        await upload(online, PDF)
        no_key = await submit(online, submission())
        assert no_key.status_code == 422 and "Idempotency-Key" in no_key.text

    async def test_the_counters_checks_apply_online_too(self, online):
        """Missing required documents: form 02; an unknown counter: form 03, as at the counter."""
        await upload(online, PDF)
        form02 = await submit(online, submission(documents=[]), key())
        assert (form02.status_code, form02.json()["form"]) == (422, "02")
        form03 = await submit(online, submission(receiving_unit="000.99999.01.H01"), key())
        assert (form03.status_code, form03.json()["form"]) == (422, "03")


class TestCounterCheck:
    async def test_asked_completed_online_then_received_by_the_counter(self, online):
        """Form 02 through the counter's action route, the completion through the online route
        (its file checked), then the receipt: processing, and a retried receipt changes nothing."""
        await upload(online, PDF)
        code = (await submit(online, submission(), key())).json()["dossier_code"]
        asked = await online.act(
            COUNTER,
            code,
            "request_online_completion",
            {"reason": "scan unreadable", "documents": ["declaration"]},
            {"Idempotency-Key": f"{code}-ask"},
        )
        assert asked.status_code == 200 and asked.json()["status"] == "online_incomplete", asked.text

        rescan = PDF + b" rescanned"
        completion = {"documents": [{"id": "declaration", "reference": f"sha256:{sha(rescan)}"}]}
        headers = {**online.auth(ONLINE), "Idempotency-Key": f"{code}-complete"}
        not_uploaded = await online.http.post(
            f"/online/dossiers/{code}/completion", json=completion, headers=headers
        )
        assert not_uploaded.status_code == 422
        await upload(online, rescan)
        completed = await online.http.post(
            f"/online/dossiers/{code}/completion", json=completion, headers=headers
        )
        assert completed.status_code == 200 and completed.json()["status"] == "registered_online", (
            completed.text
        )
        # The generic action route does not take the completion: it would skip the file check.
        generic = await online.act(ONLINE, code, "complete_online", completion, {"Idempotency-Key": "x"})
        assert generic.status_code == 404

        for _ in range(2):
            received = await online.act(
                COUNTER, code, "receive_online", {}, {"Idempotency-Key": f"{code}-rcv"}
            )
            assert received.status_code == 200 and received.json()["status"] == "processing", received.text
        timeline = [e["action"] for e in received.json()["timeline"]]
        assert timeline.count("received") == 1

    async def test_another_units_counter_cannot_check(self, online):
        """The check is the receiving unit's: another counter gets 403 WrongUnit."""
        await upload(online, PDF)
        code = (await submit(online, submission(), key())).json()["dossier_code"]
        response = await online.act(
            OFFICERS["counter/other"], code, "receive_online", {}, {"Idempotency-Key": f"{code}-rcv"}
        )
        assert (response.status_code, response.json()["type"]) == (403, "WrongUnit")


async def returned_dossier(api: Api) -> str:
    """A dossier submitted online, received, handled and returned."""
    await upload(api, PDF)
    code = (await submit(api, submission(), key())).json()["dossier_code"]
    await api.act(COUNTER, code, "receive_online", {}, {"Idempotency-Key": f"{code}-rcv"})
    handle = api.counter.handle(code)
    for actor, step in ((SPECIALIST, "review"), (LEADER, "approve")):
        await handle.execute_update(
            DossierWorkflow.complete_step,
            CompleteStepInput(actor=actor, action_id=f"{code}-{step}", step_id=step),
        )
    returned = await api.act(COUNTER, code, "return_result", {}, {"Idempotency-Key": f"{code}-return"})
    assert returned.status_code == 200, returned.text
    return code


class TestRating:
    async def test_rated_once_with_the_lookup_credential_and_reported(self, online, records):
        """201, the same rating again 200, another 409; the comment sealed; in the unit's report."""
        code = await returned_dossier(online)
        body = {"personal_id": APPLICANT.personal_id, "score": 4, "comment": "Cán bộ nhiệt tình"}
        first = await online.http.post(f"/online/dossiers/{code}/rating", json=body)
        again = await online.http.post(f"/online/dossiers/{code}/rating", json=body)
        other = await online.http.post(f"/online/dossiers/{code}/rating", json={**body, "score": 1})
        assert (first.status_code, again.status_code) == (201, 200), first.text
        assert (other.status_code, other.json()["type"]) == (409, "AlreadyRated")
        async with records.sessions() as session:
            row = await session.get(SatisfactionRatingRow, code)
        assert row.score == 4 and row.channel == "online"
        assert "nhiệt tình".encode() not in row.comment_sealed  # sealed, not in clear

        await settled(online.counter.handle(code))
        now = datetime.now(VN_TZ)
        result = await report(
            records,
            ReportQuery(
                start=now - timedelta(days=3650), end=now + timedelta(days=3650), group_by=("handling_unit",)
            ),
            now=now + timedelta(days=3650),
        )
        [row] = [r for r in result.rows if r.group["handling_unit"] == BA_DINH_COMMITTEE]
        assert row.counts.ratings >= 1 and row.rating_average is not None

    async def test_wrong_credential_or_no_result_yet_is_refused(self, online):
        """Another personal ID: 404 as for an unknown code; before the return: 409 NotReturned; bad score: 422."""
        await upload(online, PDF)
        code = (await submit(online, submission(), key())).json()["dossier_code"]
        good = {"personal_id": APPLICANT.personal_id, "score": 5}
        wrong = await online.http.post(
            f"/online/dossiers/{code}/rating", json={**good, "personal_id": "001090000001"}
        )
        assert (wrong.status_code, wrong.json()["type"]) == (404, "UnknownDossier")
        unknown = await online.http.post(f"/online/dossiers/{code[:-4]}9999/rating", json=good)
        assert (unknown.status_code, unknown.json()["type"]) == (404, "UnknownDossier")
        early = await online.http.post(f"/online/dossiers/{code}/rating", json=good)
        assert (early.status_code, early.json()["type"]) == (409, "NotReturned")
        for bad in ({**good, "score": 6}, {**good, "score": "5"}, {**good, "comment": "x" * 1001}):
            response = await online.http.post(f"/online/dossiers/{code}/rating", json=bad)
            assert response.status_code == 422, bad

    async def test_wrong_personal_ids_are_rate_limited_per_address(self, online):
        """After the limit of failed ratings from one address: 429 in the error shape with
        Retry-After, even with the right ID; a wrong code counts too; the limit lifts with time."""
        await upload(online, PDF)
        code = (await submit(online, submission(), key())).json()["dossier_code"]
        now = [0.0]
        app = online.http._transport.app  # type: ignore[attr-defined]
        app.state.services = replace(
            app.state.services, rating_limiter=FailureLimiter(failures=3, window=60, clock=lambda: now[0])
        )
        good = {"personal_id": APPLICANT.personal_id, "score": 5}
        for url, body in (
            (f"/online/dossiers/{code}/rating", {**good, "personal_id": "001090000001"}),
            (f"/online/dossiers/{code}/rating", {**good, "personal_id": "001090000002"}),
            (f"/online/dossiers/{code[:-4]}9999/rating", good),
        ):
            response = await online.http.post(url, json=body)
            assert (response.status_code, response.json()["type"]) == (404, "UnknownDossier")
        blocked = await online.http.post(f"/online/dossiers/{code}/rating", json=good)
        assert blocked.status_code == 429, blocked.text
        assert set(blocked.json()) >= {"type", "message"} and blocked.json()["type"] == "TooManyAttempts"
        assert blocked.headers["Retry-After"] == "60"
        now[0] = 30.0
        assert (await online.http.post(f"/online/dossiers/{code}/rating", json=good)).headers[
            "Retry-After"
        ] == "30"
        now[0] = 61.0  # the failures left the window: the right ID is answered again
        early = await online.http.post(f"/online/dossiers/{code}/rating", json=good)
        assert (early.status_code, early.json()["type"]) == (409, "NotReturned")


class TestAudit:
    async def test_an_online_dossiers_history_agrees_with_its_audit_trail(self, online):
        """The auditor's history starts with the online registration, the receipt is the counter's
        update, and Temporal's history and the audit trail agree; verify finds it intact."""
        code = await returned_dossier(online)
        await settled(online.counter.handle(code))
        auth = online.auth(OFFICERS["auditor/other"])
        history = (await online.http.get(f"/audit/dossiers/{code}/history", headers=auth)).json()
        assert history["agrees"] is True, history["disagreements"]
        assert history["items"][0]["what"] == "registered online"
        assert [a["action"] for a in history["audit"]][:3] == ["registered_online", "received", "transferred"]
        verified = (await online.http.get("/audit/verify", params={"dossier": code}, headers=auth)).json()
        assert verified["intact"] is True, verified
