"""The task queues by province: parsed from the environment, refused when malformed."""

from __future__ import annotations

import pytest

import worker
from model.queue_routing import QueueRouting, parse_province_queues
from runtime.settings import Settings


class TestQueueRouting:
    def test_a_province_with_its_own_queue_goes_there_the_others_to_the_shared_one(self):
        routing = QueueRouting(default="dossiers", by_province={"24": "dossiers-h24"})
        assert routing.queue_for("24") == "dossiers-h24"
        assert routing.queue_for("01") == "dossiers"
        assert routing.queues == ("dossiers", "dossiers-h24")

    def test_elsewhere_names_the_province_s_queue_only_when_the_work_runs_on_another(self):
        routing = QueueRouting(default="dossiers", by_province={"24": "dossiers-h24"})
        assert routing.elsewhere("24", "dossiers") == "dossiers-h24"
        assert routing.elsewhere("24", None) == "dossiers-h24"  # a run from before queues: shared
        assert routing.elsewhere("24", "dossiers-h24") is None
        assert routing.elsewhere("01", "dossiers-h24") == "dossiers"
        assert routing.elsewhere("01", None) is None

    def test_settings_read_the_routing_and_the_polled_queues(self):
        settings = Settings.from_env(
            {
                "TASK_QUEUE": "shared",
                "PROVINCE_TASK_QUEUES": " 24=dossiers-h24, 01=dossiers-h01 ,",
                "WORKER_TASK_QUEUES": "dossiers-h24,shared,dossiers-h24",
            }
        )
        assert settings.queue_routing == QueueRouting(
            default="shared", by_province={"24": "dossiers-h24", "01": "dossiers-h01"}
        )
        assert settings.polled_task_queues == ("dossiers-h24", "shared")
        plain = Settings.from_env({})
        assert plain.queue_routing == QueueRouting(default="dossiers") and plain.polled_task_queues == (
            "dossiers",
        )

    @pytest.mark.parametrize(
        ("text", "named"),
        [
            ("24", "'24'"),
            ("2=q", "'2=q'"),
            ("ab=q", "'ab=q'"),
            ("24=", "province 24"),
            ("24=a b", "province 24"),
            ("24=a,24=b", "province 24 is given two queues"),
        ],
    )
    def test_a_malformed_routing_is_refused_naming_the_variable_and_the_pair(self, text, named):
        with pytest.raises(ValueError) as refused:
            parse_province_queues(text)
        assert str(refused.value).startswith("PROVINCE_TASK_QUEUES: ") and named in str(refused.value)

    @pytest.mark.parametrize(
        ("argv", "env", "named"),
        [
            (["--task-queues", "a b"], {}, "--task-queues"),
            (["--task-queues", ","], {}, "--task-queues"),
            ([], {"PROVINCE_TASK_QUEUES": "24"}, "PROVINCE_TASK_QUEUES"),
            ([], {"WORKER_TASK_QUEUES": "a;b"}, "WORKER_TASK_QUEUES"),
        ],
    )
    def test_worker_py_refuses_bad_queues_with_exit_2_naming_the_field(
        self, argv, env, named, monkeypatch, capsys
    ):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        assert worker.run(["--no-api", "--json-logs", *argv]) == 2
        assert named in capsys.readouterr().err
