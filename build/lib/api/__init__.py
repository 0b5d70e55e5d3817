"""The HTTP API: the same operations as the command line, for counters, officers and auditors.

`create_app(client, records, settings)` builds the FastAPI application; `worker.py` serves it.
"""

from api.app import create_app

__all__ = ["create_app"]
