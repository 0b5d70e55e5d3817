"""Who and where in the demonstration: Tỉnh Bắc Ninh, merged on 1 July 2025.

The new province (code 24) joined the old Bắc Giang (24) and Bắc Ninh (27). Before the
boundary, household businesses registered at the district of Thành phố Bắc Ninh (256) and
criminal-record certificates at the old province's Department of Justice; after it, the
communes and the new province's department hold them.
"""

from __future__ import annotations

from model.dossier_inputs import Actor, Address, Applicant
from procedures.models import Role

__all__ = [
    "COMMUNES",
    "DISTRICT",
    "OLD_PROVINCE",
    "applicant",
    "commune_committee",
    "commune_counter",
    "officer",
]

# 2025 communes of Tỉnh Bắc Ninh where today's dossiers are received.
COMMUNES = {"07210": "Phường Bắc Giang", "09169": "Phường Vũ Ninh", "07228": "Phường Đa Mai"}
# Before the reform: Thành phố Bắc Ninh, a district of the old Tỉnh Bắc Ninh, and three of its wards.
OLD_PROVINCE = "27"
DISTRICT = "256"
DISTRICT_WARDS = {"09163": "Phường Vũ Ninh", "09166": "Phường Đáp Cầu", "09172": "Phường Kinh Bắc"}
DISTRICT_COMMITTEE = f"{DISTRICT}.00.00.H{OLD_PROVINCE}"
OLD_PROVINCE_CENTRE = f"000.00.01.H{OLD_PROVINCE}"


def commune_committee(commune: str, province: str = "24") -> str:
    return f"000.{commune}.00.H{province}"


def commune_counter(commune: str, province: str = "24") -> str:
    return f"000.{commune}.01.H{province}"


def officer(name: str, unit: str, *roles: Role) -> Actor:
    return Actor(id=name, name=name, unit=unit, roles=roles)


# A name holds no digits: the demo's applicant number is spelled with one given name per digit.
_DIGIT_NAMES = ("An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Khoa", "Lan", "Minh", "Ngọc")


def applicant(number: int, address: Address) -> Applicant:
    # Made-up people: twelve-digit IDs in the Bắc Ninh range, never real ones.
    return Applicant(
        full_name="Công dân Thử nghiệm " + " ".join(_DIGIT_NAMES[int(d)] for d in str(number)),
        personal_id=f"0270900{number:05d}",
        address=address,
        phone=f"09120{number:05d}",
    )
