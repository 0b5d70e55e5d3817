"""Interlinked groups in the catalogue: declared, validated on load, versioned, with provenance."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from adminunits import VN_TZ
from procedures.catalogue import CatalogueError, default_catalogue
from procedures.groups import (
    GROUPS_DIR,
    GroupCatalogue,
    MemberAgency,
    NoGroupVersionInForce,
    UnknownGroup,
    default_groups,
)
from workflows.group_rules import dependents

AFTER_REFORM = datetime(2026, 11, 30, 9, tzinfo=VN_TZ)


def shipped() -> dict:
    return json.loads((GROUPS_DIR / "decision-296.json").read_text(encoding="utf-8"))


def load(tmp_path: Path, document: dict) -> GroupCatalogue:
    (tmp_path / "groups.json").write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return GroupCatalogue.load(default_catalogue(), tmp_path)


def birth_group(document: dict) -> dict:
    return document["groups"][0]["versions"][0]


class TestShippedGroups:
    """Both groups of Decision 296/QĐ-VPCP are defined, with their facts' provenance."""

    def test_the_birth_group_three_agencies_in_dependency_order_within_3_working_days(self):
        version = default_groups().resolve("LT296.01", AFTER_REFORM)
        assert [(m.key, m.procedure_code, m.agency) for m in version.members] == [
            ("birth", "1.001193", MemberAgency.COMMUNE_PEOPLES_COMMITTEE),
            ("residence", "1.004222", MemberAgency.COMMUNE_POLICE),
            ("insurance", "1.014137", MemberAgency.SOCIAL_INSURANCE),
        ]
        assert version.member("insurance").depends_on == ("birth", "residence")
        assert version.time_limit.describe() == "3 working days"
        assert (
            version.decision == "296/QĐ-VPCP" and "Nghị định 63/2024/NĐ-CP" in version.provenance.legal_basis
        )

    def test_the_death_group_and_what_could_not_be_verified(self):
        version = default_groups().resolve("LT296.02", AFTER_REFORM)
        assert [m.procedure_code for m in version.members] == ["1.000656", "1.003197", "1.014177"]
        assert version.provenance.status == "unverified"
        assert "assumption" in version.provenance.notes  # its limit was not found

    def test_groups_run_from_the_member_versions_the_catalogue_holds(self):
        """Before 2025-07-01 the residence procedure has no version here: no group version either."""
        with pytest.raises(NoGroupVersionInForce):
            default_groups().resolve("LT296.01", datetime(2025, 6, 30, tzinfo=VN_TZ))
        with pytest.raises(UnknownGroup):
            default_groups().resolve("LT296.99", AFTER_REFORM)


class TestValidation:
    """A bad group file loads nothing and names the file, the group and the field."""

    def test_a_dependency_cycle_is_refused(self, tmp_path):
        document = shipped()
        birth_group(document)["members"][0]["depends_on"] = ["insurance"]
        with pytest.raises(
            CatalogueError, match=r"groups.json: LT296.01: version LT296.01@2025-07-01: .*cycle"
        ):
            load(tmp_path, document)

    def test_a_dependency_on_an_unknown_member_is_refused(self, tmp_path):
        document = shipped()
        birth_group(document)["members"][1]["depends_on"] = ["baptism"]
        with pytest.raises(CatalogueError, match=r"members.residence.depends_on: unknown members: baptism"):
            load(tmp_path, document)

    def test_a_member_procedure_the_catalogue_cannot_run_is_refused(self, tmp_path):
        document = shipped()
        birth_group(document)["members"][2]["procedure_code"] = "2.000821"  # listed, no facts
        with pytest.raises(CatalogueError, match=r"members.insurance.procedure_code: .*cannot be received"):
            load(tmp_path, document)

    def test_the_first_member_must_offer_the_group_s_channels(self, tmp_path):
        document = shipped()
        birth_group(document)["channels"] = ["counter", "post"]
        birth_group(document)["members"][0]["procedure_code"] = "1.004222"  # counter and online only
        with pytest.raises(CatalogueError, match=r"members.birth: procedure 1.004222 is not offered on post"):
            load(tmp_path, document)

    def test_overlapping_versions_are_refused(self, tmp_path):
        document = shipped()
        versions = document["groups"][0]["versions"]
        versions.append(
            {
                **versions[0],
                "version_id": "LT296.01@2026-01-01",
                "effective_from": "2026-01-01T00:00:00+07:00",
            }
        )
        with pytest.raises(CatalogueError, match=r"LT296.01: versions .* overlap"):
            load(tmp_path, document)

    def test_a_bounded_limit_and_known_agencies(self, tmp_path):
        document = shipped()
        birth_group(document)["members"][1]["agency"] = "tax_office"
        with pytest.raises(CatalogueError, match=r"members.*agency"):
            load(tmp_path, document)


class TestDependents:
    """Which members a refusal stops: those that need its result, directly or not."""

    def test_a_refused_birth_stops_both_others_a_refused_residence_only_the_card(self):
        version = default_groups().resolve("LT296.01", AFTER_REFORM)

        class Plans:  # the rule reads only the members' keys and dependencies
            members = version.members

        assert dependents(Plans, "birth") == ("residence", "insurance")
        assert dependents(Plans, "residence") == ("insurance",)
        assert dependents(Plans, "insurance") == ()
