"""Succession of units and authorities across 2025-07-01, from vietnamadminunits' tables."""

from __future__ import annotations

import pytest

from adminunits.succession import AuthoritySuccession, Succession


@pytest.fixture(scope="module")
def authorities() -> AuthoritySuccession:
    return AuthoritySuccession()


class TestSuccession:
    def test_every_pre_2025_commune_has_a_successor(self):
        """10,035 communes (the five island districts have none) map to a 2025 commune."""
        assert len(Succession.load()) == 10_035

    def test_a_split_commune_has_a_default_and_alternatives(self):
        """A commune split between several: the package's default plus the other candidates."""
        split = Succession.load().commune("00019")
        assert split.commune_code == "00004" and split.alternatives == ("00070", "00190", "00226")

    def test_a_merged_province_maps_to_its_new_province(self):
        """Bắc Ninh (27) became part of the new Bắc Ninh (24); Hà Nội stays 01."""
        assert Succession.load().province("27") == "24"
        assert Succession.load().province("01") == "01"


class TestAuthoritySuccession:
    def test_a_district_committee_goes_to_the_applicants_new_commune(self, authorities):
        """Quận Ba Đình, applicant in Trúc Bạch (00004): Phường Ba Đình's committee."""
        assert authorities.successor("001.00.00.H01", "00004").code == "000.00004.00.H01"

    def test_a_commune_outside_the_district_is_not_guessed(self, authorities):
        """An address in another district, or an unknown commune: no successor (manual list)."""
        assert authorities.successor("001.00.00.H01", "09163") is None
        assert authorities.successor("001.00.00.H01", "99999") is None

    def test_a_department_of_a_merged_province_goes_to_the_same_department(self, authorities):
        """Sở Tư pháp of old Bắc Ninh -> Sở Tư pháp of the new Bắc Ninh; a retired code too."""
        assert authorities.successor("000.STP.00.H27", None).code == "000.STP.00.H24"
        assert authorities.successor("000.STP.90.H80", None).code == "000.STP.00.H80"

    def test_an_authority_of_both_eras_is_not_carried_over(self, authorities):
        """Hà Nội's departments and communes of 2025 exist after the boundary."""
        assert not authorities.is_abolished("000.STP.00.H01")
        assert not authorities.is_abolished("000.00004.00.H01")
        assert authorities.is_abolished("001.00.00.H01") and authorities.is_abolished("000.00.01.H27")
        assert authorities.successor("000.STP.00.H01", None) is None

    def test_a_district_table_covers_its_communes(self, authorities):
        """The table sent with a district's transfers: one successor per commune of the district."""
        table = authorities.table("001.00.00.H01")
        assert table.default is None and len(table.by_commune) == 13
        assert table.for_commune("00004").code == "000.00004.00.H01"
        assert table.for_commune("09163") is None

    def test_a_counter_goes_to_the_counter_of_the_successor(self, authorities):
        """A district counter -> the new commune's service centre; an old province centre -> the new one's."""
        assert authorities.counter_table("001.00.00.H01").for_commune("00004").code == "000.00004.01.H01"
        assert authorities.counter_table("000.00.01.H27").default.code == "000.00.01.H24"
