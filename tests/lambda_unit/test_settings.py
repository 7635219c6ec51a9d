"""Configuration: read once, validated, one clear config_error line on a bad value."""

from __future__ import annotations

import pytest
from change_monitor import handler
from change_monitor.records import EventName
from change_monitor.settings import ConfigError, Strategy, load_settings

from .support import LogLines, load_event


def test_defaults_for_item() -> None:
    settings = load_settings({"DR_STRATEGY": "item"})

    assert settings.strategy is Strategy.ITEM
    assert settings.trigger_events == frozenset(EventName)
    assert settings.incident_window_seconds == 3600
    assert settings.max_concurrent_restores == 50
    assert settings.restored_table_name("orders", "20240501T120000Z") == ("orders-restored-20240501T120000Z")


@pytest.mark.parametrize(
    ("env", "variable", "allowed"),
    [
        ({}, "DR_STRATEGY", "backup|pitr|item"),
        ({"DR_STRATEGY": "snapshot"}, "DR_STRATEGY", "backup|pitr|item"),
        (
            {"DR_STRATEGY": "item", "DR_TRIGGER_EVENTS": "INSERT,DELETE"},
            "DR_TRIGGER_EVENTS",
            "comma list of INSERT,MODIFY,REMOVE",
        ),
        ({"DR_STRATEGY": "pitr"}, "DR_LEDGER_TABLE", "a DynamoDB table name"),
        (
            {"DR_STRATEGY": "backup", "DR_LEDGER_TABLE": "l", "DR_RESTORE_ROLE_ARN": "arn:x"},
            "DR_BACKUP_VAULT_NAME",
            "a backup vault name",
        ),
        (
            {"DR_STRATEGY": "item", "DR_INCIDENT_WINDOW_SECONDS": "-5"},
            "DR_INCIDENT_WINDOW_SECONDS",
            "a positive integer",
        ),
        (
            {"DR_STRATEGY": "item", "DR_MAX_CONCURRENT_RESTORES": "lots"},
            "DR_MAX_CONCURRENT_RESTORES",
            "a positive integer",
        ),
        (
            {"DR_STRATEGY": "item", "DR_RESTORED_TABLE_TEMPLATE": "{table}-{date}"},
            "DR_RESTORED_TABLE_TEMPLATE",
            "a format string using only {table} and {incident}",
        ),
    ],
)
def test_bad_values_name_the_variable_and_allowed_values(env: dict[str, str], variable: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env)

    assert caught.value.variable == variable
    assert caught.value.allowed == allowed
    assert variable in str(caught.value)


def test_trigger_events_are_parsed_case_and_space_insensitively() -> None:
    settings = load_settings({"DR_STRATEGY": "item", "DR_TRIGGER_EVENTS": " remove , Modify"})

    assert settings.trigger_events == {EventName.REMOVE, EventName.MODIFY}


def test_restored_name_is_a_valid_table_name_cut_to_255() -> None:
    settings = load_settings({"DR_STRATEGY": "item", "DR_RESTORED_TABLE_TEMPLATE": "{table} restored@{incident}"})

    name = settings.restored_table_name("t" * 300, "20240501T120000Z")
    assert len(name) == 255
    assert settings.restored_table_name("orders", "X") == "orders-restored-X"


def test_handler_logs_one_config_error_line_and_raises(monkeypatch: pytest.MonkeyPatch, logs: LogLines) -> None:
    monkeypatch.setenv("DR_STRATEGY", "snapshot")

    with pytest.raises(ConfigError):
        handler.lambda_handler(load_event("remove.json"), None)

    lines = logs.read()
    assert len(lines) == 1
    assert lines[0]["level"] == "ERROR"
    assert lines[0]["decision"] == "config_error"
    assert lines[0]["variable"] == "DR_STRATEGY"
    assert lines[0]["allowed"] == "backup|pitr|item"
    assert "snapshot" in lines[0]["reason"]


def test_settings_are_read_once_per_cold_start(monkeypatch: pytest.MonkeyPatch, logs: LogLines, aws_env: None) -> None:
    monkeypatch.setenv("DR_STRATEGY", "item")
    monkeypatch.setenv("DR_TRIGGER_EVENTS", "INSERT")
    handler.lambda_handler(load_event("remove.json"), None)  # REMOVE: ignored, no AWS call
    monkeypatch.setenv("DR_STRATEGY", "snapshot")  # a warm container never re-reads

    handler.lambda_handler(load_event("remove.json"), None)

    decisions = [line["decision"] for line in logs.read()]
    assert decisions == ["ignored", "ignored"]
