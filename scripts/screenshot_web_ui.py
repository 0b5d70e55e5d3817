"""A screenshot of a dossier decoded in Temporal's Web UI through the codec endpoint (docs/codec.md).

Run beside `make run` (same DATA_DIR and ports): it mints an auditor's token with the dev key,
signs in at the API's /codec/sign-in as a browser would, turns on the UI's "Include cross-origin
credentials", opens the dossier's page and saves what the UI shows.

    scripts/screenshot_web_ui.sh CODE [docs/codec-web-ui.png]     # installs Chromium and Playwright first

Debian's `chromium` drives it (no browser is downloaded); Playwright is the `screenshot` extra.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from playwright.sync_api import sync_playwright

from model.dossier_inputs import Actor
from officers.tokens import mint_token, token_key
from procedures.models import Role
from runtime.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("code", help="the dossier to show")
    parser.add_argument("--out", type=Path, default=Path("docs/codec-web-ui.png"))
    parser.add_argument("--unit", default="000.09169.00.H24", help="the auditor's unit")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    settings = Settings.from_env()
    api = f"http://127.0.0.1:{settings.api_port}"
    ui = f"http://127.0.0.1:{settings.dev_server_ui_port}"
    auditor = Actor(id="auditor-1", unit=args.unit, roles=(Role.AUDITOR,))
    token = mint_token(auditor, token_key(settings))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1300})
        page.goto(f"{api}/codec/sign-in")
        page.get_by_label("An auditor's token").fill(token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{ui}/**")
        # The UI's own codec settings, as the person ticks them in its Codec Server dialog.
        page.evaluate(
            """([endpoint]) => {
                localStorage.setItem("endpoint", JSON.stringify(endpoint));
                localStorage.setItem("includeCredentials", "true");
                localStorage.setItem("overrideRemoteCodecConfiguration", "true");
            }""",
            [f"{api}/codec"],
        )
        page.goto(f"{ui}/namespaces/{settings.temporal_namespace}/workflows/{args.code}")
        # Not "networkidle": the UI's auto refresh polls the workflow for as long as the page is
        # open. The input's field names show only once the codec has decrypted it.
        page.get_by_text("procedure_code").first.wait_for(timeout=60_000)
        page.wait_for_timeout(2000)
        page.screenshot(path=str(args.out), full_page=False)
        print(json.dumps({"screenshot": str(args.out), "dossier": args.code}))
        browser.close()


if __name__ == "__main__":
    main()
