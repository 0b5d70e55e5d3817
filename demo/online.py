"""The demonstration's online scene: a dossier submitted online, checked and received at the
counter, handled to its return, and rated by the applicant (docs/online.md).

Its idempotency keys and action ids come from the day, so a second run finds the same dossier
and repeats nothing: the file is stored once, the submission answers 200, the rating 200.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import httpx

from demo import cast
from model.dossier_inputs import Actor, Address
from officers.tokens import mint_token
from procedures.models import Role

__all__ = ["online_scene"]

# A tiny, valid-looking PDF: the scan of the applicant's declaration.
DECLARATION_PDF = (
    b"%PDF-1.4\n% to khai (demo)\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
)
ONLINE_SERVICE = Actor(
    id="dvc-bac-ninh", name="Cổng dịch vụ công tỉnh", unit="000.00.00.H24", roles=(Role.ONLINE_SERVICE,)
)


class OnlineSceneError(RuntimeError):
    """The API answered something the online scene did not expect."""


async def online_scene(
    http: httpx.AsyncClient, key: bytes, desks: dict[str, Any], commune: str, now: datetime
) -> tuple[str, str]:
    """Play the scene at `commune`'s counter (desks: counter, specialist, leader): the dossier's
    code and a line to print."""
    service = {"Authorization": f"Bearer {mint_token(ONLINE_SERVICE, key)}"}
    digest = hashlib.sha256(DECLARATION_PDF).hexdigest()
    stored = await http.put(
        f"/online/files/{digest}",
        content=DECLARATION_PDF,
        headers={**service, "Content-Type": "application/pdf"},
    )
    _expect(stored, (200, 201), "upload the declaration")

    number = 9
    address = Address(province_code="24", commune_code=commune, detail=f"số {number} đường Thử nghiệm")
    applicant = cast.applicant(100 + number, address)
    submitted = await http.post(
        "/online/dossiers",
        json={
            "procedure_code": "1.004873",
            "applicant": applicant.model_dump(mode="json"),
            "receiving_unit": cast.commune_counter(commune),
            "documents": [{"id": "declaration", "reference": f"sha256:{digest}"}],
        },
        headers={**service, "Idempotency-Key": f"demo-online-{now.date().isoformat()}"},
    )
    _expect(submitted, (200, 201), "submit online")
    registration = submitted.json()
    code = registration["dossier_code"]

    view = await desks["counter"].act(code, "receive_online", f"{code}-received")
    await desks["specialist"].act(code, "complete_step", f"{code}-review", step_id="review")
    await desks["leader"].act(code, "complete_step", f"{code}-approve", step_id="approve")
    view = await desks["counter"].act(code, "return_result", f"{code}-return", channel="online")

    rated = await http.post(
        f"/online/dossiers/{code}/rating",
        json={"personal_id": applicant.personal_id, "score": 5, "comment": "Nhanh, không phải đến trụ sở"},
    )
    _expect(rated, (200, 201), "rate the service")
    return code, (
        f"{code} submitted online (status 1, to be checked by {registration['check_due_at'][:16]}),"
        f" received at {cast.COMMUNES[commune]}'s counter, {view['status']}, rated {rated.json()['score']}/5"
    )


def _expect(response: httpx.Response, statuses: tuple[int, ...], what: str) -> None:
    if response.status_code not in statuses:
        raise OnlineSceneError(f"could not {what}: {response.status_code} {response.text[:300]}")
