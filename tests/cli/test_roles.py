"""The command line for each role, end to end on the test environment: tokens, counter, officer."""

from __future__ import annotations

import argparse
import io
import json
import os

import pytest
from structlog.testing import capture_logs

import starter
from officers.tokens import read_token
from runtime.settings import Settings
from tests.builders import BA_DINH_COMMITTEE, BA_DINH_COUNTER, settled

pytestmark = pytest.mark.usefixtures("worker")

KEY = os.urandom(24).hex()  # 48 characters
OTHER_COMMITTEE = "000.00008.00.H01"


@pytest.fixture
def settings(tmp_path, task_queue, records) -> Settings:
    url = records.engine.url.render_as_string(hide_password=False)
    return Settings.from_env(
        {"DATA_DIR": str(tmp_path), "TASK_QUEUE": task_queue, "DATABASE_URL": url, "API_TOKEN_KEY": KEY}
    )


@pytest.fixture
def run(client, settings, capsys, monkeypatch):
    monkeypatch.delenv("ONESTOP_TOKEN", raising=False)

    async def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = await starter.main(list(argv), client, settings)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def who(officer: str, unit: str, roles: str) -> list[str]:
    return ["--officer", officer, "--unit", unit, "--roles", roles]


COUNTER = who("c-1", BA_DINH_COUNTER, "counter_officer")
SPECIALIST = who("s-1", BA_DINH_COMMITTEE, "specialist")
LEADER = who("l-1", BA_DINH_COMMITTEE, "leader")


class TestToken:
    async def test_minted_token_carries_the_identity_and_is_accepted_by_commands(
        self, run, settings, monkeypatch
    ):
        """`token` prints a token the configured key verifies; ONESTOP_TOKEN then identifies the caller."""
        code, out, _ = await run("token", *who("s-7", BA_DINH_COMMITTEE, "specialist,leader"), "--hours", "1")
        assert code == 0
        officer = read_token(out.strip(), KEY.encode())
        assert (officer.id, officer.unit, [r.value for r in officer.roles]) == (
            "s-7",
            BA_DINH_COMMITTEE,
            ["specialist", "leader"],
        )
        monkeypatch.setenv("ONESTOP_TOKEN", out.strip())
        code, out, err = await run("officer", "inbox", "--json")
        assert code == 0, err
        assert isinstance(json.loads(out), list)

    async def test_unknown_role_and_missing_identity_are_bad_input(self, run):
        with pytest.raises(SystemExit) as argparse_exit:  # argparse's own exit code 2: bad input
            await run("token", *who("x", BA_DINH_COMMITTEE, "mayor"))
        assert argparse_exit.value.code == 2
        code, _, err = await run("officer", "inbox", "--officer", "s-1")
        assert code == 2 and "--unit, --roles" in err
        code, _, err = await run("officer", "inbox", "--token", "not-a-token")
        assert code == 2 and "--token: invalid token" in err


class TestRoles:
    async def test_a_dossier_through_counter_and_officer_commands(self, run, counter, monkeypatch):
        """Receive by flags (the personal ID on standard input), the specialist's inbox and step, a
        supplement round, the leader's refusal; each wrong role or unit refused with exit 4 and logged."""
        monkeypatch.setattr("sys.stdin", io.StringIO("001090123456\n"))
        code, out, err = await run(
            "counter",
            "receive",
            "--procedure",
            "1.004873",
            "--applicant-name",
            "Nguyễn Văn An",
            "--personal-id-file",
            "-",
            "--province",
            "01",
            "--commune",
            "00004",
            "--document",
            "declaration",
            *COUNTER,
        )
        assert code == 0, err
        dossier = json.loads(out)["dossier_code"]
        counter.started.append(dossier)
        await settled(counter.handle(dossier))  # the inbox finds candidates in the records store

        code, out, _ = await run("officer", "inbox", "--json", *SPECIALIST)
        assert [i["actions"] for i in json.loads(out) if i["code"] == dossier] == [["complete_step"]]
        code, out, _ = await run("officer", "inbox", "--table", *SPECIALIST)
        assert [line for line in out.splitlines() if dossier in line and "complete_step review" in line]

        assert (
            await run(
                "officer",
                "complete",
                dossier,
                "review",
                "--note",
                "ok",
                "--action-id",
                "cli-review",
                *SPECIALIST,
            )
        )[0] == 0
        with capture_logs() as logs:
            code, _, err = await run("officer", "show", dossier, *who("s-9", OTHER_COMMITTEE, "specialist"))
        assert code == 4 and "WrongUnit" in err
        assert [e["officer"] for e in logs if e["event"] == "request refused"] == ["s-9"]

        code, _, _ = await run(
            "officer",
            "request-supplement",
            dossier,
            "--reason",
            "blurred",
            "--document",
            "photo",
            "--action-id",
            "cli-ask",
            *LEADER,
        )
        assert code == 0
        code, _, err = await run(
            "counter", "supplement", dossier, "--document", "photo", "--action-id", "cli-bring-0", *SPECIALIST
        )
        assert code == 4 and "WrongUnit" in err
        assert (
            await run(
                "counter", "supplement", dossier, "--document", "photo", "--action-id", "cli-bring", *COUNTER
            )
        )[0] == 0

        code, _, err = await run(
            "officer", "refuse", dossier, "--reason", "ineligible", "--action-id", "cli-no-0", *SPECIALIST
        )
        assert code == 4 and "WrongRole" in err
        code, out, _ = await run(
            "officer", "refuse", dossier, "--reason", "ineligible", "--action-id", "cli-no", *LEADER
        )
        assert code == 0 and json.loads(out)["status"] == "refused"
        code, _, err = await run("counter", "withdraw", dossier, "--action-id", "cli-withdraw", *COUNTER)
        assert code == 4 and "closed" in err
        code, out, _ = await run("officer", "show", dossier, *who("a-1", "000.00.01.H01", "auditor"))
        assert code == 0 and json.loads(out)["status"] == "refused"
        await settled(counter.handle(dossier))

    async def test_the_validator_still_has_the_last_word(self, run, counter):
        """A step that is not the current one passes the CLI's check and is refused by the workflow."""
        handle = await counter.start()
        code, _, err = await run(
            "officer", "complete", handle.id, "approve", "--action-id", "cli-approve", *LEADER
        )
        assert code == 4 and "WrongState" in err


def test_help_at_every_level(capsys):
    """Every command and sub-command answers --help with exit 0."""
    paths: list[list[str]] = []

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        paths.append(path)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    walk(child, [*path, name])

    walk(starter.parser(), [])
    assert ["officer", "inbox"] in paths and ["counter", "withdraw"] in paths and ["token"] in paths
    for path in paths:
        with pytest.raises(SystemExit) as exit_:
            starter.parser().parse_args([*path, "--help"])
        assert exit_.value.code == 0, path


class TestActionIds:
    async def test_a_role_command_without_an_action_id_is_bad_input(self, run, capsys):
        """No --action-id: exit 2 naming the flag, before anything is sent (a retry must not apply twice)."""
        with pytest.raises(SystemExit) as argparse_exit:
            await run(
                "officer", "request-payment", "000.00004.01.H01-000101-0001", "--amount", "50000", *LEADER
            )
        assert argparse_exit.value.code == 2
        assert "--action-id" in capsys.readouterr().err

    async def test_a_closing_command_retried_answers_the_closed_dossier(self, run, counter):
        """withdraw again under its id: exit 0 with the withdrawn dossier; other content under that id,
        or another action under it: exit 4 ActionIdReused; a new id: exit 4 WrongState."""
        handle = await counter.start()
        withdraw = ("counter", "withdraw", handle.id, "--action-id", "cli-w-1", *COUNTER)
        code, first, err = await run(*withdraw)
        assert code == 0, err
        code, again, err = await run(*withdraw)
        assert code == 0, err
        assert json.loads(again)["timeline"] == json.loads(first)["timeline"]
        assert json.loads(again)["status"] == "withdrawn"
        code, _, err = await run(*withdraw, "--reason", "moved abroad")
        assert code == 4 and "ActionIdReused" in err and "'cli-w-1'" in err
        code, _, err = await run("counter", "return", handle.id, "--action-id", "cli-w-1", *COUNTER)
        assert code == 4 and "ActionIdReused" in err and "another action" in err
        code, _, err = await run("counter", "withdraw", handle.id, "--action-id", "cli-w-2", *COUNTER)
        assert code == 4 and "WrongState" in err
        await settled(handle)

    async def test_act_with_a_file_retried_after_the_close_answers_the_closed_dossier(
        self, run, counter, tmp_path
    ):
        """`act CODE refuse --file` goes the same way as the role commands: a retry after the close exits 0."""
        handle = await counter.start()
        body = tmp_path / "refuse.json"
        body.write_text(
            json.dumps(
                {
                    "actor": {"id": "l-1", "unit": BA_DINH_COMMITTEE, "roles": ["leader"]},
                    "action_id": "cli-refuse-1",
                    "reason": "không đủ điều kiện",
                }
            )
        )
        code, out, err = await run("act", handle.id, "refuse", "--file", str(body))
        assert code == 0, err
        await handle.result()  # closed: no update can reach it any more
        code, again, err = await run("act", handle.id, "refuse", "--file", str(body))
        assert code == 0, err
        assert (
            json.loads(again)["status"] == "refused"
            and json.loads(again)["timeline"] == json.loads(out)["timeline"]
        )
