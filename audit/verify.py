"""Reading and verifying the audit trail: every dossier's chain recomputed from its rows.

`verify` reports, per dossier and seq:
- edited: a row's payload no longer gives its hash, or a column disagrees with the payload,
  or the chain head differs from the one the dossiers row remembers;
- deleted: a seq is missing inside the chain or at its end (the dossiers row says how far
  the chain went), or a dossier has no events at all;
- reordered: a row holds another seq's entry, its link points at another row of the chain,
  or rows were stored out of order.
What it cannot see: a consistent rewrite of a chain from some row to its end together with
the dossiers row (compare with Temporal's history: audit.history does), or a chain that
stopped growing while the dossier went on (audit.lag.verify_against_temporal reports it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ValidationError, computed_field
from sqlalchemy import select

from model.dossier_state import TimelineEntry
from records.chain import GENESIS, event_hash
from records.database import RecordsStore
from records.tables import DossierEventRow, DossierRow

__all__ = ["AuditEntry", "Tampering", "VerifyResult", "audit_trail", "verify"]

# lagging: found by audit.lag against Temporal's history, never by the chains alone.
TamperKind = Literal["edited", "deleted", "reordered", "lagging"]


class AuditEntry(BaseModel):
    """One row of a dossier's audit trail, as stored."""

    seq: int
    at: AwareDatetime
    action: str
    action_id: str | None
    actor_id: str
    actor_roles: tuple[str, ...]
    actor_unit: str
    status_before: str | None
    status_after: str
    payload: str
    prev_hash: str
    hash: str
    recorded_at: AwareDatetime | None = None  # when the projection wrote it (not hashed)

    def entry(self) -> TimelineEntry | None:
        """The timeline entry the row holds, or None if its payload is not one any more."""
        return _entry(self.payload)


class Tampering(BaseModel):
    kind: TamperKind
    dossier_code: str
    seq: int
    detail: str


class VerifyResult(BaseModel):
    dossiers: int
    events: int
    problems: list[Tampering]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def intact(self) -> bool:
        return not self.problems


async def audit_trail(store: RecordsStore, code: str) -> list[AuditEntry]:
    async with store.sessions() as session:
        rows = await session.scalars(
            select(DossierEventRow).where(DossierEventRow.dossier_code == code).order_by(DossierEventRow.seq)
        )
        return [_audit_entry(row) for row in rows]


async def verify(store: RecordsStore, codes: Iterable[str] | None = None) -> VerifyResult:
    """Recompute the chains of `codes` (default: every dossier) and report what breaks them."""
    wanted = sorted(set(codes)) if codes is not None else None
    heads = select(DossierRow.code, DossierRow.last_event_seq, DossierRow.last_event_hash)
    # Core rows, not ORM objects: a full verify streams every event without an identity map.
    events = select(DossierEventRow.__table__).order_by(DossierEventRow.dossier_code, DossierEventRow.seq)
    if wanted is not None:
        heads = heads.where(DossierRow.code.in_(wanted))
        events = events.where(DossierEventRow.dossier_code.in_(wanted))
    problems: list[Tampering] = []
    count = 0
    async with store.sessions() as session:
        expected = {code: (seq, digest) for code, seq, digest in await session.execute(heads)}
        seen: set[str] = set()
        chain: list = []
        result = await session.stream(events.execution_options(yield_per=2000))
        async for row in result:
            count += 1
            if chain and chain[0].dossier_code != row.dossier_code:
                problems += _check_chain(chain, expected.get(chain[0].dossier_code))
                seen.add(chain[0].dossier_code)
                chain = []
            chain.append(row)
        if chain:
            problems += _check_chain(chain, expected.get(chain[0].dossier_code))
            seen.add(chain[0].dossier_code)
    for code in sorted(set(expected) - seen):
        if expected[code][0] > 0:
            problems.append(
                Tampering(kind="deleted", dossier_code=code, seq=1, detail="the dossier has no events left")
            )
    return VerifyResult(dossiers=len(seen | set(expected)), events=count, problems=problems)


def _check_chain(rows: list, head: tuple[int, str] | None) -> list[Tampering]:
    code = rows[0].dossier_code
    found: dict[tuple[str, int], Tampering] = {}

    def report(kind: TamperKind, seq: int, detail: str) -> None:
        found.setdefault((kind, seq), Tampering(kind=kind, dossier_code=code, seq=seq, detail=detail))

    hashes = {row.hash for row in rows}
    expected_seq, prev_hash, prev_id, prev_at = 1, GENESIS, None, None
    for row in rows:
        entry = _Claimed.parse(row.payload)
        if entry is None:
            report("edited", row.seq, "the payload is not a timeline entry")
        else:
            # The row's own integrity, with the seq its entry claims.
            if event_hash(code, entry.seq, row.prev_hash, row.payload) != row.hash:
                report("edited", row.seq, "the payload does not give the stored hash")
            if entry.seq != row.seq:
                report("reordered", row.seq, f"position {row.seq} holds entry {entry.seq}")
            mismatch = _columns_differ(row, entry)
            if mismatch:
                report("edited", row.seq, f"column(s) {', '.join(mismatch)} differ from the payload")
            if prev_at is not None and entry.at < prev_at:
                report("reordered", row.seq, "earlier than the entry before it")
            prev_at = entry.at
        if row.seq > expected_seq:
            missing = f"{expected_seq}" if row.seq == expected_seq + 1 else f"{expected_seq}..{row.seq - 1}"
            report("deleted", expected_seq, f"event(s) {missing} missing")
        elif row.prev_hash != prev_hash:
            if row.prev_hash in hashes:
                report("reordered", row.seq, "linked to another event of the chain than the one before it")
            else:
                report(
                    "edited", row.seq - 1, f"event {row.seq} does not link to the stored event {row.seq - 1}"
                )
        if prev_id is not None and row.id < prev_id:
            report("reordered", row.seq, "stored before the event it follows")
        expected_seq, prev_hash, prev_id = row.seq + 1, row.hash, row.id
    if head is not None:
        last_seq, last_hash = head
        if rows[-1].seq < last_seq:
            report(
                "deleted",
                rows[-1].seq + 1,
                f"the chain ends at {rows[-1].seq}; the dossier recorded {last_seq}",
            )
        elif rows[-1].seq == last_seq and last_hash and rows[-1].hash != last_hash:
            report("edited", last_seq, "the last event's hash differs from the dossier's chain head")
    else:
        report("deleted", 0, "events without a dossiers row")
    return sorted(found.values(), key=lambda t: (t.seq, t.kind))


def _entry(payload: str) -> TimelineEntry | None:
    try:
        return TimelineEntry.model_validate_json(payload)
    except ValidationError:
        return None


class _Claimed:
    """What a payload says about itself, read with json (pydantic is ~5x slower per row)."""

    __slots__ = ("seq", "at", "columns")
    seq: int
    at: datetime
    columns: dict[str, str | None]

    @classmethod
    def parse(cls, payload: str) -> _Claimed | None:
        try:
            data = json.loads(payload)
            claimed = cls()
            claimed.seq = int(data["seq"])
            claimed.at = datetime.fromisoformat(data["at"])
            claimed.columns = {
                "action": data["action"],
                "action_id": data.get("action_id"),
                "actor_id": data["actor_id"],
                "actor_roles": ",".join(data.get("actor_roles", ())),
                "actor_unit": data.get("actor_unit", ""),
                "status_after": data["status_after"],
                "status_before": data.get("status_before"),
            }
        except (ValueError, KeyError, TypeError):
            return None
        if claimed.at.tzinfo is None:
            return None
        return claimed


def _columns_differ(row, entry: _Claimed) -> list[str]:
    differ = [name for name, value in entry.columns.items() if getattr(row, name) != value]
    if row.at != entry.at:
        differ.append("at")
    return differ


def _audit_entry(row: DossierEventRow) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        at=row.at,
        action=row.action,
        action_id=row.action_id,
        actor_id=row.actor_id,
        actor_roles=tuple(r for r in row.actor_roles.split(",") if r),
        actor_unit=row.actor_unit,
        status_before=row.status_before,
        status_after=row.status_after,
        payload=row.payload,
        prev_hash=row.prev_hash,
        hash=row.hash,
        recorded_at=row.recorded_at,
    )
