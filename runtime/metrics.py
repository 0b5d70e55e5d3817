"""The engine's own metrics, in Prometheus' text format on the API's `/metrics`.

Counters count in the process that does the work (receipts and actions in the API process,
projections in the worker); the gauges read the records store when scraped, so any process
with the API reports the same backlog. The SDK's own metrics (workflow and activity task
latencies, polls, slots) come from temporalio's runtime on TEMPORAL_METRICS_ADDRESS
(runtime.temporal.sdk_runtime).
"""

from __future__ import annotations

import asyncio
import gc
from datetime import UTC, datetime

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import exists, func, select

from model.dossier_state import TERMINAL
from records.database import RecordsStore
from records.outbox_tables import NO_CONTACT, NoticeDeliveryRow
from records.tables import DossierRow, IntakeRequestRow, NotificationRow

__all__ = [
    "ACTIONS",
    "CONTENT_TYPE_LATEST",
    "PROJECTED_EVENTS",
    "PROJECTION_LAG",
    "RECEIPTS",
    "exposition",
    "observe_projection",
    "refresh_from_records",
]

log = structlog.get_logger(__name__)
_CLOSED = sorted(status.value for status in TERMINAL)

RECEIPTS = Counter(
    "onestop_receipts",
    "Intake requests answered, by outcome (received, resubmitted, supplement, refused)",
    ["outcome"],
)
ACTIONS = Counter(
    "onestop_actions",
    "Officers' actions answered, by action and outcome (done, refused, failed)",
    ["action", "outcome"],
)
PROJECTED_EVENTS = Counter("onestop_projected_events", "Timeline entries written to the records store")
PROJECTION_LAG = Histogram(
    "onestop_projection_lag_seconds",
    "From a timeline entry in the workflow to its row in the records store",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800),
)
OVERDUE = Gauge(
    "onestop_overdue_open_dossiers", "Open dossiers past their due moment (records store, at scrape)"
)
OPEN = Gauge(
    "onestop_open_dossiers", "Dossiers not yet returned, refused or withdrawn (records store, at scrape)"
)
OUTBOX = Gauge(
    "onestop_notifications_unsent", "Applicant notices waiting for the SMS/e-mail gateway (the outbox)"
)
UNSETTLED = Gauge(
    "onestop_intake_unsettled_reservations",
    "Reserved dossier codes whose start Temporal has not yet confirmed",
)
RECORDS_UP = Gauge("onestop_records_store_up", "1 when the records store answered the last scrape's queries")
FROZEN = Gauge(
    "onestop_gc_frozen_objects",
    "Objects the garbage collector's passes skip: all that existed when the process began serving"
    " (runtime.garbage)",
)
FROZEN.set_function(gc.get_freeze_count)


def observe_projection(entry_times: list[datetime]) -> None:
    """Count a recorded batch and how long each of its entries waited for the store."""
    now = datetime.now(UTC)
    for at in entry_times:
        PROJECTION_LAG.observe(max(0.0, (now - at).total_seconds()))
    PROJECTED_EVENTS.inc(len(entry_times))


async def refresh_from_records(records: RecordsStore, timeout: float = 2.0) -> None:
    """Set the gauges from the records store; a store that does not answer within `timeout`
    sets onestop_records_store_up to 0 and leaves the gauges at their last values."""
    try:
        await asyncio.wait_for(_read_gauges(records), timeout)
    except Exception as exc:  # the scrape still answers with the counters
        log.warning("metrics: records store did not answer", error_type=type(exc).__name__)
        RECORDS_UP.set(0)
        return
    RECORDS_UP.set(1)


def _no_contact(notification):
    """The notice reaches nobody (no e-mail, no phone): not waiting for any gateway."""
    return exists().where(
        NoticeDeliveryRow.dossier_code == notification.dossier_code,
        NoticeDeliveryRow.event_seq == notification.event_seq,
        NoticeDeliveryRow.state == NO_CONTACT,
    )


async def _read_gauges(records: RecordsStore) -> None:
    open_ = DossierRow.status.not_in(_CLOSED)
    counts = {
        OPEN: select(func.count()).select_from(DossierRow).where(open_),
        OVERDUE: select(func.count()).select_from(DossierRow).where(open_, DossierRow.overdue),
        OUTBOX: select(func.count())
        .select_from(NotificationRow)
        .where(NotificationRow.sent_at.is_(None), ~_no_contact(NotificationRow)),
        UNSETTLED: select(func.count())
        .select_from(IntakeRequestRow)
        .where(IntakeRequestRow.started.is_(False)),
    }
    async with records.sessions() as session:
        for gauge, query in counts.items():
            gauge.set(await session.scalar(query) or 0)


def exposition() -> bytes:
    return generate_latest(REGISTRY)
