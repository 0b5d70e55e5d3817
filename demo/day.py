"""A one-stop day in Tỉnh Bắc Ninh, played through the HTTP API as its officers would.

Scenes, in order:
1. Before the boundary (27-30 June 2025): household businesses received at the district of
   Thành phố Bắc Ninh, one already reviewed there; a criminal-record certificate at the old
   province's centre.
2. The carryover at 1 July 2025 moves them to the communes and the new province's
   department; the district's officer is refused afterwards, the commune's finishes.
3. Today, at three commune counters: a dossier handled to its return, one with a
   supplementation, and one received late in the evening of a backlog day that is overdue
   and gets an apology with a new appointment; and one submitted online, received at the
   counter's check, returned and rated by the applicant.
4. The service report of the province.

Every request id and action id is derived from the scene, so a second run on the same state
finds its dossiers (the counter's request id) and repeats no action (the action ids).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, TextIO

import httpx
from temporalio.client import Client

from audit.reports import Report, ReportQuery, report
from carryover.client import start_carryover
from carryover.models import CarryoverInput
from cli.tables import print_tables, report_table
from demo import cast
from demo.online import online_scene
from model.dossier_inputs import Actor, Address
from officers.tokens import mint_token
from procedures.calendar import VN_TZ, WorkingCalendar
from procedures.models import Role
from records.database import RecordsStore
from workflows.dossier import DossierWorkflow

__all__ = ["DemoError", "DemoOutcome", "REPORT_FROM", "play", "print_report"]

REPORT_FROM = datetime(2025, 6, 1, tzinfo=VN_TZ)

AUDITOR = cast.officer("tn-auditor", cast.commune_committee("09169"), Role.AUDITOR)


class DemoError(RuntimeError):
    """The API answered something the demonstration did not expect."""


@dataclass
class DemoOutcome:
    received: list[str] = field(default_factory=list)
    carried_over: dict[str, str] = field(default_factory=dict)  # code -> new handling unit
    refusals: list[str] = field(default_factory=list)
    report: Report | None = None


class Desk:
    """One officer at the API, with a token signed by the deployment's key."""

    def __init__(self, http: httpx.AsyncClient, actor: Actor, key: bytes) -> None:
        self.http, self.actor = http, actor
        self._headers = {"Authorization": f"Bearer {mint_token(actor, key)}"}
        # What was already done is read as an auditor: after the carryover, the district's
        # officers may no longer read the dossiers they once handled.
        self._auditor = {"Authorization": f"Bearer {mint_token(AUDITOR, key)}"}

    async def receive(self, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post("/dossiers", json=body, headers=self._headers)
        if response.status_code not in (200, 201):
            raise DemoError(f"{self.actor.id} could not receive {body['request_id']}: {response.text}")
        return response.json()  # 200: a second run, the request id found its dossier again

    async def view(self, code: str) -> dict[str, Any]:
        response = await self.http.get(f"/dossiers/{code}", headers=self._headers)
        if response.status_code != 200:
            raise DemoError(f"{self.actor.id} could not read {code}: {response.text}")
        return response.json()

    async def act(self, code: str, action: str, action_id: str, **fields: Any) -> dict[str, Any]:
        """Do `action` once: an action id already in the timeline (a second run) is skipped."""
        response = await self.http.get(f"/dossiers/{code}", headers=self._auditor)
        if response.status_code != 200:
            raise DemoError(f"could not read {code}: {response.text}")
        view = response.json()
        if any(entry.get("action_id") == action_id for entry in view["timeline"]):
            return view
        response = await self.http.post(
            f"/dossiers/{code}/actions/{action}",
            json={"action_id": action_id, **fields},
            headers=self._headers,
        )
        if response.status_code != 200:
            raise DemoError(f"{self.actor.id} could not {action} {code}: {response.text}")
        return response.json()

    async def refused(self, code: str, action: str, **fields: Any) -> str:
        """An action the API must refuse; returns the refusal's type."""
        response = await self.http.post(
            f"/dossiers/{code}/actions/{action}",
            json={"action_id": f"{code}-refused-{action}", **fields},
            headers=self._headers,
        )
        if response.status_code < 400:
            raise DemoError(f"{self.actor.id} was allowed to {action} {code}")
        return response.json()["type"]


async def play(
    client: Client,
    records: RecordsStore,
    task_queue: str,
    api_url: str,
    key: bytes,
    out: TextIO,
    *,
    now: datetime | None = None,
) -> DemoOutcome:
    now = now or datetime.now(VN_TZ)
    outcome = DemoOutcome()
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as http:
        await _wait_for_api(http)
        say = _Narrator(out)
        await _before_the_boundary(http, key, outcome, say)
        await _carryover(client, task_queue, outcome, say)
        await _successors_take_over(http, key, outcome, say)
        await _one_stop_day(http, key, outcome, say, now)
    await _settled(client, outcome.received)
    outcome.report = await report(
        records,
        ReportQuery(
            start=REPORT_FROM,
            # Whole days, so that `starter.py report --from 2025-06-01 --to TOMORROW` gives this table.
            end=datetime.combine(now.date() + timedelta(days=1), time(0), VN_TZ),
            group_by=("handling_unit",),
        ),
    )
    return outcome


# Scenes.

# The 2025 scenes are entered today with the dates they happened: backfills.
BACKFILL_REASON = "nhập bù: hồ sơ tiếp nhận trước ngày 01/7/2025"


async def _before_the_boundary(
    http: httpx.AsyncClient, key: bytes, outcome: DemoOutcome, say: _Narrator
) -> None:
    say.scene("27-30 June 2025: the district of Thành phố Bắc Ninh still registers household businesses")
    # Entered now, dated then: a backfill, which needs the operator role and a reason.
    counter = Desk(
        http,
        cast.officer("tn-counter-256", cast.DISTRICT_COMMITTEE, Role.COUNTER_OFFICER, Role.OPERATOR),
        key,
    )
    district_specialist = Desk(
        http, cast.officer("tn-specialist-256", cast.DISTRICT_COMMITTEE, Role.SPECIALIST), key
    )
    days = [datetime(2025, 6, 27, 9, 30), datetime(2025, 6, 30, 10, 15), datetime(2025, 6, 30, 16, 59)]
    for number, (ward, received) in enumerate(zip(cast.DISTRICT_WARDS, days), start=1):
        address = Address(province_code=cast.OLD_PROVINCE, district_code=cast.DISTRICT, commune_code=ward)
        slip = await counter.receive(
            {
                "request_id": f"demo-district-{number}",
                "procedure_code": "1.001612",
                "applicant": cast.applicant(number, address).model_dump(mode="json"),
                "documents": [{"id": "application"}, {"id": "owner_id"}],
                "received_at": received.replace(tzinfo=VN_TZ).isoformat(),
                "backfill_reason": BACKFILL_REASON,
            }
        )
        outcome.received.append(slip["dossier_code"])
        say.line(
            f"received {slip['dossier_code']} ({slip['version_id']}) for a resident of {cast.DISTRICT_WARDS[ward]},"
            f" due {_when(slip['due_at'])}"
        )
    first = outcome.received[0]
    await district_specialist.act(
        first, "complete_step", f"{first}-review", step_id="review", note="hồ sơ hợp lệ"
    )
    say.line(f"{first}: reviewed at the district before the boundary")

    centre = Desk(
        http,
        cast.officer("tn-counter-h27", cast.OLD_PROVINCE_CENTRE, Role.COUNTER_OFFICER, Role.OPERATOR),
        key,
    )
    address = Address(province_code=cast.OLD_PROVINCE, district_code=cast.DISTRICT, commune_code="09166")
    slip = await centre.receive(
        {
            "request_id": "demo-justice-1",
            "procedure_code": "3.000333",
            "applicant": cast.applicant(4, address).model_dump(mode="json"),
            "documents": [{"id": "declaration"}, {"id": "applicant_id"}],
            "received_at": datetime(2025, 6, 30, 14, 0, tzinfo=VN_TZ).isoformat(),
            "backfill_reason": BACKFILL_REASON,
        }
    )
    outcome.received.append(slip["dossier_code"])
    say.line(f"received {slip['dossier_code']} (criminal record) for {slip['handling_unit_name']}")


async def _carryover(client: Client, task_queue: str, outcome: DemoOutcome, say: _Narrator) -> None:
    say.scene("1 July 2025 00:00: the carryover moves open dossiers to the successor authorities")
    handle = await start_carryover(
        client, task_queue, CarryoverInput(carryover_id="demo", reason="Nghị quyết 190/2025/QH15, Điều 5")
    )
    result = await handle.result()
    for authority in result.authorities:
        successors = (
            ", ".join(f"{unit} ({count})" for unit, count in sorted(authority.successors.items())) or "-"
        )
        say.line(
            f"{authority.old_unit}: {authority.open} open, {authority.transferred} transferred -> {successors};"
            f" {authority.manual} for manual assignment"
        )
    say.line(
        f"progress: {result.progress.done}/{result.progress.total} done, {result.progress.failed} failed"
    )


async def _successors_take_over(
    http: httpx.AsyncClient, key: bytes, outcome: DemoOutcome, say: _Narrator
) -> None:
    say.scene("After the boundary: the district's officer is refused, the commune's officers finish")
    reader = Desk(http, AUDITOR, key)
    old_specialist = Desk(
        http, cast.officer("tn-specialist-256", cast.DISTRICT_COMMITTEE, Role.SPECIALIST), key
    )
    for code in outcome.received:
        view = await reader.view(code)
        outcome.carried_over[code] = view["handling_unit"]
        entry = next((e for e in view["timeline"] if e["action"] == "carried_over"), None)
        moved = f"{entry['details']['from']} -> {entry['details']['to']}" if entry else "not carried over"
        say.line(f"{code}: {moved}; still due {_when(view['due_at'])}, version {view['version_id']}")
    first = outcome.received[0]
    refusal = await old_specialist.refused(first, "complete_step", step_id="approve")
    outcome.refusals.append(refusal)
    say.line(f"{first}: the district's specialist tries to act and is refused ({refusal})")
    successor = outcome.carried_over[first]
    leader = Desk(http, cast.officer("tn-leader-vu-ninh", successor, Role.LEADER), key)
    view = await leader.act(
        first, "complete_step", f"{first}-approve", step_id="approve", note="ký Giấy chứng nhận"
    )
    say.line(f"{first}: approved at {successor} without repeating the district's review -> {view['status']}")


async def _one_stop_day(
    http: httpx.AsyncClient, key: bytes, outcome: DemoOutcome, say: _Narrator, now: datetime
) -> None:
    today = now.date().isoformat()
    say.scene(f"{today}: a day at three commune counters of the new Tỉnh Bắc Ninh")
    communes = list(cast.COMMUNES)
    desks = {
        commune: {
            "counter": Desk(
                http,
                cast.officer(f"tn-counter-{commune}", cast.commune_counter(commune), Role.COUNTER_OFFICER),
                key,
            ),
            "specialist": Desk(
                http,
                cast.officer(f"tn-specialist-{commune}", cast.commune_committee(commune), Role.SPECIALIST),
                key,
            ),
            "leader": Desk(
                http, cast.officer(f"tn-leader-{commune}", cast.commune_committee(commune), Role.LEADER), key
            ),
        }
        for commune in communes
    }

    def body(number: int, commune: str, procedure: str, documents: list[str], **more: Any) -> dict[str, Any]:
        address = Address(province_code="24", commune_code=commune, detail=f"số {number} đường Thử nghiệm")
        return {
            "request_id": f"demo-{today}-{number}",
            "procedure_code": procedure,
            "applicant": cast.applicant(100 + number, address).model_dump(mode="json"),
            "documents": [{"id": d} for d in documents],
            **more,
        }

    # A marital-status certificate, handled to its return.
    bac_giang = desks[communes[0]]
    slip = await bac_giang["counter"].receive(body(1, communes[0], "1.004873", ["declaration"]))
    code = slip["dossier_code"]
    outcome.received.append(code)
    await bac_giang["specialist"].act(code, "complete_step", f"{code}-review", step_id="review")
    await bac_giang["leader"].act(code, "complete_step", f"{code}-approve", step_id="approve")
    view = await bac_giang["counter"].act(code, "return_result", f"{code}-return")
    say.line(f"{code} marital-status certificate at {cast.COMMUNES[communes[0]]}: {view['status']}")
    # The slip's lookup secret, for trying the citizens' page (/lookup); given once per dossier
    # (again within minutes of the first slip, records/lookup_secrets.py),
    # so a second run, whose request id finds this dossier again, has none to print.
    secret = slip["lookup_secret"] or "(in trên giấy tiếp nhận của lần chạy đầu)"
    say.line(f"   citizens' lookup of {code}: secret {secret}")

    # A birth registration missing a document: supplementation stops the clock.
    vu_ninh = desks[communes[1]]
    slip = await vu_ninh["counter"].receive(
        body(2, communes[1], "1.001193", ["declaration", "birth_certificate", "applicant_id"])
    )
    code = slip["dossier_code"]
    outcome.received.append(code)
    await vu_ninh["specialist"].act(
        code,
        "request_supplement",
        f"{code}-ask",
        reason="giấy chứng sinh không rõ",
        documents=["birth_certificate"],
    )
    await vu_ninh["counter"].act(code, "supplement", f"{code}-supplied", documents=["birth_certificate"])
    view = await vu_ninh["specialist"].act(code, "complete_step", f"{code}-review", step_id="review")
    say.line(
        f"{code} birth registration at {cast.COMMUNES[communes[1]]}: supplement asked and brought,"
        f" now {view['status']}, due {_when(view['due_at'])}"
    )

    # A certification taken in on a busy evening two working days ago and forgotten: overdue.
    calendar = WorkingCalendar.default()
    backlog_day = _working_days_before(calendar, now.date(), 2)
    received = datetime.combine(backlog_day, time(16, 0), VN_TZ)
    da_mai = desks[communes[2]]
    operator = Desk(
        http,
        cast.officer(
            f"tn-operator-{communes[2]}",
            cast.commune_counter(communes[2]),
            Role.COUNTER_OFFICER,
            Role.OPERATOR,
        ),
        key,
    )
    slip = await operator.receive(
        body(
            3,
            communes[2],
            "2.000815",
            ["original", "copy"],
            received_at=received.isoformat(),
            backfill_reason="nhập bù hồ sơ tiếp nhận buổi tối",
        )
    )
    code = slip["dossier_code"]
    outcome.received.append(code)
    view = await _until_overdue(da_mai["leader"], code)
    new_due = datetime.combine(calendar.next_working_day(now.date()), time(17, 0), VN_TZ)
    await da_mai["leader"].act(
        code,
        "issue_apology",
        f"{code}-apology",
        reason="chậm do thiếu cán bộ",
        new_due_at=new_due.isoformat(),
    )
    view = await da_mai["leader"].act(code, "complete_step", f"{code}-certify", step_id="certify")
    say.line(
        f"{code} certification at {cast.COMMUNES[communes[2]]}: overdue since {_when(_missed_deadline(view))},"
        f" apology with a new appointment {_when(new_due.isoformat())}, now {view['status']}"
    )

    # Submitted online, checked and received at the counter, returned and rated (demo/online.py).
    code, line = await online_scene(http, key, desks[communes[0]], communes[0], now)
    outcome.received.append(code)
    say.line(line)


# Helpers.


class _Narrator:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def scene(self, title: str) -> None:
        print(f"\n== {title}", file=self.out, flush=True)

    def line(self, text: str) -> None:
        print(f"   {text}", file=self.out, flush=True)


def _when(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(VN_TZ).strftime("%Y-%m-%d %H:%M")


def _missed_deadline(view: dict[str, Any]) -> str:
    """The appointment the dossier missed, from its timeline: on a second run the slip of the
    same request already carries the new appointment the apology gave."""
    [missed] = [entry["details"]["due_at"] for entry in view["timeline"] if entry["action"] == "overdue"]
    return missed


def _working_days_before(calendar: WorkingCalendar, day: date, count: int) -> date:
    while count:
        day -= timedelta(days=1)
        count -= calendar.is_working_day(day)
    return day


async def _wait_for_api(http: httpx.AsyncClient) -> None:
    for _ in range(300):
        try:
            if (await http.get("/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise DemoError("the API did not answer /health")


async def _until_overdue(desk: Desk, code: str) -> dict[str, Any]:
    for _ in range(200):
        view = await desk.view(code)
        if view["overdue"]:
            return view
        await asyncio.sleep(0.1)
    raise DemoError(f"{code} was not marked overdue")


async def _settled(client: Client, codes: list[str]) -> None:
    """Wait until every dossier the demo touched has its timeline in the records store."""
    for code in codes:
        handle = client.get_workflow_handle_for(DossierWorkflow.run, code)
        for _ in range(300):
            if (await handle.query(DossierWorkflow.view)).unrecorded_events == 0:
                break
            await asyncio.sleep(0.1)
        else:
            raise DemoError(f"{code}: its timeline did not reach the records store")


def print_report(outcome: DemoOutcome, out: TextIO) -> None:
    """The province's service report, one row per handling unit, and the command that prints it again."""
    assert outcome.report is not None
    query = outcome.report.query
    command = f".venv/bin/python starter.py report --from {query.start.date()} --to {query.end.date()} --by handling_unit"
    print(f"\n== Service report since {query.start.date()}, per handling unit (records store)", file=out)
    print_tables(out, report_table(outcome.report, title=f"again: {command}"))
