"""One way to say what is wrong with validated input: `field.path: message; …`, in plain words.

pydantic's own messages name regular expressions ("String should match pattern '^\\d{5}$'") and
prefix validators' sentences with "Value error, "; people at a counter get what is expected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

__all__ = ["describe_validation_error", "plain_message"]

# Patterns of the input models that are a run of digits: "^\d{5}$" -> 5 digits.
_DIGITS = re.compile(r"^\^\\d\{(\d+)(?:,(\d+))?\}\$$")
# The other patterns, in words.
_PATTERNS = {
    r"^\+?\d{8,15}$": "8 to 15 digits, optionally after a +",
    r"^\d\.\d{6}(\.[A-Z0-9]+)?$": "a procedure code such as 1.004873 (`starter.py catalogue search WORDS` finds it)",
    r"^[A-Z]{2,10}$": "2 to 10 capital letters, such as STP",
    r"^[A-Za-z0-9._:-]+$": "letters, digits and . _ : - only",
}


def plain_message(error: Mapping[str, Any]) -> str:
    """pydantic's message for one error, said as what is expected."""
    kind, message = error.get("type", ""), error.get("msg", "")
    if kind == "string_pattern_mismatch":
        pattern = str(error.get("ctx", {}).get("pattern", ""))
        digits = _DIGITS.match(pattern)
        if digits:
            count = digits.group(1) if digits.group(2) is None else f"{digits.group(1)} to {digits.group(2)}"
            return f"must be {count} digits"
        return (
            f"must be {_PATTERNS[pattern]}" if pattern in _PATTERNS else "does not have the documented form"
        )
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a field of this request"
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def describe_validation_error(err: ValidationError, whole: str = "") -> str:
    """Each problem with its dotted field path; a problem of the whole input is labelled
    `whole` (or left unlabelled when `whole` is empty)."""
    problems = []
    for error in err.errors():
        where = ".".join(str(part) for part in error["loc"]) or whole
        message = plain_message(error)
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)
