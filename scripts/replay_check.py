"""Before deploying new worker code: replay histories against it, so a change that running
dossiers could not replay is caught before any worker runs it (docs/deployment.md).

    .venv/bin/python scripts/replay_check.py                      # the recorded histories only
    .venv/bin/python scripts/replay_check.py --live               # and every open workflow's
    .venv/bin/python scripts/replay_check.py --live --query "WorkflowType='DossierWorkflow'" --limit 5000

The recorded histories are tests/histories/*.json (plain payloads). `--live` reads the
histories of the workflows the visibility query finds (default: every running one) from the
Temporal server the environment names (TEMPORAL_ADDRESS, PAYLOAD_KEYS, as worker.py reads them;
payloads are decrypted with the deployment's keys) and replays them too, with no worker and
nothing written. Exit 0 when everything replays; 1 naming each workflow and run that does not;
5 when Temporal cannot be reached; 2 for a bad argument.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from temporalio.client import Client, WorkflowHistory  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.converter import DataConverter  # noqa: E402
from temporalio.worker import Replayer  # noqa: E402

from assembly.workers import WORKFLOWS  # noqa: E402
from runtime.settings import Settings  # noqa: E402

EXIT_OK, EXIT_FAILED, EXIT_BAD_ARGUMENT, EXIT_UNREACHABLE = 0, 1, 2, 5
RECORDED = ROOT / "tests" / "histories"
RUNNING = "ExecutionStatus='Running'"


@dataclass(frozen=True)
class ReplayFailure:
    workflow_id: str
    run_id: str
    error: str


@dataclass(frozen=True)
class ReplayOutcome:
    replayed: int
    failures: tuple[ReplayFailure, ...]


def recorded_histories(directory: Path) -> list[WorkflowHistory]:
    """Every `*.json` history in `directory`, under its workflow id (the dossier code in its input)."""
    histories = []
    for path in sorted(directory.glob("*.json")):
        events = WorkflowHistory.from_json("", path.read_text(encoding="utf-8")).events
        payload = events[0].workflow_execution_started_event_attributes.input.payloads[0]
        histories.append(WorkflowHistory(json.loads(payload.data).get("code", path.stem), events))
    return histories


async def live_histories(client: Client, query: str, limit: int) -> AsyncIterator[WorkflowHistory]:
    async for execution in client.list_workflows(query, limit=limit):
        yield await client.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()


async def replay(
    histories: Iterable[WorkflowHistory] | AsyncIterator[WorkflowHistory],
    data_converter: DataConverter,
    workflows: Sequence[type] = WORKFLOWS,
) -> ReplayOutcome:
    """Replay each history against `workflows` (this checkout's code), collecting every failure."""
    replayer = Replayer(workflows=list(workflows), data_converter=data_converter)
    if not hasattr(histories, "__aiter__"):
        histories = _each(list(histories))
    replayed, failures = 0, []
    async with replayer.workflow_replay_iterator(histories) as results:
        async for result in results:
            replayed += 1
            if result.replay_failure is not None:
                error = str(result.replay_failure).splitlines()[0] if str(result.replay_failure) else ""
                failures.append(
                    ReplayFailure(
                        workflow_id=result.history.workflow_id,
                        run_id=result.history.run_id,
                        error=f"{type(result.replay_failure).__name__}: {error}"[:500],
                    )
                )
    return ReplayOutcome(replayed=replayed, failures=tuple(failures))


async def _each(histories: list[WorkflowHistory]) -> AsyncIterator[WorkflowHistory]:
    for history in histories:
        yield history


async def check(
    *,
    recorded: Path | None = RECORDED,
    client: Client | None = None,
    query: str = RUNNING,
    limit: int = 10_000,
    workflows: Sequence[type] = WORKFLOWS,
) -> ReplayOutcome:
    """The recorded histories (if `recorded`), then the live ones (if `client`), replayed."""
    outcomes = []
    if recorded is not None:
        outcomes.append(await replay(recorded_histories(recorded), pydantic_data_converter, workflows))
    if client is not None:
        outcomes.append(await replay(live_histories(client, query, limit), client.data_converter, workflows))
    return ReplayOutcome(
        replayed=sum(o.replayed for o in outcomes), failures=tuple(f for o in outcomes for f in o.failures)
    )


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="replay_check.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--live", action="store_true", help="also replay the workflows Temporal finds")
    parser.add_argument("--query", default=RUNNING, help=f"visibility query for --live (default: {RUNNING})")
    parser.add_argument("--limit", type=int, default=10_000, help="at most this many live workflows")
    parser.add_argument("--recorded", type=Path, default=RECORDED, help="directory of recorded histories")
    parser.add_argument("--no-recorded", action="store_true", help="skip the recorded histories")
    return parser.parse_args(argv)


async def main(argv: list[str] | None = None, client: Client | None = None) -> int:
    try:
        args = _arguments(argv)
    except SystemExit as exit_:
        return EXIT_OK if exit_.code == 0 else EXIT_BAD_ARGUMENT
    if args.limit < 1:
        print("replay_check: --limit must be at least 1", file=sys.stderr)
        return EXIT_BAD_ARGUMENT
    recorded = None if args.no_recorded else args.recorded
    if recorded is not None and not recorded.is_dir():
        print(f"replay_check: --recorded {recorded} is not a directory", file=sys.stderr)
        return EXIT_BAD_ARGUMENT
    if args.live and client is None:
        from runtime.temporal import connect

        try:
            client = await connect(Settings.from_env())
        except RuntimeError as err:
            print(f"replay_check: cannot reach Temporal: {str(err).splitlines()[0]}", file=sys.stderr)
            return EXIT_UNREACHABLE
    outcome = await check(
        recorded=recorded, client=client if args.live else None, query=args.query, limit=args.limit
    )
    for failure in outcome.failures:
        print(f"does not replay: {failure.workflow_id} run {failure.run_id}: {failure.error}")
    print(f"{outcome.replayed} histories replayed, {len(outcome.failures)} failed")
    return EXIT_FAILED if outcome.failures else EXIT_OK


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
