"""Import the official list of procedures (CSV or XLSX export) into the declarative catalogue format.

The National Database on Administrative Procedures (csdl.dichvucong.gov.vn) exports one row per
procedure. Headers are matched case- and accent-insensitively, in Vietnamese or English; unknown
columns (e.g. "STT") are ignored. Required: Mã thủ tục/code, Tên thủ tục/name, Cấp thực hiện/level,
Thời hạn giải quyết/time limit. Optional: Lĩnh vực/sector, Phí, lệ phí/fees, Căn cứ pháp lý/legal
basis, Thành phần hồ sơ/documents, Cơ quan thực hiện/implementing agency, Cơ quan ban hành/ministry,
Quyết định công bố/decision, Hiệu lực từ/effective from, Hiệu lực đến/effective to, Cách thức thực
hiện/channels. The header is the first row (within the first 10) holding all required columns; a
CSV may be separated by ",", ";" or tabs. Row numbers are as a spreadsheet shows them (header = 1).

Row rules; a row breaking any is rejected with every reason found, and never affects other rows:
- code: must match the ProcedureVersion pattern (1.000948, 1.000948.H38); a numeric XLSX cell is
  read with 6 decimals; a code seen on an earlier row (even a rejected one) is rejected
  "duplicate code (first at row N)".
- level: Cấp xã/xã/commune -> commune_peoples_committee; Cấp tỉnh/tỉnh/province ->
  province_peoples_committee; "Sở ..." -> province_department, Department(code from the initials of
  the name without "và"/"and", e.g. Sở Tư pháp -> STP); bare "Sở"/"department" takes the name from
  the implementing agency; Cấp huyện/huyện/district -> district_peoples_committee only with an
  effective_to on or before 2025-07-01 (the district level ended then); anything else is rejected.
- time limit: "05 ngày làm việc"/"5 working days" -> 5 working_days; "04 giờ làm việc"/"4 working
  hours" -> 4 working_hours; "Trong ngày"/"same day" -> 0 working_days; calendar days ("15 ngày",
  "15 days") -> 15 calendar_days, never converted; "3 tháng"/"3 months" -> 3 months; several limits
  in one cell or anything else is rejected. Limits and fees beyond the model's bounds are rejected.
- fees: empty/"Không"/"Miễn phí" -> none; parts separated by ";" or newlines, each with one amount
  ("Lệ phí: 100.000 đồng", "100,000 VND") -> Fee(name=text before the amount or "Phí, lệ phí", note=text after).
- documents: separated by ";" or newlines, bullets removed; id = ASCII slug of the name (max 64,
  unique in the row); optional if the name contains "(nếu có)"/"(if any)".
- legal basis: separated by ";" or newlines. channels: "trực tiếp"/"trực tuyến"/"bưu chính" (or
  counter/online/post) anywhere in the cell; empty -> counter only.
- dates: ISO or dd/mm/yyyy (or XLSX date cells), midnight Asia/Ho_Chi_Minh; effective_from defaults to
  `effective_from_default`. version_id = "{code}@{effective_from:%Y-%m-%d}-import".
- steps: review (specialist) then approve (leader), share_hours 0; the export has no steps.
- provenance: status "unverified", legal_basis from the row, notes "imported from <file> row N"
  (plus the implementing agency, which has no field of its own).
Rows with no value at all are skipped. A file that cannot be read or lacks a required column
raises CatalogueError naming the file and the missing columns.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException
from pydantic import ValidationError

from procedures.calendar import VN_TZ
from procedures.catalogue_files import CatalogueError, write_catalogue_file
from procedures.models import DISTRICT_LEVEL_ENDS, AuthorityLevel, ProcedureVersion
from procedures.problems import describe_validation_error
from procedures.vietnamese import fold

__all__ = [
    "ImportResult",
    "RejectedRow",
    "department_from_name",
    "import_export",
    "import_to_catalogue",
    "read_time_limit",
]

DEFAULT_EFFECTIVE_FROM = DISTRICT_LEVEL_ENDS  # the two-level government began then
REQUIRED = ("code", "name", "level", "time_limit")
_HEADERS = {  # field -> accepted headers, in key() form
    "code": {"ma thu tuc", "ma tthc", "ma thu tuc hanh chinh", "ma so", "code", "procedure code"},
    "name": {"ten thu tuc", "ten tthc", "ten thu tuc hanh chinh", "name", "procedure name"},
    "level": {"cap thuc hien", "level", "authority level"},
    "sector": {"linh vuc", "sector", "field"},
    "time_limit": {"thoi han giai quyet", "thoi gian giai quyet", "time limit", "processing time"},
    "fees": {"phi le phi", "le phi", "phi", "fees", "fee"},
    "legal_basis": {"can cu phap ly", "legal basis"},
    "documents": {"thanh phan ho so", "documents", "required documents"},
    "agency": {"co quan thuc hien", "implementing agency", "agency"},
    "ministry": {"co quan ban hanh", "co quan cong bo", "ministry"},
    "decision": {"quyet dinh cong bo", "decision"},
    "effective_from": {"hieu luc tu", "effective from"},
    "effective_to": {"hieu luc den", "effective to"},
    "channels": {"cach thuc thuc hien", "channels"},
}
_FIELD_OF = {header: field for field, headers in _HEADERS.items() for header in headers}
_LEVELS = {
    AuthorityLevel.COMMUNE_PEOPLES_COMMITTEE: {"cap xa", "xa", "commune", "ubnd cap xa"},
    AuthorityLevel.PROVINCE_PEOPLES_COMMITTEE: {"cap tinh", "tinh", "province", "ubnd cap tinh"},
    AuthorityLevel.DISTRICT_PEOPLES_COMMITTEE: {"cap huyen", "huyen", "district", "ubnd cap huyen"},
    AuthorityLevel.PROVINCE_DEPARTMENT: {"so", "cap so", "department", "province department"},
}
_CODE_PATTERN = re.compile(ProcedureVersion.model_json_schema()["properties"]["procedure_code"]["pattern"])
_DURATION = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(ngay lam viec|working days?|gio lam viec|working hours?|ngay|calendar days?|days?"
    r"|thang|months?)\b"
)
# Effective dates of a procedure version: anything outside is a typing error (and 9999-12-31 with
# an offset overflows when converted).
_EARLIEST = datetime(1990, 1, 1, tzinfo=VN_TZ)
_LATEST = datetime(2100, 1, 1, tzinfo=VN_TZ)
_SAME_DAY = ("trong ngay", "same day", "within the day")
_NUMBER = r"(\d{1,3}(?:[.,]\d{3})+|\d+)"
_AMOUNT = re.compile(_NUMBER + r"\s*(?:đồng|đ|dong|vnđ|vnd)(?!\w)", re.IGNORECASE)
_NO_FEE = ("khong", "mien", "free", "none", "no fee")
_CHANNELS = {
    "counter": ("truc tiep", "counter", "in person"),
    "online": ("truc tuyen", "online"),
    "post": ("buu chinh", "post"),
}
_STEPS = (
    {"id": "review", "name": "Thẩm định hồ sơ", "role": "specialist"},
    {"id": "approve", "name": "Phê duyệt, ký kết quả", "role": "leader"},
)


@dataclass(frozen=True)
class RejectedRow:
    row: int  # as a spreadsheet numbers it: header = 1, first data row = 2
    code: str
    reason: str


@dataclass(frozen=True)
class ImportResult:
    versions: list[ProcedureVersion]
    rejected: list[RejectedRow]


class _Reject(ValueError):
    pass


def _key(text: str) -> str:
    """fold() with punctuation collapsed to single spaces ("Phí, lệ phí" -> "phi le phi")."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold(text)).split())


def import_export(path: Path, *, effective_from_default: datetime = DEFAULT_EFFECTIVE_FROM) -> ImportResult:
    if effective_from_default.tzinfo is None:
        raise ValueError("effective_from_default must carry a timezone")
    header_row, columns, rows = _read_table(path)
    versions: list[ProcedureVersion] = []
    rejected: list[RejectedRow] = []
    first_row_of: dict[str, int] = {}
    for number, cells in enumerate(rows, start=header_row + 1):
        if all(_text(v) == "" for v in cells):
            continue
        row = {field: cells[i] if i < len(cells) else None for field, i in columns.items()}
        code = _code(row["code"])
        try:
            versions.append(_version(row, code, number, path.name, effective_from_default, first_row_of))
        except _Reject as err:
            rejected.append(RejectedRow(number, code, str(err)))
    return ImportResult(versions, rejected)


def import_to_catalogue(path: Path, out_file: Path, sector: str) -> ImportResult:
    """Import `path` and write the accepted versions to `out_file`; nothing is written if none is."""
    result = import_export(path)
    if result.versions:
        write_catalogue_file(out_file, sector, result.versions, note=f"imported from {path.name}; unverified")
    return result


def _read_table(path: Path) -> tuple[int, dict[str, int], list[list[Any]]]:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise CatalogueError(f"{path.name}: unsupported format {suffix!r}; expected .csv or .xlsx")
    try:
        if suffix == ".csv":
            text = path.read_text(encoding="utf-8-sig")
            tables = [list(csv.reader(io.StringIO(text, newline=""), delimiter=d)) for d in ",;\t"]
        else:
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                tables = [[list(r) for r in workbook.worksheets[0].iter_rows(values_only=True)]]
            finally:
                workbook.close()
    except (OSError, ValueError, csv.Error, zipfile.BadZipFile, InvalidFileException, KeyError) as err:
        raise CatalogueError(f"{path.name}: cannot read: {err}") from err
    best: dict[str, int] = {}
    for table in tables:
        for index, cells in enumerate(table[:10]):
            columns, repeated = _columns(cells)
            if all(field in columns for field in REQUIRED):
                if repeated:
                    raise CatalogueError(f"{path.name}: several columns mean {', '.join(repeated)}")
                return index + 1, columns, table[index + 1 :]
            if len(columns) > len(best):
                best = columns
    missing = [f.replace("_", " ") for f in REQUIRED if f not in best]
    raise CatalogueError(f"{path.name}: missing required columns: {', '.join(missing)}")


def _columns(cells: list[Any]) -> tuple[dict[str, int], list[str]]:
    columns: dict[str, int] = {}
    repeated: list[str] = []
    for index, cell in enumerate(cells):
        field = _FIELD_OF.get(_key(_text(cell)))
        if field in columns:
            repeated.append(field.replace("_", " "))
        elif field:
            columns[field] = index
    return columns, repeated


def _version(
    row: dict[str, Any],
    code: str,
    number: int,
    file_name: str,
    default_from: datetime,
    first_row_of: dict[str, int],
) -> ProcedureVersion:
    reasons: list[str] = []

    def attempt(parse, *args):
        try:
            return parse(*args)
        except _Reject as err:
            reasons.append(str(err))

    if not code:
        reasons.append("missing code")
    elif not _CODE_PATTERN.match(code):
        reasons.append(f"malformed code {code!r}: expected e.g. 1.000948 or 1.000948.H38")
    elif code in first_row_of:
        reasons.append(f"duplicate code (first at row {first_row_of[code]})")
    else:
        first_row_of[code] = number
    name = _text(row["name"])
    if not name:
        reasons.append("missing name")
    effective_from = attempt(_date, row.get("effective_from"), "effective from") or default_from
    effective_to = attempt(_date, row.get("effective_to"), "effective to")
    level = attempt(_level, row, effective_to)
    time_limit = attempt(_time_limit, _text(row["time_limit"]))
    fees = attempt(_fees, _text(row.get("fees")))
    channels = attempt(_channels, _text(row.get("channels")))
    if reasons:
        raise _Reject("; ".join(reasons))
    agency = _text(row.get("agency"))
    notes = f"imported from {file_name} row {number}" + (f"; implementing agency: {agency}" if agency else "")
    fields = {
        "procedure_code": code,
        "procedure_name": name,
        "sector": _text(row.get("sector")),
        "ministry": _text(row.get("ministry")),
        "decision": _text(row.get("decision")),
        "version_id": f"{code}@{effective_from.astimezone(VN_TZ):%Y-%m-%d}-import",
        "effective_from": effective_from,
        "effective_to": effective_to,
        **level,
        "channels": channels,
        "time_limit": time_limit,
        "fees": fees,
        "required_documents": _documents(_text(row.get("documents"))),
        "steps": _STEPS,
        "provenance": {
            "status": "unverified",
            "legal_basis": _parts(_text(row.get("legal_basis"))),
            "notes": notes,
        },
    }
    try:
        return ProcedureVersion.model_validate(fields)
    except ValidationError as err:
        raise _Reject(describe_validation_error(err, whole="version")) from err


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unicodedata.normalize("NFC", str(value)).strip()


def _code(value: Any) -> str:
    # Excel turns a typed 1.000940 into the number 1.00094; codes have six decimals.
    return f"{value:.6f}" if isinstance(value, float) else _text(value)


def _parts(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in re.split(r"[;\n]", text) if p.strip())


def _date(value: Any, what: str) -> datetime | None:
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=VN_TZ)
        try:
            in_range = _EARLIEST <= value < _LATEST
        except OverflowError:  # 9999-12-31T23:59:59-12:00 cannot even be compared
            in_range = False
        if not in_range:
            raise _Reject(f"{what}: {value.isoformat()} is outside {_EARLIEST.year}-{_LATEST.year - 1}")
        return value
    if isinstance(value, date):
        return _date(datetime(value.year, value.month, value.day, tzinfo=VN_TZ), what)
    text = _text(value)
    if not text:
        return None
    try:
        if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text):
            return _date(datetime(int(m[3]), int(m[2]), int(m[1]), tzinfo=VN_TZ), what)
        return _date(datetime.fromisoformat(text), what)
    except _Reject:
        raise
    except ValueError:
        raise _Reject(f"{what}: cannot read date {text!r} (expected dd/mm/yyyy or yyyy-mm-dd)") from None


def _level(row: dict[str, Any], effective_to: datetime | None) -> dict[str, Any]:
    text = _text(row["level"])
    k = _key(text)
    if not k:
        raise _Reject("missing level")
    level = next((lv for lv, names in _LEVELS.items() if k in names), None)
    if level is None and k.startswith(("so ", "department ")):
        level = AuthorityLevel.PROVINCE_DEPARTMENT
    if level is None:
        raise _Reject(f"unknown level: {text!r}")
    if level is AuthorityLevel.PROVINCE_PEOPLES_COMMITTEE and _key(_text(row.get("agency"))).startswith(
        "so "
    ):
        # National-portal exports say "Cấp tỉnh" for what a provincial department (Sở) handles.
        level = AuthorityLevel.PROVINCE_DEPARTMENT
    if level is AuthorityLevel.DISTRICT_PEOPLES_COMMITTEE and (
        effective_to is None or effective_to > DISTRICT_LEVEL_ENDS
    ):
        raise _Reject(
            "district level ended on 1 July 2025: a district-level row needs an effective to on or"
            " before 01/07/2025"
        )
    if level is not AuthorityLevel.PROVINCE_DEPARTMENT:
        return {"authority_level": level}
    name = text if k.startswith(("so ", "department ")) else _text(row.get("agency"))
    department = department_from_name(name)
    if department is None:
        raise _Reject(f"department level {text!r} without a department name (Sở ...)")
    return {"authority_level": level, "department": department}


def department_from_name(name: str) -> dict[str, str] | None:
    """Sở Tư pháp -> {"code": "STP", "name": "Sở Tư pháp"}; None unless `name` names a Sở.

    The code is the initials of the name without "và"/"and" (department codes are not in the
    data at hand); the model refuses one of more than ten letters.
    """
    words = [w for w in _key(name).split() if w not in ("va", "and")]
    if len(words) < 2 or words[0] not in ("so", "department"):
        return None
    return {"code": "".join(w[0] for w in words).upper(), "name": name.strip()}


def read_time_limit(text: str) -> dict[str, Any]:
    """A time limit written as text ("Không quá 05 ngày làm việc"), or ValueError."""
    return _time_limit(text)


def _time_limit(text: str) -> dict[str, Any]:
    found = _DURATION.findall(" ".join(fold(text).split()))
    same_day = any(phrase in _key(text) for phrase in _SAME_DAY)
    if same_day and not found:
        return {"amount": 0, "unit": "working_days"}
    if not text:
        raise _Reject("missing time limit")
    if len(found) + same_day != 1:
        raise _Reject(f"cannot read time limit {text!r}" + (" (several limits)" if found else ""))
    number, unit = found[0]
    amount = float(number.replace(",", "."))
    if unit in ("ngay lam viec", "working day", "working days"):
        return {"amount": amount, "unit": "working_days"}
    if unit in ("gio lam viec", "working hour", "working hours"):
        return {"amount": amount, "unit": "working_hours"}
    if unit in ("thang", "month", "months"):
        return {"amount": amount, "unit": "months"}
    return {"amount": amount, "unit": "calendar_days"}


def _fees(text: str) -> tuple[dict[str, Any], ...]:
    fees = []
    for part in _parts(text):
        amounts = list(_AMOUNT.finditer(part)) or list(filter(None, [re.fullmatch(_NUMBER, part)]))
        if not amounts and _key(part).startswith(_NO_FEE):
            continue
        if len(amounts) != 1:
            raise _Reject(
                f"cannot read fee {part!r}" + (" (several amounts; separate with ';')" if amounts else "")
            )
        m = amounts[0]
        name = part[: m.start()].strip(" :-–") or "Phí, lệ phí"
        fees.append(
            {"name": name, "amount_vnd": int(re.sub(r"\D", "", m[1])), "note": part[m.end() :].strip()}
        )
    return tuple(fees)


def _documents(text: str) -> tuple[dict[str, Any], ...]:
    documents: list[dict[str, Any]] = []
    ids: set[str] = set()
    for part in _parts(text):
        name = re.sub(r"^(?:[-+•*]|\d+[.)])\s*", "", part).strip()
        if not name:
            continue
        base = "_".join(_key(name).split())[:64].rstrip("_") or "document"
        slug, n = base, 1
        while slug in ids:
            n += 1
            slug = f"{base[: 64 - len(str(n)) - 1].rstrip('_')}_{n}"
        ids.add(slug)
        optional = "(neu co)" in fold(name) or "(if any)" in fold(name)
        documents.append({"id": slug, "name": name, "mandatory": not optional})
    return tuple(documents)


def _channels(text: str) -> tuple[str, ...]:
    if not text:
        return ("counter",)
    k = _key(text)
    channels = tuple(c for c, phrases in _CHANNELS.items() if any(p in k for p in phrases))
    if not channels:
        raise _Reject(f"unknown channels {text!r} (expected trực tiếp, trực tuyến, bưu chính)")
    return channels
