"""The README's main job with its demonstration: `worker.py --demo`, twice on the same state."""

from __future__ import annotations

import asyncio
import re

import pytest

import worker
from demo.staff import DEMO_ACCOUNTS, DEMO_PASSWORD
from records.database import open_records
from records.lookup_secrets import LookupSecrets
from tests.test_entrypoints import settings, wait_for_server  # noqa: F401 (fixture)

DOSSIER = re.compile(r"\b[0-9A-Z]{3}\.[0-9A-Z]{2,5}\.[0-9]{2}\.H[0-9]{2}-[0-9]{6}-[0-9]{4}\b")


async def play_once(settings, capsys) -> str:  # noqa: F811
    stop = asyncio.Event()
    task = asyncio.create_task(worker.main(settings, stop, demo=True))
    try:
        await wait_for_server(settings, task)
        for _ in range(1200):
            if "== Where to look" in (printed := capsys.readouterr().out + getattr(play_once, "seen", "")):
                return printed
            play_once.seen = printed
            assert not task.done(), "worker.main ended during the demonstration"
            await asyncio.sleep(0.1)
        raise AssertionError("the demonstration did not finish in 120 s")
    finally:
        play_once.seen = ""
        stop.set()
        await asyncio.wait_for(task, 60)


@pytest.mark.timeout(300)
async def test_the_demonstration_plays_a_day_and_a_second_run_reuses_the_state(settings, capsys):  # noqa: F811
    """Carryover, steps, supplement, apology and the report; run again, the same dossiers, no new ones."""
    first = await play_once(settings, capsys)
    assert "256.00.00.H27: 3 open, 3 transferred" in first
    assert "is refused (WrongUnit)" in first
    assert "overdue since" in first and "apology with a new appointment" in first
    assert re.search(r"│ all +│ +8 │", first), first
    assert "demonstration failed" not in first
    assert re.search(r"submitted online \(status 1, .*\), received at .*, returned, rated 5/5", first), first
    # Every dossier's changes reached the stand-in portal, starting with its receipt (2); the
    # applicants' notices reached the SMTP server and the SMS gateway.
    synced = re.findall(rf"^   ({DOSSIER.pattern}) +(\d+(?: > \d+)*)$", first, re.MULTILINE)
    # Seven received at a counter (2 first); the one submitted online was registered first (1).
    starts = sorted(codes[:5] for _, codes in synced)
    assert starts == ["1 > 2"] + ["2 > 4"] * 7, first
    emails, sms = map(int, re.search(r"Notices to the applicants: (\d+) e-mails, (\d+) SMS", first).groups())
    assert emails >= 7 and sms >= 7
    # The web application's address and the demo's accounts, one per role.
    assert f"web application    http://127.0.0.1:{settings.api_port}/web/" in first
    assert f"submit online: http://127.0.0.1:{settings.api_port}/apply" in first
    assert all(f"{username:<11} {DEMO_PASSWORD}" in first for username, *_ in DEMO_ACCOUNTS)

    # The slip's lookup secret, printed for trying the citizens' page, looks that dossier up.
    code, secret = re.search(
        rf"citizens' lookup of ({DOSSIER.pattern}): secret ([A-Z0-9]{{10}})$", first, re.M
    ).groups()
    async with open_records(settings.database_url) as records:
        assert await LookupSecrets(records.engine, records.sessions).matches(code, secret)

    second = await play_once(settings, capsys)
    # The second run's receipt finds the dossier again; minutes after the first, its slip carries
    # a secret that replaces the first (later, none: tests/api/test_lookup_secret.py).
    again = re.search(rf"citizens' lookup of {code}: secret ([A-Z0-9]{{10}})$", second, re.M).group(1)
    async with open_records(settings.database_url) as records:
        secrets = LookupSecrets(records.engine, records.sessions)
        assert await secrets.matches(code, again) and not await secrets.matches(code, secret)
    assert set(DOSSIER.findall(second)) == set(DOSSIER.findall(first))
    # The missed appointment, not the apology's new one that the second run's slip carries.
    missed, new = re.search(
        r"overdue since (\S+ \S+), apology with a new appointment (\S+ \S+)", first
    ).groups()
    assert missed < new
    assert f"overdue since {missed}, apology with a new appointment {new}" in second
    assert re.search(r"│ all +│ +8 │", second), second
    assert "returned, rated 5/5" in second  # the same rating again: recorded once
