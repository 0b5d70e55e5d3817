"""Screenshots of the web application's main screens into docs/screens/, beside a running
`make run` (its demonstration's accounts and data), with Debian's Chromium.

    .venv/bin/python scripts/screenshot_web.py [--url http://127.0.0.1:8000] [--out docs/screens]

Receives one dossier at the demo's counter on the way (the slip, then its worklist and page).
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import date, timedelta
from pathlib import Path

from playwright.async_api import async_playwright

from demo.staff import DEMO_PASSWORD

CHROMIUM = "/usr/bin/chromium"


async def sign_in(context, username: str):
    page = await context.new_page()
    await page.goto("/web/sign-in")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", DEMO_PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_load_state()
    return page


async def main(url: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)

    async def shot(page, name: str) -> None:
        await page.screenshot(path=str(out / f"{name}.png"), full_page=True)
        print(out / f"{name}.png")

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])

        def context(width: int = 1280, height: int = 800):
            return browser.new_context(
                base_url=url, locale="vi-VN", viewport={"width": width, "height": height}
            )

        anonymous = await (await context()).new_page()
        await anonymous.goto("/web/sign-in")
        await shot(anonymous, "sign-in")

        counter = await sign_in(await context(), "motcua")
        await counter.goto("/web/counter?q=xac nhan tinh trang hon nhan")
        await shot(counter, "counter-search")
        await counter.goto("/web/counter/receive/1.004873")
        await counter.fill("input[name=full_name]", "Công dân Thử nghiệm Ảnh")
        await counter.fill("input[name=personal_id]", "027090199999")
        await counter.select_option("select[name=commune_code]", "07210")
        await counter.check("input[name=documents][value=declaration]")
        await shot(counter, "counter-receive")
        await counter.click("form[data-once] button[type=submit]")
        await counter.wait_for_load_state()
        code = (await counter.inner_text("[data-test=dossier-code]")).strip()
        secret = (await counter.inner_text("[data-test=secret]")).strip()
        await shot(counter, "form-01-slip")

        specialist = await sign_in(await context(), "chuyenvien")
        await specialist.goto("/web/worklist")
        await shot(specialist, "worklist")
        await specialist.goto(f"/web/dossiers/{code}")
        await shot(specialist, "dossier")

        citizen = await (await context(390, 844)).new_page()
        await citizen.goto(f"/lookup#code={code}&secret={secret}")
        await citizen.click("button[type=submit]")
        await citizen.wait_for_load_state()
        await shot(citizen, "citizen-lookup-phone")

        # The public form for online submission, on a phone, and the registration it answers.
        applicant = await (await context(390, 844)).new_page()
        await applicant.goto("/apply/1.004873")
        await applicant.fill("input[name=full_name]", "Công dân Nộp Trực tuyến")
        await applicant.fill("input[name=personal_id]", "027090188888")
        await applicant.fill("input[name=email]", "cong.dan@example.vn")
        await applicant.select_option("select[name=province_code]", "24")
        await applicant.wait_for_selector("select[name=commune_code] option[value='07210']", state="attached")
        await applicant.select_option("select[name=commune_code]", "07210")
        await applicant.set_input_files(
            "input[name=file-declaration]",
            {
                "name": "to-khai.pdf",
                "mimeType": "application/pdf",
                "buffer": b"%PDF-1.7\n" + b"to khai " * 64,
            },
        )
        await shot(applicant, "online-form-phone")
        await applicant.click("form[data-once] button[type=submit]")
        await applicant.wait_for_load_state()
        await shot(applicant, "online-registered-phone")

        auditor = await sign_in(await context(), "kiemtra")
        await auditor.goto("/web/audit?received_from=2025-06-01")
        await shot(auditor, "audit-search")
        await auditor.goto(f"/web/audit/dossiers/{code}")
        await shot(auditor, "audit-history")
        end = (date.today() + timedelta(days=1)).isoformat()
        await auditor.goto(f"/web/audit/report?start=2025-06-01&end={end}")
        await shot(auditor, "audit-report")

        operator = await sign_in(await context(), "quantri")
        await operator.goto("/web/carryover")
        await shot(operator, "carryover")
        await browser.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=Path("docs/screens"))
    args = parser.parse_args()
    asyncio.run(main(args.url, args.out))
