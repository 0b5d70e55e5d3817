"""Tests for adminunits.registry and adminunits.agencies against the bundled dataset."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from adminunits import (
    REFORM_INSTANT,
    VN_TZ,
    AdminUnits,
    Agency,
    AgencyDirectory,
    AgencyKind,
    Era,
    era_at,
)


@pytest.fixture(scope="module")
def units() -> AdminUnits:
    return AdminUnits.load()


@pytest.fixture(scope="module")
def directory(units: AdminUnits) -> AgencyDirectory:
    return AgencyDirectory.load(units)


class TestEraAt:
    def test_reform_instant_is_midnight_hanoi(self):
        """REFORM_INSTANT is 2025-07-01 00:00 at UTC+7."""
        assert REFORM_INSTANT == datetime(2025, 6, 30, 17, 0, tzinfo=timezone.utc)
        assert REFORM_INSTANT.utcoffset() == timedelta(hours=7)

    def test_last_second_before_reform_is_legacy(self):
        """2025-06-30T23:59:59+07:00 is still LEGACY."""
        assert era_at(datetime(2025, 6, 30, 23, 59, 59, tzinfo=VN_TZ)) is Era.LEGACY

    def test_reform_instant_is_from_2025(self):
        """2025-07-01T00:00:00+07:00 is FROM_2025."""
        assert era_at(datetime(2025, 7, 1, 0, 0, 0, tzinfo=VN_TZ)) is Era.FROM_2025

    def test_other_offsets_compare_by_instant(self):
        """A UTC timestamp one microsecond before 17:00Z is LEGACY, at 17:00Z FROM_2025."""
        cut = datetime(2025, 6, 30, 17, 0, tzinfo=timezone.utc)
        assert era_at(cut - timedelta(microseconds=1)) is Era.LEGACY
        assert era_at(cut) is Era.FROM_2025

    def test_naive_rejected(self):
        """A naive datetime raises ValueError naming the argument."""
        with pytest.raises(ValueError, match="instant"):
            era_at(datetime(2025, 7, 1))


class TestCounts:
    def test_legacy_provinces(self, units):
        """The legacy era has 63 provinces."""
        assert len(units.provinces(Era.LEGACY)) == 63

    def test_new_provinces(self, units):
        """The FROM_2025 era has 34 provinces."""
        assert len(units.provinces(Era.FROM_2025)) == 34

    def test_new_communes(self, units):
        """The FROM_2025 era has 3,321 communes across its provinces."""
        total = sum(len(units.communes(Era.FROM_2025, p.code)) for p in units.provinces(Era.FROM_2025))
        assert total == 3321

    def test_provinces_sorted_by_code(self, units):
        """provinces() is sorted by code."""
        codes = [p.code for p in units.provinces(Era.LEGACY)]
        assert codes == sorted(codes)

    def test_districts_legacy_only(self, units):
        """Hà Nội had 30 districts, Quận Ba Đình first; a 2025-only lookup yields none."""
        districts = units.districts("01")
        assert len(districts) == 30
        assert districts[0] == ("001", "Quận Ba Đình")
        assert units.districts("99") == []


class TestEraKeyedLookup:
    def test_legacy_only_province_absent_from_2025(self, units):
        """02 Tỉnh Hà Giang exists only before the reform."""
        assert units.province("02", Era.LEGACY).name == "Tỉnh Hà Giang"
        assert units.province("02", Era.FROM_2025) is None

    def test_province_code_reused_by_other_province(self, units):
        """Code 80 was Tỉnh Long An and is now Tỉnh Tây Ninh."""
        assert units.province("80", Era.LEGACY).name == "Tỉnh Long An"
        assert units.province("80", Era.FROM_2025).name == "Tỉnh Tây Ninh"

    def test_ward_code_reuse_resolves_per_era(self, units):
        """Ward 00004 is Phường Trúc Bạch before and Phường Ba Đình after the reform."""
        old = units.commune("00004", Era.LEGACY)
        new = units.commune("00004", Era.FROM_2025)
        assert (old.name, old.era, old.district_code) == ("Phường Trúc Bạch", Era.LEGACY, "001")
        assert (new.name, new.era, new.district_code) == ("Phường Ba Đình", Era.FROM_2025, None)

    def test_commune_belongs_to_its_province(self, units):
        """Every commune listed under a province points back to it and resolves by code."""
        for era in Era:
            for province in units.provinces(era):
                for commune in units.communes(era, province.code):
                    assert commune.province_code == province.code
                    assert units.commune(commune.code, era) == commune

    def test_legacy_commune_in_listed_district(self, units):
        """A legacy commune's district is one of its province's districts."""
        commune = units.commune("00004", Era.LEGACY)
        assert (commune.district_code, commune.district_name) in units.districts(commune.province_code)

    def test_unknown_codes(self, units):
        """Unknown codes yield None or empty lists."""
        assert units.commune("99999", Era.FROM_2025) is None
        assert units.communes(Era.FROM_2025, "02") == []


class TestAgencyDirectory:
    def test_codes_unique(self, directory):
        """No two agencies share a code, and the count matches the derivation."""
        agencies = directory.all()
        assert len({a.code for a in agencies}) == len(agencies) == len(directory)
        kinds = Counter(a.kind for a in agencies)
        assert kinds[AgencyKind.COMMUNE_SERVICE_CENTRE] == 3321
        assert kinds[AgencyKind.DISTRICT_PEOPLES_COMMITTEE] == 696

    def test_codes_end_in_province_group(self, directory):
        """Every code ends in H{province_code}."""
        for agency in directory.all():
            assert agency.code.endswith(f".H{agency.province_code}")

    @pytest.mark.parametrize(
        ("lookup", "expected_code", "kind", "name"),
        [
            (
                lambda d: d.province_peoples_committee("01", Era.FROM_2025),
                "000.00.00.H01",
                AgencyKind.PROVINCE_PEOPLES_COMMITTEE,
                "Ủy ban nhân dân Thành phố Hà Nội",
            ),
            (
                lambda d: d.province_service_centre("01", Era.LEGACY),
                "000.00.01.H01",
                AgencyKind.PROVINCE_SERVICE_CENTRE,
                "Trung tâm Phục vụ hành chính công Thành phố Hà Nội",
            ),
            (
                lambda d: d.district_peoples_committee("001"),
                "001.00.00.H01",
                AgencyKind.DISTRICT_PEOPLES_COMMITTEE,
                "Ủy ban nhân dân Quận Ba Đình",
            ),
            (
                lambda d: d.commune_peoples_committee("00004", Era.LEGACY),
                "001.00004.00.H01",
                AgencyKind.COMMUNE_PEOPLES_COMMITTEE,
                "Ủy ban nhân dân Phường Trúc Bạch",
            ),
            (
                lambda d: d.commune_peoples_committee("00004", Era.FROM_2025),
                "000.00004.00.H01",
                AgencyKind.COMMUNE_PEOPLES_COMMITTEE,
                "Ủy ban nhân dân Phường Ba Đình",
            ),
            (
                lambda d: d.commune_service_centre("00004"),
                "000.00004.01.H01",
                AgencyKind.COMMUNE_SERVICE_CENTRE,
                "Trung tâm Phục vụ hành chính công Phường Ba Đình",
            ),
        ],
        ids=[
            "province_pc",
            "province_centre",
            "district_pc",
            "legacy_commune_pc",
            "new_commune_pc",
            "commune_centre",
        ],
    )
    def test_round_trip_each_kind(self, directory, lookup, expected_code, kind, name):
        """Each kind's lookup yields the expected code, and get(code) returns the same agency."""
        agency = lookup(directory)
        assert isinstance(agency, Agency)
        assert (agency.code, agency.kind, agency.name) == (expected_code, kind, name)
        assert directory.get(agency.code) is agency

    def test_get_unknown(self, directory):
        """get() of an unknown code is None."""
        assert directory.get("999.99999.99.H99") is None

    def test_legacy_district_pc_not_valid_from_2025(self, directory):
        """A legacy district People's Committee is valid only before the reform."""
        agency = directory.district_peoples_committee("001")
        assert agency.valid_in(Era.LEGACY)
        assert not agency.valid_in(Era.FROM_2025)

    def test_continuing_province_valid_in_both_eras(self, directory):
        """Hà Nội's People's Committee is one agency across both eras."""
        old = directory.province_peoples_committee("01", Era.LEGACY)
        new = directory.province_peoples_committee("01", Era.FROM_2025)
        assert old is new and old.eras == frozenset(Era)

    def test_legacy_only_province(self, directory):
        """Hà Giang's committee exists only in LEGACY and has no FROM_2025 counterpart."""
        agency = directory.province_peoples_committee("02", Era.LEGACY)
        assert agency.code == "000.00.00.H02" and agency.eras == frozenset({Era.LEGACY})
        assert directory.province_peoples_committee("02", Era.FROM_2025) is None

    def test_reused_province_code_gets_distinct_agencies(self, directory):
        """Legacy Long An (80) and new Tây Ninh (80) are different agencies with different codes."""
        old = directory.province_peoples_committee("80", Era.LEGACY)
        new = directory.province_peoples_committee("80", Era.FROM_2025)
        assert old.name == "Ủy ban nhân dân Tỉnh Long An" and old.code == "000.00.90.H80"
        assert new.name == "Ủy ban nhân dân Tỉnh Tây Ninh" and new.code == "000.00.00.H80"
        assert directory.province_service_centre("80", Era.LEGACY).code == "000.00.91.H80"

    def test_receiving_units_filtered_by_era(self, directory, units):
        """receiving_units lists only agencies of that province valid in that era, centre first."""
        for era in Era:
            agencies = directory.receiving_units("01", era)
            assert agencies[0].kind is AgencyKind.PROVINCE_SERVICE_CENTRE
            assert all(a.province_code == "01" and a.valid_in(era) for a in agencies)
        new_kinds = Counter(a.kind for a in directory.receiving_units("01", Era.FROM_2025))
        assert new_kinds[AgencyKind.COMMUNE_SERVICE_CENTRE] == len(units.communes(Era.FROM_2025, "01"))
        assert AgencyKind.DISTRICT_PEOPLES_COMMITTEE not in new_kinds
        assert directory.receiving_units("02", Era.FROM_2025) == []


class TestLoading:
    def test_cached_load_is_fast(self, units, directory):
        """After the first call both loads return the cached object in well under 1 s."""
        start = time.perf_counter()
        again_units = AdminUnits.load()
        again_directory = AgencyDirectory.load()
        elapsed = time.perf_counter() - start
        assert again_units is units and again_directory is directory
        assert elapsed < 1.0
