"""Reference snapshots: the catalogue and the agencies copied into the records store."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from adminunits.agencies import Agency, AgencyDirectory, AgencyKind
from adminunits.registry import Era
from procedures.catalogue import default_catalogue
from records.reference import snapshot_catalogue, snapshot_units
from records.tables import ProcedureRow, ProcedureVersionRow, UnitRow, UnitSuccessionRow


async def test_catalogue_snapshot_has_every_procedure_and_version_and_is_repeatable(records):
    """Every curated procedure and version, the definition as JSON; a second snapshot adds nothing."""
    catalogue = default_catalogue()
    procedures, versions = await snapshot_catalogue(records, catalogue)
    assert procedures == len(catalogue.procedures)
    assert versions == sum(len(v) for v in catalogue.versions_by_code.values())
    await snapshot_catalogue(records, catalogue)
    async with records.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ProcedureVersionRow)) == versions
        district = await session.scalar(
            select(ProcedureVersionRow)
            .where(ProcedureVersionRow.procedure_code == "1.001612")
            .order_by(ProcedureVersionRow.effective_from)
        )
        procedure = await session.get(ProcedureRow, "1.001612")
    # 1.001612 had a district version until the reform.
    assert district.authority_level.startswith("district") and district.effective_until is not None
    assert json.loads(district.definition)["procedure_code"] == "1.001612"
    assert procedure.name == catalogue.procedures["1.001612"].name


async def test_units_snapshot_keeps_both_eras(records):
    """A legacy district committee and a new commune committee, each flagged with its era."""
    directory = AgencyDirectory(
        [
            Agency(
                "T01.00.00.H01",
                "UBND quận thử",
                AgencyKind.DISTRICT_PEOPLES_COMMITTEE,
                "01",
                frozenset({Era.LEGACY}),
                district_code="001",
            ),
            Agency(
                "000.T0004.00.H01",
                "UBND phường thử",
                AgencyKind.COMMUNE_PEOPLES_COMMITTEE,
                "01",
                frozenset({Era.FROM_2025}),
                commune_code="00004",
            ),
        ]
    )
    assert await snapshot_units(records, directory) == 2
    async with records.sessions() as session:
        district = await session.get(UnitRow, "T01.00.00.H01")
        commune = await session.get(UnitRow, "000.T0004.00.H01")
    assert (district.legacy, district.current, district.district_code) == (True, False, "001")
    assert (commune.legacy, commune.current, commune.kind) == (False, True, "commune_peoples_committee")


async def test_units_snapshot_records_where_each_abolished_authority_went(records):
    """A district's dossiers go per commune of the address; an old ward's to its 2025 ward."""
    await snapshot_units(records)
    async with records.sessions() as session:
        district = await session.get(UnitRow, "256.00.00.H27")  # Thành phố Bắc Ninh
        ward = await session.get(UnitRow, "256.09163.00.H27")  # its Phường Vũ Ninh
        by_commune = await session.get(UnitSuccessionRow, ("256.00.00.H27", "09163"))
        rows = await session.scalar(
            select(func.count())
            .select_from(UnitSuccessionRow)
            .where(UnitSuccessionRow.old_code == "256.00.00.H27")
        )
    assert district.successor_code is None and rows > 1
    assert by_commune.successor_code == "000.09169.00.H24"
    assert ward.successor_code == "000.09169.00.H24"
