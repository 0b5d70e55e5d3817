"""The OpenAPI document tells the truth about errors: every status a route answers, one shape.

Routes declare the refusals that are theirs (404 on a dossier, 409 on an action); what every
route of a kind can answer is added here once: 401 behind a token, 400 and 413 for a body,
422 for any parameter, each with the `{"type", "message"}` body of `api.errors`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.errors import ErrorBody

__all__ = ["document_errors"]

_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
_FASTAPI_422 = {"$ref": "#/components/schemas/HTTPValidationError"}
_COMMON = {
    "400": "BadRequest: the body is not JSON (invalid UTF-8, numbers too long, nesting too deep)",
    "401": "Unauthenticated: no valid bearer token",
    "413": "BodyTooLarge: the request body is over the limit",
    "422": "ValidationError (with `problems`, each naming its field), UnknownStep or InvalidRequest",
}


def _error_responses(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    wanted = []
    if operation.get("security"):
        wanted.append("401")
    if "requestBody" in operation:
        wanted += ["400", "413", "422"]
    if operation.get("parameters"):
        wanted.append("422")
    for status in wanted:
        responses.setdefault(status, {"description": _COMMON[status]})
    for status, response in responses.items():
        if not (status.isdigit() and int(status) >= 400):
            continue
        declared = response.get("content", {}).get("application/json", {}).get("schema")
        if declared is None or declared == _FASTAPI_422:
            schema: dict[str, Any] = dict(_ERROR_REF)
        else:  # a route's own answer with this status (form 02 or 03), or else an error
            schema = {"anyOf": [declared, dict(_ERROR_REF)]}
        response["content"] = {"application/json": {"schema": schema}}


def document_errors(app: FastAPI) -> None:
    """Make `app.openapi()` list every error status with the API's one error shape."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas["ErrorBody"] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
            for defn in schemas["ErrorBody"].pop("$defs", {}).items():
                schemas.setdefault(*defn)
            # FastAPI's own 422 shape is never answered: the handlers answer ErrorBody.
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
            for path in document.get("paths", {}).values():
                for operation in path.values():
                    _error_responses(operation)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
