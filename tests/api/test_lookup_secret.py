"""The citizens' lookup secret on the API's slip: given with every receipt, once per dossier
(again only within minutes of the first slip)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

import pytest

from records.lookup_secrets import SECRET_LENGTH, LookupSecrets, Reissue, ReissueKeyUsed
from tests.api.test_authorization import OFFICERS, RECEIVE_BODY
from web.lookup import CitizenView, look_up

pytestmark = pytest.mark.usefixtures("worker")

counter_officer = OFFICERS["counter/own"]


async def looked_up(records, code: str, secret: str, timeout: float = 10) -> CitizenView | None:
    """The citizen's answer once the projection has recorded the dossier (it follows the receipt)."""
    for _ in range(int(timeout / 0.1)):
        found = await look_up(records, code, secret)
        if found is not None:
            return found
        await asyncio.sleep(0.1)
    return None


class TestLookupSecretOnTheSlip:
    async def test_the_api_slip_carries_a_secret_that_looks_the_dossier_up(self, api):
        """POST /dossiers answers with the secret; the lookup finds the dossier with it and
        answers a wrong secret as an unknown code."""
        response = await api.receive(counter_officer, {**json.loads(json.dumps(RECEIVE_BODY))})
        assert response.status_code == 201, response.text
        slip = response.json()
        secret = slip["lookup_secret"]
        assert isinstance(secret, str) and len(secret) == SECRET_LENGTH
        found = await looked_up(api.records, slip["dossier_code"], secret)
        assert found is not None and found.code == slip["dossier_code"] and found.status_code > 0
        assert [step.action for step in found.steps][:1] == ["received"]
        assert await look_up(api.records, slip["dossier_code"], "ABCDEFGHJK") is None
        assert await look_up(api.records, slip["dossier_code"], "") is None
        assert await look_up(api.records, slip["dossier_code"] + "9", secret) is None

    async def test_a_resubmission_at_once_replaces_the_secret_and_later_gives_none(self, api):
        """The same request again at once (a double click, a lost answer): 200 with a new
        secret, the first one no longer valid, since a browser shows only the second page.
        Later (past the window), none: the last slip's stays valid, and whoever resends a
        counter's request cannot take the citizen's lookup over."""
        body = {**json.loads(json.dumps(RECEIVE_BODY)), "request_id": f"lookup-{uuid.uuid4()}"}
        first = await api.receive(counter_officer, body)
        second = await api.receive(counter_officer, body)
        assert (first.status_code, second.status_code) == (201, 200), second.text
        code, old, new = (
            first.json()["dossier_code"],
            first.json()["lookup_secret"],
            second.json()["lookup_secret"],
        )
        assert new not in (None, old)
        assert await looked_up(api.records, code, new) is not None
        assert await look_up(api.records, code, old) is None
        later = LookupSecrets(api.records.engine, api.records.sessions, reissue_within=timedelta(0))
        assert await later.issue_once(code) is None
        assert await looked_up(api.records, code, new) is not None


class TestNewLookupSecretForALostSlip:
    """POST /dossiers/{code}/lookup-secret: the counter issues a new secret on a reprinted slip."""

    async def reissue(self, api, officer, code: str, body: dict, key: str | None = None):
        headers = {**api.auth(officer), **({"Idempotency-Key": key} if key else {})}
        return await api.http.post(f"/dossiers/{code}/lookup-secret", json=body, headers=headers)

    async def received(self, api) -> tuple[str, str]:
        response = await api.receive(counter_officer, {**json.loads(json.dumps(RECEIVE_BODY))})
        assert response.status_code == 201, response.text
        code, secret = response.json()["dossier_code"], response.json()["lookup_secret"]
        assert await looked_up(api.records, code, secret) is not None
        return code, secret

    async def test_the_new_secret_looks_up_the_old_one_no_longer(self, api):
        """Form 01 reprinted with a new secret and reissued_at; the old secret is refused at once;
        the reissue is recorded with who, unit and reason (never the secret); the same key
        again within minutes gives another secret and no second record."""
        code, old = await self.received(api)
        reason = "mất phiếu hẹn, đã kiểm tra CCCD"
        response = await self.reissue(api, counter_officer, code, {"reason": reason}, key=f"{code}-slip")
        assert response.status_code == 200, response.text
        slip = response.json()
        new = slip["lookup_secret"]
        assert slip["form"] == "01" and slip["dossier_code"] == code and slip["reissued_at"]
        assert isinstance(new, str) and len(new) == SECRET_LENGTH and new != old
        assert await look_up(api.records, code, old) is None
        assert await look_up(api.records, code, new) is not None
        secrets = LookupSecrets(api.records.engine, api.records.sessions)
        [record] = await secrets.reissues(code)
        assert (record.officer_id, record.officer_unit, record.reason) == (
            counter_officer.id,
            counter_officer.unit,
            reason,
        )
        assert new not in {str(v) for v in vars(record).values()}
        again = await self.reissue(
            api, counter_officer, code, {"reason": reason, "action_id": f"{code}-slip"}
        )
        assert again.status_code == 200, again.text
        newest = again.json()["lookup_secret"]
        assert newest != new and await look_up(api.records, code, new) is None
        assert await look_up(api.records, code, newest) is not None
        assert len(await secrets.reissues(code)) == 1

    async def test_a_key_used_long_ago_is_refused(self, api):
        """The same key past the window: ReissueKeyUsed (the API answers 409 ActionIdReused), the
        secret unchanged."""
        code, _ = await self.received(api)
        response = await self.reissue(api, counter_officer, code, {"reason": "mất phiếu"}, key="k-old")
        current = response.json()["lookup_secret"]
        later = LookupSecrets(api.records.engine, api.records.sessions, reissue_within=timedelta(0))
        with pytest.raises(ReissueKeyUsed):
            await later.replace(code, Reissue("k-old", "c-own", counter_officer.unit, "mất phiếu"))
        assert await look_up(api.records, code, current) is not None

    async def test_another_units_counter_is_refused_with_its_reason(self, api):
        """403 WrongUnit naming the receiving unit; the secret still works."""
        code, old = await self.received(api)
        other = OFFICERS["counter/other"]
        response = await self.reissue(api, other, code, {"reason": "mất phiếu"}, key="k-other")
        assert response.status_code == 403, response.text
        assert response.json()["type"] == "WrongUnit"
        assert counter_officer.unit in response.json()["message"]
        specialist = OFFICERS["specialist/own"]
        response = await self.reissue(api, specialist, code, {"reason": "mất phiếu"}, key="k-spec")
        assert response.status_code == 403 and response.json()["type"] == "WrongUnit"
        assert await look_up(api.records, code, old) is not None

    async def test_an_unknown_dossier_is_404(self, api):
        response = await self.reissue(
            api, counter_officer, "000.00004.01.H01-990101-9999", {"reason": "mất phiếu"}, key="k-404"
        )
        assert response.status_code == 404, response.text
        assert response.json()["type"] == "UnknownDossier"

    async def test_an_empty_reason_is_422_naming_the_field(self, api):
        """A blank reason, or none, names `reason`; no key at all is 400 MissingActionId."""
        code, old = await self.received(api)
        for body in ({"reason": "   "}, {}):
            response = await self.reissue(api, counter_officer, code, body, key="k-422")
            assert response.status_code == 422, response.text
            assert "reason" in response.text
        response = await self.reissue(api, counter_officer, code, {"reason": "mất phiếu"})
        assert response.status_code == 400 and response.json()["type"] == "MissingActionId"
        assert await look_up(api.records, code, old) is not None

    async def test_a_withdrawn_dossier_still_gets_one(self, api):
        """A closed dossier can still be looked up, so its counter may issue a new secret."""
        code, old = await self.received(api)
        withdrawn = await api.act(
            counter_officer, code, "withdraw", {"reason": "asks", "action_id": f"{code}-w"}
        )
        assert withdrawn.status_code == 200, withdrawn.text
        response = await self.reissue(api, counter_officer, code, {"reason": "mất phiếu"}, key=f"{code}-s")
        assert response.status_code == 200, response.text
        assert await look_up(api.records, code, old) is None
        assert await looked_up(api.records, code, response.json()["lookup_secret"]) is not None
