"""Interlinked groups (liên thông): several procedures at several agencies, one application.

A group is declared in `procedures/groups/*.json`: its members by procedure code, which agency
does each, which members need the result of which others, and the group's own time limit.
Groups are versioned with effective dates like procedures, and loading validates every file
against the catalogue or loads nothing, naming the file, the group and the field: unique group
codes and member keys, dependencies that name members and form no cycle, members whose
procedures have a version in force when the group version starts, and channels the members
offer. A received group pins its version whole, as a dossier pins its procedure version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from procedures.catalogue import Catalogue, CatalogueError, NotReceivable, NoVersionInForce, UnknownProcedure
from procedures.models import Channel, Provenance, TimeLimit
from procedures.problems import describe_validation_error

__all__ = [
    "GROUPS_DIR",
    "GroupCatalogue",
    "GroupMember",
    "GroupVersion",
    "HANDOVER_CHANNEL",
    "default_groups",
    "MemberAgency",
    "NoGroupVersionInForce",
    "UnknownGroup",
]

GROUPS_DIR = Path(__file__).with_name("groups")
# Members after the first are handed over between agencies electronically, not at a counter.
HANDOVER_CHANNEL = Channel.ONLINE


class MemberAgency(StrEnum):
    """Which agency does a member, resolved from the applicant's commune and province."""

    COMMUNE_PEOPLES_COMMITTEE = "commune_peoples_committee"
    COMMUNE_POLICE = "commune_police"
    SOCIAL_INSURANCE = "social_insurance"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GroupMember(_Model):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    procedure_code: str = Field(pattern=r"^\d\.\d{6}(\.[A-Z0-9]+)?$")
    agency: MemberAgency
    # Members whose result this one needs; it starts only once they are processed.
    depends_on: tuple[str, ...] = ()


class GroupVersion(_Model):
    group_code: str = Field(pattern=r"^[A-Z]{2}\d{3}\.\d{2}$")
    group_name: str = Field(min_length=1)
    decision: str = ""
    version_id: str = Field(min_length=1, max_length=100)
    effective_from: datetime
    effective_to: datetime | None = None  # exclusive
    channels: tuple[Channel, ...] = (Channel.COUNTER,)
    # The whole group's limit, counted from the group's receipt; every member is due by it.
    time_limit: TimeLimit
    members: tuple[GroupMember, ...] = Field(min_length=2, max_length=10)
    provenance: Provenance

    @model_validator(mode="after")
    def _check(self) -> GroupVersion:
        for name in ("effective_from", "effective_to"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} must carry a timezone (Asia/Ho_Chi_Minh)")
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError("effective_to must be after effective_from")
        keys = [m.key for m in self.members]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"members: duplicate keys: {', '.join(duplicates)}")
        for member in self.members:
            unknown = [d for d in member.depends_on if d not in keys]
            if unknown:
                raise ValueError(f"members.{member.key}.depends_on: unknown members: {', '.join(unknown)}")
            if member.key in member.depends_on:
                raise ValueError(f"members.{member.key}.depends_on: a member cannot depend on itself")
        _topological_order(self.members)  # raises on a cycle
        if not any(not m.depends_on for m in self.members):
            raise ValueError("members: at least one member must depend on no other")
        return self

    def member(self, key: str) -> GroupMember:
        return next(m for m in self.members if m.key == key)

    def in_force_at(self, instant: datetime) -> bool:
        return self.effective_from <= instant and (self.effective_to is None or instant < self.effective_to)


def _topological_order(members: tuple[GroupMember, ...]) -> list[str]:
    done: list[str] = []
    pending = {m.key: set(m.depends_on) for m in members}
    while pending:
        ready = sorted(k for k, deps in pending.items() if deps <= set(done))
        if not ready:
            raise ValueError(f"members: dependencies form a cycle among {', '.join(sorted(pending))}")
        done.extend(ready)
        for key in ready:
            del pending[key]
    return done


class UnknownGroup(LookupError):
    """No interlinked group with this code exists."""

    def __init__(self, code: str) -> None:
        super().__init__(f"unknown interlinked group {code!r}: `starter.py group list` shows them")
        self.code = code


class NoGroupVersionInForce(LookupError):
    """The group exists but no version of it is in force at the instant asked for."""

    def __init__(self, code: str, at: datetime) -> None:
        super().__init__(f"interlinked group {code!r} has no version in force at {at.isoformat()}")
        self.code = code


@dataclass(frozen=True)
class GroupCatalogue:
    versions_by_code: dict[str, tuple[GroupVersion, ...]]

    @classmethod
    def load(cls, catalogue: Catalogue, directory: Path = GROUPS_DIR) -> GroupCatalogue:
        """Every `*.json` file of `directory`, checked against `catalogue`, or CatalogueError."""
        by_code: dict[str, list[GroupVersion]] = {}
        for path in sorted(directory.glob("*.json")):
            for version in _read_group_file(path):
                where = f"{path.name}: {version.group_code}: version {version.version_id}"
                _check_members(version, catalogue, where)
                by_code.setdefault(version.group_code, []).append(version)
        result: dict[str, tuple[GroupVersion, ...]] = {}
        for code, versions in by_code.items():
            ordered = sorted(versions, key=lambda v: v.effective_from)
            for earlier, later in zip(ordered, ordered[1:]):
                if earlier.effective_to is None or earlier.effective_to > later.effective_from:
                    raise CatalogueError(
                        f"{code}: versions {earlier.version_id!r} and {later.version_id!r} overlap"
                    )
            result[code] = tuple(ordered)
        return cls(result)

    def resolve(self, code: str, at: datetime) -> GroupVersion:
        versions = self.versions_by_code.get(code)
        if versions is None:
            raise UnknownGroup(code)
        for version in versions:
            if version.in_force_at(at):
                return version
        raise NoGroupVersionInForce(code, at)

    def latest(self) -> list[GroupVersion]:
        return [versions[-1] for _, versions in sorted(self.versions_by_code.items())]


def _read_group_file(path: Path) -> list[GroupVersion]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CatalogueError(f"{path.name}: cannot read: {err}") from err
    if not isinstance(document, dict) or not isinstance(document.get("groups"), list):
        raise CatalogueError(f"{path.name}: expected an object with a 'groups' list")
    unknown = set(document) - {"groups", "note"}
    if unknown:
        raise CatalogueError(f"{path.name}: unknown keys {sorted(unknown)}")
    versions: list[GroupVersion] = []
    seen: set[str] = set()
    for index, group in enumerate(document["groups"]):
        code = group.get("code") if isinstance(group, dict) else None
        where = f"{path.name}: {code or f'group #{index + 1}'}"
        if (
            not isinstance(group, dict)
            or not isinstance(code, str)
            or not isinstance(group.get("versions"), list)
            or not group["versions"]
        ):
            raise CatalogueError(f"{where}: expected an object with at least one version")
        if code in seen:
            raise CatalogueError(f"{where}: group code appears twice in the file")
        seen.add(code)
        extra = set(group) - {"code", "name", "decision", "provenance", "versions"}
        if extra:
            raise CatalogueError(f"{where}: unknown keys {sorted(extra)}")
        facts = {
            "group_code": code,
            "group_name": group.get("name", ""),
            "decision": group.get("decision", ""),
            "provenance": group.get("provenance"),
        }
        for entry in group["versions"]:
            if not isinstance(entry, dict):
                raise CatalogueError(f"{where}: each version is an object")
            try:
                versions.append(GroupVersion.model_validate({**facts, **entry}))
            except ValidationError as err:
                problems = describe_validation_error(err, whole="version")
                raise CatalogueError(f"{where}: version {entry.get('version_id', '?')}: {problems}") from err
    return versions


def _check_members(version: GroupVersion, catalogue: Catalogue, where: str) -> None:
    """Each member's procedure is in force when the group version starts and offers the channel
    it is received on: the group's channels for the first members, the hand-over for the rest."""
    for member in version.members:
        try:
            procedure = catalogue.resolve(member.procedure_code, version.effective_from)
        except (UnknownProcedure, NotReceivable, NoVersionInForce) as err:
            raise CatalogueError(f"{where}: members.{member.key}.procedure_code: {err}") from err
        needed = version.channels if not member.depends_on else (HANDOVER_CHANNEL,)
        missing = [c.value for c in needed if c not in procedure.channels]
        if missing:
            raise CatalogueError(
                f"{where}: members.{member.key}: procedure {member.procedure_code} is not offered"
                f" on {', '.join(missing)}"
            )


@cache
def default_groups() -> GroupCatalogue:
    from procedures.catalogue import default_catalogue

    return GroupCatalogue.load(default_catalogue())
