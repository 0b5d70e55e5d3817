"""Unit changes after 2025-07-01 as dated data, and the cross-check against the official list."""

from __future__ import annotations

from datetime import datetime

import pytest

from adminunits import VN_TZ, AdminUnits, AgencyDirectory, Era
from adminunits.changes import UnitChanges
from adminunits.crosscheck import cross_check
from procedures.sources import default_sources_dir

SOURCES = default_sources_dir()
LAST_DAY_BEFORE = datetime(2026, 4, 29, 23, 59, 59, tzinfo=VN_TZ)
CHANGE = datetime(2026, 4, 30, tzinfo=VN_TZ)


class TestDatedRenames:
    """From 2026-04-30 Đồng Nai is a centrally-run city and ten of its communes are wards."""

    def test_ten_communes_and_the_province_change_name_on_the_day(self):
        changes = UnitChanges.load()
        renames = changes.renames_at(CHANGE)
        assert len([r for r in renames if r.kind == "commune"]) == 10
        assert changes.name_at("province", "75", LAST_DAY_BEFORE, "Tỉnh Đồng Nai") == "Tỉnh Đồng Nai"
        assert changes.name_at("province", "75", CHANGE, "Tỉnh Đồng Nai") == "Thành phố Đồng Nai"
        assert changes.name_at("commune", "25270", CHANGE, "Xã Lộc Ninh") == "Phường Lộc Ninh"

    def test_agencies_bear_the_names_of_the_day_with_unchanged_codes(self):
        directory = AgencyDirectory.load()
        centre = directory.commune_service_centre("25270")
        before, after = directory.as_of(centre, LAST_DAY_BEFORE), directory.as_of(centre, CHANGE)
        assert (before.name, after.name) == (
            "Trung tâm Phục vụ hành chính công Xã Lộc Ninh",
            "Trung tâm Phục vụ hành chính công Phường Lộc Ninh",
        )
        assert before.code == after.code == "000.25270.01.H75"
        committee = directory.province_peoples_committee("75", Era.FROM_2025)
        assert directory.as_of(committee, CHANGE).name == "Ủy ban nhân dân Thành phố Đồng Nai"

    def test_a_province_rename_leaves_its_communes_alone(self):
        """The province's rename does not touch a commune agency's name."""
        directory = AgencyDirectory.load()
        centre = directory.commune_service_centre("25195")
        assert directory.as_of(centre, CHANGE) == centre
        assert centre.name == "Trung tâm Phục vụ hành chính công Phường Bình Phước"


class TestCodeCorrection:
    """Ba Chẽ (Quảng Ninh) is 06978 in the official list; the package says 06970."""

    def test_the_official_code_is_used_and_the_package_code_still_found(self):
        units = AdminUnits.load()
        assert units.commune("06978", Era.FROM_2025).code == "06978"
        assert units.commune("06970", Era.FROM_2025).code == "06978"
        assert "06970" not in {c.code for c in units.communes(Era.FROM_2025, "22")}
        directory = AgencyDirectory.load(units)
        assert directory.commune_peoples_committee("06970", Era.FROM_2025).code == "000.06978.00.H22"


@pytest.mark.skipif(not SOURCES.is_dir(), reason="../shared/catalogue-sources is not present")
class TestCrossCheck:
    def test_every_difference_from_the_official_list_is_resolved(self):
        """Codes and names of all 34 provinces and 3,321 communes agree once the data file applies."""
        report = cross_check(SOURCES)
        assert (report.provinces, report.communes) == (34, 3321)
        assert report.unresolved == []
        assert sorted((d.kind, d.code) for d in report.differences) == [
            ("commune code", "06970"),
            *[
                ("commune name", c)
                for c in (
                    "25270",
                    "25357",
                    "25363",
                    "26116",
                    "26170",
                    "26248",
                    "26326",
                    "26368",
                    "26425",
                    "26485",
                )
            ],
            ("province name", "75"),
        ]
