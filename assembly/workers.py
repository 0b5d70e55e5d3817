"""Assembling a worker: the dossier workflow and its activities with their dependencies."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.worker import Worker

from activities.calendar import CalendarActivities
from activities.group_records import GroupRecordActivities
from activities.notice_sending import NoticeActivities
from activities.partners import PartnerActivities, PartnerDirectory
from activities.portal_sync import PortalSyncActivities
from activities.records import RecordActivities
from carryover.activities import CarryoverActivities
from carryover.workflow import CarryoverWorkflow
from model.queue_routing import QueueRouting
from procedures.calendar import WorkingCalendar
from records.database import RecordsStore
from runtime.codec import EncryptionCodec
from runtime.delivery_settings import DeliverySettings
from runtime.partner_settings import PartnerSettings
from workflows.dossier import DossierWorkflow
from workflows.group import GroupWorkflow
from workflows.outbox_delivery import OutboxDeliveryWorkflow

__all__ = ["WORKFLOWS", "build_worker"]

WORKFLOWS = [DossierWorkflow, CarryoverWorkflow, OutboxDeliveryWorkflow, GroupWorkflow]


def build_worker(
    client: Client,
    task_queue: str,
    records: RecordsStore,
    calendar: WorkingCalendar | None = None,
    delivery: DeliverySettings | None = None,
    routing: QueueRouting | None = None,
    partners: PartnerSettings | None = None,
    **worker_options,
) -> Worker:
    """A worker polling `task_queue`; `routing` (the task queues by province) goes with the
    carryover's transfers, so carried-over dossiers move to their new province's queue;
    `partners` (default: the environment's) the partner agencies' systems a group's members
    are handed to."""
    # The apology's validator asks the shipped calendar inside the workflow (see
    # workflows.dossier_apology): built here, outside the sandbox, so no workflow task reads its file.
    WorkingCalendar.default()
    # The client's payload codec also seals the applicants' contacts in the records store.
    codec = client.data_converter.payload_codec
    codec = codec if isinstance(codec, EncryptionCodec) else None
    delivery = delivery or DeliverySettings.from_env()
    recorder = RecordActivities(records, codec)
    portal = PortalSyncActivities(records, delivery)
    notices = NoticeActivities(records, delivery, codec)
    clock = CalendarActivities(calendar or WorkingCalendar.default())
    carryover = CarryoverActivities(client, records, routing=routing)
    groups = GroupRecordActivities(records, codec)
    partner_systems = PartnerActivities(
        PartnerDirectory.from_settings(partners or PartnerSettings.from_env())
    )
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[
            recorder.record_events,
            clock.shift_deadline,
            clock.appointment,
            clock.check_deadline,
            carryover.count_candidates,
            carryover.list_candidates,
            carryover.carry_over_batch,
            portal.deliver,
            notices.send,
            groups.record_group,
            partner_systems.submit_to_partner,
            partner_systems.partner_outcome,
        ],
        **worker_options,
    )
