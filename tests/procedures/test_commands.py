"""The catalogue commands of starter.py, as a counter or operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

import starter


async def run(capsys, *argv: str) -> tuple[int, str]:
    code = await starter.main(["catalogue", *argv])
    return code, capsys.readouterr().out


class TestCatalogueCommands:
    async def test_list_at_an_instant_shows_the_version_then_in_force(self, capsys):
        """Listing on 30 June 2025 shows the district version of 2.000720; on 1 July the commune one."""
        _, before = await run(capsys, "list", "--at", "2025-06-30T23:59:59+07:00")
        _, after = await run(capsys, "list", "--at", "2025-07-01T00:00:00+07:00")
        assert "2.000720@2021-04-01-district" in before
        assert "2.000720@2025-07-01-commune" in after

    async def test_search_ignores_accents_and_case(self, capsys):
        """'dang ky ket hon' finds Đăng ký kết hôn."""
        code, out = await run(capsys, "search", "dang", "ky", "ket", "hon")
        assert code == 0 and out.startswith("1.000894\t")

    async def test_search_without_match_exits_3(self, capsys):
        """No match is exit 3 with no output."""
        assert await run(capsys, "search", "không có thủ tục này") == (3, "")

    async def test_show_prints_the_pinned_version(self, capsys):
        """show prints the version in force as JSON; a naive --at is read as Vietnam time."""
        code, out = await run(capsys, "show", "2.000720", "--at", "2025-06-30T16:59")
        assert code == 0
        assert json.loads(out)["authority_level"] == "district_peoples_committee"

    async def test_show_unknown_code_exits_3(self, capsys):
        """An unknown code is exit 3 with the reason."""
        code, out = await run(capsys, "show", "9.999999")
        assert code == 3 and "unknown procedure code" in out

    async def test_validate_the_shipped_catalogue(self, capsys):
        """The shipped definitions validate."""
        code, out = await run(capsys, "validate")
        assert code == 0 and out.startswith("valid: 13 procedures")

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
        assert out.count("rejected row ") == 5 and "calendar days not supported" in out
        assert "imported 6 versions" in out
        code, out = await run(capsys, "validate", str(tmp_path))
        assert code == 0 and out.startswith("valid: 6 procedures")
