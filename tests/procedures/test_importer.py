"""Tests for procedures.importer (official CSV/XLSX export -> declarative catalogue)."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from procedures.calendar import VN_TZ
from procedures.catalogue import Catalogue
from procedures.catalogue_files import CatalogueError
from procedures.importer import ImportResult, RejectedRow, import_export, import_to_catalogue
from procedures.models import AuthorityLevel, Channel, Department, Fee, TimeUnit

FIXTURES = Path(__file__).with_name("fixtures")
SAMPLE_CSV = FIXTURES / "sample_export.csv"
SAMPLE_XLSX = FIXTURES / "sample_export.xlsx"
DATE_HEADERS = {"Hiệu lực từ", "Hiệu lực đến"}
JULY_2025 = datetime(2025, 7, 1, tzinfo=VN_TZ)

SAMPLE_ACCEPTED = ["1.001193", "3.000333", "1.009994", "2.000815", "1.000948.H38", "1.001612", "1.000200"]
SAMPLE_REJECTED = [
    RejectedRow(8, "1.000100", "unknown level: 'Cấp trung ương'"),
    RejectedRow(10, "1.948", "malformed code '1.948': expected e.g. 1.000948 or 1.000948.H38"),
    RejectedRow(11, "1.001193", "duplicate code (first at row 2)"),
    RejectedRow(
        12,
        "1.000300",
        "district level ended on 1 July 2025: a district-level row needs an effective to on or before 01/07/2025",
    ),
]


def build_xlsx(csv_path: Path, xlsx_path: Path) -> None:
    """Write the CSV's rows to a one-sheet workbook; validity dates become date cells, as Excel makes them."""
    with csv_path.open(encoding="utf-8-sig", newline="") as f:
        header, *rows = list(csv.reader(f))
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Thu tuc hanh chinh"
    sheet.append(header)
    for row in rows:
        sheet.append([_cell(h, v) for h, v in zip(header, row)])
    workbook.save(xlsx_path)


def _cell(header: str, value: str) -> object:
    if header in DATE_HEADERS and value:
        if "/" in value:
            day, month, year = value.split("/")
            return datetime(int(year), int(month), int(day))
        return datetime.fromisoformat(value)
    return value or None


def sheet_values(path: Path) -> list[tuple]:
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        return [tuple(r) for r in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


BASE = {"code": "1.000001", "name": "Thủ tục thử", "level": "Cấp xã", "time limit": "05 ngày làm việc"}


def write_csv(path: Path, header: list[str], rows: list[list[str]], delimiter: str = ",") -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows([header, *rows])
    return path


def run(tmp_path: Path, **cells: str) -> ImportResult:
    row = {**BASE, **{k.replace("_", " "): v for k, v in cells.items()}}
    return import_export(write_csv(tmp_path / "one.csv", list(row), [list(row.values())]))


def accept(tmp_path: Path, **cells: str):
    result = run(tmp_path, **cells)
    assert result.rejected == []
    (version,) = result.versions
    return version


def reject(tmp_path: Path, **cells: str) -> str:
    result = run(tmp_path, **cells)
    assert result.versions == []
    (rejected,) = result.rejected
    assert rejected.row == 2
    return rejected.reason


class TestSampleExport:
    """The shipped fixture, as CSV and as XLSX."""

    def test_csv_accepted_and_rejected(self):
        """The CSV gives the six good rows and reports the five bad ones with their reasons."""
        result = import_export(SAMPLE_CSV)
        assert [v.procedure_code for v in result.versions] == SAMPLE_ACCEPTED
        assert result.rejected == SAMPLE_REJECTED

    def test_xlsx_same_as_csv(self):
        """The XLSX gives the same versions (but for the file name in the notes) and the same rejections."""
        from_csv, from_xlsx = import_export(SAMPLE_CSV), import_export(SAMPLE_XLSX)
        assert from_xlsx.rejected == from_csv.rejected == SAMPLE_REJECTED
        assert [v.provenance.notes.replace(".xlsx", ".csv") for v in from_xlsx.versions] == [
            v.provenance.notes for v in from_csv.versions
        ]
        assert [v.model_dump(exclude={"provenance": {"notes"}}) for v in from_xlsx.versions] == [
            v.model_dump(exclude={"provenance": {"notes"}}) for v in from_csv.versions
        ]

    def test_xlsx_fixture_matches_csv(self, tmp_path):
        """The committed XLSX is what build_xlsx makes from the CSV today."""
        build_xlsx(SAMPLE_CSV, tmp_path / "fresh.xlsx")
        assert sheet_values(SAMPLE_XLSX) == sheet_values(tmp_path / "fresh.xlsx")

    def test_sample_details(self):
        """Spot checks: department, hours, fees, optional documents, district version with an end."""
        by_code = {v.procedure_code: v for v in import_export(SAMPLE_CSV).versions}
        assert by_code["3.000333"].department == Department(code="STP", name="Sở Tư pháp")
        assert by_code["2.000815"].time_limit.unit is TimeUnit.WORKING_HOURS
        assert [f.amount_vnd for f in by_code["1.009994"].fees] == [500000, 1500000]
        birth = by_code["1.001193"]
        assert birth.time_limit.amount == 0 and birth.channels == (
            Channel.COUNTER,
            Channel.ONLINE,
            Channel.POST,
        )
        assert [d.mandatory for d in birth.required_documents] == [True, True, False]
        district = by_code["1.001612"]
        assert district.authority_level is AuthorityLevel.DISTRICT_PEOPLES_COMMITTEE
        assert district.version_id == "1.001612@2021-04-01-import"
        assert district.effective_to == JULY_2025


class TestColumns:
    """Header matching and reading the file."""

    def test_english_headers_any_case(self, tmp_path):
        """English headers in any case are accepted."""
        path = write_csv(
            tmp_path / "en.csv",
            ["CODE", "Name", "LEVEL", "Time Limit", "Fees"],
            [["1.000002", "X", "commune", "5 working days", "100,000 VND"]],
        )
        (version,) = import_export(path).versions
        assert version.time_limit.amount == 5 and version.fees[0].amount_vnd == 100000

    def test_vietnamese_headers_without_accents(self, tmp_path):
        """Vietnamese headers typed without accents, in capitals, with stray punctuation, still match."""
        path = write_csv(
            tmp_path / "vn.csv",
            ["MA THU TUC (*)", "ten thu tuc", "Cap thuc hien", "THOI HAN GIAI QUYET"],
            [["1.000002", "X", "Cấp tỉnh", "Trong ngày"]],
        )
        (version,) = import_export(path).versions
        assert version.authority_level is AuthorityLevel.PROVINCE_PEOPLES_COMMITTEE

    def test_semicolon_delimiter(self, tmp_path):
        """A CSV separated by ';' is read too."""
        path = write_csv(tmp_path / "semi.csv", list(BASE), [list(BASE.values())], delimiter=";")
        assert [v.procedure_code for v in import_export(path).versions] == ["1.000001"]

    def test_missing_required_column(self, tmp_path):
        """A missing required column raises CatalogueError naming the file and the column."""
        path = write_csv(
            tmp_path / "short.csv", ["Mã thủ tục", "Tên thủ tục", "Lĩnh vực"], [["1.000002", "X", "Y"]]
        )
        with pytest.raises(CatalogueError, match=r"short\.csv: missing required columns: level, time limit"):
            import_export(path)

    def test_repeated_column(self, tmp_path):
        """Two columns meaning the same field raise CatalogueError."""
        path = write_csv(tmp_path / "twice.csv", [*BASE, "Mã thủ tục"], [[*BASE.values(), "1.000009"]])
        with pytest.raises(CatalogueError, match="several columns mean code"):
            import_export(path)

    def test_unreadable_files(self, tmp_path):
        """A corrupt XLSX, a non-UTF-8 CSV and an unknown extension raise CatalogueError."""
        (tmp_path / "bad.xlsx").write_bytes(b"not a zip")
        (tmp_path / "latin.csv").write_bytes("Mã,Tên".encode("latin-1"))
        (tmp_path / "list.xls").write_bytes(b"")
        for name, problem in [
            ("bad.xlsx", "cannot read"),
            ("latin.csv", "cannot read"),
            ("list.xls", "unsupported format '.xls'"),
            ("absent.csv", "cannot read"),
        ]:
            with pytest.raises(CatalogueError, match=f"^{name.replace('.', '[.]')}: {problem}"):
                import_export(tmp_path / name)

    def test_title_rows_and_blank_rows(self, tmp_path):
        """A title above the header and blank rows are skipped; row numbers stay those of the sheet."""
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.append(["DANH MỤC THỦ TỤC HÀNH CHÍNH"])
        sheet.append(["STT", *BASE])
        sheet.append(["1", *BASE.values()])
        sheet.append([])
        sheet.append(["2", "1.000002", "X", "Cấp vũ trụ", "5 ngày làm việc"])
        workbook.save(tmp_path / "titled.xlsx")
        result = import_export(tmp_path / "titled.xlsx")
        assert result.versions[0].provenance.notes == "imported from titled.xlsx row 3"
        assert result.rejected == [RejectedRow(5, "1.000002", "unknown level: 'Cấp vũ trụ'")]

    def test_numeric_code_cell(self, tmp_path):
        """A code Excel stored as a number keeps its six decimals."""
        workbook = openpyxl.Workbook()
        workbook.active.append(list(BASE))
        workbook.active.append([1.00094, "X", "Cấp xã", "5 ngày làm việc"])
        workbook.save(tmp_path / "numeric.xlsx")
        assert [v.procedure_code for v in import_export(tmp_path / "numeric.xlsx").versions] == ["1.000940"]


class TestLevel:
    """Cấp thực hiện -> AuthorityLevel."""

    @pytest.mark.parametrize("text", ["Cấp xã", "xã", "CẤP XÃ", "commune"])
    def test_commune(self, tmp_path, text):
        """Commune spellings map to the commune People's Committee."""
        assert accept(tmp_path, level=text).authority_level is AuthorityLevel.COMMUNE_PEOPLES_COMMITTEE

    @pytest.mark.parametrize("text", ["Cấp tỉnh", "tỉnh", "Province"])
    def test_province(self, tmp_path, text):
        """Province spellings map to the province People's Committee."""
        assert accept(tmp_path, level=text).authority_level is AuthorityLevel.PROVINCE_PEOPLES_COMMITTEE

    @pytest.mark.parametrize(
        ("text", "code"),
        [
            ("Sở Tư pháp", "STP"),
            ("Sở Kế hoạch và Đầu tư", "SKHDT"),
            ("Sở Lao động - Thương binh và Xã hội", "SLDTBXH"),
        ],
    )
    def test_department_code_from_name(self, tmp_path, text, code):
        """A 'Sở ...' level is a province department coded by its initials, without 'và'."""
        version = accept(tmp_path, level=text)
        assert version.authority_level is AuthorityLevel.PROVINCE_DEPARTMENT
        assert version.department == Department(code=code, name=text)

    def test_province_level_handled_by_a_department(self, tmp_path):
        """'Cấp tỉnh' with a Sở as implementing agency is that province department."""
        version = accept(tmp_path, level="Cấp tỉnh", implementing_agency="Sở Xây dựng")
        assert version.authority_level is AuthorityLevel.PROVINCE_DEPARTMENT
        assert version.department == Department(code="SXD", name="Sở Xây dựng")

    def test_bare_department_takes_agency(self, tmp_path):
        """Level 'department' takes the department's name from the implementing agency."""
        version = accept(tmp_path, level="department", implementing_agency="Sở Y tế")
        assert version.department == Department(code="SYT", name="Sở Y tế")

    @pytest.mark.parametrize("agency", ["---", "Sở", ""])
    def test_bare_so_with_a_nameless_agency(self, tmp_path, agency):
        """Level 'Sở' with agency '---' (or nothing) is a rejected row, not an IndexError (issue 12)."""
        assert reject(tmp_path, level="Sở", implementing_agency=agency).startswith(
            "department level 'Sở' without a department name"
        )

    def test_department_without_name(self, tmp_path):
        """Level 'department' with no Sở as agency is rejected."""
        assert reject(tmp_path, level="department", implementing_agency="UBND tỉnh").startswith(
            "department level 'department' without a department name"
        )

    def test_department_code_too_long(self, tmp_path):
        """A department code longer than the model allows is rejected with the field named."""
        reason = reject(tmp_path, level="Sở Văn hóa Thể thao Du lịch và Thông tin Truyền thông Đối ngoại")
        assert reason == "department.code: must be 2 to 10 capital letters, such as STP"

    def test_district_with_end(self, tmp_path):
        """A district-level row ending by 2025-07-01 is accepted."""
        version = accept(tmp_path, level="Cấp huyện", effective_from="01/01/2020", effective_to="30/06/2025")
        assert version.authority_level is AuthorityLevel.DISTRICT_PEOPLES_COMMITTEE

    @pytest.mark.parametrize("end", ["", "02/07/2025"])
    def test_district_without_end(self, tmp_path, end):
        """A district-level row without an end, or ending after 2025-07-01, is rejected."""
        reason = reject(tmp_path, level="district", effective_from="01/01/2020", effective_to=end)
        assert reason.startswith("district level ended on 1 July 2025")

    @pytest.mark.parametrize("text", ["Cấp trung ương", "Cấp tỉnh, Cấp huyện"])
    def test_unknown(self, tmp_path, text):
        """Anything else is an unknown level."""
        assert reject(tmp_path, level=text) == f"unknown level: {text!r}"


class TestTimeLimit:
    """Thời hạn giải quyết -> TimeLimit."""

    @pytest.mark.parametrize(
        ("text", "amount", "unit"),
        [
            ("05 ngày làm việc", 5, TimeUnit.WORKING_DAYS),
            ("5 working days", 5, TimeUnit.WORKING_DAYS),
            ("20 ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ", 20, TimeUnit.WORKING_DAYS),
            ("0,5 ngày làm việc", 0.5, TimeUnit.WORKING_DAYS),
            ("Trong ngày", 0, TimeUnit.WORKING_DAYS),
            ("Ngay trong ngày", 0, TimeUnit.WORKING_DAYS),
            ("same day", 0, TimeUnit.WORKING_DAYS),
            ("04 giờ làm việc", 4, TimeUnit.WORKING_HOURS),
            ("4 working hours", 4, TimeUnit.WORKING_HOURS),
        ],
    )
    def test_parsed(self, tmp_path, text, amount, unit):
        """Working days, working hours and same-day phrases are read."""
        limit = accept(tmp_path, time_limit=text).time_limit
        assert (limit.amount, limit.unit) == (amount, unit)

    @pytest.mark.parametrize(
        ("text", "amount", "unit"),
        [
            ("15 ngày", 15, TimeUnit.CALENDAR_DAYS),
            ("30 days", 30, TimeUnit.CALENDAR_DAYS),
            ("10 calendar days", 10, TimeUnit.CALENDAR_DAYS),
            ("03 tháng", 3, TimeUnit.MONTHS),
            ("2 months", 2, TimeUnit.MONTHS),
        ],
    )
    def test_calendar_days_and_months_kept_in_their_unit(self, tmp_path, text, amount, unit):
        """Calendar days and months are read in their own unit, never converted to working days."""
        limit = accept(tmp_path, time_limit=text).time_limit
        assert (limit.amount, limit.unit) == (amount, unit)

    def test_absurd_limit_refused_naming_the_field(self, tmp_path):
        """A limit of 99999999999999999999999 working days is refused at import, naming time_limit."""
        reason = reject(tmp_path, time_limit="99999999999999999999999 ngày làm việc")
        assert reason.startswith("time_limit: ") and "above the bound of 730" in reason

    def test_unparseable(self, tmp_path):
        """Text without a duration is rejected."""
        assert reject(tmp_path, time_limit="theo quy định") == "cannot read time limit 'theo quy định'"

    @pytest.mark.parametrize(
        "text",
        ["05 ngày làm việc; trường hợp phải xác minh: 10 ngày làm việc", "Trong ngày; 03 ngày làm việc"],
    )
    def test_several_limits(self, tmp_path, text):
        """Two limits in one cell are rejected rather than guessed."""
        assert reject(tmp_path, time_limit=text) == f"cannot read time limit {text!r} (several limits)"


class TestFees:
    """Phí, lệ phí -> Fee."""

    @pytest.mark.parametrize("text", ["", "Không", "Miễn phí", "không thu phí", "free"])
    def test_none(self, tmp_path, text):
        """Empty, Không and Miễn phí mean no fee."""
        assert accept(tmp_path, fees=text).fees == ()

    @pytest.mark.parametrize("text", ["100.000 đồng", "100,000 VND", "100.000đ", "100000"])
    def test_amount(self, tmp_path, text):
        """Dotted or comma thousands, đồng/VND/đ or a bare number, give the amount in VND."""
        assert [f.amount_vnd for f in accept(tmp_path, fees=text).fees] == [100000]

    def test_several_named(self, tmp_path):
        """Fees separated by ';' are named by the text before the amount, noted by the text after."""
        fees = accept(tmp_path, fees="Lệ phí: 50.000 đồng/lần; Phí thẩm định: 1.200.000 đồng").fees
        assert fees == (
            Fee(name="Lệ phí", amount_vnd=50000, note="/lần"),
            Fee(name="Phí thẩm định", amount_vnd=1200000),
        )

    def test_thirty_digit_fee_refused_naming_the_field(self, tmp_path):
        """A fee of 30 digits is refused at import, naming the fee's amount (issue 12)."""
        reason = reject(tmp_path, fees="1" + "0" * 29 + " đồng")
        assert reason.startswith("fees.0.amount_vnd: Input should be less than or equal to 1000000000000")

    @pytest.mark.parametrize("text", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "01/01/2300"])
    def test_extreme_effective_date_refused(self, tmp_path, text):
        """An effective date outside 1990-2099 is a rejected row, never an OverflowError (issue 12)."""
        assert "is outside 1990-2099" in reject(tmp_path, effective_from=text)

    def test_unreadable(self, tmp_path):
        """A percentage, or two amounts in one part, is rejected."""
        assert reject(tmp_path, fees="0,5% giá trị hợp đồng") == "cannot read fee '0,5% giá trị hợp đồng'"
        assert reject(tmp_path, fees="10.000 đồng, 20.000 đồng").endswith(
            "(several amounts; separate with ';')"
        )


class TestDocuments:
    """Thành phần hồ sơ -> RequiredDocument."""

    def test_split_and_slug(self, tmp_path):
        """Split on ';' and newlines; bullets dropped; ids are ASCII slugs."""
        docs = accept(
            tmp_path, documents="- Tờ khai đăng ký;\n+ Bản sao CCCD\n1. Giấy ủy quyền (nếu có)"
        ).required_documents
        assert [(d.id, d.name, d.mandatory) for d in docs] == [
            ("to_khai_dang_ky", "Tờ khai đăng ký", True),
            ("ban_sao_cccd", "Bản sao CCCD", True),
            ("giay_uy_quyen_neu_co", "Giấy ủy quyền (nếu có)", False),
        ]

    def test_if_any_optional(self, tmp_path):
        """'(if any)' makes a document optional."""
        assert (
            accept(tmp_path, documents="Power of attorney (if any)").required_documents[0].mandatory is False
        )

    def test_ids_unique_and_short(self, tmp_path):
        """Repeated names get numbered ids; long names are cut to 64 characters."""
        long = "Bản sao " + "giấy tờ chứng minh " * 6
        docs = accept(tmp_path, documents=f"Tờ khai; Tờ khai; {long}; {long}").required_documents
        ids = [d.id for d in docs]
        assert ids[:2] == ["to_khai", "to_khai_2"]
        assert len(set(ids)) == 4 and all(len(i) <= 64 for i in ids) and ids[3].endswith("_2")


class TestChannels:
    """Cách thức thực hiện -> Channel."""

    def test_default_counter(self, tmp_path):
        """No channels column means counter only."""
        assert accept(tmp_path).channels == (Channel.COUNTER,)

    def test_parsed(self, tmp_path):
        """trực tuyến and bưu chính are found in free text."""
        version = accept(tmp_path, channels="Nộp trực tuyến hoặc qua dịch vụ bưu chính công ích")
        assert version.channels == (Channel.ONLINE, Channel.POST)

    def test_unknown(self, tmp_path):
        """A channels cell naming no known channel is rejected."""
        assert reject(tmp_path, channels="fax").startswith("unknown channels 'fax'")


class TestVersion:
    """The rest of the version: ids, dates, steps, provenance, reporting."""

    def test_defaults(self, tmp_path):
        """Default effective_from, version id, two default steps, unverified provenance."""
        version = accept(tmp_path, legal_basis="Luật A; Nghị định B", implementing_agency="UBND xã")
        assert version.effective_from == JULY_2025 and version.effective_to is None
        assert version.version_id == "1.000001@2025-07-01-import"
        assert [(s.id, s.role.value, s.share_hours) for s in version.steps] == [
            ("review", "specialist", 0),
            ("approve", "leader", 0),
        ]
        assert version.provenance.status == "unverified"
        assert version.provenance.legal_basis == ("Luật A", "Nghị định B")
        assert version.provenance.notes == "imported from one.csv row 2; implementing agency: UBND xã"

    def test_effective_from_default_argument(self, tmp_path):
        """effective_from_default applies to rows without a date."""
        path = write_csv(tmp_path / "d.csv", list(BASE), [list(BASE.values())])
        (version,) = import_export(path, effective_from_default=datetime(2026, 1, 1, tzinfo=VN_TZ)).versions
        assert version.version_id == "1.000001@2026-01-01-import"

    def test_dates(self, tmp_path):
        """ISO and dd/mm/yyyy dates are midnight in Vietnam."""
        version = accept(tmp_path, effective_from="2025-08-15", effective_to="31/12/2026")
        assert version.effective_from == datetime(2025, 8, 15, tzinfo=VN_TZ)
        assert version.effective_to == datetime(2026, 12, 31, tzinfo=VN_TZ)

    def test_end_before_start(self, tmp_path):
        """A model ValidationError is reported as a rejection with its message."""
        reason = reject(tmp_path, effective_from="01/01/2026", effective_to="01/01/2025")
        assert reason == "version: effective_to must be after effective_from"

    def test_all_reasons_reported(self, tmp_path):
        """A row with several problems reports all of them."""
        reason = reject(tmp_path, code="X", level="galaxy", time_limit="khi nào xong", effective_from="soon")
        assert reason.split("; ") == [
            "malformed code 'X': expected e.g. 1.000948 or 1.000948.H38",
            "effective from: cannot read date 'soon' (expected dd/mm/yyyy or yyyy-mm-dd)",
            "unknown level: 'galaxy'",
            "cannot read time limit 'khi nào xong'",
        ]

    def test_missing_values(self, tmp_path):
        """Empty code, name, level and time limit are each reported."""
        assert reject(tmp_path, code="", name="", level="", time_limit="", sector="Y").split("; ") == [
            "missing code",
            "missing name",
            "missing level",
            "missing time limit",
        ]


class TestImportToCatalogue:
    """Writing the accepted versions as a catalogue file."""

    def test_written_file_loads_and_resolves(self, tmp_path):
        """The written file loads with Catalogue.load and resolves an accepted code."""
        out = tmp_path / "catalogue" / "imported.json"
        out.parent.mkdir()
        result = import_to_catalogue(SAMPLE_CSV, out, "Nhập từ CSDL quốc gia")
        assert result.rejected == SAMPLE_REJECTED
        catalogue = Catalogue.load(out.parent)
        assert catalogue.codes == sorted(SAMPLE_ACCEPTED)
        assert catalogue.resolve("3.000333", JULY_2025) == next(
            v for v in result.versions if v.procedure_code == "3.000333"
        )
        district = catalogue.resolve("1.001612", datetime(2024, 1, 1, tzinfo=VN_TZ))
        assert district.authority_level is AuthorityLevel.DISTRICT_PEOPLES_COMMITTEE

    def test_nothing_written_when_all_rejected(self, tmp_path):
        """No file is written when every row is rejected."""
        path = write_csv(tmp_path / "bad.csv", list(BASE), [["1.1", "X", "Cấp xã", "15 ngày"]])
        out = tmp_path / "out.json"
        result = import_to_catalogue(path, out, "Thử")
        assert result.versions == [] and len(result.rejected) == 1
        assert not out.exists()
