"""Receiving dossiers at the counter: forms 01/02/03, routing, deadlines, codes and idempotency."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from adminunits import VN_TZ
from intake.forms import IntakeRequest, ReceiptSlip, RefusalNotice, SupplementNotice
from intake.service import IntakeForbidden, IntakeService, IntakeTimeouts, RequestIdConflict
from model.dossier_inputs import Actor, Address, Applicant, DossierInput, SubmittedDocument
from procedures.calendar import WorkingCalendar
from procedures.catalogue import Catalogue, default_catalogue
from procedures.models import Channel, Fee, ProcedureVersion, Role
from records.database import PostgresTimeouts
from records.dossier_codes import DossierCodeAllocator
from records.tables import DossierSequenceRow, IntakeRequestRow
from tests.builders import (
    APPLICANT,
    BA_DINH_COMMITTEE,
    BA_DINH_COUNTER,
    CITY_CENTRE,
    COUNTER,
    NGOC_HA_COUNTER,
    Counter,
    at,
    quiet_day,
    request,
    settled,
    travel_to,
)
from workflows.dossier import DossierWorkflow

pytestmark = pytest.mark.usefixtures("worker")

CALENDAR = WorkingCalendar.default()
# A past Thursday with no holiday around it (2026-03-05): receipts dated then are backfilled.
THURSDAY = quiet_day(datetime(2026, 3, 1, tzinfo=VN_TZ), weekday=3)
FRIDAY = THURSDAY + timedelta(days=1)
DISTRICT_BA_DINH = "001.00.00.H01"  # Quận Ba Đình's People's Committee, before 2025-07-01
# Phường Phúc Xá, Quận Ba Đình: legacy commune 00001, no commune has that code since 2025-07-01.
LEGACY_PHUC_XA = Address(province_code="01", commune_code="00001", district_code="001")
HCMC_COMMUNE = "25747"
OTHER_APPLICANT = APPLICANT.model_copy(
    update={"full_name": "Trần Thị Bình", "personal_id": "001190654321"}
)  # Phường Thủ Dầu Một, province 79 (Thành phố Hồ Chí Minh)


def with_catalogue(counter: Counter, records, catalogue: Catalogue) -> Counter:
    """The same counter (clock, queue, clean-up) reading procedures from `catalogue`."""
    counter.service = IntakeService.standard(
        counter.env.client, counter.task_queue, records, catalogue=catalogue, clock=lambda: counter._now
    )
    return counter


def needs_time_skipping(env: WorkflowEnvironment) -> None:
    if not env.supports_time_skipping:
        pytest.skip("moves the clock: time-skipping server only")


def officer(unit: str, *roles: Role) -> Actor:
    return Actor(id=f"officer@{unit}", roles=roles or (Role.COUNTER_OFFICER,), unit=unit)


def commune_counter(commune_code: str) -> str:
    """The 2025 public-service centre of a Hà Nội commune (each test takes its own counter)."""
    return f"000.{commune_code}.01.H01"


def request_at(unit: str, procedure_code: str = "1.004873", **changes) -> IntakeRequest:
    """A complete request received at `unit` by one of its counter officers."""
    changes.setdefault("received_by", officer(unit))
    return request(procedure_code, receiving_unit=unit, **changes)


def applicant_at(address: Address) -> Applicant:
    return APPLICANT.model_copy(update={"address": address})


def number_of(code: str) -> int:
    return int(code.rsplit("-", 1)[1])


async def sequence_rows(records, agency: str) -> list[tuple[str, int]]:
    async with records.sessions() as session:
        rows = await session.execute(
            select(DossierSequenceRow.day, DossierSequenceRow.last_number).where(
                DossierSequenceRow.agency_code == agency
            )
        )
        return [tuple(row) for row in rows]


async def intake_request_rows(records, request_id: str) -> int:
    async with records.sessions() as session:
        return await session.scalar(select(func.count()).where(IntakeRequestRow.request_id == request_id))


async def assert_nothing_started(records, agency: str, request_id: str | None = None) -> None:
    assert await sequence_rows(records, agency) == []
    if request_id is not None:
        assert await intake_request_rows(records, request_id) == 0


class TestMissingDocuments:
    async def test_every_missing_document_in_one_notice(self, counter, records):
        """Form 02 lists all missing mandatory documents at once and starts nothing."""
        unit, request_id = commune_counter("00025"), f"req-{uuid.uuid4()}"
        outcome = await counter.receive(request_at(unit, "1.001193", documents=(), request_id=request_id))

        assert isinstance(outcome, SupplementNotice)
        assert outcome.form == "02" and outcome.procedure_code == "1.001193"
        assert [(m.id, m.reason) for m in outcome.missing] == [
            ("declaration", "missing"),
            ("birth_certificate", "missing"),
        ]
        assert outcome.missing[1].name == "Giấy chứng sinh"
        await assert_nothing_started(records, unit, request_id)

    async def test_only_the_absent_ones_are_listed(self, counter, records):
        """A request with one of two mandatory documents lists just the other one."""
        unit = commune_counter("00229")
        outcome = await counter.receive(
            request_at(unit, "1.004884", documents=(SubmittedDocument(id="commitment"),))
        )
        assert isinstance(outcome, SupplementNotice)
        assert [m.id for m in outcome.missing] == ["declaration"]
        await assert_nothing_started(records, unit)

    async def test_national_database_documents_are_never_missing(self, counter):
        """Documents replaceable by a national database (applicant_id, owner_id) are never asked for."""
        for code in ("1.001193", "3.000333", "1.001612"):
            outcome = await counter.receive(request_at(BA_DINH_COUNTER, code, documents=()))
            assert isinstance(outcome, SupplementNotice), code
            assert not {"applicant_id", "owner_id"} & {m.id for m in outcome.missing}, code
            assert outcome.missing, code

    async def test_too_few_copies_listed_with_reason(self, counter, records):
        """A document given in fewer copies than required is listed with how many are missing."""
        version = default_catalogue().resolve("1.004884", datetime.now(VN_TZ))
        documents = [d.model_dump() for d in version.required_documents]
        documents[0]["copies"] = 3  # declaration
        strict = ProcedureVersion.model_validate({**version.model_dump(), "required_documents": documents})
        service = with_catalogue(counter, records, Catalogue.from_versions([strict]))
        unit = commune_counter("00070")
        outcome = await service.receive(
            request_at(
                unit,
                "1.004884",
                documents=(
                    SubmittedDocument(id="declaration"),
                    SubmittedDocument(id="commitment"),
                ),
            )
        )
        assert isinstance(outcome, SupplementNotice)
        assert [(m.id, m.reason) for m in outcome.missing] == [("declaration", "3 copies required, 1 given")]
        # Copies of the same document add up.
        outcome = await service.receive(
            request_at(
                unit,
                "1.004884",
                documents=(
                    SubmittedDocument(id="declaration", copies=2),
                    SubmittedDocument(id="commitment"),
                    SubmittedDocument(id="declaration"),
                ),
                received_at=at(THURSDAY, 9),
            )
        )
        assert isinstance(outcome, ReceiptSlip), outcome
        assert outcome.dossier_code == f"{unit}-{THURSDAY:%y%m%d}-0001"


class TestRefusals:
    async def test_unknown_procedure(self, counter, records):
        """An unknown procedure code is refused (form 03) naming procedure_code."""
        unit = commune_counter("00082")
        outcome = await counter.receive(request_at(unit, "9.999999"))
        assert isinstance(outcome, RefusalNotice)
        assert outcome.form == "03" and outcome.procedure_code == "9.999999"
        assert len(outcome.reasons) == 1
        assert outcome.reasons[0].startswith("procedure_code: ") and "9.999999" in outcome.reasons[0]
        await assert_nothing_started(records, unit)

    async def test_before_the_reform_the_district_version_applies(self, counter):
        """1.001612 received on 2025-06-30 16:59 uses the district version and goes to the district."""
        slip = await counter.receive(
            request_at(
                CITY_CENTRE,
                "1.001612",
                applicant=applicant_at(LEGACY_PHUC_XA),
                received_at=datetime(2025, 6, 30, 16, 59, tzinfo=VN_TZ),
            )
        )
        assert isinstance(slip, ReceiptSlip), slip
        assert slip.version_id == "1.001612@2021-04-01-district"
        assert slip.handling_unit == DISTRICT_BA_DINH
        assert slip.handling_unit_name == "Ủy ban nhân dân Quận Ba Đình"
        assert slip.receiving_unit == CITY_CENTRE
        assert slip.dossier_code == f"{CITY_CENTRE}-250630-0001"
        assert slip.due_at == datetime(2025, 7, 3, 17, tzinfo=VN_TZ)  # Tue, Wed, Thu
        view = await counter.handle(slip.dossier_code).query(DossierWorkflow.view)
        assert (view.handling_unit, view.version_id) == (DISTRICT_BA_DINH, slip.version_id)

    async def test_after_the_reform_a_gone_commune_is_refused(self, counter):
        """The same request on 2025-07-01 08:00 is refused: commune 00001 no longer exists."""
        outcome = await counter.receive(
            request_at(
                CITY_CENTRE,
                "1.001612",
                applicant=applicant_at(LEGACY_PHUC_XA),
                received_at=datetime(2025, 7, 1, 8, tzinfo=VN_TZ),
            )
        )
        assert isinstance(outcome, RefusalNotice)
        assert outcome.reasons == (
            "applicant.address.commune_code: 00001 is not a commune of province 01 from 2025-07-01",
        )

    async def test_legacy_commune_in_another_district(self, counter):
        """Before the reform, a district code that is not the commune's is refused naming district_code."""
        address = LEGACY_PHUC_XA.model_copy(update={"district_code": "002"})
        outcome = await counter.receive(
            request_at(
                CITY_CENTRE,
                "1.001612",
                applicant=applicant_at(address),
                received_at=datetime(2025, 6, 30, 10, tzinfo=VN_TZ),
            )
        )
        assert isinstance(outcome, RefusalNotice)
        assert len(outcome.reasons) == 1
        assert outcome.reasons[0].startswith("applicant.address.district_code: ")
        assert "001" in outcome.reasons[0] and "002" in outcome.reasons[0]

    async def test_commune_of_another_province(self, counter):
        """A commune code from another province is refused naming applicant.address.commune_code."""
        address = Address(province_code="01", commune_code=HCMC_COMMUNE)
        outcome = await counter.receive(request_at(BA_DINH_COUNTER, applicant=applicant_at(address)))
        assert isinstance(outcome, RefusalNotice)
        assert outcome.reasons == (
            f"applicant.address.commune_code: {HCMC_COMMUNE} is not a commune of province 01 from 2025-07-01",
        )

    async def test_receiving_unit_in_another_province(self, counter):
        """A counter of another province than the applicant's is refused naming both provinces."""
        address = Address(province_code="79", commune_code=HCMC_COMMUNE)
        outcome = await counter.receive(request_at(BA_DINH_COUNTER, applicant=applicant_at(address)))
        assert isinstance(outcome, RefusalNotice)
        assert len(outcome.reasons) == 1
        reason = outcome.reasons[0]
        assert reason.startswith("receiving_unit: ")
        assert "province 01" in reason and "province 79" in reason

    async def test_channel_not_offered(self, counter):
        """A channel the version does not offer (post for 1.004873) is refused naming channel."""
        outcome = await counter.receive(request_at(BA_DINH_COUNTER, channel=Channel.POST))
        assert isinstance(outcome, RefusalNotice)
        assert outcome.reasons == ("channel: post is not offered (offered: counter, online)",)

    async def test_unknown_document(self, counter):
        """A document id that the version does not list is refused naming documents."""
        documents = (SubmittedDocument(id="declaration"), SubmittedDocument(id="passport"))
        outcome = await counter.receive(request_at(BA_DINH_COUNTER, documents=documents))
        assert isinstance(outcome, RefusalNotice)
        assert outcome.reasons == ("documents: 'passport' is not a document of 1.004873@2016-01-01",)

    async def test_receipt_in_the_future(self, env, counter, records):
        """A receipt dated more than 5 minutes ahead of the clock is refused naming received_at."""
        unit = commune_counter("00091")
        later = (await env.get_current_time()).astimezone(VN_TZ) + timedelta(minutes=10)
        outcome = await counter.receive(request_at(unit, received_at=later))
        assert isinstance(outcome, RefusalNotice)
        assert outcome.reasons == (f"received_at: {later.isoformat()} is in the future",)
        await assert_nothing_started(records, unit)

    async def test_a_little_ahead_is_tolerated(self, env, counter):
        """A counter clock 2 minutes ahead of the server is within the tolerance: received."""
        ahead = (await env.get_current_time()).astimezone(VN_TZ) + timedelta(minutes=2)
        slip = await counter.receive(request_at(commune_counter("00097"), received_at=ahead))
        assert isinstance(slip, ReceiptSlip), slip
        assert slip.received_at == ahead

    async def test_all_problems_reported_together(self, env, counter, records):
        """Channel, document, address and date problems all appear in one refusal."""
        unit = commune_counter("00103")
        later = (await env.get_current_time()).astimezone(VN_TZ) + timedelta(days=1)
        outcome = await counter.receive(
            request_at(
                unit,
                channel=Channel.POST,
                documents=(SubmittedDocument(id="declaration"), SubmittedDocument(id="passport")),
                applicant=applicant_at(Address(province_code="01", commune_code=HCMC_COMMUNE)),
                received_at=later,
            )
        )
        assert isinstance(outcome, RefusalNotice)
        assert sorted(r.split(":")[0] for r in outcome.reasons) == [
            "applicant.address.commune_code",
            "channel",
            "documents",
            "received_at",
        ]
        await assert_nothing_started(records, unit)

    async def test_a_refusal_also_lists_the_missing_documents(self, counter, records):
        """A refused request names its missing documents too, so the next request is complete."""
        unit = commune_counter("00103")
        outcome = await counter.receive(request_at(unit, channel=Channel.POST, documents=()))
        assert isinstance(outcome, RefusalNotice)
        assert [r.split(":")[0] for r in outcome.reasons] == ["channel"]
        assert [m.id for m in outcome.missing] == ["declaration"]
        await assert_nothing_started(records, unit)

    async def test_unknown_procedure_still_reports_unit_and_address(self, counter):
        """Without a procedure version, unit and address problems are still reported with it."""
        address = Address(province_code="79", commune_code="00004")  # a Hà Nội code
        outcome = await counter.receive(
            request_at(BA_DINH_COUNTER, "9.999999", applicant=applicant_at(address))
        )
        assert isinstance(outcome, RefusalNotice)
        assert [r.split(":")[0] for r in outcome.reasons] == [
            "receiving_unit",
            "procedure_code",
            "applicant.address.commune_code",
        ]


class TestBackfill:
    async def test_a_past_receipt_without_a_reason_is_refused(self, env, counter, records):
        """Ten minutes back, with no backfill_reason: form 03 naming received_at; nothing started."""
        unit = commune_counter("00433")
        past = (await env.get_current_time()).astimezone(VN_TZ) - timedelta(minutes=10)
        outcome = await counter.receive(request_at(unit, received_at=past, backfill_reason=None))
        assert isinstance(outcome, RefusalNotice)
        assert outcome.reasons == (
            f"received_at: {past.isoformat()} is more than 5 minutes in the past; entering a past receipt"
            " is a backfill: it needs the operator role and a backfill_reason",
        )
        await assert_nothing_started(records, unit)

    async def test_a_counter_officer_may_not_backfill(self, env, counter, records):
        """With a reason but without the operator role: IntakeForbidden (WrongRole); nothing started."""
        unit = commune_counter("00454")
        past = (await env.get_current_time()).astimezone(VN_TZ) - timedelta(days=2)
        with pytest.raises(IntakeForbidden, match="operator role") as forbidden:
            await counter.receive(
                request_at(unit, received_at=past, backfill_reason="outage", received_by=officer(unit))
            )
        assert forbidden.value.error_type == "WrongRole"
        await assert_nothing_started(records, unit)

    async def test_an_operator_backfill_is_recorded_in_the_timeline(self, env, counter):
        """An operator's backfill is received; the received entry carries the reason and when it was entered."""
        unit = commune_counter("00466")
        now = (await env.get_current_time()).astimezone(VN_TZ)
        operator = officer(unit, Role.COUNTER_OFFICER, Role.OPERATOR)
        slip = await counter.receive(
            request_at(
                unit, received_at=at(THURSDAY, 9), backfill_reason="paper register", received_by=operator
            )
        )
        assert isinstance(slip, ReceiptSlip) and slip.received_at == at(THURSDAY, 9)
        entry = (await settled(counter.handle(slip.dossier_code))).timeline[0]
        assert entry.action == "received" and entry.at == at(THURSDAY, 9)
        assert entry.details["backfill_reason"] == "paper register"
        assert datetime.fromisoformat(entry.details["entered_at"]) >= now

    async def test_the_tolerance_is_configurable(self, env, counter, records):
        """With a two-hour tolerance, one hour back needs no permission; three hours back does."""
        counter.service = IntakeService.standard(
            env.client,
            counter.task_queue,
            records,
            clock=lambda: counter._now,
            timeouts=IntakeTimeouts(backfill_tolerance=timedelta(hours=2)),
        )
        unit = commune_counter("00475")
        now = (await env.get_current_time()).astimezone(VN_TZ)
        slip = await counter.receive(
            request_at(unit, received_at=now - timedelta(hours=1), backfill_reason=None)
        )
        assert isinstance(slip, ReceiptSlip), slip
        refused = await counter.receive(
            request_at(unit, received_at=now - timedelta(hours=3), backfill_reason=None)
        )
        assert isinstance(refused, RefusalNotice) and "more than 120 minutes" in refused.reasons[0]

    def test_bounds_come_from_the_environment_and_bad_values_are_named(self):
        """INTAKE_* and RECORDS_* variables set the bounds in seconds; a bad value names its variable."""
        timeouts = IntakeTimeouts.from_env({"INTAKE_BACKFILL_TOLERANCE": "600", "INTAKE_RPC_TIMEOUT": "2.5"})
        assert (timeouts.backfill_tolerance, timeouts.rpc) == (timedelta(minutes=10), timedelta(seconds=2.5))
        assert timeouts.settle == IntakeTimeouts().settle
        with pytest.raises(ValueError, match="INTAKE_START_SETTLE_TIMEOUT"):
            IntakeTimeouts.from_env({"INTAKE_START_SETTLE_TIMEOUT": "soon"})
        with pytest.raises(ValueError, match="RECORDS_LOCK_TIMEOUT"):
            PostgresTimeouts.from_env({"RECORDS_LOCK_TIMEOUT": "-1"})
        assert (
            PostgresTimeouts.from_env({"RECORDS_LOCK_TIMEOUT": "2"}).server_settings()["lock_timeout"]
            == "2000"
        )


class TestValidation:
    @pytest.mark.parametrize(
        ("path", "value"),
        [
            (("applicant", "personal_id"), "12345"),
            (("applicant", "personal_id"), "0010901234567"),
            (("applicant", "personal_id"), "00109012345A"),
            (("applicant", "full_name"), ""),
            (("applicant", "address", "commune_code"), "0004"),
            (("applicant", "address", "commune_code"), "Ba Đình"),
            (("applicant", "address", "province_code"), "1"),
        ],
    )
    def test_malformed_field_is_named(self, path, value):
        """A malformed applicant field raises ValidationError located at that field."""
        data = request().model_dump(mode="json")
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        with pytest.raises(ValidationError) as caught:
            IntakeRequest.model_validate(data)
        assert [e["loc"] for e in caught.value.errors()] == [path]

    def test_well_formed_request_validates(self):
        """The builder's request round-trips through validation unchanged."""
        data = request().model_dump(mode="json")
        assert IntakeRequest.model_validate(data) == request()


class TestForbidden:
    async def test_officer_without_counter_role(self, counter, records):
        """A specialist may not receive dossiers, even at their own unit's counter."""
        unit = commune_counter("00118")
        with pytest.raises(IntakeForbidden, match="not a counter officer"):
            await counter.receive(request_at(unit, received_by=officer(unit, Role.SPECIALIST)))
        await assert_nothing_started(records, unit)

    async def test_officer_of_another_unit(self, counter, records):
        """A counter officer may not receive at another unit's counter."""
        with pytest.raises(IntakeForbidden, match=re.escape(NGOC_HA_COUNTER)):
            await counter.receive(request(receiving_unit=NGOC_HA_COUNTER, received_by=COUNTER))
        await assert_nothing_started(records, NGOC_HA_COUNTER)


class TestCrossBoundaryReceipt:
    @pytest.mark.parametrize("receiving_unit", [CITY_CENTRE, NGOC_HA_COUNTER])
    async def test_handled_by_the_applicants_commune(self, counter, receiving_unit):
        """Any counter of the province receives; the applicant's commune People's Committee handles."""
        slip = await counter.receive(request_at(receiving_unit))
        assert isinstance(slip, ReceiptSlip), slip
        assert slip.handling_unit == BA_DINH_COMMITTEE
        assert slip.handling_unit_name == "Ủy ban nhân dân Phường Ba Đình"
        assert slip.receiving_unit == receiving_unit
        assert slip.dossier_code.startswith(f"{receiving_unit}-")
        view = await counter.handle(slip.dossier_code).query(DossierWorkflow.view)
        assert (view.receiving_unit, view.handling_unit) == (receiving_unit, BA_DINH_COMMITTEE)


class TestProvinceDepartment:
    async def test_judicial_record_goes_to_the_provincial_police(self, counter):
        """3.000333 is handled by Hà Nội's police from 2025-07-01 (a Ministry of Public Security procedure)."""
        slip = await counter.receive(request_at(BA_DINH_COUNTER, "3.000333"))
        assert isinstance(slip, ReceiptSlip), slip
        assert slip.handling_unit == "000.CAT.00.H01"
        assert slip.handling_unit_name == "Công an tỉnh (Ủy ban nhân dân Thành phố Hà Nội)"
        assert [f.amount_vnd for f in slip.fees] == [200000]

    async def test_retired_province_department_is_not_its_committee(self, counter):
        """Before the reform, Long An's (retired code 80) department is 000.STP.90.H80, not its committee."""
        centre = "000.00.91.H80"
        address = Address(province_code="80", commune_code="27685", district_code="794")
        slip = await counter.receive(
            request_at(
                centre,
                "3.000333",
                applicant=applicant_at(address),
                received_at=datetime(2025, 6, 30, 10, tzinfo=VN_TZ),
            )
        )
        assert isinstance(slip, ReceiptSlip), slip
        assert slip.handling_unit == "000.STP.90.H80"
        assert slip.handling_unit_name == "Sở Tư pháp (Ủy ban nhân dân Tỉnh Long An)"
        assert slip.dossier_code == f"{centre}-250630-0001"


class TestReceiptSlip:
    async def test_slip_fields(self, counter):
        """Form 01 carries the code, the calendar's appointment, the version's fees and the documents."""
        unit = commune_counter("00127")
        when = at(THURSDAY, 10)
        slip = await counter.receive(request_at(unit, "1.001612", received_at=when))
        version = default_catalogue().resolve("1.001612", when)

        assert isinstance(slip, ReceiptSlip) and slip.form == "01"
        assert re.fullmatch(r"000\.00127\.01\.H01-\d{6}-\d{4}", slip.dossier_code)
        assert slip.dossier_code == f"{unit}-{THURSDAY:%y%m%d}-0001"
        expected_due = CALENDAR.due_at(
            when, version.time_limit.amount, version.time_limit.unit.value, version.afternoon_cutoff
        )
        assert slip.due_at == expected_due == at(THURSDAY + timedelta(days=5), 17)  # Fri, Mon, Tue
        assert slip.fees == version.fees
        assert slip.fees == (
            Fee(
                name="Lệ phí đăng ký hộ kinh doanh",
                amount_vnd=100000,
                note="unverified; set by provincial resolution",
            ),
        )
        assert (slip.procedure_code, slip.version_id) == ("1.001612", "1.001612@2025-07-01-commune")
        assert slip.procedure_name == "Đăng ký thành lập hộ kinh doanh"
        assert slip.applicant_name == APPLICANT.full_name
        assert slip.receiving_unit_name == "Trung tâm Phục vụ hành chính công Phường Việt Hưng"
        assert slip.handling_unit == BA_DINH_COMMITTEE
        assert slip.received_at == when
        assert slip.documents == ("application",)
        assert slip.received_by == f"officer@{unit}"
        assert slip.resubmitted is False

    async def test_code_date_is_the_hanoi_date(self, counter):
        """A receipt given in UTC is dated by its Hanoi day: 2026-03-04 17:30Z is 260305."""
        unit = commune_counter("00136")
        slip = await counter.receive(request_at(unit, received_at=datetime(2026, 3, 4, 17, 30, tzinfo=UTC)))
        assert isinstance(slip, ReceiptSlip), slip
        assert slip.dossier_code == f"{unit}-260305-0001"
        assert slip.received_at == datetime(2026, 3, 5, 0, 30, tzinfo=VN_TZ)
        assert slip.due_at == datetime(2026, 3, 10, 17, tzinfo=VN_TZ)

    async def test_consecutive_receipts_are_numbered_in_order(self, counter):
        """Two receipts at one counter on one day get numbers 0001 and 0002."""
        unit = commune_counter("00145")
        codes = [
            (await counter.receive(request_at(unit, received_at=at(THURSDAY, hour)))).dossier_code
            for hour in (9, 11)
        ]
        assert codes == [f"{unit}-{THURSDAY:%y%m%d}-0001", f"{unit}-{THURSDAY:%y%m%d}-0002"]


class TestDeadlines:
    async def test_tet_2026(self, counter):
        """1.004884 (5 working days) received Fri 13 Feb 2026 is due Fri 27 Feb 17:00, past Tết."""
        slip = await counter.receive(
            request_at(
                commune_counter("00160"),
                "1.004884",
                received_at=datetime(2026, 2, 13, 10, tzinfo=VN_TZ),
            )
        )
        assert isinstance(slip, ReceiptSlip), slip
        due = datetime(2026, 2, 27, 17, tzinfo=VN_TZ)
        assert slip.due_at == due
        view = await counter.handle(slip.dossier_code).query(DossierWorkflow.view)
        assert view.due_at == due
        assert view.received_at == datetime(2026, 2, 13, 10, tzinfo=VN_TZ)

    @pytest.mark.parametrize(
        ("hour", "minute", "due_day"),
        [(14, 0, THURSDAY), (14, 59, THURSDAY), (15, 0, FRIDAY), (15, 30, FRIDAY)],
    )
    async def test_afternoon_cutoff(self, counter, hour, minute, due_day):
        """2.000815 (same day) is due the same day if received before 15:00, else the next working day."""
        slip = await counter.receive(
            request_at(BA_DINH_COUNTER, "2.000815", received_at=at(THURSDAY, hour, minute))
        )
        assert isinstance(slip, ReceiptSlip), slip
        assert slip.due_at == at(due_day, 17)

    async def test_afternoon_cutoff_on_the_live_clock(self, env, counter):
        """With the receipt time taken from the clock: 14:00 Thursday is due Thursday, 15:30 Friday."""
        needs_time_skipping(env)
        thursday = quiet_day(await env.get_current_time(), weekday=3)
        unit = commune_counter("00166")
        slips = []
        for hour, minute in ((14, 0), (15, 30)):
            await travel_to(env, at(thursday, hour, minute))
            slips.append(await counter.receive(request_at(unit, "2.000815")))
        assert all(isinstance(s, ReceiptSlip) for s in slips), slips
        assert [s.due_at for s in slips] == [at(thursday, 17), at(thursday + timedelta(days=1), 17)]
        assert [s.received_at.date() for s in slips] == [thursday, thursday]
        assert [s.dossier_code for s in slips] == [
            f"{unit}-{thursday:%y%m%d}-0001",
            f"{unit}-{thursday:%y%m%d}-0002",
        ]


class TestIdempotency:
    async def test_same_request_id_gives_the_same_dossier(self, client, counter, records):
        """A request sent twice returns the same code, resubmitted=True, and one dossier only."""
        unit, request_id = commune_counter("00175"), f"req-{uuid.uuid4()}"
        first = await counter.receive(request_at(unit, request_id=request_id))
        await asyncio.sleep(0.05)
        second = await counter.receive(request_at(unit, request_id=request_id))

        assert isinstance(first, ReceiptSlip) and isinstance(second, ReceiptSlip)
        assert second.dossier_code == first.dossier_code
        assert (first.resubmitted, second.resubmitted) == (False, True)
        assert second.due_at == first.due_at
        assert second.received_at == first.received_at
        assert await intake_request_rows(records, request_id) == 1
        [(day, last)] = await sequence_rows(records, unit)
        assert last == 1 and first.dossier_code == f"{unit}-{day}-0001"
        with pytest.raises(RPCError) as caught:
            await client.get_workflow_handle(f"{unit}-{day}-0002").describe()
        assert caught.value.status is RPCStatusCode.NOT_FOUND

    async def test_direct_start_with_an_existing_code_is_rejected(self, client, counter, records, task_queue):
        """Starting DossierWorkflow again under an existing code fails; the dossier is untouched."""
        unit = commune_counter("00190")
        slip = await counter.receive(request_at(unit, received_at=at(THURSDAY, 10)))
        handle = counter.handle(slip.dossier_code)
        before = await handle.describe()
        history = await handle.fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        [dossier] = await client.data_converter.decode(started.input.payloads, [DossierInput])
        assert dossier.code == slip.dossier_code

        with pytest.raises(WorkflowAlreadyStartedError):
            await client.start_workflow(
                DossierWorkflow.run,
                dossier,
                id=slip.dossier_code,
                task_queue=task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        assert (await handle.describe()).run_id == before.run_id
        view = await settled(handle)
        actions = [e.action for e in view.timeline]
        assert actions[:2] == ["received", "transferred"] and actions.count("received") == 1
        assert await sequence_rows(records, unit) == [(f"{THURSDAY:%y%m%d}", 1)]

    async def test_same_request_id_at_two_counters_is_two_dossiers(self, counter, records):
        """Request ids are per counter: one id at two counters, for two applicants, opens two
        dossiers, each slip naming its own applicant (it used to drop the second one)."""
        request_id = f"req-{uuid.uuid4()}"
        first_unit, second_unit = commune_counter("00226"), commune_counter("00229")
        first = await counter.receive(request_at(first_unit, request_id=request_id))
        second = await counter.receive(
            request_at(second_unit, request_id=request_id, applicant=OTHER_APPLICANT)
        )
        assert isinstance(first, ReceiptSlip) and isinstance(second, ReceiptSlip), (first, second)
        assert first.dossier_code.startswith(first_unit) and second.dossier_code.startswith(second_unit)
        assert (first.resubmitted, second.resubmitted) == (False, False)
        assert (first.applicant_name, second.applicant_name) == (
            APPLICANT.full_name,
            OTHER_APPLICANT.full_name,
        )
        assert (
            await counter.handle(second.dossier_code).query(DossierWorkflow.view)
        ).receiving_unit == second_unit

    async def test_another_request_under_a_used_id_is_a_conflict(self, counter, records):
        """Another applicant's request under a request id used at this counter is refused with
        RequestIdConflict naming the id and its dossier; nothing is started, no number used."""
        unit, request_id = commune_counter("00352"), f"req-{uuid.uuid4()}"
        first = await counter.receive(request_at(unit, request_id=request_id))
        assert isinstance(first, ReceiptSlip)
        for changed in (
            {"applicant": OTHER_APPLICANT},
            {
                "procedure_code": "1.004859",
                "documents": (SubmittedDocument(id="declaration"), SubmittedDocument(id="commitment")),
            },
            {"documents": (SubmittedDocument(id="declaration", copies=2),)},
        ):
            with pytest.raises(RequestIdConflict) as conflict:
                await counter.receive(request_at(unit, request_id=request_id, **changed))
            assert request_id in str(conflict.value) and first.dossier_code in str(conflict.value)
        [(day, last)] = await sequence_rows(records, unit)
        assert last == 1

    async def test_same_request_at_one_counter_at_once_makes_one_dossier(self, counter, records):
        """One request sent twice at the same moment to its counter: one dossier, both answers name it."""
        unit, request_id = commune_counter("00364"), f"req-{uuid.uuid4()}"
        slips = await asyncio.gather(
            counter.receive(request_at(unit, request_id=request_id)),
            counter.receive(request_at(unit, request_id=request_id)),
        )
        assert all(isinstance(s, ReceiptSlip) for s in slips), slips
        assert slips[0].dossier_code == slips[1].dossier_code
        assert sorted(s.resubmitted for s in slips) == [False, True]
        assert [last for _, last in await sequence_rows(records, unit)] == [1]

    async def test_a_resubmission_is_answered_from_the_stored_dossier(self, counter, records):
        """The slip of a resent request is the stored dossier's: the officer who received it, not
        the colleague who resent it; and for a claim from before content hashes (which cannot
        be compared) the stored applicant, never the new request's."""
        unit = commune_counter("00367")
        request_id = f"req-{uuid.uuid4()}"
        first = await counter.receive(request_at(unit, request_id=request_id))
        colleague = Actor(id="colleague@counter", roles=(Role.COUNTER_OFFICER,), unit=unit)
        again = await counter.receive(request_at(unit, request_id=request_id, received_by=colleague))
        assert isinstance(first, ReceiptSlip) and isinstance(again, ReceiptSlip)
        assert again.received_by == first.received_by == f"officer@{unit}"
        # Resent at once, the slip carries a secret that replaces the first's (a double click).
        assert first.lookup_secret and again.lookup_secret not in (None, first.lookup_secret)
        same = {"resubmitted", "lookup_secret"}
        assert again.model_dump(exclude=same) == first.model_dump(exclude=same)

        legacy = f"legacy-{uuid.uuid4()}"
        async with records.sessions() as session:
            await session.execute(
                update(IntakeRequestRow)
                .where(IntakeRequestRow.dossier_code == first.dossier_code)
                .values(request_id=legacy, content_hash="")
            )
            await session.commit()
        resent = await counter.receive(request_at(unit, request_id=legacy, applicant=OTHER_APPLICANT))
        assert isinstance(resent, ReceiptSlip) and resent.dossier_code == first.dossier_code
        assert resent.applicant_name == APPLICANT.full_name

    def test_the_content_hash_ignores_the_id_and_the_sender_only(self):
        """Who sends a request and its id do not change its hash; what it asks for does."""
        base = request_at(BA_DINH_COUNTER, request_id="a")
        same = request_at(
            BA_DINH_COUNTER,
            request_id="b",
            received_by=Actor(id="x", roles=(Role.COUNTER_OFFICER,), unit=BA_DINH_COUNTER),
        )
        assert base.content_hash() == same.content_hash()
        for other in (
            request_at(BA_DINH_COUNTER, applicant=OTHER_APPLICANT),
            request_at(BA_DINH_COUNTER, channel=Channel.ONLINE),
            request_at(BA_DINH_COUNTER, received_at=at(THURSDAY, 9)),
        ):
            assert other.content_hash() != base.content_hash()

    async def test_lost_commit_after_the_start_interleaved_with_another_receipt(self, counter, records):
        """The store fails right after the dossier started, before its start is confirmed;
        another receipt at the counter goes through meanwhile; the resend finds the first
        dossier under its reserved code: one request, one dossier, no number skipped or reused."""
        unit, request_id = commune_counter("00376"), f"req-{uuid.uuid4()}"

        class LosesTheFirstConfirmation(DossierCodeAllocator):
            lost = False

            async def mark_started(self, claim):
                if not self.lost:
                    self.lost = True
                    raise OperationalError(
                        "UPDATE intake_requests", {}, ConnectionResetError("connection lost")
                    )
                await super().mark_started(claim)

        counter.service = IntakeService.standard(
            counter.env.client,
            counter.task_queue,
            records,
            clock=lambda: counter._now,
            allocator=LosesTheFirstConfirmation(records.engine, records.sessions),
        )
        with pytest.raises(OperationalError):
            await counter.receive(request_at(unit, request_id=request_id))
        other = await counter.receive(request_at(unit, request_id=f"req-{uuid.uuid4()}"))
        again = await counter.receive(request_at(unit, request_id=request_id))
        assert isinstance(other, ReceiptSlip) and isinstance(again, ReceiptSlip)
        assert number_of(again.dossier_code) == 1 and again.resubmitted is True
        assert number_of(other.dossier_code) == 2
        [(day, last)] = await sequence_rows(records, unit)
        assert last == 2
        with pytest.raises(RPCError) as caught:
            await counter.handle(f"{unit}-{day}-0003").describe()
        assert caught.value.status is RPCStatusCode.NOT_FOUND

    async def test_a_lost_start_reply_still_yields_the_dossier(self, env, counter, records, task_queue):
        """The server starts the dossier but the reply is lost: the slip names it, no number is lost."""
        unit = commune_counter("00235")

        class LosesReplies:
            def __init__(self, client):
                self._client = client

            def __getattr__(self, name):
                return getattr(self._client, name)

            async def start_workflow(self, *args, **kwargs):
                await self._client.start_workflow(*args, **kwargs)
                raise RPCError("deadline exceeded", RPCStatusCode.DEADLINE_EXCEEDED, b"")

        counter.service = IntakeService.standard(
            LosesReplies(env.client), counter.task_queue, records, clock=lambda: counter._now
        )
        slip = await counter.receive(request_at(unit))
        assert isinstance(slip, ReceiptSlip)
        assert (await counter.handle(slip.dossier_code).describe()).id == slip.dossier_code
        [(_, last)] = await sequence_rows(records, unit)
        assert last == 1 and number_of(slip.dossier_code) == 1

    async def test_a_taken_code_of_another_request_is_skipped(self, env, counter, records):
        """A code already used by another dossier is skipped, and the number stays used."""
        unit = commune_counter("00283")
        day = (await env.get_current_time()).astimezone(VN_TZ).date()
        await counter.start(code=f"{unit}-{day:%y%m%d}-0001", request_id="someone-else")
        slip = await counter.receive(request_at(unit, request_id=f"req-{uuid.uuid4()}"))
        assert isinstance(slip, ReceiptSlip) and number_of(slip.dossier_code) == 2


class TestConcurrency:
    async def test_fifteen_receipts_at_once_get_consecutive_codes(self, counter, records):
        """15 concurrent receipts at one counter on one day get 15 distinct, gap-free numbers."""
        unit = commune_counter("00199")
        slips = await asyncio.gather(
            *(counter.receive(request_at(unit, received_at=at(THURSDAY, 10, minute))) for minute in range(15))
        )
        assert all(isinstance(s, ReceiptSlip) for s in slips), slips
        codes = [s.dossier_code for s in slips]
        assert all(c.startswith(f"{unit}-{THURSDAY:%y%m%d}-") for c in codes)
        assert sorted(number_of(c) for c in codes) == list(range(1, 16))
        assert await sequence_rows(records, unit) == [(f"{THURSDAY:%y%m%d}", 15)]
        for code in codes:
            assert (await counter.handle(code).describe()).id == code


class TestNationalCatalogue:
    """Receiving against the national list: facts by channel and case, two layers pinned."""

    async def test_listed_procedure_without_facts_is_refused_with_form_03(self, counter):
        """3.000616 is on the national list without execution facts: form 03 says so, nothing starts."""
        outcome = await counter.receive(request_at(commune_counter("00301"), "3.000616"))
        assert isinstance(outcome, RefusalNotice) and outcome.form == "03"
        assert outcome.reasons == (
            "procedure_code: procedure '3.000616' is listed but cannot be received here: no execution"
            " facts (time limits, fees, documents) in the sources",
        )

    async def test_portal_procedure_without_limit_is_refused_naming_why(self, counter):
        """A procedure whose portal record states its limit only as text is refused with that reason."""
        catalogue = default_catalogue()
        code = next(
            c
            for c, e in catalogue.listing.items()
            if e.not_receivable.startswith("no time limit") and c not in catalogue.versions_by_code
        )
        outcome = await counter.receive(request_at(commune_counter("00316"), code))
        assert isinstance(outcome, RefusalNotice)
        assert outcome.reasons[0].endswith(
            "no time limit in a unit the engine can count (stated only as text or per unit OTHER)"
        )

    @pytest.mark.parametrize(
        ("case", "due"),
        [
            (None, THURSDAY + timedelta(days=7)),  # the longest case, 5 working days: next Thursday
            ("1.000656.01", THURSDAY + timedelta(days=7)),  # 5 working days
            ("1.000656.02", FRIDAY),  # 1 calendar day
            ("1.000656.03", THURSDAY + timedelta(days=4)),  # 2 calendar days: Saturday, moved to Monday
        ],
    )
    async def test_the_case_selects_the_time_limit(self, counter, case, due):
        """Death registration 1.000656: each case of the portal's record has its own limit and unit."""
        unit = commune_counter(
            ("00322", "00328", "00331", "00337")[
                [None, "1.000656.01", "1.000656.02", "1.000656.03"].index(case)
            ]
        )
        slip = await counter.receive(
            request_at(
                unit,
                "1.000656",
                case=case,
                received_at=at(THURSDAY, 10),
                documents=(SubmittedDocument(id="declaration"), SubmittedDocument(id="death_notice")),
            )
        )
        assert isinstance(slip, ReceiptSlip), slip
        assert slip.due_at == at(due, 17) and slip.case == case
        view = await counter.handle(slip.dossier_code).query(DossierWorkflow.view)
        assert (view.due_at, view.case) == (at(due, 17), case)

    async def test_marriage_registration_has_its_two_cases(self, counter):
        """1.000894 offers the portal's two cases, 1 working day and 1 calendar day; another is refused."""
        version = default_catalogue().resolve("1.000894", at(THURSDAY, 10))
        assert {c.code: (c.time_limit.amount, c.time_limit.unit.value) for c in version.cases} == {
            "1.000894.01": (1, "calendar_days"),
            "1.000894.02": (1, "working_days"),
        }
        outcome = await counter.receive(
            request_at(commune_counter("00340"), "1.000894", case="1.000894.09", received_at=at(THURSDAY, 10))
        )
        assert isinstance(outcome, RefusalNotice)
        assert (
            "case: 1.000894.09 is not a case of 1.000894@2016-01-01 (cases: 1.000894.01, 1.000894.02)"
            in outcome.reasons
        )

    @pytest.mark.parametrize(("channel", "fee"), [(Channel.COUNTER, 20000), (Channel.ONLINE, 10000)])
    async def test_the_channel_selects_the_fees(self, counter, channel, fee):
        """Permanent residence registration 1.004222 costs 20,000 đ at the counter, 10,000 đ online."""
        unit = commune_counter("00352" if channel is Channel.COUNTER else "00364")
        slip = await counter.receive(
            request_at(unit, "1.004222", channel=channel, received_at=at(THURSDAY, 10))
        )
        assert isinstance(slip, ReceiptSlip), slip
        assert [f.amount_vnd for f in slip.fees] == [fee]
        assert slip.due_at == at(THURSDAY + timedelta(days=11), 17)  # 7 working days: Monday week

    async def test_the_view_says_which_internal_process_applied(self, counter):
        """A curated procedure follows its curated process; an imported one its level's default."""
        curated = await counter.receive(
            request_at(commune_counter("00367"), "1.004873", received_at=at(THURSDAY, 10))
        )
        imported = await counter.receive(
            request_at(commune_counter("00376"), "1.004222", received_at=at(THURSDAY, 10))
        )
        assert isinstance(curated, ReceiptSlip) and isinstance(imported, ReceiptSlip)
        assert (curated.internal_process, imported.internal_process) == (
            "curated",
            "default/commune_peoples_committee",
        )
        view = await counter.handle(imported.dossier_code).query(DossierWorkflow.view)
        assert view.internal_process == "default/commune_peoples_committee"
        assert view.current_step is not None and view.current_step.id == "review"

    async def test_a_province_overrides_the_internal_process(self, counter, records, tmp_path):
        """Hà Nội's own process file replaces the default for its dossiers; the dossier pins it."""
        from procedures.catalogue import DEFINITIONS_DIR
        from procedures.processes import PROCESSES_DIR

        (tmp_path / "default.json").write_text((PROCESSES_DIR / "default.json").read_text(encoding="utf-8"))
        (tmp_path / "province-01.json").write_text(
            '{"processes": [{"id": "01/residence", "procedure_code": "1.004222", "steps": ['
            '{"id": "check", "name": "Công an xã kiểm tra", "role": "specialist", "share": 0.5},'
            '{"id": "sign", "name": "Trưởng Công an xã ký", "role": "leader", "share": 0.25}]}]}',
            encoding="utf-8",
        )
        with_catalogue(counter, records, Catalogue.load(DEFINITIONS_DIR, processes_dir=tmp_path))
        slip = await counter.receive(
            request_at(commune_counter("00382"), "1.004222", received_at=at(THURSDAY, 10))
        )
        assert isinstance(slip, ReceiptSlip), slip
        assert slip.internal_process == "01/residence"
        view = await counter.handle(slip.dossier_code).query(DossierWorkflow.view)
        assert view.internal_process == "01/residence"
        assert view.current_step.id == "check" and view.current_step.share_hours == 28  # half of 7 days


class TestUnitChangesOnReceipts:
    """Receipts from 2026-04-30 name Đồng Nai's new wards and city; earlier dossiers keep theirs."""

    @pytest.mark.parametrize(
        ("when", "centre", "committee"),
        [
            (datetime(2026, 4, 29, 10, tzinfo=VN_TZ), "Xã Lộc Ninh", "Xã Lộc Ninh"),
            (datetime(2026, 5, 4, 10, tzinfo=VN_TZ), "Phường Lộc Ninh", "Phường Lộc Ninh"),
        ],
    )
    async def test_the_slip_names_the_units_of_its_day(self, counter, when, centre, committee):
        unit = "000.25270.01.H75"
        address = Address(province_code="75", commune_code="25270", detail="1 Đường thử")
        slip = await counter.receive(
            request_at(unit, "1.004873", applicant=applicant_at(address), received_at=when)
        )
        assert isinstance(slip, ReceiptSlip), slip
        assert slip.receiving_unit_name == f"Trung tâm Phục vụ hành chính công {centre}"
        assert slip.handling_unit_name == f"Ủy ban nhân dân {committee}"
        assert slip.receiving_unit == unit  # codes do not change with a rename
        view = await counter.handle(slip.dossier_code).query(DossierWorkflow.view)
        assert view.handling_unit == "000.25270.00.H75"

    async def test_a_province_department_is_named_after_the_city(self, counter):
        """From 2026-04-30 Đồng Nai's police are named after Thành phố Đồng Nai."""
        address = Address(province_code="75", commune_code="25270", detail="1 Đường thử")
        slip = await counter.receive(
            request_at(
                "000.00.01.H75",
                "3.000333",
                applicant=applicant_at(address),
                received_at=datetime(2026, 5, 4, 10, tzinfo=VN_TZ),
            )
        )
        assert isinstance(slip, ReceiptSlip), slip
        assert slip.receiving_unit_name == "Trung tâm Phục vụ hành chính công Thành phố Đồng Nai"
        assert slip.handling_unit_name == "Công an tỉnh (Ủy ban nhân dân Thành phố Đồng Nai)"
