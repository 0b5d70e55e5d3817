"""A deterministic generator of a full 976-procedure catalogue, for scale tests and benchmarks.

Every entry is marked `synthetic`: the names, limits, fees and documents are invented, only the
shapes follow what the July 2025 reform produced. Codes are `9.{n:06d}` (9.000001 ... 9.000976),
a range no real national code uses (those start 1. / 2. / 3.), so a generated directory can sit
beside the real definitions without a collision. Shares of the catalogue, by shape:

- ~55% reform: a district_peoples_committee version 2021-01-01 .. 2025-07-01T00:00+07:00, then a
  commune_peoples_committee version from that instant (a quarter of them with a 2023 amendment of
  the district version, so three versions); 1% of the catalogue is district-only, abolished
  with the district level (no version in force after 2025-07-01);
- ~20% province level (People's Committee, or a named department such as STP / SXD / SNNMT);
- ~15% same-day commune procedures (0 working days, afternoon cut-off 15:00);
- ~10% limited in working hours (2, 4 or 8).

The output depends only on `total` and `seed` (`random.Random(seed)`; no clock, no global RNG).
"""

from __future__ import annotations

import math
import random
from datetime import datetime, time
from pathlib import Path
from typing import Any

from procedures.catalogue_files import write_catalogue_file
from procedures.models import (
    DISTRICT_LEVEL_ENDS,
    AuthorityLevel,
    Channel,
    Department,
    Fee,
    ProcedureVersion,
    Provenance,
    RequiredDocument,
    Role,
    Step,
    TimeLimit,
    TimeUnit,
)

__all__ = ["SECTORS", "TOTAL_PROCEDURES", "generate_versions", "write_generated_catalogue"]

TOTAL_PROCEDURES = 976
REFORM_STARTS = datetime.fromisoformat("2021-01-01T00:00:00+07:00")

# name, file slug, ministry, department code, department name, subject of the procedure names
SECTORS = (
    ("Hộ tịch", "ho_tich", "Bộ Tư pháp", "STP", "Sở Tư pháp", "giấy tờ hộ tịch"),
    ("Chứng thực", "chung_thuc", "Bộ Tư pháp", "STP", "Sở Tư pháp", "bản sao chứng thực"),
    ("Tư pháp", "tu_phap", "Bộ Tư pháp", "STP", "Sở Tư pháp", "xác nhận tư pháp"),
    (
        "Đất đai",
        "dat_dai",
        "Bộ Nông nghiệp và Môi trường",
        "SNNMT",
        "Sở Nông nghiệp và Môi trường",
        "giấy chứng nhận quyền sử dụng đất",
    ),
    ("Xây dựng", "xay_dung", "Bộ Xây dựng", "SXD", "Sở Xây dựng", "giấy phép xây dựng"),
    (
        "Đăng ký kinh doanh",
        "dang_ky_kinh_doanh",
        "Bộ Tài chính",
        "STC",
        "Sở Tài chính",
        "giấy chứng nhận đăng ký kinh doanh",
    ),
    ("Bảo trợ xã hội", "bao_tro_xa_hoi", "Bộ Y tế", "SYT", "Sở Y tế", "trợ cấp xã hội"),
    (
        "Giáo dục",
        "giao_duc",
        "Bộ Giáo dục và Đào tạo",
        "SGDDT",
        "Sở Giáo dục và Đào tạo",
        "giấy phép hoạt động giáo dục",
    ),
    ("Y tế", "y_te", "Bộ Y tế", "SYT", "Sở Y tế", "chứng chỉ hành nghề"),
    (
        "Nông nghiệp",
        "nong_nghiep",
        "Bộ Nông nghiệp và Môi trường",
        "SNNMT",
        "Sở Nông nghiệp và Môi trường",
        "giấy chứng nhận cơ sở sản xuất",
    ),
    ("Lao động", "lao_dong", "Bộ Nội vụ", "SNV", "Sở Nội vụ", "giấy phép lao động"),
    (
        "Văn hóa",
        "van_hoa",
        "Bộ Văn hóa, Thể thao và Du lịch",
        "SVHTTDL",
        "Sở Văn hóa, Thể thao và Du lịch",
        "giấy phép tổ chức lễ hội",
    ),
    ("Giao thông", "giao_thong", "Bộ Xây dựng", "SXD", "Sở Xây dựng", "giấy phép lưu hành xe"),
)
_ACTIONS = ("Cấp", "Cấp lại", "Cấp đổi", "Điều chỉnh", "Gia hạn", "Đăng ký", "Xác nhận", "Thu hồi")
# id, name, replaceable_by_national_db; the application always comes first
_DOCUMENTS = (
    ("application", "Đơn đề nghị (theo mẫu)", False),
    ("identity", "Giấy tờ tùy thân của người đề nghị", True),
    ("residence", "Giấy tờ chứng minh nơi cư trú", True),
    ("authorisation", "Văn bản ủy quyền (nếu nộp thay)", False),
    ("photo", "Ảnh 4x6", False),
    ("prior_result", "Bản sao kết quả đã cấp trước đây", False),
    ("land_record", "Giấy tờ về quyền sử dụng đất", True),
    ("drawings", "Bản vẽ, hồ sơ kỹ thuật", False),
)
_STEP_PLANS = (
    (("review", "Thẩm định hồ sơ", Role.SPECIALIST), ("approve", "Lãnh đạo ký kết quả", Role.LEADER)),
    (
        ("assign", "Lãnh đạo phân công", Role.LEADER),
        ("review", "Thẩm định hồ sơ", Role.SPECIALIST),
        ("approve", "Lãnh đạo ký kết quả", Role.LEADER),
    ),
    (
        ("assign", "Lãnh đạo phân công", Role.LEADER),
        ("review", "Thẩm định hồ sơ", Role.SPECIALIST),
        ("verify", "Xác minh, lấy ý kiến cơ quan liên quan", Role.SPECIALIST),
        ("approve", "Lãnh đạo ký kết quả", Role.LEADER),
    ),
)
_CHANNELS = (
    (Channel.COUNTER,),
    (Channel.COUNTER, Channel.ONLINE),
    (Channel.COUNTER, Channel.ONLINE, Channel.POST),
    (Channel.COUNTER, Channel.POST),
)
_AMENDMENTS = ("2023-03-01", "2023-07-01", "2023-10-15")


def _at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T00:00:00+07:00")


def generate_versions(total: int = TOTAL_PROCEDURES, seed: int = 2025) -> list[ProcedureVersion]:
    """All versions of `total` synthetic procedures, in code order; the same for the same seed."""
    if not 1 <= total <= 999_999:
        raise ValueError("total must be between 1 and 999999 (codes are 9.000001 .. 9.999999)")
    rng = random.Random(seed)
    quotas = {
        "abolished": total // 100,
        "province": round(total * 0.20),
        "same_day": round(total * 0.15),
        "hours": round(total * 0.10),
    }
    quotas["reform"] = max(0, total - sum(quotas.values()))
    shapes = [shape for shape, count in quotas.items() for _ in range(count)][:total]
    rng.shuffle(shapes)
    provenance = Provenance(status="synthetic", notes=f"generated by procedures/generator.py seed {seed}")
    versions: list[ProcedureVersion] = []
    for n, shape in enumerate(shapes, start=1):
        sector = rng.choice(SECTORS)
        name, _, ministry, dept_code, dept_name, subject = sector
        code = f"9.{n:06d}"
        facts = {
            "procedure_code": code,
            "procedure_name": f"{rng.choice(_ACTIONS)} {subject} (tổng hợp {n})",
            "sector": name,
            "ministry": ministry,
            "provenance": provenance,
        }

        def version(
            level: AuthorityLevel, start: datetime, end: datetime | None, limit: TimeLimit, **extra: Any
        ) -> ProcedureVersion:
            return _version(
                rng,
                facts,
                f"{code}@{start.date()}-{level.value.split('_')[0]}",
                level,
                start,
                end,
                limit,
                **extra,
            )

        days = TimeLimit(amount=rng.choice((1, 2, 3, 5, 7, 10, 15, 20, 30)))
        if shape in ("reform", "abolished"):
            district = AuthorityLevel.DISTRICT_PEOPLES_COMMITTEE
            if shape == "reform" and rng.random() < 0.25:  # a 2023 amendment of the district version
                amended = _at(rng.choice(_AMENDMENTS))
                versions.append(version(district, REFORM_STARTS, amended, days))
                versions.append(version(district, amended, DISTRICT_LEVEL_ENDS, days))
            else:
                versions.append(version(district, REFORM_STARTS, DISTRICT_LEVEL_ENDS, days))
            if shape == "reform":
                shorter = TimeLimit(amount=max(1, days.amount - rng.choice((0, 0, 0, 1, 2))))
                versions.append(
                    version(AuthorityLevel.COMMUNE_PEOPLES_COMMITTEE, DISTRICT_LEVEL_ENDS, None, shorter)
                )
        elif shape == "province":
            level = rng.choice(
                (
                    AuthorityLevel.PROVINCE_PEOPLES_COMMITTEE,
                    AuthorityLevel.PROVINCE_DEPARTMENT,
                    AuthorityLevel.PROVINCE_DEPARTMENT,
                )
            )
            department = Department(code=dept_code, name=dept_name)
            extra = {"department": department} if level is AuthorityLevel.PROVINCE_DEPARTMENT else {}
            days = TimeLimit(amount=rng.choice((5, 7, 10, 15, 20, 30, 45)))
            start = _at(rng.choice(("2019-01-01", "2020-07-01", "2021-01-01")))
            if rng.random() < 0.25:
                amended = _at(rng.choice(_AMENDMENTS))
                versions.append(version(level, start, amended, days, **extra))
                versions.append(
                    version(level, amended, None, TimeLimit(amount=max(1, days.amount - 2)), **extra)
                )
            else:
                versions.append(version(level, start, None, days, **extra))
        elif shape == "same_day":
            versions.append(
                version(
                    AuthorityLevel.COMMUNE_PEOPLES_COMMITTEE,
                    _at(rng.choice(("2020-01-01", "2021-01-01"))),
                    None,
                    TimeLimit(amount=0),
                    afternoon_cutoff=time(15),
                )
            )
        else:  # working hours, at the commune or at a department (e.g. certificates issued while one waits)
            hours = TimeLimit(amount=rng.choice((2, 4, 4, 8, 8)), unit=TimeUnit.WORKING_HOURS)
            if rng.random() < 0.5:
                versions.append(
                    version(AuthorityLevel.COMMUNE_PEOPLES_COMMITTEE, _at("2021-01-01"), None, hours)
                )
            else:
                versions.append(
                    version(
                        AuthorityLevel.PROVINCE_DEPARTMENT,
                        _at("2021-01-01"),
                        None,
                        hours,
                        department=Department(code=dept_code, name=dept_name),
                    )
                )
    return versions


def _version(
    rng: random.Random,
    facts: dict,
    version_id: str,
    level: AuthorityLevel,
    start: datetime,
    end: datetime | None,
    limit: TimeLimit,
    **extra: Any,
) -> ProcedureVersion:
    plan = rng.choice(_STEP_PLANS)
    weights = [rng.randint(1, 4) for _ in plan]
    budget = limit.working_hours if rng.random() < 0.8 else limit.working_hours / 2
    # Half-hour shares rounded down: their sum never exceeds the limit.
    steps = tuple(
        Step(
            id=sid,
            name=name,
            role=role,
            share_hours=math.floor(budget * w / sum(weights) * 2) / 2,
            inter_agency=sid == "verify",
        )
        for (sid, name, role), w in zip(plan, weights)
    )
    picked = [
        _DOCUMENTS[0],
        *(_DOCUMENTS[i] for i in sorted(rng.sample(range(1, len(_DOCUMENTS)), rng.randint(0, 5)))),
    ]
    documents = tuple(
        RequiredDocument(
            id=did,
            name=name,
            replaceable_by_national_db=db,
            mandatory=did == "application" or rng.random() >= 0.2,
            copies=2 if did == "photo" else 1,
        )
        for did, name, db in picked
    )
    fees: tuple[Fee, ...] = ()
    if rng.random() < 0.4:
        fees = (
            Fee(
                name=f"Lệ phí {facts['procedure_name'].split(' (')[0].lower()}",
                amount_vnd=rng.choice((10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000)),
                note="synthetic",
            ),
        )
    return ProcedureVersion(
        **facts,
        version_id=version_id,
        effective_from=start,
        effective_to=end,
        authority_level=level,
        channels=rng.choice(_CHANNELS),
        time_limit=limit,
        fees=fees,
        required_documents=documents,
        steps=steps,
        result_documents=(f"Kết quả: {facts['procedure_name'].split(' (')[0].lower()}",),
        **extra,
    )


def write_generated_catalogue(directory: Path, total: int = TOTAL_PROCEDURES, seed: int = 2025) -> list[Path]:
    """One catalogue file per sector, `synthetic_<slug>.json`, under `directory` (created if needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    by_sector: dict[str, list[ProcedureVersion]] = {}
    for version in generate_versions(total, seed):
        by_sector.setdefault(version.sector, []).append(version)
    paths = []
    for name, slug, *_ in SECTORS:
        if name in by_sector:
            path = directory / f"synthetic_{slug}.json"
            write_catalogue_file(
                path,
                name,
                by_sector[name],
                note=f"synthetic: generated by procedures/generator.py seed {seed}; not real data",
            )
            paths.append(path)
    return paths
