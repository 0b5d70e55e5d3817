"""Vietnamese labels of the web pages: statuses, actions, roles and the official form names."""

from __future__ import annotations

__all__ = ["ACTIONS", "FORMS", "GROUP_EVENTS", "ROLES", "STATUSES"]

STATUSES = {
    "registered_online": "Đã đăng ký trực tuyến, chưa tiếp nhận",
    "online_incomplete": "Chờ công dân bổ sung hồ sơ trực tuyến",
    "not_received": "Không được tiếp nhận",
    "received": "Đã tiếp nhận",
    "processing": "Đang giải quyết",
    "supplement_requested": "Yêu cầu bổ sung",
    "payment_requested": "Chờ thanh toán",
    "withdrawn": "Đã rút hồ sơ",
    "refused": "Dừng xử lý",
    "processed": "Đã có kết quả",
    "returned": "Đã trả kết quả",
}
ACTIONS = {
    "received": "Tiếp nhận hồ sơ",
    "complete_step": "Hoàn thành bước",
    "request_supplement": "Yêu cầu bổ sung hồ sơ",
    "supplement": "Bổ sung hồ sơ",
    "request_payment": "Yêu cầu thanh toán",
    "confirm_payment": "Xác nhận thanh toán",
    "refuse": "Từ chối giải quyết",
    "withdraw": "Rút hồ sơ",
    "issue_apology": "Xin lỗi và hẹn lại",
    "return_result": "Trả kết quả",
    "transfer": "Chuyển giao do sắp xếp đơn vị hành chính",
    "receive_online": "Tiếp nhận hồ sơ nộp trực tuyến",
    "request_online_completion": "Yêu cầu bổ sung hồ sơ nộp trực tuyến",
    "refuse_online": "Từ chối tiếp nhận hồ sơ nộp trực tuyến",
    "complete_online": "Bổ sung hồ sơ trực tuyến",
    # The timeline's entries (what happened), beside the actions (what to do) above.
    "transferred": "Chuyển hồ sơ đến cơ quan giải quyết",
    "carried_over": "Chuyển giao do sắp xếp đơn vị hành chính",
    "step_completed": "Hoàn thành bước xử lý",
    "supplement_requested": "Yêu cầu bổ sung hồ sơ",
    "supplemented": "Đã bổ sung hồ sơ",
    "payment_requested": "Yêu cầu thanh toán",
    "payment_confirmed": "Đã thanh toán",
    "refused": "Từ chối giải quyết",
    "withdrawn": "Rút hồ sơ",
    "apology_issued": "Xin lỗi và hẹn lại ngày trả kết quả",
    "processed": "Có kết quả giải quyết",
    "result_returned": "Đã trả kết quả",
    "overdue": "Quá hạn",
    "registered_online": "Đăng ký hồ sơ trực tuyến",
    "online_completion_requested": "Yêu cầu bổ sung hồ sơ nộp trực tuyến",
    "completed_online": "Đã bổ sung hồ sơ trực tuyến",
    "not_received": "Không tiếp nhận hồ sơ nộp trực tuyến",
    "check_late": "Quá hạn kiểm tra hồ sơ nộp trực tuyến",
}
# An interlinked group's timeline entries (workflows/group.py).
GROUP_EVENTS = {
    "received": "Tiếp nhận nhóm hồ sơ",
    "member_started": "Bắt đầu giải quyết hồ sơ thành phần",
    "member_supplement_requested": "Hồ sơ thành phần yêu cầu bổ sung: tạm dừng thời hạn cả nhóm",
    "member_supplemented": "Hồ sơ thành phần đã bổ sung",
    "clock_resumed": "Tiếp tục tính thời hạn cả nhóm",
    "member_submitted_to_partner": "Đã chuyển hồ sơ thành phần sang hệ thống của cơ quan phối hợp",
    "member_processed": "Hồ sơ thành phần có kết quả",
    "member_refused": "Hồ sơ thành phần bị từ chối giải quyết",
    "member_stopped": "Hồ sơ thành phần không thực hiện",
    "member_withdrawn": "Hồ sơ thành phần đã rút",
    "member_returned": "Đã trả kết quả hồ sơ thành phần",
    "overdue": "Quá hạn",
    "apology_issued": "Xin lỗi và hẹn lại ngày trả kết quả (Mẫu 04)",
    "processed": "Cả nhóm có kết quả",
    "refused": "Cả nhóm không được giải quyết",
    "withdrawn": "Rút cả nhóm hồ sơ",
    "result_returned": "Đã trả kết quả cả nhóm",
    # A group submitted online, before and at the counter's check.
    "registered_online": "Đăng ký nhóm hồ sơ trực tuyến",
    "check_late": "Quá hạn kiểm tra nhóm hồ sơ nộp trực tuyến",
    "online_completion_requested": "Yêu cầu bổ sung nhóm hồ sơ nộp trực tuyến",
    "completed_online": "Đã bổ sung nhóm hồ sơ trực tuyến",
    "not_received": "Không tiếp nhận nhóm hồ sơ nộp trực tuyến",
}
ROLES = {
    "counter_officer": "Cán bộ một cửa",
    "specialist": "Chuyên viên",
    "leader": "Lãnh đạo",
    "auditor": "Kiểm tra, giám sát",
    "operator": "Quản trị vận hành",
}
# Circular 01/2018/TT-VPCP's forms, by number.
FORMS = {
    "01": "Mẫu số 01 - Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
    "02": "Mẫu số 02 - Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
    "03": "Mẫu số 03 - Phiếu từ chối tiếp nhận giải quyết hồ sơ",
    "04": "Mẫu số 04 - Phiếu xin lỗi và hẹn lại ngày trả kết quả",
}
