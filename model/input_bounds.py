"""Bounds on what comes in from outside: instants, identity fields, money, and text sizes.

One definition of each bound, as annotated types the input models share, so the HTTP API, the
command line and the workflow's own decoding refuse the same things with the same words.
Pure and deterministic: the workflow sandbox imports it through the input models.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, StrictInt

from procedures.instants import EARLIEST, LATEST, check_range

__all__ = [
    "EARLIEST",
    "DOSSIER_CODE_PATTERN",
    "ECHO_LIMIT",
    "Instant",
    "LATEST",
    "MAX_AMOUNT_VND",
    "MAX_LIST_ITEMS",
    "MoneyVnd",
    "PersonName",
    "PersonalId",
    "Phone",
    "ShortText",
    "amount_over",
    "short",
]

_ISO_INSTANT = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|z|[+-]\d{2}:\d{2})", re.ASCII
)
# A dossier code: agency code, date, number (000.00004.01.H01-261207-0001); room for other schemes.
DOSSIER_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
# A bad value is quoted in errors and logs by this many characters at most.
ECHO_LIMIT = 40
# Lists in a request (documents handed in or asked for): a counter's form, not a bulk load.
MAX_LIST_ITEMS = 50
# The hard ceiling of any amount: a fee or charge above a trillion đồng is a typing mistake.
# A deployment sets a lower one with MAX_AMOUNT_VND (`amount_over`, at the entry points).
MAX_AMOUNT_VND = 1_000_000_000_000


def amount_over(request: Any, maximum: int) -> str | None:
    """Why `request`'s `amount_vnd` is above the deployment's `maximum`, or None."""
    amount = getattr(request, "amount_vnd", None)
    if isinstance(amount, int) and amount > maximum:
        return f"at most {maximum} VND here (MAX_AMOUNT_VND)"
    return None


def short(value: Any, limit: int = ECHO_LIMIT) -> str:
    """`value` as text cut to `limit` characters, for quoting bad input back safely."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def _instant_in(value: Any) -> Any:
    # Numbers are unix times to pydantic: refused, an instant must say its offset.
    if isinstance(value, bool | int | float):
        raise ValueError(
            "give an ISO 8601 instant with its UTC offset, e.g. 2026-03-05T10:00:00+07:00, not a number"
        )
    if isinstance(value, str):
        if len(value) > 40 or not _ISO_INSTANT.fullmatch(value):
            raise ValueError(
                f"not an ISO 8601 instant with a UTC offset (e.g. 2026-03-05T10:00:00+07:00): {short(value)!r}"
            )
        try:
            value = datetime.fromisoformat(value)
        except ValueError as err:
            raise ValueError(f"not a valid date and time: {short(value)!r}") from err
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError("give the UTC offset, e.g. +07:00: a time without one is ambiguous")
    return value


Instant = Annotated[
    AwareDatetime,
    BeforeValidator(_instant_in),
    AfterValidator(check_range),
    Field(description="ISO 8601 with a UTC offset, from 1990 to 2099, e.g. 2026-03-05T10:00:00+07:00"),
]
"""An instant with an explicit, real UTC offset, within EARLIEST..LATEST."""


def ShortText(max_length: int, *, min_length: int = 0) -> Any:
    """A string of at most `max_length` characters."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length)]


# Money: a JSON integer, never `true` nor "100000".
MoneyVnd = Annotated[StrictInt, Field(gt=0, le=MAX_AMOUNT_VND, description=f"VND, 1..{MAX_AMOUNT_VND}")]

# Birth provinces in a personal ID number (Circular 07/2016/TT-BCA; Decree 137/2015): the
# 63 provinces before 1 July 2025, by their statistics codes with a leading 0.
_ID_PROVINCES = frozenset(
    "001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 034 035"
    " 036 037 038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 067 068 070 072"
    " 074 075 077 079 080 082 083 084 086 087 089 091 092 093 094 095 096".split()
)
# The fourth digit: sex and century of birth (0/1: 1900s, 2/3: 2000s; later ones not yet born).
_ID_CENTURY = {"0": 1900, "1": 1900, "2": 2000, "3": 2000}


def _personal_id_text(value: object) -> object:
    # A JSON number would be "Input should be a valid string", and would have lost its leading 0.
    if not isinstance(value, str):
        raise ValueError("must be 12 ASCII digits 0-9, as text in quotes (a number loses the leading 0)")
    return value


def _personal_id(value: str) -> str:
    if not re.fullmatch(r"[0-9]{12}", value, re.ASCII):
        raise ValueError("must be 12 ASCII digits 0-9")
    if value[:3] not in _ID_PROVINCES:
        raise ValueError(f"starts with {value[:3]}, which is no province of birth (001 to 096)")
    if value[3] not in _ID_CENTURY:
        raise ValueError(f"fourth digit {value[3]} (sex and century of birth) must be 0 to 3")
    return value


# The length is checked by `_personal_id`, not by Field(min_length=...): pydantic's own length
# check would run first and say "String should have at least 12 characters" instead of what an
# ID is. The schema still documents it (and the body cap bounds what reaches the validator).
PersonalId = Annotated[
    str,
    Field(
        description="12-digit personal ID number (căn cước), ASCII digits",
        json_schema_extra={"minLength": 12, "maxLength": 12},
    ),
    BeforeValidator(_personal_id_text),
    AfterValidator(_personal_id),
]


def _phone(value: str) -> str:
    if not re.fullmatch(r"\+?[0-9]{8,15}", value, re.ASCII):
        raise ValueError("must be 8 to 15 ASCII digits 0-9, optionally after a +")
    return value


Phone = Annotated[str, Field(max_length=16), AfterValidator(_phone)]

# Besides letters and combining marks, a name holds spaces, hyphens, apostrophes (H'Hen Niê)
# and dots; nothing else: no digits, controls, bidi overrides, zero-width joiners or markup.
_NAME_PUNCTUATION = frozenset(" -'’.")
_MAX_MARK_RUN = 3  # NFC Vietnamese has none left; a few for other scripts' stacked accents


def _person_name(value: str) -> str:
    name = unicodedata.normalize("NFC", value)
    if not name.strip(" "):
        raise ValueError("must not be blank")
    run = 0
    for char in name:
        category = unicodedata.category(char)
        if category.startswith("M"):
            run += 1
            if run > _MAX_MARK_RUN:
                raise ValueError(f"more than {_MAX_MARK_RUN} combining marks on one letter")
            continue
        run = 0
        if not category.startswith("L") and char not in _NAME_PUNCTUATION:
            raise ValueError(f"character U+{ord(char):04X} ({category}) is not allowed in a name")
    if not any(unicodedata.category(c).startswith("L") for c in name):
        raise ValueError("must contain a letter")
    return " ".join(part for part in name.split(" ") if part)


PersonName = Annotated[
    str,
    Field(min_length=1, max_length=200, description="letters, spaces, - ' . (normalised to NFC)"),
    AfterValidator(_person_name),
]
