"""The stand-in portal answers like a service: key, shape, dedup by message id, records in order."""

from __future__ import annotations

import json

import httpx

from standins.portal import SYNC_PATH, create_portal_app

MESSAGE = {
    "message_id": "D-1:1",
    "sequence": 1,
    "dossier_code": "D-1",
    "procedure_code": "1.004873",
    "receipt_date": "2025-07-02T10:00:00+07:00",
    "appointment_date": "2025-07-07T17:00:00+07:00",
    "status_code": 2,
    "channel_code": 1,
    "handling_agency": "000.00004.00.H01",
    "receiving_agency": "000.00004.01.H01",
    "step": {"action": "received", "at": "2025-07-02T10:00:00+07:00"},
}
KEY = {"Authorization": "Bearer k"}


def portal(tmp_path=None) -> httpx.AsyncClient:
    app = create_portal_app("k", tmp_path / "received.jsonl" if tmp_path else None)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://portal")


class TestStandinPortal:
    async def test_refuses_a_wrong_key(self):
        async with portal() as http:
            answer = await http.post(SYNC_PATH, json=MESSAGE, headers={"Authorization": "Bearer nope"})
        assert answer.status_code == 401

    async def test_refuses_a_bad_shape_naming_the_fields(self):
        """A status code outside 1-10 and a missing appointment are named, and nothing is recorded."""
        bad = {**MESSAGE, "status_code": 11}
        del bad["appointment_date"]
        async with portal() as http:
            answer = await http.post(SYNC_PATH, json=bad, headers=KEY)
            listing = (await http.get(SYNC_PATH, headers=KEY)).json()
        assert answer.status_code == 422
        assert answer.json()["fields"] == ["appointment_date", "status_code"]
        assert listing["messages"] == []

    async def test_dedups_by_message_id(self):
        async with portal() as http:
            first = await http.post(SYNC_PATH, json=MESSAGE, headers=KEY)
            again = await http.post(SYNC_PATH, json=MESSAGE, headers=KEY)
            listing = (await http.get(SYNC_PATH, headers=KEY)).json()
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json()["duplicate"] is True
        assert len(listing["messages"]) == 1 and listing["duplicates"] == 1

    async def test_a_restarted_stand_in_remembers_what_it_accepted(self, tmp_path):
        async with portal(tmp_path) as http:
            await http.post(SYNC_PATH, json=MESSAGE, headers=KEY)
        async with portal(tmp_path) as http:
            again = await http.post(SYNC_PATH, json=MESSAGE, headers=KEY)
        assert again.json()["duplicate"] is True
        lines = (tmp_path / "received.jsonl").read_text().splitlines()
        assert [json.loads(line)["message_id"] for line in lines] == ["D-1:1"]
