"""The citizens' lookup secret on the API's slip: given with every receipt, once per dossier
(again only within minutes of the first slip)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

import pytest

from records.lookup_secrets import SECRET_LENGTH, LookupSecrets
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
