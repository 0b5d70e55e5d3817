"""The counter's check of online dossiers from the command line: inbox, ask, refuse, receive."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from adminunits import VN_TZ
from model.dossier_inputs import Actor, SubmittedDocument
from procedures.models import Channel, Role
from tests.builders import BA_DINH_COUNTER, Counter, request, settled, travel_to
from tests.cli import test_roles as test_cli_roles
from workflows.dossier import DossierWorkflow

pytestmark = pytest.mark.usefixtures("worker")

# The command-line fixtures of the role tests: a starter.py on this test's queue and records.
settings, run = test_cli_roles.settings, test_cli_roles.run
COUNTER = test_cli_roles.COUNTER
ONLINE = Actor(id="dvc-portal", roles=(Role.ONLINE_SERVICE,), unit="000.00.00.H01")


async def submitted_online(counter: Counter) -> str:
    counter._now = (await counter.env.get_current_time()).astimezone(VN_TZ)  # the test server's clock
    online = request(
        received_by=ONLINE,
        channel=Channel.ONLINE,
        documents=(SubmittedDocument(id="declaration", reference="sha256:" + "ab" * 32),),
    )
    slip = await counter.service.register_online(online, 8.0)
    counter.started.append(slip.dossier_code)
    await settled(counter.handle(slip.dossier_code))
    return slip.dossier_code


class TestOnlineCheck:
    async def test_inbox_then_ask_then_refuse(self, run, counter):
        """The dossier waits in the counter's inbox with its three answers; ask-online is form 02,
        refuse-online closes it (status 3); a second refusal with a new id exits 4 WrongState."""
        code = await submitted_online(counter)
        status, out, err = await run("officer", "inbox", "--json", *COUNTER)
        assert status == 0, err
        [item] = [i for i in json.loads(out) if i["code"] == code]
        assert item["actions"] == ["receive_online", "request_online_completion", "refuse_online"]
        assert item["check_late"] is False and item["status"] == "registered_online"

        status, out, err = await run(
            "counter", "ask-online", code, "--reason", "scan unreadable", "--document", "declaration",
            "--action-id", f"{code}-ask", *COUNTER,
        )  # fmt: skip
        assert status == 0, err
        assert json.loads(out)["status"] == "online_incomplete"
        status, out, err = await run(
            "counter", "refuse-online", code, "--reason", "not this authority's", "--action-id", f"{code}-no",
            *COUNTER,
        )  # fmt: skip
        assert status == 0, err
        assert (json.loads(out)["status"], json.loads(out)["status_code"]) == ("not_received", 3)
        status, _, err = await run(
            "counter", "refuse-online", code, "--reason", "again", "--action-id", f"{code}-no2", *COUNTER
        )
        assert status == 4 and "WrongState" in err

    async def test_receive_online_starts_processing(self, run, counter):
        """receive-online: status 4 (processing) from the receipt; the same action id again changes nothing."""
        code = await submitted_online(counter)
        for _ in range(2):
            status, out, err = await run(
                "counter", "receive-online", code, "--action-id", f"{code}-rcv", *COUNTER
            )
            assert status == 0, err
        view = json.loads(out)
        assert view["status"] == "processing" and view["receiving_unit"] == BA_DINH_COUNTER
        assert [e["action"] for e in view["timeline"]].count("received") == 1

    async def test_an_unchecked_dossier_past_its_time_is_marked_late_in_the_inbox_table(
        self, env, run, counter
    ):
        """Past the check time, `officer inbox --table` marks it CHECK LATE, first."""
        if not env.supports_time_skipping:
            pytest.skip("moves the clock by a day: time-skipping server only")
        code = await submitted_online(counter)
        view = await counter.handle(code).query(DossierWorkflow.view)
        await travel_to(env, view.due_at + timedelta(minutes=1))  # just past the check's deadline
        await settled(counter.handle(code))
        status, out, err = await run("officer", "inbox", "--table", *COUNTER)
        assert status == 0, err
        [line] = [row for row in out.splitlines() if code in row]
        assert "CHECK LATE" in line

    async def test_the_online_completion_is_not_offered_by_act(self, run):
        """`act CODE complete_online` is refused by argparse (exit 2): only the online route, which
        checks the files, sends it."""
        with pytest.raises(SystemExit) as refused:
            await run("act", "000.00004.01.H01-261130-0001", "complete_online", "--file", "x.json")
        assert refused.value.code == 2
