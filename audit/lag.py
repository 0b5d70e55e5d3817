"""The audit trail checked against Temporal: does it lag behind what the dossiers did?

`audit.verify.verify` alone sees only the database: a chain that stopped growing (records
store down, a refused batch) is intact there while actions go unrecorded. Here each dossier's
Temporal history (audit.history) says what was accepted; an accepted action (or the receipt)
older than `grace` with no audit row is a lag. A closed dossier recorded everything before it
closed (DossierWorkflow waits for its records), so without a list of codes only the running
dossiers Temporal visibility lists are read: one history fetch each.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from audit.history import AuditorHistory, dossier_history
from audit.verify import Tampering, VerifyResult, verify
from records.database import RecordsStore
from records.tables import DossierRow

__all__ = ["DEFAULT_GRACE", "RUNNING_DOSSIERS", "audit_lag", "lagging", "verify_against_temporal"]

# Projection lag of a healthy store is about a second (docs/records.md): a minute is not normal.
DEFAULT_GRACE = timedelta(minutes=1)
RUNNING_DOSSIERS = "WorkflowType = 'DossierWorkflow' AND ExecutionStatus = 'Running'"
# The ids an accepted update's entry carries on its audit row.
_ID_FIELDS = ("action_id", "transfer_id")


def lagging(history: AuditorHistory, now: datetime, grace: timedelta = DEFAULT_GRACE) -> Tampering | None:
    """What of this history is older than `grace` and still missing from the audit trail.

    `now` is at least the history's last item: a server clock ahead of ours must not hide a lag.
    """
    now = max([now, *(item.at for item in history.items)])
    recorded = {row.action_id for row in history.audit if row.action_id}
    missing = []
    for item in history.items:
        if item.outcome != "accepted" or now - item.at < grace:
            continue
        if item.what == "received":
            if not history.audit:
                missing.append(item)
            continue
        ids = [item.details[f] for f in _ID_FIELDS if item.details.get(f)]
        if ids and not recorded.intersection(ids):
            missing.append(item)
    if not missing:
        return None
    oldest = missing[0]
    return Tampering(
        kind="lagging",
        dossier_code=history.code,
        seq=len(history.audit) + 1,
        detail=(
            f"the audit trail lags Temporal's history: {len(missing)} accepted action(s) not recorded, "
            f"the oldest {oldest.what} at {oldest.at.isoformat()}; the trail ends at seq {len(history.audit)}"
        ),
    )


async def audit_lag(
    client: Client,
    store: RecordsStore,
    codes: Iterable[str] | None = None,
    grace: timedelta = DEFAULT_GRACE,
    now: datetime | None = None,
) -> list[Tampering]:
    """A `lagging` problem per dossier whose audit trail is behind its Temporal history."""
    now = now or datetime.now(UTC)
    if codes is None:
        codes = await _running_dossiers(client, store)
    problems = []
    for code in sorted(set(codes)):
        try:
            history = await dossier_history(client, store, code)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                continue  # not a workflow here: verify's own checks cover the rows
            raise
        problem = lagging(history, now, grace)
        if problem is not None:
            problems.append(problem)
    return problems


async def _running_dossiers(client: Client, store: RecordsStore) -> list[str]:
    """Running dossiers from Temporal visibility; from the records store's open rows on a server
    without visibility (the time-skipping test server), which then cannot see a dossier that
    has no row at all."""
    try:
        return [execution.id async for execution in client.list_workflows(RUNNING_DOSSIERS)]
    except RPCError as err:
        if err.status != RPCStatusCode.UNIMPLEMENTED:
            raise
    async with store.sessions() as session:
        return list(await session.scalars(select(DossierRow.code).where(DossierRow.closed_at.is_(None))))


async def verify_against_temporal(
    store: RecordsStore,
    client: Client,
    codes: Iterable[str] | None = None,
    grace: timedelta = DEFAULT_GRACE,
) -> VerifyResult:
    """`verify` (the hash chains) plus the lag of each audit trail behind Temporal's history."""
    wanted = list(codes) if codes is not None else None
    result = await verify(store, wanted)
    lag = await audit_lag(client, store, wanted, grace)
    return result.model_copy(update={"problems": [*result.problems, *lag]})
