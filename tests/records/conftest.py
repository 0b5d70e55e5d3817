"""Fixtures of the records tests."""

from __future__ import annotations

import pytest

from tests.records.march import Dataset


@pytest.fixture
async def dataset(records) -> Dataset:
    data = Dataset()
    async with records.sessions() as session:
        session.add_all(data.rows())
        session.add_all(data.events())
        await session.commit()
    return data
