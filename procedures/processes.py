"""Internal processes: the steps, roles and shares of the time limit a province approves.

The national facts say what a procedure promises (limits, fees, documents); how an office gets
there is each province's own decision. The project ships a default process per authority level
(`processes/default.json`); a province overrides it with its own file
(`processes/province-<code>.json`), for a whole level or for one procedure. A share is a
fraction of the time limit; it becomes working hours only for limits counted in working time,
since a calendar-day or month limit has no fixed number of office hours to share.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from procedures.catalogue_files import CatalogueError, read_json_list
from procedures.models import AuthorityLevel, ProcedureVersion, Role, Step, StepPlace, TimeLimit, TimeUnit
from procedures.problems import describe_validation_error

__all__ = ["PROCESSES_DIR", "InternalProcess", "InternalProcesses"]

PROCESSES_DIR = Path(__file__).with_name("processes")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProcessStep(_Model):
    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    role: Role
    share: float = Field(default=0, ge=0, le=1)  # of the time limit
    place: StepPlace = StepPlace.HANDLING


class InternalProcess(_Model):
    id: str = Field(min_length=1, max_length=100)
    level: AuthorityLevel | None = None  # a level's process...
    procedure_code: str | None = Field(default=None, max_length=32)  # ...or one procedure's
    steps: tuple[ProcessStep, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> InternalProcess:
        if (self.level is None) == (self.procedure_code is None):
            raise ValueError("a process names either a level or a procedure_code")
        if sum(s.share for s in self.steps) > 1 + 1e-9:
            raise ValueError("step shares add up to more than the whole time limit")
        ids = [s.id for s in self.steps]
        if len(set(ids)) != len(ids):
            raise ValueError("step ids repeat")
        return self

    def steps_for(self, limit: TimeLimit) -> tuple[Step, ...]:
        counted = limit.unit in (TimeUnit.WORKING_DAYS, TimeUnit.WORKING_HOURS)
        # The steps were validated as this process's; only the shares are computed here.
        return tuple(
            Step.model_construct(
                id=s.id,
                name=s.name,
                role=s.role,
                place=s.place,
                share_hours=round(s.share * limit.working_hours, 2) if counted else 0,
                inter_agency=False,
            )
            for s in self.steps
        )


@dataclass(frozen=True)
class InternalProcesses:
    defaults: dict[AuthorityLevel, InternalProcess]
    # province code -> (procedure code or level value) -> process
    provinces: dict[str, dict[str, InternalProcess]]

    @classmethod
    def load(cls, directory: Path = PROCESSES_DIR) -> InternalProcesses:
        defaults = {p.level: p for p in _read(directory / "default.json", None) if p.level is not None}
        missing = [lv.value for lv in AuthorityLevel if lv not in defaults]
        if missing:
            raise CatalogueError(f"{directory / 'default.json'}: no default process for {', '.join(missing)}")
        provinces: dict[str, dict[str, InternalProcess]] = {}
        for path in sorted(directory.glob("province-*.json")):
            province = path.stem.removeprefix("province-")
            provinces[province] = {
                p.procedure_code or (p.level.value if p.level else ""): p for p in _read(path, province)
            }
        return cls(defaults, provinces)

    def default_for(self, version_level: AuthorityLevel) -> InternalProcess:
        return self.defaults[version_level]

    def override(self, province: str, version: ProcedureVersion) -> InternalProcess | None:
        own = self.provinces.get(province)
        if not own:
            return None
        return own.get(version.procedure_code) or own.get(version.authority_level.value)

    @staticmethod
    def apply(version: ProcedureVersion, process: InternalProcess) -> ProcedureVersion:
        return version.model_copy(
            update={"steps": process.steps_for(version.time_limit), "internal_process": process.id}
        )


def _read(path: Path, province: str | None) -> list[InternalProcess]:
    document = read_json_list(path, "processes")
    processes = []
    for index, entry in enumerate(document["processes"]):
        try:
            process = InternalProcess.model_validate(entry)
        except ValidationError as err:
            where = entry.get("id") if isinstance(entry, dict) else None
            raise CatalogueError(
                f"{path.name}: process {where or index + 1}: {describe_validation_error(err, whole='process')}"
            ) from err
        if province is not None and not process.id.startswith(f"{province}/"):
            raise CatalogueError(
                f"{path.name}: process {process.id}: a province's process ids start with '{province}/'"
            )
        processes.append(process)
    return processes
