"""Applicant notices from the Vietnamese templates: every kind renders, with its facts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notices.rendering import KINDS, NoticeFacts, render
from workflows.dossier import NOTIFIED_ACTIONS
from workflows.group import GROUP_NOTICES, GROUP_ONLINE_NOTICES

FACTS = NoticeFacts(
    dossier_code="000.00004.01.H01-250702-0001",
    procedure_code="1.004873",
    handling_unit="000.00004.00.H01",
    appointment=datetime(2025, 7, 7, 10, 0, tzinfo=UTC),
    old_appointment=datetime(2025, 7, 4, 10, 0, tzinfo=UTC),
    documents="to_khai, ban_sao_cccd",
    amount_vnd=1500000,
)


class TestRendering:
    def test_a_template_for_every_notice_the_engine_records(self):
        group_kinds = {kind for kind, _ in (GROUP_NOTICES | GROUP_ONLINE_NOTICES).values()}
        assert set(KINDS) == set(NOTIFIED_ACTIONS) | group_kinds

    @pytest.mark.parametrize("kind", KINDS)
    def test_every_kind_renders_with_the_dossier_code(self, kind):
        """No placeholder left, the code in subject, body and SMS; the SMS fits two parts."""
        notice = render(kind, FACTS)
        for text in (notice.subject, notice.body, notice.sms):
            assert FACTS.dossier_code in text and "$" not in text
        assert len(notice.sms) <= 306 and notice.sms.isascii()

    def test_receipt_gives_the_appointment_in_vietnam_time(self):
        notice = render("received", FACTS)
        assert "Ngày hẹn trả kết quả: 17:00 ngày 07/07/2025" in notice.body
        assert notice.subject == f"Tiếp nhận hồ sơ {FACTS.dossier_code}"

    def test_apology_is_form_04_with_old_and_new_appointments(self):
        notice = render("apology_issued", FACTS)
        assert "Mẫu 04" in notice.body
        assert "17:00 ngày 04/07/2025" in notice.body and "17:00 ngày 07/07/2025" in notice.body

    def test_payment_gives_the_amount_and_supplement_the_documents(self):
        assert "1.500.000 đồng" in render("payment_requested", FACTS).body
        assert "to_khai, ban_sao_cccd" in render("supplement_requested", FACTS).body

    def test_a_group_s_refusal_names_the_member_its_agency_why_and_what_it_stops(self):
        facts = NoticeFacts(
            dossier_code="000.00004.01.H01-280104-0001",
            procedure_code="1.001193",
            handling_unit="000.00004.00.H01",
            appointment=datetime(2028, 1, 7, 10, 0, tzinfo=UTC),
            group_name="Đăng ký khai sinh, đăng ký thường trú, cấp thẻ BHYT cho trẻ em dưới 6 tuổi",
            member_code="000.00004.01.H01-280104-0001-1",
            agency_name="UBND Phường Ba Đình",
            reason="Giấy chứng sinh không hợp lệ",
            stopped="1.004222, 1.014137",
        )
        notice = render("group_member_refused", facts)
        for said in ("UBND Phường Ba Đình", "1.001193", "Giấy chứng sinh không hợp lệ", "1.004222, 1.014137"):
            assert said in notice.body
        assert "UBND Phuong Ba Dinh" in notice.sms and "280104-0001" in notice.subject
        apology = render("group_apology_issued", facts)
        assert "UBND Phường Ba Đình xin lỗi" in apology.body and "Mẫu 04" in apology.body
