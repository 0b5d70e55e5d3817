"""A known dataset: fifteen dossiers of March 2019, each count of their report computed by hand."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from adminunits import VN_TZ
from records.tables import DossierEventRow, DossierRow

MARCH = datetime(2019, 3, 1, tzinfo=VN_TZ), datetime(2019, 4, 1, tzinfo=VN_TZ)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def vn(day: str, hm: str = "09:00") -> datetime:
    return datetime.fromisoformat(f"2019-{day}T{hm}").replace(tzinfo=VN_TZ)


class Dataset:
    """Fifteen dossiers of March 2019 (no D15) in two handling units (A, B) and two procedures (P1, P2)."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:8]
        self.A, self.B, self.OLD = f"A-{tag}", f"B-{tag}", f"OLD-{tag}"
        self.P1, self.P2 = f"9.{tag[:6]}", f"8.{tag[:6]}"
        self.tag = tag

    def rows(self) -> list[DossierRow]:
        A, B, P1, P2 = self.A, self.B, self.P1, self.P2
        # (name, unit, procedure, channel, received, due, resolved, closed, status, overdue_at, carried)
        spec = [
            # resolved early (a day before the due day), online
            (
                "D1",
                A,
                P1,
                "online",
                vn("03-02"),
                vn("03-10", "17:00"),
                vn("03-05", "10:00"),
                None,
                "processed",
                None,
                None,
            ),
            # resolved on the due day, then returned
            (
                "D2",
                A,
                P1,
                "counter",
                vn("03-03"),
                vn("03-10", "17:00"),
                vn("03-10", "15:00"),
                vn("03-11"),
                "returned",
                None,
                None,
            ),
            # resolved after the due moment
            (
                "D3",
                A,
                P2,
                "counter",
                vn("03-04"),
                vn("03-12", "17:00"),
                vn("03-13"),
                None,
                "processed",
                None,
                None,
            ),
            # overdue, apology moved the due moment, resolved before the new one: still late
            (
                "D4",
                A,
                P2,
                "online",
                vn("03-05"),
                vn("03-20", "17:00"),
                vn("03-18"),
                None,
                "processed",
                vn("03-09", "17:00"),
                None,
            ),
            # pending within its deadline, waiting for the supplement requested on 03-25 (below)
            (
                "D5",
                B,
                P1,
                "counter",
                vn("03-20"),
                vn("04-10", "17:00"),
                None,
                None,
                "supplement_requested",
                None,
                None,
            ),
            # pending, overdue since 03-25
            (
                "D6",
                B,
                P1,
                "counter",
                vn("03-10"),
                vn("03-25", "17:00"),
                None,
                None,
                "processing",
                vn("03-25", "17:00"),
                None,
            ),
            # withdrawn, online
            (
                "D7",
                B,
                P2,
                "online",
                vn("03-12"),
                vn("03-22", "17:00"),
                None,
                vn("03-15"),
                "withdrawn",
                None,
                None,
            ),
            # refused (and supplement requested, below)
            (
                "D8",
                B,
                P2,
                "counter",
                vn("03-12"),
                vn("03-22", "17:00"),
                None,
                vn("03-20"),
                "refused",
                None,
                None,
            ),
            # received in February, resolved early in March
            (
                "D9",
                A,
                P1,
                "counter",
                vn("02-20"),
                vn("03-05", "17:00"),
                vn("03-04"),
                None,
                "processed",
                None,
                None,
            ),
            # all in February: nothing in March
            (
                "D10",
                A,
                P1,
                "counter",
                vn("02-10"),
                vn("02-26", "17:00"),
                vn("02-25"),
                vn("02-26"),
                "returned",
                None,
                None,
            ),
            # received in February at OLD, carried over to B on 03-16, pending within deadline
            (
                "D11",
                B,
                P1,
                "counter",
                vn("02-15"),
                vn("04-01", "17:00"),
                None,
                None,
                "processing",
                None,
                (self.OLD, vn("03-16")),
            ),
            # received in March, resolved in April: pending within deadline at the end of March
            (
                "D12",
                A,
                P2,
                "counter",
                vn("03-28"),
                vn("04-03", "17:00"),
                vn("04-02"),
                None,
                "processed",
                None,
                None,
            ),
            # received in April: nothing in March
            (
                "D13",
                A,
                P1,
                "counter",
                vn("04-02"),
                vn("04-09", "17:00"),
                None,
                None,
                "processing",
                None,
                None,
            ),
            # received half an hour into March (still February in UTC); due passed at the end
            # of March without an `overdue` entry yet: pending overdue
            (
                "D14",
                B,
                P2,
                "counter",
                vn("03-01", "00:30"),
                vn("03-31", "17:00"),
                None,
                None,
                "processing",
                None,
                None,
            ),
            # resolved 06:30 on the due day (the day before in UTC): on time, not early
            (
                "D16",
                A,
                P2,
                "counter",
                vn("03-06"),
                vn("03-10", "17:00"),
                vn("03-10", "06:30"),
                None,
                "processed",
                None,
                None,
            ),
        ]
        rows = []
        for name, unit, proc, channel, received, due, resolved, closed, status, overdue_at, carried in spec:
            rows.append(
                DossierRow(
                    code=f"{name}-{self.tag}",
                    procedure_code=proc,
                    version_id=f"{proc}@v1",
                    receiving_unit=f"counter-{self.tag}",
                    handling_unit=unit,
                    status=status,
                    channel=channel,
                    received_at=received,
                    due_at=due,
                    resolved_at=resolved,
                    closed_at=closed,
                    overdue=overdue_at is not None,
                    overdue_at=overdue_at,
                    carried_over_from=carried[0] if carried else None,
                    carried_over_at=carried[1] if carried else None,
                    current_roles="",
                    last_event_seq=0,
                    last_event_hash="",
                )
            )
        return rows

    def events(self) -> list[DossierEventRow]:
        def supplement(name: str, seq: int, at: datetime) -> DossierEventRow:
            return DossierEventRow(
                dossier_code=f"{name}-{self.tag}",
                seq=seq,
                action="supplement_requested",
                actor_id="x",
                actor_unit="",
                at=at,
                status_after="supplement_requested",
                payload="{}",
                prev_hash="",
                hash="",
            )

        # D5 and D8 in March; D10 in February (outside the period).
        return [
            supplement("D5", 3, vn("03-25")),
            supplement("D8", 3, vn("03-14")),
            supplement("D10", 3, vn("02-20")),
        ]
