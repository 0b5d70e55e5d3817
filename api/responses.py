"""The API's JSON answers, with every instant in Vietnam time (the rule of procedures.instants).

The workflow's clock and the records store keep UTC; people and partner systems here read
+07:00, so the entry points present instants that way, the CLI and the API alike.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from procedures.instants import in_vietnam_time

__all__ = ["VietnamTimeJSONResponse"]


class VietnamTimeJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return super().render(in_vietnam_time(content))
