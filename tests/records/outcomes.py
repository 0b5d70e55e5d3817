"""A known dataset for the outcome definitions: paused, refused late, withdrawn late, carried over.

Nine dossiers of March 2019 in two handling units (A, B) and the abolished unit they came from
(OLD); every count of their report is computed by hand in tests/audit/test_report_outcomes.py.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from records.tables import DossierEventRow, DossierRow
from tests.records.march import vn


class Outcomes:
    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:8]
        self.A, self.B, self.OLD = f"OA-{tag}", f"OB-{tag}", f"OOLD-{tag}"
        self.P = f"7.{tag[:6]}"
        self.tag = tag
        self.counter = f"ocounter-{tag}"

    def code(self, name: str) -> str:
        return f"{name}-{self.tag}"

    def rows(self) -> list[DossierRow]:
        A, B = self.A, self.B
        carried = (self.OLD, None)
        # (name, unit, received, due, resolved, closed, status, overdue_at, carried over at)
        spec = [
            # waiting since 03-07 for the applicant; its unshifted due moment 03-11 has passed
            ("O1", B, vn("03-04"), vn("03-11", "17:00"), None, None, "supplement_requested", None, None),
            # overdue on 03-08, then asked for a supplement on 03-12: the deadline was missed first
            (
                "O2",
                B,
                vn("03-04"),
                vn("03-08", "17:00"),
                None,
                None,
                "supplement_requested",
                vn("03-08", "17:00"),
                None,
            ),
            # refused on 03-18, after it turned overdue on 03-12
            (
                "O3",
                B,
                vn("03-05"),
                vn("03-12", "17:00"),
                None,
                vn("03-18", "10:00"),
                "refused",
                vn("03-12", "17:00"),
                None,
            ),
            # refused on 03-10, well within its deadline
            ("O4", B, vn("03-05"), vn("03-20", "17:00"), None, vn("03-10"), "refused", None, None),
            # refused on 03-15 while waiting (since 03-08) for the applicant; unshifted due 03-12
            ("O5", B, vn("03-05"), vn("03-12", "17:00"), None, vn("03-15"), "refused", None, None),
            # asked on 03-06, supplemented 03-11 (due shifted to 03-25), still held on 04-01
            ("O9", B, vn("03-04"), vn("03-25", "17:00"), None, None, "processing", None, None),
            # received at OLD in February, carried to A on 03-02, withdrawn on 03-09 after its due
            # moment (no `overdue` entry recorded yet), clock running
            ("O6", A, vn("02-25"), vn("03-07", "17:00"), None, vn("03-09"), "withdrawn", None, vn("03-02")),
            # received at OLD on 03-01, carried to A on 03-02, result on the due day: on time
            (
                "O7",
                A,
                vn("03-01"),
                vn("03-15", "17:00"),
                vn("03-15", "10:00"),
                None,
                "processed",
                None,
                vn("03-02"),
            ),
            # received at OLD on 03-20, carried to A on 03-25, pending within its deadline
            ("O8", A, vn("03-20"), vn("04-05", "17:00"), None, None, "processing", None, vn("03-25")),
        ]
        return [
            DossierRow(
                code=self.code(name),
                procedure_code=self.P,
                version_id=f"{self.P}@v1",
                receiving_unit=self.counter,
                handling_unit=unit,
                status=status,
                channel="counter",
                received_at=received,
                due_at=due,
                resolved_at=resolved,
                closed_at=closed,
                overdue=overdue_at is not None,
                overdue_at=overdue_at,
                carried_over_from=carried[0] if moved else None,
                carried_over_at=moved,
                current_roles="",
                last_event_seq=0,
                last_event_hash="",
            )
            for name, unit, received, due, resolved, closed, status, overdue_at, moved in spec
        ]

    def events(self) -> list[DossierEventRow]:
        def event(name: str, seq: int, action: str, at: datetime) -> DossierEventRow:
            return DossierEventRow(
                dossier_code=self.code(name),
                seq=seq,
                action=action,
                actor_id="x",
                actor_unit="",
                at=at,
                status_after=action,
                payload="{}",
                prev_hash="",
                hash="",
            )

        return [
            event("O1", 3, "supplement_requested", vn("03-07", "10:00")),
            event("O2", 4, "supplement_requested", vn("03-12")),
            event("O5", 3, "supplement_requested", vn("03-08")),
            event("O9", 3, "supplement_requested", vn("03-06")),
            event("O9", 4, "supplemented", vn("03-11")),
        ]
