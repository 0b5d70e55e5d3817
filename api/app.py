"""Building the API application around a Temporal client and the records store."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from temporalio.client import Client

from api.access_log import AccessLog
from api.body_limit import BodyLimit
from api.deps import Services
from api.errors import install_error_handlers
from api.openapi import document_errors
from api.responses import VietnamTimeJSONResponse
from api.routes import ROUTERS
from api.routes.codec import CodecCors
from intake.document_files import DocumentFiles
from intake.groups import GroupIntake
from intake.online import OnlineIntake
from intake.service import IntakeService
from officers.tokens import TokenKeys, token_key
from procedures.catalogue import Catalogue
from records.database import RecordsStore
from runtime.settings import Settings

__all__ = ["DOCS_ASSETS", "create_app"]

# Where the documentation pages' scripts and styles are served from.
DOCS_ASSETS = "/docs-assets"

DESCRIPTION = """Vietnam's one-stop dossiers: receive at a counter, act as an officer, read as an
auditor. Every request but `/health` carries `Authorization: Bearer TOKEN`; mint a token with
`starter.py token --officer ID --unit AGENCY --roles ROLE[,ROLE]`. The officer acting is always
the token's, never the body's."""


def create_app(
    client: Client,
    records: RecordsStore,
    settings: Settings,
    *,
    intake: IntakeService | None = None,
    groups: GroupIntake | None = None,
    catalogue: Catalogue | None = None,
    key: bytes | TokenKeys | None = None,
) -> FastAPI:
    """The API on this client and store. `intake` (e.g. with a test clock) defaults to the
    standard service on the settings' task queue; `key` to the configured token key, which
    raises ConfigurationError when a real cluster has none."""
    # Swagger UI and ReDoc from the assets of an installed package: nothing is fetched from a CDN.
    app = FastAPIOffline(
        title="One-stop dossier engine",
        version="0.1.0",
        description=DESCRIPTION,
        static_url=DOCS_ASSETS,
        default_response_class=VietnamTimeJSONResponse,
    )
    intake = intake or IntakeService.standard(client, settings.queue_routing, records, catalogue=catalogue)
    files = DocumentFiles(settings.online_files_dir, settings.online_file_max_bytes)
    groups = groups or GroupIntake.standard(client, settings.queue_routing, records)
    app.state.services = Services(
        client=client,
        records=records,
        settings=settings,
        token_key=TokenKeys.of(key) if key else token_key(settings),
        intake=intake,
        online=OnlineIntake(intake, files, settings.online_check_hours, groups),
        groups=groups,
    )
    install_error_handlers(app)
    # Documents' files are larger than any JSON body: their own cap (intake.document_files).
    # Kept on the app so that install_web adds its public form's (the middleware reads the dict).
    app.state.upload_caps = {"/online/files/": settings.online_file_max_bytes}
    app.add_middleware(BodyLimit, larger=app.state.upload_caps)
    for router in ROUTERS:
        app.include_router(router)
    document_errors(app)
    app.add_middleware(CodecCors, origins=settings.codec_ui_origins)
    app.add_middleware(AccessLog)  # outermost: it sees every answer, the CORS preflights too
    return app
