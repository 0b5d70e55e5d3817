"""Snapshots of reference data into the records store: the catalogue and the agencies.

Reports and auditors name procedures and units from these tables rather than from files
that may have changed since. A snapshot replaces what it covers (upsert by key) and never
deletes: a retired unit or version stays nameable for the dossiers that refer to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from sqlalchemy import FromClause

from adminunits.agencies import Agency, AgencyDirectory
from adminunits.registry import Era
from adminunits.succession import AuthoritySuccession, SuccessorTable
from procedures.catalogue import Catalogue
from records.database import RecordsStore, insert_for
from records.tables import ProcedureRow, ProcedureVersionRow, UnitRow, UnitSuccessionRow

__all__ = ["snapshot_catalogue", "snapshot_units"]

_CHUNK = 1000  # rows per INSERT: well under both dialects' bound-parameter limits


async def snapshot_catalogue(store: RecordsStore, catalogue: Catalogue) -> tuple[int, int]:
    """Upsert every procedure and version of `catalogue`; returns (procedures, versions)."""
    procedures = [{"code": p.code, "name": p.name, "sector": p.sector} for p in catalogue.procedures.values()]
    versions = [
        {
            "version_id": v.version_id,
            "procedure_code": v.procedure_code,
            "effective_from": v.effective_from,
            "effective_until": v.effective_to,
            "authority_level": v.authority_level.value,
            "definition": v.model_dump_json(),
        }
        for p in catalogue.procedures.values()
        for v in p.versions
    ]
    await _upsert(store, ProcedureRow.__table__, ["code"], procedures)
    await _upsert(store, ProcedureVersionRow.__table__, ["version_id"], versions)
    return len(procedures), len(versions)


async def snapshot_units(
    store: RecordsStore,
    directory: AgencyDirectory | None = None,
    succession: AuthoritySuccession | None = None,
) -> int:
    """Upsert every agency of both eras, and where each abolished one's dossiers went; returns
    how many agencies."""
    directory = directory or AgencyDirectory.load()
    succession = succession or AuthoritySuccession(directory)
    agencies = directory.all()
    tables = {a.code: succession.table(a.code) for a in agencies if succession.is_abolished(a.code)}
    units = [_unit(a) | {"successor_code": _default(tables.get(a.code))} for a in agencies]
    await _upsert(store, UnitRow.__table__, ["code"], units)
    await _upsert(
        store, UnitSuccessionRow.__table__, ["old_code", "legacy_commune_code"], _successions(tables)
    )
    return len(agencies)


def _default(table: SuccessorTable | None) -> str | None:
    # A district has no single successor: its rows in unit_successions go per commune.
    return table.default.code if table is not None and table.default is not None else None


def _successions(tables: dict[str, SuccessorTable]) -> Iterable[dict]:
    for old_code, table in tables.items():
        pairs = [("", table.default)] if table.default is not None else sorted(table.by_commune.items())
        for commune, unit in pairs:
            yield {
                "old_code": old_code,
                "legacy_commune_code": commune,
                "successor_code": unit.code,
                "alternatives": ",".join(unit.alternatives),
            }


def _unit(agency: Agency) -> dict:
    return {
        "code": agency.code,
        "name": agency.name,
        "kind": agency.kind.value,
        "province_code": agency.province_code,
        "district_code": agency.district_code,
        "commune_code": agency.commune_code,
        "legacy": agency.valid_in(Era.LEGACY),
        "current": agency.valid_in(Era.FROM_2025),
    }


async def _upsert(store: RecordsStore, table: FromClause, keys: list[str], rows: Iterable[dict]) -> None:
    iterator = iter(rows)
    async with store.sessions() as session:
        while chunk := list(islice(iterator, _CHUNK)):
            statement = insert_for(store.engine, table).values(chunk)
            columns = {c: statement.excluded[c] for c in chunk[0] if c not in keys}
            await session.execute(statement.on_conflict_do_update(index_elements=keys, set_=columns))
        await session.commit()
