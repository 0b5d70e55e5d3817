"""A corpus of malformed and hostile requests through the CLI: each gets a clear error.

Zero crashes, zero half-created dossiers: a request is either received whole (a workflow,
its code committed, its events recorded) or leaves no trace.
"""

from __future__ import annotations

import json
from collections import Counter as Tally
from pathlib import Path

import pytest
from sqlalchemy import func, select

import starter
from records.tables import DossierSequenceRow, IntakeRequestRow
from runtime.settings import Settings
from tests.builders import APPLICANT, BA_DINH_COUNTER, COUNTER, LEADER, SPECIALIST, settled
from workflows.dossier import DossierWorkflow

pytestmark = pytest.mark.usefixtures("worker")

GOOD = {
    "procedure_code": "1.004873",
    "applicant": json.loads(APPLICANT.model_dump_json()),
    "receiving_unit": BA_DINH_COUNTER,
    "documents": [{"id": "declaration"}],
    "received_by": json.loads(COUNTER.model_dump_json()),
}


def changed(path: str, value, **more) -> dict:
    """GOOD with the field at dotted `path` replaced (or removed when value is ...)."""
    request = json.loads(json.dumps(GOOD))
    for dotted, new in [(path, value), *((k.replace("__", "."), v) for k, v in more.items())]:
        *parents, leaf = dotted.split(".")
        node = request
        for key in parents:
            node = node[key]
        if new is ...:
            del node[leaf]
        else:
            node[leaf] = new
    return request


def at_counter(unit: str) -> dict:
    """GOOD received at `unit` by an officer of that unit."""
    return changed("receiving_unit", unit, received_by__unit=unit)


# (name, request body or raw text, expected exit code, a fragment the error must contain)
INTAKE_CORPUS = [
    ("not json", "{procedure_code: 1.004873", 2, "Invalid JSON"),
    ("empty file", "", 2, "Invalid JSON"),
    ("a list, not an object", [], 2, "Input should be an object"),
    ("missing applicant", changed("applicant", ...), 2, "applicant: is required"),
    ("personal id as number", changed("applicant.personal_id", 1090123456), 2, "applicant.personal_id"),
    ("personal id 11 digits", changed("applicant.personal_id", "00109012345"), 2, "applicant.personal_id"),
    (
        "personal id with letters",
        changed("applicant.personal_id", "00109012345A"),
        2,
        "applicant.personal_id",
    ),
    ("empty name", changed("applicant.full_name", ""), 2, "applicant.full_name"),
    ("oversized name", changed("applicant.full_name", "A" * 10_000), 2, "applicant.full_name"),
    ("oversized document list", changed("documents", [{"id": "declaration"}] * 500), 2, "documents"),
    ("unknown field", changed("applicant.nickname", "An"), 2, "applicant.nickname"),
    (
        "malformed commune",
        changed("applicant.address.commune_code", "4"),
        2,
        "applicant.address.commune_code",
    ),
    ("naive receipt time", changed("received_at", "2026-03-05T10:00:00"), 2, "received_at"),
    ("year 1 at +14:00", changed("received_at", "0001-01-01T00:00:00+14:00"), 2, "received_at"),
    ("year 9999 at -12:00", changed("received_at", "9999-12-31T23:59:59-12:00"), 2, "received_at"),
    ("offset +23:59", changed("received_at", "2026-03-05T10:00:00+23:59"), 2, "received_at"),
    ("unix time", changed("received_at", 1772690400), 2, "received_at"),
    ("Arabic-Indic digits", changed("applicant.personal_id", "٠٠١٠٩٠١٢٣٤٥٦"), 2, "applicant.personal_id"),
    (
        "full-width digits",
        changed("applicant.personal_id", "００１０９０１２３４５６"),
        2,
        "applicant.personal_id",
    ),
    ("Devanagari digits", changed("applicant.personal_id", "००१०९०१२३४५६"), 2, "applicant.personal_id"),
    ("all-zero personal id", changed("applicant.personal_id", "000000000000"), 2, "applicant.personal_id"),
    ("no such birth province", changed("applicant.personal_id", "099090123456"), 2, "applicant.personal_id"),
    ("full-width phone", changed("applicant.phone", "０９１２３４５６７８"), 2, "applicant.phone"),
    ("blank name", changed("applicant.full_name", "   "), 2, "applicant.full_name"),
    ("zero-width name", changed("applicant.full_name", "\u200b"), 2, "applicant.full_name"),
    ("NUL in name", changed("applicant.full_name", "An\x00"), 2, "applicant.full_name"),
    ("ANSI escape in name", changed("applicant.full_name", "\x1b[31mAn"), 2, "applicant.full_name"),
    ("bidi override in name", changed("applicant.full_name", "An\u202e"), 2, "applicant.full_name"),
    ("markup in name", changed("applicant.full_name", "<b>An</b>"), 2, "applicant.full_name"),
    (
        "SQL in name",
        changed("applicant.full_name", "Robert'); DROP TABLE dossiers;--"),
        2,
        "applicant.full_name",
    ),
    ("199 combining marks", changed("applicant.full_name", "a" + "\u0301" * 199), 2, "applicant.full_name"),
    (
        "copies 10**30",
        changed("documents", [{"id": "declaration", "copies": 10**30}]),
        2,
        "documents.0.copies",
    ),
    ("unknown procedure", changed("procedure_code", "1.999999"), 3, "unknown procedure code"),
    ("injection in procedure code", changed("procedure_code", "1.004873' OR '1'='1"), 3, "unknown procedure"),
    ("version not in force", changed("received_at", "2015-06-01T10:00:00+07:00"), 3, "no version in force"),
    ("commune of another province", changed("applicant.address.commune_code", "25747"), 3, "commune_code"),
    ("abolished unit after the reform", at_counter("001.00.00.H01"), 3, "does not exist on that date"),
    ("path-like receiving unit", at_counter("../../etc/passwd"), 3, "not a known one-stop counter"),
    ("counter of another province", at_counter("000.25747.01.H79"), 3, "province 79"),
    (
        "officer of another unit",
        changed("received_by.unit", "000.00008.01.H01"),
        4,
        "not to the receiving unit",
    ),
    (
        "unknown document",
        changed("documents", [{"id": "declaration"}, {"id": "x; DROP TABLE dossiers"}]),
        3,
        "",
    ),
    ("missing documents", changed("documents", []), 3, ""),
    (
        "officer without counter role",
        changed("received_by.roles", ["specialist"]),
        4,
        "not a counter officer",
    ),
]


async def traces(records) -> tuple[int, int]:
    """What a received dossier leaves in the records store: numbers taken, request ids used."""
    async with records.sessions() as session:
        numbers = await session.scalar(
            select(func.coalesce(func.sum(DossierSequenceRow.last_number), 0)).where(
                DossierSequenceRow.agency_code == BA_DINH_COUNTER
            )
        )
        requests = await session.scalar(select(func.count()).select_from(IntakeRequestRow))
    return numbers, requests


@pytest.fixture
def settings(tmp_path, records, task_queue) -> Settings:
    url = records.engine.url.render_as_string(hide_password=False)
    return Settings.from_env({"DATA_DIR": str(tmp_path), "DATABASE_URL": url, "TASK_QUEUE": task_queue})


async def cli(client, settings, tmp_path: Path, capsys, *argv: str, body=None) -> tuple[int, str]:
    """Exit code and stdout, with stderr (errors, logs) after a form feed."""
    if body is not None:
        path = tmp_path / "input.json"
        path.write_text(
            body if isinstance(body, str) else json.dumps(body, ensure_ascii=False), encoding="utf-8"
        )
        argv = tuple(str(path) if a == "@" else a for a in argv)
    code = await starter.main(list(argv), client, settings)
    captured = capsys.readouterr()
    return code, captured.out + "\f" + captured.err


def printed_json(output: str) -> dict:
    return json.loads(output.split("\f")[0])


class TestBadInputCorpus:
    async def test_every_bad_request_gets_a_clear_error_and_leaves_no_trace(
        self, client, settings, records, tmp_path, capsys, counter
    ):
        """Each malformed or hostile intake is refused with its reason; no number or request is used."""
        before = await traces(records)
        outcomes: Tally[int] = Tally()
        for name, body, expected, fragment in INTAKE_CORPUS:
            code, output = await cli(client, settings, tmp_path, capsys, "receive", "--file", "@", body=body)
            outcomes[code] += 1
            assert code == expected, f"{name}: exit {code}\n{output}"
            assert fragment in output, f"{name}: {output}"
        print(
            f"\nintake corpus: {len(INTAKE_CORPUS)} requests, exits {dict(sorted(outcomes.items()))}, 0 crashes"
        )
        assert await traces(records) == before

    async def test_hostile_text_is_stored_as_text(self, client, settings, records, tmp_path, capsys, counter):
        """An address that looks like SQL is received as text and the tables are intact."""
        body = changed("applicant.address.detail", "Robert'); DROP TABLE dossiers;--")
        code, output = await cli(client, settings, tmp_path, capsys, "receive", "--file", "@", body=body)
        assert code == 0, output
        slip = printed_json(output)
        counter.started.append(slip["dossier_code"])
        view = await settled(client.get_workflow_handle_for(DossierWorkflow.run, slip["dossier_code"]))
        assert view.status.value == "processing"


class TestBadActions:
    async def test_wrong_actors_order_and_replays_are_refused_or_harmless(
        self, client, settings, tmp_path, capsys, counter
    ):
        """Wrong role, wrong unit, steps out of order, reused ids: typed refusals; a replay changes nothing."""
        code, output = await cli(
            client, settings, tmp_path, capsys, "receive", "--file", "@", body=GOOD | {"request_id": "r-1"}
        )
        assert code == 0, output
        dossier = printed_json(output)["dossier_code"]
        counter.started.append(dossier)

        def act(actor, action_id, step_id="review"):
            return {"actor": json.loads(actor.model_dump_json()), "action_id": action_id, "step_id": step_id}

        other_unit = SPECIALIST.model_copy(update={"unit": "000.00008.00.H01"})
        corpus = [
            ("wrong role", "complete_step", act(LEADER, "a-1"), 4, "WrongRole"),
            ("wrong unit", "complete_step", act(other_unit, "a-2"), 4, "WrongUnit"),
            ("step out of order", "complete_step", act(LEADER, "a-3", "approve"), 4, "WrongState"),
            ("unknown step", "complete_step", act(SPECIALIST, "a-4", "rubber_stamp"), 4, "UnknownStep"),
            ("right step", "complete_step", act(SPECIALIST, "a-5"), 0, '"approve"'),
            ("replayed action id", "complete_step", act(SPECIALIST, "a-5"), 0, '"approve"'),
            (
                "action id reused",
                "withdraw",
                {"actor": json.loads(COUNTER.model_dump_json()), "action_id": "a-5"},
                4,
                "ActionIdReused",
            ),
            ("wrong input shape", "withdraw", act(SPECIALIST, "a-6"), 2, "step_id"),
            (
                "missing action id",
                "complete_step",
                {"actor": json.loads(SPECIALIST.model_dump_json()), "step_id": "approve"},
                2,
                "action_id",
            ),
        ]
        outcomes: Tally[int] = Tally()
        for name, action, body, expected, fragment in corpus:
            code, output = await cli(
                client, settings, tmp_path, capsys, "act", dossier, action, "--file", "@", body=body
            )
            outcomes[code] += 1
            assert code == expected, f"{name}: exit {code}\n{output}"
            assert fragment in output, f"{name}: {output}"
        code, output = await cli(
            client,
            settings,
            tmp_path,
            capsys,
            "act",
            "000.00004.01.H01-000000-9999",
            "withdraw",
            "--file",
            "@",
            body={"actor": json.loads(COUNTER.model_dump_json()), "action_id": "x"},
        )
        assert code == 2 and "not found" in output.lower()

        # Double submission of the counter's request: the same dossier, not a second one.
        code, output = await cli(
            client, settings, tmp_path, capsys, "receive", "--file", "@", body=GOOD | {"request_id": "r-1"}
        )
        again = printed_json(output)
        assert code == 0 and again["dossier_code"] == dossier and again["resubmitted"]

        view = await settled(client.get_workflow_handle_for(DossierWorkflow.run, dossier))
        # Only the right step left a trace. (The CLI receives on the wall clock while the test
        # server's clock may be months ahead after other tests: the dossier can be overdue.)
        actions = [e.action for e in view.timeline if e.action != "overdue"]
        assert actions == ["received", "transferred", "step_completed"]
        print(
            f"\naction corpus: {len(corpus) + 1} actions, exits {dict(sorted(outcomes.items()))}, 0 crashes"
        )


COUNTER_FLAGS = ["--officer", "c-1", "--unit", BA_DINH_COUNTER, "--roles", "counter_officer"]
RECEIVE_FLAGS = [
    "counter",
    "receive",
    "--procedure",
    "1.004873",
    "--applicant-name",
    "Nguyễn Văn An",
    "--personal-id-file",
    "@",
    "--province",
    "01",
    "--commune",
    "00004",
    *COUNTER_FLAGS,
]

# (name, argv ("@": a file holding `body`), body, expected exit code, a fragment of stderr)
CLI_CORPUS = [
    (
        "receive --file, year 1",
        ["receive", "--file", "@"],
        changed("received_at", "0001-01-01T00:00:00+14:00"),
        2,
        "received_at",
    ),
    (
        "receive --file, year 9999",
        ["receive", "--file", "@"],
        changed("received_at", "9999-12-31T23:59:59-12:00"),
        2,
        "received_at",
    ),
    (
        "--received-at year 1",
        [*RECEIVE_FLAGS, "--document", "declaration", "--received-at", "0001-01-01T00:00:00+14:00"],
        "001090123456",
        2,
        "--received-at",
    ),
    (
        "--received-at +23:59",
        [*RECEIVE_FLAGS, "--document", "declaration", "--received-at", "2026-03-05T10:00:00+23:59"],
        "001090123456",
        2,
        "--received-at",
    ),
    (
        "--document declaration:²",
        [*RECEIVE_FLAGS, "--document", "declaration:²"],
        "001090123456",
        2,
        "copies must be a number",
    ),
    (
        "--document declaration:10**30",
        [*RECEIVE_FLAGS, "--document", "declaration:" + "9" * 31],
        "001090123456",
        2,
        "copies must be a number",
    ),
    (
        "personal id in full-width digits",
        [*RECEIVE_FLAGS, "--document", "declaration"],
        "００１０９０１２３４５６",
        2,
        "applicant.personal_id",
    ),
    (
        "personal id file missing",
        [*(a if a != "@" else "/no/such/file" for a in RECEIVE_FLAGS), "--document", "declaration"],
        None,
        2,
        "--personal-id-file",
    ),
    ("show ''", ["show", ""], None, 2, "not a dossier code"),
    ("show a 5,000-character code", ["show", "x" * 5000], None, 2, "not a dossier code"),
    ("history ''", ["history", ""], None, 2, "not a dossier code"),
    ("officer show with spaces", ["officer", "show", "a b", *COUNTER_FLAGS], None, 2, "not a dossier code"),
    (
        "search year 9999",
        ["search", "--received-from", "9999-12-31T23:59:59-12:00"],
        None,
        2,
        "--received-from",
    ),
    (
        "report offset +23:59",
        ["report", "--from", "2026-03-01T00:00:00+23:59", "--to", "2026-04-01"],
        None,
        2,
        "--from",
    ),
    (
        "report as-of year 1",
        ["report", "--from", "2026-03-01", "--to", "2026-04-01", "--as-of", "0001-01-01T00:00:00+14:00"],
        None,
        2,
        "--as-of",
    ),
    (
        "apology year 9999",
        [
            "officer",
            "apology",
            "000.00004.01.H01-000000-9999",
            "--reason",
            "late",
            "--new-due-at",
            "9999-12-31T23:59:59-12:00",
            "--action-id",
            "a-1",
            *COUNTER_FLAGS,
        ],
        None,
        2,
        "--new-due-at",
    ),
    (
        "confirm-payment amount 10**30",
        [
            "counter",
            "confirm-payment",
            "000.00004.01.H01-000000-9999",
            "--amount",
            str(10**30),
            "--receipt",
            "r",
            "--action-id",
            "p-1",
            *COUNTER_FLAGS,
        ],
        None,
        2,
        "amount_vnd",
    ),
]


class TestCliNeverPrintsATraceback:
    async def test_each_bad_invocation_exits_with_its_code_and_one_line(
        self, client, settings, tmp_path, capsys, counter
    ):
        """Extreme instants, odd digits, empty or huge codes: the documented exit code, a short message."""
        for name, argv, body, expected, fragment in CLI_CORPUS:
            try:
                code, output = await cli(client, settings, tmp_path, capsys, *argv, body=body)
            except SystemExit as usage_error:  # argparse refuses a malformed argument with exit 2
                code, output = usage_error.code, "\f" + capsys.readouterr().err
            stderr = output.split("\f", 1)[1]
            assert code == expected, f"{name}: exit {code}\n{output[:2000]}"
            assert fragment in stderr, f"{name}: {stderr[:2000]}"
            assert "Traceback" not in output, f"{name}: {output[:2000]}"
            error_lines = [line for line in stderr.splitlines() if "error" in line]
            assert len(error_lines) == 1 and len(error_lines[0]) < 600, f"{name}: {stderr[:2000]}"
        print(f"\nCLI corpus: {len(CLI_CORPUS)} invocations, 0 tracebacks")
        assert counter.started == []
