"""The catalogue commands of starter.py, as a counter or operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import starter
from procedures.catalogue import DEFINITIONS_DIR


async def run(capsys, *argv: str) -> tuple[int, str]:
    """Exit code and standard output (results) followed by standard error (problems)."""
    code = await starter.main(["catalogue", *argv])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


async def run_split(capsys, *argv: str) -> tuple[int, str, str]:
    code = await starter.main(["catalogue", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


class TestCatalogueCommands:
    async def test_list_at_an_instant_shows_the_version_then_in_force(self, capsys):
        """Listing on 30 June 2025 shows the district version of 1.001612; on 1 July the commune one."""
        _, before = await run(capsys, "list", "--at", "2025-06-30T23:59:59+07:00")
        _, after = await run(capsys, "list", "--at", "2025-07-01T00:00:00+07:00")
        assert "1.001612@2021-04-01-district" in before
        assert "1.001612@2025-07-01-commune" in after

    async def test_search_ignores_accents_and_case(self, capsys):
        """'dang ky ket hon' finds Đăng ký kết hôn among the national list's procedures."""
        code, out = await run(capsys, "search", "dang", "ky", "ket", "hon")
        assert (
            code == 0
            and "1.000894\tHộ tịch (civil status)\tĐăng ký kết hôn\n" in out
            and "2.000806\tHộ tịch\tThủ tục đăng ký kết hôn có yếu tố nước ngoài\n" in out
        )

    async def test_search_without_match_exits_3(self, capsys):
        """No match is exit 3 with no output."""
        assert await run(capsys, "search", "không có thủ tục này") == (3, "")

    async def test_show_prints_the_pinned_version(self, capsys):
        """show prints the version in force as JSON; a naive --at is read as Vietnam time."""
        code, out = await run(capsys, "show", "1.001612", "--at", "2025-06-30T16:59")
        assert code == 0
        assert json.loads(out)["authority_level"] == "district_peoples_committee"

    async def test_show_unknown_code_exits_3(self, capsys):
        """An unknown code is exit 3 with the reason."""
        code, out = await run(capsys, "show", "9.999999")
        assert code == 3 and "unknown procedure code" in out

    async def test_validate_the_shipped_catalogue(self, capsys):
        """The shipped definitions validate."""
        code, out = await run(capsys, "validate")
        assert code == 0 and out.startswith("valid: 468 procedures, 473 versions, 5670 listed")

    async def test_validate_reports_a_bad_directory(self, capsys, tmp_path):
        """A bad file makes validate exit 2 naming the file."""
        (tmp_path / "bad.json").write_text("{}", encoding="utf-8")
        code, out = await run(capsys, "validate", str(tmp_path))
        assert code == 2 and "bad.json" in out

    async def test_import_reports_every_rejected_row_and_writes_a_valid_file(self, capsys, tmp_path):
        """import prints each rejected row with its reason; the written file validates."""
        export = Path(__file__).parent / "fixtures" / "sample_export.csv"
        out_file = tmp_path / "imported.json"
        code, out = await run(capsys, "import", str(export), "--out", str(out_file), "--sector", "Thử")
        assert code == 2  # some rows were rejected
        assert out.count("rejected row ") == 4 and "unknown level: 'Cấp trung ương'" in out
        assert "imported 7 versions" in out
        code, out = await run(capsys, "validate", str(tmp_path))
        assert code == 0 and out.startswith("valid: 7 procedures")


class TestNationalList:
    """Every procedure of the national list is known; only those with facts are receivable."""

    async def test_search_finds_listed_procedures_without_accents(self, capsys):
        """A procedure known only from the list is found by an unaccented search and marked."""
        code, out = await run(capsys, "search", "ho tro doanh nghiep tham gia chuoi cung ung ban dan")
        assert (
            code == 0
            and "3.000616\tCông nghiệp công nghệ số, công nghệ thông tin, điện tử\tThủ tục Hỗ trợ doanh nghiệp tham gia chuỗi cung ứng bán dẫn\t(not receivable)\n"
            in out
        )

    async def test_show_a_listed_procedure_says_why_it_is_not_receivable(self, capsys):
        """show of a listed procedure prints its list facts, provenance and the reason; exit 0."""
        code, out = await run(capsys, "show", "3.000616")
        shown = json.loads(out)
        assert code == 0 and shown["sources"] == ["portal-list"] and shown["type"] == "SPECIFIC"
        assert shown["not_receivable"].startswith("no execution facts")

    async def test_list_all_names_every_listed_procedure(self, capsys):
        """list --all prints all 5,670 procedures of the national list."""
        code, out = await run(capsys, "list", "--all", "--at", "2026-11-30T09:00:00+07:00")
        assert code == 0 and len(out.splitlines()) == 5670

    async def test_coverage_per_level_and_sector(self, capsys):
        """coverage prints listed / with facts / receivable per level and sector, and a total."""
        code, out = await run(capsys, "coverage", "--at", "2026-11-30T09:00:00+07:00")
        lines = out.splitlines()
        assert code == 0 and lines[0] == "level\tsector\tlisted\twith facts\treceivable"
        assert "all levels\t(all sectors)\t5670\t509\t468" in lines
        assert "commune\tHộ tịch\t41\t41\t41" in lines


class TestCommandErrors:
    """Bad arguments exit 2 with one line on standard error and no traceback (issue 12)."""

    @pytest.mark.parametrize("at", ["yesterday", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"])
    async def test_show_with_a_bad_instant_exits_2(self, capsys, at):
        """A bad or extreme --at is exit 2 (not 3, which means "not received"), one line on stderr."""
        code, out, err = await run_split(capsys, "show", "1.000894", "--at", at)
        assert (code, out) == (2, "") and err.count("\n") == 1 and err.startswith("error: --at: ")

    async def test_import_out_naming_a_directory_exits_2(self, capsys, tmp_path):
        """--out naming a directory is refused before anything is read."""
        export = Path(__file__).parent / "fixtures" / "sample_export.csv"
        code, out, err = await run_split(
            capsys, "import", str(export), "--out", str(tmp_path), "--sector", "X"
        )
        assert (code, out) == (
            2,
            "",
        ) and err == f"error: --out {tmp_path}: is a directory; name the catalogue file to write\n"

    async def test_import_out_in_a_missing_directory_exits_2(self, capsys, tmp_path):
        """--out in a directory that does not exist is refused, naming it."""
        export = Path(__file__).parent / "fixtures" / "sample_export.csv"
        target = tmp_path / "nowhere" / "x.json"
        code, out, err = await run_split(capsys, "import", str(export), "--out", str(target), "--sector", "X")
        assert (code, out) == (
            2,
            "",
        ) and err == f"error: --out {target}: directory {target.parent} does not exist\n"

    async def test_import_of_odd_level_and_agency_rows_exits_2(self, capsys, tmp_path):
        """A row with level 'Sở' and agency '---' is a rejected row (exit 2), not an IndexError."""
        export = tmp_path / "odd.csv"
        export.write_text(
            "Mã thủ tục,Tên thủ tục,Cấp thực hiện,Thời hạn giải quyết,Cơ quan thực hiện\n"
            "1.000001,Thủ tục thử,Sở,05 ngày làm việc,---\n",
            encoding="utf-8",
        )
        code, out, err = await run_split(
            capsys, "import", str(export), "--out", str(tmp_path / "x.json"), "--sector", "X"
        )
        assert code == 2 and "Traceback" not in err
        assert "rejected row 2 (1.000001): department level 'Sở' without a department name" in err

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            (
                "time_limit",
                {"amount": 99999999999999999999999, "unit": "working_days"},
                "time_limit: amount: 1e+23 working_days is above the bound of 730",
            ),
            (
                "fees",
                [{"name": "Lệ phí", "amount_vnd": 10**29}],
                "fees.0.amount_vnd: Input should be less than or equal to 1000000000000",
            ),
        ],
    )
    async def test_validate_refuses_absurd_limits_and_fees(self, capsys, tmp_path, field, value, message):
        """validate names the file, the procedure, the version and the field of an absurd figure."""
        document = json.loads((DEFINITIONS_DIR / "civil_status.json").read_text(encoding="utf-8"))
        document["procedures"][0]["versions"][0][field] = value
        (tmp_path / "civil_status.json").write_text(
            json.dumps(document, ensure_ascii=False), encoding="utf-8"
        )
        code, out, err = await run_split(capsys, "validate", str(tmp_path))
        assert (code, out) == (2, "")
        assert err == f"invalid: civil_status.json: 1.001193: version 1.001193@2016-01-01: {message}\n"
