"""The national importer: the listing and facts files, re-imports, versions from data, bounds."""

from __future__ import annotations

import filecmp
import gzip
import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from procedures.calendar import VN_TZ
from procedures.catalogue import DEFINITIONS_DIR, Catalogue, NotReceivable
from procedures.models import Channel
from procedures.national_import import import_national
from procedures.sources import default_sources_dir

SOURCES = default_sources_dir()
COMMITTED = DEFINITIONS_DIR / "national"
APRIL_2026 = int(datetime(2026, 4, 16, 9, tzinfo=VN_TZ).timestamp() * 1000)
SEPTEMBER_2026 = int(datetime(2026, 9, 1, 9, tzinfo=VN_TZ).timestamp() * 1000)


def record(code: str = "1.999001", fee: int = 20000, updated: int = APRIL_2026, **changes) -> dict:
    """A portal record of the API's shape (its `data`), with only the fields the importer reads."""
    data = {
        "code": code,
        "name": "Thủ tục thử đăng ký cư trú",
        "isWard": True,
        "isProvince": False,
        "executionMethods": [
            {
                "submissionMethod": "DIRECT",
                "processingTime": 7,
                "processingTimeUnit": "WORKING_DAY",
                "fees": [{"type": "FEE", "value": fee, "description": "Lệ phí dài dòng không được chép"}],
            },
            {
                "submissionMethod": "ONLINE",
                "processingTime": 7,
                "processingTimeUnit": "WORKING_DAY",
                "fees": [{"type": "FEE", "value": fee // 2, "description": ""}],
            },
        ],
        "cases": [],
        "executionCases": [
            {
                "name": "* Giấy tờ phải nộp:",
                "profileComponents": [
                    {
                        "code": "KQ-1",
                        "name": "1. Tờ khai thay đổi thông tin cư trú",
                        "originalQty": 1,
                        "copyQty": 0,
                        "required": True,
                    }
                ],
            },
        ],
        "resultsDetails": [{"name": "Thông báo kết quả"}],
        "legalBasisesDetails": [{"code": "68/2020/QH14", "name": "Luật Cư trú"}],
        "departmentsExecuting": [{"name": "Công an cấp xã"}],
        "category": {"name": "Đăng ký, quản lý cư trú"},
        "createdAt": APRIL_2026,
        "updatedAt": updated,
    }
    data.update(changes)
    return data


def sources_dir(root: Path, *records: dict, listed: tuple[str, ...] = ("1.999001", "1.999002")) -> Path:
    """A catalogue-sources directory with these records, a list of `listed` codes, no ministry pages."""
    (root / "national-portal-crawl").mkdir(parents=True, exist_ok=True)
    (root / "ministry-lists").mkdir(exist_ok=True)
    with open(root / "national-portal-crawl" / "catalog.jsonl", "w", encoding="utf-8") as f:
        for code in listed:
            f.write(
                json.dumps(
                    {
                        "code": code,
                        "name": f"Thủ tục {code}",
                        "categories": ["Thử"],
                        "departments": [],
                        "departmentPromulgate": "Bộ Thử",
                        "type": "STANDARD",
                        "state": "ACTIVE",
                    }
                )
                + "\n"
            )
    with gzip.open(root / "national-portal-crawl" / "details.jsonl.gz", "wt", encoding="utf-8") as f:
        for data in records:
            f.write(json.dumps({"code": "OK", "data": data}) + "\n")
    with gzip.open(root / "ministry-lists" / "procedure-pages.jsonl.gz", "wt", encoding="utf-8") as f:
        f.write("")
    return root


class TestVersionsFromData:
    """A re-import whose facts changed adds a version; pinned versions never change."""

    def test_changed_fee_adds_a_version_from_the_record_date(self, tmp_path):
        """The fee rises in September 2026: a new version from 2026-09-01, the first ends there unchanged."""
        out = tmp_path / "definitions" / "national"
        import_national(sources_dir(tmp_path / "s1", record()), out)
        before = Catalogue.load(out.parent).resolve("1.999001", datetime(2026, 8, 1, tzinfo=VN_TZ))

        result = import_national(sources_dir(tmp_path / "s2", record(fee=30000, updated=SEPTEMBER_2026)), out)
        assert result.new_versions == ["1.999001@2026-09-01-portal"]
        catalogue = Catalogue.load(out.parent)
        first, second = catalogue.versions_by_code["1.999001"]
        assert first.model_dump(exclude={"effective_to"}) == before.model_dump(exclude={"effective_to"})
        assert first.effective_to == second.effective_from == datetime(2026, 9, 1, tzinfo=VN_TZ)
        assert (
            catalogue.resolve("1.999001", datetime(2026, 8, 1, tzinfo=VN_TZ))
            .terms(Channel.COUNTER)[1][0]
            .amount_vnd
            == 20000
        )
        assert (
            catalogue.resolve("1.999001", datetime(2026, 9, 2, tzinfo=VN_TZ))
            .terms(Channel.COUNTER)[1][0]
            .amount_vnd
            == 30000
        )

    def test_unchanged_facts_keep_the_file_byte_for_byte(self, tmp_path):
        """Importing the same record again (even with a later update stamp) writes the same facts."""
        out = tmp_path / "national"
        import_national(sources_dir(tmp_path / "s1", record()), out)
        first = (out / "facts-thu.json").read_bytes()
        result = import_national(sources_dir(tmp_path / "s2", record(updated=SEPTEMBER_2026)), out)
        assert result.new_versions == []
        assert (out / "facts-thu.json").read_bytes() == first

    def test_facts_only_never_prose(self, tmp_path):
        """Fee explanations are dropped; documents keep a short name, counts and the required flag."""
        out = tmp_path / "national"
        import_national(sources_dir(tmp_path / "s", record()), out)
        text = (out / "facts-thu.json").read_text(encoding="utf-8")
        assert "dài dòng" not in text
        version = Catalogue.load(tmp_path).resolve("1.999001", datetime(2026, 8, 1, tzinfo=VN_TZ))
        (document,) = version.required_documents
        assert (document.id, document.name, document.mandatory, document.originals) == (
            "KQ-1",
            "Tờ khai thay đổi thông tin cư trú",
            True,
            1,
        )
        assert version.provenance.legal_basis == ("68/2020/QH14",)

    def test_listed_without_record_is_known_not_receivable(self, tmp_path):
        """1.999002 is only listed: shown and searched, refused at receipt with the reason."""
        out = tmp_path / "national"
        import_national(sources_dir(tmp_path / "s", record()), out)
        catalogue = Catalogue.load(tmp_path)
        assert catalogue.listed("1.999002").sources == ("portal-list",)
        assert catalogue.search("thu tuc 1.999002") == ["1.999002"]
        with pytest.raises(NotReceivable, match="no execution facts"):
            catalogue.resolve("1.999002", datetime(2026, 8, 1, tzinfo=VN_TZ))


def entries(*limits: tuple[object, str]) -> list[dict]:
    """Counter entries of a record, one per (processingTime, processingTimeUnit)."""
    return [
        {"submissionMethod": "DIRECT", "processingTime": amount, "processingTimeUnit": unit, "fees": []}
        for amount, unit in limits
    ]


class TestCasesOfChannelEntries:
    """Entries of one channel with different limits and no named case: each limit is a case."""

    def test_each_distinct_limit_is_a_case_and_the_longest_applies_without_one(self, tmp_path):
        data = record(executionMethods=entries((8, "WORKING_DAY"), (4, "WORKING_DAY"), (8, "WORKING_DAY")))
        import_national(sources_dir(tmp_path / "s", data), tmp_path / "national")
        version = Catalogue.load(tmp_path).resolve("1.999001", datetime(2026, 8, 1, tzinfo=VN_TZ))
        assert [(c.code, c.name, c.time_limit.amount) for c in version.cases] == [
            ("4-working_days", "Trường hợp thời hạn 4 ngày làm việc", 4),
            ("8-working_days", "Trường hợp thời hạn 8 ngày làm việc", 8),
        ]
        assert version.terms(Channel.COUNTER)[0].amount == 8
        assert version.terms(Channel.COUNTER, "4-working_days")[0].amount == 4

    def test_an_entry_the_calendar_cannot_count_leaves_the_record_not_receivable(self, tmp_path):
        data = record(executionMethods=entries((8, "WORKING_DAY"), (3, "OTHER")))
        import_national(sources_dir(tmp_path / "s", data), tmp_path / "national")
        with pytest.raises(NotReceivable, match="no time limit in a unit the engine can count"):
            Catalogue.load(tmp_path).resolve("1.999001", datetime(2026, 8, 1, tzinfo=VN_TZ))

    def test_named_cases_win_over_derived_ones(self, tmp_path):
        named = [{"code": "C1", "name": "Có xác minh", "processingDay": {"qty": 5, "type": "WORKING_DAY"}}]
        data = record(executionMethods=entries((8, "WORKING_DAY"), (4, "WORKING_DAY")), cases=named)
        import_national(sources_dir(tmp_path / "s", data), tmp_path / "national")
        version = Catalogue.load(tmp_path).resolve("1.999001", datetime(2026, 8, 1, tzinfo=VN_TZ))
        assert [c.code for c in version.cases] == ["C1"]


class TestBounds:
    """Absurd figures are refused at import and at load, naming the record and the field (issue 12)."""

    def test_thirty_digit_fee_refused_and_nothing_written(self, tmp_path):
        out = tmp_path / "national"
        result = import_national(sources_dir(tmp_path / "s", record(fee=10**29)), out)
        assert [(p.code, p.message) for p in result.problems] == [
            (
                "1.999001",
                "version 1.999001@2025-07-01-portal: channel_terms.0.fees.0.amount_vnd:"
                " Input should be less than or equal to 1000000000000; channel_terms.1.fees.0.amount_vnd:"
                " Input should be less than or equal to 1000000000000",
            )
        ]
        assert not out.exists()

    def test_absurd_limit_refused_at_load(self, tmp_path):
        """A hand-edited facts file with 99999999999999999999999 working days fails validate, naming it."""
        out = tmp_path / "national"
        import_national(sources_dir(tmp_path / "s", record()), out)
        path = out / "facts-thu.json"
        path.write_text(
            path.read_text(encoding="utf-8").replace('"amount":7', '"amount":99999999999999999999999', 1)
        )
        from procedures.catalogue import CatalogueError

        with pytest.raises(CatalogueError) as caught:
            Catalogue.load(tmp_path)
        message = str(caught.value)
        assert message.startswith("facts-thu.json: 1.999001: version 1.999001@2025-07-01-portal: time_limit")
        assert "above the bound of 730" in message


@pytest.mark.skipif(not SOURCES.is_dir(), reason="../shared/catalogue-sources is not present")
class TestTheRealSources:
    """Run on the real sources (present in CI and on the sessions' machines)."""

    def test_reimport_gives_no_diff(self, tmp_path):
        """Re-running the importer over the committed files leaves every byte as committed."""
        out = tmp_path / "national"
        shutil.copytree(COMMITTED, out)
        result = import_national(SOURCES, out)
        assert result.problems == [] and result.new_versions == [] and result.listed == 5670
        names = sorted(p.name for p in COMMITTED.iterdir())
        assert sorted(p.name for p in out.iterdir()) == names
        match, mismatch, errors = filecmp.cmpfiles(COMMITTED, out, names, shallow=False)
        assert (mismatch, errors) == ([], [])
