"""Catalogue files: each schema rule refuses a bad file whole, naming file, code and field."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path

import pytest

from procedures.calendar import VN_TZ
from procedures.catalogue import (
    DEFINITIONS_DIR,
    Catalogue,
    CatalogueError,
    NoVersionInForce,
    UnknownProcedure,
    default_catalogue,
)
from procedures.catalogue_files import read_catalogue_file, write_catalogue_file
from procedures.models import AuthorityLevel

VN = "+07:00"
LAST_SECOND_BEFORE = datetime.fromisoformat(f"2025-06-30T23:59:59{VN}")
BOUNDARY = datetime.fromisoformat(f"2025-07-01T00:00:00{VN}")

VERSION = {
    "version_id": "1.000001@2025-07-01",
    "effective_from": f"2025-07-01T00:00:00{VN}",
    "authority_level": "commune_peoples_committee",
    "time_limit": {"amount": 3, "unit": "working_days"},
    "required_documents": [{"id": "form", "name": "Tờ khai"}],
    "steps": [
        {"id": "review", "name": "Thẩm định", "role": "specialist", "share_hours": 16},
        {"id": "approve", "name": "Ký duyệt", "role": "leader", "share_hours": 8},
    ],
}
PROCEDURE = {
    "code": "1.000001",
    "name": "Thủ tục thử",
    "provenance": {"status": "synthetic"},
    "versions": [VERSION],
}


def catalogue_dir(tmp_path: Path, *procedures: dict, name: str = "sector.json") -> Path:
    (tmp_path / name).write_text(
        json.dumps({"sector": "Thử", "procedures": list(procedures)}), encoding="utf-8"
    )
    return tmp_path


def procedure(**changes) -> dict:
    entry = copy.deepcopy(PROCEDURE)
    entry.update(changes)
    return entry


def version(**changes) -> dict:
    entry = copy.deepcopy(VERSION)
    entry.update(changes)
    return entry


def load_error(directory: Path) -> str:
    with pytest.raises(CatalogueError) as caught:
        Catalogue.load(directory)
    return str(caught.value)


class TestSchemaRules:
    def test_a_valid_file_loads(self, tmp_path):
        """The reference entry used by the other tests is itself valid."""
        catalogue = Catalogue.load(catalogue_dir(tmp_path, procedure()))
        assert catalogue.codes == ["1.000001"]

    def test_codes_are_unique_within_a_file(self, tmp_path):
        """The same code twice in one file is refused."""
        message = load_error(catalogue_dir(tmp_path, procedure(), procedure()))
        assert "sector.json: 1.000001" in message and "twice" in message

    def test_codes_are_unique_across_files(self, tmp_path):
        """The same code in two files is refused, naming both files."""
        catalogue_dir(tmp_path, procedure(), name="a.json")
        catalogue_dir(tmp_path, procedure(), name="b.json")
        message = load_error(tmp_path)
        assert "b.json: 1.000001" in message and "a.json" in message

    def test_versions_never_overlap(self, tmp_path):
        """Two versions in force at once are refused, naming both."""
        second = version(version_id="1.000001@2025-09-01", effective_from=f"2025-09-01T00:00:00{VN}")
        message = load_error(catalogue_dir(tmp_path, procedure(versions=[VERSION, second])))
        assert "sector.json: 1.000001" in message and "overlap" in message

    def test_step_shares_fit_the_time_limit(self, tmp_path):
        """Steps sharing more hours than the limit are refused."""
        steps = [{"id": "review", "name": "x", "role": "specialist", "share_hours": 30}]
        message = load_error(catalogue_dir(tmp_path, procedure(versions=[version(steps=steps)])))
        assert "1.000001" in message and "step shares" in message

    def test_roles_come_from_the_known_set(self, tmp_path):
        """A step role outside the known roles is refused, naming the field."""
        steps = [{"id": "review", "name": "x", "role": "janitor"}]
        message = load_error(catalogue_dir(tmp_path, procedure(versions=[version(steps=steps)])))
        assert "steps.0.role" in message

    def test_authority_levels_come_from_the_known_set(self, tmp_path):
        """An authority level outside the known set is refused, naming the field."""
        message = load_error(catalogue_dir(tmp_path, procedure(versions=[version(authority_level="ward")])))
        assert "authority_level" in message

    def test_district_versions_end_by_the_reform(self, tmp_path):
        """A district-level version still in force after 2025-07-01 is refused."""
        district = version(
            authority_level="district_peoples_committee", effective_from=f"2021-01-01T00:00:00{VN}"
        )
        message = load_error(catalogue_dir(tmp_path, procedure(versions=[district])))
        assert "district_peoples_committee version must end" in message

    def test_department_versions_name_their_department(self, tmp_path):
        """A province-department version without its department is refused."""
        message = load_error(
            catalogue_dir(tmp_path, procedure(versions=[version(authority_level="province_department")]))
        )
        assert "department" in message

    def test_effective_dates_carry_a_timezone(self, tmp_path):
        """A naive effective date is refused."""
        message = load_error(
            catalogue_dir(tmp_path, procedure(versions=[version(effective_from="2025-07-01T00:00:00")]))
        )
        assert "effective_from" in message

    def test_unknown_fields_are_refused(self, tmp_path):
        """A misspelt field is an error, not silently ignored."""
        message = load_error(catalogue_dir(tmp_path, procedure(versions=[version(time_limt=3)])))
        assert "time_limt" in message

    def test_malformed_codes_are_refused(self, tmp_path):
        """A procedure code that is not a national code is refused."""
        message = load_error(catalogue_dir(tmp_path, procedure(code="TT-01")))
        assert "procedure_code" in message

    def test_a_procedure_needs_a_version(self, tmp_path):
        """A procedure without versions is refused."""
        message = load_error(catalogue_dir(tmp_path, procedure(versions=[])))
        assert "versions" in message

    def test_invalid_json_names_the_file(self, tmp_path):
        """A file that is not JSON is refused, naming the file."""
        (tmp_path / "broken.json").write_text("{", encoding="utf-8")
        assert "broken.json" in load_error(tmp_path)

    def test_one_bad_file_loads_nothing(self, tmp_path):
        """The loader never half-loads: a good file beside a bad one yields no catalogue."""
        catalogue_dir(tmp_path, procedure(), name="a.json")
        catalogue_dir(
            tmp_path, procedure(code="1.000002", versions=[version(authority_level="ward")]), name="b.json"
        )
        assert "b.json: 1.000002" in load_error(tmp_path)


class TestResolution:
    def test_at_the_boundary_the_version_changes(self):
        """1.001612 is district-level at 23:59:59 on 30 June 2025 and commune-level at midnight."""
        catalogue = default_catalogue()
        before = catalogue.resolve("1.001612", LAST_SECOND_BEFORE)
        after = catalogue.resolve("1.001612", BOUNDARY)
        assert before.authority_level is AuthorityLevel.DISTRICT_PEOPLES_COMMITTEE
        assert after.authority_level is AuthorityLevel.COMMUNE_PEOPLES_COMMITTEE

    def test_unknown_code_and_no_version_are_distinct_errors(self, tmp_path):
        """An unknown code and a code with no version in force raise different errors."""
        district_only = procedure(
            versions=[
                version(
                    authority_level="district_peoples_committee",
                    effective_from=f"2021-01-01T00:00:00{VN}",
                    effective_to=f"2025-07-01T00:00:00{VN}",
                )
            ]
        )
        catalogue = Catalogue.load(catalogue_dir(tmp_path, district_only))
        with pytest.raises(UnknownProcedure):
            catalogue.resolve("1.999999", BOUNDARY)
        with pytest.raises(NoVersionInForce) as caught:
            catalogue.resolve("1.000001", BOUNDARY)
        assert caught.value.replaced_by is None

    def test_no_version_in_force_names_the_version_that_applies_later(self, tmp_path):
        """Asked before a procedure exists, the error names the version that will apply."""
        catalogue = Catalogue.load(catalogue_dir(tmp_path, procedure()))
        with pytest.raises(NoVersionInForce) as caught:
            catalogue.resolve("1.000001", LAST_SECOND_BEFORE)
        assert caught.value.replaced_by.version_id == "1.000001@2025-07-01"
        assert "1.000001@2025-07-01" in str(caught.value)

    def test_resolution_needs_an_aware_instant(self):
        """A naive instant is refused rather than guessed."""
        with pytest.raises(ValueError, match="timezone"):
            default_catalogue().resolve("1.001612", datetime(2025, 7, 1))


class TestFiles:
    def test_written_files_read_back_identical(self, tmp_path):
        """write_catalogue_file then read_catalogue_file gives the same versions."""
        versions = [v for group in default_catalogue().versions_by_code.values() for v in group]
        write_catalogue_file(tmp_path / "all.json", "Tất cả", versions)
        assert sorted(read_catalogue_file(tmp_path / "all.json"), key=lambda v: v.version_id) == sorted(
            versions, key=lambda v: v.version_id
        )

    def test_every_shipped_procedure_states_its_provenance(self):
        """Curated procedures are verified or unverified with a legal basis; imported ones name
        their source, the record's update date, the crawl date and the licence; none is synthetic."""
        for versions in default_catalogue().versions_by_code.values():
            provenance = versions[0].provenance
            assert provenance.status in {"verified", "unverified", "portal"}
            if provenance.status == "portal":
                assert provenance.source == "portal-details" and provenance.licence == "none"
                assert provenance.record_updated and provenance.retrieved
            else:
                assert provenance.legal_basis, versions[0].procedure_code


class TestProcedureModel:
    def test_a_procedure_holds_its_facts_and_ordered_versions(self):
        """1.001612 is one Procedure: its facts once, district then commune version."""
        procedure = default_catalogue().procedures["1.001612"]
        assert procedure.name == "Đăng ký thành lập hộ kinh doanh"
        assert [v.authority_level for v in procedure.versions] == [
            AuthorityLevel.DISTRICT_PEOPLES_COMMITTEE,
            AuthorityLevel.COMMUNE_PEOPLES_COMMITTEE,
        ]
        assert procedure.provenance.status == "unverified"

    def test_versions_of_another_procedure_are_refused(self):
        """A Procedure cannot hold a version of another code."""
        from pydantic import ValidationError

        from procedures.models import Procedure

        versions = default_catalogue().versions_by_code
        with pytest.raises(ValidationError, match="belongs to"):
            Procedure.of([versions["1.001612"][0], versions["1.004873"][0]])


class TestCuratedAgainstThePortal:
    """The curated procedures carry the portal's codes and limits (issue 15)."""

    CURATED = {
        "1.001193",
        "1.004884",
        "1.004859",
        "1.004873",
        "1.000894",
        "1.000656",
        "1.001022",
        "2.000815",
        "2.000884",
        "1.001612",
        "1.013225",
        "1.013978",
        "3.000333",
        # Members of Decision 296's groups that social insurance does (listed without facts).
        "1.014137",
        "1.014177",
    }

    def test_the_curated_are_on_the_national_list(self):
        """Each curated code is a procedure of the national list; the wrong old codes are not curated."""
        catalogue = default_catalogue()
        curated = {c for c, vs in catalogue.versions_by_code.items() if vs[-1].provenance.status != "portal"}
        assert curated == self.CURATED
        assert all(catalogue.listed(code) is not None for code in curated)
        assert catalogue.listed("2.000505") is None  # no longer on the list

    def test_curated_limits_and_cases_match_the_portal_records(self):
        """Where the portal has a record, the curated version in force states its limit and cases."""
        from procedures.national_catalogue import load_national
        from procedures.processes import InternalProcesses

        _, imported = load_national(DEFINITIONS_DIR / "national", InternalProcesses.load())
        portal = {v.procedure_code: v for v in imported}
        catalogue = default_catalogue()
        checked = []
        for code in sorted(self.CURATED & portal.keys()):
            curated = catalogue.resolve(code, datetime(2026, 11, 30, tzinfo=VN_TZ))
            assert curated.time_limit == portal[code].time_limit, code
            if curated.cases:
                assert {c.code: c.time_limit for c in curated.cases} == {
                    c.code: c.time_limit for c in portal[code].cases
                }
            checked.append(code)
        assert checked == ["1.000656", "1.000894", "1.001193", "1.004859", "1.004873", "1.004884", "1.013225"]

    def test_the_synthetic_generator_is_not_in_the_default_catalogue(self):
        """No synthetic 9.xxxxxx procedure is shipped; the generator serves the scale benchmark only."""
        catalogue = default_catalogue()
        assert not [c for c in catalogue.known_codes if c.startswith("9.")]
        assert all(vs[0].provenance.status != "synthetic" for vs in catalogue.versions_by_code.values())
