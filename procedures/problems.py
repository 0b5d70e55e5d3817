"""One way to say what is wrong with validated input: `field.path: message; …`."""

from __future__ import annotations

from pydantic import ValidationError

__all__ = ["describe_validation_error"]


def describe_validation_error(err: ValidationError, whole: str = "") -> str:
    """Each problem with its dotted field path; a problem of the whole input is labelled
    `whole` (or left unlabelled when `whole` is empty)."""
    problems = []
    for error in err.errors():
        where = ".".join(str(part) for part in error["loc"]) or whole
        problems.append(f"{where}: {error['msg']}" if where else error["msg"])
    return "; ".join(problems)
