"""The API's routers, one module per area; create_app includes every router of ROUTERS.

To add an area (history, search, report, verify for auditors): a module here with
`router = APIRouter(prefix="/audit", tags=["audit"], dependencies=[Depends(auditor)])`
(`api.deps.auditor`), and its router appended to ROUTERS.
"""

from api.routes import audit, codec, dossiers, groups, inbox, online, service

__all__ = ["ROUTERS"]

ROUTERS = (
    service.router,
    dossiers.router,
    online.router,
    groups.router,
    inbox.router,
    audit.router,
    codec.router,
)
