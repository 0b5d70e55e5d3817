"""The partner-agency interface against a stand-in service over real HTTP."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from structlog.testing import capture_logs
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.partners import (
    PARTNER_PENDING,
    PARTNER_REJECTED,
    REASON_MAX_CHARS,
    EngineOfficers,
    HttpPartnerAgency,
    PartnerActivities,
    PartnerDirectory,
    PartnerError,
    PartnerOutcomeInput,
    PartnerRejected,
    PartnerState,
    PartnerSubmission,
    SubmitToPartnerInput,
)
from tests.builders import free_port
from tests.partner_standin import running, standin_app

SUBMISSION = PartnerSubmission(
    member_code="000.00004.01.H01-280103-0001-2",
    group_code="LT296.01",
    procedure_code="1.004222",
    handling_unit="000.00004.CA.H01",
    results={"birth": "000.00004.01.H01-280103-0001-1"},
)


class TestHttpPartnerAgency:
    """A partner system is reached through the interface; what it answers comes back typed."""

    async def test_submit_is_idempotent_and_the_agency_s_decision_is_read_back(self):
        app = standin_app("CA")
        async with running(app) as url:
            police = HttpPartnerAgency(url)
            reference = await police.submit(SUBMISSION)
            assert await police.submit(SUBMISSION) == reference  # resent after a lost answer
            assert len(app.state.submissions) == 1 and app.state.submissions[0].results == SUBMISSION.results
            assert (await police.outcome(reference)).state is PartnerState.ACCEPTED
            async with httpx.AsyncClient(base_url=url) as back_door:
                await back_door.post(
                    f"/submissions/{reference}/decision",
                    json={"state": "processed", "result_reference": "CT-9"},
                )
            outcome = await police.outcome(reference)
            assert (outcome.state, outcome.result_reference) == (PartnerState.PROCESSED, "CT-9")
            await police.aclose()

    async def test_a_refusal_comes_back_with_its_reason(self):
        app = standin_app("BHXH")
        async with running(app) as url:
            insurance = HttpPartnerAgency(url)
            reference = await insurance.submit(SUBMISSION)
            async with httpx.AsyncClient(base_url=url) as back_door:
                await back_door.post(
                    f"/submissions/{reference}/decision", json={"state": "refused", "reason": "x"}
                )
            outcome = await insurance.outcome(reference)
            assert (outcome.state, outcome.reason) == (PartnerState.REFUSED, "x")
            await insurance.aclose()

    async def test_errors_name_the_call(self):
        broken = FastAPI()

        @broken.put("/submissions/{code}")
        async def fail(code: str) -> None:
            raise RuntimeError("down")

        async with running(broken) as url:
            with pytest.raises(PartnerError, match=r"PUT /submissions/.*: HTTP 500"):
                await HttpPartnerAgency(url).submit(SUBMISSION)
            with pytest.raises(PartnerError, match=r"GET /submissions/nope: HTTP 405"):
                await HttpPartnerAgency(url).outcome("nope")
        with pytest.raises(PartnerError, match="ConnectError"):
            await HttpPartnerAgency(f"http://127.0.0.1:{free_port()}").submit(SUBMISSION)


class TestRejectionToldApartFromAnOutage:
    """A 4xx is the partner rejecting the call for good, not retried; the statuses that are our
    configuration's fault or a throttle, 5xx and no answer stay retryable `PartnerError`s."""

    async def test_a_422_on_submission_is_a_non_retryable_rejection_with_the_partner_s_reason(self):
        app = standin_app("BHXH")
        app.state.failing["PUT"] = (422, {"reason": "mã thẻ BHYT đã cấp cho người khác"})
        async with running(app) as url:
            with pytest.raises(PartnerRejected) as rejected:
                await HttpPartnerAgency(url).submit(SUBMISSION)
        assert isinstance(rejected.value, ApplicationError)
        assert (rejected.value.type, rejected.value.non_retryable) == (PARTNER_REJECTED, True)
        assert (rejected.value.status, rejected.value.reason) == (422, "mã thẻ BHYT đã cấp cho người khác")
        assert tuple(rejected.value.details) == (422, "mã thẻ BHYT đã cấp cho người khác")
        assert f"PUT /submissions/{SUBMISSION.member_code}: HTTP 422" in str(rejected.value)

    async def test_a_404_on_the_outcome_is_a_rejection_carrying_fastapi_s_detail(self):
        async with running(standin_app("CA")) as url:
            with pytest.raises(PartnerRejected) as rejected:
                await HttpPartnerAgency(url).outcome("CA-404")  # a reference it never gave
        assert (rejected.value.status, rejected.value.reason) == (404, "no such submission")
        assert rejected.value.non_retryable

    @pytest.mark.parametrize("status", [400, 409, 410])
    async def test_other_client_errors_are_rejections_a_plain_text_reason_on_one_line(self, status):
        app = standin_app("CA")
        app.state.failing["PUT"] = (status, "hồ sơ\n  không hợp lệ")
        async with running(app) as url:
            with pytest.raises(PartnerRejected) as rejected:
                await HttpPartnerAgency(url).submit(SUBMISSION)
        assert (rejected.value.status, rejected.value.reason) == (status, "hồ sơ không hợp lệ")

    async def test_a_huge_body_is_not_echoed_and_a_body_without_reason_carries_none(self):
        app = standin_app("CA")
        app.state.failing["PUT"] = (422, {"reason": "x" * 100_000})
        app.state.failing["GET"] = (410, {"code": 17})
        async with running(app) as url:
            partner = HttpPartnerAgency(url)
            with pytest.raises(PartnerRejected) as huge:
                await partner.submit(SUBMISSION)
            with pytest.raises(PartnerRejected) as bare:
                await partner.outcome("CA-1")
            await partner.aclose()
        # A body longer than what is read is cut, not parsed: no reason rather than a huge one.
        assert huge.value.reason == "" and len(str(huge.value)) < 200
        assert (bare.value.status, bare.value.reason) == (410, "")
        assert bare.value.message == "GET /submissions/CA-1: HTTP 410 rejected"

    async def test_a_long_reason_is_cut_to_its_bound(self):
        app = standin_app("CA")
        app.state.failing["PUT"] = (422, {"detail": "y" * 2000})
        async with running(app) as url:
            with pytest.raises(PartnerRejected) as rejected:
                await HttpPartnerAgency(url).submit(SUBMISSION)
        assert len(rejected.value.reason) == REASON_MAX_CHARS and rejected.value.reason.endswith("…")

    @pytest.mark.parametrize("status", [401, 403, 405, 408, 425, 429, 500, 503])
    async def test_our_token_a_timeout_a_throttle_and_5xx_stay_retryable(self, status):
        app = standin_app("BHXH")
        app.state.failing["PUT"] = (status, {"reason": "try again"})
        async with running(app) as url:
            with pytest.raises(PartnerError, match=rf"PUT /submissions/.*: HTTP {status}$"):
                await HttpPartnerAgency(url).submit(SUBMISSION)

    async def test_a_404_to_the_submission_is_a_wrong_url_retried_not_a_rejection(self):
        """A PUT creates the submission: a 404 to it means PARTNER_SYSTEMS names something that is
        not the interface, and refusing every member sent there for an operator's typo would
        refuse citizens' dossiers; a 404 to the outcome's GET stays a rejection (above)."""
        app = standin_app("CA")
        app.state.failing["PUT"] = (404, {"detail": "Not Found"})
        async with running(app) as url:
            with pytest.raises(PartnerError, match=r"PUT /submissions/.*: HTTP 404$"):
                await HttpPartnerAgency(url).submit(SUBMISSION)
        async with running(standin_app("CA")) as url:
            wrong = HttpPartnerAgency(url + "/not-the-interface")
            with pytest.raises(PartnerError, match="HTTP 404$"):
                await wrong.submit(SUBMISSION)
            await wrong.aclose()

    async def test_a_non_json_or_invalid_answer_stays_retryable(self):
        app = standin_app("BHXH")
        app.state.failing["PUT"] = (200, "<html>portal</html>")
        app.state.failing["GET"] = (200, {"state": "lost"})
        async with running(app) as url:
            partner = HttpPartnerAgency(url)
            with pytest.raises(PartnerError, match="not JSON"):
                await partner.submit(SUBMISSION)
            with pytest.raises(ValueError) as invalid:  # pydantic's ValidationError
                await partner.outcome("BHXH-1")
            assert not isinstance(invalid.value, ApplicationError)
            await partner.aclose()


class TestPartnerDirectory:
    def test_a_configured_agency_gets_its_system_the_others_the_engine_s_officers(self):
        directory = PartnerDirectory.from_urls(
            {"commune_police": "http://127.0.0.1:9", "social_insurance": ""}
        )
        assert isinstance(directory.adapter("commune_police"), HttpPartnerAgency)
        assert isinstance(directory.adapter("social_insurance"), EngineOfficers)

    async def test_in_this_engine_the_member_s_dossier_is_the_submission(self):
        assert await EngineOfficers().submit(SUBMISSION) == f"engine:{SUBMISSION.member_code}"


class TestPartnerActivities:
    """What the group's activities make of the partner's answers."""

    async def test_undecided_is_pending_for_the_retry_policy_decided_comes_back(self):
        app = standin_app("BHXH")
        async with running(app) as url:
            activities = PartnerActivities(PartnerDirectory.from_urls({"social_insurance": url}))
            env = ActivityEnvironment()
            submitted = await env.run(
                activities.submit_to_partner,
                SubmitToPartnerInput(agency="social_insurance", submission=SUBMISSION),
            )
            ask = PartnerOutcomeInput(
                agency="social_insurance", member_code=SUBMISSION.member_code, reference=submitted.reference
            )
            with pytest.raises(ApplicationError) as pending:
                await env.run(activities.partner_outcome, ask)
            assert pending.value.type == PARTNER_PENDING and not pending.value.non_retryable
            async with httpx.AsyncClient(base_url=url) as back_door:
                await back_door.post(
                    f"/submissions/{submitted.reference}/decision", json={"state": "refused"}
                )
            assert (await env.run(activities.partner_outcome, ask)).state is PartnerState.REFUSED

    async def test_a_rejection_fails_the_activity_for_good_and_is_logged(self):
        app = standin_app("BHXH")
        app.state.failing["PUT"] = (422, {"reason": "thiếu mã số BHXH"})
        async with running(app) as url:
            activities = PartnerActivities(PartnerDirectory.from_urls({"social_insurance": url}))
            env = ActivityEnvironment()
            with pytest.raises(ApplicationError) as rejected, capture_logs() as logs:
                await env.run(
                    activities.submit_to_partner,
                    SubmitToPartnerInput(agency="social_insurance", submission=SUBMISSION),
                )
            assert (rejected.value.type, rejected.value.non_retryable) == (PARTNER_REJECTED, True)
            del app.state.failing["PUT"]
            ask = PartnerOutcomeInput(agency="social_insurance", member_code="m", reference="BHXH-9")
            with pytest.raises(ApplicationError) as lost:
                await env.run(activities.partner_outcome, ask)
            assert (lost.value.type, tuple(lost.value.details)) == (
                PARTNER_REJECTED,
                (404, "no such submission"),
            )
        [logged] = [e for e in logs if e["event"] == "partner rejected member"]
        assert logged["log_level"] == "warning"
        assert (logged["member_code"], logged["group_code"]) == (
            SUBMISSION.member_code,
            SUBMISSION.group_code,
        )
        assert (logged["status"], logged["reason"]) == (422, "thiếu mã số BHXH")

    async def test_a_throttle_fails_the_attempt_only(self):
        app = standin_app("BHXH")
        app.state.failing["PUT"] = (429, {"reason": "slow down"})
        async with running(app) as url:
            activities = PartnerActivities(PartnerDirectory.from_urls({"social_insurance": url}))
            with pytest.raises(PartnerError, match="HTTP 429"):  # a plain error: retried
                await ActivityEnvironment().run(
                    activities.submit_to_partner,
                    SubmitToPartnerInput(agency="social_insurance", submission=SUBMISSION),
                )

    async def test_an_agency_without_a_system_fails_the_attempt(self):
        activities = PartnerActivities(PartnerDirectory())
        with pytest.raises(PartnerError, match="no system configured for commune_police"):
            await ActivityEnvironment().run(
                activities.submit_to_partner,
                SubmitToPartnerInput(agency="commune_police", submission=SUBMISSION),
            )
