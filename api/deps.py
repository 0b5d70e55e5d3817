"""What route handlers depend on: the services, and the authenticated officer.

To protect a router for auditors: `APIRouter(dependencies=[Depends(auditor)])`, or take
`officer: Actor = Depends(auditor)` in a handler to know who reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from temporalio.client import Client

from api.errors import ApiError, refused
from api.limits import FailureLimiter
from intake.groups import GroupIntake
from intake.online import OnlineIntake
from intake.service import IntakeService
from model.dossier_inputs import Actor
from model.errors import ErrorType
from model.input_bounds import short
from officers.tokens import InvalidToken, TokenKeys, read_token
from procedures.models import Role
from records.database import RecordsStore
from runtime.settings import Settings

__all__ = [
    "Services",
    "auditor",
    "check_roles",
    "current_officer",
    "officer_from_token",
    "requires_role",
    "services",
]


@dataclass(frozen=True)
class Services:
    """Everything the routes use, built once by create_app."""

    client: Client
    records: RecordsStore
    settings: Settings
    token_key: TokenKeys
    intake: IntakeService
    # Online submission (api/routes/online.py): the intake with the documents' file store.
    online: OnlineIntake | None = None
    groups: GroupIntake | None = None  # interlinked groups' intake (create_app builds it)
    # Failed ratings (wrong code or personal ID) per client address: guessing is slowed down.
    rating_limiter: FailureLimiter = field(default_factory=FailureLimiter)


def services(request: Request) -> Services:
    return request.app.state.services


_bearer = HTTPBearer(auto_error=False, description="a token from `starter.py token`")


async def current_officer(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    deps: Services = Depends(services),
) -> Actor:
    """The officer named by the request's bearer token; 401 without a valid one."""
    return officer_from_token(request, credentials.credentials if credentials else None, deps)


def officer_from_token(request: Request, token: str | None, deps: Services) -> Actor:
    """The officer a token names (from a header or, for the codec endpoint, a cookie); 401 otherwise."""
    challenge = {"WWW-Authenticate": "Bearer"}
    what = f"{request.method} {short(request.url.path, 200)}"
    if token is None:
        refused(None, what, "Unauthenticated", "no bearer token")
        raise ApiError(401, "Unauthenticated", "a bearer token is required", challenge)
    try:
        return read_token(token, deps.token_key)
    except InvalidToken as err:
        refused(None, what, "Unauthenticated", str(err))
        raise ApiError(401, "Unauthenticated", str(err), challenge) from err


def check_roles(request: Request, officer: Actor, roles: tuple[Role, ...]) -> Actor:
    """The officer, if they hold one of `roles`; 403 (logged) otherwise."""
    if not set(roles).intersection(officer.roles):
        raise refused(
            officer,
            f"{request.method} {short(request.url.path, 200)}",
            ErrorType.WRONG_ROLE.value,
            f"officer {officer.id} has roles {', '.join(r.value for r in officer.roles)};"
            f" this needs {' or '.join(r.value for r in roles)}",
        )
    return officer


def requires_role(*roles: Role):
    """A dependency: the officer, if they hold one of `roles`; 403 (logged) otherwise."""

    async def check(request: Request, officer: Actor = Depends(current_officer)) -> Actor:
        return check_roles(request, officer, roles)

    return check


# Read-only access to history, search and reports.
auditor = requires_role(Role.AUDITOR)
