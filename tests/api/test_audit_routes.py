"""The auditors' routes: history, search, CSV export, report and verify, for auditors only."""

from __future__ import annotations

import csv
import io

import pytest

from tests.api.test_authorization import OFFICERS, RECEIVE_BODY
from tests.builders import BA_DINH_COMMITTEE, settled

auditor, leader, counter_officer = OFFICERS["auditor/other"], OFFICERS["leader/own"], OFFICERS["counter/own"]
ROUTES = (
    "/audit/dossiers/X/history",
    "/audit/dossiers",
    "/audit/dossiers.csv",
    "/audit/verify",
    "/audit/report?start=2025-01-01T00:00:00%2B07:00&end=2025-02-01T00:00:00%2B07:00",
)


async def received(api) -> str:
    response = await api.receive(counter_officer, RECEIVE_BODY)
    assert response.status_code == 201, response.text
    code = response.json()["dossier_code"]
    await settled(api.counter.handle(code))
    return code


class TestAuditRoutes:
    async def test_an_auditor_reads_history_search_export_report_and_verify(self, api):
        """One received dossier, seen through every auditor route."""
        code = await received(api)
        auth = api.auth(auditor)

        history = (await api.http.get(f"/audit/dossiers/{code}/history", headers=auth)).json()
        assert history["agrees"] is True and history["code"] == code
        assert [a["action"] for a in history["audit"]][:2] == ["received", "transferred"]

        page = (
            await api.http.get(
                "/audit/dossiers", params={"handling_unit": BA_DINH_COMMITTEE, "page_size": 500}, headers=auth
            )
        ).json()
        assert code in [item["code"] for item in page.get("items", [])], page

        exported = await api.http.get(
            "/audit/dossiers.csv", params={"handling_unit": BA_DINH_COMMITTEE}, headers=auth
        )
        assert exported.headers["content-type"].startswith("text/csv")
        assert code in [row["code"] for row in csv.DictReader(io.StringIO(exported.text))]

        view = (await api.get(auditor, code)).json()
        start = view["received_at"]
        end = view["due_at"]
        report = await api.http.get(
            "/audit/report",
            params={"start": start, "end": end, "by": "handling_unit", "handling_unit": BA_DINH_COMMITTEE},
            headers=auth,
        )
        assert report.status_code == 200, report.text
        assert report.json()["totals"]["counts"]["received"] >= 1

        verified = (await api.http.get("/audit/verify", params={"dossier": code}, headers=auth)).json()
        assert verified["intact"] is True and verified["dossiers"] == 1

    @pytest.mark.parametrize("route", ROUTES)
    async def test_officers_who_are_not_auditors_are_refused(self, api, route):
        """A leader of the very unit gets 403 WrongRole on every auditor route."""
        response = await api.http.get(route, headers=api.auth(leader))
        assert response.status_code == 403 and response.json()["type"] == "WrongRole"

    async def test_a_report_period_that_ends_before_it_starts_is_a_422_naming_it(self, api):
        response = await api.http.get(
            "/audit/report",
            params={"start": "2025-02-01T00:00:00+07:00", "end": "2025-01-01T00:00:00+07:00"},
            headers=api.auth(auditor),
        )
        assert response.status_code == 422
        assert "must start before it ends" in response.json()["message"]

    async def test_a_search_range_without_offset_or_reversed_is_a_422(self, api):
        response = await api.http.get(
            "/audit/dossiers",
            params={"received_from": "2025-02-01T00:00:00+07:00", "received_to": "2025-01-01T00:00:00+07:00"},
            headers=api.auth(auditor),
        )
        assert response.status_code == 422 and "received_from" in response.json()["message"]

    async def test_a_report_takes_dates_and_an_unencoded_offset_like_the_cli(self, api):
        """`start=2025-06-01` is that day in Vietnam; a raw `+07:00` (decoded as a space) is read too."""
        auth = api.auth(auditor)
        by_date = await api.http.get("/audit/report?start=2025-06-01&end=2025-07-01", headers=auth)
        assert by_date.status_code == 200, by_date.text
        assert by_date.json()["query"]["start"] == "2025-06-01T00:00:00+07:00"
        raw = await api.http.get(
            "/audit/report?start=2025-06-01T00:00:00+07:00&end=2025-07-01T00:00:00+07:00", headers=auth
        )
        assert raw.status_code == 200, raw.text
        assert raw.json()["query"] == by_date.json()["query"]
        wrong = await api.http.get("/audit/report?start=June&end=2025-07-01", headers=auth)
        assert wrong.status_code == 422 and "a date (2025-06-01" in wrong.json()["message"]

    async def test_every_instant_the_api_prints_is_vietnam_time(self, api):
        """The dossier's view and the search page carry +07:00 only, never Z or +00:00."""
        code = await received(api)
        auth = api.auth(auditor)
        view = await api.get(auditor, code)
        page = await api.http.get("/audit/dossiers", params={"received_from": "2000-01-01"}, headers=auth)
        exported = await api.http.get(
            "/audit/dossiers.csv", params={"received_from": "2000-01-01"}, headers=auth
        )
        for text in (view.text, page.text, exported.text):
            assert "+07:00" in text
            assert 'Z"' not in text and "+00:00" not in text

    async def test_history_of_an_unknown_dossier_is_404(self, api):
        response = await api.http.get("/audit/dossiers/no-such-dossier/history", headers=api.auth(auditor))
        assert response.status_code == 404 and response.json()["type"] == "UnknownDossier"
