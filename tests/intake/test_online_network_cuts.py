"""One idempotency key, one online dossier, whatever the network between intake and Temporal does."""

from __future__ import annotations

import uuid

import pytest

from adminunits import VN_TZ
from intake.service import StartOutcomeUnknown
from model.dossier_inputs import Actor, SubmittedDocument
from model.dossier_state import DossierStatus
from procedures.models import Channel, Role
from tests.builders import Counter, settled
from tests.intake import test_network_cuts as cuts
from tests.intake.test_intake import commune_counter, request_at

pytestmark = pytest.mark.usefixtures("worker")

# The network-cut fixtures: a cuttable proxy, and the test's counter talking through it.
proxy, cut_counter = cuts.proxy, cuts.cut_counter
ONLINE = Actor(id="dvc-portal", roles=(Role.ONLINE_SERVICE,), unit="000.00.00.H01")


async def submit(counter: Counter, unit: str, key: str):
    counter._now = (await counter.env.get_current_time()).astimezone(VN_TZ)
    online = request_at(
        unit,
        request_id=key,
        received_by=ONLINE,
        channel=Channel.ONLINE,
        documents=(SubmittedDocument(id="declaration", reference="sha256:" + "ab" * 32),),
    )
    outcome = await counter.service.register_online(online, 8.0)
    counter.started.append(outcome.dossier_code)
    return outcome


class TestOnlineNetworkCuts:
    async def test_a_lost_answer_then_the_resend_finds_the_registered_dossier(
        self, cut_counter, records, proxy
    ):
        """Temporal starts the dossier but its answer is lost: 503-worthy StartOutcomeUnknown; the
        online service's resend under the same key gets that dossier, in status 1, and no other."""
        unit, key = commune_counter("00577"), f"online-{uuid.uuid4()}"
        proxy.lose_replies()
        with pytest.raises(StartOutcomeUnknown) as unknown:
            await submit(cut_counter, unit, key)
        code = unknown.value.dossier_code
        assert await cuts.exists(cut_counter, code), "the server did start it"

        proxy.restore()
        registration = await submit(cut_counter, unit, key)
        assert registration.dossier_code == code and registration.resubmitted
        view = await settled(cut_counter.handle(code))
        assert view.status is DossierStatus.REGISTERED_ONLINE
        # (The test server's clock may pass the check deadline meanwhile: check_late is no receipt.)
        actions = [e.action for e in view.timeline]
        assert actions.count("registered_online") == 1 and "received" not in actions
        day = code.split("-")[1]
        assert not await cuts.exists(cut_counter, f"{unit}-{day}-0002"), "one key, two dossiers"
