"""Request bodies: the workflow's and the intake's own input models, minus the actor.

The actor always comes from the token, never from the body: a body naming one is refused
as an unknown field. Derived from the input models so the two can never drift apart.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from intake.forms import IntakeRequest
from model.dossier_inputs import ACTION_INPUTS

__all__ = ["ACTION_BODIES", "ReceiveBody", "body_of"]


def body_of(model: type[BaseModel], name: str, drop: frozenset[str], **replace: tuple) -> type[BaseModel]:
    """A model with `model`'s fields, less `drop`, with `replace`d ones."""
    fields: dict[str, Any] = {
        field: (info.annotation, info) for field, info in model.model_fields.items() if field not in drop
    }
    fields.update(replace)
    return create_model(
        name,
        __config__=ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True),
        __doc__=f"{model.__doc__ or model.__name__} The officer is the token's.",
        **fields,
    )


ReceiveBody = body_of(
    IntakeRequest,
    "ReceiveBody",
    frozenset({"received_by"}),
    receiving_unit=(
        str | None,
        Field(
            default=None, min_length=1, max_length=64, description="the counter; default: the token's unit"
        ),
    ),
)

_ACTION_ID = (
    str | None,
    Field(
        default=None,
        min_length=1,
        max_length=100,
        description="your idempotency key for this action (or the Idempotency-Key header; one of them is"
        " required): sent again, it has one effect",
    ),
)

ACTION_BODIES: dict[str, type[BaseModel]] = {
    action: body_of(
        model, model.__name__.removesuffix("Input") + "Body", frozenset({"actor"}), action_id=_ACTION_ID
    )
    for action, model in ACTION_INPUTS.items()
}
