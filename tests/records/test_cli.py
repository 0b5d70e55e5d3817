"""The auditors' commands: history, search, export, report, verify, records migrate."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

import starter
from cli.audit import EXIT_TAMPERED
from records import migrate
from records.database import open_records
from runtime.settings import Settings
from tests.audit.test_history import reviewed_dossier
from tests.records.dataset import new_code, received_entries, record, summary, tamper


def settings_for(url: str, tmp_path, task_queue: str = "tq") -> Settings:
    return Settings.from_env({"DATA_DIR": str(tmp_path), "DATABASE_URL": url, "TASK_QUEUE": task_queue})


@pytest.fixture
def shared(tmp_path, records, task_queue) -> Settings:
    """Settings on the session's records database."""
    return settings_for(records.engine.url.render_as_string(hide_password=False), tmp_path, task_queue)


@pytest.fixture
def own_url(tmp_path) -> str:
    """A records database of this test alone (a fresh SQLite file)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'own.sqlite'}"


async def run(capsys, settings, *argv, client=None) -> tuple[int, str, str]:
    code = await starter.main(list(argv), client, settings)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


class TestVerify:
    async def test_exit_code_says_whether_the_trail_is_intact(self, capsys, tmp_path, own_url):
        """0 on an intact database, 6 and the problem on stderr once a row is gone."""
        settings = settings_for(own_url, tmp_path)
        code_ = new_code("CLI")
        async with open_records(own_url) as store:
            at = datetime(2026, 3, 2, 2, tzinfo=UTC)
            await record(store, summary(code_, at), received_entries(at))
            code, out, _ = await run(capsys, settings, "verify", "--chains-only")
            assert code == 0 and json.loads(out)["events"] == 2
            await tamper(store, "DELETE FROM dossier_events WHERE seq = 1")
        code, out, err = await run(capsys, settings, "verify", "--chains-only")
        assert code == EXIT_TAMPERED
        assert json.loads(out)["problems"][0]["kind"] == "deleted"
        assert f"TAMPERED deleted: {code_} seq 1" in err


class TestSearchExportReport:
    async def test_search_prints_a_page(self, capsys, shared, dataset):
        code, out, _ = await run(
            capsys,
            shared,
            "search",
            "--handling-unit",
            dataset.A,
            "--status",
            "processed",
            "--page-size",
            "2",
        )
        page = json.loads(out)
        assert code == 0 and (page["total"], len(page["items"])) == (6, 2)

    @pytest.mark.parametrize(
        "argv, message",
        [
            (("--received-from", "2019-04-01", "--received-to", "2019-03-01"), "must be before received_to"),
            (("--page-size", "0"), "page size must be between 1 and 500"),
        ],
    )
    async def test_bad_search_input_exits_2_naming_the_problem(self, capsys, shared, argv, message):
        code, _, err = await run(capsys, shared, "search", *argv)
        assert code == 2 and message in err

    async def test_export_writes_csv(self, capsys, shared, dataset, tmp_path):
        path = tmp_path / "out.csv"
        code, _, err = await run(
            capsys, shared, "export", "--carried-over-from", dataset.OLD, "--output", str(path)
        )
        rows = list(csv.DictReader(path.open(encoding="utf-8")))
        assert code == 0 and "1 dossier(s) exported" in err
        assert [r["code"] for r in rows] == [f"D11-{dataset.tag}"]

    async def test_report_as_csv_table(self, capsys, shared, dataset):
        code, out, _ = await run(
            capsys,
            shared,
            "report",
            "--from",
            "2019-03-01",
            "--to",
            "2019-04-01",
            "--by",
            "handling_unit",
            "--receiving-unit",
            f"counter-{dataset.tag}",
            "--csv",
        )
        rows = {r["handling_unit"]: r for r in csv.DictReader(io.StringIO(out))}
        assert code == 0
        assert (rows[dataset.A]["received"], rows[dataset.A]["total"], rows[dataset.A]["on_time_rate"]) == (
            "6",
            "7",
            "0.7143",
        )
        assert rows["TOTAL"]["received"] == "11"

    async def test_report_refuses_an_empty_period(self, capsys, shared):
        code, _, err = await run(capsys, shared, "report", "--from", "2019-04-01", "--to", "2019-03-01")
        assert code == 2 and "must start before it ends" in err


class TestHistory:
    async def test_history_of_a_dossier(self, capsys, shared, client, counter):
        code_, _ = await reviewed_dossier(counter)
        code, out, _ = await run(capsys, shared, "history", code_, client=client)
        assert code == 0 and "agrees with Temporal" in out and "specialist-1" in out

    async def test_disagreement_exits_6(self, capsys, shared, client, counter, records):
        code_, _ = await reviewed_dossier(counter)
        await tamper(records, "DELETE FROM dossier_events WHERE dossier_code = :c AND seq = 4", c=code_)
        code, out, _ = await run(capsys, shared, "history", code_, "--json", client=client)
        assert code == EXIT_TAMPERED and json.loads(out)["disagreements"]

    async def test_unknown_dossier_exits_2(self, capsys, shared, client):
        code, _, err = await run(capsys, shared, "history", "NO-SUCH-DOSSIER", client=client)
        assert code == 2 and "no dossier NO-SUCH-DOSSIER" in err


class TestRecordsCommands:
    async def test_migrate_and_downgrade(self, capsys, tmp_path, own_url):
        settings = settings_for(own_url, tmp_path)
        head = migrate.head_revision()
        assert (await run(capsys, settings, "records", "migrate"))[:2] == (
            0,
            f"records schema: empty -> {head}\n",
        )
        assert (await run(capsys, settings, "records", "downgrade", "--revision", "0001"))[1] == (
            f"records schema: {head} -> 0001\n"
        )
        assert (await run(capsys, settings, "records", "migrate"))[1] == f"records schema: 0001 -> {head}\n"
        code, _, err = await run(capsys, settings, "records", "migrate", "--revision", "9999")
        assert code == 2 and "9999" in err

    @pytest.mark.parametrize("command", ["history", "search", "export", "report", "verify", "records"])
    def test_help(self, command, capsys):
        with pytest.raises(SystemExit) as done:
            starter.parser().parse_args([command, "--help"])
        assert done.value.code == 0 and "usage" in capsys.readouterr().out
