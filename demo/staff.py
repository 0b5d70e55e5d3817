"""The demonstration's web accounts: one person per role at Phường Bắc Giang (Tỉnh Bắc Ninh).

Created by `worker.py --demo` when missing (a second `make run` keeps them and their
passwords); the password is printed with the web address, for a local demonstration only.
"""

from __future__ import annotations

from demo import cast
from officers.accounts import AccountError, StaffAccounts
from procedures.models import Role

__all__ = ["DEMO_ACCOUNTS", "DEMO_PASSWORD", "create_demo_accounts", "demo_accounts_lines"]

DEMO_PASSWORD = "thu-nghiem-mot-cua"
COMMUNE = "07210"
DEMO_ACCOUNTS = (
    ("motcua", "Cán bộ một cửa Bắc Giang", cast.commune_counter(COMMUNE), (Role.COUNTER_OFFICER,)),
    ("chuyenvien", "Chuyên viên Bắc Giang", cast.commune_committee(COMMUNE), (Role.SPECIALIST,)),
    ("lanhdao", "Lãnh đạo UBND Bắc Giang", cast.commune_committee(COMMUNE), (Role.LEADER,)),
    ("kiemtra", "Kiểm tra viên", cast.commune_committee("09169"), (Role.AUDITOR,)),
    ("quantri", "Quản trị vận hành", cast.commune_committee(COMMUNE), (Role.OPERATOR,)),
)


async def create_demo_accounts(accounts: StaffAccounts) -> None:
    for username, name, unit, roles in DEMO_ACCOUNTS:
        try:
            await accounts.create(username, unit=unit, roles=roles, password=DEMO_PASSWORD, name=name)
        except AccountError:
            pass  # made by an earlier run: kept as it is


def demo_accounts_lines(web_url: str) -> str:
    """Where the web application is and who may sign in, for `make run`'s "Where to look"."""
    site = web_url.removesuffix("/web/")
    lines = [f"   web application    {web_url}  (citizens: {site}/lookup, submit online: {site}/apply)"]
    for username, _name, unit, roles in DEMO_ACCOUNTS:
        lines.append(f"     {username:<11} {DEMO_PASSWORD}   {', '.join(r.value for r in roles)} at {unit}")
    return "\n".join(lines) + "\n"
