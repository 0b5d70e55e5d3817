"""The shared bounds on input: instants, identity fields, money."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from model.input_bounds import Instant, MoneyVnd, PersonalId, PersonName, Phone, short

INSTANT = TypeAdapter(Instant)

# Real shapes of Vietnamese names: Kinh names with every tone mark, long royal-family names,
# one-syllable given names, and names of the Ê Đê, Gia Rai, H'Mông, Thái and Khmer peoples.
REAL_NAMES = [
    "Nguyễn Văn An",
    "Trần Thị Thu Hà",
    "Lê Hoàng Ánh Dương",
    "Đặng Thị Ngọc Ánh",
    "Phạm Ngọc Thạch",
    "Bùi Thị Xuân",
    "Ông Ích Khiêm",
    "Âu Cơ",
    "Ưng Hoàng Phúc",
    "Tôn Nữ Thị Hà",
    "Nguyễn Phúc Bửu Chánh",
    "Công Tằng Tôn Nữ Thị Huyền Trang",
    "Lý Nhã Kỳ",
    "Đỗ Mỹ Linh",
    "Hồ Thị Kỷ",
    "Vũ Trọng Phụng",
    "H'Hen Niê",
    "Y-Ngông Niê Kdăm",
    "Ksor H'Luôn",
    "Nay Phin",
    "Rơ Mah Hnher",
    "Thào A Páo",
    "Giàng Seo Phử",
    "Lò Văn Giàng",
    "Hoàng A Tưởng",
    "Thạch Sô Phol",
    "Danh Út",
    "Kiều Thị Thanh Thủy",
    "Nguyễn Thị Minh Khai",
    "Trịnh Công Sơn",
]


class TestInstants:
    @pytest.mark.parametrize(
        "value",
        [
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-12:00",
            "1989-12-31T23:59:59+00:00",
            "2100-01-01T00:00:00+00:00",
            "2026-03-05T10:00:00",
            "2026-03-05",
            "2026-03-05T10:00:00+23:59",
            "2026-03-05T10:00:00+14:30",
            "2026-03-05T10:00:00+07:07",
            1772690400,
            "1772690400",
            True,
            "2026-03-05T10:00:00+07:00" + "0" * 1000,
        ],
    )
    def test_out_of_range_naive_numeric_and_odd_offsets_are_refused(self, value):
        """Never an OverflowError: each is a validation error saying what an instant must be."""
        with pytest.raises(ValidationError) as refused:
            INSTANT.validate_python(value)
        assert len(str(refused.value)) < 1000

    def test_a_naive_datetime_object_is_refused_too(self):
        with pytest.raises(ValidationError, match="offset"):
            INSTANT.validate_python(datetime(2026, 3, 5, 10))

    @pytest.mark.parametrize(
        "value",
        [
            "2026-03-05T10:00:00+07:00",
            "2026-03-05T03:00:00Z",
            "2026-03-05T10:00:00.123456+05:45",
            "1990-01-01T00:00:00Z",
        ],
    )
    def test_real_instants_pass_unchanged(self, value):
        parsed = INSTANT.validate_python(value)
        assert parsed == datetime.fromisoformat(value)

    def test_the_edges_of_every_real_offset_pass(self):
        for hours in (-12, 14):
            value = datetime(2026, 3, 5, tzinfo=timezone(timedelta(hours=hours)))
            assert INSTANT.validate_python(value) == value


class TestIdentity:
    @pytest.mark.parametrize("name", REAL_NAMES)
    def test_real_vietnamese_names_pass_in_both_normal_forms(self, name):
        adapter = TypeAdapter(PersonName)
        assert adapter.validate_python(name) == name
        assert adapter.validate_python(unicodedata.normalize("NFD", name)) == name

    @pytest.mark.parametrize(
        "name",
        [
            "",
            "   ",
            "\u200b",
            "\u200b\u200d",
            "An\x00",
            "\x1b[31mAn\x1b[0m",
            "An\u202eđ",
            "<b>An</b>",
            "a" + "\u0301" * 199,
            "An\u2066",
            "Nguyễn Văn An 2",
            "An\nBình",
            "\ufeffAn",
            "A" * 201,
        ],
    )
    def test_hostile_names_are_refused(self, name):
        with pytest.raises(ValidationError):
            TypeAdapter(PersonName).validate_python(name)

    def test_spaces_are_collapsed(self):
        assert TypeAdapter(PersonName).validate_python("  Nguyễn   Văn  An ") == "Nguyễn Văn An"

    @pytest.mark.parametrize(
        "value",
        [
            "٠٠١٠٩٠١٢٣٤٥٦",
            "００１０９０１２３４５６",
            "००१०९०१२३४५६",
            "000000000000",
            "099090123456",
            "001490123456",
            "00109012345",
            "0010901234567",
            "00109012345A",
            " 001090123456",
        ],
    )
    def test_personal_ids_other_than_ascii_digits_of_a_real_structure_are_refused(self, value):
        with pytest.raises(ValidationError):
            TypeAdapter(PersonalId).validate_python(value)

    @pytest.mark.parametrize("value", ["00109", "0010901234567", "", "x" * 5000, 1090123456])
    def test_a_personal_id_of_another_length_or_kind_is_told_what_an_id_is(self, value):
        with pytest.raises(ValidationError) as refused:
            TypeAdapter(PersonalId).validate_python(value)
        [error] = refused.value.errors()
        assert error["msg"].startswith("Value error, must be 12 ASCII digits 0-9"), error

    @pytest.mark.parametrize("value", ["001090123456", "079195000123", "096301234567", "027200000001"])
    def test_real_personal_ids_pass(self, value):
        assert TypeAdapter(PersonalId).validate_python(value) == value

    @pytest.mark.parametrize("value", ["０９１２３４５６７８", "٠٩١٢٣٤٥٦٧٨", "0912 345 678", "+", "1234567"])
    def test_phones_other_than_ascii_digits_are_refused(self, value):
        with pytest.raises(ValidationError):
            TypeAdapter(Phone).validate_python(value)

    @pytest.mark.parametrize("value", ["0912345678", "+84912345678"])
    def test_real_phones_pass(self, value):
        assert TypeAdapter(Phone).validate_python(value) == value


class TestMoney:
    @pytest.mark.parametrize("value", [10**30, True, "100000", 100000.0, 0, -5])
    def test_only_positive_integers_within_the_maximum(self, value):
        with pytest.raises(ValidationError):
            TypeAdapter(MoneyVnd).validate_python(value)
        with pytest.raises(ValidationError):
            TypeAdapter(MoneyVnd).validate_json(__import__("json").dumps(value))

    def test_a_fee_passes(self):
        assert TypeAdapter(MoneyVnd).validate_json("100000") == 100000


def test_bad_input_is_quoted_by_a_short_prefix():
    quoted = short("x" * 1_000_000)
    assert len(quoted) < 80 and "1000000 characters" in quoted
