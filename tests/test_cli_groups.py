"""`starter.py group`: list, receive, show, withdraw, with the exit codes of every command."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from intake.group_forms import GroupReceipt, GroupRequest
from intake.groups import GroupIntake
from tests.group_builders import ONLINE_SERVICE, closed_result
from tests.test_bad_input import cli, printed_json, settings  # noqa: F401  (the fixture)

pytestmark = pytest.mark.usefixtures("worker")
EXAMPLE = Path(__file__).parent.parent / "docs" / "examples" / "receive-birth-group.json"
COUNTER = ["--officer", "counter-1", "--unit", "000.07210.01.H24", "--roles", "counter_officer"]
POLICE = ["--officer", "police-1", "--unit", "000.07210.CA.H24", "--roles", "specialist"]
STRANGER = ["--officer", "x-1", "--unit", "000.00004.00.H01", "--roles", "specialist"]


class TestGroupCommands:
    async def test_list_receive_show_withdraw(self, client, settings, tmp_path, capsys):  # noqa: F811
        """The README's example group is received with one receipt; the police read it, a stranger
        is refused (exit 4), a dossier's code is not a group (exit 2); the counter withdraws it."""
        code, out = await cli(client, settings, tmp_path, capsys, "group", "list")
        assert code == 0 and out.startswith("LT296.01\t3 working days\tunverified\t")
        body = json.loads(EXAMPLE.read_text(encoding="utf-8")) | {"request_id": f"cli-{tmp_path.name}"}
        code, out = await cli(
            client, settings, tmp_path, capsys, "group", "receive", "--file", "@", body=body
        )
        assert code == 0, out
        receipt = printed_json(out)
        group = receipt["group_dossier_code"]
        assert [m["handling_unit"] for m in receipt["members"]] == [
            "000.07210.00.H24",
            "000.07210.CA.H24",
            "000.BHXH.00.H24",
        ]
        code, out = await cli(client, settings, tmp_path, capsys, "group", "show", group, *POLICE)
        assert code == 0 and printed_json(out)["members"][0]["key"] == "birth"
        code, out = await cli(client, settings, tmp_path, capsys, "group", "show", group, *STRANGER)
        assert code == 4 and "WrongUnit" in out
        member = receipt["members"][0]["dossier_code"]
        code, out = await cli(
            client, settings, tmp_path, capsys, "group", "withdraw", member, "--action-id", "w", *COUNTER
        )
        assert code == 2 and "no group" in out
        code, out = await cli(
            client, settings, tmp_path, capsys, "group", "withdraw", group, "--action-id", "w", *COUNTER
        )
        assert code == 0 and printed_json(out)["status"] == "withdrawn"
        await closed_result(client.get_workflow_handle(group))
        # Auditors read the group's history as a timeline, then its members and their own.
        code, out = await cli(client, settings, tmp_path, capsys, "history", group)
        assert code == 0, out
        lines = out.splitlines()
        assert lines[0].startswith(f"group {group} (LT296.01, LT296.01@") and "COMPLETED" in lines[0]
        assert "received" in lines[1] and "counter-1 (counter_officer) at 000.07210.01.H24" in lines[1]
        assert any("member started" in line and f"{member}" in line for line in lines)
        assert any("withdraw" in line and "-> accepted" in line for line in lines)
        assert any(line.strip().startswith("birth") and "withdrawn" in line for line in lines)
        code, out = await cli(client, settings, tmp_path, capsys, "history", group, "--json")
        assert code == 0 and printed_json(out)["kind"] == "group"
        day = receipt["received_at"][:10]
        code, out = await cli(
            client, settings, tmp_path, capsys, "group", "report", "--from", day, "--to", "2099-01-01"
        )
        police = next(c for c in json.loads(out.split("\f")[0]) if c["handling_unit"] == "000.07210.CA.H24")
        assert code == 0 and police["groups"] >= 1 and police["not_answered"] >= 1

    async def test_the_counter_checks_a_group_submitted_online(
        self,
        client,
        settings,  # noqa: F811
        records,
        task_queue,
        tmp_path,
        capsys,
    ):
        """Form 02 needs a reason and a document (exit 2 without); the counter asks, then refuses."""
        body = json.loads(EXAMPLE.read_text(encoding="utf-8"))
        online = GroupRequest(
            **(body | {"received_by": ONLINE_SERVICE.model_dump(mode="json"), "channel": "online"}),
            request_id=f"cli-online-{tmp_path.name}",
        )
        receipt = await GroupIntake.standard(client, task_queue, records).register_online(online, 8.0)
        assert isinstance(receipt, GroupReceipt)
        group = receipt.group_dossier_code
        # Waiting for the check: listed for the counter (once projected), for nobody else.
        for _ in range(100):
            code, out = await cli(client, settings, tmp_path, capsys, "group", "waiting", *COUNTER)
            if group in [g["code"] for g in printed_json(out)]:
                break
            await asyncio.sleep(0.05)
        assert code == 0 and group in [g["code"] for g in printed_json(out)]
        code, out = await cli(client, settings, tmp_path, capsys, "group", "waiting", *POLICE)
        assert code == 0 and printed_json(out) == []
        code, out = await cli(
            client, settings, tmp_path, capsys, "group", "waiting", "--limit", "0", *COUNTER
        )
        assert code == 2 and "--limit 0" in out
        with pytest.raises(SystemExit) as usage:  # argparse: a usage error
            await cli(
                client,
                settings,
                tmp_path,
                capsys,
                "group",
                "request-online-completion",
                group,
                "--action-id",
                "a",
                "--reason",
                "ảnh mờ",
                *COUNTER,
            )
        assert usage.value.code == 2 and "--document" in capsys.readouterr().err
        code, out = await cli(
            client,
            settings,
            tmp_path,
            capsys,
            "group",
            "request-online-completion",
            group,
            "--action-id",
            "a",
            "--reason",
            "ảnh mờ",
            "--document",
            "photo",
            *COUNTER,
        )
        assert code == 0 and printed_json(out)["status"] == "online_incomplete"
        code, out = await cli(
            client, settings, tmp_path, capsys, "group", "receive-online", group, "--action-id", "r", *COUNTER
        )
        assert code == 4 and "WrongState" in out
        code, out = await cli(
            client,
            settings,
            tmp_path,
            capsys,
            "group",
            "refuse-online",
            group,
            "--action-id",
            "f",
            "--reason",
            "không bổ sung",
            *COUNTER,
        )
        assert code == 0 and printed_json(out)["status"] == "not_received"
        await closed_result(client.get_workflow_handle(group))

    async def test_a_request_with_a_missing_document_is_form_02_exit_3(
        self,
        client,
        settings,  # noqa: F811
        tmp_path,
        capsys,
    ):
        body = json.loads(EXAMPLE.read_text(encoding="utf-8"))
        body["documents"] = {"birth": [{"id": "declaration"}]}
        code, out = await cli(
            client, settings, tmp_path, capsys, "group", "receive", "--file", "@", body=body
        )
        assert code == 3 and printed_json(out)["missing"][0]["id"] == "birth.birth_certificate"
