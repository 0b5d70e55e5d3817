"""The web application in a real browser: Debian's Chromium driven by Playwright, against the
app served by uvicorn on a free port, a worker, a real Temporal dev server and the records store.

The dev server is a local one of its own (whatever --workflow-environment says): pages wait
on real time (an overdue dossier, the slip's appointment), which a time-skipping server would
move under them. Each test makes its own accounts, so tests never share a session or a lock.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment

from api import create_app
from api.server import ApiServer
from assembly.workers import build_worker
from model import search_attributes
from procedures.models import Role
from records.database import RecordsStore
from runtime.settings import Settings
from runtime.temporal import binary
from tests.builders import BA_DINH_COMMITTEE, BA_DINH_COUNTER, free_port, fresh_records
from web import install_web
from web.state import WebState

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "mat-khau-thu-nghiem"
KEY = os.urandom(32)

if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:  # pragma: no cover
    pytest.skip("Debian's chromium is missing: run scripts/install-browser.sh", allow_module_level=True)


@dataclass
class Site:
    url: str
    client: Client
    records: RecordsStore
    task_queue: str
    web: WebState

    async def account(self, *roles: Role, unit: str | None = None, name: str = "") -> str:
        """A new account with these roles (at the Ba Đình committee, or the counter for counter
        staff); its password is PASSWORD."""
        username = f"{roles[0].value.split('_')[0]}-{uuid.uuid4().hex[:8]}"
        unit = unit or (BA_DINH_COUNTER if Role.COUNTER_OFFICER in roles else BA_DINH_COMMITTEE)
        await self.web.accounts.create(
            username, unit=unit, roles=roles, password=PASSWORD, name=name or username
        )
        return username


@pytest.fixture(autouse=True)
def once_per_records_store(request: pytest.FixtureRequest) -> None:
    """The browser tests run on their own local dev server in every pass: the `local` pass
    would repeat the default one (SQLite) exactly, so they run in the default and PostgreSQL passes."""
    if request.config.getoption("--workflow-environment") == "local":
        pytest.skip("browser tests: run in the default and PostgreSQL passes (their own dev server)")


@pytest_asyncio.fixture(scope="session")
async def web_temporal(data_converter: DataConverter) -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_local(
        data_converter=data_converter,
        search_attributes=search_attributes.ALL,
        dev_server_existing_path=binary("temporal"),
        dev_server_log_level="error",
    )
    yield environment
    await environment.shutdown()


@pytest_asyncio.fixture(scope="session")
async def web_records(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RecordsStore]:
    """The browser tests' own records store. Their pages show every dossier of a unit (the
    worklist, verify, reports), so the rest of the suite's dossiers, and the rows the tamper
    tests break on purpose, must not be in it. PostgreSQL when DATABASE_URL names it (a database
    beside it, `<name>_web`), else a fresh SQLite file; built by the migrations either way."""
    base = os.environ.get("DATABASE_URL")
    if base:
        url = make_url(base)
        name = f"{url.database}_web"
        admin = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
        try:
            if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        own = url.set(database=name).render_as_string(hide_password=False)
    else:
        own = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('web-records') / 'records.sqlite'}"
    async with fresh_records(own) as store:
        yield store


@pytest_asyncio.fixture(scope="session")
async def site(
    web_temporal: WorkflowEnvironment, web_records: RecordsStore, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Site]:
    records = web_records
    task_queue = f"web-{uuid.uuid4()}"
    client = web_temporal.client
    settings = Settings.from_env({"DATA_DIR": str(tmp_path_factory.mktemp("web")), "TASK_QUEUE": task_queue})
    app = create_app(client, records, settings, key=KEY)
    port = free_port()
    server = ApiServer(app, "127.0.0.1", port)
    state = install_web(app, public_url=server.url)
    async with build_worker(client, task_queue, records):
        await server.start()
        try:
            yield Site(server.url, client, records, task_queue, state)
        finally:
            await server.stop()


@pytest_asyncio.fixture(scope="session")
async def browser():
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        playwright.selectors.set_test_id_attribute("data-test")  # the pages' stable selectors
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield chromium
        await chromium.close()


@pytest_asyncio.fixture
async def new_page(browser, site: Site):
    """Pages in fresh browser contexts (one person each: their own cookies)."""
    contexts = []

    async def make(viewport: dict | None = None):
        context = await browser.new_context(
            base_url=site.url, locale="vi-VN", viewport=viewport or {"width": 1280, "height": 900}
        )
        contexts.append(context)
        return await context.new_page()

    yield make
    for context in contexts:
        await context.close()


async def sign_in(page, username: str, password: str = PASSWORD) -> None:
    await page.goto("/web/sign-in")
    await page.get_by_label("Tên đăng nhập").fill(username)
    await page.get_by_label("Mật khẩu").fill(password)
    await page.get_by_role("button", name="Đăng nhập").click()
    await page.wait_for_load_state()
