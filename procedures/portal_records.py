"""Facts from the national portal's records: one record in, the project's own facts out.

The portal's API record of a procedure (details.jsonl.gz) states, per channel, a time limit
with its unit and the fees; cases with their own limits; required documents with counts;
results; legal bases; level flags; dates. This module keeps the facts and drops the prose:
document names are cut to a short label, step descriptions and fee explanations are left out.
What cannot be read as a fact (a limit stated only as text, a fee without an amount) is
reported, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from procedures.calendar import VN_TZ
from procedures.importer import department_from_name, read_time_limit
from procedures.models import AuthorityLevel, TimeUnit
from procedures.vietnamese import fold

__all__ = ["PortalFacts", "facts_of_record", "levels_of_record", "record_updated"]

_CHANNELS = {"DIRECT": "counter", "ONLINE": "online", "POSTAL": "post"}
_CHANNEL_ORDER = ("counter", "online", "post")
_UNITS = {
    "WORKING_DAY": TimeUnit.WORKING_DAYS,
    "DAY": TimeUnit.CALENDAR_DAYS,
    "HOUR": TimeUnit.WORKING_HOURS,  # the portal does not say; one-stop hours are office hours
    "MONTH": TimeUnit.MONTHS,
}
_FEE_NAMES = {"FEE": "Lệ phí", "SERVICE_FEE": "Phí", "PRICE_LEVEL": "Giá dịch vụ"}
_LABEL_MAX = 160  # a document's or case's label, not its explanation
_BULLET = re.compile(r"^(?:[-+•*]|\(?\d+[.)]|[a-zđ][.)])\s*", re.IGNORECASE)


@dataclass
class PortalFacts:
    """The execution facts of one record, or the reason they cannot run a dossier."""

    facts: dict[str, Any] = field(default_factory=dict)  # ProcedureVersion fields, no steps
    not_receivable: str = ""
    notes: list[str] = field(default_factory=list)


def record_updated(record: dict[str, Any]) -> date | None:
    stamp = record.get("updatedAt") or record.get("createdAt")
    if not isinstance(stamp, (int, float)):
        return None
    return datetime.fromtimestamp(stamp / 1000, VN_TZ).date()


def levels_of_record(record: dict[str, Any]) -> list[str]:
    flags = (
        ("isWard", "commune"),
        ("isProvince", "province"),
        ("isMinistry", "ministry"),
        ("isOtherAgency", "other"),
    )
    return [level for flag, level in flags if record.get(flag) is True]


def _label(text: Any) -> str:
    text = " ".join(str(text or "").split())
    text = _BULLET.sub("", text).strip(" :;.-")
    return text if len(text) <= _LABEL_MAX else text[: _LABEL_MAX - 1].rstrip() + "…"


def _limit(amount: Any, unit_name: Any) -> dict[str, Any] | None:
    """A limit the calendar can count, or None (unit OTHER, text, nonsense)."""
    if isinstance(amount, str):
        try:
            return read_time_limit(amount)
        except ValueError:
            return None
    unit = _UNITS.get(str(unit_name))
    if unit is None or isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount < 0:
        return None
    if unit is TimeUnit.WORKING_DAYS and amount != int(amount):
        # Half a working day is four office hours (8 to a day, as provincial systems count).
        return {"amount": amount * 8, "unit": TimeUnit.WORKING_HOURS.value}
    if unit is not TimeUnit.WORKING_HOURS and amount != int(amount):
        return None
    return {"amount": int(amount) if amount == int(amount) else amount, "unit": unit.value}


def _hours(limit: dict[str, Any]) -> tuple[float, int]:
    """Office hours a limit may span, for picking the longest; a working day outlasts a calendar day."""
    factor = {"working_hours": 1, "working_days": 8, "calendar_days": 8, "months": 248}
    rank = {"working_hours": 0, "calendar_days": 1, "working_days": 2, "months": 3}
    return limit["amount"] * factor[limit["unit"]], rank[limit["unit"]]


def _channel_terms(record: dict[str, Any], notes: list[str]) -> list[dict[str, Any]]:
    entries: dict[str, list[dict[str, Any]]] = {}
    for method in record.get("executionMethods") or []:
        channel = _CHANNELS.get(method.get("submissionMethod"))
        if channel:
            entries.setdefault(channel, []).append(method)
    terms = []
    unpriced = 0
    for channel in _CHANNEL_ORDER:
        methods = entries.get(channel)
        if not methods:
            continue
        limits = [_limit(m.get("processingTime"), m.get("processingTimeUnit")) for m in methods]
        distinct = {(lim["amount"], lim["unit"]) for lim in limits if lim}
        # Several entries with different limits describe cases: the case then gives the limit.
        limit = limits[0] if len(distinct) == 1 and all(limits) else None
        fees: list[dict[str, Any]] = []
        for method in methods:
            for fee in method.get("fees") or []:
                value = fee.get("value")
                if isinstance(value, bool) or not isinstance(value, int):
                    unpriced += 1
                    continue
                entry = {"name": _FEE_NAMES.get(fee.get("type"), "Phí, lệ phí"), "amount_vnd": value}
                if entry not in fees:
                    fees.append(entry)
        term: dict[str, Any] = {"channel": channel}
        if limit is not None:
            term["time_limit"] = limit
        if fees:
            term["fees"] = fees
        terms.append(term)
    if unpriced:
        notes.append(f"{unpriced} fee entries state no amount (described in text only)")
    return terms


def _cases(record: dict[str, Any]) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    seen: dict[str, dict[str, Any]] = {}
    for case in record.get("cases") or []:
        day = case.get("processingDay") or {}
        limit = _limit(day.get("qty"), day.get("type"))
        code = str(case.get("code") or "").strip()[:28]
        if limit is None or not code:
            continue
        entry = {"code": code, "name": _label(case.get("name")), "time_limit": limit}
        if code in seen:
            if seen[code]["time_limit"] == limit:
                continue  # the same case listed twice
            n = 2
            while f"{code}#{n}" in seen:
                n += 1
            entry["code"] = code = f"{code}#{n}"
        seen[code] = entry
        cases.append(entry)
    return sorted(cases, key=lambda c: c["code"])


_UNIT_WORDS = {
    "working_days": "ngày làm việc",
    "working_hours": "giờ làm việc",
    "calendar_days": "ngày",
    "months": "tháng",
}


def _cases_of_channel_entries(record: dict[str, Any], notes: list[str]) -> list[dict[str, Any]]:
    """Cases for a record whose channel entries state several limits but name no case.

    The portal then lists one entry per situation (a remote commune, a transfer rather than a
    first registration...) and says which is which only in prose. Each distinct limit becomes a
    case named by the limit itself, for the counter to select as the legal text says; with no
    case selected the longest applies (`facts_of_record`), so no appointment comes too early.
    A record with any entry the calendar cannot count gets none: its limits stay unknown.
    """
    entries = [m for m in record.get("executionMethods") or [] if _CHANNELS.get(m.get("submissionMethod"))]
    limits = [_limit(m.get("processingTime"), m.get("processingTimeUnit")) for m in entries]
    if not limits or not all(limits):
        return []
    distinct = sorted(
        {(lim["amount"], lim["unit"]) for lim in limits if lim},
        key=lambda k: _hours({"amount": k[0], "unit": k[1]}),
    )
    if len(distinct) < 2:
        return []
    notes.append(
        f"{len(distinct)} cases derived from the channel entries' distinct limits (the portal names none)"
    )
    cases = []
    for amount, unit in distinct:
        shown = f"{amount:g}" if isinstance(amount, float) else str(amount)
        cases.append(
            {
                "code": f"{shown}-{unit}",
                "name": f"Trường hợp thời hạn {shown} {_UNIT_WORDS[unit]}",
                "time_limit": {"amount": amount, "unit": unit},
            }
        )
    return cases


def _documents(record: dict[str, Any]) -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []
    ids: set[str] = set()
    for group in record.get("executionCases") or []:
        label = _label(group.get("name"))
        for component in group.get("profileComponents") or []:
            if component.get("isProcessingResult") is True:
                continue
            name = _label(component.get("name"))
            if not name:
                continue
            base = str(component.get("code") or "").strip()[:60] or "document"
            doc_id, n = base, 1
            while doc_id in ids:
                n += 1
                doc_id = f"{base}#{n}"
            ids.add(doc_id)
            originals = _count(component.get("originalQty"))
            copies = _count(component.get("copyQty"))
            document: dict[str, Any] = {"id": doc_id, "name": name}
            if component.get("required") is not True:
                document["mandatory"] = False
            if (originals or 0) + (copies or 0) > 1:
                document["copies"] = min((originals or 0) + (copies or 0), 100)
            if originals is not None:
                document["originals"] = originals
            if copies is not None:
                document["copies_stated"] = copies
            if label:
                document["group"] = label
            documents.append(document)
    return documents


def _count(value: Any) -> int | None:
    return min(value, 100) if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _authority(record: dict[str, Any], agencies: list[str]) -> tuple[dict[str, Any], str]:
    """The authority level that receives the dossier, or why no one-stop counter does."""
    if record.get("isWard") is True:
        return {"authority_level": AuthorityLevel.COMMUNE_PEOPLES_COMMITTEE.value}, ""
    if record.get("isProvince") is True:
        for agency in agencies:
            if fold(agency).startswith("so "):
                department = department_from_name(agency)
                if department is not None:
                    department["code"] = department["code"][:10]  # the model's bound; names stay whole
                    return {
                        "authority_level": AuthorityLevel.PROVINCE_DEPARTMENT.value,
                        "department": department,
                    }, ""
        return {"authority_level": AuthorityLevel.PROVINCE_PEOPLES_COMMITTEE.value}, ""
    return {}, "handled by a ministry or another agency, not at a province or commune one-stop counter"


def facts_of_record(record: dict[str, Any]) -> PortalFacts:
    """The facts of one portal record (its `data` object)."""
    result = PortalFacts()
    agencies = [_label(a.get("name")) for a in record.get("departmentsExecuting") or [] if a.get("name")]
    authority, refusal = _authority(record, agencies)
    terms = _channel_terms(record, result.notes)
    cases = _cases(record) or _cases_of_channel_entries(record, result.notes)
    limits = [t["time_limit"] for t in terms if "time_limit" in t]
    if limits:
        default = limits[0]  # the counter's, when the counter is a channel
    elif cases:
        # No channel states one limit: the longest case applies when the counter names none,
        # so an appointment never falls before what any case allows.
        default = max((c["time_limit"] for c in cases), key=_hours)
    else:
        default = None
    if default is None:
        refusal = (
            refusal or "no time limit in a unit the engine can count (stated only as text or per unit OTHER)"
        )
    facts: dict[str, Any] = {**authority}
    facts["channels"] = [t["channel"] for t in terms] or ["counter"]
    if default is not None:
        facts["time_limit"] = default
    if terms:
        facts["channel_terms"] = terms
    if cases:
        facts["cases"] = cases
    documents = _documents(record)
    if documents:
        facts["required_documents"] = documents
    results = sorted({_label(r.get("name")) for r in record.get("resultsDetails") or [] if r.get("name")})
    if results:
        facts["result_documents"] = results
    bases = [str(b.get("code")).strip() for b in record.get("legalBasisesDetails") or [] if b.get("code")]
    if bases:
        facts["legal_basis"] = sorted(set(bases))
    if record.get("decisionNo"):
        facts["decision"] = str(record["decisionNo"]).strip()
    result.facts = facts
    result.not_receivable = refusal
    return result
