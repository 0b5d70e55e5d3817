"""A worklist page's rows read from the records store alone: the inbox's candidates (the same
rule, `officers.inbox.waiting_rows`) without asking each workflow.

The inbox confirms every candidate with a `view` query (about 4.5 ms each, docs/benchmarks.md):
right for the API's `/inbox`, too slow for a page many officers reload all day on a unit of
thousands of open dossiers. Here the projection's status, step and due moment are shown as they
were last recorded (a fraction of a second behind, docs/records.md); the dossier's page, which
reads the workflow, offers only the actions the officer may take now.
"""

from __future__ import annotations

from contextlib import nullcontext

from pydantic import AwareDatetime, BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from model.dossier_inputs import Actor
from officers.inbox import waiting_count, waiting_rows
from records.database import RecordsStore

__all__ = ["COUNT_STEP", "PAGE_SIZE", "WorklistPage", "WorklistRow", "worklist"]

PAGE_SIZE = 50
# A page counts the rows waiting up to the next multiple of this past its own last row, not
# all of them: counting a unit's 10,000 open dossiers at every load cost PostgreSQL about
# 7 ms a page, more than everything else the page does (docs/benchmarks.md).
COUNT_STEP = 1000
_COLUMNS = ("code", "procedure_code", "status", "current_step", "received_at", "due_at", "overdue")


class WorklistRow(BaseModel):
    code: str
    procedure_code: str
    status: str
    current_step: str | None
    received_at: AwareDatetime
    due_at: AwareDatetime
    overdue: bool


class WorklistPage(BaseModel):
    rows: list[WorklistRow]
    page: int  # from 1
    page_size: int
    total: int  # every row waiting for the officer, on all pages; a lower bound when `more`
    more: bool = False  # more than `total` rows wait: the count stopped there

    @property
    def pages(self) -> int:
        """How many pages there are (when not `more`), or at least (when `more`)."""
        return max(1, -(-self.total // self.page_size))


async def worklist(
    records: RecordsStore,
    officer: Actor,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    reads: AsyncSession | None = None,
    count_step: int | None = None,
) -> WorklistPage:
    """Page `page` of the dossiers waiting for `officer`, overdue first, then by due moment,
    and how many there are, counted up to the first multiple of `count_step` past the page's
    last row (beyond it, `more`): queries on the worklist's indexes that read a bounded number
    of rows, whatever the unit's size (`count_step` defaults to COUNT_STEP). Read through
    `reads` if given (the page's read session), else a read session of its own."""
    count_step = COUNT_STEP if count_step is None else count_step
    if page < 1 or page_size < 1 or count_step < 1:
        raise ValueError(f"page {page} of size {page_size}, count step {count_step}: all start at 1")
    offset = (page - 1) * page_size
    # Past the page's last row, so whether a next page exists is always known exactly.
    counted_to = -(-(offset + page_size + 1) // count_step) * count_step
    count = waiting_count(officer, at_most=counted_to + 1)
    # The count rides along with the rows (evaluated once): one round trip for the page.
    query = waiting_rows(officer, *_COLUMNS, offset=offset, limit=page_size)
    query = query.add_columns(count.scalar_subquery().label("total"))
    async with nullcontext(reads) if reads is not None else records.reads() as session:
        rows = (await session.execute(query)).all()
        # A page past the end has no row to carry the count.
        total = rows[0].total if rows else (await session.execute(count)).scalar_one()
    return WorklistPage(
        rows=[WorklistRow(**dict(zip(_COLUMNS, r[: len(_COLUMNS)], strict=True))) for r in rows],
        page=page,
        page_size=page_size,
        total=min(total, counted_to),
        more=total > counted_to,
    )
