"""Intake through `starter.py`: a reused request id exits 2, a backfill needs its flag, the slip
prints the citizens' lookup secret, every problem is named at once in plain words."""

from __future__ import annotations

import functools
import json
import tempfile
import uuid
from datetime import datetime, timedelta

import pytest

from adminunits import VN_TZ
from records.lookup_secrets import SECRET_LENGTH, LookupSecrets
from tests.builders import APPLICANT
from tests.intake.test_intake import commune_counter
from tests.test_bad_input import cli, printed_json, settings  # noqa: F401  (the fixture)

pytestmark = pytest.mark.usefixtures("worker")


def _now() -> datetime:
    return datetime.now(VN_TZ)


def printed_json_list(output: str) -> list:
    return json.loads(output.split("\f")[0])


@functools.cache
def personal_id_file() -> str:
    """The applicant's ID in a file, as `counter receive` takes it (never on the command line)."""
    with tempfile.NamedTemporaryFile("w", suffix=".id", delete=False) as handle:
        handle.write(APPLICANT.personal_id + "\n")
    return handle.name


def receive_args(
    unit: str,
    *more: str,
    name: str = APPLICANT.full_name,
    roles: str = "counter_officer",
    id_file: str | None = None,
    commune: str = APPLICANT.address.commune_code,
) -> list[str]:
    address = APPLICANT.address
    return [
        "counter",
        "receive",
        "--procedure",
        "1.004873",
        "--applicant-name",
        name,
        "--personal-id-file",
        id_file or personal_id_file(),
        "--province",
        address.province_code,
        "--commune",
        commune,
        "--document",
        "declaration",
        "--officer",
        f"officer@{unit}",
        "--unit",
        unit,
        "--roles",
        roles,
        *more,
    ]


class TestCounterReceive:
    async def test_a_reused_request_id_exits_2_naming_it(self, client, settings, tmp_path, capsys, counter):  # noqa: F811
        """Another applicant under a used request id: exit 2, the id and its dossier named."""
        unit, request_id = commune_counter("00382"), f"req-{uuid.uuid4()}"
        code, output = await cli(
            client, settings, tmp_path, capsys, *receive_args(unit, "--request-id", request_id)
        )
        assert code == 0, output
        first = printed_json(output)["dossier_code"]
        counter.started.append(first)
        code, output = await cli(
            client,
            settings,
            tmp_path,
            capsys,
            *receive_args(unit, "--request-id", request_id, name="Trần Thị Bình"),
        )
        assert code == 2, output
        assert "conflict" in output and request_id in output and first in output
        assert "Traceback" not in output

    async def test_a_backfill_needs_the_operator_role_and_a_reason(
        self,
        env,
        client,
        settings,  # noqa: F811 (the imported fixture)
        tmp_path,
        capsys,
        counter,  # noqa: F811
    ):
        """--received-at a day back: exit 3 without --backfill-reason, 4 without the operator
        role, 0 as an operator with a reason."""
        unit = commune_counter("00385")
        # The CLI receives on the wall clock (the test server's may be days ahead).
        day_before = datetime.now(VN_TZ) - timedelta(days=1)
        past = ["--received-at", day_before.isoformat()]
        code, output = await cli(client, settings, tmp_path, capsys, *receive_args(unit, *past))
        assert code == 3 and "backfill_reason" in output, output
        reason = ["--backfill-reason", "paper register of the outage"]
        code, output = await cli(client, settings, tmp_path, capsys, *receive_args(unit, *past, *reason))
        assert code == 4 and "operator" in output, output
        code, output = await cli(
            client,
            settings,
            tmp_path,
            capsys,
            *receive_args(unit, *past, *reason, roles="counter_officer,operator"),
        )
        assert code == 0, output
        counter.started.append(printed_json(output)["dossier_code"])

    async def test_unsettled_lists_reservations_as_json(self, client, settings, tmp_path, capsys, records):  # noqa: F811
        """`counter unsettled` exits 0 and prints every unconfirmed reservation with its state."""
        from records.dossier_codes import DossierCodeAllocator

        unit = commune_counter("00541")
        claim = await DossierCodeAllocator(records.engine, records.sessions).reserve(
            unit, _now().date(), f"req-{uuid.uuid4()}", "h", _now()
        )
        code, output = await cli(client, settings, tmp_path, capsys, "counter", "unsettled")
        assert code == 0, output
        listed = {r["dossier_code"]: r["state"] for r in printed_json_list(output)}
        assert listed[claim.dossier_code] == "not_started"


class TestLookupSecret:
    async def test_the_printed_slip_carries_a_lookup_secret_given_once(
        self,
        client,
        settings,  # noqa: F811 (the imported fixture)
        tmp_path,
        capsys,
        counter,
        records,
    ):
        """`counter receive` prints the citizens' lookup secret; it matches, a wrong one does not,
        and the same request sent again prints none while the first stays valid."""
        unit, request_id = commune_counter("00385"), f"req-{uuid.uuid4()}"
        args = receive_args(unit, "--request-id", request_id)
        code, output = await cli(client, settings, tmp_path, capsys, *args)
        assert code == 0, output
        slip = printed_json(output)
        counter.started.append(slip["dossier_code"])
        secret = slip["lookup_secret"]
        assert isinstance(secret, str) and len(secret) == SECRET_LENGTH
        secrets = LookupSecrets(records.engine, records.sessions)
        assert await secrets.matches(slip["dossier_code"], secret)
        assert await secrets.matches(slip["dossier_code"], secret.lower())  # as a citizen may type it
        assert not await secrets.matches(slip["dossier_code"], "ABCDEFGHJK")
        code, output = await cli(client, settings, tmp_path, capsys, *args)
        again = printed_json(output)
        assert code == 0 and again["resubmitted"] is True
        # Resent at once: a new secret, which replaces the first (records/lookup_secrets.py).
        assert again["lookup_secret"] not in (None, secret)
        assert await secrets.matches(slip["dossier_code"], again["lookup_secret"])
        assert not await secrets.matches(slip["dossier_code"], secret)

    async def test_a_lost_slip_gets_a_new_secret_from_the_counter(
        self,
        client,
        settings,  # noqa: F811 (the imported fixture)
        tmp_path,
        capsys,
        counter,
        records,
    ):
        """`counter new-lookup-secret` prints form 01 reprinted with a new secret, the old one no
        longer matching; another unit's counter is refused (exit 4), an empty reason (exit 2)
        and an unknown dossier (exit 2) are named."""
        unit = commune_counter("00385")
        code, output = await cli(client, settings, tmp_path, capsys, *receive_args(unit))
        assert code == 0, output
        slip = printed_json(output)
        dossier, old = slip["dossier_code"], slip["lookup_secret"]
        counter.started.append(dossier)
        me = ["--officer", f"officer@{unit}", "--unit", unit, "--roles", "counter_officer"]
        new_secret = ["counter", "new-lookup-secret", dossier, "--action-id", f"{dossier}-slip"]
        code, output = await cli(client, settings, tmp_path, capsys, *new_secret, "--reason", "  ", *me)
        assert code == 2 and "reason" in output, output
        other = commune_counter("00382")
        code, output = await cli(
            client, settings, tmp_path, capsys, *new_secret, "--reason", "mất phiếu",
            "--officer", "x", "--unit", other, "--roles", "counter_officer",
        )  # fmt: skip
        assert code == 4 and "WrongUnit" in output and unit in output, output
        unknown = ["counter", "new-lookup-secret", dossier[:-4] + "9999", "--action-id", "k"]
        code, output = await cli(client, settings, tmp_path, capsys, *unknown, "--reason", "mất phiếu", *me)
        assert code == 2 and "no dossier" in output, output
        secrets = LookupSecrets(records.engine, records.sessions)
        assert await secrets.matches(dossier, old)
        reason = "mất phiếu hẹn, đã kiểm tra CCCD"
        code, output = await cli(client, settings, tmp_path, capsys, *new_secret, "--reason", reason, *me)
        assert code == 0, output
        reprinted = printed_json(output)
        assert reprinted["dossier_code"] == dossier and reprinted["reissued_at"]
        assert reprinted["lookup_secret"] not in (None, old)
        assert await secrets.matches(dossier, reprinted["lookup_secret"])
        assert not await secrets.matches(dossier, old)
        [record] = await secrets.reissues(dossier)
        assert (record.officer_id, record.officer_unit, record.reason) == (f"officer@{unit}", unit, reason)


class TestPlainWords:
    @pytest.mark.parametrize("personal_id", ["00109", "0010901234567"])
    async def test_a_personal_id_of_the_wrong_length_says_what_an_id_is(
        self,
        client,
        settings,  # noqa: F811 (the imported fixture)
        tmp_path,
        capsys,
        personal_id,
    ):
        """5 or 13 digits: exit 2 with "must be 12 ASCII digits 0-9", not pydantic's character count."""
        id_file = tmp_path / "id.txt"
        id_file.write_text(personal_id + "\n", encoding="utf-8")
        unit = commune_counter("00382")
        code, output = await cli(
            client, settings, tmp_path, capsys, *receive_args(unit, id_file=str(id_file))
        )
        assert code == 2, output
        assert "applicant.personal_id: must be 12 ASCII digits 0-9" in output, output
        assert "String should" not in output and "characters" not in output, output

    async def test_every_problem_of_a_receipt_is_named_at_once(
        self,
        client,
        settings,  # noqa: F811 (the imported fixture)
        tmp_path,
        capsys,
    ):
        """A bad --document, a bad personal ID and a bad commune: one exit 2 naming all three."""
        id_file = tmp_path / "id.txt"
        id_file.write_text("00109\n", encoding="utf-8")
        unit = commune_counter("00382")
        argv = receive_args(unit, "--document", "photo:²", id_file=str(id_file), commune="4")
        code, output = await cli(client, settings, tmp_path, capsys, *argv)
        assert code == 2, output
        [message] = [line for line in output.split("\f")[1].splitlines() if "copies" in line]
        assert "--document 'photo:²': copies must be a number from 1 to 100" in message, output
        assert "applicant.personal_id: must be 12 ASCII digits 0-9" in message, output
        assert "applicant.address.commune_code: must be 5 digits" in message, output
