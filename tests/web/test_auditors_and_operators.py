"""Auditors read a dossier's history beside its audit trail, verify, search with CSV, and read
the service report with its interlinked groups per agency; operators see the carryover; citizens' failed lookups are rate-limited."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import httpx
from playwright.async_api import expect

from adminunits import VN_TZ
from procedures.models import Role
from tests.api.test_audit_group_report import EXPECTED, PERIOD, two_answered_groups_and_an_open_one
from tests.web.conftest import sign_in
from tests.web.test_supplement_and_apology import overdue_dossier
from web.lookup import LookupLimiter


class TestAuditor:
    async def test_the_auditor_reads_the_history_and_verifies(self, site, new_page):
        code = await overdue_dossier(site)
        auditor = await new_page()
        await sign_in(auditor, await site.account(Role.AUDITOR))
        await expect(auditor).to_have_url(f"{site.url}/web/audit")
        await auditor.get_by_label("Quá hạn").select_option("true")
        await auditor.get_by_role("button", name="Tìm").click()
        await auditor.get_by_test_id("results").get_by_role("link", name=code).click()
        await expect(auditor.get_by_test_id("history")).to_contain_text("Tiếp nhận hồ sơ")
        await expect(auditor.get_by_test_id("audit")).to_contain_text("Quá hạn")
        await expect(auditor.get_by_test_id("agrees")).to_be_visible()

        await auditor.goto("/web/audit/verify")
        await expect(auditor.get_by_test_id("intact")).to_be_visible()

    async def test_the_search_exports_csv_and_the_report_charts_on_time_rates(self, site, new_page):
        code = await overdue_dossier(site)
        auditor = await new_page()
        await sign_in(auditor, await site.account(Role.AUDITOR))
        await auditor.goto("/web/audit?overdue=true")
        csv_link = await auditor.get_by_test_id("csv").get_attribute("href")
        exported = await auditor.request.get(csv_link)
        assert exported.headers["content-type"].startswith("text/csv")
        assert code in [row["code"] for row in csv.DictReader(io.StringIO(await exported.text()))]

        start = (datetime.now(VN_TZ) - timedelta(days=40)).date().isoformat()
        end = (datetime.now(VN_TZ) + timedelta(days=1)).date().isoformat()
        await auditor.goto(f"/web/audit/report?start={start}&end={end}")
        await expect(auditor.get_by_test_id("report")).to_contain_text("000.00004.00.H01")
        await expect(auditor.get_by_test_id("chart")).to_contain_text("000.00004.00.H01")
        report = await auditor.request.get(f"/web/audit/report.csv?start={start}&end={end}")
        rows = list(csv.DictReader(io.StringIO(await report.text())))
        assert any(r["handling_unit"] == "000.00004.00.H01" for r in rows)

    async def test_the_report_counts_each_agencys_interlinked_groups_with_their_csv(self, site, new_page):
        """Under the dossiers' table, the groups' parts per agency for the same period: received,
        on time, late, open, not answered; the groups' CSV holds the same figures."""
        await two_answered_groups_and_an_open_one(site.records)
        auditor = await new_page()
        await sign_in(auditor, await site.account(Role.AUDITOR))
        await auditor.goto(f"/web/audit/report?start={PERIOD['start']}&end={PERIOD['end']}")
        table = auditor.get_by_test_id("groups-report")
        await expect(table).to_be_visible()
        for unit, figures in EXPECTED.items():
            cells = table.get_by_test_id(f"groups-{unit}").get_by_role("cell")
            await expect(cells).to_have_text([unit, *(str(n) for n in figures)])
        csv_link = await auditor.get_by_test_id("groups-csv").get_attribute("href")
        exported = await auditor.request.get(csv_link)
        assert exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(await exported.text())))
        assert {
            r["handling_unit"]: tuple(
                int(r[c]) for c in ("groups", "on_time", "late", "open", "not_answered")
            )
            for r in rows
        } == EXPECTED

    async def test_an_officer_cannot_open_the_auditors_pages(self, site, new_page):
        page = await new_page()
        await sign_in(page, await site.account(Role.SPECIALIST))
        await page.goto("/web/audit")
        await expect(page.get_by_test_id("message")).to_contain_text("Kiểm tra, giám sát")


class TestOperator:
    async def test_the_operator_plans_the_carryover_and_follows_it(self, site, new_page):
        page = await new_page()
        await sign_in(page, await site.account(Role.OPERATOR))
        await expect(page).to_have_url(f"{site.url}/web/carryover")
        await page.get_by_role("button", name="Lập kế hoạch").click()
        await expect(page.get_by_test_id("plan")).to_contain_text("Đã xong", timeout=30_000)


class TestCitizenLimit:
    async def test_failed_lookups_are_rate_limited(self, site):
        """After the limit of failures, even the right code and secret wait (429)."""
        kept, site.web.limiter = site.web.limiter, LookupLimiter(failures=3, window=60)
        try:
            async with httpx.AsyncClient(base_url=site.url) as http:
                for _ in range(3):
                    failed = await http.post(
                        "/lookup", data={"code": "000.00004.01.H01-250101-0001", "secret": "X"}
                    )
                    assert failed.status_code == 404
                blocked = await http.post(
                    "/lookup", data={"code": "000.00004.01.H01-250101-0001", "secret": "X"}
                )
                assert blocked.status_code == 429
        finally:
            site.web.limiter = kept
