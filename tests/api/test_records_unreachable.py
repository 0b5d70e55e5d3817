"""The records store out of reach answers 503 RecordsUnavailable with Retry-After, never a 500
(the partition test saw 500s from a worker host whose link to PostgreSQL was cut)."""

from __future__ import annotations

import httpx

from api import create_app
from officers.tokens import mint_token
from records.database import RecordsStore, create_engine, session_factory
from runtime.settings import Settings
from tests.api.conftest import KEY
from tests.builders import COUNTER, free_port


async def test_an_intake_without_its_records_store_is_a_503_to_retry(env, task_queue, tmp_path):
    # Nothing listens on this port: every connection is refused, as from a cut-off host.
    engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/records")
    records = RecordsStore(engine, session_factory(engine))
    settings = Settings.from_env({"DATA_DIR": str(tmp_path), "TASK_QUEUE": task_queue})
    app = create_app(env.client, records, settings, key=KEY)
    body = {
        "procedure_code": "1.004873",
        "applicant": {
            "full_name": "Nguyễn Văn An",
            "personal_id": "001090123456",
            "address": {"province_code": "01", "commune_code": "00004"},
        },
        "documents": [{"id": "declaration"}],
        "request_id": "records-down-1",
    }
    headers = {"Authorization": f"Bearer {mint_token(COUNTER, KEY)}"}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
            response = await http.post("/dossiers", json=body, headers=headers)
    finally:
        await engine.dispose()
    assert response.status_code == 503, response.text
    assert response.json()["type"] == "RecordsUnavailable"
    assert response.headers["Retry-After"] == "5"
