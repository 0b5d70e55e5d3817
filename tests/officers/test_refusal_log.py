"""Every refusal is logged by one function, with the same fields from the API and the CLI."""

from __future__ import annotations

from structlog.testing import capture_logs

from model.dossier_inputs import Actor
from officers.policy import log_refusal
from procedures.models import Role

OFFICER = Actor(id="s-9", name="Specialist", unit="000.07210.00.H24", roles=(Role.SPECIALIST,))


def test_a_refusal_names_who_what_which_dossier_and_why():
    with capture_logs() as logs:
        log_refusal(OFFICER, "refuse", "WrongRole", "refuse needs leader", "CODE-1", status=403)
    assert logs == [
        {
            "event": "request refused",
            "log_level": "warning",
            "officer": "s-9",
            "unit": "000.07210.00.H24",
            "roles": ["specialist"],
            "action": "refuse",
            "dossier_code": "CODE-1",
            "error_type": "WrongRole",
            "reason": "refuse needs leader",
            "status": 403,
        }
    ]


def test_a_refusal_before_the_officer_is_known_is_logged_without_one():
    with capture_logs() as logs:
        log_refusal(None, "read", "InvalidToken", "expired")
    [line] = logs
    assert (line["officer"], line["unit"], line["roles"], line["dossier_code"]) == (None, None, None, None)
