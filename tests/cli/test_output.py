"""What starter.py prints: tables and timelines for people, JSON for machines, Vietnam time in both."""

from __future__ import annotations

import io
import json
import re

import pytest

from tests.builders import settled
from tests.cli.test_roles import COUNTER, SPECIALIST, run, settings  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("worker")

UTC_MARK = re.compile(r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|\+00:00)")


async def received(run, counter, monkeypatch) -> str:  # noqa: F811
    monkeypatch.setattr("sys.stdin", io.StringIO("001090123456\n"))  # the personal ID, never on argv
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
    await settled(counter.handle(dossier))
    return dossier


class TestShow:
    async def test_show_draws_the_state_and_a_timeline_in_vietnam_time(self, run, counter, monkeypatch):  # noqa: F811
        """`show --table`: the facts, then one timeline row per action, every instant at +07:00."""
        dossier = await received(run, counter, monkeypatch)
        assert (
            await run(
                "officer",
                "complete",
                dossier,
                "review",
                "--note",
                "ok",
                "--action-id",
                "review-1",
                *SPECIALIST,
            )
        )[0] == 0
        code, out, _ = await run("show", dossier, "--table")
        assert code == 0
        assert f"Dossier {dossier}" in out and "Timeline" in out and "due" in out
        assert re.search(r"│ \d+ +│ \d{4}-\d{2}-\d{2} \d{2}:\d{2} \+07:00 │ step_completed review", out), out
        assert not UTC_MARK.search(out)
        assert len(out.splitlines()) < 40

    async def test_show_prints_json_for_machines_with_one_offset(self, run, counter, monkeypatch):  # noqa: F811
        """Into a pipe (or with --json) `show` is JSON, and its instants are all +07:00, never Z."""
        dossier = await received(run, counter, monkeypatch)
        for argv in (("show", dossier), ("show", dossier, "--json")):
            code, out, _ = await run(*argv)
            view = json.loads(out)
            assert code == 0 and view["code"] == dossier
            assert view["received_at"].endswith("+07:00") and view["timeline"][0]["at"].endswith("+07:00")
            assert not UTC_MARK.search(out)


class TestListings:
    async def test_search_report_and_inbox_draw_tables(self, run, counter, monkeypatch):  # noqa: F811
        """The auditor's search and report and the officer's inbox, each as a table with headings."""
        dossier = await received(run, counter, monkeypatch)
        code, out, _ = await run("search", "--received-from", "2000-01-01", "--page-size", "500", "--table")
        assert code == 0 and "handling unit" in out and dossier in out and "+07:00" in out
        code, out, _ = await run(
            "report", "--from", "2000-01-01", "--to", "2100-01-01", "--by", "handling_unit", "--table"
        )
        headings = out.splitlines()[2]
        for column in ("received", "early", "on time", "late", "pending", "overdue", "withdrawn", "refused"):
            assert column in headings
        assert re.search(r"│ all +│ +\d+ │", out)
        code, out, _ = await run("officer", "inbox", "--table", *SPECIALIST)
        assert code == 0 and "Waiting for s-1" in out and dossier in out

    async def test_the_catalogue_list_has_headings_time_limits_and_fees(self, run):  # noqa: F811
        """`catalogue list --table` names each column; `--json` gives the same procedures as JSON."""
        code, out, _ = await run("catalogue", "list", "--at", "2026-01-01", "--table")
        assert code == 0
        assert re.search(r"code +┃ procedure +┃ level +┃ time limit +┃ fees \(VND\)", out)
        assert re.search(r"3\.000333 .*10 working days .*200,000", out)
        code, out, _ = await run("catalogue", "list", "--at", "2026-01-01", "--json")
        listed = json.loads(out)
        assert {"procedure_code": "3.000333"}.items() <= next(
            p for p in listed if p["procedure_code"] == "3.000333"
        ).items()
