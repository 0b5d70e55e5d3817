"""The interactive documentation works without internet: every asset comes from the API itself."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from temporalio.client import Client

from api import create_app
from runtime.settings import Settings
from tests.api.conftest import KEY
from tests.builders import free_port

# Any absolute URL in an attribute or a string of the page: the page must hold none.
EXTERNAL = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}""")
ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']|url:\s*['"]([^'"]+)['"]""")


@pytest_asyncio.fixture
async def http(records, tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    # No Temporal server is needed to serve documentation: a client that never connects.
    client = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)
    app = create_app(client, records, Settings.from_env({"DATA_DIR": str(tmp_path)}), key=KEY)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
        yield http


class TestOfflineDocs:
    async def test_swagger_ui_and_its_assets_come_from_the_api(self, http):
        """/docs answers 200, names no outside host, and every script, style and icon it loads answers 200."""
        page = await http.get("/docs")
        assert page.status_code == 200
        assert EXTERNAL.findall(page.text) == []
        assets = {a or b for a, b in ASSET.findall(page.text)}
        assert {"/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css", "/openapi.json"} <= assets
        for asset in assets:
            response = await http.get(asset)
            assert response.status_code == 200, asset
            assert len(response.content) > 100, asset

    async def test_redoc_page_is_offline_too(self, http):
        """/redoc loads its script from the API and no web fonts from outside."""
        page = await http.get("/redoc")
        assert page.status_code == 200
        assert EXTERNAL.findall(page.text) == []
        assert (await http.get("/docs-assets/redoc.standalone.js")).status_code == 200
