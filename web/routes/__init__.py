"""The web application's routers, one module per group of people; install_web includes them all."""

from web.routes import audit, auth, citizen, counter, groups, officer, online, online_groups, operator

__all__ = ["ROUTERS"]

ROUTERS = (
    auth.router,
    counter.router,
    groups.router,
    officer.router,
    audit.router,
    operator.router,
    citizen.router,
    online.router,
    online_groups.router,
)
