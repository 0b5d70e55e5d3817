"""The deployment fixtures of test_faults.py (dev server, worker.py, records), for the other
fault-test modules of this directory too."""

from tests.faults.test_faults import database_url, default_pass_only, deployment  # noqa: F401
