"""What the web pages use, built once by `install_web` beside the API's `Services`."""

from __future__ import annotations

from dataclasses import dataclass

from adminunits import AgencyDirectory
from officers.accounts import StaffAccounts
from web.lookup import LookupLimiter
from web.sessions import WebSessions

__all__ = ["WebState"]


@dataclass
class WebState:
    accounts: StaffAccounts
    sessions: WebSessions
    limiter: LookupLimiter
    agencies: AgencyDirectory
    # Where citizens reach the lookup page: printed on the slip and in its QR code.
    public_url: str
