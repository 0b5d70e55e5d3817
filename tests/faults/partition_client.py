"""A counter's intake client for the partition test, run on the host or inside a worker host's
network namespace (`ip netns exec`): each request id is POSTed to /dossiers until the API
answers a slip (201, or 200 for a resend), resending the same request after a 5xx, a timeout or
a broken connection, as a counter does after `StartOutcomeUnknown`.

    python tests/faults/partition_client.py < spec.json > outcomes.json

spec: {"url", "token", "body", "request_ids", "deadline", "concurrency", "spacing"}; outcomes: per
request id, the final status, dossier code, `resubmitted`, and every answer on the way.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import httpx


async def send(http: httpx.AsyncClient, spec: dict, request_id: str, deadline: float) -> dict:
    body = {**spec["body"], "request_id": request_id}
    answers: list[str] = []
    while time.monotonic() < deadline:
        try:
            response = await http.post("/dossiers", json=body)
        except httpx.HTTPError as err:
            answers.append(type(err).__name__)
        else:
            answers.append(str(response.status_code))
            if response.status_code in (200, 201):
                slip = response.json()
                return {
                    "status": response.status_code,
                    "code": slip["dossier_code"],
                    "resubmitted": slip.get("resubmitted", False),
                    "answers": answers,
                }
            if response.status_code < 500:
                return {
                    "status": response.status_code,
                    "code": None,
                    "answers": answers,
                    "body": response.text,
                }
        await asyncio.sleep(0.5)
    return {"status": None, "code": None, "answers": answers}


async def main() -> None:
    spec = json.load(sys.stdin)
    deadline = time.monotonic() + spec["deadline"]
    limit = asyncio.Semaphore(spec["concurrency"])
    headers = {"Authorization": f"Bearer {spec['token']}"}
    async with httpx.AsyncClient(base_url=spec["url"], headers=headers, timeout=20) as http:

        async def one(index: int, request_id: str) -> tuple[str, dict]:
            # Spaced out, so that the requests span the test's faults.
            await asyncio.sleep(index * spec.get("spacing", 0))
            async with limit:
                return request_id, await send(http, spec, request_id, deadline)

        outcomes = dict(await asyncio.gather(*(one(i, r) for i, r in enumerate(spec["request_ids"]))))
    json.dump(outcomes, sys.stdout)


if __name__ == "__main__":
    asyncio.run(main())
