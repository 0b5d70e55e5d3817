"""Open dossiers at pre-2025 authorities, started directly as DossierWorkflows.

For the carryover benchmark and its kill-and-resume test: intake cannot receive at an
abolished authority today, and starting the workflows directly is several times faster.
Each is a real DossierWorkflow: received 2025-06-27 at a Hà Nội district People's
Committee, for an applicant living in one of that district's communes.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio.client import Client

from adminunits import VN_TZ, AdminUnits, AgencyDirectory, Era
from intake.checks import unit_of
from model.dossier_inputs import Actor, Address, Applicant, DossierInput
from procedures.catalogue import default_catalogue
from procedures.models import Role
from workflows.dossier import DossierWorkflow

__all__ = ["RECEIVED_AT", "old_dossier_inputs", "start_dossiers"]

RECEIVED_AT = datetime(2025, 6, 27, 9, 0, tzinfo=VN_TZ)
PROVINCE = "01"  # Hà Nội: 30 districts, all abolished on 2025-07-01
PROCEDURE = "1.001612"  # a district-level version until 2025-07-01


def old_dossier_inputs(n: int, prefix: str) -> list[DossierInput]:
    agencies = AgencyDirectory.load()
    communes = AdminUnits.load().communes(Era.LEGACY, PROVINCE)
    version = default_catalogue().resolve(PROCEDURE, RECEIVED_AT)
    inputs = []
    for i in range(n):
        commune = communes[i % len(communes)]
        district = agencies.district_peoples_committee(commune.district_code)
        unit = unit_of(district)
        counter = Actor(id="counter-1", roles=(Role.COUNTER_OFFICER,), unit=unit.code)
        inputs.append(
            DossierInput(
                code=f"{prefix}-{i:05d}",
                procedure=version,
                applicant=Applicant(
                    full_name="Phạm Văn Dũng",
                    personal_id=f"{1090000000 + i:012d}",
                    address=Address(
                        province_code=PROVINCE, district_code=commune.district_code, commune_code=commune.code
                    ),
                ),
                receiving_unit=unit,
                handling_unit=unit,
                received_by=counter,
                received_at=RECEIVED_AT,
                # A far appointment: the dossiers stay idle (no overdue timer firing) while measured.
                due_at=RECEIVED_AT + timedelta(days=3650),
            )
        )
    return inputs


async def start_dossiers(
    client: Client, task_queue: str, inputs: list[DossierInput], concurrency: int = 50
) -> None:
    limit = asyncio.Semaphore(concurrency)

    async def one(dossier: DossierInput) -> None:
        async with limit:
            await client.start_workflow(DossierWorkflow.run, dossier, id=dossier.code, task_queue=task_queue)

    await asyncio.gather(*(one(d) for d in inputs))
