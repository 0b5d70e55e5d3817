"""The partner-agency interface against a stand-in service over real HTTP."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.partners import (
    PARTNER_PENDING,
    EngineOfficers,
    HttpPartnerAgency,
    PartnerActivities,
    PartnerDirectory,
    PartnerError,
    PartnerOutcomeInput,
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

    async def test_an_agency_without_a_system_fails_the_attempt(self):
        activities = PartnerActivities(PartnerDirectory())
        with pytest.raises(PartnerError, match="no system configured for commune_police"):
            await ActivityEnvironment().run(
                activities.submit_to_partner,
                SubmitToPartnerInput(agency="commune_police", submission=SUBMISSION),
            )
