"""Search over the dossiers projection, paginated, and its CSV export."""

from __future__ import annotations

import csv
import io

import pytest
from pydantic import ValidationError

from audit.search import CSV_COLUMNS, SearchFilter, export_csv, search
from tests.records.march import MARCH, vn


def names(page, dataset) -> list[str]:
    return [item.code.removesuffix(f"-{dataset.tag}") for item in page.items]


class TestSearch:
    async def test_by_handling_unit_newest_first(self, records, dataset):
        """All of unit B's dossiers, newest receipt first."""
        page = await search(records, SearchFilter(handling_unit=dataset.B))
        # D7 and D8 were received at the same moment: then by code.
        assert names(page, dataset) == ["D5", "D7", "D8", "D6", "D14", "D11"]
        assert page.total == 6

    async def test_filters_combine(self, records, dataset):
        """Procedure, status, ranges, overdue and carried over narrow the result together."""
        cases = [
            (SearchFilter(procedure_code=dataset.P2, status="processed"), {"D3", "D4", "D12", "D16"}),
            (
                SearchFilter(
                    handling_unit=dataset.A, received_from=vn("03-01", "00:00"), received_to=vn("03-05")
                ),
                {"D1", "D2", "D3"},
            ),
            (
                SearchFilter(procedure_code=dataset.P1, due_from=vn("03-25"), due_to=vn("04-05")),
                {"D6", "D11"},
            ),
            (SearchFilter(receiving_unit=f"counter-{dataset.tag}", overdue=True), {"D4", "D6"}),
            (SearchFilter(receiving_unit=f"counter-{dataset.tag}", carried_over=True), {"D11"}),
            (SearchFilter(carried_over_from=dataset.OLD), {"D11"}),
        ]
        for search_filter, expected in cases:
            page = await search(records, search_filter)
            assert set(names(page, dataset)) == expected, search_filter
            assert page.total == len(expected)

    async def test_pages(self, records, dataset):
        """Pages of 4 over 15 dossiers: 4, 4, 4, 3, then empty; together every dossier once."""
        f = SearchFilter(receiving_unit=f"counter-{dataset.tag}")
        seen = []
        for number, size in enumerate((4, 4, 4, 3, 0), start=1):
            page = await search(records, f, page=number, page_size=4)
            assert (page.total, len(page.items)) == (15, size)
            seen += names(page, dataset)
        assert len(set(seen)) == 15

    async def test_bad_requests_say_what_is_wrong(self, records):
        with pytest.raises(ValueError, match="page size must be between 1 and 500"):
            await search(records, SearchFilter(), page_size=0)
        with pytest.raises(ValueError, match="page must be 1 or more"):
            await search(records, SearchFilter(), page=0)
        with pytest.raises(ValidationError, match="received_from .* must be before received_to"):
            SearchFilter(received_from=MARCH[1], received_to=MARCH[0])
        with pytest.raises(ValidationError, match="extra"):
            SearchFilter(unit="x")


async def test_csv_export(records, dataset):
    """The export has a header, one line per matching dossier, instants in ISO 8601 with offset."""
    out = io.StringIO()
    count = await export_csv(records, SearchFilter(handling_unit=dataset.A, status="processed"), out)
    lines = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert count == len(lines) == 6
    assert tuple(lines[0]) == CSV_COLUMNS
    by_code = {line["code"].removesuffix(f"-{dataset.tag}"): line for line in lines}
    assert set(by_code) == {"D1", "D3", "D4", "D9", "D12", "D16"}
    assert by_code["D4"]["overdue"] == "True" and by_code["D1"]["channel"] == "online"
    assert by_code["D1"]["received_at"] == "2019-03-02T09:00:00+07:00"  # Vietnam time, as everywhere
    assert by_code["D1"]["closed_at"] == ""
