"""Fixtures of the auditors' reads tests: the hand-counted March dataset of tests/records."""

from tests.records.conftest import dataset  # noqa: F401 (the fixture)
