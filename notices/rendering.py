"""Applicant notices rendered from the Vietnamese templates in notices/templates/.

`KIND.txt` is the e-mail (first line the subject, then a blank line, then the body);
`KIND.sms.txt` the SMS, without diacritics (an unaccented SMS fits 160 characters a part).
Placeholders are `string.Template`'s `$name`; a template naming an unknown one fails the test
tests/notices/test_rendering.py, not a send.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from string import Template

from procedures.calendar import VN_TZ

__all__ = ["KINDS", "NoticeFacts", "RenderedNotice", "render"]

TEMPLATES = Path(__file__).parent / "templates"
KINDS = (
    "received",
    "supplement_requested",
    "payment_requested",
    "processed",
    "apology_issued",
    "refused",
    # A dossier submitted online: the counter's check asks for more (form 02) or refuses it (form 03).
    "online_completion_requested",
    "not_received",
    # An interlinked group's one set of notices (workflows/group.py): its members send none.
    "group_received",
    "group_supplement_requested",
    "group_member_refused",
    "group_processed",
    "group_apology_issued",
    # An interlinked group submitted online: the counter's check asks for more or refuses it.
    "group_online_completion_requested",
    "group_not_received",
)


@dataclass(frozen=True)
class NoticeFacts:
    """What a notice may say: the dossier's codes, units and dates, never the applicant's data."""

    dossier_code: str
    procedure_code: str
    handling_unit: str
    appointment: datetime
    old_appointment: datetime | None = None
    documents: str = ""
    amount_vnd: int | None = None
    # A group's notice: the group (its dossier code is the group's), and the member it is about.
    group_name: str = ""
    member_code: str = ""
    agency_name: str = ""
    reason: str = ""
    stopped: str = ""


@dataclass(frozen=True)
class RenderedNotice:
    subject: str
    body: str
    sms: str


def render(kind: str, facts: NoticeFacts) -> RenderedNotice:
    values = {
        "dossier_code": facts.dossier_code,
        "procedure_code": facts.procedure_code,
        "handling_unit": facts.handling_unit,
        "appointment": _when(facts.appointment),
        "old_appointment": _when(facts.old_appointment) if facts.old_appointment else "",
        "documents": facts.documents or "(xem phiếu yêu cầu)",
        "amount": f"{facts.amount_vnd:,}".replace(",", ".") if facts.amount_vnd is not None else "",
        "group_name": facts.group_name,
        "member_code": facts.member_code,
        "agency_name": facts.agency_name or facts.handling_unit,
        "reason": facts.reason or "(xem văn bản trả lời)",
        "stopped": facts.stopped or "không có",
    }
    subject, _, body = _template(f"{kind}.txt").substitute(values).partition("\n\n")
    return RenderedNotice(
        subject=subject.strip(),
        body=body.strip() + "\n",
        sms=_unaccented(_template(f"{kind}.sms.txt").substitute(values).strip()),
    )


@cache
def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


def _when(instant: datetime) -> str:
    local = instant.astimezone(VN_TZ)
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"


def _unaccented(text: str) -> str:
    """Vietnamese without diacritics (đ -> d), as SMS gateways send it."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
