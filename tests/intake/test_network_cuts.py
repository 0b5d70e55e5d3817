"""One request id, one dossier, whatever the network between intake and Temporal does.

Intake talks to Temporal through a TCP proxy on loopback that each test cuts at one step of a
receipt: before the start reaches the server (a silent partition, or refused connections),
after the server started the dossier but before its answer came back, and while a resent
request reads its dossier. An unknown outcome is never read as "not started": the code stays
reserved for the request, and the resend gets that very dossier.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from adminunits import VN_TZ
from intake.forms import ReceiptSlip
from intake.service import IntakeService, IntakeTimeouts, StartOutcomeUnknown
from model.dossier_inputs import Actor
from procedures.models import Role
from records.dossier_codes import DossierCodeAllocator
from tests.builders import Counter, at, quiet_day, settled
from tests.intake.netcut import CuttableProxy
from tests.intake.test_intake import commune_counter, request_at, sequence_rows

pytestmark = pytest.mark.usefixtures("worker")

# Short bounds so that a cut is given up in seconds; the defaults are in IntakeTimeouts.
TIMEOUTS = IntakeTimeouts(rpc=timedelta(seconds=1), settle=timedelta(seconds=3))


@pytest.fixture
async def proxy(env) -> AsyncIterator[CuttableProxy]:
    cut = await CuttableProxy(env.client.service_client.config.target_host).start()
    yield cut
    await cut.close()


@pytest.fixture
async def cut_counter(env, counter: Counter, records, task_queue, proxy) -> Counter:
    """The test's counter, talking to Temporal through the proxy."""
    client = await Client.connect(
        proxy.address, namespace=env.client.namespace, data_converter=env.client.data_converter
    )
    counter.service = IntakeService.standard(
        client, task_queue, records, clock=lambda: counter._now, timeouts=TIMEOUTS
    )
    return counter


async def exists(counter: Counter, code: str) -> bool:
    try:
        await counter.handle(code).describe()
    except RPCError as err:
        assert err.status is RPCStatusCode.NOT_FOUND, err
        return False
    return True


async def assert_one_dossier(counter: Counter, records, unit: str, slip: ReceiptSlip) -> None:
    """The slip's dossier exists and is the counter's only one today: number 0001, no 0002."""
    day = slip.dossier_code.split("-")[1]
    assert slip.dossier_code == f"{unit}-{day}-0001"
    assert await exists(counter, slip.dossier_code)
    assert not await exists(counter, f"{unit}-{day}-0002"), "one request, two dossiers"
    # Other tests of the session may have used this counter on other days.
    assert [row for row in await sequence_rows(records, unit) if row[0] == day] == [(day, 1)]
    view = await settled(counter.handle(slip.dossier_code))
    assert [e.action for e in view.timeline].count("received") == 1


class TestNetworkCuts:
    async def test_partition_before_the_start_reaches_the_server(self, cut_counter, records, proxy):
        """Nothing reaches Temporal: the receipt answers StartOutcomeUnknown naming the reserved
        code; resent after the network is back, the request opens that dossier, once."""
        unit, request_id = commune_counter("00301"), f"req-{uuid.uuid4()}"
        proxy.partition()
        with pytest.raises(StartOutcomeUnknown) as unknown:
            await cut_counter.receive(request_at(unit, request_id=request_id))
        assert request_id in str(unknown.value) and unknown.value.dossier_code.endswith("-0001")
        assert not await exists(cut_counter, unknown.value.dossier_code)

        proxy.restore()
        slip = await cut_counter.receive(request_at(unit, request_id=request_id))
        assert isinstance(slip, ReceiptSlip) and slip.dossier_code == unknown.value.dossier_code
        assert slip.resubmitted is False  # this resend is what started it
        await assert_one_dossier(cut_counter, records, unit, slip)

    async def test_reply_lost_after_the_server_started_the_dossier(self, cut_counter, records, proxy):
        """The server starts the dossier but no answer comes back (issue 19's cut): the resend
        finds that dossier under the reserved code instead of opening a second one."""
        unit, request_id = commune_counter("00316"), f"req-{uuid.uuid4()}"
        proxy.lose_replies()
        with pytest.raises(StartOutcomeUnknown) as unknown:
            await cut_counter.receive(request_at(unit, request_id=request_id))
        code = unknown.value.dossier_code
        assert await exists(cut_counter, code), "the server did start it"

        proxy.restore()
        slip = await cut_counter.receive(request_at(unit, request_id=request_id))
        assert isinstance(slip, ReceiptSlip) and slip.dossier_code == code
        assert slip.resubmitted is True
        # No answer reached the counter before: this slip is the first, with the lookup secret.
        assert slip.lookup_secret
        await assert_one_dossier(cut_counter, records, unit, slip)
        # The next request at that counter takes the next number: nothing was given twice.
        other = await cut_counter.receive(request_at(unit, request_id=f"req-{uuid.uuid4()}"))
        assert isinstance(other, ReceiptSlip) and other.dossier_code.endswith("-0002")

    async def test_refused_connections_that_come_back_within_the_settle_time(
        self, cut_counter, records, proxy
    ):
        """Connections refused during the start, back a second later: the same call settles it,
        the counter gets its slip at the first try, one dossier."""
        unit, request_id = commune_counter("00322"), f"req-{uuid.uuid4()}"
        proxy.refuse()
        receipt = asyncio.create_task(cut_counter.receive(request_at(unit, request_id=request_id)))
        await asyncio.sleep(1)
        assert not receipt.done()
        proxy.restore()
        slip = await receipt
        assert isinstance(slip, ReceiptSlip) and slip.resubmitted is False
        await assert_one_dossier(cut_counter, records, unit, slip)

    async def test_cut_while_a_resent_request_reads_its_dossier(self, cut_counter, records, proxy):
        """A resend that cannot read its dossier fails with Temporal's error and changes nothing;
        resent again, it answers the first slip."""
        unit, request_id = commune_counter("00328"), f"req-{uuid.uuid4()}"
        first = await cut_counter.receive(request_at(unit, request_id=request_id))
        assert isinstance(first, ReceiptSlip)
        proxy.partition()
        with pytest.raises(RPCError):
            await cut_counter.receive(request_at(unit, request_id=request_id))
        proxy.restore()
        again = await cut_counter.receive(request_at(unit, request_id=request_id))
        assert isinstance(again, ReceiptSlip) and again.resubmitted is True
        assert first.lookup_secret and again.lookup_secret not in (None, first.lookup_secret)
        same = {"resubmitted", "lookup_secret"}
        assert again.model_dump(exclude=same) == first.model_dump(exclude=same)
        await assert_one_dossier(cut_counter, records, unit, first)

    async def test_unsettled_claims_are_listed_until_the_resend(self, cut_counter, records, proxy):
        """A claim whose start is unknown is listed for operators, and leaves the list once settled."""
        unit, request_id = commune_counter("00337"), f"req-{uuid.uuid4()}"
        allocator = DossierCodeAllocator(records.engine, records.sessions)
        proxy.partition()
        with pytest.raises(StartOutcomeUnknown):
            await cut_counter.receive(request_at(unit, request_id=request_id))
        assert (unit, request_id) in {(c.receiving_unit, c.request_id) for c in await allocator.unsettled()}
        proxy.restore()
        assert isinstance(await cut_counter.receive(request_at(unit, request_id=request_id)), ReceiptSlip)
        assert (unit, request_id) not in {
            (c.receiving_unit, c.request_id) for c in await allocator.unsettled()
        }

    async def test_settle_confirms_a_started_dossier_and_keeps_an_unstarted_reservation(
        self, cut_counter, records, proxy
    ):
        """After two cuts (one whose start reached the server, one whose did not), settling
        confirms the first, and lists the second as awaiting the counter's resend."""
        reached, lost = commune_counter("00340"), commune_counter("00508")
        reached_id, lost_id = f"req-{uuid.uuid4()}", f"req-{uuid.uuid4()}"
        proxy.lose_replies()
        with pytest.raises(StartOutcomeUnknown) as started:
            await cut_counter.receive(request_at(reached, request_id=reached_id))
        proxy.partition()
        with pytest.raises(StartOutcomeUnknown) as not_started:
            await cut_counter.receive(request_at(lost, request_id=lost_id))
        proxy.restore()
        cut_counter.started.append(started.value.dossier_code)

        states = {
            r.request_id: (r.dossier_code, r.state)
            for r in await cut_counter.service.settle()
            if r.request_id in (reached_id, lost_id)
        }
        assert states == {
            reached_id: (started.value.dossier_code, "started"),
            lost_id: (not_started.value.dossier_code, "not_started"),
        }
        unsettled = {
            c.request_id for c in await DossierCodeAllocator(records.engine, records.sessions).unsettled()
        }
        assert reached_id not in unsettled and lost_id in unsettled
        resent = await cut_counter.receive(request_at(lost, request_id=lost_id))
        assert isinstance(resent, ReceiptSlip) and resent.dossier_code == not_started.value.dossier_code

    async def test_a_backfill_resent_after_a_cut_keeps_its_reason(self, cut_counter, proxy):
        """An operator's backfill whose start was cut off: the resend opens the dossier with
        the backfill reason in its received entry, as the first attempt would have."""
        unit, request_id = commune_counter("00562"), f"req-{uuid.uuid4()}"
        operator = Actor(id=f"operator@{unit}", roles=(Role.COUNTER_OFFICER, Role.OPERATOR), unit=unit)
        past = request_at(
            unit,
            request_id=request_id,
            received_at=at(quiet_day(datetime(2026, 3, 1, tzinfo=VN_TZ), 3), 9),
            backfill_reason="paper register",
            received_by=operator,
        )
        proxy.partition()
        with pytest.raises(StartOutcomeUnknown):
            await cut_counter.receive(past)
        proxy.restore()
        slip = await cut_counter.receive(past)
        assert isinstance(slip, ReceiptSlip)
        entry = (await settled(cut_counter.handle(slip.dossier_code))).timeline[0]
        assert entry.details["backfill_reason"] == "paper register"


class TestNoLockAcrossTheNetwork:
    async def test_a_receipt_stuck_on_temporal_does_not_hold_the_counter(
        self, env, cut_counter, counter, records, proxy, task_queue
    ):
        """While one receipt waits on a silent Temporal, another at the same counter (with a
        working connection) is received at once: no database lock is held across the call."""
        unit = commune_counter("00331")
        stuck_id = f"req-{uuid.uuid4()}"
        proxy.lose_replies()
        stuck = asyncio.create_task(cut_counter.receive(request_at(unit, request_id=stuck_id)))
        await asyncio.sleep(0.5)
        assert not stuck.done()
        healthy = IntakeService.standard(env.client, task_queue, records, clock=lambda: counter._now)
        started = asyncio.get_running_loop().time()
        slip = await asyncio.wait_for(healthy.receive(request_at(unit, request_id=f"req-{uuid.uuid4()}")), 5)
        waited = asyncio.get_running_loop().time() - started
        assert isinstance(slip, ReceiptSlip) and slip.dossier_code.endswith("-0002")
        assert not stuck.done(), "the other receipt finished first: the test proves nothing"
        assert waited < 2, f"the healthy receipt waited {waited:.1f}s"
        cut_counter.started.append(slip.dossier_code)
        with pytest.raises(StartOutcomeUnknown):
            await stuck
        proxy.restore()
        resent = await cut_counter.receive(request_at(unit, request_id=stuck_id))
        assert isinstance(resent, ReceiptSlip) and resent.dossier_code.endswith("-0001")
        day = (await env.get_current_time()).astimezone(VN_TZ).strftime("%y%m%d")
        assert [row for row in await sequence_rows(records, unit) if row[0] == day] == [(day, 2)]
